// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {
    COVENANT_DSCR_BREACH,
    COVENANT_REVENUE_SHORTFALL,
    IUtilizationOracle,
    MAX_ORACLE_SOURCES,
    ORACLE_FEED_GAS_LIMIT
} from "../interfaces/IUtilizationOracle.sol";
import {ILoanVaultOracleHooks} from "../interfaces/ILoanVault.sol";
import {BPS} from "../libraries/Constants.sol";
import {OracleStorage, oracleStorage} from "./OracleStorage.sol";

/// @title OracleFeeds
/// @notice The UtilizationOracle's sources: a loan's configuration (feeds' decimals, kept rounds, the covenants copied
/// from its terms in the LoanVault) and `poke`'s gas-capped, bounded and validated reads of its Chainlink feeds.
/// Linked (DELEGATECALL on the oracle's storage, `oracleStorage()`); events and errors are the oracle's
/// (`IUtilizationOracle`).
library OracleFeeds {
    /// @dev Feeds with more decimals are refused at configuration (`10 ** decimals` then stays far from overflow).
    uint8 private constant MAX_FEED_DECIMALS = 18;

    /// @dev Gas a feed read needs left before the call so that EIP-150's 63/64 rule still forwards the full
    /// `ORACLE_FEED_GAS_LIMIT`, plus the cold account access and the surrounding opcodes.
    uint256 private constant FEED_CALL_MIN_GAS = ORACLE_FEED_GAS_LIMIT + ORACLE_FEED_GAS_LIMIT / 63 + 5_000;

    /// @dev Bytes of `latestRoundData`'s return data that are read (five words); anything beyond is never copied.
    uint256 private constant ROUND_DATA_SIZE = 0xa0;

    // ================================================================ external (linked)

    /// @notice See `IUtilizationOracle.configureLoan` (the caller checks the role).
    function configureLoan(
        uint256 loanId,
        IUtilizationOracle.SourceConfig[] calldata sources,
        uint8 quorum,
        uint32 maxStaleness
    ) external {
        uint256 count = sources.length;
        if (count == 0 || count > MAX_ORACLE_SOURCES)
            revert IUtilizationOracle.UtilizationOracleInvalidSourceCount(count, MAX_ORACLE_SOURCES);
        if (quorum == 0 || quorum > count)
            revert IUtilizationOracle.UtilizationOracleInvalidQuorum(quorum, count);
        if (maxStaleness == 0) revert IUtilizationOracle.UtilizationOracleInvalidMaxStaleness(maxStaleness);

        OracleStorage.UtilizationOracleStorage storage $ = oracleStorage();
        OracleStorage.LoanFeed storage loan = $.loans[loanId];
        IUtilizationOracle.Source[] memory next = _nextSources(sources, loan.sources);
        // The covenants are the loan's terms, read from the trusted LoanVault (none without one).
        ILoanVaultOracleHooks vault = $.loanVault;
        CovenantTerms memory covenants;
        if (address(vault) != address(0)) covenants = _covenantTerms(vault, loan, loanId);

        delete loan.sources;
        for (uint256 i; i < count; ++i) loan.sources.push(next[i]);
        if (!loan.configured) {
            loan.configured = true;
            $.loanIds.push(loanId);
        }
        loan.quorum = quorum;
        loan.maxStaleness = maxStaleness;
        delete loan.streaks;
        emit IUtilizationOracle.LoanConfigured(loanId, sources, quorum, maxStaleness);
        if (address(vault) != address(0)) _setCovenants(loan, loanId, covenants);
    }

    /// @notice Reads every feed source of the loan; returns the good readings in basis points. A skipped source emits
    /// `SourceSkipped`; a good one has its round remembered.
    function readFeeds(uint256 loanId) external returns (uint256[] memory readings) {
        OracleStorage.LoanFeed storage loan = oracleStorage().loans[loanId];
        uint256 maxStaleness = loan.maxStaleness;
        IUtilizationOracle.Source[] storage sources = loan.sources;
        uint256 count = sources.length;
        readings = new uint256[](count);
        uint256 good;
        for (uint256 i; i < count; ++i) {
            IUtilizationOracle.Source storage source = sources[i];
            if (source.kind != IUtilizationOracle.SourceKind.Feed) continue;
            (bool ok, uint256 bps) = _pollFeed(source, loanId, maxStaleness);
            if (ok) readings[good++] = bps;
        }
        // Shrink the array to the good readings (memory-safe: it only ever gets shorter).
        assembly ("memory-safe") {
            mstore(readings, good)
        }
    }

    // ================================================================ private

    /// @dev The sources `sources` configure, checked (non-zero, distinct), with each feed's decimals and, for a feed
    /// that stays, its last used round from `previous`, so a reconfiguration cannot re-admit an old round.
    function _nextSources(
        IUtilizationOracle.SourceConfig[] calldata sources,
        IUtilizationOracle.Source[] memory previous
    ) private view returns (IUtilizationOracle.Source[] memory next) {
        uint256 count = sources.length;
        next = new IUtilizationOracle.Source[](count);
        for (uint256 i; i < count; ++i) {
            IUtilizationOracle.SourceConfig calldata config = sources[i];
            address account = config.account;
            if (account == address(0)) revert IUtilizationOracle.UtilizationOracleZeroAddress();
            for (uint256 j; j < i; ++j) {
                if (sources[j].account == account)
                    revert IUtilizationOracle.UtilizationOracleDuplicateSource(account);
            }
            next[i] = IUtilizationOracle.Source({
                kind: config.kind,
                account: account,
                decimals: 0,
                lastRound: 0
            });
            if (config.kind == IUtilizationOracle.SourceKind.Feed) {
                next[i].decimals = _feedDecimals(account);
                next[i].lastRound = _lastFeedRound(previous, account);
            }
        }
    }

    /// @dev A loan's covenant terms as read from the LoanVault, with the lockbox baseline they start from.
    struct CovenantTerms {
        uint16 minDscrBps;
        bool lockboxCheck;
        uint16 shortfallToleranceBps;
        uint16 maxGapDays;
        uint128 depositsAtCheck;
    }

    /// @dev Reads `loanId`'s covenant terms from the LoanVault (a view of the trusted vault). A lockbox comparison
    /// being turned on starts from the vault's cumulative deposits now (deposits before it do not count); one already
    /// on keeps its baseline.
    function _covenantTerms(
        ILoanVaultOracleHooks vault,
        OracleStorage.LoanFeed storage loan,
        uint256 loanId
    ) private view returns (CovenantTerms memory terms) {
        (terms.minDscrBps, terms.lockboxCheck, terms.shortfallToleranceBps, terms.maxGapDays) = vault
            .covenantTermsOf(loanId);
        uint256 deposits = loan.depositsAtCheck;
        if (terms.lockboxCheck && !loan.lockboxCheck) (, deposits) = vault.revenueCovenantInputs(loanId, 0);
        // Cumulative USDai deposits to one loan stay far below 2 ** 128.
        terms.depositsAtCheck = uint128(deposits);
    }

    /// @dev Stores the loan's covenant terms (the vault's terms are fixed at approval, so a re-configuration stores the
    /// same) and emits them. A covenant off clears its flag (a loan configured before the covenants were terms may
    /// have had one on); a data-gap flag stays until the next observation.
    function _setCovenants(
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        CovenantTerms memory terms
    ) private {
        uint8 flags = loan.flags;
        if (terms.minDscrBps == 0) flags &= ~COVENANT_DSCR_BREACH;
        if (!terms.lockboxCheck) flags &= ~COVENANT_REVENUE_SHORTFALL;
        loan.minDscrBps = terms.minDscrBps;
        loan.lockboxCheck = terms.lockboxCheck;
        loan.shortfallToleranceBps = terms.shortfallToleranceBps;
        loan.depositsAtCheck = terms.depositsAtCheck;
        loan.maxGapDays = terms.maxGapDays;
        emit IUtilizationOracle.RevenueCovenantsSet(
            loanId,
            terms.minDscrBps,
            terms.lockboxCheck,
            terms.shortfallToleranceBps
        );
        emit IUtilizationOracle.MaxGapDaysSet(loanId, terms.maxGapDays);
        if (flags != loan.flags) {
            loan.flags = flags;
            emit IUtilizationOracle.CovenantFlagsChanged(loanId, flags);
        }
    }

    /// @dev Reads one feed source and records its round when the reading is good, or reports why it was skipped.
    function _pollFeed(
        IUtilizationOracle.Source storage stored,
        uint256 loanId,
        uint256 maxStaleness
    ) private returns (bool ok, uint256 bps) {
        IUtilizationOracle.Source memory source = stored;
        IUtilizationOracle.SkipReason reason;
        uint80 roundId;
        (ok, reason, roundId, bps) = _readFeed(source, maxStaleness);
        if (ok) stored.lastRound = roundId;
        else emit IUtilizationOracle.SourceSkipped(loanId, source.account, reason);
    }

    /// @dev Reads and validates one feed's latest round (see `SkipReason` for what is refused).
    /// @return ok Whether the reading is good.
    /// @return reason Why not, when not.
    /// @return roundId The feed round read.
    /// @return bps The utilization in basis points, rounded down.
    function _readFeed(
        IUtilizationOracle.Source memory source,
        uint256 maxStaleness
    ) private view returns (bool ok, IUtilizationOracle.SkipReason reason, uint80 roundId, uint256 bps) {
        uint256[5] memory round;
        (ok, reason, round) = _callFeed(source.account);
        if (!ok) return (false, reason, 0, 0);

        // round: roundId, answer, startedAt, updatedAt, answeredInRound
        if (int256(round[1]) <= 0) return (false, IUtilizationOracle.SkipReason.NonPositiveAnswer, 0, 0);
        uint256 scale = 10 ** source.decimals;
        if (round[1] > scale) return (false, IUtilizationOracle.SkipReason.AboveFullScale, 0, 0);
        if (round[3] > block.timestamp) return (false, IUtilizationOracle.SkipReason.FutureTimestamp, 0, 0);
        if (block.timestamp - round[3] > maxStaleness)
            return (false, IUtilizationOracle.SkipReason.Stale, 0, 0);
        if (round[0] <= source.lastRound) return (false, IUtilizationOracle.SkipReason.RoundNotNewer, 0, 0);

        // `0 < answer <= scale <= 1e18`: no overflow; rounds down. `round[0]` fits `uint80` (`_callFeed`).
        return (true, reason, uint80(round[0]), (round[1] * BPS) / scale);
    }

    /// @dev Calls `feed.latestRoundData()` forwarding exactly `ORACLE_FEED_GAS_LIMIT` gas and copying at most five
    /// words of return data, so a reverting, gas-burning or return-data-bombing feed costs a bounded amount. The
    /// caller must have enough gas left to forward the full allowance, else the whole poke reverts: a caller must not
    /// be able to starve chosen feeds into being skipped.
    function _callFeed(
        address feed
    ) private view returns (bool ok, IUtilizationOracle.SkipReason reason, uint256[5] memory round) {
        uint256 gasLeft = gasleft();
        if (gasLeft < FEED_CALL_MIN_GAS)
            revert IUtilizationOracle.UtilizationOracleInsufficientGas(gasLeft, FEED_CALL_MIN_GAS);

        bytes4 selector = AggregatorV3Interface.latestRoundData.selector;
        uint256 gasLimit = ORACLE_FEED_GAS_LIMIT;
        uint256 outSize = ROUND_DATA_SIZE;
        uint256 returned;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            ok := staticcall(gasLimit, feed, 0x00, 0x04, round, outSize)
            returned := returndatasize()
        }
        if (!ok) return (false, IUtilizationOracle.SkipReason.CallFailed, round);
        if (returned < ROUND_DATA_SIZE || round[0] > type(uint80).max)
            return (false, IUtilizationOracle.SkipReason.MalformedResponse, round);
    }

    /// @dev A feed's decimals, refusing an account without code, a reverting `decimals()` and more than 18.
    function _feedDecimals(address feed) private view returns (uint8) {
        if (feed.code.length == 0) revert IUtilizationOracle.UtilizationOracleInvalidFeed(feed);
        try AggregatorV3Interface(feed).decimals() returns (uint8 feedDecimals) {
            if (feedDecimals > MAX_FEED_DECIMALS)
                revert IUtilizationOracle.UtilizationOracleUnsupportedDecimals(feed, feedDecimals);
            return feedDecimals;
        } catch {
            revert IUtilizationOracle.UtilizationOracleInvalidFeed(feed);
        }
    }

    /// @dev The last round used from `feed` among `sources`, 0 when it was not a feed source.
    function _lastFeedRound(
        IUtilizationOracle.Source[] memory sources,
        address feed
    ) private pure returns (uint80) {
        for (uint256 i; i < sources.length; ++i) {
            if (sources[i].account == feed && sources[i].kind == IUtilizationOracle.SourceKind.Feed)
                return sources[i].lastRound;
        }
        return 0;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

import {
    IUtilizationOracle,
    DEFAULT_REPORT_WINDOW_SECONDS,
    MAX_ORACLE_SOURCES,
    MAX_REPORT_WINDOW_SECONDS,
    ORACLE_FEED_GAS_LIMIT,
    UPTIME_UNKNOWN
} from "../interfaces/IUtilizationOracle.sol";
import {ILoanVaultOracleHooks, ILoanVaultReferenceRate} from "../interfaces/ILoanVault.sol";
import {COVENANT_SLA_BREACH} from "../credit/logic/LoanConstants.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {KEEPER_ROLE, ORACLE_ADMIN_ROLE, REPORTER_ROLE} from "../libraries/Roles.sol";
import {BPS} from "../libraries/Constants.sol";
import {CouponRules, MAX_COUPON_RULES, Streak} from "../libraries/CouponRules.sol";
import {Median} from "../libraries/Median.sol";

/// @title UtilizationOracle
/// @notice Multi-source utilization oracle for GPU-backed loans: daily medians, coupon-rule streaks and pushes of
/// coupon steps and covenant flags into the LoanVault. Chainlink Automation compatible through
/// `AutomationCompatibleInterface` (inherited via `IUtilizationOracle`).
/// @dev Storage is O(1) per observation: per loan, one slot of configuration and latest observation, one slot of
/// streaks, one slot of push state, and the (bounded) source list. The list of configured loans grows with loans,
/// never with time. History lives in events.
contract UtilizationOracle is IUtilizationOracle, ProtocolUpgradeable, EIP712Upgradeable {
    using CouponRules for CouponRules.Rule;

    /// @dev EIP-712 type of a `Report`.
    bytes32 private constant REPORT_TYPEHASH = keccak256(
        "Report(uint256 loanId,uint16 utilizationBps,uint16 uptimeBps,uint32 day,uint64 deadline)"
    );

    /// @dev Feeds with more decimals are refused at configuration (`10 ** decimals` then stays far from overflow).
    uint8 private constant MAX_FEED_DECIMALS = 18;

    /// @dev Gas a feed read needs left before the call so that EIP-150's 63/64 rule still forwards the full
    /// `ORACLE_FEED_GAS_LIMIT`, plus the cold account access and the surrounding opcodes.
    uint256 private constant FEED_CALL_MIN_GAS = ORACLE_FEED_GAS_LIMIT + ORACLE_FEED_GAS_LIMIT / 63 + 5_000;

    /// @dev Bytes of `latestRoundData`'s return data that are read (five words); anything beyond is never copied.
    uint256 private constant ROUND_DATA_SIZE = 0xa0;

    /// @dev Gas forwarded to the LoanVault's `pendingReferenceRate` (about 29,000 cold with the tests' mock feed; a
    /// Chainlink proxy adds its aggregator's cold reads): a reference feed that burns gas fails its own loan's check,
    /// not the rest of an upkeep's batch.
    uint256 private constant REFERENCE_RATE_CHECK_GAS = 200_000;

    /// @dev Page size `checkUpkeep` uses when called with empty `checkData`.
    uint256 private constant DEFAULT_PAGE_SIZE = 50;

    /// @dev Per-loan oracle state: the sources, the latest observation, the streaks and what is pending for the vault.
    struct LoanFeed {
        // slot 0: configuration and latest observation, read and written by every recording
        bool configured;
        uint8 quorum;
        uint32 maxStaleness;
        uint32 lastDay;
        uint16 utilizationBps;
        uint16 uptimeBps;
        uint64 updatedAt;
        uint32 rulesEpoch; // the rules epoch `streaks` belong to
        uint8 flags; // covenant flags the observations call for
        // slot 1: one streak per rule
        Streak[MAX_COUPON_RULES] streaks;
        // slot 2: push state, written when a rule fires and when pushed
        uint64 lastStepId;
        uint64 pushedStepId;
        int64 pendingDeltaBps;
        bool pendingTopUp;
        uint8 pushedFlags;
        // slot 3
        Source[] sources;
        // slot 4: the day collecting signed reports, and the clamp of the pending coupon step
        uint32 openDay; // 0: none
        uint8 openMask; // bit i: `sources[i]` has reported for `openDay`
        // The pending steps, applied one by one with the vault's clamp, map a premium p to
        // min(stepHighBps, max(stepLowBps, p + pendingDeltaBps)); meaningful while a step is pending.
        int32 stepLowBps;
        int32 stepHighBps;
        // slot 5: `openDay`'s readings, 32 bits per source index i at bit 32 * i: utilization << 16 | uptime. Only the
        // entries in `openMask` are meaningful; the slot is not cleared when the day closes (cheaper rewrites).
        uint256 openReadings;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.UtilizationOracle
    struct UtilizationOracleStorage {
        // slot 0: read together by every recording
        ILoanVaultOracleHooks loanVault;
        uint32 rulesEpoch;
        uint32 reportWindowSeconds; // 0: DEFAULT_REPORT_WINDOW_SECONDS
        // slot 1
        CouponRules.Rule[] rules;
        // slot 2: grows with loans, not with time
        uint256[] loanIds;
        // slot 3
        mapping(uint256 loanId => LoanFeed) loans;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.UtilizationOracle")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant UTILIZATION_ORACLE_STORAGE_LOCATION =
        0xdfe031361e45cbeb552ca9859c0f911fa67698b25323bae9c70739718affc900;

    /// @dev A pending coupon step being composed (see `_advanceStreaks`): the premium moves to
    /// clamp(p + delta, low, high); `floor` and `cap` are the vault's clamp for the loan.
    struct PendingStep {
        int256 delta;
        int256 low;
        int256 high;
        int256 floor;
        int256 cap;
        bool topUp;
    }

    /// @dev One day's signed reports as collected so far (see `LoanFeed.openMask` and `openReadings`), and how many
    /// the current submission added.
    struct Collection {
        uint256 mask;
        uint256 readings;
        uint256 added;
    }

    /// @dev Outcome of a push attempt for one loan.
    enum PushOutcome {
        Pushed,
        NothingPending,
        NotPerforming
    }

    function _getStorage() private pure returns (UtilizationOracleStorage storage $) {
        assembly {
            $.slot := UTILIZATION_ORACLE_STORAGE_LOCATION
        }
    }

    /// @notice Initializes the proxy.
    /// @param admin Governance (DEFAULT_ADMIN_ROLE).
    /// @param loanVault_ The LoanVault, or zero when it is deployed later (then `setLoanVault`).
    /// @param rules_ The initial coupon rules.
    function initialize(
        address admin,
        address loanVault_,
        CouponRules.Rule[] calldata rules_
    ) external initializer {
        if (admin == address(0)) revert UtilizationOracleZeroAddress();
        __ProtocolUpgradeable_init(admin);
        __EIP712_init("UtilizationOracle", "1");

        UtilizationOracleStorage storage $ = _getStorage();
        if (loanVault_ != address(0)) _setLoanVault($, loanVault_);
        _setRules($, rules_);
    }

    // ================================================================ admin

    /// @inheritdoc IUtilizationOracle
    function configureLoan(
        uint256 loanId,
        SourceConfig[] calldata sources,
        uint8 quorum,
        uint32 maxStaleness
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        uint256 count = sources.length;
        if (count == 0 || count > MAX_ORACLE_SOURCES)
            revert UtilizationOracleInvalidSourceCount(count, MAX_ORACLE_SOURCES);
        if (quorum == 0 || quorum > count) revert UtilizationOracleInvalidQuorum(quorum, count);
        if (maxStaleness == 0) revert UtilizationOracleInvalidMaxStaleness(maxStaleness);

        UtilizationOracleStorage storage $ = _getStorage();
        LoanFeed storage loan = $.loans[loanId];
        Source[] memory previous = loan.sources;
        Source[] memory next = new Source[](count);
        for (uint256 i; i < count; ++i) {
            SourceConfig calldata config = sources[i];
            address account = config.account;
            if (account == address(0)) revert UtilizationOracleZeroAddress();
            for (uint256 j; j < i; ++j) {
                if (sources[j].account == account) revert UtilizationOracleDuplicateSource(account);
            }
            next[i] = Source({kind: config.kind, account: account, decimals: 0, lastRound: 0});
            if (config.kind == SourceKind.Feed) {
                next[i].decimals = _feedDecimals(account);
                // A feed that stays keeps its last used round, so a reconfiguration cannot re-admit an old round.
                next[i].lastRound = _lastFeedRound(previous, account);
            }
        }

        delete loan.sources;
        for (uint256 i; i < count; ++i) loan.sources.push(next[i]);
        if (!loan.configured) {
            loan.configured = true;
            $.loanIds.push(loanId);
        }
        loan.quorum = quorum;
        loan.maxStaleness = maxStaleness;
        delete loan.streaks;
        emit LoanConfigured(loanId, sources, quorum, maxStaleness);
    }

    /// @inheritdoc IUtilizationOracle
    function setRules(CouponRules.Rule[] calldata rules_) external onlyRole(ORACLE_ADMIN_ROLE) {
        _setRules(_getStorage(), rules_);
    }

    /// @inheritdoc IUtilizationOracle
    function setReportWindow(uint32 windowSeconds) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (windowSeconds == 0 || windowSeconds > MAX_REPORT_WINDOW_SECONDS)
            revert UtilizationOracleInvalidReportWindow(windowSeconds, MAX_REPORT_WINDOW_SECONDS);
        _getStorage().reportWindowSeconds = windowSeconds;
        emit ReportWindowSet(windowSeconds);
    }

    /// @inheritdoc IUtilizationOracle
    function setLoanVault(address loanVault_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (loanVault_ == address(0)) revert UtilizationOracleZeroAddress();
        _setLoanVault(_getStorage(), loanVault_);
    }

    // ================================================================ readings

    /// @inheritdoc IUtilizationOracle
    function poke(uint256 loanId) external onlyRole(KEEPER_ROLE) whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = _getStorage();
        LoanFeed storage loan = $.loans[loanId];
        uint32 day = _today();
        _requireNextDay(loan, loanId, day);
        uint32 open = loan.openDay;
        if (open != 0) _closeReportDay($, loan, loanId, open);

        uint256[] memory readings = _readFeeds(loan, loanId);
        uint256 good = readings.length;
        uint256 quorum = loan.quorum;
        if (good < quorum) revert UtilizationOracleQuorumNotMet(loanId, good, quorum);
        _record($, loan, loanId, day, Median.medianDown(readings), UPTIME_UNKNOWN, good);
    }

    /// @inheritdoc IUtilizationOracle
    function submitReport(
        Report[] calldata reports,
        bytes[] calldata signatures
    ) external whenNotPaused nonReentrant {
        uint256 count = reports.length;
        if (count == 0 || count != signatures.length || count > MAX_ORACLE_SOURCES)
            revert UtilizationOracleInvalidReportCount(count, signatures.length);

        UtilizationOracleStorage storage $ = _getStorage();
        uint256 loanId = reports[0].loanId;
        LoanFeed storage loan = $.loans[loanId];
        uint32 day = reports[0].day;
        _requireReportDay(loan, loanId, day);
        uint32 open = loan.openDay;
        bool sameDay = open == day;
        // An earlier open day is closed (recorded or missed) first, so it must have closed.
        if (!sameDay) _requireDayOpens($, loan, loanId, day, open);
        else _requireNotClosed($, loanId, day);

        Source[] memory sources = loan.sources;
        Collection memory c =
            sameDay
                ? Collection({mask: loan.openMask, readings: loan.openReadings, added: 0})
                : Collection({mask: 0, readings: 0, added: 0});
        _collectReports(sources, reports, signatures, c);
        _storeReports($, loan, loanId, day, open, c, _reporterCount(sources));
    }

    /// @inheritdoc IUtilizationOracle
    function closeReportDay(uint256 loanId) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = _getStorage();
        LoanFeed storage loan = $.loans[loanId];
        uint32 open = loan.openDay;
        if (open == 0) revert UtilizationOracleNoOpenReportDay(loanId);
        _closeReportDay($, loan, loanId, open);
    }

    // ================================================================ pushes

    /// @inheritdoc IUtilizationOracle
    function push(uint256 loanId) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = _getStorage();
        PushOutcome outcome = _push($.loans[loanId], loanId, _requireLoanVault($));
        if (outcome == PushOutcome.NothingPending) revert UtilizationOracleNothingToPush(loanId);
        if (outcome == PushOutcome.NotPerforming) revert UtilizationOracleLoanNotPerforming(loanId);
    }

    /// @inheritdoc IUtilizationOracle
    function onStepIn(uint256 loanId) external {
        UtilizationOracleStorage storage $ = _getStorage();
        if (msg.sender != address($.loanVault)) revert UtilizationOracleNotLoanVault(msg.sender);
        LoanFeed storage loan = $.loans[loanId];
        uint64 stepId = loan.lastStepId;
        int64 dropped = stepId == loan.pushedStepId ? int64(0) : loan.pendingDeltaBps;
        delete loan.streaks;
        loan.pushedStepId = stepId;
        loan.pendingDeltaBps = 0;
        loan.pendingTopUp = false;
        loan.flags = 0;
        loan.pushedFlags = 0;
        emit LoanRestarted(loanId, dropped);
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev `checkData` is `abi.encode(uint256 start, uint256 pageSize)` over the configured loans (empty: start 0,
    /// page size 50). `performData` is `abi.encode(uint256[] loanIds)`: the loans of the page with a report day that
    /// has closed, with a pending coupon step or covenant flags that differ from the last pushed and that the
    /// LoanVault reports as performing (a loan that is not performing keeps its push pending without making an upkeep
    /// spin on it), or whose reference rate differs from its feed's (`ILoanVaultReferenceRate.pendingReferenceRate`:
    /// a rise or a fall, from the first block the feed's answer differs). Nothing is needed while paused or before a
    /// LoanVault is set.
    function checkUpkeep(
        bytes calldata checkData
    ) external view returns (bool upkeepNeeded, bytes memory performData) {
        UtilizationOracleStorage storage $ = _getStorage();
        ILoanVaultOracleHooks vault = $.loanVault;
        if (paused() || address(vault) == address(0)) return (false, "");

        (uint256 start, uint256 pageSize) = checkData.length == 0
            ? (0, DEFAULT_PAGE_SIZE)
            : abi.decode(checkData, (uint256, uint256));
        uint256 total = $.loanIds.length;
        if (start >= total) return (false, "");
        uint256 end = pageSize < total - start ? start + pageSize : total;

        uint256[] memory due = new uint256[](end - start);
        uint256 found;
        for (uint256 i = start; i < end; ++i) {
            uint256 loanId = $.loanIds[i];
            LoanFeed storage loan = $.loans[loanId];
            if (
                _closable($, loan) ||
                (_hasPending(loan) && vault.isPerforming(loanId)) ||
                _referenceRatePending(vault, loanId)
            ) due[found++] = loanId;
        }
        if (found == 0) return (false, "");
        assembly ("memory-safe") {
            mstore(due, found)
        }
        return (true, abi.encode(due));
    }

    /// @inheritdoc AutomationCompatibleInterface
    /// @dev Permissionless. `performData` is `abi.encode(uint256[] loanIds)`. Each loan is re-validated: a closed
    /// report day is recorded (or missed), then a pending push is sent, then the loan's reference rate is refreshed if
    /// it differs from its feed's; a loan with nothing to do or not performing is skipped without reverting, so a stale
    /// or replayed `performData` is harmless. A LoanVault revert (it is trusted) reverts the batch; `push` and the
    /// vault's `refreshReferenceRate` isolate a single loan.
    function performUpkeep(bytes calldata performData) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = _getStorage();
        ILoanVaultOracleHooks vault = _requireLoanVault($);
        uint256[] memory loanIds = abi.decode(performData, (uint256[]));
        for (uint256 i; i < loanIds.length; ++i) {
            uint256 loanId = loanIds[i];
            LoanFeed storage loan = $.loans[loanId];
            if (_closable($, loan)) _closeReportDay($, loan, loanId, loan.openDay);
            _push(loan, loanId, vault);
            _refreshReferenceRate(vault, loanId);
        }
    }

    // ================================================================ views

    /// @inheritdoc IUtilizationOracle
    function openReportDay(
        uint256 loanId
    ) external view returns (uint32 day, uint256 reports, uint64 closesAt) {
        UtilizationOracleStorage storage $ = _getStorage();
        LoanFeed storage loan = $.loans[loanId];
        day = loan.openDay;
        if (day == 0) return (0, 0, 0);
        return (day, _popcount(loan.openMask), _closesAt($, day));
    }

    /// @inheritdoc IUtilizationOracle
    function reportWindow() external view returns (uint32) {
        return _reportWindow(_getStorage());
    }

    /// @inheritdoc IUtilizationOracle
    function latestUtilization(
        uint256 loanId
    ) external view returns (uint16 utilizationBps, uint16 uptimeBps, uint32 day, uint64 updatedAt) {
        LoanFeed storage loan = _getStorage().loans[loanId];
        return (loan.utilizationBps, loan.uptimeBps, loan.lastDay, loan.updatedAt);
    }

    /// @inheritdoc IUtilizationOracle
    function latestRoundData(
        uint256 loanId
    )
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        LoanFeed storage loan = _getStorage().loans[loanId];
        uint32 day = loan.lastDay;
        if (day == 0) revert UtilizationOracleNoObservation(loanId);
        return (day, int256(uint256(loan.utilizationBps)), loan.updatedAt, loan.updatedAt, day);
    }

    /// @inheritdoc IUtilizationOracle
    function decimals() external pure returns (uint8) {
        return 4;
    }

    /// @inheritdoc IUtilizationOracle
    function streakOf(
        uint256 loanId,
        uint256 ruleIndex
    ) external view returns (uint16 streakDays, uint32 lastDay) {
        UtilizationOracleStorage storage $ = _getStorage();
        uint256 count = $.rules.length;
        if (ruleIndex >= count) revert UtilizationOracleUnknownRule(ruleIndex, count);
        LoanFeed storage loan = $.loans[loanId];
        if (loan.rulesEpoch != $.rulesEpoch) return (0, 0);
        Streak streak = loan.streaks[ruleIndex];
        return (streak.length(), streak.lastDay());
    }

    /// @inheritdoc IUtilizationOracle
    function pendingPush(uint256 loanId) external view returns (PendingPush memory) {
        UtilizationOracleStorage storage $ = _getStorage();
        LoanFeed storage loan = $.loans[loanId];
        bool stepPending = loan.lastStepId != loan.pushedStepId;
        ILoanVaultOracleHooks vault = $.loanVault;
        return
            PendingPush({
                stepId: loan.lastStepId,
                deltaBps: stepPending && address(vault) != address(0)
                    ? _effectiveDelta(loan, loanId, vault)
                    : loan.pendingDeltaBps,
                topUpRequired: loan.pendingTopUp,
                stepPending: stepPending,
                flags: loan.flags,
                flagsPending: loan.flags != loan.pushedFlags
            });
    }

    /// @inheritdoc IUtilizationOracle
    function rules() external view returns (CouponRules.Rule[] memory) {
        return _getStorage().rules;
    }

    /// @inheritdoc IUtilizationOracle
    function rulesEpoch() external view returns (uint32) {
        return _getStorage().rulesEpoch;
    }

    /// @inheritdoc IUtilizationOracle
    function sourcesOf(uint256 loanId) external view returns (Source[] memory) {
        return _getStorage().loans[loanId].sources;
    }

    /// @inheritdoc IUtilizationOracle
    function loanConfig(
        uint256 loanId
    ) external view returns (bool configured, uint8 quorum, uint32 maxStaleness) {
        LoanFeed storage loan = _getStorage().loans[loanId];
        return (loan.configured, loan.quorum, loan.maxStaleness);
    }

    /// @inheritdoc IUtilizationOracle
    function configuredLoanCount() external view returns (uint256) {
        return _getStorage().loanIds.length;
    }

    /// @inheritdoc IUtilizationOracle
    function configuredLoanAt(uint256 index) external view returns (uint256) {
        return _getStorage().loanIds[index];
    }

    /// @inheritdoc IUtilizationOracle
    function loanVault() external view returns (address) {
        return address(_getStorage().loanVault);
    }

    /// @inheritdoc IUtilizationOracle
    function hashReport(Report calldata report) external view returns (bytes32) {
        return _hashReport(report);
    }

    // ================================================================ internal: recording

    /// @dev Records `day`'s observation and advances the loan's streaks and covenant flags.
    function _record(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint256 utilizationBps,
        uint16 uptimeBps,
        uint256 readings
    ) private {
        // The SLA is read first (a view call into the trusted LoanVault) so that every write below follows it.
        // Feed-only days (uptime unknown) and a missing LoanVault leave the flags as they are.
        uint8 flags = loan.flags;
        ILoanVaultOracleHooks vault = $.loanVault;
        if (uptimeBps != UPTIME_UNKNOWN && address(vault) != address(0)) {
            bool breach = uptimeBps < vault.slaUptimeBps(loanId);
            flags = breach ? flags | uint8(COVENANT_SLA_BREACH) : flags & ~uint8(COVENANT_SLA_BREACH);
        }

        // `utilizationBps` is a median of values <= BPS: the cast is safe.
        loan.lastDay = day;
        loan.utilizationBps = uint16(utilizationBps);
        loan.uptimeBps = uptimeBps;
        loan.updatedAt = uint64(block.timestamp);
        emit ObservationRecorded(loanId, day, uint16(utilizationBps), uptimeBps, readings);

        if (flags != loan.flags) {
            loan.flags = flags;
            emit CovenantFlagsChanged(loanId, flags);
        }
        _advanceStreaks($, loan, loanId, day, utilizationBps);
    }

    /// @dev Advances every rule's streak by `day`. Streaks of an older rules epoch restart from zero. Firings are
    /// folded into the pending step, in rule order: top-up flags OR together, the newest step id is kept, and the
    /// premium change is composed as the vault would apply the steps one by one, clamping to the loan's [floor, cap]
    /// after each. Moves of the form p -> clamp(p + d, lo, hi) compose to p -> clamp(p + sum(d), low, high), so three
    /// numbers hold any number of pending steps (see `LoanFeed.stepLowBps`).
    function _advanceStreaks(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint256 utilizationBps
    ) private {
        CouponRules.Rule[] storage rules_ = $.rules;
        uint256 count = rules_.length;
        uint32 epoch = $.rulesEpoch;
        Streak[MAX_COUPON_RULES] memory streaks;
        if (loan.rulesEpoch == epoch) streaks = loan.streaks;
        else loan.rulesEpoch = epoch;

        uint64 firstStepId = loan.lastStepId;
        uint64 stepId = firstStepId;
        PendingStep memory step;
        for (uint256 i; i < count; ++i) {
            CouponRules.Rule memory rule = rules_[i];
            bool fired;
            (streaks[i], fired) = rule.advance(streaks[i], day, utilizationBps);
            if (fired) {
                if (stepId == firstStepId) step = _pendingStep($, loan, loanId);
                ++stepId;
                _composeStep(step, rule.premiumDeltaBps);
                step.topUp = step.topUp || rule.topUpRequired;
                emit RuleFired(loanId, i, stepId, rule.premiumDeltaBps, rule.topUpRequired);
            }
        }
        loan.streaks = streaks;
        if (stepId != firstStepId) {
            // The composed values stay within the clamp (int32) and the sum within the rules' deltas (int64).
            loan.lastStepId = stepId;
            loan.pendingDeltaBps = int64(step.delta);
            loan.pendingTopUp = step.topUp;
            loan.stepLowBps = int32(step.low);
            loan.stepHighBps = int32(step.high);
        }
    }

    /// @dev The pending step to compose new firings onto: the one pending, or a step that moves nothing (with the
    /// vault's clamp for the loan) when none is.
    function _pendingStep(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId
    ) private view returns (PendingStep memory step) {
        step.floor = type(int32).min;
        step.cap = type(int32).max;
        ILoanVaultOracleHooks vault = $.loanVault;
        if (address(vault) != address(0)) {
            (, uint256 floorBps, uint256 capBps) = vault.premiumBounds(loanId);
            // A loan without terms yet (cap 0) is composed unclamped; the vault clamps the sum when it is pushed.
            // Terms keep the bounds within uint16.
            if (capBps != 0) (step.floor, step.cap) = (int256(floorBps), int256(capBps));
        }
        if (loan.lastStepId != loan.pushedStepId) {
            step.delta = loan.pendingDeltaBps;
            step.low = loan.stepLowBps;
            step.high = loan.stepHighBps;
            step.topUp = loan.pendingTopUp;
        } else {
            (step.low, step.high) = (step.floor, step.cap);
        }
    }

    /// @dev Composes a step of `deltaBps` after `step`: p -> clamp(clamp(p + d, low, high) + deltaBps, floor, cap)
    /// = clamp(p + d + deltaBps, clamp(low + deltaBps), clamp(high + deltaBps)).
    function _composeStep(PendingStep memory step, int256 deltaBps) private pure {
        step.delta += deltaBps;
        step.low = _clamp(step.low + deltaBps, step.floor, step.cap);
        step.high = _clamp(step.high + deltaBps, step.floor, step.cap);
    }

    function _clamp(int256 value, int256 low, int256 high) private pure returns (int256) {
        return
            value < low
                ? low
                : value > high
                    ? high
                    : value;
    }

    /// @dev The premium change a push sends: the pending steps applied one by one to the vault's premium now, with
    /// the clamp after each (the vault's own clamp then leaves it as it is).
    function _effectiveDelta(
        LoanFeed storage loan,
        uint256 loanId,
        ILoanVaultOracleHooks vault
    ) private view returns (int64) {
        (uint256 premiumBps, , ) = vault.premiumBounds(loanId);
        int256 premium = int256(premiumBps);
        int256 target = _clamp(premium + loan.pendingDeltaBps, loan.stepLowBps, loan.stepHighBps);
        // Both within int32: the difference fits int64.
        return int64(target - premium);
    }

    /// @dev Refuses a reading for an unconfigured loan or for a day not after the last recorded one.
    function _requireNextDay(LoanFeed storage loan, uint256 loanId, uint32 day) private view {
        if (!loan.configured) revert UtilizationOracleLoanNotConfigured(loanId);
        uint32 lastDay = loan.lastDay;
        if (day <= lastDay) revert UtilizationOracleDayNotAfterLast(loanId, day, lastDay);
    }

    // ================================================================ internal: feeds

    /// @dev Reads every feed source of the loan; returns the good readings in basis points. A skipped source emits
    /// `SourceSkipped`; a good one has its round remembered.
    function _readFeeds(LoanFeed storage loan, uint256 loanId) private returns (uint256[] memory readings) {
        uint256 maxStaleness = loan.maxStaleness;
        Source[] storage sources = loan.sources;
        uint256 count = sources.length;
        readings = new uint256[](count);
        uint256 good;
        for (uint256 i; i < count; ++i) {
            Source storage source = sources[i];
            if (source.kind != SourceKind.Feed) continue;
            (bool ok, uint256 bps) = _pollFeed(source, loanId, maxStaleness);
            if (ok) readings[good++] = bps;
        }
        // Shrink the array to the good readings (memory-safe: it only ever gets shorter).
        assembly ("memory-safe") {
            mstore(readings, good)
        }
    }

    /// @dev Reads one feed source and records its round when the reading is good, or reports why it was skipped.
    function _pollFeed(
        Source storage stored,
        uint256 loanId,
        uint256 maxStaleness
    ) private returns (bool ok, uint256 bps) {
        Source memory source = stored;
        SkipReason reason;
        uint80 roundId;
        (ok, reason, roundId, bps) = _readFeed(source, maxStaleness);
        if (ok) stored.lastRound = roundId;
        else emit SourceSkipped(loanId, source.account, reason);
    }

    /// @dev Reads and validates one feed's latest round (see `SkipReason` for what is refused).
    /// @return ok Whether the reading is good.
    /// @return reason Why not, when not.
    /// @return roundId The feed round read.
    /// @return bps The utilization in basis points, rounded down.
    function _readFeed(
        Source memory source,
        uint256 maxStaleness
    ) private view returns (bool ok, SkipReason reason, uint80 roundId, uint256 bps) {
        uint256[5] memory round;
        (ok, reason, round) = _callFeed(source.account);
        if (!ok) return (false, reason, 0, 0);

        // round: roundId, answer, startedAt, updatedAt, answeredInRound
        if (int256(round[1]) <= 0) return (false, SkipReason.NonPositiveAnswer, 0, 0);
        uint256 scale = 10 ** source.decimals;
        if (round[1] > scale) return (false, SkipReason.AboveFullScale, 0, 0);
        if (round[3] > block.timestamp) return (false, SkipReason.FutureTimestamp, 0, 0);
        if (block.timestamp - round[3] > maxStaleness) return (false, SkipReason.Stale, 0, 0);
        if (round[0] <= source.lastRound) return (false, SkipReason.RoundNotNewer, 0, 0);

        // `0 < answer <= scale <= 1e18`: no overflow; rounds down. `round[0]` fits `uint80` (`_callFeed`).
        return (true, reason, uint80(round[0]), (round[1] * BPS) / scale);
    }

    /// @dev Calls `feed.latestRoundData()` forwarding exactly `ORACLE_FEED_GAS_LIMIT` gas and copying at most five
    /// words of return data, so a reverting, gas-burning or return-data-bombing feed costs a bounded amount. The
    /// caller must have enough gas left to forward the full allowance, else the whole poke reverts: a caller must not
    /// be able to starve chosen feeds into being skipped.
    function _callFeed(
        address feed
    ) private view returns (bool ok, SkipReason reason, uint256[5] memory round) {
        uint256 gasLeft = gasleft();
        if (gasLeft < FEED_CALL_MIN_GAS) revert UtilizationOracleInsufficientGas(gasLeft, FEED_CALL_MIN_GAS);

        bytes4 selector = AggregatorV3Interface.latestRoundData.selector;
        uint256 gasLimit = ORACLE_FEED_GAS_LIMIT;
        uint256 outSize = ROUND_DATA_SIZE;
        uint256 returned;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            ok := staticcall(gasLimit, feed, 0x00, 0x04, round, outSize)
            returned := returndatasize()
        }
        if (!ok) return (false, SkipReason.CallFailed, round);
        if (returned < ROUND_DATA_SIZE || round[0] > type(uint80).max)
            return (false, SkipReason.MalformedResponse, round);
    }

    /// @dev A feed's decimals, refusing an account without code, a reverting `decimals()` and more than 18.
    function _feedDecimals(address feed) private view returns (uint8) {
        if (feed.code.length == 0) revert UtilizationOracleInvalidFeed(feed);
        try AggregatorV3Interface(feed).decimals() returns (uint8 feedDecimals) {
            if (feedDecimals > MAX_FEED_DECIMALS)
                revert UtilizationOracleUnsupportedDecimals(feed, feedDecimals);
            return feedDecimals;
        } catch {
            revert UtilizationOracleInvalidFeed(feed);
        }
    }

    /// @dev The last round used from `feed` among `sources`, 0 when it was not a feed source.
    function _lastFeedRound(Source[] memory sources, address feed) private pure returns (uint80) {
        for (uint256 i; i < sources.length; ++i) {
            if (sources[i].account == feed && sources[i].kind == SourceKind.Feed) return sources[i].lastRound;
        }
        return 0;
    }

    // ================================================================ internal: reports

    function _hashReport(Report calldata report) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        REPORT_TYPEHASH,
                        report.loanId,
                        report.utilizationBps,
                        report.uptimeBps,
                        report.day,
                        report.deadline
                    )
                )
            );
    }

    /// @dev Refuses a report day that is not after the last recorded one (see `_requireNextDay`), is in the future or
    /// ended more than `maxStaleness` ago.
    function _requireReportDay(LoanFeed storage loan, uint256 loanId, uint32 day) private view {
        _requireNextDay(loan, loanId, day);
        uint32 today = _today();
        if (day > today) revert UtilizationOracleFutureDay(loanId, day, today);
        uint32 maxStaleness = loan.maxStaleness;
        if ((uint256(day) + 1) * 1 days + maxStaleness < block.timestamp)
            revert UtilizationOracleStaleReport(loanId, day, maxStaleness);
    }

    /// @dev Checks that `day` may start collecting reports while `open` (0: none) is the loan's open day: a later open
    /// day means `day` has closed (it opened only after the day before it closed); an earlier one must have closed (it
    /// is recorded or missed first); `day` itself must not have closed; and when the loan skips the day before `day`,
    /// that day must have closed, so reports for a day cannot cut short the window of the one before. (Any earlier
    /// skipped day closed before that one.)
    function _requireDayOpens(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint32 open
    ) private view {
        if (open > day) revert UtilizationOracleReportDayClosed(loanId, day, _closesAt($, day));
        uint32 lastDay = loan.lastDay;
        if (open != 0) {
            uint64 openClosesAt = _closesAt($, open);
            if (block.timestamp < openClosesAt)
                revert UtilizationOracleReportDayOpen(loanId, open, openClosesAt);
            // Closing it records it when its reports reach the quorum.
            if (_popcount(loan.openMask) >= loan.quorum) lastDay = open;
        }
        _requireNotClosed($, loanId, day);
        // `day > lastDay >= 0`. Before the first observation there is no streak to protect.
        uint32 previous = day - 1;
        if (lastDay != 0 && previous > lastDay) {
            uint64 previousClosesAt = _closesAt($, previous);
            if (block.timestamp < previousClosesAt)
                revert UtilizationOracleReportDayOpen(loanId, previous, previousClosesAt);
        }
    }

    /// @dev Refuses reports for `day` once its window has closed.
    function _requireNotClosed(UtilizationOracleStorage storage $, uint256 loanId, uint32 day) private view {
        uint64 closesAt = _closesAt($, day);
        if (block.timestamp >= closesAt) revert UtilizationOracleReportDayClosed(loanId, day, closesAt);
    }

    /// @dev Verifies every report against its signature (see `submitReport`) and adds the new ones to the day's
    /// collection `c`.
    function _collectReports(
        Source[] memory sources,
        Report[] calldata reports,
        bytes[] calldata signatures,
        Collection memory c
    ) private view {
        address previous;
        for (uint256 i; i < reports.length; ++i) {
            Report calldata report = reports[i];
            uint256 index;
            (previous, index) = _checkReport(sources, reports, signatures[i], i, previous);
            // A reporter already collected keeps its first report: resubmitting, or signing another, changes nothing.
            if (c.mask & (1 << index) != 0) continue;
            c.mask |= 1 << index;
            c.readings |= ((uint256(report.utilizationBps) << 16) | report.uptimeBps) << (32 * index);
            ++c.added;
        }
    }

    /// @dev The effects of a submission once every check has passed: an earlier open day is closed (recorded or
    /// missed), then the day is recorded when every one of the loan's `reporters` has reported (refused when they
    /// cannot reach the quorum), else its collection is stored.
    function _storeReports(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint32 open,
        Collection memory c,
        uint256 reporters
    ) private {
        uint256 collected = _popcount(c.mask);
        bool complete = collected == reporters;
        uint256 quorum = loan.quorum;
        if (complete && collected < quorum) revert UtilizationOracleQuorumNotMet(loanId, collected, quorum);

        if (open != day && open != 0) _closeReportDay($, loan, loanId, open);
        if (complete) {
            if (open == day) _clearOpenDay(loan);
            _recordReports($, loan, loanId, day, c.mask, c.readings);
        } else {
            // `mask < 2 ** MAX_ORACLE_SOURCES`: the cast is safe.
            loan.openDay = day;
            loan.openMask = uint8(c.mask);
            loan.openReadings = c.readings;
            emit ReportsCollected(loanId, day, c.added, collected, _closesAt($, day));
        }
    }

    /// @dev Checks report `i` (same loan and day as report 0, unexpired, in range, validly signed by a REPORTER
    /// source of the loan whose address is above `previous`).
    /// @return signer Its signer.
    /// @return index The signer's source index.
    function _checkReport(
        Source[] memory sources,
        Report[] calldata reports,
        bytes calldata signature,
        uint256 i,
        address previous
    ) private view returns (address signer, uint256 index) {
        Report calldata report = reports[i];
        uint256 loanId = reports[0].loanId;
        if (report.loanId != loanId || report.day != reports[0].day)
            revert UtilizationOracleReportMismatch(i);
        if (report.deadline < block.timestamp) revert UtilizationOracleReportExpired(i, report.deadline);
        if (report.utilizationBps > BPS || report.uptimeBps > BPS)
            revert UtilizationOracleReadingOutOfRange(i, report.utilizationBps, report.uptimeBps);
        signer = _recoverSigner(report, signature, i);
        // Strictly ascending signers are distinct without a nested loop.
        if (signer <= previous) revert UtilizationOracleSignersNotAscending(i, signer, previous);
        index = _reporterIndex(sources, signer);
        if (index == type(uint256).max || !hasRole(REPORTER_ROLE, signer))
            revert UtilizationOracleUnauthorizedSigner(loanId, signer);
    }

    /// @dev Records the day from the collected readings: the median utilization and the median uptime.
    function _recordReports(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint256 mask,
        uint256 readings
    ) private {
        uint256 count = _popcount(mask);
        uint256[] memory utilizations = new uint256[](count);
        uint256[] memory uptimes = new uint256[](count);
        uint256 n;
        for (uint256 i; i < MAX_ORACLE_SOURCES; ++i) {
            if (mask & (1 << i) == 0) continue;
            uint256 reading = readings >> (32 * i);
            utilizations[n] = uint16(reading >> 16);
            uptimes[n] = uint16(reading);
            ++n;
        }
        // Medians of values <= BPS are <= BPS: the uptime cast is safe and never equals `UPTIME_UNKNOWN`.
        _record(
            $,
            loan,
            loanId,
            day,
            Median.medianDown(utilizations),
            uint16(Median.medianDown(uptimes)),
            count
        );
    }

    /// @dev Closes the loan's open report day `open`: recorded from its reports when they reach the quorum, else
    /// missed. Reverts with `UtilizationOracleReportDayOpen` before it closes.
    function _closeReportDay(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 open
    ) private {
        uint64 closesAt = _closesAt($, open);
        if (block.timestamp < closesAt) revert UtilizationOracleReportDayOpen(loanId, open, closesAt);
        uint256 mask = loan.openMask;
        uint256 readings = loan.openReadings;
        _clearOpenDay(loan);
        uint256 count = _popcount(mask);
        uint256 quorum = loan.quorum;
        if (count < quorum) emit ReportDayMissed(loanId, open, count, quorum);
        else _recordReports($, loan, loanId, open, mask, readings);
    }

    function _clearOpenDay(LoanFeed storage loan) private {
        loan.openDay = 0;
        loan.openMask = 0;
    }

    /// @dev Whether the loan has an open report day that has closed.
    function _closable(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan
    ) private view returns (bool) {
        uint32 open = loan.openDay;
        return open != 0 && block.timestamp >= _closesAt($, open);
    }

    /// @dev When `day`'s report window ends: `reportWindow()` seconds after the day ends.
    function _closesAt(UtilizationOracleStorage storage $, uint32 day) private view returns (uint64) {
        return uint64((uint256(day) + 1) * 1 days + _reportWindow($));
    }

    function _reportWindow(UtilizationOracleStorage storage $) private view returns (uint32) {
        uint32 window = $.reportWindowSeconds;
        return window == 0 ? DEFAULT_REPORT_WINDOW_SECONDS : window;
    }

    /// @dev The signer of `report`. `tryRecoverCalldata` refuses high-s, invalid-v and non-65-byte signatures, so a
    /// report has one valid signature per signer.
    function _recoverSigner(
        Report calldata report,
        bytes calldata signature,
        uint256 index
    ) private view returns (address signer) {
        ECDSA.RecoverError error;
        (signer, error, ) = ECDSA.tryRecoverCalldata(_hashReport(report), signature);
        if (error != ECDSA.RecoverError.NoError) revert UtilizationOracleInvalidSignature(index);
    }

    /// @dev The index of `signer` among the loan's reporter sources; `type(uint256).max` when it is not one.
    function _reporterIndex(Source[] memory sources, address signer) private pure returns (uint256) {
        for (uint256 i; i < sources.length; ++i) {
            if (sources[i].account == signer && sources[i].kind == SourceKind.Reporter) return i;
        }
        return type(uint256).max;
    }

    /// @dev How many of the loan's sources are reporters.
    function _reporterCount(Source[] memory sources) private pure returns (uint256 count) {
        for (uint256 i; i < sources.length; ++i) {
            if (sources[i].kind == SourceKind.Reporter) ++count;
        }
    }

    /// @dev The number of set bits of a source mask (at most `MAX_ORACLE_SOURCES` bits).
    function _popcount(uint256 mask) private pure returns (uint256 count) {
        for (; mask != 0; mask &= mask - 1) ++count;
    }

    // ================================================================ internal: pushes

    /// @dev Pushes one loan's pending step and flags. Checks (something pending, loan performing), then effects
    /// (pending state cleared), events, and the LoanVault calls last: a re-entrant or repeated push finds nothing
    /// pending, and the vault itself ignores a step id it has seen.
    function _push(
        LoanFeed storage loan,
        uint256 loanId,
        ILoanVaultOracleHooks vault
    ) private returns (PushOutcome) {
        uint64 stepId = loan.lastStepId;
        uint8 flags = loan.flags;
        bool stepPending = stepId != loan.pushedStepId;
        bool flagsPending = flags != loan.pushedFlags;
        if (!stepPending && !flagsPending) return PushOutcome.NothingPending;
        if (!vault.isPerforming(loanId)) return PushOutcome.NotPerforming;

        int64 delta = stepPending ? _effectiveDelta(loan, loanId, vault) : int64(0);
        bool topUp = loan.pendingTopUp;
        loan.pushedStepId = stepId;
        loan.pendingDeltaBps = 0;
        loan.pendingTopUp = false;
        loan.pushedFlags = flags;

        if (stepPending) {
            emit CouponStepPushed(loanId, stepId, delta, topUp);
            vault.applyCouponStep(loanId, stepId, delta, topUp);
        }
        if (flagsPending) {
            emit CovenantFlagsPushed(loanId, flags);
            vault.setCovenantBreach(loanId, flags);
        }
        return PushOutcome.Pushed;
    }

    /// @dev Whether the vault would move the loan's reference rate to its feed's now (`pendingReferenceRate`'s first
    /// word). False where the vault cannot say (a feed answer it refuses, a feed that needs more than
    /// `REFERENCE_RATE_CHECK_GAS`, or a vault without the view): a refresh would revert there. A low-level call copying
    /// one word: the vault is trusted, and this keeps the oracle under EIP-170.
    function _referenceRatePending(
        ILoanVaultOracleHooks vault,
        uint256 loanId
    ) private view returns (bool pending) {
        bytes4 selector = ILoanVaultReferenceRate.pendingReferenceRate.selector;
        uint256 checkGas = REFERENCE_RATE_CHECK_GAS;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, loanId)
            let ok := staticcall(checkGas, vault, 0x00, 0x24, 0x00, 0x20)
            pending := and(ok, and(gt(returndatasize(), 0x1f), iszero(iszero(mload(0x00)))))
        }
    }

    /// @dev Refreshes the loan's reference rate when the vault would move it (`_referenceRatePending`): the vault's
    /// `refreshReferenceRate`, its revert bubbled up (the vault is trusted: see `performUpkeep`). Low-level, as
    /// `_referenceRatePending`, for the oracle's size.
    function _refreshReferenceRate(ILoanVaultOracleHooks vault, uint256 loanId) private {
        if (!_referenceRatePending(vault, loanId)) return;
        bytes4 selector = ILoanVaultReferenceRate.refreshReferenceRate.selector;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, loanId)
            if iszero(call(gas(), vault, 0, 0x00, 0x24, 0x00, 0x00)) {
                let p := mload(0x40)
                returndatacopy(p, 0x00, returndatasize())
                revert(p, returndatasize())
            }
        }
    }

    function _hasPending(LoanFeed storage loan) private view returns (bool) {
        return loan.lastStepId != loan.pushedStepId || loan.flags != loan.pushedFlags;
    }

    // ================================================================ internal: configuration

    function _setRules(UtilizationOracleStorage storage $, CouponRules.Rule[] calldata rules_) private {
        uint256 count = rules_.length;
        if (count > MAX_COUPON_RULES) revert UtilizationOracleTooManyRules(count, MAX_COUPON_RULES);
        delete $.rules;
        for (uint256 i; i < count; ++i) {
            CouponRules.Rule calldata rule = rules_[i];
            if (!rule.isValid()) revert UtilizationOracleInvalidRule(i);
            $.rules.push(rule);
        }
        // Streaks restart lazily: each loan compares its stored epoch at its next observation.
        uint32 epoch = $.rulesEpoch + 1;
        $.rulesEpoch = epoch;
        emit RulesSet(rules_, epoch);
    }

    function _setLoanVault(UtilizationOracleStorage storage $, address loanVault_) private {
        $.loanVault = ILoanVaultOracleHooks(loanVault_);
        emit LoanVaultSet(loanVault_);
    }

    function _requireLoanVault(
        UtilizationOracleStorage storage $
    ) private view returns (ILoanVaultOracleHooks) {
        ILoanVaultOracleHooks vault = $.loanVault;
        if (address(vault) == address(0)) revert UtilizationOracleNoLoanVault();
        return vault;
    }

    function _today() private view returns (uint32) {
        return uint32(block.timestamp / 1 days);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

import {
    COVENANT_DATA_GAP,
    IUtilizationOracle,
    MAX_ORACLE_SOURCES,
    MAX_REPORT_PERIOD_DAYS,
    MAX_REPORT_WINDOW_SECONDS,
    REPORT_TYPEHASH
} from "../interfaces/IUtilizationOracle.sol";
import {ILoanVaultOracleHooks, ILoanVaultReferenceRate} from "../interfaces/ILoanVault.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {KEEPER_ROLE, ORACLE_ADMIN_ROLE, REPORTER_ROLE} from "../libraries/Roles.sol";
import {BPS} from "../libraries/Constants.sol";
import {CouponRules, Streak} from "../libraries/CouponRules.sol";
import {Median} from "../libraries/Median.sol";
import {OracleFeeds} from "./OracleFeeds.sol";
import {OracleRecording} from "./OracleRecording.sol";
import {
    OracleStorage,
    dayClosesAt,
    missingDaysOf,
    oracleStorage,
    popcount,
    reportWindowOf
} from "./OracleStorage.sol";

/// @title UtilizationOracle
/// @notice Multi-source utilization oracle for GPU-backed loans: daily medians, coupon-rule streaks and pushes of
/// coupon steps and covenant flags into the LoanVault. Chainlink Automation compatible through
/// `AutomationCompatibleInterface` (inherited via `IUtilizationOracle`).
/// @dev The contract keeps the entry points, the report days (collection and signature checks) and the pushes; two
/// linked libraries, named for their concern, run on its ERC-7201 storage (`OracleStorage`): `OracleRecording` (the
/// rule engine: observations, streaks, pending steps, report days closing) and `OracleFeeds` (configuration and feed
/// reads). Storage is O(1) per observation (see `OracleStorage`).
/// @custom:oz-upgrades-unsafe-allow external-library-linking
contract UtilizationOracle is IUtilizationOracle, OracleStorage, ProtocolUpgradeable, EIP712Upgradeable {
    /// @dev Gas forwarded to the LoanVault's `pendingReferenceRate` (about 29,000 cold with the tests' mock feed; a
    /// Chainlink proxy adds its aggregator's cold reads): a reference feed that burns gas fails its own loan's check,
    /// not the rest of an upkeep's batch.
    uint256 private constant REFERENCE_RATE_CHECK_GAS = 200_000;

    /// @dev Page size `checkUpkeep` uses when called with empty `checkData`.
    uint256 private constant DEFAULT_PAGE_SIZE = 50;

    /// @dev One day's signed reports as collected so far (see `LoanFeed.openMask` and `openReadings`), how many the
    /// current submission added, and the period they cover.
    struct Collection {
        uint256 mask;
        uint256 readings;
        uint256 added;
        uint16 periodDays;
        uint256 storedMask; // the reports already stored for the day (their revenues are in `LoanFeed.openRevenues`)
        uint256[MAX_ORACLE_SOURCES] revenues; // by source index, for the reports this submission added
    }

    /// @dev Outcome of a push attempt for one loan.
    enum PushOutcome {
        Pushed,
        NothingPending,
        NotPerforming
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

        UtilizationOracleStorage storage $ = oracleStorage();
        if (loanVault_ != address(0)) _setLoanVault($, loanVault_);
        OracleRecording.setRules(rules_);
    }

    // ================================================================ admin

    /// @inheritdoc IUtilizationOracle
    function configureLoan(
        uint256 loanId,
        SourceConfig[] calldata sources,
        uint8 quorum,
        uint32 maxStaleness
    ) external onlyRole(ORACLE_ADMIN_ROLE) {
        OracleFeeds.configureLoan(loanId, sources, quorum, maxStaleness);
    }

    /// @inheritdoc IUtilizationOracle
    function setRules(CouponRules.Rule[] calldata rules_) external onlyRole(ORACLE_ADMIN_ROLE) {
        OracleRecording.setRules(rules_);
    }

    /// @inheritdoc IUtilizationOracle
    function setReportWindow(uint32 windowSeconds) external onlyRole(ORACLE_ADMIN_ROLE) {
        if (windowSeconds == 0 || windowSeconds > MAX_REPORT_WINDOW_SECONDS)
            revert UtilizationOracleInvalidReportWindow(windowSeconds, MAX_REPORT_WINDOW_SECONDS);
        oracleStorage().reportWindowSeconds = windowSeconds;
        emit ReportWindowSet(windowSeconds);
    }

    /// @inheritdoc IUtilizationOracle
    function setLoanVault(address loanVault_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (loanVault_ == address(0)) revert UtilizationOracleZeroAddress();
        _setLoanVault(oracleStorage(), loanVault_);
    }

    // ================================================================ readings

    /// @inheritdoc IUtilizationOracle
    function poke(uint256 loanId) external onlyRole(KEEPER_ROLE) whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        uint32 day = _today();
        _requireNextDay(loan, loanId, day);
        uint32 open = loan.openDay;
        if (open != 0) OracleRecording.closeReportDay(loanId, open);

        uint256[] memory readings = OracleFeeds.readFeeds(loanId);
        uint256 good = readings.length;
        uint256 quorum = loan.quorum;
        if (good < quorum) revert UtilizationOracleQuorumNotMet(loanId, good, quorum);
        OracleRecording.recordFeeds(loanId, day, Median.medianDown(readings), good);
    }

    /// @inheritdoc IUtilizationOracle
    function submitReport(
        Report[] calldata reports,
        bytes[] calldata signatures
    ) external whenNotPaused nonReentrant {
        uint256 count = reports.length;
        if (count == 0 || count != signatures.length || count > MAX_ORACLE_SOURCES)
            revert UtilizationOracleInvalidReportCount(count, signatures.length);

        UtilizationOracleStorage storage $ = oracleStorage();
        uint256 loanId = reports[0].loanId;
        LoanFeed storage loan = $.loans[loanId];
        uint32 day = reports[0].day;
        uint16 period = reports[0].periodDays;
        _requireReportDay(loan, loanId, day, period);
        uint32 open = loan.openDay;
        bool sameDay = open == day;
        // An earlier open day is closed (recorded or missed) first, so it must have closed.
        if (!sameDay) _requireDayOpens($, loan, loanId, day, period, open);
        else _requireSamePeriod($, loan, loanId, day, period);

        Source[] memory sources = loan.sources;
        Collection memory c;
        c.periodDays = period;
        if (sameDay) (c.mask, c.readings, c.storedMask) = (loan.openMask, loan.openReadings, loan.openMask);
        _collectReports(sources, reports, signatures, c);
        _storeReports($, loan, loanId, day, open, c, _reporterCount(sources));
    }

    /// @inheritdoc IUtilizationOracle
    function closeReportDay(uint256 loanId) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        uint32 open = loan.openDay;
        if (open == 0) revert UtilizationOracleNoOpenReportDay(loanId);
        OracleRecording.closeReportDay(loanId, open);
    }

    /// @inheritdoc IUtilizationOracle
    function flagDataGap(uint256 loanId) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        if (_closable($, loan)) OracleRecording.closeReportDay(loanId, loan.openDay);
        if (!_flagDataGap($, loan, loanId))
            revert UtilizationOracleNoDataGap(loanId, missingDaysOf($, loan), loan.maxGapDays);
    }

    // ================================================================ pushes

    /// @inheritdoc IUtilizationOracle
    function push(uint256 loanId) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = oracleStorage();
        PushOutcome outcome = _push($.loans[loanId], loanId, _requireLoanVault($));
        if (outcome == PushOutcome.NothingPending) revert UtilizationOracleNothingToPush(loanId);
        if (outcome == PushOutcome.NotPerforming) revert UtilizationOracleLoanNotPerforming(loanId);
    }

    /// @inheritdoc IUtilizationOracle
    function onStepIn(uint256 loanId) external {
        UtilizationOracleStorage storage $ = oracleStorage();
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
    /// has closed, with a data gap to flag (`flagDataGap`), with a pending coupon step or covenant flags that differ
    /// from the last pushed and that the LoanVault reports as performing (a loan that is not performing keeps its push
    /// pending without making an upkeep spin on it), or whose reference rate differs from its feed's
    /// (`ILoanVaultReferenceRate.pendingReferenceRate`: a rise or a fall, from the first block the feed's answer
    /// differs). Nothing is needed while paused or before a LoanVault is set.
    function checkUpkeep(
        bytes calldata checkData
    ) external view returns (bool upkeepNeeded, bytes memory performData) {
        UtilizationOracleStorage storage $ = oracleStorage();
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
                _dataGapDue($, loan) ||
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
    /// report day is recorded (or missed), then a data gap is flagged when due, then a pending push is sent, then the
    /// loan's reference rate is refreshed if it differs from its feed's; a loan with nothing to do or not performing is
    /// skipped without reverting, so a stale or replayed `performData` is harmless. A LoanVault revert (it is trusted)
    /// reverts the batch; `push` and the vault's `refreshReferenceRate` isolate a single loan.
    function performUpkeep(bytes calldata performData) external whenNotPaused nonReentrant {
        UtilizationOracleStorage storage $ = oracleStorage();
        ILoanVaultOracleHooks vault = _requireLoanVault($);
        uint256[] memory loanIds = abi.decode(performData, (uint256[]));
        for (uint256 i; i < loanIds.length; ++i) {
            uint256 loanId = loanIds[i];
            LoanFeed storage loan = $.loans[loanId];
            if (_closable($, loan)) OracleRecording.closeReportDay(loanId, loan.openDay);
            _flagDataGap($, loan, loanId);
            _push(loan, loanId, vault);
            _refreshReferenceRate(vault, loanId);
        }
    }

    // ================================================================ views

    /// @inheritdoc IUtilizationOracle
    function openReportDay(
        uint256 loanId
    ) external view returns (uint32 day, uint256 reports, uint64 closesAt) {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        day = loan.openDay;
        if (day == 0) return (0, 0, 0);
        return (day, popcount(loan.openMask), dayClosesAt($, day));
    }

    /// @inheritdoc IUtilizationOracle
    function revenueCovenants(
        uint256 loanId
    ) external view returns (RevenueCovenants memory covenants, uint256 depositsAtCheckUsd) {
        LoanFeed storage loan = oracleStorage().loans[loanId];
        covenants = RevenueCovenants(loan.minDscrBps, loan.lockboxCheck, loan.shortfallToleranceBps);
        depositsAtCheckUsd = loan.depositsAtCheck;
    }

    /// @inheritdoc IUtilizationOracle
    function reportWindow() external view returns (uint32) {
        return reportWindowOf(oracleStorage());
    }

    /// @inheritdoc IUtilizationOracle
    function dataGap(uint256 loanId) external view returns (uint256 missingDays, uint16 maxGapDays) {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        return (missingDaysOf($, loan), loan.maxGapDays);
    }

    /// @inheritdoc IUtilizationOracle
    function latestUtilization(
        uint256 loanId
    ) external view returns (uint16 utilizationBps, uint16 uptimeBps, uint32 day, uint64 updatedAt) {
        LoanFeed storage loan = oracleStorage().loans[loanId];
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
        LoanFeed storage loan = oracleStorage().loans[loanId];
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
        UtilizationOracleStorage storage $ = oracleStorage();
        uint256 count = $.rules.length;
        if (ruleIndex >= count) revert UtilizationOracleUnknownRule(ruleIndex, count);
        LoanFeed storage loan = $.loans[loanId];
        if (loan.rulesEpoch != $.rulesEpoch) return (0, 0);
        Streak streak = loan.streaks[ruleIndex];
        return (streak.length(), streak.lastDay());
    }

    /// @inheritdoc IUtilizationOracle
    function pendingPush(uint256 loanId) external view returns (PendingPush memory) {
        UtilizationOracleStorage storage $ = oracleStorage();
        LoanFeed storage loan = $.loans[loanId];
        bool stepPending = loan.lastStepId != loan.pushedStepId;
        ILoanVaultOracleHooks vault = $.loanVault;
        return
            PendingPush({
                stepId: loan.lastStepId,
                deltaBps: stepPending && address(vault) != address(0)
                    ? OracleRecording.effectiveDelta(loan, loanId, vault)
                    : loan.pendingDeltaBps,
                topUpRequired: loan.pendingTopUp,
                stepPending: stepPending,
                flags: loan.flags,
                flagsPending: loan.flags != loan.pushedFlags
            });
    }

    /// @inheritdoc IUtilizationOracle
    function rules() external view returns (CouponRules.Rule[] memory) {
        return oracleStorage().rules;
    }

    /// @inheritdoc IUtilizationOracle
    function rulesEpoch() external view returns (uint32) {
        return oracleStorage().rulesEpoch;
    }

    /// @inheritdoc IUtilizationOracle
    function sourcesOf(uint256 loanId) external view returns (Source[] memory) {
        return oracleStorage().loans[loanId].sources;
    }

    /// @inheritdoc IUtilizationOracle
    function loanConfig(
        uint256 loanId
    ) external view returns (bool configured, uint8 quorum, uint32 maxStaleness) {
        LoanFeed storage loan = oracleStorage().loans[loanId];
        return (loan.configured, loan.quorum, loan.maxStaleness);
    }

    /// @inheritdoc IUtilizationOracle
    function configuredLoanCount() external view returns (uint256) {
        return oracleStorage().loanIds.length;
    }

    /// @inheritdoc IUtilizationOracle
    function configuredLoanAt(uint256 index) external view returns (uint256) {
        return oracleStorage().loanIds[index];
    }

    /// @inheritdoc IUtilizationOracle
    function loanVault() external view returns (address) {
        return address(oracleStorage().loanVault);
    }

    /// @inheritdoc IUtilizationOracle
    function hashReport(Report calldata report) external view returns (bytes32) {
        return _hashReport(report);
    }

    // ================================================================ internal: recording

    /// @dev Refuses a reading for an unconfigured loan or for a day not after the last recorded one.
    function _requireNextDay(LoanFeed storage loan, uint256 loanId, uint32 day) private view {
        if (!loan.configured) revert UtilizationOracleLoanNotConfigured(loanId);
        uint32 lastDay = loan.lastDay;
        if (day <= lastDay) revert UtilizationOracleDayNotAfterLast(loanId, day, lastDay);
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
                        report.periodDays,
                        report.revenueUsd,
                        report.deadline
                    )
                )
            );
    }

    /// @dev Refuses a report day that is not after the last recorded one (see `_requireNextDay`), is in the future or
    /// ended more than `maxStaleness` ago, and a period outside [1, `MAX_REPORT_PERIOD_DAYS`] (report 0's: the others
    /// must match it, `_checkReport`).
    function _requireReportDay(
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint16 period
    ) private view {
        if (period == 0 || period > MAX_REPORT_PERIOD_DAYS)
            revert UtilizationOracleInvalidPeriod(0, period, MAX_REPORT_PERIOD_DAYS);
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
    /// skipped day closed before that one: a period report for `day` opens only once every day it covers but `day`
    /// has closed.) The `period` days ending on `day` must all be after the last recorded day, counting an open day
    /// that closing will record.
    function _requireDayOpens(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint16 period,
        uint32 open
    ) private view {
        if (open > day) revert UtilizationOracleReportDayClosed(loanId, day, dayClosesAt($, day));
        uint32 lastDay = loan.lastDay;
        if (open != 0) {
            uint64 openClosesAt = dayClosesAt($, open);
            if (block.timestamp < openClosesAt)
                revert UtilizationOracleReportDayOpen(loanId, open, openClosesAt);
            // Closing it records it when its reports reach the quorum.
            if (popcount(loan.openMask) >= loan.quorum) lastDay = open;
        }
        _requireNotClosed($, loanId, day);
        if (uint256(day) < uint256(lastDay) + period)
            revert UtilizationOraclePeriodOverlaps(loanId, day, period, lastDay);
        // `day > lastDay >= 0`. Before the first observation there is no streak to protect.
        uint32 previous = day - 1;
        if (lastDay != 0 && previous > lastDay) {
            uint64 previousClosesAt = dayClosesAt($, previous);
            if (block.timestamp < previousClosesAt)
                revert UtilizationOracleReportDayOpen(loanId, previous, previousClosesAt);
        }
    }

    /// @dev Refuses reports for the open day `day` once its window has closed, and reports covering another period
    /// than those collected for it.
    function _requireSamePeriod(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId,
        uint32 day,
        uint16 period
    ) private view {
        _requireNotClosed($, loanId, day);
        uint16 openPeriod = OracleRecording.openPeriodOf(loan);
        if (period != openPeriod)
            revert UtilizationOracleReportPeriodMismatch(loanId, day, period, openPeriod);
    }

    /// @dev Refuses reports for `day` once its window has closed.
    function _requireNotClosed(UtilizationOracleStorage storage $, uint256 loanId, uint32 day) private view {
        uint64 closesAt = dayClosesAt($, day);
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
            c.revenues[index] = report.revenueUsd;
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
        uint256 collected = popcount(c.mask);
        bool complete = collected == reporters;
        uint256 quorum = loan.quorum;
        if (complete && collected < quorum) revert UtilizationOracleQuorumNotMet(loanId, collected, quorum);

        if (open != day && open != 0) OracleRecording.closeReportDay(loanId, open);
        if (complete) {
            if (open == day) OracleRecording.clearOpenDay(loan);
            _loadRevenues(loan, c);
            OracleRecording.recordReports(loanId, day, c.periodDays, c.mask, c.readings, c.revenues);
        } else {
            // `mask < 2 ** MAX_ORACLE_SOURCES`: the cast is safe.
            loan.openDay = day;
            loan.openMask = uint8(c.mask);
            loan.openPeriodDays = c.periodDays;
            loan.openReadings = c.readings;
            _storeRevenues(loan, c);
            emit ReportsCollected(loanId, day, c.added, collected, dayClosesAt($, day));
        }
    }

    /// @dev Completes `c.revenues` with the revenues of the reports stored for the day by earlier submissions.
    function _loadRevenues(LoanFeed storage loan, Collection memory c) private view {
        uint256 stored = c.storedMask;
        for (uint256 i; stored >> i != 0; ++i) {
            if (stored & (1 << i) != 0) c.revenues[i] = loan.openRevenues[i];
        }
    }

    /// @dev Stores the revenues of the reports this submission added to the day.
    function _storeRevenues(LoanFeed storage loan, Collection memory c) private {
        uint256 added = c.mask & ~c.storedMask;
        for (uint256 i; added >> i != 0; ++i) {
            // Revenues are reports' `uint128`.
            if (added & (1 << i) != 0) loan.openRevenues[i] = uint128(c.revenues[i]);
        }
    }

    /// @dev Checks report `i` (same loan, day and period as report 0, unexpired, in range, validly signed by a REPORTER
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
        if (
            report.loanId != loanId ||
            report.day != reports[0].day ||
            report.periodDays != reports[0].periodDays
        ) revert UtilizationOracleReportMismatch(i);
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

    /// @dev Whether the loan has an open report day that has closed.
    function _closable(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan
    ) private view returns (bool) {
        uint32 open = loan.openDay;
        return open != 0 && block.timestamp >= dayClosesAt($, open);
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

        int64 delta = stepPending ? OracleRecording.effectiveDelta(loan, loanId, vault) : int64(0);
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

    /// @dev Whether the loan's missing days exceed its `maxGapDays` (on) while `COVENANT_DATA_GAP` is not set.
    function _dataGapDue(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan
    ) private view returns (bool) {
        uint256 maxGap = loan.maxGapDays;
        return maxGap != 0 && loan.flags & COVENANT_DATA_GAP == 0 && missingDaysOf($, loan) > maxGap;
    }

    /// @dev Sets `COVENANT_DATA_GAP` when due (`_dataGapDue`); whether it did.
    function _flagDataGap(
        UtilizationOracleStorage storage $,
        LoanFeed storage loan,
        uint256 loanId
    ) private returns (bool) {
        if (!_dataGapDue($, loan)) return false;
        uint8 flags = loan.flags | COVENANT_DATA_GAP;
        loan.flags = flags;
        emit DataGapFlagged(loanId, loan.lastDay, missingDaysOf($, loan), loan.maxGapDays);
        emit CovenantFlagsChanged(loanId, flags);
        return true;
    }

    function _hasPending(LoanFeed storage loan) private view returns (bool) {
        return loan.lastStepId != loan.pushedStepId || loan.flags != loan.pushedFlags;
    }

    // ================================================================ internal: configuration

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

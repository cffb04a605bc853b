// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    COVENANT_DATA_GAP,
    COVENANT_DSCR_BREACH,
    COVENANT_REVENUE_SHORTFALL,
    IUtilizationOracle,
    MAX_ORACLE_SOURCES,
    REVENUE_UNKNOWN,
    UPTIME_UNKNOWN
} from "../interfaces/IUtilizationOracle.sol";
import {ILoanVaultOracleHooks} from "../interfaces/ILoanVault.sol";
import {COVENANT_SLA_BREACH} from "../credit/logic/LoanConstants.sol";
import {BPS} from "../libraries/Constants.sol";
import {CouponRules, MAX_COUPON_RULES, Streak} from "../libraries/CouponRules.sol";
import {Median} from "../libraries/Median.sol";
import {OracleStorage, dayClosesAt, oracleStorage, popcount} from "./OracleStorage.sol";

/// @title OracleRecording
/// @notice The UtilizationOracle's rule engine: turns a day's readings into its observation (medians, the SLA covenant
/// flag), advances the coupon rules' streaks and composes the pending coupon step; closes report days; sets the
/// rules. Linked (DELEGATECALL on the oracle's storage, `oracleStorage()`); events and errors are the oracle's
/// (`IUtilizationOracle`).
library OracleRecording {
    using CouponRules for CouponRules.Rule;

    /// @dev A pending coupon step being composed (see `_advanceStreaks`): the premium moves to
    /// clamp(p + delta, low, high); `floor` and `cap` are the vault's clamp for the loan.
    /// @dev An observation being recorded: the `periodDays` days ending on `day`, the medians of `readings` readings
    /// (`revenueUsd`: `REVENUE_UNKNOWN` from feeds).
    struct Observation {
        uint32 day;
        uint16 periodDays;
        uint256 utilizationBps;
        uint16 uptimeBps;
        uint256 revenueUsd;
        uint256 readings;
    }

    /// @dev The revenue covenants' verdict on a reported period (see `_checkRevenue`).
    struct RevenueCheck {
        bool checked;
        uint256 debtService;
        uint256 deposited; // since the last lockbox check
        uint256 depositsNow; // the LoanVault's cumulative deposits
    }

    struct PendingStep {
        int256 delta;
        int256 low;
        int256 high;
        int256 floor;
        int256 cap;
        bool topUp;
    }

    // ================================================================ external (linked)

    /// @notice Replaces the coupon rules and bumps the rules epoch (see `IUtilizationOracle.setRules`).
    function setRules(CouponRules.Rule[] calldata rules_) external {
        OracleStorage.UtilizationOracleStorage storage $ = oracleStorage();
        uint256 count = rules_.length;
        if (count > MAX_COUPON_RULES)
            revert IUtilizationOracle.UtilizationOracleTooManyRules(count, MAX_COUPON_RULES);
        delete $.rules;
        for (uint256 i; i < count; ++i) {
            CouponRules.Rule calldata rule = rules_[i];
            if (!rule.isValid()) revert IUtilizationOracle.UtilizationOracleInvalidRule(i);
            $.rules.push(rule);
        }
        // Streaks restart lazily: each loan compares its stored epoch at its next observation.
        uint32 epoch = $.rulesEpoch + 1;
        $.rulesEpoch = epoch;
        emit IUtilizationOracle.RulesSet(rules_, epoch);
    }

    /// @notice Records today's observation for `loanId` from `readings` feed readings whose median is
    /// `utilizationBps` (uptime and revenue unknown), and advances the loan's streaks (one observed day).
    function recordFeeds(uint256 loanId, uint32 day, uint256 utilizationBps, uint256 readings) external {
        _record(
            oracleStorage(),
            loanId,
            Observation(day, 1, utilizationBps, UPTIME_UNKNOWN, REVENUE_UNKNOWN, readings)
        );
    }

    /// @notice Closes the loan's open report day `open`: recorded from its reports when they reach the quorum, else
    /// missed. Reverts with `UtilizationOracleReportDayOpen` before it closes.
    function closeReportDay(uint256 loanId, uint32 open) external {
        OracleStorage.UtilizationOracleStorage storage $ = oracleStorage();
        OracleStorage.LoanFeed storage loan = $.loans[loanId];
        uint64 closes = dayClosesAt($, open);
        if (block.timestamp < closes)
            revert IUtilizationOracle.UtilizationOracleReportDayOpen(loanId, open, closes);
        uint256 mask = loan.openMask;
        uint256 readings = loan.openReadings;
        clearOpenDay(loan);
        uint256 count = popcount(mask);
        uint256 quorum = loan.quorum;
        if (count < quorum) {
            emit IUtilizationOracle.ReportDayMissed(loanId, open, count, quorum);
            return;
        }
        uint256[MAX_ORACLE_SOURCES] memory revenues;
        for (uint256 i; i < MAX_ORACLE_SOURCES; ++i) {
            if (mask & (1 << i) != 0) revenues[i] = loan.openRevenues[i];
        }
        recordReports(loanId, open, openPeriodOf(loan), mask, readings, revenues);
    }

    /// @notice Records `day` (covering `periodDays` days) from the signed reports collected for it (`mask`,
    /// `readings`: see `OracleStorage.LoanFeed.openReadings`; `revenues` by source index): the median utilization,
    /// uptime and revenue. Public: the oracle calls it (DELEGATECALL) for a day whose reports are complete, and
    /// `closeDay` calls it (a jump) for a day that closed.
    function recordReports(
        uint256 loanId,
        uint32 day,
        uint16 periodDays,
        uint256 mask,
        uint256 readings,
        uint256[MAX_ORACLE_SOURCES] memory revenues
    ) public {
        OracleStorage.UtilizationOracleStorage storage $ = oracleStorage();
        uint256 count = popcount(mask);
        uint256[] memory utilizations = new uint256[](count);
        uint256[] memory uptimes = new uint256[](count);
        uint256[] memory revenuesUsd = new uint256[](count);
        uint256 n;
        for (uint256 i; i < MAX_ORACLE_SOURCES; ++i) {
            if (mask & (1 << i) == 0) continue;
            uint256 reading = readings >> (32 * i);
            utilizations[n] = uint16(reading >> 16);
            uptimes[n] = uint16(reading);
            revenuesUsd[n] = revenues[i];
            ++n;
        }
        // Medians of values <= BPS are <= BPS: the uptime cast is safe and never equals `UPTIME_UNKNOWN`.
        _record(
            $,
            loanId,
            Observation(
                day,
                periodDays,
                Median.medianDown(utilizations),
                uint16(Median.medianDown(uptimes)),
                Median.medianDown(revenuesUsd),
                count
            )
        );
    }

    // ================================================================ internal (inlined where used)

    /// @dev The period of the open day's reports (a day opened before reports had periods covers one day).
    function openPeriodOf(OracleStorage.LoanFeed storage loan) internal view returns (uint16) {
        uint16 period = loan.openPeriodDays;
        return period == 0 ? 1 : period;
    }

    function clearOpenDay(OracleStorage.LoanFeed storage loan) internal {
        loan.openDay = 0;
        loan.openMask = 0;
    }

    function clamp(int256 value, int256 low, int256 high) internal pure returns (int256) {
        return
            value < low
                ? low
                : value > high
                    ? high
                    : value;
    }

    /// @dev The premium change a push sends: the pending steps applied one by one to the vault's premium now, with
    /// the clamp after each (the vault's own clamp then leaves it as it is).
    function effectiveDelta(
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        ILoanVaultOracleHooks vault
    ) internal view returns (int64) {
        (uint256 premiumBps, , ) = vault.premiumBounds(loanId);
        int256 premium = int256(premiumBps);
        int256 target = clamp(premium + loan.pendingDeltaBps, loan.stepLowBps, loan.stepHighBps);
        // Both within int32: the difference fits int64.
        return int64(target - premium);
    }

    // ================================================================ private

    /// @dev Records observation `o` and advances the loan's streaks and covenant flags.
    function _record(
        OracleStorage.UtilizationOracleStorage storage $,
        uint256 loanId,
        Observation memory o
    ) private {
        OracleStorage.LoanFeed storage loan = $.loans[loanId];
        uint32 day = o.day;
        uint256 utilizationBps = o.utilizationBps;
        uint16 uptimeBps = o.uptimeBps;
        // The SLA is read first (a view call into the trusted LoanVault) so that every write below follows it.
        // Feed-only days (uptime unknown) and a missing LoanVault leave the SLA flag as it is. An observation ends a
        // data gap.
        uint8 flags = loan.flags & ~COVENANT_DATA_GAP;
        ILoanVaultOracleHooks vault = $.loanVault;
        if (uptimeBps != UPTIME_UNKNOWN && address(vault) != address(0)) {
            bool breach = uptimeBps < vault.slaUptimeBps(loanId);
            flags = breach ? flags | uint8(COVENANT_SLA_BREACH) : flags & ~uint8(COVENANT_SLA_BREACH);
        }
        // Revenue covenants: one more view call, only for a reported period of a loan that has one on.
        RevenueCheck memory check;
        if (o.revenueUsd != REVENUE_UNKNOWN && address(vault) != address(0))
            flags = _checkRevenue(loan, loanId, o, vault, flags, check);

        // `utilizationBps` is a median of values <= BPS: the cast is safe.
        loan.lastDay = day;
        loan.utilizationBps = uint16(utilizationBps);
        loan.uptimeBps = uptimeBps;
        loan.updatedAt = uint64(block.timestamp);
        // Cumulative USDai deposits to one loan stay far below 2 ** 128.
        if (check.checked && loan.lockboxCheck) loan.depositsAtCheck = uint128(check.depositsNow);
        emit IUtilizationOracle.ObservationRecorded(
            loanId,
            day,
            o.periodDays,
            uint16(utilizationBps),
            uptimeBps,
            o.readings
        );
        if (o.revenueUsd != REVENUE_UNKNOWN)
            emit IUtilizationOracle.RevenueRecorded(loanId, day, o.periodDays, o.revenueUsd);

        if (check.checked) _emitRevenueBreaches(loan, loanId, o, check, flags);
        if (flags != loan.flags) {
            loan.flags = flags;
            emit IUtilizationOracle.CovenantFlagsChanged(loanId, flags);
        }
        _advanceStreaks($, loan, loanId, o);
    }

    /// @dev The revenue covenants' verdict on reported period `o`, from one view of the trusted LoanVault made only
    /// when a covenant is on (`check.checked`): `flags` with `COVENANT_DSCR_BREACH` (revenue below `minDscrBps` of the
    /// period's debt service) and `COVENANT_REVENUE_SHORTFALL` (deposits since the last check below the revenue less
    /// the tolerance) set or cleared for the covenants on.
    function _checkRevenue(
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        Observation memory o,
        ILoanVaultOracleHooks vault,
        uint8 flags,
        RevenueCheck memory check
    ) private view returns (uint8) {
        uint16 minDscr = loan.minDscrBps;
        bool lockbox = loan.lockboxCheck;
        if (minDscr == 0 && !lockbox) return flags;
        (uint256 debtService, uint256 deposits) = vault.revenueCovenantInputs(loanId, o.periodDays);
        uint256 revenue = o.revenueUsd;
        check.checked = true;
        check.debtService = debtService;
        check.depositsNow = deposits;
        if (minDscr != 0) {
            // USDai amounts are far below 2 ** 200: the products cannot overflow.
            bool breach = revenue * BPS < debtService * minDscr;
            flags = breach ? flags | COVENANT_DSCR_BREACH : flags & ~COVENANT_DSCR_BREACH;
        }
        if (lockbox) {
            // Deposits only grow.
            uint256 since = loan.depositsAtCheck;
            uint256 deposited = deposits > since ? deposits - since : 0;
            check.deposited = deposited;
            bool shortfall = deposited * BPS < revenue * (BPS - loan.shortfallToleranceBps);
            flags = shortfall ? flags | COVENANT_REVENUE_SHORTFALL : flags & ~COVENANT_REVENUE_SHORTFALL;
        }
        return flags;
    }

    /// @dev The events of the revenue covenants `check` found breached by period `o` (`flags`: the new flags).
    function _emitRevenueBreaches(
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        Observation memory o,
        RevenueCheck memory check,
        uint8 flags
    ) private {
        if (flags & COVENANT_DSCR_BREACH != 0)
            emit IUtilizationOracle.DscrBreached(
                loanId,
                o.day,
                o.revenueUsd,
                check.debtService,
                loan.minDscrBps
            );
        if (flags & COVENANT_REVENUE_SHORTFALL != 0)
            emit IUtilizationOracle.RevenueShortfall(
                loanId,
                o.day,
                o.revenueUsd,
                check.deposited,
                loan.shortfallToleranceBps
            );
    }

    /// @dev Advances every rule's streak by observation `o` (`o.periodDays` observed days). Streaks of an older rules
    /// epoch restart from zero. Firings are folded into the pending step in the order N daily observations would
    /// fire them (by day of the period, then rule order): top-up flags OR together, the newest step id is kept, and
    /// the premium change is composed as the vault would apply the steps one by one, clamping to the loan's [floor,
    /// cap] after each. Moves of the form p -> clamp(p + d, lo, hi) compose to p -> clamp(p + sum(d), low, high), so
    /// three numbers hold any number of pending steps (see `LoanFeed.stepLowBps`).
    function _advanceStreaks(
        OracleStorage.UtilizationOracleStorage storage $,
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        Observation memory o
    ) private {
        CouponRules.Rule[] memory rules_ = $.rules;
        uint256 count = rules_.length;
        uint32 epoch = $.rulesEpoch;
        Streak[MAX_COUPON_RULES] memory streaks;
        if (loan.rulesEpoch == epoch) streaks = loan.streaks;
        else loan.rulesEpoch = epoch;

        // nextFiring[i]: the day of the period on which rule i fires next (0: not within this observation).
        uint256[MAX_COUPON_RULES] memory nextFiring;
        bool anyFiring;
        for (uint256 i; i < count; ++i) {
            (streaks[i], nextFiring[i]) = rules_[i].advance(
                streaks[i],
                o.day,
                o.periodDays,
                o.utilizationBps
            );
            anyFiring = anyFiring || nextFiring[i] != 0;
        }
        loan.streaks = streaks;
        if (anyFiring) _fireInOrder($, loan, loanId, rules_, nextFiring, o.periodDays);
    }

    /// @dev Folds the firings of one observation into the pending step, earliest day of the period first (ties in rule
    /// order); rule i fires on day `nextFiring[i]` (0: never) and every `windowDays` after it up to `periodDays`.
    function _fireInOrder(
        OracleStorage.UtilizationOracleStorage storage $,
        OracleStorage.LoanFeed storage loan,
        uint256 loanId,
        CouponRules.Rule[] memory rules_,
        uint256[MAX_COUPON_RULES] memory nextFiring,
        uint256 periodDays
    ) private {
        uint256 count = rules_.length;
        uint64 stepId = loan.lastStepId;
        PendingStep memory step = _pendingStep($, loan, loanId);
        while (true) {
            // The earliest firing; ties go to the lower rule index.
            uint256 at = type(uint256).max;
            uint256 ruleIndex;
            for (uint256 i; i < count; ++i) {
                uint256 firing = nextFiring[i];
                if (firing != 0 && firing < at) (at, ruleIndex) = (firing, i);
            }
            if (at == type(uint256).max) break;
            CouponRules.Rule memory rule = rules_[ruleIndex];
            uint256 again = at + rule.windowDays;
            nextFiring[ruleIndex] = again <= periodDays ? again : 0;
            ++stepId;
            _composeStep(step, rule.premiumDeltaBps);
            step.topUp = step.topUp || rule.topUpRequired;
            emit IUtilizationOracle.RuleFired(
                loanId,
                ruleIndex,
                stepId,
                rule.premiumDeltaBps,
                rule.topUpRequired
            );
        }
        // The composed values stay within the clamp (int32) and the sum within the rules' deltas (int64).
        loan.lastStepId = stepId;
        loan.pendingDeltaBps = int64(step.delta);
        loan.pendingTopUp = step.topUp;
        loan.stepLowBps = int32(step.low);
        loan.stepHighBps = int32(step.high);
    }

    /// @dev The pending step to compose new firings onto: the one pending, or a step that moves nothing (with the
    /// vault's clamp for the loan) when none is.
    function _pendingStep(
        OracleStorage.UtilizationOracleStorage storage $,
        OracleStorage.LoanFeed storage loan,
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
        step.low = clamp(step.low + deltaBps, step.floor, step.cap);
        step.high = clamp(step.high + deltaBps, step.floor, step.cap);
    }
}

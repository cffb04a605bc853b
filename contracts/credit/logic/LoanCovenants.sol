// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault, ILoanVaultOracleHooks} from "../../interfaces/ILoanVault.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {BREACH_LTV, BREACH_TOP_UP, COVENANT_FLAGS, MAX_REFERENCE_RATE_BPS} from "./LoanConstants.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanPayments} from "./LoanPayments.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanCovenants
/// @notice A loan's pricing and covenants: oracle coupon steps and covenant flags, reference-rate refreshes (and the
/// check the oracle's upkeep makes before one), the LTV covenants with their cure period, top-ups, and good standing.
/// @dev `executeCouponStep` and `executeSetCovenantBreach` are internal (inlined in the vault: the oracle's upkeep
/// pushes them, and a coupon step's ceiling leaves no room for a DELEGATECALL); the other entry points are external
/// (linked; DELEGATECALL on the vault's storage, called only from the vault and from `LoanPayments`). Events and errors
/// are the vault's.
library LoanCovenants {
    using FixedPointMath for uint256;

    // ================================================================ entry points

    /// @notice See `ILoanVaultOracleHooks.applyCouponStep`.
    function executeCouponStep(uint256 loanId, uint256 stepId, int256 deltaBps, bool topUpRequired) internal {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        if (stepId <= s.lastStepId) return;
        if (stepId > type(uint32).max) revert ILoanVault.LoanVaultAmountOverflow(stepId);
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        int256 before = int256(uint256(s.premiumBps));
        int256 next = before + deltaBps;
        int256 floor = int256(uint256(t.premiumFloorBps));
        int256 cap = int256(uint256(t.premiumCapBps));
        if (next < floor) next = floor;
        else if (next > cap) next = cap;
        uint256 breachFlags = s.breachFlags;
        uint256 cureDeadline = s.cureDeadline;
        if (topUpRequired) {
            breachFlags |= BREACH_TOP_UP;
            if (cureDeadline == 0) cureDeadline = block.timestamp + t.curePeriodSeconds;
        }

        // Interest up to now accrues at the old coupon. Late fees are priced at the contract coupon, which a step does
        // not move, so they need not be charged first.
        int256 rounding = LoanAccounting.accrueInterest(s);
        _bookCoupon($, s, LoanAccounting.couponBps(s.referenceRateBps, uint256(next)), rounding);
        s.premiumBps = uint16(uint256(next));
        s.lastStepId = uint32(stepId);
        s.breachFlags = uint8(breachFlags);
        s.cureDeadline = uint40(cureDeadline);
        emit ILoanVaultOracleHooks.CouponStepApplied(
            loanId,
            stepId,
            deltaBps,
            next - before,
            topUpRequired,
            cureDeadline
        );
    }

    /// @notice See `ILoanVaultOracleHooks.setCovenantBreach`.
    function executeSetCovenantBreach(uint256 loanId, uint256 flags) internal {
        ILoanVault.LoanState storage s = loanStorage().state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        if (flags > type(uint8).max) revert ILoanVault.LoanVaultInvalidParam("flags", flags);
        uint256 previous = s.oracleFlags;
        if (previous == flags) return;
        s.oracleFlags = uint8(flags);
        emit ILoanVaultOracleHooks.CovenantFlagsSet(loanId, previous, flags);
    }

    /// @notice See `ILoanVaultReferenceRate.refreshReferenceRate`.
    function executeRefreshReferenceRate(uint256 loanId) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        address feed = t.referenceRateFeed;
        if (feed == address(0)) revert ILoanVault.LoanVaultInvalidParam("referenceRateFeed", 0);
        uint256 referenceRateBps = readReferenceRate($, feed);
        // Late fees are priced at the reference rate (plus the base premium): charge those due before it moves.
        int256 rounding = LoanPayments.accrue($, loanId, s, t, false);
        uint256 couponBps = LoanAccounting.couponBps(referenceRateBps, s.premiumBps);
        _bookCoupon($, s, couponBps, rounding);
        s.referenceRateBps = uint16(referenceRateBps);
        emit ILoanVault.ReferenceRateUpdated(loanId, referenceRateBps, couponBps);
    }

    /// @notice See `ILoanVaultReferenceRate.pendingReferenceRate`.
    function pendingReferenceRate(
        uint256 loanId
    ) external view returns (bool pending, uint256 referenceRateBps) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        referenceRateBps = s.referenceRateBps;
        address feed = $.terms[loanId].referenceRateFeed;
        if (feed == address(0) || s.status != ILoanVault.LoanStatus.Active) return (false, referenceRateBps);
        uint256 feedRateBps = readReferenceRate($, feed);
        return (feedRateBps != referenceRateBps, feedRateBps);
    }

    /// @notice See `ILoanVault.topUp`: pledges more receipts of the loan's site, then re-evaluates the covenants.
    function executeTopUp(IGpuReceipt receipts, uint256 loanId, uint256[] calldata receiptIds) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        if (msg.sender != t.borrower) revert ILoanVault.LoanVaultNotBorrower(loanId, msg.sender);
        uint256 count = s.receiptCount;
        uint256 added = LoanCollateral.pledgeValue(receipts, t.site, receiptIds, count);

        _accrue($, loanId, s, t);
        s.receiptCount = uint16(count + receiptIds.length);
        LoanCollateral.store($, loanId, count, receiptIds);
        emit ILoanVault.ToppedUp(loanId, receiptIds, added);
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, count) + added;
        evaluate(loanId, s, t, collateral, true);
        _markPastGrace($, loanId, s, collateral);

        LoanCollateral.pull(receipts, msg.sender, receiptIds);
    }

    /// @notice See `ILoanVault.checkCovenants`.
    function executeCheckCovenants(
        IGpuReceipt receipts,
        uint256 loanId
    ) external returns (uint256 breachFlags) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        _accrue($, loanId, s, t);
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, s.receiptCount);
        breachFlags = evaluate(loanId, s, t, collateral, false);
        _markPastGrace($, loanId, s, collateral);
    }

    /// @notice Re-tests an accrued loan's LTV covenants against its collateral now (after a repayment lowered the
    /// debt while a covenant was breached: a repayment of principal may cure a required top-up).
    function executeReevaluate(IGpuReceipt receipts, uint256 loanId) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        evaluate(
            loanId,
            s,
            $.terms[loanId],
            LoanCollateral.collateralValue($, receipts, loanId, s.receiptCount),
            true
        );
    }

    // ================================================================ covenants

    /// @notice Re-tests the LTV flags against `collateral`: the maintenance breach sets or clears on maintenance LTV; a
    /// required top-up clears only on a cure (`cure`: a top-up, or a repayment of principal) that brings the LTV back
    /// within the origination LTV, never because the collateral was revalued. A new breach starts the cure period;
    /// the deadline clears with the last covenant flag. The loan is accrued.
    function evaluate(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 collateral,
        bool cure
    ) internal returns (uint256 flags) {
        uint256 before = s.breachFlags;
        uint256 debt = uint256(s.principal) + s.interest + s.lateFees;
        flags = before;
        if (debt > collateral.mulDivDown(t.maintenanceLtvBps, BPS)) flags |= BREACH_LTV;
        else flags &= ~uint256(BREACH_LTV);
        if (cure && debt <= collateral.mulDivDown(t.maxLtvBps, BPS)) flags &= ~uint256(BREACH_TOP_UP);
        if (flags == before) return flags;
        uint256 cureDeadline = s.cureDeadline;
        if (flags & COVENANT_FLAGS == 0) cureDeadline = 0;
        else if (cureDeadline == 0) cureDeadline = block.timestamp + t.curePeriodSeconds;
        s.breachFlags = uint8(flags);
        s.cureDeadline = uint40(cureDeadline);
        emit ILoanVault.BreachFlagsSet(loanId, flags, cureDeadline);
    }

    /// @notice Active or repaid, no covenant flag, and no payment past its grace period: the borrower may take excess.
    function isInGoodStanding(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (bool) {
        ILoanVault.LoanStatus status = s.status;
        if (status != ILoanVault.LoanStatus.Active && status != ILoanVault.LoanStatus.Repaid) return false;
        if (s.breachFlags != 0 || s.oracleFlags != 0) return false;
        uint256 index = s.nextPaymentIndex;
        if (index > s.schedulePayments) return true;
        return block.timestamp <= s.scheduleStart + index * t.paymentIntervalSeconds + t.gracePeriodSeconds;
    }

    // ================================================================ pricing

    /// @notice Reads a reference-rate feed (1.0 = 100%) in bps, rounded up; refuses non-positive, stale, future or
    /// implausible answers.
    function readReferenceRate(
        LoanStorage.LoanVaultStorage storage $,
        address feed
    ) internal view returns (uint256 bps) {
        (, int256 answer, , uint256 updatedAt, ) = AggregatorV3Interface(feed).latestRoundData();
        if (
            answer <= 0 ||
            updatedAt > block.timestamp ||
            block.timestamp - updatedAt > $.risk.referenceFeedMaxStalenessSeconds
        ) revert ILoanVault.LoanVaultBadReferenceRate(feed, answer, updatedAt);
        bps = uint256(answer).mulDivUp(BPS, 10 ** AggregatorV3Interface(feed).decimals());
        if (bps > MAX_REFERENCE_RATE_BPS)
            revert ILoanVault.LoanVaultBadReferenceRate(feed, answer, updatedAt);
    }

    // ================================================================ private

    /// @dev Marks a loan in non-accrual (a payment past its grace period) to what it would recover today: NAV carries it
    /// at the lower of its principal and `collateral` after the haircut plus its cash, so no exit is priced above what
    /// the book is worth while the default is still weeks away (#24.2). The mark follows the collateral both ways: a
    /// top-up or a re-appraisal lifts it (the entry price does not move: it counts the loan at its principal).
    function _markPastGrace(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        uint256 collateral
    ) private {
        if (LoanAccounting.isAccruing(s)) return;
        uint256 recovery = LoanAccounting.recoveryOf($, s, collateral);
        LoanAccounting.setWritedown($, loanId, s, uint256(s.principal).zeroFloorSub(recovery));
    }

    /// @dev Accrues the loan (interest and late fees) and books the accrual.
    function _accrue(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) private {
        int256 rounding = LoanPayments.accrue($, loanId, s, t, false);
        LoanAccounting.applyChange($, true, 0, 0, rounding, 0, 0, address(0), bytes32(0));
    }

    /// @dev Sets an accrued loan's coupon and books it: the aggregate rate moves (not for a loan in non-accrual, whose rate
    /// is out of it), and a loan paid ahead has the time its prepaid interest covers rescaled to the new coupon, so its
    /// book value does not move.
    function _bookCoupon(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 newCouponBps,
        int256 rounding
    ) private {
        uint256 oldCouponBps = s.couponBps;
        int256 rateMove = LoanAccounting.setCoupon(s, newCouponBps);
        if (!LoanAccounting.isAccruing(s)) {
            rateMove = 0;
            rounding = 0;
        }
        uint256 accruedAt = s.accruedAt;
        if (accruedAt > block.timestamp) {
            // Interest paid ahead keeps its value: from now it pays for time at the new coupon, so it covers
            // `ahead x old / new` seconds (rounded down: a step-up brings the next interest forward by under a second,
            // in the protocol's favour). The books then move by that rounding only; booking the unearned interest at
            // the new coupon over the old period would dip (or lift) the NAV until `accruedAt`. At a zero coupon the
            // period stays and its unearned interest is earned now.
            uint256 rescaled =
                newCouponBps == 0
                    ? accruedAt
                    : block.timestamp + ((accruedAt - block.timestamp) * oldCouponBps) / newCouponBps;
            if (rescaled > type(uint32).max) rescaled = type(uint32).max;
            s.accruedAt = uint32(rescaled);
            uint256 principal = s.principal;
            rounding +=
                LoanAccounting.unearned(principal, oldCouponBps, accruedAt) -
                LoanAccounting.unearned(principal, newCouponBps, rescaled);
        }
        LoanAccounting.applyChange($, true, 0, rateMove, rounding, 0, 0, address(0), bytes32(0));
    }
}

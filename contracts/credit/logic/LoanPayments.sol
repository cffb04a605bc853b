// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanPayments
/// @notice Money coming in: repayment, revenue into the lockbox, the waterfall (`sweep`), the release of excess, and
/// the close of a repaid loan; with the payment schedule and late fees they settle.
/// @dev `executeRepay` is internal (inlined in the vault: a DELEGATECALL would take repayment over its gas ceiling);
/// the other entry points are external (linked; DELEGATECALL on the vault's storage, called only from its
/// nonReentrant entry points). A repayment that lowers principal while a covenant is breached re-tests the covenants
/// through the linked `LoanCovenants.executeReevaluate`: a rare path, kept out of the vault's bytecode. Events and
/// errors are the vault's (`ILoanVault`).
library LoanPayments {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;

    // ================================================================ entry points

    /// @notice See `ILoanVault.repay`.
    function executeRepay(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId,
        uint256 amount
    ) internal returns (ILoanVault.Allocation memory allocation) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);

        int256 rounding = accrue(loanId, s, t);
        uint256 owed = uint256(s.lateFees) + s.interest + s.principal;
        if (amount == type(uint256).max) amount = owed;
        else if (amount > owed) revert ILoanVault.LoanVaultOverpayment(loanId, amount, owed);
        allocation = allocate(s, t, amount);
        allocation.prepayment =
            amount -
            allocation.lateFees -
            allocation.interest -
            allocation.scheduledPrincipal;
        applyAllocation($, receipts, loanId, s, t, allocation, rounding);
        emit ILoanVault.Repaid(
            loanId,
            msg.sender,
            allocation.lateFees,
            allocation.interest,
            allocation.scheduledPrincipal,
            allocation.prepayment
        );

        // The payer's USDai goes straight to sUSDai, which books it.
        payStaked(staked, usdai, msg.sender, allocation);
    }

    /// @notice See `ILoanVault.depositRevenue`.
    function executeDepositRevenue(IERC20 usdai, uint256 loanId, uint256 amount) external {
        ILoanVault.LoanState storage s = loanStorage().state[loanId];
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        ILoanVault.LoanStatus status = s.status;
        if (
            status != ILoanVault.LoanStatus.Active &&
            status != ILoanVault.LoanStatus.Repaid &&
            status != ILoanVault.LoanStatus.Defaulted
        ) revert ILoanVault.LoanVaultBadStatus(loanId, status);
        s.lockbox = LoanAccounting.toUint128(uint256(s.lockbox) + amount);
        emit ILoanVault.RevenueDeposited(loanId, msg.sender, amount);

        usdai.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice See `ILoanVault.sweep`.
    function executeSweep(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId
    ) external returns (ILoanVault.Allocation memory allocation) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        allocation = runWaterfall($, receipts, loanId, s, $.terms[loanId]);

        payStaked(staked, usdai, address(this), allocation);
    }

    /// @notice See `ILoanVault.releaseExcess`: runs the waterfall of an active loan first, then releases from what is
    /// left.
    function executeReleaseExcess(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId,
        address to,
        uint256 amount
    ) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        if (msg.sender != t.borrower) revert ILoanVault.LoanVaultNotBorrower(loanId, msg.sender);
        if (to == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        ILoanVault.LoanStatus status = s.status;
        ILoanVault.Allocation memory allocation;
        if (status == ILoanVault.LoanStatus.Active) allocation = runWaterfall($, receipts, loanId, s, t);
        else if (status != ILoanVault.LoanStatus.Repaid) revert ILoanVault.LoanVaultBadStatus(loanId, status);
        if (!LoanCovenants.isInGoodStanding(s, t)) revert ILoanVault.LoanVaultNotInGoodStanding(loanId);
        uint256 available = s.lockbox;
        if (amount > available) revert ILoanVault.LoanVaultExcessUnavailable(loanId, amount, available);
        s.lockbox = uint128(available - amount);
        emit ILoanVault.ExcessReleased(loanId, to, amount);

        payStaked(staked, usdai, address(this), allocation);
        usdai.safeTransfer(to, amount);
    }

    /// @notice See `ILoanVault.close`: refunds the lockbox and reserve and returns the receipts to the borrower.
    function executeClose(IERC20 usdai, IGpuReceipt receipts, uint256 loanId) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Repaid);
        address borrower = $.terms[loanId].borrower;
        uint256 refund = uint256(s.lockbox) + s.reserve;
        s.status = ILoanVault.LoanStatus.Closed;
        s.lockbox = 0;
        s.reserve = 0;
        uint256[] memory ids = LoanCollateral.load($, loanId, s.receiptCount);
        emit ILoanVault.LoanClosed(loanId, borrower, refund);

        if (refund != 0) usdai.safeTransfer(borrower, refund);
        LoanCollateral.send(receipts, ids, borrower);
    }

    // ================================================================ accrual and late fees

    /// @notice Accrues the loan's interest and charges the late fees that have come due. Returns the interest
    /// numerator's rounding move, for the caller's book change (`LoanAccounting.accrueInterest`).
    function accrue(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal returns (int256 rounding) {
        rounding = LoanAccounting.accrueInterest(s);
        (uint256 charged, uint256 lateBy) = latePayments(s, t);
        if (lateBy <= charged) return rounding;
        uint256 fee = lateFee(s, t, charged, lateBy);
        s.lateFeeIndex = uint16(lateBy);
        if (fee == 0) return rounding;
        s.lateFees = LoanAccounting.toUint96(uint256(s.lateFees) + fee);
        emit ILoanVault.LateFeeCharged(loanId, lateBy, fee);
    }

    /// @notice The last payment already settled or charged a late fee (`charged`), and the last payment past its grace
    /// period (`lateBy`): payments `charged + 1 ..= lateBy` are newly late.
    function latePayments(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256 charged, uint256 lateBy) {
        charged = uint256(s.lateFeeIndex).max(uint256(s.nextPaymentIndex) - 1);
        // A payment is late once `dueDate + grace < now`, i.e. its due date is at most `now - grace - 1` (grace is at
        // most a year, `MAX_GRACE_PERIOD_SECONDS`, so this cannot underflow).
        lateBy = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            s.schedulePayments,
            block.timestamp - t.gracePeriodSeconds - 1
        );
    }

    /// @notice The late fee on payments `charged + 1 ..= lateBy`: `latePenaltyBps` of each installment, i.e. of the
    /// scheduled principal it still owes plus one interval's interest on the outstanding principal at the contract
    /// coupon (reference rate + base premium), rounded up. Principal and the reference rate only change in calls that
    /// accrue first, and oracle steps move the premium, not the base premium, so the fee is the same whenever it is
    /// charged.
    function lateFee(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 charged,
        uint256 lateBy
    ) internal view returns (uint256) {
        uint256 principal = s.principal;
        uint256 principalPart =
            principalOwedThrough(s, t, principal, lateBy) - principalOwedThrough(s, t, principal, charged);
        uint256 contractCouponBps = LoanAccounting.couponBps(s.referenceRateBps, t.basePremiumBps);
        uint256 interestPart =
            LoanSchedule.interestNumerator(principal, contractCouponBps, t.paymentIntervalSeconds).divUp(
                INTEREST_DENOMINATOR
            ) * (lateBy - charged);
        return (principalPart + interestPart).mulDivUp(t.latePenaltyBps, BPS);
    }

    /// @notice Late fee that `accrue` would charge now.
    function pendingLateFee(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256) {
        (uint256 charged, uint256 lateBy) = latePayments(s, t);
        return lateBy <= charged ? 0 : lateFee(s, t, charged, lateBy);
    }

    // ================================================================ the schedule

    /// @notice Principal the schedule requires repaid by now and not yet repaid.
    function scheduledPrincipalDue(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256) {
        uint256 due = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            s.schedulePayments,
            block.timestamp
        );
        return principalOwedThrough(s, t, s.principal, due);
    }

    /// @notice Of `principal`, what the schedule requires repaid by payment `k`.
    function principalOwedThrough(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 principal,
        uint256 k
    ) internal view returns (uint256) {
        uint256 schedulePrincipal = s.schedulePrincipal;
        uint256 allowed =
            schedulePrincipal -
                LoanSchedule.cumulativePrincipalDue(
                    schedulePrincipal,
                    t.amortizationBps,
                    k,
                    s.schedulePayments
                );
        return principal.zeroFloorSub(allowed);
    }

    /// @notice Advances past every payment that has fallen due and whose scheduled principal is met. Interest and fees
    /// are paid up to now. Bounded by the number of payments.
    function settlePayments(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 principal
    ) internal {
        uint256 index = s.nextPaymentIndex;
        uint256 payments = s.schedulePayments;
        uint256 start = s.scheduleStart;
        uint256 interval = t.paymentIntervalSeconds;
        uint256 schedulePrincipal = s.schedulePrincipal;
        uint256 settled = index;
        while (
            settled <= payments &&
            start + settled * interval <= block.timestamp &&
            principal <=
                schedulePrincipal -
                    LoanSchedule.cumulativePrincipalDue(
                        schedulePrincipal,
                        t.amortizationBps,
                        settled,
                        payments
                    )
        ) ++settled;
        if (settled != index) {
            s.nextPaymentIndex = uint16(settled);
            emit ILoanVault.PaymentSettled(loanId, settled - 1);
        }
    }

    // ================================================================ allocation and the waterfall

    /// @notice Splits `cash` over late fees, interest and scheduled principal, in that order. The loan is accrued.
    function allocate(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 cash
    ) internal view returns (ILoanVault.Allocation memory a) {
        a.lateFees = cash.min(s.lateFees);
        cash -= a.lateFees;
        a.interest = cash.min(s.interest);
        cash -= a.interest;
        a.scheduledPrincipal = cash.min(scheduledPrincipalDue(s, t));
    }

    /// @notice Books an allocation: fees, interest and principal leave the loan and the books (in one change with the
    /// accrual's `rounding` that preceded it); settled payments advance; a loan with nothing left owed becomes Repaid; a
    /// breach is re-tested when principal fell.
    function applyAllocation(
        LoanStorage.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        ILoanVault.Allocation memory a,
        int256 rounding
    ) internal {
        uint256 lateFees = s.lateFees - a.lateFees;
        uint256 interest = s.interest - a.interest;
        uint256 paid = a.scheduledPrincipal + a.prepayment;
        uint256 principal = s.principal - paid;
        s.lateFees = uint96(lateFees);
        s.interest = uint96(interest);
        if (paid != 0) s.principal = uint96(principal);
        _book($, s, t, paid, rounding - int256(a.interest * INTEREST_DENOMINATOR));

        if (interest == 0 && lateFees == 0) {
            if (principal == 0) {
                uint256 payments = s.schedulePayments;
                s.status = ILoanVault.LoanStatus.Repaid;
                s.nextPaymentIndex = uint16(payments + 1);
                s.breachFlags = 0;
                s.cureDeadline = 0;
                emit ILoanVault.PaymentSettled(loanId, payments);
                return;
            }
            settlePayments(loanId, s, t, principal);
        }
        if (paid != 0 && s.breachFlags != 0) LoanCovenants.executeReevaluate(receipts, loanId);
    }

    /// @dev Books a payment: the accrual's rounding less the interest paid, and the principal `paid` out of the
    /// performing book and the exposures.
    function _book(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 paid,
        int256 interestDelta
    ) private {
        if (paid == 0) {
            LoanAccounting.applyChange($, true, 0, 0, interestDelta, 0, 0, address(0), bytes32(0));
        } else {
            int256 repaid = -int256(paid);
            int256 rateMove = -int256(paid * s.couponBps);
            LoanAccounting.applyChange(
                $,
                true,
                repaid,
                rateMove,
                interestDelta,
                0,
                repaid,
                t.borrower,
                t.site
            );
        }
    }

    /// @notice The waterfall: lockbox plus reserve pay late fees, interest and scheduled principal; the rest refills the
    /// reserve up to its target; the excess prepays principal while a covenant is breached (cash sweep), otherwise it
    /// stays in the lockbox, releasable.
    function runWaterfall(
        LoanStorage.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal returns (ILoanVault.Allocation memory a) {
        int256 rounding = accrue(loanId, s, t);
        uint256 cash = uint256(s.lockbox) + s.reserve;
        a = allocate(s, t, cash);
        cash -= a.lateFees + a.interest + a.scheduledPrincipal;
        uint256 principalLeft = s.principal - a.scheduledPrincipal;
        uint256 reserve = cash.min(principalLeft.mulDivUp(t.debtServiceReserveBps, BPS));
        uint256 excess = cash - reserve;
        bool cashSweep = s.breachFlags != 0 || s.oracleFlags != 0;
        if (cashSweep) {
            a.prepayment = excess.min(principalLeft);
            excess -= a.prepayment;
        }
        s.lockbox = uint128(excess);
        s.reserve = uint128(reserve);
        applyAllocation($, receipts, loanId, s, t, a, rounding);
        emit ILoanVault.Swept(
            loanId,
            a.lateFees + a.interest + a.scheduledPrincipal + a.prepayment,
            reserve,
            excess,
            cashSweep
        );
    }

    /// @notice Sends an allocation to sUSDai from `from` (the payer, or this vault for lockbox cash) and books it:
    /// interest and principal were in NAV (no jump), late fees were not (they vest as a gain).
    function payStaked(
        IStakedUSDai staked,
        IERC20 usdai,
        address from,
        ILoanVault.Allocation memory a
    ) internal {
        uint256 principal = a.scheduledPrincipal + a.prepayment;
        uint256 amount = principal + a.interest + a.lateFees;
        if (amount == 0) return;
        if (from == address(this)) usdai.safeTransfer(address(staked), amount);
        else usdai.safeTransferFrom(from, address(staked), amount);
        staked.receiveLoanCashflow(principal, a.interest, a.lateFees, 0);
    }
}

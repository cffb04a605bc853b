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
import {
    BREACH_NON_ACCRUAL,
    COVENANT_FLAGS,
    MAX_MATERIALITY_THRESHOLD,
    MIN_MATERIALITY_THRESHOLD
} from "./LoanConstants.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanPayments
/// @notice Money coming in: repayment, revenue into the lockbox, the waterfall (`sweep`), the release of excess, and
/// the close of a repaid loan; with the payment schedule and late fees they settle.
/// @dev The entry points are external (linked; DELEGATECALL on the vault's storage, called only from its nonReentrant
/// entry points). Repayment is linked too: it was the largest piece of the vault's bytecode, and the vault needs the
/// room more than repayment needs the 2,600 gas of a cold DELEGATECALL (see docs/architecture.md). A repayment that
/// lowers principal while a covenant is breached re-tests the covenants through the linked
/// `LoanCovenants.executeReevaluate`: a rare path. Events and errors are the vault's (`ILoanVault`).
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
    ) external returns (ILoanVault.Allocation memory allocation) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);

        int256 rounding = accrue($, loanId, s, t, true);
        Ahead memory ahead;
        {
            uint256 lateFees = s.lateFees;
            uint256 interest = s.interest;
            uint256 principal = s.principal;
            uint256 owed = lateFees + interest + principal;
            if (amount >= owed) {
                // A payoff: only the debt is taken.
                if (amount != type(uint256).max) _requireWithinQuote(loanId, s, t, amount, owed);
                allocation = allocate(s, t, owed, lateFees, interest, principal);
                allocation.prepayment = principal - allocation.scheduledPrincipal;
            } else {
                allocation = allocate(s, t, amount, lateFees, interest, principal);
                uint256 rest =
                    amount - allocation.lateFees - allocation.interest - allocation.scheduledPrincipal;
                if (rest != 0) ahead = _allocateBeyondDue(s, t, allocation, rest);
            }
        }
        bool interestInBooks = applyAllocation($, receipts, loanId, s, t, allocation, rounding, ahead);
        emit ILoanVault.Repaid(
            loanId,
            msg.sender,
            allocation.lateFees,
            allocation.interest,
            allocation.scheduledPrincipal,
            allocation.prepayment
        );

        // The payer's USDai goes straight to sUSDai, which books it.
        payStaked(staked, usdai, msg.sender, allocation, interestInBooks);
    }

    /// @notice See `ILoanVault.depositRevenue`.
    function executeDepositRevenue(IERC20 usdai, uint256 loanId, uint256 amount) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        ILoanVault.LoanStatus status = s.status;
        if (
            status != ILoanVault.LoanStatus.Active &&
            status != ILoanVault.LoanStatus.Repaid &&
            status != ILoanVault.LoanStatus.Defaulted
        ) revert ILoanVault.LoanVaultBadStatus(loanId, status);
        s.lockbox = LoanAccounting.toUint128(uint256(s.lockbox) + amount);
        // Cannot overflow: the amount has come from USDai balances, whose sum is a uint256.
        unchecked {
            $.revenueDeposited[loanId] += amount;
        }
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
        bool interestInBooks;
        (allocation, interestInBooks) = runWaterfall($, receipts, loanId, s, $.terms[loanId]);

        payStaked(staked, usdai, address(this), allocation, interestInBooks);
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
        bool interestInBooks;
        if (status == ILoanVault.LoanStatus.Active) {
            (allocation, interestInBooks) = runWaterfall($, receipts, loanId, s, t);
        } else if (status != ILoanVault.LoanStatus.Repaid)
            revert ILoanVault.LoanVaultBadStatus(loanId, status);
        if (!LoanCovenants.isInGoodStanding(s, t)) revert ILoanVault.LoanVaultNotInGoodStanding(loanId);
        uint256 available = s.lockbox;
        if (amount > available) revert ILoanVault.LoanVaultExcessUnavailable(loanId, amount, available);
        s.lockbox = uint128(available - amount);
        emit ILoanVault.ExcessReleased(loanId, to, amount);

        payStaked(staked, usdai, address(this), allocation, interestInBooks);
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
    /// A loan with a payment past its grace period goes into non-accrual here, unless `payment` (a repayment or the
    /// waterfall, which decide once the money is applied: `syncAccrual`).
    function accrue(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        bool payment
    ) internal returns (int256 rounding) {
        rounding = LoanAccounting.accrueInterest(s);
        bool accruing = LoanAccounting.isAccruing(s);
        // A loan in non-accrual keeps accruing in its own fields, not in the books.
        if (!accruing) rounding = 0;
        (uint256 charged, uint256 lateBy) = latePayments(s, t);
        if (lateBy <= charged) return rounding;
        uint256 fee = lateFee(s, t, charged, lateBy);
        s.lateFeeIndex = uint16(lateBy);
        if (fee != 0) {
            s.lateFees = LoanAccounting.toUint96(uint256(s.lateFees) + fee);
            emit ILoanVault.LateFeeCharged(loanId, lateBy, fee);
        }
        if (!accruing || payment) return rounding;
        _setNonAccrual($, loanId, s, true, rounding);
        return 0;
    }

    /// @notice After money was applied: a loan with a payment past its grace period and not settled goes into
    /// non-accrual, and a loan in non-accrual with none any more (the payment brought it current) returns to the books.
    /// `lateFeeIndex` is the last payment past grace (the accrual just charged it), so the test reads one slot.
    /// Returns the loan's breach flags as read (this moves only the non-accrual flag), for the caller's covenant test.
    function syncAccrual(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s
    ) internal returns (uint256 breachFlags) {
        breachFlags = s.breachFlags;
        bool late = s.lateFeeIndex >= s.nextPaymentIndex;
        bool accruing = breachFlags & BREACH_NON_ACCRUAL == 0;
        if (accruing != late) return breachFlags;
        // Back to the books at its principal and interest: its writedown (if it was marked past grace) goes too.
        if (!late && s.impairedValue != 0) LoanAccounting.setWritedown($, loanId, s, 0);
        _setNonAccrual($, loanId, s, late, 0);
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
        return scheduledPrincipalDue(s, t, s.principal);
    }

    /// @notice Of `principal` (the loan's, read by the caller), what the schedule requires repaid by now. Reads each of
    /// the schedule's fields once.
    function scheduledPrincipalDue(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 principal
    ) internal view returns (uint256) {
        uint256 payments = s.schedulePayments;
        uint256 due = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            payments,
            block.timestamp
        );
        return _owedThrough(s.schedulePrincipal, t.amortizationBps, payments, principal, due);
    }

    /// @notice Of `principal`, what the schedule requires repaid by payment `k`.
    function principalOwedThrough(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 principal,
        uint256 k
    ) internal view returns (uint256) {
        return _owedThrough(s.schedulePrincipal, t.amortizationBps, s.schedulePayments, principal, k);
    }

    /// @dev `principalOwedThrough` from the schedule's fields, for a caller that reads them once.
    function _owedThrough(
        uint256 schedulePrincipal,
        uint256 amortizationBps,
        uint256 payments,
        uint256 principal,
        uint256 k
    ) private pure returns (uint256) {
        uint256 allowed =
            schedulePrincipal -
                LoanSchedule.cumulativePrincipalDue(schedulePrincipal, amortizationBps, k, payments);
        return principal.zeroFloorSub(allowed);
    }

    /// @notice Advances past every installment that is settled: its scheduled principal is met and the interest up to
    /// its due date is paid (late fees and interest are paid up to now, or ahead). An installment short by no more than
    /// the materiality threshold is settled too (the shortfall stays owed), except the last, which settles only when
    /// the loan is repaid. At most one installment not yet due settles (the one interest was paid ahead for). Bounded
    /// by the number of payments.
    function settlePayments(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 principal
    ) internal {
        uint256 index = s.nextPaymentIndex;
        uint256 paidThrough = uint256(s.accruedAt).max(block.timestamp);
        uint256 payments = s.schedulePayments;
        uint256 schedulePrincipal = s.schedulePrincipal;
        uint256 amortizationBps = t.amortizationBps;
        uint256 interval = t.paymentIntervalSeconds;
        uint256 settled = index;
        // The due date of installment `settled`, moved on by one interval per installment settled.
        uint256 dueAt = s.scheduleStart + settled * interval;
        while (settled <= payments) {
            uint256 shortfall;
            if (dueAt > paidThrough) {
                // Not due and not paid up to its due date. Only the first unsettled installment, with interest paid ahead
                // short of its due date (by rounding), can still settle: the gap is a shortfall.
                if (settled != index || paidThrough == block.timestamp) break;
                shortfall = LoanSchedule.interestNumerator(principal, s.couponBps, dueAt - paidThrough).divUp(
                    INTEREST_DENOMINATOR
                );
            }
            shortfall += _owedThrough(schedulePrincipal, amortizationBps, payments, principal, settled);
            // The last installment settles only in full; another settles short by an immaterial amount.
            if (shortfall != 0 && (settled == payments || !isImmaterial($, shortfall))) break;
            ++settled;
            dueAt += interval;
        }
        if (settled != index) {
            s.nextPaymentIndex = uint16(settled);
            emit ILoanVault.PaymentSettled(loanId, settled - 1);
        }
    }

    // ================================================================ default dates

    /// @notice Timestamp from which the first unsettled payment of an Active loan allows default. An Active loan always
    /// has one: the payment that settles the last installment repays the loan.
    function paymentDefaultAt(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256) {
        return
            s.scheduleStart +
            uint256(s.nextPaymentIndex) * t.paymentIntervalSeconds +
            t.gracePeriodSeconds +
            t.defaultWindowSeconds +
            1;
    }

    /// @notice The earlier of a payment default date and the second after a cure deadline (0: no cure running).
    function earliestDefault(uint256 paymentAt, uint256 cureDeadline) internal pure returns (uint256) {
        return cureDeadline == 0 ? paymentAt : paymentAt.min(cureDeadline + 1);
    }

    // ================================================================ allocation and the waterfall

    /// @notice Splits `cash` over late fees, interest and scheduled principal, in that order. The loan is accrued, and
    /// `lateFees`, `interest` and `principal` are its fields (read once by the caller).
    function allocate(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 cash,
        uint256 lateFees,
        uint256 interest,
        uint256 principal
    ) internal view returns (ILoanVault.Allocation memory a) {
        a.lateFees = cash.min(lateFees);
        cash -= a.lateFees;
        a.interest = cash.min(interest);
        cash -= a.interest;
        a.scheduledPrincipal = cash.min(scheduledPrincipalDue(s, t, principal));
    }

    /// @notice Whether `amount` is dust: at most the threshold in force (`materialityThreshold`). An amount above
    /// `MAX_MATERIALITY_THRESHOLD` is material without reading the setting.
    function isImmaterial(
        LoanStorage.LoanVaultStorage storage $,
        uint256 amount
    ) internal view returns (bool) {
        return
            amount <= MIN_MATERIALITY_THRESHOLD ||
            (amount <= MAX_MATERIALITY_THRESHOLD && amount <= $.materialityThreshold);
    }

    /// @notice The materiality threshold in force: the risk setting, never below `MIN_MATERIALITY_THRESHOLD`.
    function materialityThreshold(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return uint256($.materialityThreshold).max(MIN_MATERIALITY_THRESHOLD);
    }

    /// @dev A payment above the debt `owed` is accepted as paying as quoted (the quote of a last installment paid early)
    /// up to the interest to the next due date above the debt; more is refused.
    function _requireWithinQuote(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 amount,
        uint256 owed
    ) private view {
        // The quote charges the interest to the due date on the whole principal (a dust shortfall left by an earlier
        // installment included), so the tolerance does too.
        uint256 tolerance = interestAhead(s, t, 0, type(uint256).max).interest;
        if (amount - owed > tolerance)
            revert ILoanVault.LoanVaultOverpayment(loanId, amount, owed + tolerance);
    }

    /// @dev Allocates `rest`, paid beyond what is due: interest up to the next due date (interest paid early is
    /// interest), then that installment's principal, then prepayment. Returns the interest paid ahead.
    function _allocateBeyondDue(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        ILoanVault.Allocation memory allocation,
        uint256 rest
    ) private view returns (Ahead memory ahead) {
        ahead = interestAhead(s, t, allocation.scheduledPrincipal, rest);
        rest -= ahead.interest;
        allocation.interest += ahead.interest;
        uint256 upcoming = rest.min(ahead.upcomingPrincipal);
        allocation.scheduledPrincipal += upcoming;
        allocation.prepayment = rest - upcoming;
    }

    /// @notice Interest paid ahead and the next installment's principal, for a payment beyond what is due.
    /// @param interest interest from `accruedAt` up to the next due date, on the principal left after the principal due
    /// (all of it, or the part the payment covers, rounded so it is never more than paid).
    /// @param upcomingPrincipal principal above the schedule at the next installment, after the principal due.
    /// @param accruedAt how far the interest is paid (the next due date when paid in full); 0: unchanged.
    struct Ahead {
        uint256 interest;
        uint256 upcomingPrincipal;
        uint256 accruedAt;
    }

    /// @notice The interest a payment of `rest` beyond what is due pays ahead, when the first unsettled installment is
    /// not yet due: up to its due date. Nothing for a loan in non-accrual (the rest prepays principal), for a due
    /// installment, or past the schedule.
    function interestAhead(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 scheduledDue,
        uint256 rest
    ) internal view returns (Ahead memory a) {
        // An Active loan's first unsettled installment exists: the one that settles the last repays the loan.
        uint256 next = s.nextPaymentIndex;
        uint256 dueAt = s.scheduleStart + next * t.paymentIntervalSeconds;
        // A payment on or after the due date pays that installment; what it pays beyond is a prepayment. (Tested before
        // the accrual flag: a payment on the due date, the common case, then reads one slot less.)
        if (dueAt <= block.timestamp || !LoanAccounting.isAccruing(s)) return a;
        uint256 principal = s.principal - scheduledDue;
        a.upcomingPrincipal = principalOwedThrough(s, t, principal, next);
        uint256 from = s.accruedAt;
        if (dueAt <= from) return a;
        uint256 rate = principal * s.couponBps;
        uint256 full = (rate * (dueAt - from)).divUp(INTEREST_DENOMINATOR);
        if (rest >= full) {
            a.interest = full;
            a.accruedAt = dueAt;
        } else {
            uint256 secondsPaid = (rest * INTEREST_DENOMINATOR) / rate;
            a.interest = (rate * secondsPaid).divUp(INTEREST_DENOMINATOR);
            a.accruedAt = from + secondsPaid;
        }
    }

    /// @notice Books an allocation: fees, interest (to now, and `ahead`) and principal leave the loan and the books (in
    /// one change with the accrual's `rounding` that preceded it); settled payments advance; a loan with nothing left
    /// owed becomes Repaid; a loan current again leaves non-accrual; a breach is re-tested when principal fell. Returns
    /// whether the interest paid was in the books (not for a loan in non-accrual: its interest is a gain).
    function applyAllocation(
        LoanStorage.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        ILoanVault.Allocation memory a,
        int256 rounding,
        Ahead memory ahead
    ) internal returns (bool interestInBooks) {
        uint256 lateFees = s.lateFees - a.lateFees;
        uint256 interest = s.interest + ahead.interest - a.interest;
        uint256 paid = a.scheduledPrincipal + a.prepayment;
        uint256 principal = s.principal - paid;
        if (a.lateFees != 0) s.lateFees = uint96(lateFees);
        interestInBooks = LoanAccounting.isAccruing(s);
        int256 interestDelta;
        if (interestInBooks)
            interestDelta =
                rounding +
                _aheadMove(s, principal, ahead) +
                int256(ahead.interest * INTEREST_DENOMINATOR) -
                int256(a.interest * INTEREST_DENOMINATOR);
        // Interest and principal share a slot: written together, one slot write.
        s.interest = uint96(interest);
        s.principal = uint96(principal);
        _book($, t, paid, interestInBooks ? int256(paid * s.couponBps) : int256(0), interestDelta);
        // A loan in non-accrual stays written down by as much (money from its own cash lowered its recovery by what it
        // paid), but never below zero.
        if (!interestInBooks && s.impairedValue > principal)
            LoanAccounting.setWritedown($, loanId, s, principal);

        if (interest == 0 && lateFees == 0) {
            if (principal == 0) {
                uint256 payments = s.schedulePayments;
                s.status = ILoanVault.LoanStatus.Repaid;
                s.nextPaymentIndex = uint16(payments + 1);
                s.breachFlags = 0;
                s.cureDeadline = 0;
                emit ILoanVault.PaymentSettled(loanId, payments);
                return interestInBooks;
            }
            settlePayments($, loanId, s, t, principal);
        }
        uint256 breachFlags = syncAccrual($, loanId, s);
        if (paid != 0 && breachFlags & COVENANT_FLAGS != 0) LoanCovenants.executeReevaluate(receipts, loanId);
    }

    /// @dev For a loan paid ahead (before or by this payment), the move of its unearned interest as its principal goes to
    /// `principal` and its `accruedAt` to `ahead.accruedAt` (if set), which this writes.
    function _aheadMove(
        ILoanVault.LoanState storage s,
        uint256 principal,
        Ahead memory ahead
    ) private returns (int256 move) {
        uint256 accruedAt = s.accruedAt;
        if (accruedAt <= block.timestamp && ahead.accruedAt == 0) return 0;
        uint256 couponBps = s.couponBps;
        uint256 accruedAfter = ahead.accruedAt == 0 ? accruedAt : ahead.accruedAt;
        move =
            LoanAccounting.unearned(s.principal, couponBps, accruedAt) -
            LoanAccounting.unearned(principal, couponBps, accruedAfter);
        s.accruedAt = uint32(accruedAfter);
    }

    /// @dev Books a payment: `interestDelta` (the accrual's rounding less the interest paid, and any unearned move), and
    /// the principal `paid` out of the performing book (with its rate `rateOut`, zero for a loan in non-accrual) and out
    /// of the exposures.
    function _book(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanTerms storage t,
        uint256 paid,
        int256 rateOut,
        int256 interestDelta
    ) private {
        if (paid == 0) {
            LoanAccounting.applyChange($, true, 0, 0, interestDelta, 0, 0, address(0), bytes32(0));
        } else {
            int256 repaid = -int256(paid);
            LoanAccounting.applyChange(
                $,
                true,
                repaid,
                -rateOut,
                interestDelta,
                0,
                repaid,
                t.borrower,
                t.site
            );
        }
    }

    /// @dev The loan goes into non-accrual (`on`): its rate leaves the aggregate and its unpaid interest is reversed out of
    /// NAV (with the accrual's pending `rounding`), so no lender exits at a price that counts interest nobody is paying.
    /// A loan late on a payment has no interest paid ahead (that would have settled the payment). Or it leaves
    /// non-accrual (`rounding` zero): its rate joins the aggregate and its unpaid interest is in NAV again.
    function _setNonAccrual(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        bool on,
        int256 rounding
    ) private {
        int256 rate = int256(uint256(s.principal) * s.couponBps);
        int256 interest = int256(uint256(s.interest) * INTEREST_DENOMINATOR);
        if (on) {
            s.breachFlags |= BREACH_NON_ACCRUAL;
            rate = -rate;
            interest = -interest;
        } else s.breachFlags &= ~BREACH_NON_ACCRUAL;
        LoanAccounting.applyChange($, true, 0, rate, rounding + interest, 0, 0, address(0), bytes32(0));
        emit ILoanVault.NonAccrualSet(loanId, on);
    }

    /// @notice The waterfall: lockbox plus reserve pay late fees, interest and scheduled principal; the rest refills the
    /// reserve up to its target; the excess prepays principal while a covenant is breached or the loan is in non-accrual
    /// (cash sweep), otherwise it stays in the lockbox, releasable. Under a cash sweep the reserve target is taken on the
    /// principal left after the prepayment. Returns the allocation and whether its interest was in the books.
    function runWaterfall(
        LoanStorage.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal returns (ILoanVault.Allocation memory a, bool interestInBooks) {
        int256 rounding = accrue($, loanId, s, t, true);
        uint256 cash = uint256(s.lockbox) + s.reserve;
        uint256 principalLeft = s.principal;
        a = allocate(s, t, cash, s.lateFees, s.interest, principalLeft);
        cash -= a.lateFees + a.interest + a.scheduledPrincipal;
        principalLeft -= a.scheduledPrincipal;
        uint256 reserveBps = t.debtServiceReserveBps;
        bool cashSweep = s.breachFlags != 0 || s.oracleFlags != 0;
        if (cashSweep) a.prepayment = sweepPrepayment(cash, principalLeft, reserveBps);
        cash -= a.prepayment;
        uint256 reserve = cash.min((principalLeft - a.prepayment).mulDivUp(reserveBps, BPS));
        uint256 excess = cash - reserve;
        s.lockbox = uint128(excess);
        s.reserve = uint128(reserve);
        Ahead memory none;
        interestInBooks = applyAllocation($, receipts, loanId, s, t, a, rounding, none);
        emit ILoanVault.Swept(
            loanId,
            a.lateFees + a.interest + a.scheduledPrincipal + a.prepayment,
            reserve,
            excess,
            cashSweep
        );
    }

    /// @notice Under a cash sweep, the largest prepayment `x` of `cash` such that the reserve target on the principal
    /// left after it, `ceil((principal - x) x reserveBps / BPS)`, is still funded: `x + target(principal - x) <= cash`.
    function sweepPrepayment(
        uint256 cash,
        uint256 principal,
        uint256 reserveBps
    ) internal pure returns (uint256) {
        if (cash >= principal) return principal;
        if (reserveBps >= BPS) return 0;
        // x (BPS - bps) <= cash x BPS - principal x bps, rounded down. The target's rounding up can ask for a wei more
        // than is left; the caller's reserve is the lesser of what is left and the target.
        uint256 held = principal * reserveBps;
        uint256 budget = cash * BPS;
        if (budget <= held) return 0;
        return (budget - held) / (BPS - reserveBps);
    }

    /// @notice Sends an allocation to sUSDai from `from` (the payer, or this vault for lockbox cash) and books it:
    /// interest and principal were in NAV (no jump), late fees were not (they vest as a gain), and neither was the
    /// interest of a loan in non-accrual (`interestInBooks` false: a gain too).
    function payStaked(
        IStakedUSDai staked,
        IERC20 usdai,
        address from,
        ILoanVault.Allocation memory a,
        bool interestInBooks
    ) internal {
        uint256 principal = a.scheduledPrincipal + a.prepayment;
        uint256 amount = principal + a.interest + a.lateFees;
        if (amount == 0) return;
        if (from == address(this)) usdai.safeTransfer(address(staked), amount);
        else usdai.safeTransferFrom(from, address(staked), amount);
        if (interestInBooks) staked.receiveLoanCashflow(principal, a.interest, a.lateFees, 0);
        else staked.receiveLoanCashflow(principal, 0, a.interest + a.lateFees, 0);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanVaultLayout} from "../LoanVaultLayout.sol";

/// @dev Highest reference rate a loan may carry, fixed or read from a feed (50%).
uint256 constant MAX_REFERENCE_RATE_BPS = 5_000;

/// @dev Vault covenant flags.
uint8 constant BREACH_LTV = 1 << 0;
uint8 constant BREACH_TOP_UP = 1 << 1;

/// @dev Most receipts one loan may pledge.
uint256 constant MAX_RECEIPTS_PER_LOAN = 64;

/// @dev Receipt ids are packed four to a slot.
uint256 constant RECEIPT_ID_BITS = 64;
uint256 constant RECEIPT_ID_MASK = (1 << RECEIPT_ID_BITS) - 1;

// keccak256(abi.encode(uint256(keccak256("gpucredit.storage.LoanVault")) - 1)) & ~bytes32(uint256(0xff))
bytes32 constant LOAN_VAULT_STORAGE_LOCATION =
    0x7132b94879d76e7592ea43c7b544c0add2fe360152c76ed16c0b63ad2a6ce000;

/// @title LoanLedger
/// @notice The LoanVault's storage and the bookkeeping shared by the vault and its recovery library: interest
/// accrual against the O(1) aggregates, the payment schedule and late fees, covenants, and the packed receipt list.
/// @dev Internal functions only: they are compiled into each caller and run on the LoanVault's storage.
library LoanLedger {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;

    function getStorage() internal pure returns (LoanVaultLayout.LoanVaultStorage storage $) {
        assembly {
            $.slot := LOAN_VAULT_STORAGE_LOCATION
        }
    }

    /// @dev Rolls the aggregate interest numerator forward to now.
    function checkpointAggregates(
        LoanVaultLayout.LoanVaultStorage storage $
    ) internal returns (LoanVaultLayout.Aggregates storage agg) {
        agg = $.aggregates;
        uint256 last = agg.checkpointAt;
        if (last != block.timestamp) {
            agg.interestNumerator += uint216(uint256(agg.rateSum) * (block.timestamp - last));
            agg.checkpointAt = uint40(block.timestamp);
        }
    }

    /// @dev Books the loan's interest since `accruedAt` (rounded up) and moves the aggregate numerator from the exact
    /// figure to the booked one, so the aggregate stays the sum over loans. Rolls the aggregates forward too, with
    /// one write of the numerator's slot for both moves.
    function checkpointLoan(
        LoanVaultLayout.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s
    ) internal {
        uint256 last = s.accruedAt;
        if (last == block.timestamp) {
            checkpointAggregates($);
            return;
        }
        LoanVaultLayout.Aggregates storage agg = $.aggregates;
        uint256 exact = LoanSchedule.interestNumerator(s.principal, s.couponBps, block.timestamp - last);
        uint256 booked = exact.divUp(INTEREST_DENOMINATOR);
        uint96 interest = toUint96(uint256(s.interest) + booked);
        // The aggregate gains its rate over the time since its checkpoint, then the loan's rounding (booked - exact).
        uint216 numerator =
            agg.interestNumerator +
                uint216(uint256(agg.rateSum) * (block.timestamp - agg.checkpointAt)) +
                uint216(booked * INTEREST_DENOMINATOR) -
                uint216(exact);
        s.interest = interest;
        s.accruedAt = uint32(block.timestamp);
        agg.interestNumerator = numerator;
        agg.checkpointAt = uint40(block.timestamp);
    }

    /// @dev Checkpoints the loan and charges the late fees that have come due.
    function accrue(
        LoanVaultLayout.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal {
        checkpointLoan($, s);
        (uint256 charged, uint256 lateBy) = latePayments(s, t);
        if (lateBy <= charged) return;
        uint256 fee = lateFee(s, t, charged, lateBy);
        s.lateFeeIndex = uint16(lateBy);
        if (fee == 0) return;
        s.lateFees = toUint96(uint256(s.lateFees) + fee);
        emit ILoanVault.LateFeeCharged(loanId, lateBy, fee);
    }

    /// @dev Moves the loan's coupon and the aggregate rate with it. The loan must be checkpointed.
    function setCoupon(
        LoanVaultLayout.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 couponBps
    ) internal returns (uint256) {
        LoanVaultLayout.Aggregates storage agg = $.aggregates;
        uint256 principal = s.principal;
        agg.rateSum = toUint128(agg.rateSum - principal * s.couponBps + principal * couponBps);
        s.couponBps = uint16(couponBps);
        return couponBps;
    }

    /// @dev Interest accrued up to now (booked plus pending, rounded up).
    function interestNow(ILoanVault.LoanState storage s) internal view returns (uint256) {
        uint256 elapsed = block.timestamp - s.accruedAt;
        return
            s.interest +
            LoanSchedule.interestNumerator(s.principal, s.couponBps, elapsed).divUp(INTEREST_DENOMINATOR);
    }

    /// @dev The last payment already settled or charged a late fee (`charged`), and the last payment past its grace
    /// period (`lateBy`): payments `charged + 1 ..= lateBy` are newly late.
    function latePayments(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256 charged, uint256 lateBy) {
        charged = uint256(s.lateFeeIndex).max(uint256(s.nextPaymentIndex) - 1);
        // A payment is late once `dueDate + grace < now`, i.e. its due date is at most `now - grace - 1` (grace is at
        // most a year, `LoanLens.MAX_GRACE_PERIOD_SECONDS`, so this cannot underflow).
        lateBy = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            s.schedulePayments,
            block.timestamp - t.gracePeriodSeconds - 1
        );
    }

    /// @dev The late fee on payments `charged + 1 ..= lateBy`: `latePenaltyBps` of each installment, i.e. of the
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
        uint256 contractCouponBps = uint256(s.referenceRateBps) + t.basePremiumBps;
        uint256 interestPart =
            LoanSchedule.interestNumerator(principal, contractCouponBps, t.paymentIntervalSeconds).divUp(
                INTEREST_DENOMINATOR
            ) * (lateBy - charged);
        return (principalPart + interestPart).mulDivUp(t.latePenaltyBps, BPS);
    }

    /// @dev Late fee that `accrue` would charge now.
    function pendingLateFee(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (uint256) {
        (uint256 charged, uint256 lateBy) = latePayments(s, t);
        return lateBy <= charged ? 0 : lateFee(s, t, charged, lateBy);
    }

    /// @dev Principal the schedule requires repaid by now and not yet repaid.
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

    /// @dev Of `principal`, what the schedule requires repaid by payment `k`.
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

    /// @dev Timestamp from which the first unsettled payment of an Active loan allows default. An Active loan always
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

    /// @dev The earlier of a payment default date and the second after a cure deadline (0: no cure running).
    function earliestDefault(uint256 paymentAt, uint256 cureDeadline) internal pure returns (uint256) {
        return cureDeadline == 0 ? paymentAt : paymentAt.min(cureDeadline + 1);
    }

    /// @dev Active or repaid, no covenant flag, and no payment past its grace period.
    function inGoodStanding(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal view returns (bool) {
        if (s.breachFlags != 0 || s.oracleFlags != 0) return false;
        uint256 index = s.nextPaymentIndex;
        if (index > s.schedulePayments) return true;
        return block.timestamp <= s.scheduleStart + index * t.paymentIntervalSeconds + t.gracePeriodSeconds;
    }

    /// @dev Re-tests the LTV flags against `collateral`: the maintenance breach sets or clears on maintenance LTV, a
    /// required top-up clears once the LTV is back within the origination LTV. A new breach starts the cure period;
    /// the deadline clears with the last flag.
    function evaluateCovenants(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 collateral
    ) internal returns (uint256 flags) {
        uint256 before = s.breachFlags;
        uint256 debt = uint256(s.principal) + s.interest + s.lateFees;
        flags = before;
        if (debt > collateral.mulDivDown(t.maintenanceLtvBps, BPS)) flags |= BREACH_LTV;
        else flags &= ~uint256(BREACH_LTV);
        if (debt <= collateral.mulDivDown(t.maxLtvBps, BPS)) flags &= ~uint256(BREACH_TOP_UP);
        if (flags == before) return flags;
        uint256 cureDeadline = s.cureDeadline;
        if (flags == 0) cureDeadline = 0;
        else if (cureDeadline == 0) cureDeadline = block.timestamp + t.curePeriodSeconds;
        s.breachFlags = uint8(flags);
        s.cureDeadline = uint40(cureDeadline);
        emit ILoanVault.BreachFlagsSet(loanId, flags, cureDeadline);
    }

    /// @dev Depreciated collateral value of the first `count` receipts of `loanId`.
    function collateralValue(
        LoanVaultLayout.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        uint256 count
    ) internal view returns (uint256 value) {
        uint256 packed;
        for (uint256 i; i < count; ++i) {
            if ((i & 3) == 0) packed = $.receiptSlots[loanId][i >> 2];
            value += receipts.collateralValue((packed >> ((i & 3) * RECEIPT_ID_BITS)) & RECEIPT_ID_MASK);
        }
    }

    /// @dev Checks a pledge (count, site, value, id width) and returns its collateral value.
    function pledgeValue(
        IGpuReceipt receipts,
        bytes32 site,
        uint256[] calldata ids,
        uint256 existing
    ) internal view returns (uint256 value) {
        uint256 n = ids.length;
        if (n == 0 || existing + n > MAX_RECEIPTS_PER_LOAN) {
            revert ILoanVault.LoanVaultReceiptCount(existing + n, MAX_RECEIPTS_PER_LOAN);
        }
        for (uint256 i; i < n; ++i) {
            uint256 id = ids[i];
            if (id > RECEIPT_ID_MASK) revert ILoanVault.LoanVaultReceiptIdTooLarge(id);
            bytes32 receiptSite = receipts.siteOf(id);
            if (receiptSite != site) revert ILoanVault.LoanVaultWrongSite(id, receiptSite, site);
            uint256 receiptValue = receipts.collateralValue(id);
            if (receiptValue == 0) revert ILoanVault.LoanVaultWorthlessReceipt(id);
            value += receiptValue;
        }
    }

    /// @dev Appends `ids` after the first `count` receipts of `loanId`, four to a slot, one write per slot.
    function storeReceipts(
        LoanVaultLayout.LoanVaultStorage storage $,
        uint256 loanId,
        uint256 count,
        uint256[] calldata ids
    ) internal {
        mapping(uint256 => uint256) storage slots = $.receiptSlots[loanId];
        uint256 n = ids.length;
        uint256 packed = (count & 3) == 0 ? 0 : slots[count >> 2];
        for (uint256 i; i < n; ++i) {
            uint256 position = count + i;
            packed |= ids[i] << ((position & 3) * RECEIPT_ID_BITS);
            if ((position & 3) == 3 || i == n - 1) {
                slots[position >> 2] = packed;
                packed = 0;
            }
        }
    }

    /// @dev Escrows receipts from `from`. A plain `transferFrom`: the vault is the receiver and needs no callback.
    function pullReceipts(IGpuReceipt receipts, address from, uint256[] calldata ids) internal {
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            IERC721(address(receipts)).transferFrom(from, address(this), ids[i]);
        }
    }

    /// @dev The first `count` receipt ids of `loanId`.
    function receiptIds(
        LoanVaultLayout.LoanVaultStorage storage $,
        uint256 loanId,
        uint256 count
    ) internal view returns (uint256[] memory ids) {
        ids = new uint256[](count);
        uint256 packed;
        for (uint256 i; i < count; ++i) {
            if ((i & 3) == 0) packed = $.receiptSlots[loanId][i >> 2];
            ids[i] = (packed >> ((i & 3) * RECEIPT_ID_BITS)) & RECEIPT_ID_MASK;
        }
    }

    function requireStatus(
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanStatus expected
    ) internal view {
        ILoanVault.LoanStatus status = s.status;
        if (status != expected) revert ILoanVault.LoanVaultBadStatus(loanId, status);
    }

    function toUint128(uint256 value) internal pure returns (uint128) {
        if (value > type(uint128).max) revert ILoanVault.LoanVaultAmountOverflow(value);
        return uint128(value);
    }

    function toUint96(uint256 value) internal pure returns (uint96) {
        if (value > type(uint96).max) revert ILoanVault.LoanVaultAmountOverflow(value);
        return uint96(value);
    }

    /// @dev Splits `cash` over late fees, interest and scheduled principal, in that order. The loan is accrued.
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

    /// @dev Books an allocation: fees, interest and principal leave the loan and the aggregates; settled payments
    /// advance; a loan with nothing left owed becomes Repaid; a breach is re-tested when principal fell.
    function applyAllocation(
        LoanVaultLayout.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        ILoanVault.Allocation memory a
    ) internal {
        uint256 lateFees = s.lateFees - a.lateFees;
        uint256 interest = s.interest - a.interest;
        uint256 paid = a.scheduledPrincipal + a.prepayment;
        uint256 principal = s.principal - paid;
        s.lateFees = uint96(lateFees);
        s.interest = uint96(interest);
        LoanVaultLayout.Aggregates storage agg = $.aggregates;
        if (a.interest != 0) agg.interestNumerator -= uint216(a.interest * INTEREST_DENOMINATOR);
        if (paid != 0) {
            s.principal = uint96(principal);
            agg.totalPrincipal -= uint128(paid);
            agg.rateSum -= uint128(paid * s.couponBps);
            $.borrowerPrincipal[t.borrower] -= paid;
            $.sitePrincipal[t.site] -= paid;
        }

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
        if (paid != 0 && s.breachFlags != 0) {
            evaluateCovenants(loanId, s, t, collateralValue($, receipts, loanId, s.receiptCount));
        }
    }

    /// @dev Advances past every payment that has fallen due and whose scheduled principal is met. Interest and fees
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

    /// @dev The waterfall: lockbox plus reserve pay late fees, interest and scheduled principal; the rest refills the
    /// reserve up to its target; the excess prepays principal while a covenant is breached (cash sweep), otherwise it
    /// stays in the lockbox, releasable.
    function sweep(
        LoanVaultLayout.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t
    ) internal returns (ILoanVault.Allocation memory a) {
        accrue($, loanId, s, t);
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
        applyAllocation($, receipts, loanId, s, t, a);
        emit ILoanVault.Swept(
            loanId,
            a.lateFees + a.interest + a.scheduledPrincipal + a.prepayment,
            reserve,
            excess,
            cashSweep
        );
    }

    /// @dev Sends an allocation to sUSDai from `from` (the payer, or this vault for lockbox cash) and books it: interest
    /// and principal were in NAV (no jump), late fees were not (they vest as a gain).
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

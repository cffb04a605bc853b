// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ICollateralAuction} from "../../interfaces/ICollateralAuction.sol";
import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanPayments} from "./LoanPayments.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanRecovery
/// @notice What happens when a loan fails: default with impairment, liquidation into a Dutch auction, the auction's
/// settlement, and step-in by a replacement operator.
/// @dev `executeSettlement` is internal (inlined in the vault: it is on every auction buyer's path, where a library
/// call would add a cold DELEGATECALL); `executeDeclareDefault`, `executeLiquidate` and `executeStepIn` are external
/// (linked; DELEGATECALL on the vault's storage, called only from its nonReentrant, role-checked entry points).
/// Events and errors are the vault's.
library LoanRecovery {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;

    // ================================================================ entry points

    /// @notice See `ILoanVault.declareDefault`.
    function executeDeclareDefault(IGpuReceipt receipts, uint256 loanId) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        int256 rounding = LoanPayments.accrue(loanId, s, t);
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, s.receiptCount);
        uint256 paymentAt = paymentDefaultAt(s, t);
        if (block.timestamp < paymentAt) {
            // A lapsed cure counts only if the breach still stands today.
            LoanCovenants.evaluate(loanId, s, t, collateral);
            uint256 cureDeadline = s.cureDeadline;
            if (cureDeadline == 0 || block.timestamp <= cureDeadline) {
                revert ILoanVault.LoanVaultNotDefaultable(loanId, earliestDefault(paymentAt, cureDeadline));
            }
        }

        uint256 principal = s.principal;
        uint256 interest = s.interest;
        uint256 debt = principal + interest;
        uint256 recovery =
            collateral.mulDivDown(BPS - $.risk.recoveryHaircutBps, BPS) + s.lockbox + s.reserve;
        uint256 impairedValue = recovery.min(debt);
        // Out of the performing book, into the impaired total: NAV takes the impairment now. The exposures stay.
        LoanAccounting.applyChange(
            $,
            true,
            -int256(principal),
            -int256(principal * s.couponBps),
            rounding - int256(interest * INTEREST_DENOMINATOR),
            int256(impairedValue),
            0,
            address(0),
            bytes32(0)
        );
        s.impairedValue = uint96(impairedValue);
        s.status = ILoanVault.LoanStatus.Defaulted;
        emit ILoanVault.LoanDefaulted(loanId, debt, impairedValue);
    }

    /// @notice See `ILoanVault.liquidate`.
    function executeLiquidate(IGpuReceipt receipts, uint256 loanId) external returns (uint256 auctionId) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);
        ICollateralAuction auction = $.auction;
        if (address(auction) == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        uint256 count = s.receiptCount;
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, count);
        s.status = ILoanVault.LoanStatus.Liquidating;

        uint256[] memory ids = LoanCollateral.load($, loanId, count);
        LoanCollateral.move(receipts, ids, address(auction));
        auctionId = auction.start(loanId, ids, collateral);
        emit ILoanVault.LoanLiquidated(loanId, auctionId, collateral);
    }

    /// @notice See `ILoanVault.stepIn`; the vault has checked the caller and `newBorrower`. The replacement operator
    /// takes on the debt on a fresh schedule over the payments that remain (at least one), starting now.
    function executeStepIn(uint256 loanId, address newBorrower) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);

        address previous = t.borrower;
        uint256 principal = s.principal;
        uint256 elapsed = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            s.schedulePayments,
            block.timestamp
        );
        uint256 remaining = uint256(s.schedulePayments) - elapsed;
        t.borrower = newBorrower;
        s.status = ILoanVault.LoanStatus.Active;
        s.accruedAt = uint32(block.timestamp);
        s.nextPaymentIndex = 1;
        s.lateFeeIndex = 0;
        s.breachFlags = 0;
        s.cureDeadline = 0;
        s.schedulePrincipal = uint96(principal);
        s.scheduleStart = uint40(block.timestamp);
        s.schedulePayments = uint16(remaining == 0 ? 1 : remaining);
        // Back into the performing book at its debt; the exposure moves from the old operator to the new one (a
        // novation is two changes: one per borrower).
        _bookNovation($, s, previous, newBorrower);
        s.impairedValue = 0;
        emit ILoanVault.SteppedIn(loanId, previous, newBorrower);
    }

    /// @notice See `ILoanVault.onAuctionSettled`; the vault has checked that the caller is its auction. The recovery
    /// (proceeds plus lockbox and reserve) repays the debt, then the late fees; the rest is the borrower's surplus, and
    /// what the recovery does not cover is a realized loss for sUSDai.
    /// @dev The loan's dead state is cleared to zero where a whole slot allows it (the accrual slot and the schedule
    /// slot), and the storage refunds pay for part of the settlement. Status, the receipt list and the oracle's fields
    /// stay, so the lot and the loan's history can still be read. NAV holds the loan at its `impairedValue`: that much
    /// of the recovery is booked at once; anything above it is a gain and vests, so nobody can buy sUSDai just before a
    /// good sale and take it. A liquidated loan owes something (a loan owing nothing is Repaid), so
    /// `repaid + loss = debt > 0` and sUSDai's hook always has an amount to book.
    function executeSettlement(
        IStakedUSDai staked,
        IERC20 usdai,
        uint256 loanId,
        uint256 proceeds,
        address buyer
    ) internal returns (uint256[] memory receiptIds) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Liquidating);
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        address borrower = t.borrower;
        if (buyer == borrower) revert ILoanVault.LoanVaultBuyerIsBorrower(loanId, buyer);

        uint256 principal = s.principal;
        uint256 debt = principal + s.interest;
        uint256 impairedValue = s.impairedValue;
        uint256 held = uint256(s.lockbox) + s.reserve;
        uint256 recovered = proceeds + held;
        uint256 repaid = recovered.min(debt);
        uint256 fees = (recovered - repaid).min(s.lateFees);
        uint256 surplus = recovered - repaid - fees;
        uint256 loss = debt - repaid;
        uint256 booked = repaid.min(impairedValue);
        uint256 gain = repaid - booked + fees;

        LoanAccounting.applyChange(
            $,
            false,
            0,
            0,
            0,
            -int256(impairedValue),
            -int256(principal),
            borrower,
            t.site
        );
        _clearSettled(
            s,
            proceeds == 0 ? ILoanVault.LoanStatus.WrittenOff : ILoanVault.LoanStatus.Recovered,
            held != 0
        );
        emit ILoanVault.AuctionSettled(loanId, proceeds, repaid, surplus, loss);

        uint256 toStaked = booked + gain;
        if (toStaked != 0) usdai.safeTransfer(address(staked), toStaked);
        uint256 bookedPrincipal = booked.min(principal);
        staked.receiveLoanCashflow(bookedPrincipal, booked - bookedPrincipal, gain, loss);
        if (surplus != 0) usdai.safeTransfer(borrower, surplus);
        receiptIds = LoanCollateral.load($, loanId, s.receiptCount);
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

    // ================================================================ private

    /// @dev Books a step-in: the loan leaves the impaired total and returns to the performing book at its debt; the
    /// exposure moves from `previous` to `newBorrower` (a novation is two changes, one per borrower; the site's stays).
    function _bookNovation(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        address previous,
        address newBorrower
    ) private {
        uint256 principal = s.principal;
        int256 moved = int256(principal);
        LoanAccounting.applyChange(
            $,
            false,
            moved,
            int256(principal * s.couponBps),
            int256(uint256(s.interest) * INTEREST_DENOMINATOR),
            -int256(uint256(s.impairedValue)),
            -moved,
            previous,
            bytes32(0)
        );
        LoanAccounting.applyChange($, false, 0, 0, 0, 0, moved, newBorrower, bytes32(0));
    }

    /// @dev Zeroes a settled loan's money and its whole accrual (slot 0) and schedule (slot 3) slots, and sets its final
    /// status. The receipt count and the oracle's fields in slot 1 stay; the lockbox slot is written only if it held
    /// anything.
    function _clearSettled(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanStatus status,
        bool lockboxHeld
    ) private {
        s.principal = 0;
        s.interest = 0;
        s.accruedAt = 0;
        s.couponBps = 0;
        s.nextPaymentIndex = 0;
        s.schedulePrincipal = 0;
        s.scheduleStart = 0;
        s.schedulePayments = 0;
        s.impairedValue = 0;
        if (lockboxHeld) {
            s.lockbox = 0;
            s.reserve = 0;
        }
        s.lateFees = 0;
        s.status = status;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ICollateralAuction} from "../../interfaces/ICollateralAuction.sol";
import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanLedger} from "./LoanLedger.sol";
import {LoanVaultLayout} from "../LoanVaultLayout.sol";

/// @title LoanRecovery
/// @notice The LoanVault's default and recovery path: default with impairment, liquidation into a Dutch auction,
/// settlement of the auction, and step-in. Deployed once and linked; its external functions run by DELEGATECALL on
/// the vault's storage, and only the vault calls them (from nonReentrant, role-checked entry points).
/// @dev Events and errors are the vault's (`ILoanVault`), so logs read the same as if the vault emitted them.
library LoanRecovery {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    /// @notice See `ILoanVault.declareDefault`.
    function declareDefault(IGpuReceipt receipts, uint256 loanId) external {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        LoanLedger.accrue($, loanId, s, t);
        uint256 collateral = LoanLedger.collateralValue($, receipts, loanId, s.receiptCount);
        uint256 paymentDefaultAt = LoanLedger.paymentDefaultAt(s, t);
        if (block.timestamp < paymentDefaultAt) {
            // A lapsed cure counts only if the breach still stands today.
            LoanLedger.evaluateCovenants(loanId, s, t, collateral);
            uint256 cureDeadline = s.cureDeadline;
            if (cureDeadline == 0 || block.timestamp <= cureDeadline) {
                revert ILoanVault.LoanVaultNotDefaultable(
                    loanId,
                    LoanLedger.earliestDefault(paymentDefaultAt, cureDeadline)
                );
            }
        }

        uint256 principal = s.principal;
        uint256 interest = s.interest;
        uint256 debt = principal + interest;
        uint256 recovery =
            collateral.mulDivDown(BPS - $.risk.recoveryHaircutBps, BPS) + s.lockbox + s.reserve;
        uint256 impairedValue = recovery.min(debt);
        // Out of the performing aggregates, into the impaired total: NAV takes the impairment now.
        LoanVaultLayout.Aggregates storage agg = $.aggregates;
        agg.totalPrincipal -= uint128(principal);
        agg.rateSum -= uint128(principal * s.couponBps);
        agg.interestNumerator -= uint216(interest * INTEREST_DENOMINATOR);
        $.impaired = LoanLedger.toUint96(uint256($.impaired) + impairedValue);
        s.impairedValue = uint96(impairedValue);
        s.status = ILoanVault.LoanStatus.Defaulted;
        emit ILoanVault.LoanDefaulted(loanId, debt, impairedValue);
    }

    /// @notice See `ILoanVault.liquidate`.
    function liquidate(IGpuReceipt receipts, uint256 loanId) external returns (uint256 auctionId) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);
        ICollateralAuction auction_ = $.auction;
        if (address(auction_) == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        uint256 count = s.receiptCount;
        uint256 collateral = LoanLedger.collateralValue($, receipts, loanId, count);
        s.status = ILoanVault.LoanStatus.Liquidating;

        uint256[] memory ids = LoanLedger.receiptIds($, loanId, count);
        for (uint256 i; i < count; ++i) {
            IERC721(address(receipts)).transferFrom(address(this), address(auction_), ids[i]);
        }
        auctionId = auction_.start(loanId, ids, collateral);
        emit ILoanVault.LoanLiquidated(loanId, auctionId, collateral);
    }

    /// @notice See `ILoanVault.onAuctionSettled`.
    /// @dev The loan's dead state is cleared to zero where a whole slot allows it (the accrual slot and the schedule
    /// slot), and the storage refunds pay for part of the settlement. Status, the receipt list and the oracle's
    /// fields stay, so the lot and the loan's history can still be read.
    function settleAuction(
        IStakedUSDai staked,
        IERC20 usdai,
        uint256 loanId,
        uint256 proceeds,
        address buyer
    ) external returns (uint256[] memory receiptIds) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        if (msg.sender != address($.auction)) revert ILoanVault.LoanVaultNotAuction(msg.sender);
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Liquidating);
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        address borrower = t.borrower;
        if (buyer == borrower) revert ILoanVault.LoanVaultBuyerIsBorrower(loanId, buyer);

        uint256 principal = s.principal;
        uint256 debt = principal + s.interest;
        uint256 impairedValue = s.impairedValue;
        uint256 recovered = proceeds + s.lockbox + s.reserve;
        uint256 repaid = recovered.min(debt);
        uint256 fees = (recovered - repaid).min(s.lateFees);
        uint256 surplus = recovered - repaid - fees;
        uint256 loss = debt - repaid;
        // NAV holds the loan at `impairedValue`: that much of the recovery is booked at once; anything above it is a
        // gain and vests, so nobody can buy sUSDai just before a good sale and take it.
        uint256 booked = repaid.min(impairedValue);
        uint256 gain = repaid - booked + fees;

        $.impaired -= uint96(impairedValue);
        $.borrowerPrincipal[borrower] -= principal;
        $.sitePrincipal[t.site] -= principal;
        _clearSettled(s, proceeds == 0 ? ILoanVault.LoanStatus.WrittenOff : ILoanVault.LoanStatus.Recovered);
        emit ILoanVault.AuctionSettled(loanId, proceeds, repaid, surplus, loss);

        uint256 toStaked = booked + gain;
        if (toStaked != 0) usdai.safeTransfer(address(staked), toStaked);
        // A liquidated loan owes something (a loan owing nothing is Repaid), so `repaid + loss = debt > 0` and the
        // hook always has an amount to book.
        uint256 bookedPrincipal = booked.min(principal);
        staked.receiveLoanCashflow(bookedPrincipal, booked - bookedPrincipal, gain, loss);
        if (surplus != 0) usdai.safeTransfer(borrower, surplus);
        receiptIds = LoanLedger.receiptIds($, loanId, s.receiptCount);
    }

    /// @dev Zeroes a settled loan's money and its whole accrual (slot 0) and schedule (slot 3) slots, and sets its final
    /// status. Status, receipt count and the oracle's fields in slot 1 stay.
    function _clearSettled(ILoanVault.LoanState storage s, ILoanVault.LoanStatus status) private {
        s.principal = 0;
        s.interest = 0;
        s.accruedAt = 0;
        s.couponBps = 0;
        s.nextPaymentIndex = 0;
        s.lateFees = 0;
        s.lockbox = 0;
        s.reserve = 0;
        s.schedulePrincipal = 0;
        s.scheduleStart = 0;
        s.schedulePayments = 0;
        s.impairedValue = 0;
        s.status = status;
    }

    /// @notice See `ILoanVault.stepIn`; the vault has checked the caller and `newBorrower`.
    function stepIn(uint256 loanId, address newBorrower) external {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);

        address previous = t.borrower;
        uint256 principal = s.principal;
        // A fresh schedule over the payments that remain (at least one), starting now.
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
        $.impaired -= s.impairedValue;
        s.impairedValue = 0;
        LoanVaultLayout.Aggregates storage agg = LoanLedger.checkpointAggregates($);
        agg.totalPrincipal += uint128(principal);
        agg.rateSum = LoanLedger.toUint128(agg.rateSum + principal * s.couponBps);
        agg.interestNumerator += uint216(uint256(s.interest) * INTEREST_DENOMINATOR);
        $.borrowerPrincipal[previous] -= principal;
        $.borrowerPrincipal[newBorrower] += principal;
        emit ILoanVault.SteppedIn(loanId, previous, newBorrower);
    }

    /// @notice See `ILoanVault.checkCovenants`.
    function checkCovenants(IGpuReceipt receipts, uint256 loanId) external returns (uint256 breachFlags) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        LoanLedger.accrue($, loanId, s, t);
        return
            LoanLedger.evaluateCovenants(
                loanId,
                s,
                t,
                LoanLedger.collateralValue($, receipts, loanId, s.receiptCount)
            );
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ICollateralAuction} from "../../interfaces/ICollateralAuction.sol";
import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanLedger} from "./LoanLedger.sol";
import {LoanVaultLayout} from "../LoanVaultLayout.sol";

/// @title LoanRecovery
/// @notice The LoanVault's covenant and recovery path: covenant checks and top-ups, default with impairment,
/// liquidation into a Dutch auction, and step-in. (The auction's settlement runs in the vault itself: it is on the
/// buyer's path.) Deployed once and linked; its external functions run by DELEGATECALL on
/// the vault's storage, and only the vault calls them (from nonReentrant, role-checked entry points).
/// @dev Events and errors are the vault's (`ILoanVault`), so logs read the same as if the vault emitted them.
library LoanRecovery {
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

    /// @notice See `ILoanVault.topUp`: pledges more receipts of the loan's site, then re-evaluates the covenants.
    function topUp(IGpuReceipt receipts, uint256 loanId, uint256[] calldata receiptIds) external {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        if (msg.sender != t.borrower) revert ILoanVault.LoanVaultNotBorrower(loanId, msg.sender);
        uint256 count = s.receiptCount;
        uint256 added = LoanLedger.pledgeValue(receipts, t.site, receiptIds, count);

        LoanLedger.accrue($, loanId, s, t);
        s.receiptCount = uint16(count + receiptIds.length);
        LoanLedger.storeReceipts($, loanId, count, receiptIds);
        emit ILoanVault.ToppedUp(loanId, receiptIds, added);
        LoanLedger.evaluateCovenants(
            loanId,
            s,
            t,
            LoanLedger.collateralValue($, receipts, loanId, count) + added
        );

        LoanLedger.pullReceipts(receipts, msg.sender, receiptIds);
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

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanLedger, MAX_REFERENCE_RATE_BPS} from "./LoanLedger.sol";
import {LoanVaultLayout} from "../LoanVaultLayout.sol";

/// @title LoanLens
/// @notice The LoanVault's read side: a loan's debt, LTV, next payment and default date, and the validation of new
/// terms. Deployed once and linked; its functions run by DELEGATECALL (views: reads only) on the vault's storage.
library LoanLens {
    using FixedPointMath for uint256;

    /// @dev Bounds on terms.
    uint256 internal constant MAX_PAYMENTS = 360;
    uint256 internal constant MIN_PAYMENT_INTERVAL_SECONDS = 1 days;
    uint256 internal constant MAX_PAYMENT_INTERVAL_SECONDS = 366 days;
    /// @dev Also what keeps `now - grace` from underflowing in the late-fee arithmetic.
    uint256 internal constant MAX_GRACE_PERIOD_SECONDS = 365 days;
    uint256 internal constant MAX_COUPON_BPS = 10_000;
    uint256 internal constant MAX_LATE_PENALTY_BPS = 2_500;
    uint256 internal constant MAX_FEED_STALENESS_SECONDS = 7 days;

    /// @notice See `ILoanVault.debtOf`.
    function debtOf(uint256 loanId) public view returns (uint256) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        if (s.status != ILoanVault.LoanStatus.Active) return uint256(s.principal) + s.interest + s.lateFees;
        uint256 interest = LoanLedger.interestNow(s);
        return s.principal + interest + s.lateFees + LoanLedger.pendingLateFee(s, $.terms[loanId]);
    }

    /// @notice See `ILoanVault.ltvOf`.
    function ltvOf(IGpuReceipt receipts, uint256 loanId) external view returns (uint256) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        uint256 collateral = LoanLedger.collateralValue($, receipts, loanId, $.state[loanId].receiptCount);
        uint256 debt = debtOf(loanId);
        if (collateral == 0) return debt == 0 ? 0 : type(uint256).max;
        return debt.mulDivUp(BPS, collateral);
    }

    /// @notice See `ILoanVault.nextPayment`.
    function nextPayment(uint256 loanId) external view returns (uint256 dueDate, uint256 amountDue) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        uint256 index = s.nextPaymentIndex;
        // An Active loan always has a next payment: the one that settles the last installment repays the loan.
        if (s.status != ILoanVault.LoanStatus.Active) return (0, 0);
        dueDate = s.scheduleStart + index * t.paymentIntervalSeconds;
        uint256 until = dueDate.max(block.timestamp);
        uint256 interest =
            s.interest +
                LoanSchedule.interestNumerator(s.principal, s.couponBps, until - s.accruedAt).divUp(
                    INTEREST_DENOMINATOR
                );
        uint256 required =
            uint256(s.schedulePrincipal) -
                LoanSchedule.cumulativePrincipalDue(
                    s.schedulePrincipal,
                    t.amortizationBps,
                    index,
                    s.schedulePayments
                );
        amountDue =
            s.lateFees +
            LoanLedger.pendingLateFee(s, t) +
            interest +
            uint256(s.principal).zeroFloorSub(required);
    }

    /// @notice See `ILoanVault.defaultableAt`.
    function defaultableAt(uint256 loanId) external view returns (uint256) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        if (s.status != ILoanVault.LoanStatus.Active) return 0;
        return LoanLedger.earliestDefault(LoanLedger.paymentDefaultAt(s, $.terms[loanId]), s.cureDeadline);
    }

    /// @notice Reverts with `LoanVaultInvalidTerms(field, value)` on the first term out of range (the vault checks the
    /// borrower's role).
    function validateTerms(ILoanVault.LoanTerms calldata t) external view {
        if (t.borrower == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        if (t.principal == 0) revert ILoanVault.LoanVaultZeroAmount();
        if (t.numPayments == 0 || t.numPayments > MAX_PAYMENTS) _invalid("numPayments", t.numPayments);
        uint256 interval = t.paymentIntervalSeconds;
        if (interval < MIN_PAYMENT_INTERVAL_SECONDS || interval > MAX_PAYMENT_INTERVAL_SECONDS) {
            _invalid("paymentIntervalSeconds", interval);
        }
        if (t.amortizationBps > BPS) _invalid("amortizationBps", t.amortizationBps);
        if (t.gracePeriodSeconds > MAX_GRACE_PERIOD_SECONDS)
            _invalid("gracePeriodSeconds", t.gracePeriodSeconds);
        if (t.premiumFloorBps > t.basePremiumBps) _invalid("premiumFloorBps", t.premiumFloorBps);
        if (t.premiumCapBps < t.basePremiumBps) _invalid("premiumCapBps", t.premiumCapBps);
        uint256 maxReference =
            t.referenceRateFeed == address(0) ? t.referenceRateBps : MAX_REFERENCE_RATE_BPS;
        if (t.referenceRateFeed == address(0) && maxReference > MAX_REFERENCE_RATE_BPS) {
            _invalid("referenceRateBps", maxReference);
        }
        if (maxReference + t.premiumCapBps > MAX_COUPON_BPS) _invalid("premiumCapBps", t.premiumCapBps);
        if (t.maxLtvBps == 0 || t.maxLtvBps > BPS) _invalid("maxLtvBps", t.maxLtvBps);
        if (t.maintenanceLtvBps < t.maxLtvBps || t.maintenanceLtvBps > BPS) {
            _invalid("maintenanceLtvBps", t.maintenanceLtvBps);
        }
        if (t.latePenaltyBps > MAX_LATE_PENALTY_BPS) _invalid("latePenaltyBps", t.latePenaltyBps);
        if (t.slaUptimeBps > BPS) _invalid("slaUptimeBps", t.slaUptimeBps);
        if (t.debtServiceReserveBps > BPS) _invalid("debtServiceReserveBps", t.debtServiceReserveBps);
        if (t.curePeriodSeconds == 0) _invalid("curePeriodSeconds", 0);
        if (t.approvalExpiry <= block.timestamp) _invalid("approvalExpiry", t.approvalExpiry);
        if (t.site == bytes32(0)) _invalid("site", 0);
    }

    function _invalid(bytes32 field, uint256 value) private pure {
        revert ILoanVault.LoanVaultInvalidTerms(field, value);
    }

    /// @notice Reverts with `LoanVaultInvalidParam(field, value)` on the first risk parameter out of range.
    function validateRiskParams(ILoanVault.RiskParams calldata params) external pure {
        if (params.borrowerCapBps == 0 || params.borrowerCapBps > BPS) {
            revert ILoanVault.LoanVaultInvalidParam("borrowerCapBps", params.borrowerCapBps);
        }
        if (params.siteCapBps == 0 || params.siteCapBps > BPS) {
            revert ILoanVault.LoanVaultInvalidParam("siteCapBps", params.siteCapBps);
        }
        if (params.recoveryHaircutBps > BPS) {
            revert ILoanVault.LoanVaultInvalidParam("recoveryHaircutBps", params.recoveryHaircutBps);
        }
        uint256 staleness = params.referenceFeedMaxStalenessSeconds;
        if (staleness == 0 || staleness > MAX_FEED_STALENESS_SECONDS) {
            revert ILoanVault.LoanVaultInvalidParam("referenceFeedMaxStaleness", staleness);
        }
    }

    /// @notice See `ILoanVault.collateralValueOf`.
    function collateralValueOf(IGpuReceipt receipts, uint256 loanId) external view returns (uint256) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        return LoanLedger.collateralValue($, receipts, loanId, $.state[loanId].receiptCount);
    }

    /// @notice See `ILoanVault.inGoodStanding`.
    function inGoodStanding(uint256 loanId) external view returns (bool) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        ILoanVault.LoanStatus status = s.status;
        return
            (status == ILoanVault.LoanStatus.Active || status == ILoanVault.LoanStatus.Repaid) &&
            LoanLedger.inGoodStanding(s, $.terms[loanId]);
    }
}

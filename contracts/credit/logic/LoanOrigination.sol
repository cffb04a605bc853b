// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {IJuniorTranche} from "../../interfaces/IJuniorTranche.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {
    MAX_COUPON_BPS,
    MAX_FEED_STALENESS_SECONDS,
    MAX_GAP_DAYS,
    MAX_GRACE_PERIOD_SECONDS,
    MAX_LATE_PENALTY_BPS,
    MAX_MATERIALITY_THRESHOLD,
    MAX_MIN_DSCR_BPS,
    MAX_PAYMENT_INTERVAL_SECONDS,
    MAX_PAYMENTS,
    MAX_REFERENCE_RATE_BPS,
    MAX_STEP_IN_WINDOW_SECONDS,
    MIN_PAYMENT_INTERVAL_SECONDS,
    RECEIPT_SLOT_PLACEHOLDER
} from "./LoanConstants.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanOrigination
/// @notice New loans: validation of terms and risk parameters, approval, cancellation, the concentration caps, and the
/// draw that opens a loan.
/// @dev Every entry point here is external (linked; DELEGATECALL on the vault's storage, called only from its
/// role-checked entry points). The vault checks roles and passes what it found. The approval pre-writes every slot a
/// draw writes (the state's accrual and schedule slots and the first slot of the receipt list), so the borrower's draw
/// never pays for a fresh slot for up to four receipts, and the DELEGATECALL costs it less than that saves. Events and
/// errors are the vault's.
library LoanOrigination {
    using FixedPointMath for uint256;

    // ================================================================ entry points

    /// @notice See `ILoanVault.approveLoan`; the vault has checked that `terms.borrower` holds BORROWER.
    function executeApprove(
        IStakedUSDai staked,
        ILoanVault.LoanTerms calldata terms
    ) external returns (uint256 loanId) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        validateTerms(terms);
        uint256 referenceRateBps =
            terms.referenceRateFeed == address(0)
                ? terms.referenceRateBps
                : LoanCovenants.readReferenceRate($, terms.referenceRateFeed);
        checkCaps($, staked, terms.borrower, terms.site, terms.principal);

        loanId = ++$.loanCount;
        $.terms[loanId] = terms;
        ILoanVault.LoanState storage s = $.state[loanId];
        // Slot 0 is pre-written (the first payment is payment 1), so `borrow` updates it rather than creating it.
        s.nextPaymentIndex = 1;
        s.status = ILoanVault.LoanStatus.Approved;
        s.premiumBps = terms.basePremiumBps;
        s.schedulePrincipal = terms.principal;
        s.schedulePayments = terms.numPayments;
        s.referenceRateBps = uint16(referenceRateBps);
        $.receiptSlots[loanId][0] = RECEIPT_SLOT_PLACEHOLDER;
        emit ILoanVault.LoanApproved(loanId, terms.borrower, terms.site, terms.principal);
    }

    /// @notice See `ILoanVault.cancelApproval`.
    function executeCancelApproval(uint256 loanId) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Approved);
        s.status = ILoanVault.LoanStatus.Cancelled;
        delete $.receiptSlots[loanId][0];
        emit ILoanVault.ApprovalCancelled(loanId);
    }

    /// @notice See `ILoanVault.borrow`. `allowlisted`: whether the caller holds BORROWER (the vault checked). Approved,
    /// called by its borrower before expiry, the pledge within the origination LTV, the caps respected and a valid
    /// reference rate; then sUSDai funds the loan, which joins the books at its coupon, and the receipts are escrowed.
    function executeBorrow(
        IStakedUSDai staked,
        IGpuReceipt receipts,
        uint256 loanId,
        uint256[] calldata receiptIds,
        bool allowlisted
    ) external {
        (address borrower, uint256 principal, uint256 value, uint256 referenceRateBps) = _checkDraw(
            staked,
            receipts,
            loanId,
            receiptIds,
            allowlisted
        );

        // sUSDai values its redemption queue's claim with NAV as it stands before the loan is booked, so the funding
        // call comes before the books move. It is a trusted core: nonReentrant, and USDai has no hooks.
        staked.fundLoan(borrower, principal);

        uint256 couponBps = _open(loanId, referenceRateBps, receiptIds);
        emit ILoanVault.LoanDrawn(loanId, borrower, principal, couponBps, value, receiptIds);

        LoanCollateral.pull(receipts, borrower, receiptIds);
    }

    /// @notice See `ILoanVault.setRiskParams` (and the vault's initializer).
    function executeSetRiskParams(ILoanVault.RiskParams calldata params) external {
        validateRiskParams(params);
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        $.risk = LoanStorage.StoredRiskParams({
            borrowerCapBps: params.borrowerCapBps,
            siteCapBps: params.siteCapBps,
            recoveryHaircutBps: params.recoveryHaircutBps,
            referenceFeedMaxStalenessSeconds: params.referenceFeedMaxStalenessSeconds
        });
        $.materialityThreshold = params.materialityThreshold;
        $.stepInWindowSeconds = params.stepInWindowSeconds;
        emit ILoanVault.RiskParamsSet(params);
    }

    // ================================================================ checks

    /// @notice Concentration caps: the borrower's and the site's outstanding principal plus `principal`, against their
    /// caps in bps of sUSDai's cap base (`IStakedUSDai.capBase`: NAV without this week's deposits and without what the
    /// redemption queue is owed), so money that arrives just before a draw, or is on its way out, cannot lift a cap.
    function checkCaps(
        LoanStorage.LoanVaultStorage storage $,
        IStakedUSDai staked,
        address borrower,
        bytes32 site,
        uint256 principal
    ) internal view {
        uint256 base = checkBorrowerCap($, staked, borrower, principal);
        uint256 siteExposure = $.sitePrincipal[site] + principal;
        uint256 siteCap = base.mulDivDown($.risk.siteCapBps, BPS);
        if (siteExposure > siteCap) revert ILoanVault.LoanVaultSiteCap(site, siteExposure, siteCap);
    }

    /// @notice The borrower's concentration cap alone (a step-in moves a loan between borrowers, not between sites).
    /// Returns sUSDai's cap base, which it read.
    function checkBorrowerCap(
        LoanStorage.LoanVaultStorage storage $,
        IStakedUSDai staked,
        address borrower,
        uint256 principal
    ) internal view returns (uint256 base) {
        base = staked.capBase();
        uint256 borrowerExposure = $.borrowerPrincipal[borrower] + principal;
        uint256 borrowerCap = base.mulDivDown($.risk.borrowerCapBps, BPS);
        if (borrowerExposure > borrowerCap) {
            revert ILoanVault.LoanVaultBorrowerCap(borrower, borrowerExposure, borrowerCap);
        }
    }

    /// @notice Reverts with `LoanVaultInvalidTerms(field, value)` on the first term out of range (the vault checks the
    /// borrower's role).
    function validateTerms(ILoanVault.LoanTerms calldata t) internal view {
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
        if (t.minDscrBps > MAX_MIN_DSCR_BPS) _invalid("minDscrBps", t.minDscrBps);
        if (t.shortfallToleranceBps > BPS) _invalid("shortfallToleranceBps", t.shortfallToleranceBps);
        if (t.maxGapDays > MAX_GAP_DAYS) _invalid("maxGapDays", t.maxGapDays);
    }

    /// @notice Reverts with `LoanVaultInvalidParam(field, value)` on the first risk parameter out of range.
    function validateRiskParams(ILoanVault.RiskParams calldata params) internal pure {
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
        if (params.materialityThreshold > MAX_MATERIALITY_THRESHOLD) {
            revert ILoanVault.LoanVaultInvalidParam("materialityThreshold", params.materialityThreshold);
        }
        if (params.stepInWindowSeconds > MAX_STEP_IN_WINDOW_SECONDS) {
            revert ILoanVault.LoanVaultInvalidParam("stepInWindowSeconds", params.stepInWindowSeconds);
        }
    }

    // ================================================================ private

    /// @dev The checks of a draw; returns the borrower, the principal, the pledge's value and the reference rate.
    function _checkDraw(
        IStakedUSDai staked,
        IGpuReceipt receipts,
        uint256 loanId,
        uint256[] calldata receiptIds,
        bool allowlisted
    ) private view returns (address borrower, uint256 principal, uint256 value, uint256 referenceRateBps) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Approved);
        borrower = t.borrower;
        if (msg.sender != borrower) revert ILoanVault.LoanVaultNotBorrower(loanId, msg.sender);
        if (!allowlisted) revert ILoanVault.LoanVaultNotAllowlisted(borrower);
        if (block.timestamp > t.approvalExpiry)
            revert ILoanVault.LoanVaultApprovalExpired(loanId, t.approvalExpiry);
        principal = t.principal;
        value = LoanCollateral.pledgeValue(receipts, t.site, receiptIds, 0);
        if (principal > value.mulDivDown(t.maxLtvBps, BPS)) {
            revert ILoanVault.LoanVaultLtvExceeded(principal, value, t.maxLtvBps);
        }
        checkCaps($, staked, borrower, t.site, principal);
        // First-loss capital must still cover the loan book at its minimum ratio with this loan in it.
        IJuniorTranche junior = $.junior;
        if (address(junior) != address(0)) junior.checkCoverage(LoanAccounting.loanBook($) + principal);
        address feed = t.referenceRateFeed;
        referenceRateBps = feed == address(0) ? s.referenceRateBps : LoanCovenants.readReferenceRate($, feed);
    }

    /// @dev The effects of a draw: the loan becomes active at its coupon and joins the books and the exposures.
    function _open(
        uint256 loanId,
        uint256 referenceRateBps,
        uint256[] calldata receiptIds
    ) private returns (uint256 couponBps) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        uint256 principal = t.principal;
        s.principal = uint96(principal);
        s.accruedAt = uint32(block.timestamp);
        s.nextPaymentIndex = 1;
        s.status = ILoanVault.LoanStatus.Active;
        s.scheduleStart = uint40(block.timestamp);
        s.receiptCount = uint16(receiptIds.length);
        LoanCollateral.store($, loanId, 0, receiptIds);
        s.referenceRateBps = uint16(referenceRateBps);
        couponBps = LoanAccounting.couponBps(referenceRateBps, s.premiumBps);
        int256 rateMove = LoanAccounting.setCoupon(s, couponBps);
        int256 added = int256(principal);
        LoanAccounting.applyChange($, false, added, rateMove, 0, 0, added, t.borrower, t.site);
    }

    function _invalid(bytes32 field, uint256 value) private pure {
        revert ILoanVault.LoanVaultInvalidTerms(field, value);
    }
}

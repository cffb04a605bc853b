// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {ILoanVault, ILoanVaultAssets, ILoanVaultOracleHooks} from "../interfaces/ILoanVault.sol";
import {ICollateralAuction} from "../interfaces/ICollateralAuction.sol";
import {IGpuReceipt} from "../interfaces/IGpuReceipt.sol";
import {IStakedUSDai} from "../interfaces/IStakedUSDai.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {BPS} from "../libraries/Constants.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR} from "../libraries/LoanSchedule.sol";
import {LoanLockbox} from "./libraries/LoanLockbox.sol";
import {LoanLens} from "./libraries/LoanLens.sol";
import {LoanRecovery} from "./libraries/LoanRecovery.sol";
import {BREACH_TOP_UP, LoanLedger, MAX_REFERENCE_RATE_BPS, LoanVaultLayout} from "./libraries/LoanLedger.sol";
import {BORROWER_ROLE, CREDIT_ADMIN_ROLE, ORACLE_ROLE, UNDERWRITER_ROLE} from "../libraries/Roles.sol";

/// @title LoanVault
/// @notice GPU-backed term loans funded by sUSDai: approval, borrow, per-second interest, a monthly schedule,
/// repayment, a revenue lockbox with its waterfall and cash sweep, covenants and cure periods, default with
/// impairment, and recovery by Dutch auction or step-in.
/// @dev Storage is designed for gas: the terms are written once at approval into four packed slots, the mutable state
/// of a loan lives in five slots (approval pre-writes them, so `borrow` never pays for a fresh slot but the receipt
/// list), receipt ids are packed four to a slot, and the NAV aggregates take two slots. Every per-loan change first
/// checkpoints the loan and the aggregate; the aggregate keeps interest as an exact numerator, so `loanAssets()`
/// equals the sum over loans up to the per-loan rounding (less than 1 wei per loan, in the protocol's favour).
/// Top-ups, covenant checks, default, liquidation and step-in run in the linked `LoanRecovery` library (DELEGATECALL
/// into this storage), which keeps the vault under EIP-170's 24 KiB; the auction's settlement stays here, off the
/// library, because it is on every buyer's path.
/// @custom:oz-upgrades-unsafe-allow state-variable-immutable external-library-linking
contract LoanVault is ILoanVault, LoanVaultLayout, ProtocolUpgradeable {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IStakedUSDai internal immutable STAKED;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IERC20 internal immutable USDAI;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IGpuReceipt internal immutable RECEIPTS;

    /// @param staked_ the sUSDai vault that funds the loans.
    /// @param receipts_ the GpuReceipt contract.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(IStakedUSDai staked_, IGpuReceipt receipts_) {
        STAKED = staked_;
        USDAI = IERC20(staked_.asset());
        RECEIPTS = receipts_;
    }

    /// @notice Initializes the proxy: `admin` gets DEFAULT_ADMIN, `risk` the concentration caps and haircut.
    function initialize(address admin, RiskParams calldata risk) external initializer {
        if (admin == address(0)) revert LoanVaultZeroAddress();
        __ProtocolUpgradeable_init(admin);
        _setRiskParams(LoanLedger.getStorage(), risk);
    }

    // ================================================================ underwriter

    /// @inheritdoc ILoanVault
    function approveLoan(
        LoanTerms calldata terms
    ) external onlyRole(UNDERWRITER_ROLE) whenNotPaused returns (uint256 loanId) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        if (!hasRole(BORROWER_ROLE, terms.borrower)) revert LoanVaultNotAllowlisted(terms.borrower);
        LoanLens.validateTerms(terms);
        uint256 referenceRateBps =
            terms.referenceRateFeed == address(0)
                ? terms.referenceRateBps
                : _readReferenceRate($, terms.referenceRateFeed);
        _checkCaps($, terms.borrower, terms.site, terms.principal);

        loanId = ++$.loanCount;
        $.terms[loanId] = terms;
        LoanState storage s = $.state[loanId];
        // Slot 0 is pre-written (the first payment is payment 1), so `borrow` updates it rather than creating it.
        s.nextPaymentIndex = 1;
        s.status = LoanStatus.Approved;
        s.premiumBps = terms.basePremiumBps;
        s.schedulePrincipal = terms.principal;
        s.schedulePayments = terms.numPayments;
        s.referenceRateBps = uint16(referenceRateBps);
        emit LoanApproved(loanId, terms.borrower, terms.site, terms.principal);
    }

    /// @inheritdoc ILoanVault
    function cancelApproval(uint256 loanId) external onlyRole(UNDERWRITER_ROLE) {
        LoanState storage s = LoanLedger.getStorage().state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Approved);
        s.status = LoanStatus.Cancelled;
        emit ApprovalCancelled(loanId);
    }

    // ================================================================ borrower

    /// @inheritdoc ILoanVault
    function borrow(uint256 loanId, uint256[] calldata receiptIds) external nonReentrant whenNotPaused {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        (address borrower, uint256 principal, uint256 value, uint256 referenceRateBps) = _checkBorrow(
            $,
            loanId,
            receiptIds
        );

        // sUSDai values its redemption queue's claim with NAV as it stands before the loan is booked, so the
        // funding call comes before the aggregates move. It is a trusted core: nonReentrant, and USDai has no hooks.
        STAKED.fundLoan(borrower, principal);

        uint256 couponBps = _openLoan($, loanId, borrower, principal, referenceRateBps, receiptIds);
        emit LoanDrawn(loanId, borrower, principal, couponBps, value, receiptIds);

        LoanLedger.pullReceipts(RECEIPTS, borrower, receiptIds);
    }

    /// @inheritdoc ILoanVault
    function repay(
        uint256 loanId,
        uint256 amount
    ) external nonReentrant returns (Allocation memory allocation) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanTerms storage t = $.terms[loanId];
        LoanState storage s = $.state[loanId];
        if (amount == 0) revert LoanVaultZeroAmount();
        LoanLedger.requireStatus(loanId, s, LoanStatus.Active);

        LoanLedger.accrue($, loanId, s, t);
        uint256 principal = s.principal;
        uint256 owed = uint256(s.lateFees) + s.interest + principal;
        if (amount == type(uint256).max) amount = owed;
        else if (amount > owed) revert LoanVaultOverpayment(loanId, amount, owed);
        allocation = LoanLedger.allocate(s, t, amount);
        allocation.prepayment =
            amount -
            allocation.lateFees -
            allocation.interest -
            allocation.scheduledPrincipal;
        LoanLedger.applyAllocation($, RECEIPTS, loanId, s, t, allocation);
        emit Repaid(
            loanId,
            msg.sender,
            allocation.lateFees,
            allocation.interest,
            allocation.scheduledPrincipal,
            allocation.prepayment
        );

        // The payer's USDai goes straight to sUSDai, which books it.
        LoanLedger.payStaked(STAKED, USDAI, msg.sender, allocation);
    }

    /// @inheritdoc ILoanVault
    function depositRevenue(uint256 loanId, uint256 amount) external nonReentrant {
        LoanState storage s = LoanLedger.getStorage().state[loanId];
        if (amount == 0) revert LoanVaultZeroAmount();
        LoanStatus status = s.status;
        if (status != LoanStatus.Active && status != LoanStatus.Repaid && status != LoanStatus.Defaulted) {
            revert LoanVaultBadStatus(loanId, status);
        }
        s.lockbox = LoanLedger.toUint128(uint256(s.lockbox) + amount);
        emit RevenueDeposited(loanId, msg.sender, amount);

        USDAI.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ILoanVault
    function sweep(uint256 loanId) external nonReentrant returns (Allocation memory allocation) {
        return LoanLockbox.sweep(STAKED, USDAI, RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function releaseExcess(uint256 loanId, address to, uint256 amount) external nonReentrant whenNotPaused {
        LoanLockbox.releaseExcess(STAKED, USDAI, RECEIPTS, loanId, to, amount);
    }

    /// @inheritdoc ILoanVault
    function topUp(uint256 loanId, uint256[] calldata receiptIds) external nonReentrant {
        LoanRecovery.topUp(RECEIPTS, loanId, receiptIds);
    }

    /// @inheritdoc ILoanVault
    function refreshReferenceRate(uint256 loanId) external {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanTerms storage t = $.terms[loanId];
        LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Active);
        address feed = t.referenceRateFeed;
        if (feed == address(0)) revert LoanVaultInvalidParam("referenceRateFeed", 0);
        uint256 referenceRateBps = _readReferenceRate($, feed);
        // Late fees are priced at the reference rate (plus the base premium): charge those due before it moves.
        LoanLedger.accrue($, loanId, s, t);
        s.referenceRateBps = uint16(referenceRateBps);
        uint256 couponBps = LoanLedger.setCoupon($, s, referenceRateBps + s.premiumBps);
        emit ReferenceRateUpdated(loanId, referenceRateBps, couponBps);
    }

    /// @inheritdoc ILoanVault
    function checkCovenants(uint256 loanId) external nonReentrant returns (uint256 breachFlags) {
        return LoanRecovery.checkCovenants(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function close(uint256 loanId) external nonReentrant {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Repaid);
        address borrower = $.terms[loanId].borrower;
        uint256 refund = uint256(s.lockbox) + s.reserve;
        s.status = LoanStatus.Closed;
        s.lockbox = 0;
        s.reserve = 0;
        uint256[] memory ids = LoanLedger.receiptIds($, loanId, s.receiptCount);
        emit LoanClosed(loanId, borrower, refund);

        if (refund != 0) USDAI.safeTransfer(borrower, refund);
        _sendReceipts(ids, borrower);
    }

    // ================================================================ oracle

    /// @inheritdoc ILoanVaultOracleHooks
    function applyCouponStep(
        uint256 loanId,
        uint256 stepId,
        int256 deltaBps,
        bool topUpRequired
    ) external onlyRole(ORACLE_ROLE) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Active);
        if (stepId <= s.lastStepId) return;
        if (stepId > type(uint32).max) revert LoanVaultAmountOverflow(stepId);
        LoanTerms storage t = $.terms[loanId];
        int256 before = int256(uint256(s.premiumBps));
        int256 next = before + deltaBps;
        int256 floor = int256(uint256(t.premiumFloorBps));
        int256 cap = int256(uint256(t.premiumCapBps));
        if (next < floor) next = floor;
        else if (next > cap) next = cap;
        uint256 couponBps = uint256(s.referenceRateBps) + uint256(next);
        uint256 breachFlags = s.breachFlags;
        uint256 cureDeadline = s.cureDeadline;
        if (topUpRequired) {
            breachFlags |= BREACH_TOP_UP;
            if (cureDeadline == 0) cureDeadline = block.timestamp + t.curePeriodSeconds;
        }

        // Interest up to now accrues at the old coupon. Late fees are priced at the contract coupon, which a step does
        // not move, so they need not be charged first.
        LoanLedger.checkpointLoan($, s);
        LoanLedger.setCoupon($, s, couponBps);
        s.lastStepId = uint32(stepId);
        s.premiumBps = uint16(uint256(next));
        s.breachFlags = uint8(breachFlags);
        s.cureDeadline = uint40(cureDeadline);
        emit CouponStepApplied(loanId, stepId, deltaBps, next - before, topUpRequired, cureDeadline);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function setCovenantBreach(uint256 loanId, uint256 flags) external onlyRole(ORACLE_ROLE) {
        LoanState storage s = LoanLedger.getStorage().state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Active);
        if (flags > type(uint8).max) revert LoanVaultInvalidParam("flags", flags);
        uint256 previous = s.oracleFlags;
        if (previous == flags) return;
        s.oracleFlags = uint8(flags);
        emit CovenantFlagsSet(loanId, previous, flags);
    }

    // ================================================================ default and recovery

    /// @inheritdoc ILoanVault
    function declareDefault(uint256 loanId) external nonReentrant {
        LoanRecovery.declareDefault(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function liquidate(uint256 loanId) external nonReentrant returns (uint256 auctionId) {
        return LoanRecovery.liquidate(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    /// @dev The loan's dead state is cleared to zero where a whole slot allows it (the accrual slot and the schedule
    /// slot), and the storage refunds pay for part of the settlement. Status, the receipt list and the oracle's
    /// fields stay, so the lot and the loan's history can still be read. Settlement runs here rather than in
    /// `LoanRecovery`: it is on the buyer's path, and a library call would add a cold DELEGATECALL to it.
    function onAuctionSettled(
        uint256 loanId,
        uint256 proceeds,
        address buyer
    ) external nonReentrant returns (uint256[] memory receiptIds) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        if (msg.sender != address($.auction)) revert LoanVaultNotAuction(msg.sender);
        LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Liquidating);
        LoanTerms storage t = $.terms[loanId];
        address borrower = t.borrower;
        if (buyer == borrower) revert LoanVaultBuyerIsBorrower(loanId, buyer);

        uint256 principal = s.principal;
        uint256 debt = principal + s.interest;
        uint256 impairedValue = s.impairedValue;
        uint256 held = uint256(s.lockbox) + s.reserve;
        uint256 recovered = proceeds + held;
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
        _clearSettled(s, proceeds == 0 ? LoanStatus.WrittenOff : LoanStatus.Recovered, held != 0);
        emit AuctionSettled(loanId, proceeds, repaid, surplus, loss);

        uint256 toStaked = booked + gain;
        if (toStaked != 0) USDAI.safeTransfer(address(STAKED), toStaked);
        // A liquidated loan owes something (a loan owing nothing is Repaid), so `repaid + loss = debt > 0` and the
        // hook always has an amount to book.
        uint256 bookedPrincipal = booked.min(principal);
        STAKED.receiveLoanCashflow(bookedPrincipal, booked - bookedPrincipal, gain, loss);
        if (surplus != 0) USDAI.safeTransfer(borrower, surplus);
        receiptIds = LoanLedger.receiptIds($, loanId, s.receiptCount);
    }

    /// @inheritdoc ILoanVault
    function stepIn(uint256 loanId, address newBorrower) external onlyRole(CREDIT_ADMIN_ROLE) nonReentrant {
        if (newBorrower == address(0)) revert LoanVaultZeroAddress();
        if (!hasRole(BORROWER_ROLE, newBorrower)) revert LoanVaultNotAllowlisted(newBorrower);
        LoanRecovery.stepIn(loanId, newBorrower);
    }

    // ================================================================ governance

    /// @inheritdoc ILoanVault
    function setRiskParams(RiskParams calldata params) external onlyRole(CREDIT_ADMIN_ROLE) {
        _setRiskParams(LoanLedger.getStorage(), params);
    }

    /// @inheritdoc ILoanVault
    function setAuction(address auction_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (auction_ == address(0)) revert LoanVaultZeroAddress();
        LoanLedger.getStorage().auction = ICollateralAuction(auction_);
        emit AuctionSet(auction_);
    }

    // ================================================================ views

    /// @inheritdoc ILoanVaultAssets
    function loanAssets() external view returns (uint256) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanVaultLayout.Aggregates memory agg = $.aggregates;
        uint256 numerator =
            agg.interestNumerator + uint256(agg.rateSum) * (block.timestamp - agg.checkpointAt);
        return agg.totalPrincipal + $.impaired + numerator / INTEREST_DENOMINATOR;
    }

    /// @inheritdoc ILoanVault
    function debtOf(uint256 loanId) external view returns (uint256) {
        return LoanLens.debtOf(loanId);
    }

    /// @inheritdoc ILoanVault
    function ltvOf(uint256 loanId) external view returns (uint256) {
        return LoanLens.ltvOf(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function nextPayment(uint256 loanId) external view returns (uint256 dueDate, uint256 amountDue) {
        return LoanLens.nextPayment(loanId);
    }

    /// @inheritdoc ILoanVault
    function defaultableAt(uint256 loanId) external view returns (uint256) {
        return LoanLens.defaultableAt(loanId);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function couponOf(uint256 loanId) external view returns (uint256) {
        LoanState storage s = LoanLedger.getStorage().state[loanId];
        return uint256(s.referenceRateBps) + s.premiumBps;
    }

    /// @inheritdoc ILoanVault
    function collateralValueOf(uint256 loanId) external view returns (uint256) {
        return LoanLens.collateralValueOf(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function inGoodStanding(uint256 loanId) external view returns (bool) {
        return LoanLens.inGoodStanding(loanId);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function isPerforming(uint256 loanId) external view returns (bool) {
        return LoanLedger.getStorage().state[loanId].status == LoanStatus.Active;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function slaUptimeBps(uint256 loanId) external view returns (uint256) {
        return LoanLedger.getStorage().terms[loanId].slaUptimeBps;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function lastCouponStepId(uint256 loanId) external view returns (uint256) {
        return LoanLedger.getStorage().state[loanId].lastStepId;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function covenantFlags(uint256 loanId) external view returns (uint256) {
        return LoanLedger.getStorage().state[loanId].oracleFlags;
    }

    /// @inheritdoc ILoanVault
    function termsOf(uint256 loanId) external view returns (LoanTerms memory) {
        return LoanLedger.getStorage().terms[loanId];
    }

    /// @inheritdoc ILoanVault
    function stateOf(uint256 loanId) external view returns (LoanState memory) {
        return LoanLedger.getStorage().state[loanId];
    }

    /// @inheritdoc ILoanVault
    function receiptsOf(uint256 loanId) external view returns (uint256[] memory) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        return LoanLedger.receiptIds($, loanId, $.state[loanId].receiptCount);
    }

    /// @inheritdoc ILoanVault
    function accrualState()
        external
        view
        returns (
            uint256 totalPrincipal,
            uint256 rateSum,
            uint256 interestNumerator,
            uint256 checkpointAt,
            uint256 impaired
        )
    {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        LoanVaultLayout.Aggregates memory agg = $.aggregates;
        return (agg.totalPrincipal, agg.rateSum, agg.interestNumerator, agg.checkpointAt, $.impaired);
    }

    /// @inheritdoc ILoanVault
    function exposureOf(
        address borrower,
        bytes32 site
    ) external view returns (uint256 borrowerPrincipal, uint256 sitePrincipal) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        return ($.borrowerPrincipal[borrower], $.sitePrincipal[site]);
    }

    /// @inheritdoc ILoanVault
    function loanCount() external view returns (uint256) {
        return LoanLedger.getStorage().loanCount;
    }

    /// @inheritdoc ILoanVault
    function riskParams() external view returns (RiskParams memory) {
        return LoanLedger.getStorage().risk;
    }

    /// @inheritdoc ILoanVault
    function auction() external view returns (address) {
        return address(LoanLedger.getStorage().auction);
    }

    /// @inheritdoc ILoanVault
    function staked() external view returns (address) {
        return address(STAKED);
    }

    /// @inheritdoc ILoanVault
    function receipts() external view returns (address) {
        return address(RECEIPTS);
    }

    // ================================================================ internal: settlement and receipts

    /// @dev Zeroes a settled loan's money and its whole accrual (slot 0) and schedule (slot 3) slots, and sets its final
    /// status. The receipt count and the oracle's fields in slot 1 stay; the lockbox slot is written only if it held
    /// anything.
    function _clearSettled(LoanState storage s, LoanStatus status, bool lockboxHeld) private {
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

    /// @dev Returns the receipts `ids` to `to` with safe transfers (every entry point is nonReentrant).
    function _sendReceipts(uint256[] memory ids, address to) private {
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            IERC721(address(RECEIPTS)).safeTransferFrom(address(this), to, ids[i]);
        }
    }

    // ================================================================ internal: checks

    /// @dev The checks of `borrow`: approved, called by its allowlisted borrower before expiry, the pledge within the
    /// origination LTV, the caps respected, and a valid reference rate.
    function _checkBorrow(
        LoanVaultLayout.LoanVaultStorage storage $,
        uint256 loanId,
        uint256[] calldata receiptIds
    ) private view returns (address borrower, uint256 principal, uint256 value, uint256 referenceRateBps) {
        LoanTerms storage t = $.terms[loanId];
        LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, LoanStatus.Approved);
        borrower = t.borrower;
        if (msg.sender != borrower) revert LoanVaultNotBorrower(loanId, msg.sender);
        if (!hasRole(BORROWER_ROLE, borrower)) revert LoanVaultNotAllowlisted(borrower);
        if (block.timestamp > t.approvalExpiry) revert LoanVaultApprovalExpired(loanId, t.approvalExpiry);
        principal = t.principal;
        value = LoanLedger.pledgeValue(RECEIPTS, t.site, receiptIds, 0);
        uint256 maxLtvBps = t.maxLtvBps;
        if (principal > value.mulDivDown(maxLtvBps, BPS))
            revert LoanVaultLtvExceeded(principal, value, maxLtvBps);
        _checkCaps($, borrower, t.site, principal);
        address feed = t.referenceRateFeed;
        referenceRateBps = feed == address(0) ? s.referenceRateBps : _readReferenceRate($, feed);
    }

    /// @dev The effects of `borrow`: the loan becomes active at its coupon and joins the aggregates and exposures.
    function _openLoan(
        LoanVaultLayout.LoanVaultStorage storage $,
        uint256 loanId,
        address borrower,
        uint256 principal,
        uint256 referenceRateBps,
        uint256[] calldata receiptIds
    ) private returns (uint256 couponBps) {
        LoanState storage s = $.state[loanId];
        couponBps = referenceRateBps + s.premiumBps;
        s.principal = uint96(principal);
        s.accruedAt = uint32(block.timestamp);
        s.couponBps = uint16(couponBps);
        s.nextPaymentIndex = 1;
        s.status = LoanStatus.Active;
        s.scheduleStart = uint40(block.timestamp);
        s.referenceRateBps = uint16(referenceRateBps);
        s.receiptCount = uint16(receiptIds.length);
        LoanLedger.storeReceipts($, loanId, 0, receiptIds);
        LoanVaultLayout.Aggregates storage agg = LoanLedger.checkpointAggregates($);
        agg.totalPrincipal += uint128(principal);
        agg.rateSum = LoanLedger.toUint128(agg.rateSum + principal * couponBps);
        $.borrowerPrincipal[borrower] += principal;
        $.sitePrincipal[$.terms[loanId].site] += principal;
    }

    /// @dev Concentration caps: the borrower's and the site's outstanding principal plus `principal`, against their
    /// caps in bps of sUSDai's NAV.
    function _checkCaps(
        LoanVaultLayout.LoanVaultStorage storage $,
        address borrower,
        bytes32 site,
        uint256 principal
    ) private view {
        uint256 nav = STAKED.totalAssets();
        RiskParams memory risk = $.risk;
        uint256 borrowerExposure = $.borrowerPrincipal[borrower] + principal;
        uint256 borrowerCap = nav.mulDivDown(risk.borrowerCapBps, BPS);
        if (borrowerExposure > borrowerCap)
            revert LoanVaultBorrowerCap(borrower, borrowerExposure, borrowerCap);
        uint256 siteExposure = $.sitePrincipal[site] + principal;
        uint256 siteCap = nav.mulDivDown(risk.siteCapBps, BPS);
        if (siteExposure > siteCap) revert LoanVaultSiteCap(site, siteExposure, siteCap);
    }

    /// @dev Reads a reference-rate feed (1.0 = 100%) in bps, rounded up; refuses non-positive, stale, future or
    /// implausible answers.
    function _readReferenceRate(
        LoanVaultLayout.LoanVaultStorage storage $,
        address feed
    ) private view returns (uint256 bps) {
        (, int256 answer, , uint256 updatedAt, ) = AggregatorV3Interface(feed).latestRoundData();
        if (
            answer <= 0 ||
            updatedAt > block.timestamp ||
            block.timestamp - updatedAt > $.risk.referenceFeedMaxStalenessSeconds
        ) revert LoanVaultBadReferenceRate(feed, answer, updatedAt);
        bps = uint256(answer).mulDivUp(BPS, 10 ** AggregatorV3Interface(feed).decimals());
        if (bps > MAX_REFERENCE_RATE_BPS) revert LoanVaultBadReferenceRate(feed, answer, updatedAt);
    }

    function _setRiskParams(LoanVaultLayout.LoanVaultStorage storage $, RiskParams calldata params) private {
        LoanLens.validateRiskParams(params);
        $.risk = params;
        emit RiskParamsSet(params);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {
    ILoanVault,
    ILoanVaultAssets,
    ILoanVaultOracleHooks,
    ILoanVaultReferenceRate
} from "../interfaces/ILoanVault.sol";
import {IGpuReceipt} from "../interfaces/IGpuReceipt.sol";
import {ILoanVaultJuniorHooks} from "../interfaces/IJuniorTranche.sol";
import {IStakedUSDai} from "../interfaces/IStakedUSDai.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {BORROWER_ROLE, CREDIT_ADMIN_ROLE, ORACLE_ROLE, UNDERWRITER_ROLE} from "../libraries/Roles.sol";
import {BPS} from "../libraries/Constants.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR} from "../libraries/LoanSchedule.sol";
import {LoanAccounting} from "./logic/LoanAccounting.sol";
import {LoanCollateral} from "./logic/LoanCollateral.sol";
import {LoanCovenants} from "./logic/LoanCovenants.sol";
import {LoanLens} from "./logic/LoanLens.sol";
import {LoanOrigination} from "./logic/LoanOrigination.sol";
import {LoanPayments} from "./logic/LoanPayments.sol";
import {LoanRecovery} from "./logic/LoanRecovery.sol";
import {LoanStorage, loanStorage} from "./logic/LoanStorage.sol";

/// @title LoanVault
/// @notice GPU-backed term loans funded by sUSDai: approval, borrow, per-second interest, a monthly schedule,
/// repayment, a revenue lockbox with its waterfall and cash sweep, covenants and cure periods, default with
/// impairment, and recovery by Dutch auction or step-in.
/// @dev A router. Each entry point checks roles, pause and reentrancy, then calls one logic function in the library
/// named for its concern (`contracts/credit/logic/`): `LoanOrigination`, `LoanPayments`, `LoanCovenants`,
/// `LoanRecovery`, and `LoanLens` for computed views. Every change to the books (the NAV aggregates, the impaired total
/// and the exposures) goes through `LoanAccounting.applyChange`. Linked (external, DELEGATECALL) or inlined
/// (internal) is chosen per path from `gas/ceilings.json`: the oracle pushes and the auction's settlement are inlined
/// here, where a cold DELEGATECALL would cost them more than their ceilings allow; everything else, repayment
/// included, is linked, which keeps the vault under 20 KiB. Storage is ERC-7201 namespaced (`LoanStorage`).
/// @custom:oz-upgrades-unsafe-allow state-variable-immutable external-library-linking
contract LoanVault is ILoanVault, LoanStorage, ProtocolUpgradeable {
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
        LoanOrigination.executeSetRiskParams(risk);
        loanStorage().liquidatingPlusOne = 1;
    }

    // ================================================================ origination

    /// @inheritdoc ILoanVault
    function approveLoan(
        LoanTerms calldata terms
    ) external onlyRole(UNDERWRITER_ROLE) whenNotPaused returns (uint256 loanId) {
        if (!hasRole(BORROWER_ROLE, terms.borrower)) revert LoanVaultNotAllowlisted(terms.borrower);
        return LoanOrigination.executeApprove(STAKED, terms);
    }

    /// @inheritdoc ILoanVault
    function cancelApproval(uint256 loanId) external onlyRole(UNDERWRITER_ROLE) {
        LoanOrigination.executeCancelApproval(loanId);
    }

    /// @inheritdoc ILoanVault
    function borrow(uint256 loanId, uint256[] calldata receiptIds) external nonReentrant whenNotPaused {
        LoanOrigination.executeBorrow(
            STAKED,
            RECEIPTS,
            loanId,
            receiptIds,
            hasRole(BORROWER_ROLE, msg.sender)
        );
    }

    // ================================================================ payments

    /// @inheritdoc ILoanVault
    function repay(
        uint256 loanId,
        uint256 amount
    ) external nonReentrant returns (Allocation memory allocation) {
        return LoanPayments.executeRepay(STAKED, USDAI, RECEIPTS, loanId, amount);
    }

    /// @inheritdoc ILoanVault
    function depositRevenue(uint256 loanId, uint256 amount) external nonReentrant {
        LoanPayments.executeDepositRevenue(USDAI, loanId, amount);
    }

    /// @inheritdoc ILoanVault
    function sweep(uint256 loanId) external nonReentrant returns (Allocation memory allocation) {
        return LoanPayments.executeSweep(STAKED, USDAI, RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function releaseExcess(uint256 loanId, address to, uint256 amount) external nonReentrant whenNotPaused {
        LoanPayments.executeReleaseExcess(STAKED, USDAI, RECEIPTS, loanId, to, amount);
    }

    /// @inheritdoc ILoanVault
    function close(uint256 loanId) external nonReentrant {
        LoanPayments.executeClose(USDAI, RECEIPTS, loanId);
    }

    // ================================================================ covenants and pricing

    /// @inheritdoc ILoanVault
    function topUp(uint256 loanId, uint256[] calldata receiptIds) external nonReentrant {
        LoanCovenants.executeTopUp(RECEIPTS, loanId, receiptIds);
    }

    /// @inheritdoc ILoanVault
    function checkCovenants(uint256 loanId) external nonReentrant returns (uint256 breachFlags) {
        return LoanCovenants.executeCheckCovenants(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVaultReferenceRate
    function refreshReferenceRate(uint256 loanId) external {
        LoanCovenants.executeRefreshReferenceRate(loanId);
    }

    /// @inheritdoc ILoanVaultReferenceRate
    function pendingReferenceRate(
        uint256 loanId
    ) external view returns (bool pending, uint256 referenceRateBps) {
        return LoanCovenants.pendingReferenceRate(loanId);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function applyCouponStep(
        uint256 loanId,
        uint256 stepId,
        int256 deltaBps,
        bool topUpRequired
    ) external onlyRole(ORACLE_ROLE) {
        LoanCovenants.executeCouponStep(loanId, stepId, deltaBps, topUpRequired);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function setCovenantBreach(uint256 loanId, uint256 flags) external onlyRole(ORACLE_ROLE) {
        LoanCovenants.executeSetCovenantBreach(loanId, flags);
    }

    // ================================================================ default and recovery

    /// @inheritdoc ILoanVault
    function declareDefault(uint256 loanId) external nonReentrant {
        LoanRecovery.executeDeclareDefault(STAKED, USDAI, RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function liquidate(uint256 loanId) external nonReentrant returns (uint256 auctionId) {
        return LoanRecovery.executeLiquidate(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function lowerReserve(
        uint256 loanId,
        uint256 reservePrice
    ) external nonReentrant onlyRole(CREDIT_ADMIN_ROLE) {
        LoanRecovery.executeLowerReserve(loanId, reservePrice);
    }

    /// @inheritdoc ILoanVault
    function onAuctionSettled(
        uint256 loanId,
        uint256 proceeds,
        address buyer
    ) external nonReentrant returns (uint256[] memory receiptIds) {
        LoanVaultStorage storage $ = loanStorage();
        if (msg.sender != address($.auction)) revert LoanVaultNotAuction(msg.sender);
        // One lot fewer in auction. (A lot started before the count existed was never counted: it stays at zero.)
        uint64 liquidatingPlusOne = $.liquidatingPlusOne;
        if (liquidatingPlusOne > 1) $.liquidatingPlusOne = liquidatingPlusOne - 1;
        return LoanRecovery.executeSettlement(STAKED, USDAI, loanId, proceeds, buyer, LoanStatus.Liquidating);
    }

    /// @inheritdoc ILoanVault
    function stepIn(uint256 loanId, address newBorrower) external nonReentrant onlyRole(CREDIT_ADMIN_ROLE) {
        if (newBorrower == address(0)) revert LoanVaultZeroAddress();
        if (!hasRole(BORROWER_ROLE, newBorrower)) revert LoanVaultNotAllowlisted(newBorrower);
        LoanRecovery.executeStepIn(STAKED, USDAI, RECEIPTS, loanId, newBorrower);
    }

    /// @inheritdoc ILoanVault
    function writeOff(uint256 loanId) external nonReentrant {
        LoanRecovery.executeWriteOff(STAKED, USDAI, RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function recordRecovery(
        uint256 loanId,
        uint256 amount
    ) external nonReentrant onlyRole(CREDIT_ADMIN_ROLE) {
        LoanRecovery.executeRecordRecovery(STAKED, USDAI, loanId, amount);
    }

    /// @inheritdoc ILoanVault
    function claimSurplus(address to) external nonReentrant returns (uint256 amount) {
        return LoanRecovery.executeClaimSurplus(USDAI, to);
    }

    // ================================================================ governance

    /// @inheritdoc ILoanVault
    function setRiskParams(RiskParams calldata params) external onlyRole(CREDIT_ADMIN_ROLE) {
        LoanOrigination.executeSetRiskParams(params);
    }

    /// @inheritdoc ILoanVault
    function setAuction(address auction_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        LoanRecovery.executeSetAuction(auction_);
    }

    /// @inheritdoc ILoanVault
    function setUtilizationOracle(address oracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        LoanRecovery.executeSetUtilizationOracle(oracle);
    }

    /// @inheritdoc ILoanVault
    function setJuniorTranche(address junior) external onlyRole(DEFAULT_ADMIN_ROLE) {
        LoanRecovery.executeSetJuniorTranche(junior);
    }

    /// @inheritdoc ILoanVaultJuniorHooks
    function syncJuniorAssets(uint256 assets) external {
        LoanRecovery.executeSyncJuniorAssets(assets);
    }

    // ================================================================ views

    /// @inheritdoc ILoanVaultJuniorHooks
    /// @dev The principal at risk of the written-down and impaired loans (`LoanStorage.principalAtRisk`).
    function firstLossClaim() external view returns (uint256) {
        return loanStorage().principalAtRisk;
    }

    /// @inheritdoc ILoanVaultJuniorHooks
    /// @dev The outstanding principal of performing loans plus the impaired total.
    function loanBook() external view returns (uint256) {
        return LoanAccounting.loanBook(loanStorage());
    }

    /// @inheritdoc ILoanVault
    function juniorTranche() external view returns (address junior, uint256 assets, uint256 protected) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        return (address($.junior), $.juniorAssets, LoanAccounting.protection($));
    }

    /// @inheritdoc ILoanVaultAssets
    function loanAssets() external view returns (uint256) {
        return LoanAccounting.loanAssets(loanStorage());
    }

    /// @inheritdoc ILoanVaultAssets
    function entryLoanAssets() external view returns (uint256) {
        return LoanAccounting.entryLoanAssets(loanStorage());
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

    /// @inheritdoc ILoanVault
    function collateralValueOf(uint256 loanId) external view returns (uint256) {
        return LoanLens.collateralValueOf(RECEIPTS, loanId);
    }

    /// @inheritdoc ILoanVault
    function inGoodStanding(uint256 loanId) external view returns (bool) {
        return LoanLens.inGoodStanding(loanId);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function couponOf(uint256 loanId) external view returns (uint256) {
        LoanState storage s = loanStorage().state[loanId];
        return LoanAccounting.couponBps(s.referenceRateBps, s.premiumBps);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function isPerforming(uint256 loanId) external view returns (bool) {
        return loanStorage().state[loanId].status == LoanStatus.Active;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function premiumBounds(uint256 loanId) external view returns (uint256, uint256, uint256) {
        LoanVaultStorage storage $ = loanStorage();
        LoanTerms storage t = $.terms[loanId];
        return ($.state[loanId].premiumBps, t.premiumFloorBps, t.premiumCapBps);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function revenueCovenantInputs(
        uint256 loanId,
        uint256 periodDays
    ) external view returns (uint256 debtService, uint256 revenueDeposited) {
        LoanVaultStorage storage $ = loanStorage();
        LoanState storage s = $.state[loanId];
        revenueDeposited = $.revenueDeposited[loanId];
        if (s.status != LoanStatus.Active) return (0, revenueDeposited);
        LoanTerms storage t = $.terms[loanId];
        uint256 periodSeconds = periodDays * 1 days;
        // Terms keep the interval at least a day: no division by zero.
        debtService =
            uint256(s.principal).mulDivUp(uint256(s.couponBps) * periodSeconds, INTEREST_DENOMINATOR) +
            uint256(s.schedulePrincipal).mulDivUp(
                uint256(t.amortizationBps) * periodSeconds,
                BPS * t.paymentIntervalSeconds
            );
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function covenantTermsOf(uint256 loanId) external view returns (uint16, bool, uint16, uint16) {
        LoanTerms storage t = loanStorage().terms[loanId];
        return (t.minDscrBps, t.lockboxCheck, t.shortfallToleranceBps, t.maxGapDays);
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function slaUptimeBps(uint256 loanId) external view returns (uint256) {
        return loanStorage().terms[loanId].slaUptimeBps;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function lastCouponStepId(uint256 loanId) external view returns (uint256) {
        return loanStorage().state[loanId].lastStepId;
    }

    /// @inheritdoc ILoanVaultOracleHooks
    function covenantFlags(uint256 loanId) external view returns (uint256) {
        return loanStorage().state[loanId].oracleFlags;
    }

    /// @inheritdoc ILoanVault
    function termsOf(uint256 loanId) external view returns (LoanTerms memory) {
        _returnEncoded(LoanLens.encodedTerms(loanId));
    }

    /// @inheritdoc ILoanVault
    function stateOf(uint256 loanId) external view returns (LoanState memory) {
        _returnEncoded(LoanLens.encodedState(loanId));
    }

    /// @inheritdoc ILoanVault
    function receiptsOf(uint256 loanId) external view returns (uint256[] memory) {
        LoanVaultStorage storage $ = loanStorage();
        return LoanCollateral.load($, loanId, $.state[loanId].receiptCount);
    }

    /// @inheritdoc ILoanVault
    function accrualState()
        external
        view
        returns (
            uint256 totalPrincipal,
            uint256 rateSum,
            int256 interestNumerator,
            uint256 checkpointAt,
            uint256 impaired
        )
    {
        return LoanLens.accrualState();
    }

    /// @inheritdoc ILoanVault
    function exposureOf(
        address borrower,
        bytes32 site
    ) external view returns (uint256 borrowerPrincipal, uint256 sitePrincipal) {
        LoanVaultStorage storage $ = loanStorage();
        return ($.borrowerPrincipal[borrower], $.sitePrincipal[site]);
    }

    /// @inheritdoc ILoanVault
    function loanCount() external view returns (uint256) {
        return loanStorage().loanCount;
    }

    /// @inheritdoc ILoanVault
    function riskParams() external view returns (RiskParams memory) {
        _returnEncoded(LoanLens.encodedRiskParams());
    }

    /// @inheritdoc ILoanVault
    function auction() external view returns (address) {
        return address(loanStorage().auction);
    }

    /// @inheritdoc ILoanVault
    function utilizationOracle() external view returns (address) {
        return loanStorage().utilizationOracle;
    }

    /// @inheritdoc ILoanVault
    function liquidatingCount() external view returns (uint256) {
        return LoanRecovery.liquidatingCount(loanStorage());
    }

    /// @inheritdoc ILoanVault
    function surplusOf(address borrower) external view returns (uint256) {
        return loanStorage().surplus[borrower];
    }

    /// @inheritdoc ILoanVault
    function staked() external view returns (address) {
        return address(STAKED);
    }

    /// @inheritdoc ILoanVault
    function receipts() external view returns (address) {
        return address(RECEIPTS);
    }

    /// @dev Ends the call returning `encoded` as its return data: the ABI encoding of the function's return value,
    /// built by `LoanLens` (see its `encoded*` views).
    function _returnEncoded(bytes memory encoded) private pure {
        assembly ("memory-safe") {
            return(add(encoded, 0x20), mload(encoded))
        }
    }
}

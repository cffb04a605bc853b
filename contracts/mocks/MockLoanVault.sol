// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILoanVaultOracleHooks} from "../interfaces/ILoanVault.sol";
import {IUtilizationOracle} from "../interfaces/IUtilizationOracle.sol";

/// @notice The LoanVault's oracle hooks, implemented faithfully enough for the oracle's tests: a per-loan premium
/// clamped to [floor, cap], steps idempotent by id, covenant flags, the performing flag and the SLA.
/// @dev Test double. Never deployed outside the local networks. Counts every call so tests can prove a skipped push.
contract MockLoanVault is ILoanVaultOracleHooks {
    /// @notice `caller` is not the oracle.
    error MockLoanVaultNotOracle(address caller);

    /// @dev Cure period opened by a step that requires a top-up.
    uint256 public constant CURE_PERIOD = 30 days;

    struct Loan {
        bool performing;
        uint256 slaUptimeBps;
        uint256 referenceRateBps;
        int256 premiumBps;
        int256 floorBps;
        int256 capBps;
        uint256 lastStepId;
        uint256 flags;
        uint256 cureDeadline;
    }

    address public oracle;
    mapping(uint256 loanId => Loan) public loans;
    uint256 public applyCalls;
    uint256 public flagCalls;

    constructor(address oracle_) {
        oracle = oracle_;
    }

    function setOracle(address oracle_) external {
        oracle = oracle_;
    }

    /// @notice Opens `loanId` (performing) with its SLA, reference rate, premium and premium bounds.
    function setLoan(
        uint256 loanId,
        uint256 slaUptimeBps_,
        uint256 referenceRateBps,
        int256 premiumBps,
        int256 floorBps,
        int256 capBps
    ) external {
        Loan storage loan = loans[loanId];
        loan.performing = true;
        loan.slaUptimeBps = slaUptimeBps_;
        loan.referenceRateBps = referenceRateBps;
        loan.premiumBps = premiumBps;
        loan.floorBps = floorBps;
        loan.capBps = capBps;
    }

    /// @notice A replacement operator steps in on `loanId`, as the LoanVault's `stepIn` does: the loan's premium and
    /// flags restart, and the oracle is told (`onStepIn`).
    function stepIn(uint256 loanId, int256 basePremiumBps) external {
        Loan storage loan = loans[loanId];
        loan.premiumBps = basePremiumBps;
        loan.flags = 0;
        loan.cureDeadline = 0;
        IUtilizationOracle(oracle).onStepIn(loanId);
    }

    function setPerforming(uint256 loanId, bool performing) external {
        loans[loanId].performing = performing;
    }

    function setSla(uint256 loanId, uint256 slaUptimeBps_) external {
        loans[loanId].slaUptimeBps = slaUptimeBps_;
    }

    function applyCouponStep(uint256 loanId, uint256 stepId, int256 deltaBps, bool topUpRequired) external {
        _onlyOracle();
        ++applyCalls;
        Loan storage loan = loans[loanId];
        if (stepId <= loan.lastStepId) return;
        loan.lastStepId = stepId;
        int256 before = loan.premiumBps;
        int256 next = before + deltaBps;
        if (next < loan.floorBps) next = loan.floorBps;
        if (next > loan.capBps) next = loan.capBps;
        loan.premiumBps = next;
        if (topUpRequired) loan.cureDeadline = block.timestamp + CURE_PERIOD;
        emit CouponStepApplied(loanId, stepId, deltaBps, next - before, topUpRequired, loan.cureDeadline);
    }

    function setCovenantBreach(uint256 loanId, uint256 flags) external {
        _onlyOracle();
        ++flagCalls;
        Loan storage loan = loans[loanId];
        uint256 previous = loan.flags;
        if (previous == flags) return;
        loan.flags = flags;
        emit CovenantFlagsSet(loanId, previous, flags);
    }

    function premiumBounds(uint256 loanId) external view returns (uint256, uint256, uint256) {
        Loan storage loan = loans[loanId];
        return (uint256(loan.premiumBps), uint256(loan.floorBps), uint256(loan.capBps));
    }

    function isPerforming(uint256 loanId) external view returns (bool) {
        return loans[loanId].performing;
    }

    /// @dev The debt service of one day (the mock's is linear in the period) and the cumulative lockbox deposits.
    mapping(uint256 loanId => uint256) public debtServicePerDay;
    mapping(uint256 loanId => uint256) public revenueDeposited;

    function setDebtServicePerDay(uint256 loanId, uint256 amount) external {
        debtServicePerDay[loanId] = amount;
    }

    function depositRevenue(uint256 loanId, uint256 amount) external {
        revenueDeposited[loanId] += amount;
    }

    function revenueCovenantInputs(
        uint256 loanId,
        uint256 periodDays
    ) external view returns (uint256, uint256) {
        return (debtServicePerDay[loanId] * periodDays, revenueDeposited[loanId]);
    }

    /// @dev The covenants in each loan's terms (`covenantTermsOf`). The LoanVault fixes them at approval; the mock
    /// sets them freely, as a new approval would.
    struct CovenantTerms {
        uint16 minDscrBps;
        bool lockboxCheck;
        uint16 shortfallToleranceBps;
        uint16 maxGapDays;
    }
    mapping(uint256 loanId => CovenantTerms) public covenantTerms;

    function setCovenantTerms(uint256 loanId, CovenantTerms calldata terms) external {
        covenantTerms[loanId] = terms;
    }

    function covenantTermsOf(uint256 loanId) external view returns (uint16, bool, uint16, uint16) {
        CovenantTerms storage t = covenantTerms[loanId];
        return (t.minDscrBps, t.lockboxCheck, t.shortfallToleranceBps, t.maxGapDays);
    }

    function slaUptimeBps(uint256 loanId) external view returns (uint256) {
        return loans[loanId].slaUptimeBps;
    }

    function lastCouponStepId(uint256 loanId) external view returns (uint256) {
        return loans[loanId].lastStepId;
    }

    function covenantFlags(uint256 loanId) external view returns (uint256) {
        return loans[loanId].flags;
    }

    function couponOf(uint256 loanId) external view returns (uint256) {
        Loan storage loan = loans[loanId];
        return uint256(int256(loan.referenceRateBps) + loan.premiumBps);
    }

    function premiumOf(uint256 loanId) external view returns (int256) {
        return loans[loanId].premiumBps;
    }

    function _onlyOracle() private view {
        if (msg.sender != oracle) revert MockLoanVaultNotOracle(msg.sender);
    }
}

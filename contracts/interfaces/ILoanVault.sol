// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @dev Covenant flag set by the oracle: the latest uptime reading is below the loan's SLA.
uint256 constant COVENANT_SLA_BREACH = 1 << 0;

/// @title ILoanVaultAssets
/// @notice The part of the LoanVault that sUSDai reads for its NAV.
interface ILoanVaultAssets {
    /// @notice Principal plus accrued interest of performing loans, plus the expected recovery of impaired ones, in
    /// USDai units. O(1): it costs the same with 1 or 10,000 loans.
    function loanAssets() external view returns (uint256);
}

/// @title ILoanVaultOracleHooks
/// @notice The part of the LoanVault that the UtilizationOracle pushes into (ORACLE role only).
/// @dev Both pushes are idempotent. A coupon step carries an id that increases per loan: the vault applies a step
/// once and ignores an id it has already seen, so a retried or replayed `performUpkeep` cannot step a coupon twice.
/// (DESIGN.md names the call `applyCouponStep(loanId, deltaBps, topUpRequired)`; the step id is what makes a delta
/// idempotent.)
interface ILoanVaultOracleHooks {
    /// @notice Oracle step `stepId` moved the loan's premium by `appliedDeltaBps` (after clamping to the terms' floor
    /// and cap; `requestedDeltaBps` before) and, when `topUpRequired`, opened a cure window ending at `cureDeadline`.
    event CouponStepApplied(
        uint256 indexed loanId,
        uint256 indexed stepId,
        int256 requestedDeltaBps,
        int256 appliedDeltaBps,
        bool topUpRequired,
        uint256 cureDeadline
    );

    /// @notice The oracle set the loan's covenant flags to `flags` (previously `previousFlags`).
    event CovenantFlagsSet(uint256 indexed loanId, uint256 previousFlags, uint256 flags);

    /// @notice Applies oracle coupon step `stepId` to `loanId`: the premium moves by `deltaBps`, clamped to the
    /// terms' [floor, cap]; when `topUpRequired`, a collateral top-up is due within the cure period. A `stepId` not
    /// above the last one applied to the loan is ignored (idempotent).
    function applyCouponStep(uint256 loanId, uint256 stepId, int256 deltaBps, bool topUpRequired) external;

    /// @notice Sets the oracle-driven covenant flags of `loanId` (bit 0: `COVENANT_SLA_BREACH`). Setting the same
    /// flags again changes nothing.
    function setCovenantBreach(uint256 loanId, uint256 flags) external;

    /// @notice Whether `loanId` is open and performing, so oracle pushes apply to it.
    function isPerforming(uint256 loanId) external view returns (bool);

    /// @notice The loan's uptime SLA in basis points of capacity.
    function slaUptimeBps(uint256 loanId) external view returns (uint256);

    /// @notice The last coupon step id applied to `loanId` (0: none).
    function lastCouponStepId(uint256 loanId) external view returns (uint256);

    /// @notice The loan's current covenant flags set by the oracle.
    function covenantFlags(uint256 loanId) external view returns (uint256);

    /// @notice The loan's current annual coupon in basis points (reference rate + premium).
    function couponOf(uint256 loanId) external view returns (uint256);
}

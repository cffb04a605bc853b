// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICollateralAuction} from "../../interfaces/ICollateralAuction.sol";
import {IJuniorTranche} from "../../interfaces/IJuniorTranche.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";

// keccak256(abi.encode(uint256(keccak256("gpucredit.storage.LoanVault")) - 1)) & ~bytes32(uint256(0xff))
bytes32 constant LOAN_VAULT_STORAGE_LOCATION =
    0x7132b94879d76e7592ea43c7b544c0add2fe360152c76ed16c0b63ad2a6ce000;

/// @title LoanStorage
/// @notice The LoanVault's ERC-7201 namespaced storage: the struct, its slot and its accessor, in one place. The vault
/// inherits this contract so that the upgrade-safety checks see the namespace; the logic libraries reach the same
/// storage through `loanStorage()`.
/// @dev The books are `aggregates`, `impaired`, `markdown`, `principalAtRisk`, `juniorAssets`, `borrowerPrincipal` and
/// `sitePrincipal`. Only `LoanAccounting` writes them (`npm run lint:books` enforces it).
abstract contract LoanStorage {
    /// @dev The NAV aggregates over performing loans, in two slots. The interest numerator is exact, in
    /// `USD x bps x seconds` (`LoanSchedule.INTEREST_DENOMINATOR` per USD of interest), and runs forward from
    /// `checkpointAt` at `rateSum = sum(principal x couponBps)` per second.
    /// The numerator is signed: interest a borrower paid ahead of time (up to its next due date) is unearned until then,
    /// and a loan paid ahead adds `-principal x couponBps x (accruedAt - now)` to it. It is stored as the bits of an
    /// `int216` in the field's original `uint216` (`LoanAccounting` reads it as one), which keeps the layout of
    /// vaults deployed before it could be negative: their (non-negative) value reads the same.
    struct Aggregates {
        uint128 totalPrincipal;
        uint128 rateSum;
        uint216 interestNumerator;
        uint40 checkpointAt;
    }

    /// @dev The risk parameters as first laid out (`ILoanVault.RiskParams` adds the state machine's two, stored at the
    /// end of the namespace so the layout of deployed vaults does not move).
    struct StoredRiskParams {
        uint16 borrowerCapBps;
        uint16 siteCapBps;
        uint16 recoveryHaircutBps;
        uint32 referenceFeedMaxStalenessSeconds;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.LoanVault
    struct LoanVaultStorage {
        Aggregates aggregates;
        // One slot: the auction's settlement checks its caller and then moves the impaired total, so the second read
        // is warm. 96 bits of USDai (7.9e28) bound the sum of impairments as each loan's principal is bound.
        ICollateralAuction auction;
        uint96 impaired;
        uint256 loanCount;
        StoredRiskParams risk;
        mapping(uint256 loanId => ILoanVault.LoanTerms) terms;
        mapping(uint256 loanId => ILoanVault.LoanState) state;
        mapping(uint256 loanId => mapping(uint256 slot => uint256)) receiptSlots;
        mapping(address borrower => uint256) borrowerPrincipal;
        mapping(bytes32 site => uint256) sitePrincipal;
        // One slot, read by liquidation (the window) and written by it and by the sale (the count):
        // `RiskParams.materialityThreshold` and `RiskParams.stepInWindowSeconds`, and one plus the number of loans in
        // `Liquidating` (zero on a vault initialized before the count existed, read as none), so the count moves
        // between non-zero values.
        uint96 materialityThreshold;
        uint32 stepInWindowSeconds;
        uint64 liquidatingPlusOne;
        // Auction surplus a borrower could not be paid (its transfer reverted), to claim.
        mapping(address borrower => uint256) surplus;
        // The utilization oracle told of a step-in (`IUtilizationOracle.onStepIn`); zero: none.
        address utilizationOracle;
        // Beside the oracle: the markdown of the impaired loans, `sum(claim - impairedValue)` over Defaulted and
        // Liquidating loans, where a loan's claim is its principal, interest and late fees at the default (frozen
        // from then on). The entry price adds it back (`entryLoanAssets`); zero on a vault that had no impaired loan
        // when it was upgraded to have it.
        uint96 markdown;
        // The revenue ever deposited into each loan's lockbox (`depositRevenue`), cumulative: the oracle compares its
        // increase over a reported period with the period's reported revenue. Zero for deposits before the upgrade.
        mapping(uint256 loanId => uint256) revenueDeposited;
        // First-loss capital (`ILoanVault.setJuniorTranche`): the junior tranche (zero: none).
        IJuniorTranche junior;
        // One slot, read by every NAV (`loanAssets`): the junior's USDai as it last reported it (`syncJuniorAssets`) or
        // as this vault moved it (cover drawn), and the principal at risk of the written-down and impaired loans, what
        // the junior stands in front of sUSDai for: `sum(writedown)` over Active loans marked past grace plus
        // `sum(max(0, principal - impairedValue))` over Defaulted and Liquidating ones. NAV adds back
        // `min(principalAtRisk, juniorAssets)`. Zero on a vault upgraded while loans were impaired (read as none).
        uint128 juniorAssets;
        uint128 principalAtRisk;
    }
}

/// @dev The LoanVault's storage, for the vault and its logic libraries (which run on the vault's storage, inlined or by
/// DELEGATECALL).
function loanStorage() pure returns (LoanStorage.LoanVaultStorage storage $) {
    assembly {
        $.slot := LOAN_VAULT_STORAGE_LOCATION
    }
}

/// @dev Reverts with `LoanVaultBadStatus` unless the loan is in `expected`.
function requireStatus(uint256 loanId, ILoanVault.LoanState storage s, ILoanVault.LoanStatus expected) view {
    ILoanVault.LoanStatus status = s.status;
    if (status != expected) revert ILoanVault.LoanVaultBadStatus(loanId, status);
}

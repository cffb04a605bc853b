// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICollateralAuction} from "../interfaces/ICollateralAuction.sol";
import {ILoanVault} from "../interfaces/ILoanVault.sol";

/// @title LoanVaultLayout
/// @notice The LoanVault's ERC-7201 namespaced storage, shared by the vault and its libraries.
abstract contract LoanVaultLayout {
    /// @dev The NAV aggregates over performing loans, in two slots.
    struct Aggregates {
        uint128 totalPrincipal;
        uint128 rateSum;
        uint216 interestNumerator;
        uint40 checkpointAt;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.LoanVault
    struct LoanVaultStorage {
        Aggregates aggregates;
        // One slot: the auction's settlement checks its caller and then moves the impaired total, so the second read
        // is warm. 96 bits of USDai (7.9e28) bound the sum of impairments as each loan's principal is bound.
        ICollateralAuction auction;
        uint96 impaired;
        uint256 loanCount;
        ILoanVault.RiskParams risk;
        mapping(uint256 loanId => ILoanVault.LoanTerms) terms;
        mapping(uint256 loanId => ILoanVault.LoanState) state;
        mapping(uint256 loanId => mapping(uint256 slot => uint256)) receiptSlots;
        mapping(address borrower => uint256) borrowerPrincipal;
        mapping(bytes32 site => uint256) sitePrincipal;
    }
}

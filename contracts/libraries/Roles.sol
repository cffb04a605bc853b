// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @dev AccessControl role identifiers (DESIGN.md, "Roles"). `DEFAULT_ADMIN_ROLE` (0x00) is governance.
/// TypeScript computes the same ids with `ethers.id("<NAME>_ROLE")` (helpers/roles.ts).

/// @dev May upgrade a UUPS implementation.
bytes32 constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
/// @dev Guardian: may pause new money in and new loans.
bytes32 constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
/// @dev Moves USDai reserves between the liquid buffer and the T-bill vault.
bytes32 constant RESERVE_MANAGER_ROLE = keccak256("RESERVE_MANAGER_ROLE");
/// @dev Mints GPU receipts.
bytes32 constant TOKENIZER_ROLE = keccak256("TOKENIZER_ROLE");
/// @dev Signs EIP-712 attestations of GPU serials.
bytes32 constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
/// @dev Sets receipt appraisals.
bytes32 constant APPRAISER_ROLE = keccak256("APPRAISER_ROLE");
/// @dev Binds insurance policies to receipts.
bytes32 constant INSURER_ROLE = keccak256("INSURER_ROLE");
/// @dev Approves loan terms.
bytes32 constant UNDERWRITER_ROLE = keccak256("UNDERWRITER_ROLE");
/// @dev Credit parameters, concentration caps, step-in.
bytes32 constant CREDIT_ADMIN_ROLE = keccak256("CREDIT_ADMIN_ROLE");
/// @dev Allowlisted GPU operators that may borrow.
bytes32 constant BORROWER_ROLE = keccak256("BORROWER_ROLE");
/// @dev Allowlisted holders of GPU receipts.
bytes32 constant RECEIPT_HOLDER_ROLE = keccak256("RECEIPT_HOLDER_ROLE");
/// @dev May blacklist sUSDai addresses.
bytes32 constant BLACKLIST_ROLE = keccak256("BLACKLIST_ROLE");
/// @dev Signs EIP-712 utilization reports.
bytes32 constant REPORTER_ROLE = keccak256("REPORTER_ROLE");
/// @dev Configures oracle sources and rules.
bytes32 constant ORACLE_ADMIN_ROLE = keccak256("ORACLE_ADMIN_ROLE");
/// @dev Held by the UtilizationOracle contract on the LoanVault.
bytes32 constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
/// @dev Held by the LoanVault contract on StakedUSDai.
bytes32 constant LOAN_VAULT_ROLE = keccak256("LOAN_VAULT_ROLE");
/// @dev Automation and keepers.
bytes32 constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
/// @dev Allowlists holders of jUSDai (the junior tranche's registered notes).
bytes32 constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

/** Deployment names (hardhat-deploy) shared by deploy scripts, tasks, tests and the demo. */
export const DeployIds = {
  ReserveToken: "ReserveToken",
  TBillVault: "TBillVault",
  ReferenceRateFeed: "ReferenceRateFeed",
  USDai: "USDai",
  StakedUSDai: "StakedUSDai",
  GpuReceipt: "GpuReceipt",
  GpuReceiptRenderer: "GpuReceiptRenderer",
  UtilizationOracle: "UtilizationOracle",
  LoanVault: "LoanVault",
  CollateralAuction: "CollateralAuction",
  LoanOrigination: "LoanOrigination",
  LoanPayments: "LoanPayments",
  LoanCovenants: "LoanCovenants",
  LoanRecovery: "LoanRecovery",
  LoanLens: "LoanLens",
} as const;

/**
 * The LoanVault's linked logic libraries (contracts/credit/logic/), in deploy order: a library comes after those it
 * links (LoanPayments calls LoanCovenants). Each is deployed once and linked into the vault's implementation; the vault
 * calls their external functions by DELEGATECALL on its own storage.
 */
export const LOAN_VAULT_LIBRARIES = [
  DeployIds.LoanCovenants,
  DeployIds.LoanPayments,
  DeployIds.LoanOrigination,
  DeployIds.LoanRecovery,
  DeployIds.LoanLens,
] as const;

/** hardhat-deploy tags (DESIGN.md, "Deploy tags"). */
export const Tags = {
  Mocks: "mocks",
  USDai: "usdai",
  StakedUSDai: "susdai",
  Receipts: "receipts",
  Oracle: "oracle",
  Loans: "loans",
  Auction: "auction",
  Roles: "roles",
  Protocol: "protocol",
} as const;

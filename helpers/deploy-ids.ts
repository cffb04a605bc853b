/** Deployment names (hardhat-deploy) shared by deploy scripts, tasks, tests and the demo. */
export const DeployIds = {
  ReserveToken: "ReserveToken",
  TBillVault: "TBillVault",
  ReferenceRateFeed: "ReferenceRateFeed",
  /** Local networks only: a utilization feed for `oracle:configure --sources feed:UtilizationFeed`. */
  UtilizationFeed: "UtilizationFeed",
  USDai: "USDai",
  StakedUSDai: "StakedUSDai",
  GpuReceipt: "GpuReceipt",
  GpuReceiptRenderer: "GpuReceiptRenderer",
  UtilizationOracle: "UtilizationOracle",
  LoanVault: "LoanVault",
  CollateralAuction: "CollateralAuction",
  LoanLens: "LoanLens",
  LoanLockbox: "LoanLockbox",
  LoanRecovery: "LoanRecovery",
} as const;

/** hardhat-deploy tags (docs/architecture.md, "Deployment"). */
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

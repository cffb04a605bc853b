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
  LoanOrigination: "LoanOrigination",
  LoanPayments: "LoanPayments",
  LoanCovenants: "LoanCovenants",
  LoanRecovery: "LoanRecovery",
  LoanLens: "LoanLens",
  OracleRecording: "OracleRecording",
  OracleFeeds: "OracleFeeds",
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

/**
 * The UtilizationOracle's linked libraries (contracts/oracle/), in deploy order: the rule engine (observations, streaks,
 * pending steps) and the sources (configuration, feed reads). Neither links another.
 */
export const ORACLE_LIBRARIES = [DeployIds.OracleRecording, DeployIds.OracleFeeds] as const;

/**
 * The protocol's UUPS cores, by deployment name (docs/architecture.md): governance hands each of them to the timelock,
 * and the upgrade, hijack and access-control tests check each one. A new core joins all of them by being listed here.
 */
export const Cores = [
  DeployIds.USDai,
  DeployIds.StakedUSDai,
  DeployIds.GpuReceipt,
  DeployIds.LoanVault,
  DeployIds.CollateralAuction,
  DeployIds.UtilizationOracle,
] as const;
export type CoreId = (typeof Cores)[number];

/** The linked libraries of each core that has some, by deployment name. */
export const CORE_LIBRARIES: Partial<Record<CoreId, readonly string[]>> = {
  [DeployIds.LoanVault]: LOAN_VAULT_LIBRARIES,
  [DeployIds.UtilizationOracle]: ORACLE_LIBRARIES,
};

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

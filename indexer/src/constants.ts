/** `ILoanVault.LoanStatus`, by its enum index. */
export const LOAN_STATUSES = [
  "None",
  "Approved",
  "Active",
  "Repaid",
  "Defaulted",
  "Liquidating",
  "Recovered",
  "WrittenOff",
  "Closed",
  "Cancelled",
] as const;

/** `IUtilizationOracle.SkipReason`, by its enum index. */
export const SKIP_REASONS = [
  "CallFailed",
  "MalformedResponse",
  "NonPositiveAnswer",
  "AboveFullScale",
  "FutureTimestamp",
  "Stale",
  "RoundNotNewer",
] as const;

/** Lifecycle of a redemption request in the indexer's `redemption` table. */
export const REDEMPTION_STATUSES = ["pending", "partially_serviced", "serviced", "claimed"] as const;

/** The `kind` of a row of the indexer's `oracle_covenant_event` table, one per oracle covenant event. */
export const ORACLE_COVENANT_KINDS = ["dscr-breach", "revenue-shortfall", "data-gap"] as const;

export type OracleCovenantKind = (typeof ORACLE_COVENANT_KINDS)[number];

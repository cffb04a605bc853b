/** The protocol contracts the indexer follows, by their hardhat-deploy deployment (and artifact) name. */
export const INDEXED_CONTRACTS = [
  "USDai",
  "StakedUSDai",
  "GpuReceipt",
  "LoanVault",
  "CollateralAuction",
  "UtilizationOracle",
] as const;

export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

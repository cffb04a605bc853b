/** Deployment names (hardhat-deploy) shared by deploy scripts, tasks, tests and the demo. */
export const DeployIds = {
  ReserveToken: "ReserveToken",
  TBillVault: "TBillVault",
  USDai: "USDai",
  StakedUSDai: "StakedUSDai",
  GpuReceipt: "GpuReceipt",
  GpuReceiptRenderer: "GpuReceiptRenderer",
  UtilizationOracle: "UtilizationOracle",
} as const;

/** hardhat-deploy tags (DESIGN.md, "Deploy tags"). */
export const Tags = {
  Mocks: "mocks",
  USDai: "usdai",
  StakedUSDai: "susdai",
  Receipts: "receipts",
  Oracle: "oracle",
  Roles: "roles",
  Protocol: "protocol",
} as const;

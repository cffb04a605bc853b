/** Deployment names (hardhat-deploy) shared by deploy scripts, tasks, tests and the demo. */
export const DeployIds = {
  ReserveToken: "ReserveToken",
  TBillVault: "TBillVault",
  USDai: "USDai",
  UtilizationOracle: "UtilizationOracle",
} as const;

/** hardhat-deploy tags (DESIGN.md, "Deploy tags"). */
export const Tags = {
  Mocks: "mocks",
  USDai: "usdai",
  Oracle: "oracle",
  Roles: "roles",
  Protocol: "protocol",
} as const;

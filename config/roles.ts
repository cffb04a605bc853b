import type { RoleName } from "../helpers/roles";
import type { NamedAccount } from "./env";

/** Who holds a role: a named account, or a deployed contract by deployment name. */
export type RoleHolder = { account: NamedAccount } | { deployment: string };

export interface RoleGrant {
  /** Deployment name of the contract whose role is granted. */
  contract: string;
  role: RoleName;
  holders: RoleHolder[];
}

const governance: RoleHolder[] = [{ account: "deployer" }];
const guardian: RoleHolder[] = [{ account: "guardian" }];

/**
 * Every role of docs/architecture.md ("Roles"), by contract. `deploy/09_roles.ts` grants them; entries whose contract or holder is not
 * deployed (yet) are skipped, so partial deploys (`--tags usdai`) work. DEFAULT_ADMIN stays with the deployer locally
 * and moves to a TimelockController on live networks.
 */
export const ROLE_GRANTS: RoleGrant[] = [
  // USDai
  { contract: "USDai", role: "UPGRADER", holders: governance },
  { contract: "USDai", role: "PAUSER", holders: guardian },
  { contract: "USDai", role: "RESERVE_MANAGER", holders: [{ account: "reserveManager" }] },
  // StakedUSDai
  { contract: "StakedUSDai", role: "UPGRADER", holders: governance },
  { contract: "StakedUSDai", role: "PAUSER", holders: guardian },
  { contract: "StakedUSDai", role: "BLACKLIST", holders: [{ account: "blacklister" }] },
  { contract: "StakedUSDai", role: "LOAN_VAULT", holders: [{ deployment: "LoanVault" }] },
  // GpuReceipt
  { contract: "GpuReceipt", role: "UPGRADER", holders: governance },
  { contract: "GpuReceipt", role: "PAUSER", holders: guardian },
  { contract: "GpuReceipt", role: "TOKENIZER", holders: [{ account: "tokenizer" }] },
  {
    contract: "GpuReceipt",
    role: "ATTESTOR",
    holders: [{ account: "attestor1" }, { account: "attestor2" }, { account: "attestor3" }],
  },
  { contract: "GpuReceipt", role: "APPRAISER", holders: [{ account: "appraiser" }] },
  { contract: "GpuReceipt", role: "INSURER", holders: [{ account: "insurer" }] },
  {
    contract: "GpuReceipt",
    role: "RECEIPT_HOLDER",
    holders: [
      { account: "borrower1" },
      { account: "borrower2" },
      { account: "borrower3" },
      { account: "creditAdmin" },
      { account: "liquidator" },
      { deployment: "LoanVault" },
      { deployment: "CollateralAuction" },
    ],
  },
  // LoanVault
  { contract: "LoanVault", role: "UPGRADER", holders: governance },
  { contract: "LoanVault", role: "PAUSER", holders: guardian },
  { contract: "LoanVault", role: "UNDERWRITER", holders: [{ account: "underwriter" }] },
  { contract: "LoanVault", role: "CREDIT_ADMIN", holders: [{ account: "creditAdmin" }] },
  {
    contract: "LoanVault",
    role: "BORROWER",
    holders: [{ account: "borrower1" }, { account: "borrower2" }, { account: "borrower3" }],
  },
  { contract: "LoanVault", role: "ORACLE", holders: [{ deployment: "UtilizationOracle" }] },
  // CollateralAuction
  { contract: "CollateralAuction", role: "UPGRADER", holders: governance },
  { contract: "CollateralAuction", role: "PAUSER", holders: guardian },
  { contract: "CollateralAuction", role: "LOAN_VAULT", holders: [{ deployment: "LoanVault" }] },
  { contract: "CollateralAuction", role: "CREDIT_ADMIN", holders: [{ account: "creditAdmin" }] },
  // UtilizationOracle
  { contract: "UtilizationOracle", role: "UPGRADER", holders: governance },
  { contract: "UtilizationOracle", role: "PAUSER", holders: guardian },
  { contract: "UtilizationOracle", role: "ORACLE_ADMIN", holders: [{ account: "oracleAdmin" }] },
  {
    contract: "UtilizationOracle",
    role: "REPORTER",
    holders: [{ account: "reporter1" }, { account: "reporter2" }, { account: "reporter3" }],
  },
  { contract: "UtilizationOracle", role: "KEEPER", holders: [{ account: "keeper" }] },
];

/** The protocol's contracts as wagmi/viem `{ address, abi }` pairs, from the generated deployments and artifacts. */
import { erc20Abi } from "viem";

import { config } from "../config";
import {
  CollateralAuctionAbi,
  GpuReceiptAbi,
  LoanVaultAbi,
  MockERC20Abi,
  StakedUSDaiAbi,
  USDaiAbi,
  UtilizationOracleAbi,
} from "../generated/contracts";

function deployed() {
  const d = config.deployment;
  if (!d) {
    throw new Error(
      `nothing is deployed on "${config.network}": deploy the protocol, then run \`npm run contracts\` in app/`,
    );
  }
  return d.contracts;
}

export function contracts() {
  const c = deployed();
  return {
    usdai: { address: c.USDai, abi: USDaiAbi },
    susdai: { address: c.StakedUSDai, abi: StakedUSDaiAbi },
    receipts: { address: c.GpuReceipt, abi: GpuReceiptAbi },
    loans: { address: c.LoanVault, abi: LoanVaultAbi },
    auction: { address: c.CollateralAuction, abi: CollateralAuctionAbi },
    oracle: { address: c.UtilizationOracle, abi: UtilizationOracleAbi },
  } as const;
}

/** The reserve stablecoin (USDC): a plain ERC-20, at the address USDai reports (`reserveToken()`). */
export const reserveAbi = erc20Abi;

/** The local networks' mock reserve token has an open `mint(to, amount)`: the app's test-USDC faucet. */
export const faucetAbi = MockERC20Abi;

/** `ILoanVault.LoanStatus`, by enum index. */
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

/** `IGpuReceipt` receipt status, by enum index. */
export const RECEIPT_STATUSES = ["None (redeemed)", "Active", "Redemption requested"] as const;

/** `LoanState.breachFlags` (the vault's covenants): bit 0 maintenance-LTV breach, bit 1 top-up required. */
export const VAULT_FLAGS: readonly [number, string][] = [
  [1, "maintenance LTV breached"],
  [2, "collateral top-up required"],
];
/**
 * `LoanState.oracleFlags` (pushed by the oracle): bit 0 SLA uptime breach, bit 1 data gap (`COVENANT_DATA_GAP`), bit 2
 * debt-service coverage below the floor (`COVENANT_DSCR_BREACH`), bit 3 lockbox deposits short of reported revenue
 * (`COVENANT_REVENUE_SHORTFALL`).
 */
export const ORACLE_FLAGS: readonly [number, string][] = [
  [1, "SLA uptime breached"],
  [2, "utilization data missing"],
  [4, "debt-service coverage below its floor"],
  [8, "lockbox deposits short of reported revenue"],
];

export function flagNames(flags: number, table: readonly [number, string][]): string[] {
  return table.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

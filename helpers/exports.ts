import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

/**
 * Deployment exports for front ends and scripts. `exports/<network>.json` has the shape of hardhat-deploy's own
 * `--export` file (`{ name, chainId, contracts: { <deployment>: { address, abi } } }`), so tools that read that
 * format read this one; `exports/abi/<Contract>.json` holds the network-independent ABIs of the cores and their
 * interfaces.
 */

export interface ExportedContract {
  address: string;
  abi: unknown[];
}

export interface DeploymentExport {
  name: string;
  chainId: string;
  contracts: Record<string, ExportedContract>;
}

/** Contracts whose ABI is published under exports/abi (those not compiled yet are skipped). */
export const PUBLISHED_ABIS = [
  "USDai",
  "StakedUSDai",
  "GpuReceipt",
  "LoanVault",
  "CollateralAuction",
  "UtilizationOracle",
  "IUSDai",
  "IStakedUSDai",
  "IGpuReceipt",
  "ILoanVault",
  "ICollateralAuction",
  "IUtilizationOracle",
  "IERC20Metadata",
  "IERC4626",
] as const;

export const EXPORTS_DIR = path.join(__dirname, "..", "exports");
export const README = path.join(__dirname, "..", "README.md");

/** Networks whose exports are throwaway (a local node), never listed as deployments. */
const LOCAL_EXPORTS = new Set(["hardhat", "localhost"]);
/** The deployments the README's addresses table lists, in this order (proxies: the address to use). */
const README_CONTRACTS = [
  "USDai",
  "StakedUSDai",
  "GpuReceipt",
  "LoanVault",
  "CollateralAuction",
  "UtilizationOracle",
  "ReserveToken",
  "TBillVault",
  "Timelock",
];
const ADDRESSES_START = "<!-- addresses:start -->";
const ADDRESSES_END = "<!-- addresses:end -->";

/**
 * The README's addresses table, from the committed exports of public networks (exports/<network>.json); a sentence
 * saying so when there is none.
 */
export function addressesTable(dir = EXPORTS_DIR): string {
  const exported = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    .filter((f) => f.endsWith(".json") && !LOCAL_EXPORTS.has(f.slice(0, -".json".length)))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as DeploymentExport);
  if (exported.length === 0) {
    return "No public deployment yet: the protocol runs on local networks only (`npm run node`). This table is filled in by `npm run export:deployments -- --network <network>` once a deployment's export is committed.";
  }
  const header = ["contract", ...exported.map((e) => `${e.name} (chain ${e.chainId})`)];
  const rows = README_CONTRACTS.filter((name) => exported.some((e) => e.contracts[name])).map((name) => [
    `\`${name}\``,
    ...exported.map((e) => (e.contracts[name] ? `\`${e.contracts[name].address}\`` : "-")),
  ]);
  // Padded the way prettier formats a Markdown table, so `npm run lint` stays green after an export.
  const widths = header.map((_, i) => Math.max(3, ...[header, ...rows].map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Rewrites the README's addresses table (between its markers) from the exports; returns whether it changed. */
export function updateReadmeAddresses(readme = README, dir = EXPORTS_DIR): boolean {
  const text = fs.readFileSync(readme, "utf8");
  const start = text.indexOf(ADDRESSES_START);
  const end = text.indexOf(ADDRESSES_END);
  if (start < 0 || end < start)
    throw new Error(`${readme} has no ${ADDRESSES_START} ... ${ADDRESSES_END} section`);
  const next = `${text.slice(0, start + ADDRESSES_START.length)}\n\n${addressesTable(dir)}\n\n${text.slice(end)}`;
  if (next === text) return false;
  fs.writeFileSync(readme, next);
  return true;
}

/** Every deployment of the current network with its address and ABI, sorted by name. */
export async function buildDeploymentExport(hre: HardhatRuntimeEnvironment): Promise<DeploymentExport> {
  const all = await hre.deployments.all();
  const chainId = (await hre.ethers.provider.getNetwork()).chainId.toString();
  const contracts: Record<string, ExportedContract> = {};
  for (const name of Object.keys(all).sort()) {
    contracts[name] = { address: all[name].address, abi: all[name].abi };
  }
  return { name: hre.network.name, chainId, contracts };
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes exports/<network>.json and exports/abi/*.json; returns the files written. */
export async function writeExports(hre: HardhatRuntimeEnvironment, dir = EXPORTS_DIR): Promise<string[]> {
  const written: string[] = [];
  const combined = await buildDeploymentExport(hre);
  const file = path.join(dir, `${hre.network.name}.json`);
  writeJson(file, combined);
  written.push(file);
  for (const name of PUBLISHED_ABIS) {
    if (!(await hre.artifacts.artifactExists(name))) continue;
    const { abi } = await hre.artifacts.readArtifact(name);
    const abiFile = path.join(dir, "abi", `${name}.json`);
    writeJson(abiFile, abi);
    written.push(abiFile);
  }
  // A public network's export changes the README's addresses table (local ones never appear in it).
  if (dir === EXPORTS_DIR && !LOCAL_EXPORTS.has(hre.network.name) && updateReadmeAddresses())
    written.push(README);
  return written;
}

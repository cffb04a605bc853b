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
  return written;
}

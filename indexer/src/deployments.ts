/**
 * Reads the hardhat-deploy output (`deployments/<network>/<Name>.json` and `.chainId`): the address of each indexed
 * contract and the block it was deployed in. Nothing about a deployment is written into the indexer's code.
 */
import fs from "node:fs";
import path from "node:path";

import { INDEXED_CONTRACTS, type IndexedContract } from "./contracts";

export interface Deployment {
  address: `0x${string}`;
  startBlock: number;
}

export interface Deployments {
  chainId: number;
  contracts: Record<IndexedContract, Deployment>;
}

interface DeploymentFile {
  address: string;
  receipt?: { blockNumber?: number };
}

export function readDeployments(dir: string): Deployments {
  const chainIdFile = path.join(dir, ".chainId");
  if (!fs.existsSync(chainIdFile)) {
    throw new Error(
      `no hardhat-deploy deployment at ${dir}: start a node (\`npm run node\`) or deploy (\`npx hardhat deploy --network <name>\`) first`,
    );
  }
  const chainId = Number(fs.readFileSync(chainIdFile, "utf8").trim());
  const contracts = {} as Record<IndexedContract, Deployment>;
  for (const name of INDEXED_CONTRACTS) {
    const file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(file))
      throw new Error(`${file} is missing: deploy the protocol (tag "protocol") first`);
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as DeploymentFile;
    const startBlock = json.receipt?.blockNumber;
    if (!/^0x[0-9a-fA-F]{40}$/.test(json.address) || startBlock === undefined) {
      throw new Error(`${file} has no address or deployment receipt`);
    }
    contracts[name] = { address: json.address as `0x${string}`, startBlock };
  }
  return { chainId, contracts };
}

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, formatUnits } from "ethers";

import { formatTable } from "./format";

/**
 * One `hardhat deploy` run, from deploy/000_start.ts to deploy/99_summary.ts: where it started (block, deployer
 * nonce), and the governance calls it could not make itself (`NOT DONE`), which fail the run once it is summarized.
 */

export interface NotDone {
  /** What the call does, e.g. "grant KEEPER_ROLE to 0x..". */
  what: string;
  /** The call governance must schedule on the timelock: target, value 0, calldata. */
  target: string;
  data: string;
}

interface DeployRun {
  startBlock: number;
  startNonce: number;
  deployer: string;
  notDone: NotDone[];
}

let run: DeployRun | undefined;

export async function startDeployRun(hre: HardhatRuntimeEnvironment): Promise<void> {
  const { deployer } = await hre.getNamedAccounts();
  run = {
    startBlock: await hre.ethers.provider.getBlockNumber(),
    startNonce: await hre.ethers.provider.getTransactionCount(deployer),
    deployer,
    notDone: [],
  };
}

/** Records a call the deployer could not make (deploy/09_roles.ts prints it as `NOT DONE`). */
export function recordNotDone(item: NotDone): void {
  run?.notDone.push(item);
}

/**
 * Prints what this run sent: every transaction from the deployer since the run started (contract created or called,
 * gas, cost at the price paid), totals, and what the same gas costs at the current gas price. Then fails the run,
 * with a non-zero exit, when any governance call was left undone.
 */
export async function summarizeDeployRun(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (!run) return;
  const { provider } = hre.ethers;
  const { startBlock, deployer, notDone } = run;
  const latest = await provider.getBlockNumber();
  const byAddress = new Map<string, string>();
  for (const [name, d] of Object.entries(await hre.deployments.all()))
    byAddress.set(d.address.toLowerCase(), name);

  const rows: string[][] = [];
  let gas = 0n;
  let paid = 0n;
  for (let n = startBlock + 1; n <= latest; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== deployer.toLowerCase()) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (!receipt) continue;
      const created = receipt.contractAddress;
      const target = created ?? tx.to ?? "";
      const label = byAddress.get(target.toLowerCase()) ?? target;
      const cost = receipt.gasUsed * (receipt.gasPrice ?? tx.gasPrice ?? 0n);
      gas += receipt.gasUsed;
      paid += cost;
      rows.push([
        String(n),
        created ? `create ${label}` : `call ${label}`,
        `${tx.hash.slice(0, 10)}…`,
        receipt.gasUsed.toLocaleString("en-US"),
        formatEther(cost),
      ]);
    }
  }
  const network = `${hre.network.name} (chain ${(await provider.getNetwork()).chainId})`;
  console.log(`\nDeploy summary, ${network}: ${rows.length} transaction(s) from the deployer ${deployer}`);
  if (rows.length > 0) {
    console.log(
      formatTable(["block", "what", "tx", "gas", "cost (ETH)"], rows, [
        "right",
        "left",
        "left",
        "right",
        "right",
      ]),
    );
    const price = (await provider.getFeeData()).gasPrice ?? 0n;
    console.log(
      `total gas ${gas.toLocaleString("en-US")}, paid ${formatEther(paid)} ETH; at the current gas price ` +
        `(${formatUnits(price, "gwei")} gwei) the same gas costs ${formatEther(gas * price)} ETH`,
    );
  } else {
    console.log("nothing sent: every deployment and role was already in place");
  }
  const pending = notDone.length;
  run = undefined;
  if (pending > 0) {
    throw new Error(
      `${pending} governance call(s) NOT DONE (listed above with their timelock calldata): schedule them on the ` +
        "timelock, wait its delay, execute them, then deploy again",
    );
  }
}

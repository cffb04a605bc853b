import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, formatUnits } from "ethers";

import { formatTable } from "./format";

/**
 * One `hardhat deploy` run, from deploy/000_start.ts to deploy/99_summary.ts: where it started (block, deployer
 * nonce), and the governance calls it could not make itself (`NOT DONE`), which fail the run once it is summarized.
 * Those calls are also written to `deployments/<network>/.governance-pending.json` for the timelock tasks
 * (tasks/governance.ts); a run that leaves nothing undone removes the file.
 */

export interface NotDone {
  /** What the call does, e.g. "grant KEEPER_ROLE to 0x..". */
  what: string;
  /** The call governance must schedule on the timelock: target, value 0, calldata. */
  target: string;
  data: string;
}

/** A `NOT DONE` call as written to the pending file: what the timelock tasks schedule and execute. */
export interface PendingCall extends NotDone {
  /** Wei sent with the call, as a decimal string; the deploy's calls send none. */
  value: string;
}

/** The file name, in `deployments/<network>/`, of the calls the last deploy left to governance. */
export const GOVERNANCE_PENDING_FILE = ".governance-pending.json";

/**
 * Where the calls the last deploy left undone on this network are written. A dotfile, so hardhat-deploy does not take
 * it for a deployment.
 */
export function governancePendingPath(hre: HardhatRuntimeEnvironment): string {
  return path.join(hre.config.paths.deployments, hre.network.name, GOVERNANCE_PENDING_FILE);
}

/** `file` relative to the working directory when it lies below it (for messages). */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

/**
 * Writes the run's `NOT DONE` calls to the pending file, or removes the file when there are none: the file always
 * describes what the latest deploy on this network could not do. Returns the path written, if any.
 */
function writePendingCalls(
  hre: HardhatRuntimeEnvironment,
  notDone: NotDone[],
  rolesChecked: boolean,
): string | undefined {
  const file = governancePendingPath(hre);
  if (notDone.length === 0) {
    // A run that did not wire roles (a partial deploy by tag) cannot tell whether the calls are still needed.
    if (!rolesChecked) return undefined;
    if (fs.existsSync(file)) {
      fs.rmSync(file);
      console.log(`removed ${shown(file)}: no governance call is left undone`);
    }
    return undefined;
  }
  const calls: PendingCall[] = notDone.map(({ what, target, data }) => ({ what, target, value: "0", data }));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(calls, null, 2)}\n`);
  return file;
}

interface DeployRun {
  startBlock: number;
  startNonce: number;
  deployer: string;
  notDone: NotDone[];
  /** Whether deploy/09_roles.ts ran: only then does an empty `notDone` mean nothing is left for governance. */
  rolesChecked: boolean;
}

let run: DeployRun | undefined;

export async function startDeployRun(hre: HardhatRuntimeEnvironment): Promise<void> {
  const { deployer } = await hre.getNamedAccounts();
  run = {
    startBlock: await hre.ethers.provider.getBlockNumber(),
    startNonce: await hre.ethers.provider.getTransactionCount(deployer),
    deployer,
    notDone: [],
    rolesChecked: false,
  };
}

/** Marks that the role wiring ran in this deploy (deploy/09_roles.ts), so its `NOT DONE` list is complete. */
export function markRolesChecked(): void {
  if (run) run.rolesChecked = true;
}

/** Records a call the deployer could not make (deploy/09_roles.ts prints it as `NOT DONE`). */
export function recordNotDone(item: NotDone): void {
  run?.notDone.push(item);
}

/**
 * Prints what this run sent: every transaction from the deployer since the run started (contract created or called,
 * gas, cost at the price paid), totals, and what the same gas costs at the current gas price. Then writes the
 * governance calls left undone to the pending file (or removes it when there are none) and fails the run, with a
 * non-zero exit, when there are any.
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
  const { rolesChecked } = run;
  run = undefined;
  const file = writePendingCalls(hre, notDone, rolesChecked);
  if (pending > 0) {
    const network = hre.network.name;
    throw new Error(
      `${pending} governance call(s) NOT DONE (listed above with their timelock calldata, and written to ` +
        `${shown(file!)}): schedule them with \`npx hardhat timelock:schedule --pending --network ${network}\`, ` +
        `wait the timelock's delay, run \`npx hardhat timelock:execute --pending --network ${network}\`, then deploy again`,
    );
  }
}

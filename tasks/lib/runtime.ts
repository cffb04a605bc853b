import fs from "node:fs";
import path from "node:path";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { decodeBytes32String, isHexString } from "ethers";
import type { ContractTransactionResponse, Interface, LogDescription, TransactionReceipt } from "ethers";

import { NAMED_ACCOUNT_NAMES } from "../../config/env";
import { isLocalNetwork } from "../../config/protocol";
import { DeployIds, Tags } from "../../helpers/deploy-ids";
import { formatTable } from "../../helpers/format";
import { Roles, type RoleName } from "../../helpers/roles";
import { ensure, parseNamedAccount, PLUGIN_NAME, TaskArgumentError } from "./validate";

/**
 * Plumbing shared by every task: deployments by name (never a hard-coded address), the signer of a named account,
 * role pre-checks, sending with a readable outcome, and printing.
 */

/** A failure that is not the user's argument: a missing deployment, a revert. */
export class TaskError extends HardhatPluginError {
  constructor(message: string) {
    super(PLUGIN_NAME, message);
    // HardhatPluginError pins its own prototype; restore the subclass so `instanceof` works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "TaskError";
  }
}

/**
 * On the in-process `hardhat` network every CLI invocation starts from an empty chain, so the protocol is deployed
 * through the deploy scripts first (tests that deployed already keep their deployments).
 */
export async function ensureProtocol(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (hre.network.name !== "hardhat") return;
  if (await hre.deployments.getOrNull(DeployIds.USDai)) return;
  console.log('In-process "hardhat" network: deploying the protocol through the deploy scripts first.');
  await hre.deployments.fixture([Tags.Protocol], { keepExistingDeployments: true });
}

/** The address of deployment `name`, or a clear error saying how to deploy it. */
export async function deploymentAddress(hre: HardhatRuntimeEnvironment, name: string): Promise<string> {
  await ensureProtocol(hre);
  const deployment = await hre.deployments.getOrNull(name);
  if (!deployment) {
    throw new TaskError(
      `${name} is not deployed on network "${hre.network.name}". Deploy first: ` +
        (hre.network.name === "localhost"
          ? "start `npx hardhat node` (it deploys) or run `npx hardhat deploy --network localhost`."
          : `\`npx hardhat deploy --network ${hre.network.name}\`.`),
    );
  }
  return deployment.address;
}

/** The named accounts of the Hardhat config as addresses, by name. */
export async function namedAccounts(hre: HardhatRuntimeEnvironment): Promise<Record<string, string>> {
  return hre.getNamedAccounts();
}

/** The signer of the named account `as` (validated against the config's named accounts). */
export async function signerOf(hre: HardhatRuntimeEnvironment, as: string): Promise<HardhatEthersSigner> {
  const name = parseNamedAccount(as, NAMED_ACCOUNT_NAMES, "as");
  const named = await namedAccounts(hre);
  const address = named[name];
  ensure(address, `--as ${name} has no address on network "${hre.network.name}"`);
  try {
    return await hre.ethers.getSigner(address);
  } catch {
    throw new TaskArgumentError(`--as ${name} (${address}) cannot sign on network "${hre.network.name}"`);
  }
}

/** The name of `address` among the named accounts, or the address itself. */
export async function labelOf(hre: HardhatRuntimeEnvironment, address: string): Promise<string> {
  const named = await namedAccounts(hre);
  const entry = Object.entries(named).find(([, a]) => a.toLowerCase() === address.toLowerCase());
  return entry ? `${entry[0]} (${address})` : address;
}

export function requireLocalNetwork(hre: HardhatRuntimeEnvironment, what: string): void {
  ensure(isLocalNetwork(hre.network.name), `${what} exists only on local networks (hardhat, localhost)`);
}

/** Refuses up front when `account` lacks `role` on `contract`, naming both, instead of letting the call revert. */
export async function requireRole(
  contract: { hasRole(role: string, account: string): Promise<boolean> },
  contractName: string,
  role: RoleName,
  account: string,
  as: string,
): Promise<void> {
  if (!(await contract.hasRole(Roles[role], account))) {
    throw new TaskArgumentError(
      `--as ${as} (${account}) does not hold ${role}_ROLE on ${contractName}; sign with an account that does`,
    );
  }
}

/** A custom error's argument as text: a `bytes32` that holds a short string (a field name) is shown as that string. */
function showArg(arg: unknown): string {
  if (typeof arg === "bigint") return arg.toString();
  if (typeof arg === "string" && isHexString(arg, 32)) {
    try {
      const text = decodeBytes32String(arg);
      if (/^[\x20-\x7e]+$/.test(text)) return `"${text}"`;
    } catch {
      // not a string
    }
  }
  return String(arg);
}

/** The custom error in an ethers error (name and arguments), decoded with `iface` when ethers could not. */
export function revertOf(err: unknown, iface?: Interface): { name: string; args: unknown[] } | undefined {
  const e = err as { revert?: { name: string; args: unknown[] }; data?: string };
  if (e?.revert) return { name: e.revert.name, args: [...e.revert.args] };
  const data = typeof e?.data === "string" ? e.data : undefined;
  if (data && iface) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // not one of this contract's errors
    }
  }
  return undefined;
}

/** The first custom error found in an ethers error, as `Name(arg, ...)`. */
export function describeRevert(err: unknown, iface?: Interface): string | undefined {
  const revert = revertOf(err, iface);
  return revert && `${revert.name}(${revert.args.map(showArg).join(", ")})`;
}

/**
 * Simulates a call (`eth_call`) and turns a revert into a `TaskError` that names the custom
 * error. On the in-process network a reverting transaction would otherwise be mined (its gas is not estimated), so
 * tasks simulate before they send.
 */
export async function simulate(
  label: string,
  call: () => Promise<unknown>,
  iface?: Interface,
): Promise<void> {
  try {
    await call();
  } catch (err) {
    const reason = describeRevert(err, iface) ?? (err as Error).message?.split("\n")[0] ?? String(err);
    throw new TaskError(`${label} would revert: ${reason}. No transaction was sent.`);
  }
}

/** Log lines go through here so tests and the e2e runner can read them. */
export function out(message = ""): void {
  console.log(message);
}

/**
 * Sends a transaction and waits for it, printing `label`, hash, block and gas. A revert (ethers estimates gas
 * before sending, so nothing is mined) becomes a `TaskError` that names the contract's custom error.
 */
export async function send(
  label: string,
  tx: () => Promise<ContractTransactionResponse>,
  iface?: Interface,
): Promise<{ hash: string; blockNumber: number; gasUsed: bigint; receipt: TransactionReceipt }> {
  let response: ContractTransactionResponse;
  try {
    response = await tx();
  } catch (err) {
    const reason = describeRevert(err, iface) ?? (err as Error).message?.split("\n")[0] ?? String(err);
    throw new TaskError(`${label} would revert: ${reason}. No transaction was sent.`);
  }
  const receipt = await response.wait();
  if (!receipt || receipt.status !== 1)
    throw new TaskError(`${label} failed in transaction ${response.hash}`);
  out(
    `  ${label}: tx ${response.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed.toLocaleString("en-US")})`,
  );
  return { hash: response.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt };
}

/** A contract method as TypeChain types it: callable to send, with `staticCall` to simulate. */
export interface SendableMethod<A extends unknown[]> {
  (...args: A): Promise<ContractTransactionResponse>;
  staticCall(...args: A): Promise<unknown>;
}

/** Simulates `method(...args)` and, when it would succeed, sends it (see `simulate` and `send`). */
export async function simulateAndSend<A extends unknown[]>(
  label: string,
  method: SendableMethod<A>,
  args: A,
  iface?: Interface,
): Promise<{ hash: string; blockNumber: number; gasUsed: bigint; receipt: TransactionReceipt }> {
  // Simulated on the pending block: the transaction mines in the next block, whose timestamp is later than the
  // latest one (a deadline or a default date can lie in between).
  const pending = [...args, { blockTag: "pending" }] as unknown as A;
  await simulate(label, () => method.staticCall(...pending), iface);
  return send(label, () => method(...args), iface);
}

/** A two-column table of `[label, value]` rows under a title. */
export function printFields(title: string, rows: [string, string][]): void {
  out(`\n${title}`);
  out(formatTable(["field", "value"], rows, ["left", "right"]));
}

/** The block timestamp of the latest block (the chain's "now", which may differ from the wall clock). */
export async function chainNow(hre: HardhatRuntimeEnvironment): Promise<number> {
  const block = await hre.ethers.provider.getBlock("latest");
  return block!.timestamp;
}

/** The name of `address` among the named accounts, or the address shortened (`0x1234…abcd`), for table cells. */
export async function shortLabelOf(hre: HardhatRuntimeEnvironment, address: string): Promise<string> {
  const named = await namedAccounts(hre);
  const entry = Object.entries(named).find(([, a]) => a.toLowerCase() === address.toLowerCase());
  return entry ? entry[0] : `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** A unix timestamp as an ISO date and time (UTC, to the minute). */
export function formatTimestamp(seconds: bigint | number): string {
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Reads a JSON file named by `--<name>`; a missing file or bad JSON is an argument error. */
export function readJsonFile(file: string, name = "file"): unknown {
  const resolved = path.resolve(file);
  ensure(fs.existsSync(resolved), `--${name} ${file}: no such file`);
  try {
    return JSON.parse(fs.readFileSync(resolved, "utf8"));
  } catch (err) {
    throw new TaskArgumentError(`--${name} ${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** The first event `name` in a mined transaction's logs, decoded with `iface`. */
export function eventOf(receipt: TransactionReceipt, iface: Interface, name: string): LogDescription {
  for (const log of receipt.logs) {
    let parsed: LogDescription | null = null;
    try {
      parsed = iface.parseLog(log);
    } catch {
      // another contract's event
    }
    if (parsed?.name === name) return parsed;
  }
  throw new TaskError(`transaction ${receipt.hash} emitted no ${name} event`);
}

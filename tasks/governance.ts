import fs from "node:fs";
import path from "node:path";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  Contract,
  formatEther,
  getAddress,
  id,
  Interface as EthersInterface,
  isHexString,
  ZeroAddress,
  ZeroHash,
} from "ethers";
import type { ContractTransactionResponse, Interface, InterfaceAbi } from "ethers";

import { TIMELOCK_DEPLOYMENT } from "../config/governance";
import { formatTable, type Align } from "../helpers/format";
import { governancePendingPath, type PendingCall } from "../helpers/deploy-run";
import { roleTask, viewTask } from "./lib/define";
import { chainNow, formatTimestamp, out, send, signerOf, simulate, TaskError } from "./lib/runtime";
import { ensure, parseAddress, parseAmount, parseBytes32OrText, TaskArgumentError } from "./lib/validate";

/**
 * Timelock tasks for the governance calls a deploy could not make. After the governance handover
 * (deploy/99_governance.ts) the deployer holds no admin role; a deploy that finds a grant or a link missing prints it
 * as `NOT DONE` and writes it to `deployments/<network>/.governance-pending.json` (helpers/deploy-run.ts). These tasks
 * act on that file (`--pending`) or on one call (`--target`, `--data`, `--value`):
 *
 * - `timelock:status` prints each call's operation id and state (Unset, Waiting until a date, Ready, Done);
 * - `timelock:schedule` schedules each call that is not scheduled yet, with the timelock's minimum delay;
 * - `timelock:execute` executes each call once its delay has passed.
 *
 * Each call is its own operation (`schedule`/`execute`, not the batch variants): a call whose execution reverts does
 * not hold the others back, an operation's id is the same whether it came from the pending file or from
 * `--target`/`--data`, and a call already scheduled or done is reported and skipped while the others go ahead. The
 * salt defaults to keccak256 of the calldata, so the same call always has the same id and a deploy that prints it
 * again finds it already scheduled; making the same call a second time (after it was done once) needs a new
 * `--salt`. The predecessor is always zero.
 */

/** TimelockController's `OperationState`. */
const OPERATION_STATE = ["Unset", "Waiting", "Ready", "Done"] as const;
type OperationState = (typeof OPERATION_STATE)[number];

/** Transaction overrides the tasks pass: ETH sent with `execute`, the block a simulation runs on. */
interface Overrides {
  value?: bigint;
  blockTag?: string;
}

/** A method with TypeChain's shape (send, or `staticCall` to simulate), on a contract built from an ABI. */
interface Method<A extends unknown[]> {
  (...args: [...A, Overrides]): Promise<ContractTransactionResponse>;
  staticCall(...args: [...A, Overrides]): Promise<unknown>;
}

/**
 * The part of OpenZeppelin's TimelockController these tasks use. The project compiles no TimelockController (the
 * deploy uses OpenZeppelin's own build), so there is no TypeChain type: the contract is built from the deployment's
 * ABI and typed here.
 */
interface Timelock {
  interface: Interface;
  PROPOSER_ROLE(): Promise<string>;
  EXECUTOR_ROLE(): Promise<string>;
  hasRole(role: string, account: string): Promise<boolean>;
  getMinDelay(): Promise<bigint>;
  hashOperation(
    target: string,
    value: bigint,
    data: string,
    predecessor: string,
    salt: string,
  ): Promise<string>;
  getOperationState(operationId: string): Promise<bigint>;
  getTimestamp(operationId: string): Promise<bigint>;
  schedule: Method<[string, bigint, string, string, string, bigint]>;
  execute: Method<[string, bigint, string, string, string]>;
}

/** A call to the timelock with its operation: salt, id, and its state on chain. */
interface Operation extends PendingCall {
  salt: string;
  id: string;
  state: OperationState;
  /** When a scheduled operation becomes (or became) ready, unix seconds; 0 when unset, 1 when done. */
  readyAt: bigint;
}

interface CallArgs {
  pending: boolean;
  target?: string;
  data?: string;
  value?: string;
  salt?: string;
}

/** The deployed TimelockController, or a clear error when the handover has not deployed one on this network. */
async function timelockAt(
  hre: HardhatRuntimeEnvironment,
  signer?: HardhatEthersSigner,
): Promise<{ timelock: Timelock; address: string }> {
  const deployment = await hre.deployments.getOrNull(TIMELOCK_DEPLOYMENT);
  if (!deployment) {
    throw new TaskError(
      `${TIMELOCK_DEPLOYMENT} is not deployed on network "${hre.network.name}": the governance handover ` +
        "(deploy/99_governance.ts, tag governance) deploys it; before it the deployer makes these calls itself",
    );
  }
  const contract = new Contract(deployment.address, deployment.abi, signer ?? hre.ethers.provider);
  return { timelock: contract as unknown as Timelock, address: deployment.address };
}

/** `file` relative to the working directory when it lies below it (for messages). */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

/** Calldata typed by a user or read from the file: 0x and whole bytes. */
function parseCalldata(value: unknown, name: string): string {
  ensure(
    typeof value === "string" && isHexString(value.trim()) && value.trim().length % 2 === 0,
    `${name} must be 0x-prefixed hex calldata (whole bytes), got "${String(value)}"`,
  );
  return value.trim().toLowerCase();
}

/** The calls in the pending file a deploy wrote, checked one by one. */
export function readPendingCalls(hre: HardhatRuntimeEnvironment): PendingCall[] {
  const file = governancePendingPath(hre);
  ensure(
    fs.existsSync(file),
    `no pending governance calls on network "${hre.network.name}": ${shown(file)} does not exist ` +
      "(a deploy writes it when it leaves calls NOT DONE)",
  );
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new TaskArgumentError(`${shown(file)}: not valid JSON (${(err as Error).message})`);
  }
  ensure(Array.isArray(json) && json.length > 0, `${shown(file)}: must be a non-empty array of calls`);
  return json.map((entry: unknown, i): PendingCall => {
    const where = `${shown(file)}: call ${i}`;
    ensure(typeof entry === "object" && entry !== null, `${where} must be an object`);
    const { what, target, value, data } = entry as Record<string, unknown>;
    ensure(typeof what === "string" && what.trim() !== "", `${where}: "what" must be a non-empty string`);
    ensure(
      typeof target === "string" && /^0x[0-9a-fA-F]{40}$/.test(target),
      `${where}: "target" must be an address`,
    );
    ensure(
      typeof value === "string" && /^\d+$/.test(value),
      `${where}: "value" must be wei as a decimal string`,
    );
    return { what, target: getAddress(target), value, data: parseCalldata(data, `${where}: "data"`) };
  });
}

/** The deployment at `address` (a proxied core by its plain name, not `<Name>_Proxy`), if any. */
async function deploymentAt(
  hre: HardhatRuntimeEnvironment,
  address: string,
): Promise<{ name: string; abi: InterfaceAbi } | undefined> {
  const matches = Object.entries(await hre.deployments.all()).filter(
    ([, d]) => d.address.toLowerCase() === address.toLowerCase(),
  );
  const [name, d] = matches.find(([n]) => !n.endsWith("_Proxy")) ?? matches[0] ?? [];
  return name && d ? { name, abi: d.abi } : undefined;
}

/** `grantRole(0x.., 0x..) on UtilizationOracle`, decoded with the target deployment's ABI where there is one. */
async function describeCall(hre: HardhatRuntimeEnvironment, target: string, data: string): Promise<string> {
  const deployment = await deploymentAt(hre, target);
  let call = data.length >= 10 ? `call ${data.slice(0, 10)}` : "plain transfer";
  if (deployment) {
    try {
      const parsed = new EthersInterface(deployment.abi).parseTransaction({ data });
      if (parsed) call = `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    } catch {
      // not one of the deployment's functions: the selector stays
    }
  }
  return `${deployment?.name ?? target}: ${call}`;
}

/**
 * The calls a task acts on: every call in the pending file (`--pending`), or the one call of `--target`, `--data` and
 * `--value` (ETH; default 0). `--target` may name a deployment.
 */
async function callsOf(hre: HardhatRuntimeEnvironment, args: CallArgs): Promise<PendingCall[]> {
  const single = args.target !== undefined || args.data !== undefined || args.value !== undefined;
  ensure(
    args.pending !== single,
    "give either --pending (the calls a deploy left NOT DONE) or --target and --data (one call)",
  );
  if (args.pending) return readPendingCalls(hre);
  ensure(args.target !== undefined && args.data !== undefined, "--target and --data go together");
  const deployment = args.target.startsWith("0x") ? null : await hre.deployments.getOrNull(args.target);
  ensure(
    args.target.startsWith("0x") || deployment,
    `--target "${args.target}" is neither an address nor a deployment on network "${hre.network.name}"`,
  );
  const target = deployment ? getAddress(deployment.address) : parseAddress(args.target, "target");
  const value = args.value === undefined ? 0n : parseAmount(args.value, 18, "value", { allowZero: true });
  const data = parseCalldata(args.data, "--data");
  return [{ what: await describeCall(hre, target, data), target, value: value.toString(), data }];
}

/** Each call's operation on the timelock: its salt (`--salt`, or keccak256 of the calldata), id and state. */
async function operationsOf(
  timelock: Timelock,
  calls: PendingCall[],
  saltArg?: string,
): Promise<Operation[]> {
  const salt = saltArg === undefined ? undefined : parseBytes32OrText(saltArg, "salt");
  return Promise.all(
    calls.map(async (call) => {
      const opSalt = salt ?? id(call.data);
      const opId = await timelock.hashOperation(call.target, BigInt(call.value), call.data, ZeroHash, opSalt);
      const state = OPERATION_STATE[Number(await timelock.getOperationState(opId))];
      return { ...call, salt: opSalt, id: opId, state, readyAt: await timelock.getTimestamp(opId) };
    }),
  );
}

/** `1d 2h 3m` (seconds under a minute round up to a minute, so "in 0m" never shows for a future time). */
export function formatWait(seconds: bigint | number): string {
  const total = Math.max(0, Number(seconds));
  const minutes = Math.ceil(total / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d && `${d}d`, (d || h) && `${h}h`, `${m}m`].filter(Boolean).join(" ");
}

/** An operation's state as a table cell: `Waiting until <date> (in 1d 2h)`, `Ready since <date>`, ... */
function stateText(op: Operation, now: number): string {
  switch (op.state) {
    case "Waiting":
      return `Waiting until ${formatTimestamp(op.readyAt)} (in ${formatWait(op.readyAt - BigInt(now))})`;
    case "Ready":
      return `Ready since ${formatTimestamp(op.readyAt)}`;
    default:
      return op.state;
  }
}

/**
 * Prints the operations as a table (the value column only when a call sends ETH), with a last column per operation
 * (`extra`) when given.
 */
async function printOperations(
  hre: HardhatRuntimeEnvironment,
  title: string,
  ops: Operation[],
  extra?: { header: string; cells: string[] },
): Promise<void> {
  const now = await chainNow(hre);
  const withValue = ops.some((op) => BigInt(op.value) > 0n);
  const header = ["#", "call", ...(withValue ? ["value (ETH)"] : []), "operation id", "state"];
  const align: Align[] = [
    "right",
    "left",
    ...(withValue ? (["right"] as Align[]) : []),
    "left",
    "left",
    "left",
  ];
  const rows = ops.map((op, i) => [
    String(i + 1),
    op.what,
    ...(withValue ? [formatEther(BigInt(op.value))] : []),
    op.id,
    stateText(op, now),
  ]);
  if (extra) {
    header.push(extra.header);
    rows.forEach((row, i) => row.push(extra.cells[i]));
  }
  out(`\n${title}`);
  out(formatTable(header, rows, align));
}

/** Refuses up front when `signer` lacks `role` on the timelock (or, for EXECUTOR, the role is not open to anyone). */
async function requireTimelockRole(
  timelock: Timelock,
  address: string,
  role: "PROPOSER" | "EXECUTOR",
  signer: HardhatEthersSigner,
  as: string,
): Promise<void> {
  const roleId = role === "PROPOSER" ? await timelock.PROPOSER_ROLE() : await timelock.EXECUTOR_ROLE();
  if (await timelock.hasRole(roleId, signer.address)) return;
  // OpenZeppelin's `onlyRoleOrOpenRole`: executing is open to anyone when the zero address holds EXECUTOR_ROLE.
  if (role === "EXECUTOR" && (await timelock.hasRole(roleId, ZeroAddress))) return;
  throw new TaskArgumentError(
    `--as ${as} (${signer.address}) does not hold ${role}_ROLE on the ${TIMELOCK_DEPLOYMENT} (${address}); ` +
      `sign with an account that does (${role === "PROPOSER" ? "TIMELOCK_PROPOSERS" : "TIMELOCK_EXECUTORS"}, ` +
      "config/governance.ts)",
  );
}

/** Counts by state, e.g. `1 Waiting, 2 Done`. */
function countStates(ops: Operation[]): string {
  return OPERATION_STATE.filter((s) => ops.some((op) => op.state === s))
    .map((s) => `${ops.filter((op) => op.state === s).length} ${s}`)
    .join(", ");
}

/** The parameters every timelock task takes: `--pending`, or one call; and `--salt`. */
function addCallParams(definition: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  return definition
    .addFlag("pending", "every call in deployments/<network>/.governance-pending.json (written by a deploy)")
    .addOptionalParam("target", "one call: the contract called (an address or a deployment name)")
    .addOptionalParam("data", "one call: its calldata (0x...)")
    .addOptionalParam("value", "one call: ETH sent with it (default 0)")
    .addOptionalParam(
      "salt",
      "operation salt: 32 bytes of hex, or text that is hashed (default keccak256 of the calldata)",
    );
}

addCallParams(
  viewTask(
    "timelock:status",
    "Each governance call (the pending file, or --target/--data) with its timelock operation id and state",
  ),
).setAction(async (args: CallArgs, hre) => {
  const calls = await callsOf(hre, args);
  const { timelock, address } = await timelockAt(hre);
  const ops = await operationsOf(timelock, calls, args.salt);
  await printOperations(hre, `Timelock ${address}: ${ops.length} operation(s), ${countStates(ops)}`, ops);
  out(
    `minimum delay ${formatWait(await timelock.getMinDelay())}; chain time ${formatTimestamp(await chainNow(hre))}`,
  );
});

addCallParams(
  roleTask(
    "timelock:schedule",
    "Schedule governance calls on the timelock with its minimum delay, one operation per call (a proposer signs); " +
      "calls already scheduled or done are skipped",
    "deployer",
  ),
).setAction(async (args: CallArgs & { as: string }, hre) => {
  const calls = await callsOf(hre, args);
  const signer = await signerOf(hre, args.as);
  const { timelock, address } = await timelockAt(hre, signer);
  await requireTimelockRole(timelock, address, "PROPOSER", signer, args.as);
  const ops = await operationsOf(timelock, calls, args.salt);
  const todo = ops.filter((op) => op.state === "Unset");
  if (todo.length === 0) {
    await printOperations(hre, `Timelock ${address}: nothing to schedule`, ops);
    const done = ops.some((op) => op.state === "Done");
    throw new TaskArgumentError(
      `nothing to schedule: ${ops.length === 1 ? "the operation is" : `all ${ops.length} operations are`} already ` +
        `scheduled or done (${countStates(ops)})` +
        (done
          ? "; to make a call that was done once again, give a new --salt"
          : "; timelock:execute runs them once ready"),
    );
  }
  const delay = await timelock.getMinDelay();
  out(
    `Scheduling ${todo.length} operation(s) on the ${TIMELOCK_DEPLOYMENT} ${address}, delay ${formatWait(delay)}:`,
  );
  const sent = new Map<string, string>();
  for (const op of todo) {
    const callArgs: [string, bigint, string, string, string, bigint] = [
      op.target,
      BigInt(op.value),
      op.data,
      ZeroHash,
      op.salt,
      delay,
    ];
    await simulate(
      `schedule ${op.what}`,
      () => timelock.schedule.staticCall(...callArgs, { blockTag: "pending" }),
      timelock.interface,
    );
    const { hash } = await send(
      `schedule ${op.what}`,
      () => timelock.schedule(...callArgs, {}),
      timelock.interface,
    );
    sent.set(op.id, hash);
  }
  const after = await operationsOf(timelock, calls, args.salt);
  await printOperations(hre, `Timelock ${address}: ${countStates(after)}`, after, {
    header: "this run",
    cells: after.map((op) =>
      sent.has(op.id) ? `scheduled, tx ${sent.get(op.id)!.slice(0, 10)}…` : "skipped",
    ),
  });
});

addCallParams(
  roleTask(
    "timelock:execute",
    "Execute scheduled governance calls on the timelock once their delay has passed, one operation per call " +
      "(an executor signs, or anyone when execution is open)",
    "deployer",
  ),
).setAction(async (args: CallArgs & { as: string }, hre) => {
  const calls = await callsOf(hre, args);
  const signer = await signerOf(hre, args.as);
  const { timelock, address } = await timelockAt(hre, signer);
  await requireTimelockRole(timelock, address, "EXECUTOR", signer, args.as);
  const ops = await operationsOf(timelock, calls, args.salt);
  const ready = ops.filter((op) => op.state === "Ready");
  if (ready.length === 0) {
    await printOperations(hre, `Timelock ${address}: nothing to execute`, ops);
    const now = await chainNow(hre);
    const waiting = ops.filter((op) => op.state === "Waiting").sort((a, b) => Number(a.readyAt - b.readyAt));
    const unset = ops.filter((op) => op.state === "Unset").length;
    const reasons = [
      waiting.length > 0 &&
        `${waiting.length} not ready yet, the first at ${formatTimestamp(waiting[0].readyAt)} ` +
          `(in ${formatWait(waiting[0].readyAt - BigInt(now))})`,
      unset > 0 && `${unset} not scheduled (timelock:schedule)`,
      ops.some((op) => op.state === "Done") &&
        `${ops.filter((op) => op.state === "Done").length} already done`,
    ].filter(Boolean);
    throw new TaskArgumentError(`nothing to execute: ${reasons.join(", ")}. No transaction was sent.`);
  }
  out(`Executing ${ready.length} operation(s) on the ${TIMELOCK_DEPLOYMENT} ${address}:`);
  const sent = new Map<string, string>();
  for (const op of ready) {
    const value = BigInt(op.value);
    const callArgs: [string, bigint, string, string, string] = [op.target, value, op.data, ZeroHash, op.salt];
    await simulate(
      `execute ${op.what}`,
      () => timelock.execute.staticCall(...callArgs, { value, blockTag: "pending" }),
      timelock.interface,
    );
    const { hash } = await send(
      `execute ${op.what}`,
      () => timelock.execute(...callArgs, { value }),
      timelock.interface,
    );
    sent.set(op.id, hash);
  }
  const after = await operationsOf(timelock, calls, args.salt);
  await printOperations(hre, `Timelock ${address}: executed ${sent.size} operation(s)`, after, {
    header: "this run",
    cells: after.map((op) =>
      sent.has(op.id) ? `executed, tx ${sent.get(op.id)!.slice(0, 10)}…` : "skipped",
    ),
  });
  if (args.pending) out("Deploy again: it finds these calls made and removes the pending file.");
});

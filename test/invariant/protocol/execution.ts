import { expect } from "chai";
import fc from "fast-check";
import { hexlify, type TransactionReceipt, type TransactionResponse } from "ethers";
import { ModelRevert } from "../../helpers/loan-model";
import { Expected, fail, type ErrorSource } from "../protocol-model";
import { World } from "./world";
import { count, counters } from "./counters";
import { checkInvariants, checkTransitions } from "./invariants";
import { phase } from "./profile";
import { RawTx, revertData, send as sendRaw, setNextBlockTimestamp } from "./rpc";

// ==================================================================================================== execution

/*
 * How a command meets the chain: `act` runs one transaction at a pinned timestamp against the model's prediction
 * (success with a model update, or the exact custom error), and `Op` is the fast-check command that runs a handler
 * and then checks every invariant.
 */

export type Apply = (receipt: TransactionReceipt) => void | Promise<void>;

/** What a handler's `send` builds: the raw transaction (through `Setup.fx`'s contracts), or an ethers send. */
export type Send = () => RawTx | Promise<RawTx | TransactionResponse>;

/** Converts a `LoanModel` revert into the LoanVault custom error the chain must raise. */
export function lv<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelRevert) throw new Expected("loanVault", e.errorName, e.args);
    throw e;
  }
}

/**
 * Runs one transaction at the pinned timestamp `t`: `predict` (pure, on the model) either throws the `Expected`
 * revert, which the chain must produce exactly, or returns the model update to apply once the transaction succeeded.
 * A revert the model did not predict fails the run.
 */
export async function act(
  w: World,
  command: string,
  t: bigint,
  predict: () => Apply,
  send: Send,
): Promise<TransactionReceipt | undefined> {
  counters.calls++;
  let apply: Apply;
  try {
    apply = await phase("act.predict", predict);
  } catch (e) {
    if (!(e instanceof Expected)) throw e;
    await phase("act.revert", () => expectRevert(w, command, t, e, send));
    count(command, e.error);
    // Hardhat mines a reverted transaction in its own block, at `t`: the next check's clock asserts it.
    w.now = t;
    return undefined;
  }
  const receipt = await phase("act.tx", () => mined(w, t, send));
  w.now = t;
  await phase("act.apply", () => apply(receipt));
  count(command, null);
  return receipt;
}

/**
 * Sends at `t` and returns the receipt (a light one, logs only, for a raw transaction); its logs join the world's
 * logs since the last full check, which tell it what the chain moved.
 */
async function mined(w: World, t: bigint, send: Send): Promise<TransactionReceipt> {
  await setNextBlockTimestamp(t);
  const sent = await send();
  let receipt: TransactionReceipt;
  if (!(sent instanceof RawTx)) receipt = (await sent.wait())!;
  else {
    const r = await sendRaw(sent);
    receipt = { blockNumber: Number(r.blockNumber), logs: r.logs } as unknown as TransactionReceipt;
  }
  for (const log of receipt.logs) w.logs.push(log);
  return receipt;
}

/**
 * The transaction must revert with exactly `e`: the custom error of `e.at`'s ABI, with the same arguments (as
 * `revertedWithCustomError(..).withArgs(..)` compares them: numbers and bigints by value, the rest strictly).
 */
async function expectRevert(w: World, command: string, t: bigint, e: Expected, send: Send): Promise<void> {
  const label = `${command}: expected ${e.message}`;
  const contract = w.s.contracts[e.at];
  await setNextBlockTimestamp(t);
  let sent: RawTx | TransactionResponse;
  try {
    sent = await send();
  } catch (err) {
    // an ethers send that reverted
    await expect(Promise.reject(err), label)
      .to.be.revertedWithCustomError(contract, e.error)
      .withArgs(...e.args);
    return;
  }
  if (!(sent instanceof RawTx)) {
    await expect(Promise.resolve(sent), label)
      .to.be.revertedWithCustomError(contract, e.error)
      .withArgs(...e.args);
    return;
  }
  let data: string | undefined;
  try {
    await sendRaw(sent);
  } catch (err) {
    data = revertData(err);
    if (data === undefined) throw err;
  }
  if (data === undefined) expect.fail(`${label}, but the transaction succeeded`);
  const parsed = contract.interface.parseError(data);
  if (parsed === null || parsed.name !== e.error)
    expect.fail(
      `${label}, but it reverted with ${parsed === null ? data : parsed.name}(${parsed?.args.join(", ") ?? ""})`,
    );
  if (!sameArgs(e.args, [...parsed.args]))
    expect.fail(`${label}, but it reverted with ${parsed.name}(${[...parsed.args].map(String).join(", ")})`);
}

/** `withArgs`' comparison: arrays element by element, numbers and bigints by value, anything else strictly. */
function sameArgs(expected: readonly unknown[], actual: readonly unknown[]): boolean {
  return expected.length === actual.length && expected.every((x, i) => sameArg(x, actual[i]));
}

function sameArg(expected: unknown, actual: unknown): boolean {
  if (expected instanceof Uint8Array) return hexlify(expected) === actual;
  if (typeof expected === "object" && expected !== null && "length" in expected)
    return Array.isArray(actual) || (typeof actual === "object" && actual !== null && "length" in actual)
      ? sameArgs([...(expected as unknown[])], [...(actual as unknown[])])
      : false;
  const numeric = (v: unknown) => typeof v === "bigint" || typeof v === "number";
  if (numeric(expected) && numeric(actual)) return BigInt(expected as bigint) === BigInt(actual as bigint);
  return expected === actual;
}

/** Sends a transaction outside the protocol (mock feeds) at `t`. */
export async function environment(w: World, t: bigint, send: Send) {
  await mined(w, t, send);
  w.now = t;
}

/** The arguments of `at`'s events called `name` in `receipt`, in order. */
export function eventArgs(w: World, receipt: TransactionReceipt, at: ErrorSource, name: string) {
  const contract = w.s.contracts[at];
  const address = w.s.addr[at].toLowerCase();
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args);
}

export const unauthorized = (at: ErrorSource, who: string, role: string) =>
  fail(at, "AccessControlUnauthorizedAccount", who, role);

export type Params = Record<string, number | string | boolean | number[]>;

export class Op implements fc.AsyncCommand<World, World> {
  constructor(
    readonly name: string,
    readonly p: Params,
    readonly body: (w: World, p: Params, t: bigint) => Promise<void>,
  ) {}

  check(): boolean {
    return true;
  }

  async run(w: World): Promise<void> {
    // `w.now` is the chain's clock: the previous command's check asserted it, or the sequence starts at the setup's
    // snapshot, whose clock the world starts from.
    await phase("handler", () => this.body(w, this.p, w.now + 1n));
    await phase("transitions", () => checkTransitions(w, this.toString()));
    w.steps++;
    await checkInvariants(w, this, w.steps % w.s.checkEvery === 0);
  }

  toString(): string {
    return `${this.name}${JSON.stringify(this.p)}`;
  }
}

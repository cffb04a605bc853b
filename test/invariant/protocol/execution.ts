import { expect } from "chai";
import fc from "fast-check";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { type TransactionReceipt, type TransactionResponse } from "ethers";
import { ModelRevert } from "../../helpers/loan-model";
import { Expected, fail, type ErrorSource } from "../protocol-model";
import { World } from "./world";
import { count, counters } from "./counters";
import { checkInvariants, checkTransitions } from "./invariants";

// ==================================================================================================== execution

/*
 * How a command meets the chain: `act` runs one transaction at a pinned timestamp against the model's prediction
 * (success with a model update, or the exact custom error), and `Op` is the fast-check command that runs a handler
 * and then checks every invariant.
 */

export type Apply = (receipt: TransactionReceipt) => void | Promise<void>;

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
  send: () => Promise<TransactionResponse>,
): Promise<TransactionReceipt | undefined> {
  counters.calls++;
  let apply: Apply;
  try {
    apply = predict();
  } catch (e) {
    if (!(e instanceof Expected)) throw e;
    await time.setNextBlockTimestamp(t);
    await expect(send(), `${command}: expected ${e.message}`)
      .to.be.revertedWithCustomError(w.s.contracts[e.at], e.error)
      .withArgs(...e.args);
    count(command, e.error);
    // Hardhat mines a reverted transaction in its own block.
    w.now = BigInt(await time.latest());
    return undefined;
  }
  await time.setNextBlockTimestamp(t);
  const receipt = (await (await send()).wait())!;
  w.now = t;
  await apply(receipt);
  count(command, null);
  return receipt;
}

/** Sends a transaction outside the protocol (mock feeds) at `t`. */
export async function environment(w: World, t: bigint, send: () => Promise<TransactionResponse>) {
  await time.setNextBlockTimestamp(t);
  await (await send()).wait();
  w.now = t;
}

export function eventArgs(w: World, receipt: TransactionReceipt, at: ErrorSource, name: string) {
  const contract = w.s.contracts[at];
  return receipt.logs
    .filter((log) => log.address === w.s.addr[at])
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
    await this.body(w, this.p, w.now + 1n);
    checkTransitions(w, this.toString());
    w.steps++;
    await checkInvariants(w, this, w.steps % w.s.checkEvery === 0);
  }

  toString(): string {
    return `${this.name}${JSON.stringify(this.p)}`;
  }
}

import { expect } from "chai";
import hre from "hardhat";
import { nameSelector } from "./profile";
import { getAddress, type BaseContract, type FunctionFragment, type Interface, type Result } from "ethers";

// ==================================================================================================== rpc

/*
 * The suite's light path to the in-process network: JSON-RPC requests straight to `hre.network.provider`, with each
 * view's calldata encoded once and its result decoded by its fragment. An ethers `Contract` call costs about five
 * times the `eth_call` it makes (argument resolution, a provider round of its own, result formatting); the invariants
 * read some fifty views after every command. Requests are sent one after another: the in-process network serves
 * concurrent requests no faster, and sequential reads keep a run's order of requests deterministic.
 */

interface Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

const provider = (): Provider => hre.network.provider as unknown as Provider;

export const request = (method: string, params: unknown[] = []): Promise<unknown> =>
  provider().request({ method, params });

/** Calldata by contract address, function and arguments, and fragments by interface and function: built once. */
const calldata = new Map<string, string>();
const fragments = new WeakMap<Interface, Map<string, FunctionFragment>>();

function fragmentOf(iface: Interface, fn: string): FunctionFragment {
  let byName = fragments.get(iface);
  if (byName === undefined) fragments.set(iface, (byName = new Map()));
  let f = byName.get(fn);
  if (f === undefined) byName.set(fn, (f = iface.getFunction(fn)!));
  return f;
}

// ==================================================================================================== chain epochs

/*
 * Views that read storage only (no clock) return what they returned until a request changes some contract's storage.
 * The innermost Hardhat provider is watched: every request but the read-only ones below, and every
 * `eth_sendTransaction` that succeeds, starts a new epoch. A reverted transaction does not: the EVM discards every
 * storage write of a reverted transaction (only the sender's nonce and ether move). A `stable` view read again in the
 * same epoch is answered from its last result, which is the result the chain would return; the check still compares
 * it with the model as it is now.
 */

const READ_ONLY = new Set([
  "eth_call",
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getBalance",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_getTransactionCount",
  "eth_getLogs",
  "eth_estimateGas",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_accounts",
  "eth_signTypedData_v4",
  "personal_sign",
  "eth_sign",
  "web3_clientVersion",
  "hardhat_metadata",
  "evm_setNextBlockTimestamp",
]);

let epoch = 0;
let watched = false;

/** Watches the in-process network's innermost provider (once per process); see above. */
export async function watchChain(): Promise<void> {
  if (watched) return;
  await request("eth_chainId");
  type Inner = {
    request(args: { method: string; params?: unknown[] }): Promise<unknown>;
    provider?: Inner;
    _provider?: Inner & { handleRequest?: unknown };
    _wrappedProvider?: Inner;
  };
  let p = hre.network.provider as unknown as Inner | undefined;
  while (p !== undefined && typeof p._provider?.handleRequest !== "function")
    p = p.provider ?? p._provider ?? p._wrappedProvider;
  if (p === undefined) throw new Error("rpc: the in-process Hardhat provider was not found");
  const inner = p.request.bind(p);
  p.request = async (args) => {
    if (READ_ONLY.has(args.method)) return inner(args);
    if (args.method === "eth_sendTransaction") {
      const result = await inner(args);
      epoch++;
      return result;
    }
    epoch++;
    try {
      return await inner(args);
    } finally {
      epoch++;
    }
  };
  watched = true;
}

/** Last results of `stable` views, by address and calldata, with the epoch they were read in. */
const results = new Map<string, { epoch: number; raw: string }>();

/** A view of `contract` at `to`: its calldata (cached by function and arguments) and how to decode its result. */
export class View {
  readonly data: string;
  readonly fragment: FunctionFragment;

  readonly key: string;

  /** `stable`: the view reads storage only, never the clock (so it changes only with storage; see above). */
  constructor(
    readonly contract: BaseContract,
    readonly to: string,
    fn: string,
    args: readonly unknown[] = [],
    readonly stable = false,
  ) {
    const key = `${to}:${fn}:${args.map(String).join(",")}`;
    this.key = key;
    const iface = contract.interface;
    this.fragment = fragmentOf(iface, fn);
    let data = calldata.get(key);
    if (data === undefined) {
      data = iface.encodeFunctionData(this.fragment, args);
      calldata.set(key, data);
    }
    this.data = data;
    nameSelector(data, fn);
  }

  /** The raw result of the view at the latest block. */
  async raw(): Promise<string> {
    if (!this.stable || !watched) return call(this.to, this.data);
    const last = results.get(this.key);
    if (last !== undefined && last.epoch === epoch) return last.raw;
    const at = epoch;
    const raw = await call(this.to, this.data);
    results.set(this.key, { epoch: at, raw });
    return raw;
  }

  async decode(): Promise<Result> {
    return this.contract.interface.decodeFunctionResult(this.fragment, await this.raw());
  }

  /** A view returning one uint256 (or int256 within range of a uint, or a bool as 0/1). */
  async uint(): Promise<bigint> {
    return word(await this.raw(), 0);
  }

  async address(): Promise<string> {
    return getAddress(`0x${(await this.raw()).slice(26, 66)}`);
  }
}

/** `eth_call` at the latest block; a view that reverts fails the run. */
export async function call(to: string, data: string): Promise<string> {
  return (await request("eth_call", [{ to, data }, "latest"])) as string;
}

/** The `i`-th 32-byte word of a result, as a uint. */
export const word = (hex: string, i: number): bigint => BigInt(`0x${hex.slice(2 + 64 * i, 66 + 64 * i)}`);

/** The latest block's timestamp (what `time.latest()` reads, without the helper's provider lookup). */
export async function latest(): Promise<bigint> {
  const block = (await request("eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
  return BigInt(block.timestamp);
}

export async function setNextBlockTimestamp(t: bigint): Promise<void> {
  await request("evm_setNextBlockTimestamp", [`0x${t.toString(16)}`]);
}

// ==================================================================================================== assertions

/*
 * Equality with chai's message only on a mismatch: an invariant is asserted as strictly as `expect(..).to.equal`, but a
 * passing comparison costs a `===` instead of building an assertion.
 */

export function eq(actual: unknown, expected: unknown, label: string): void {
  if (actual !== expected) expect(actual, label).to.equal(expected);
}

/** Deep equality of plain values (bigints, strings, booleans, numbers, arrays and records of them). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => same(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export function deepEq(actual: unknown, expected: unknown, label: string): void {
  if (!same(actual, expected)) expect(actual, label).to.deep.equal(expected);
}

// ==================================================================================================== transactions

/** A transaction to send from a Hardhat account: what a handler's `send` builds for `act` to send. */
export class RawTx {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly data: string,
  ) {}
}

/**
 * `contract`, except that `connect(signer).fn(...args)` builds the `RawTx` of that call instead of sending it (the
 * handlers' `send` closures keep their ethers form; `act` sends what they build). Everything else (views, the
 * interface, the address) is the contract's own.
 */
export function senders<T extends BaseContract>(contract: T, to: string): T {
  const iface = contract.interface;
  return new Proxy(contract, {
    get(target, prop, receiver) {
      if (prop !== "connect") return Reflect.get(target, prop, receiver) as unknown;
      return (runner: { address: string }) =>
        new Proxy(
          {},
          {
            get: (_, fn) =>
              typeof fn === "string"
                ? (...args: unknown[]) => new RawTx(runner.address, to, iface.encodeFunctionData(fn, args))
                : undefined,
          },
        );
    },
  });
}

/** The revert data of a failed `eth_sendTransaction` (Hardhat puts it on the error), if it has any. */
export function revertData(err: unknown): string | undefined {
  const d = (err as { data?: unknown } | null)?.data;
  if (typeof d === "string" && d.startsWith("0x")) return d;
  const inner = (d as { data?: unknown } | undefined)?.data;
  return typeof inner === "string" && inner.startsWith("0x") ? inner : undefined;
}

/** A mined transaction's receipt as `eth_getTransactionReceipt` returns it (hex quantities, lowercase addresses). */
export interface RawReceipt {
  status: string;
  blockNumber: string;
  logs: { address: string; topics: string[]; data: string }[];
}

/** Sends `tx` (mined at once) and returns its receipt; a revert throws Hardhat's error. */
export async function send(tx: RawTx): Promise<RawReceipt> {
  const hash = await request("eth_sendTransaction", [{ from: tx.from, to: tx.to, data: tx.data }]);
  return (await request("eth_getTransactionReceipt", [hash])) as RawReceipt;
}

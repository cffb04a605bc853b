import { BaseError, ContractFunctionRevertedError, hexToBytes, type Hex } from "viem";

/** A JSON-safe copy: bigints become decimal strings (JSON has no 256-bit integers). */
export function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

/** Runs a contract read and returns `fallback` when the call reverts; RPC and other errors still throw. */
export async function orOnRevert<T, F>(read: () => Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError))
      return fallback;
    throw err;
  }
}

/** Where an event sits on the chain, as most tables record it. */
export function position(event: {
  block: { number: bigint; timestamp: bigint };
  transaction: { hash: `0x${string}` };
}): { blockNumber: bigint; timestamp: bigint; transactionHash: `0x${string}` } {
  return {
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  };
}

/**
 * Decodes an OpenZeppelin `ShortString` (up to 31 bytes of UTF-8, the length in the last byte); a bytes32 that is
 * not one is returned as hex.
 */
export function shortString(value: Hex): string {
  const bytes = hexToBytes(value);
  const length = bytes[31] ?? 0;
  if (bytes.length !== 32 || length > 31 || bytes.slice(length, 31).some((b) => b !== 0)) return value;
  return new TextDecoder().decode(bytes.slice(0, length));
}

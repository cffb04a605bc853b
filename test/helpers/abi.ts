import { type ParamType, ZeroAddress, ZeroHash } from "ethers";

/**
 * ABI helpers of the attack tests: a typed zero argument for any parameter (what a role-gated function is called with,
 * since its guard runs before any argument check) and the revert data of a failed call.
 */

/** A well-typed zero value for an ABI parameter: what a role-gated function gets, since its guard runs first. */
export function zeroOf(param: ParamType): unknown {
  if (param.isArray()) return [];
  if (param.isTuple()) return param.components!.map(zeroOf);
  const t = param.baseType;
  if (t.startsWith("uint") || t.startsWith("int")) return 0n;
  if (t === "address") return ZeroAddress;
  if (t === "bool") return false;
  if (t === "string") return "";
  if (t === "bytes") return "0x";
  if (t.startsWith("bytes")) return ZeroHash.slice(0, 2 + 2 * Number(t.slice(5)));
  throw new Error(`no zero value for ${t}`);
}

/** The revert data of a failed `eth_call` (Hardhat nests it one level deeper for some errors). */
export function revertData(err: unknown): string | undefined {
  const e = err as { data?: string | { data?: string }; error?: { data?: string } };
  if (typeof e.data === "string") return e.data;
  return e.data?.data ?? e.error?.data;
}

import hre from "hardhat";

import { env } from "../../../config/env";

// ==================================================================================================== profile

/*
 * FUZZ_PROFILE=1: where a call's time goes. Time is charged to the innermost open phase (a phase's own time, its
 * nested phases excluded), and every JSON-RPC request the provider serves is counted and timed under the phase that
 * sent it. The suite and the runner's workers print the table at the end. Off by default; when off, `phase` is a plain
 * call and the provider is not wrapped.
 */

export const PROFILING = env.fuzzProfile === "1";

interface Row {
  ms: number;
  n: number;
  rpc: number;
  rpcMs: number;
}

const rows = new Map<string, Row>();
/** Function names by selector, for the requests by method (`eth_call totalAssets`). */
const selectors = new Map<string, string>();

export function nameSelector(data: string, name: string): void {
  if (PROFILING) selectors.set(data.slice(0, 10), name);
}
const methods = new Map<string, Row>();
/** Open phases, innermost last, with when each last resumed. */
const stack: { name: string; since: number }[] = [];
let wrapped = false;

const row = (m: Map<string, Row>, k: string) => {
  let r = m.get(k);
  if (!r) m.set(k, (r = { ms: 0, n: 0, rpc: 0, rpcMs: 0 }));
  return r;
};

function wrapProvider(): void {
  if (wrapped) return;
  wrapped = true;
  const provider = hre.network.provider as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  // `send` (what hardhat-ethers uses) does not go through `request`, so both are timed.
  for (const key of ["request", "send"] as const) {
    const inner = provider[key].bind(provider);
    provider[key] = async (...args: unknown[]) => {
      let method = key === "request" ? (args[0] as { method: string }).method : (args[0] as string);
      if (method === "eth_call") {
        const params = key === "request" ? (args[0] as { params: unknown[] }).params : (args[1] as unknown[]);
        const data = (params?.[0] as { data?: string } | undefined)?.data ?? "";
        method = `eth_call ${selectors.get(data.slice(0, 10)) ?? data.slice(0, 10)}`;
      }
      const started = performance.now();
      const at = stack.length === 0 ? "(outside)" : stack[stack.length - 1].name;
      try {
        return await inner(...args);
      } finally {
        const ms = performance.now() - started;
        const r = row(rows, at);
        r.rpc++;
        r.rpcMs += ms;
        const m = row(methods, method);
        m.rpc++;
        m.rpcMs += ms;
      }
    };
  }
}

/** Runs `f` as phase `name` (nested phases are charged to themselves). */
export async function phase<T>(name: string, f: () => Promise<T> | T): Promise<T> {
  if (!PROFILING) return f();
  wrapProvider();
  const now = performance.now();
  const parent = stack[stack.length - 1];
  if (parent) row(rows, parent.name).ms += now - parent.since;
  const self = { name, since: now };
  stack.push(self);
  row(rows, name).n++;
  try {
    return await f();
  } finally {
    const end = performance.now();
    row(rows, name).ms += end - self.since;
    stack.pop();
    if (parent) parent.since = end;
  }
}

/** The table: per phase its own time, entries, and the JSON-RPC requests it sent; then requests by method. */
export function profileReport(calls: number): string {
  if (!PROFILING) return "";
  const total = [...rows.values()].reduce((s, r) => s + r.ms, 0);
  const lines = [
    `      profile (${calls} calls): phase, own ms, % of profiled, ms/call, entries, rpc requests, rpc ms`,
  ];
  for (const [name, r] of [...rows].sort(([, a], [, b]) => b.ms - a.ms))
    lines.push(
      `      ${name.padEnd(34)} ${r.ms.toFixed(0).padStart(8)} ${((100 * r.ms) / total).toFixed(1).padStart(5)}% ${(r.ms / Math.max(1, calls)).toFixed(2).padStart(7)} ${String(r.n).padStart(7)} ${String(r.rpc).padStart(8)} ${r.rpcMs.toFixed(0).padStart(8)}`,
    );
  lines.push(`      rpc by method: method, requests, ms, per call`);
  for (const [name, r] of [...methods].sort(([, a], [, b]) => b.rpcMs - a.rpcMs))
    lines.push(
      `      ${name.padEnd(34)} ${String(r.rpc).padStart(8)} ${r.rpcMs.toFixed(0).padStart(8)} ${(r.rpc / Math.max(1, calls)).toFixed(2).padStart(7)}`,
    );
  return lines.join("\n");
}

/** Charges the innermost phase's time so far and renames it: marks the sections of one long phase. */
export function relabel(name: string): void {
  if (!PROFILING || stack.length === 0) return;
  const top = stack[stack.length - 1];
  const now = performance.now();
  row(rows, top.name).ms += now - top.since;
  top.name = name;
  top.since = now;
  row(rows, name).n++;
}

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { formatGas, formatTable } from "../../helpers/format";

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

const CALLS = new Set(["CALL", "DELEGATECALL", "STATICCALL"]);

/** Opcodes whose cost depends on state access; everything else is summed as "compute". */
const TRACKED = new Set([
  "SLOAD",
  "SSTORE",
  "TLOAD",
  "TSTORE",
  "CALL",
  "DELEGATECALL",
  "STATICCALL",
  "LOG1",
  "LOG2",
  "LOG3",
  "LOG4",
  "LOG0",
  "SHA3",
  "KECCAK256",
  "EXTCODESIZE",
]);

/**
 * `BENCH_PROFILE=1 npm run bench`: a per-opcode gas profile of each measured transaction (from
 * `debug_traceTransaction`), to see where an operation's gas goes: storage reads and writes, calls, logs, compute.
 * A call's `gasCost` in the trace includes the gas forwarded to the callee, so calls are charged only their own
 * overhead here (cost minus what the callee used).
 */
export async function printProfile(
  hre: HardhatRuntimeEnvironment,
  hash: string,
  gasUsed: bigint,
): Promise<void> {
  const trace = (await hre.network.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStack: process.env.BENCH_PROFILE !== "sstore", disableStorage: true },
  ])) as { structLogs: StructLog[] };
  const logs = trace.structLogs;
  const costs = logs.map((log) => log.gasCost);
  // Calls: the trace's gasCost of a call includes what it forwards; re-charge each call its own overhead only.
  const frames: { index: number; gasBefore: number; calleeStart: number }[] = [];
  for (const [i, log] of logs.entries()) {
    const prev = logs[i - 1];
    while (prev && frames.length > 0 && log.depth < prev.depth) {
      const frame = frames.pop()!;
      const calleeUsed = frame.calleeStart - (prev.gas - prev.gasCost);
      costs[frame.index] = frame.gasBefore - log.gas - calleeUsed;
      if (log.depth >= prev.depth - 1) break;
    }
    const next = logs[i + 1];
    if (CALLS.has(log.op) && next && next.depth > log.depth) {
      frames.push({ index: i, gasBefore: log.gas, calleeStart: next.gas });
    }
  }
  const rows = new Map<string, { count: number; gas: number }>();
  let total = 0;
  for (const [i, log] of logs.entries()) {
    const key = `${"  ".repeat(log.depth - 1)}${TRACKED.has(log.op) ? log.op : "compute"}`;
    const row = rows.get(key) ?? { count: 0, gas: 0 };
    row.count += 1;
    row.gas += costs[i];
    rows.set(key, row);
    total += costs[i];
  }
  if (process.env.BENCH_PROFILE === "sstore") {
    for (const [i, log] of logs.entries()) {
      if (log.op !== "SSTORE" && log.op !== "SLOAD") continue;
      const stack = log.stack ?? [];
      const key = stack.at(-1) ?? "?";
      const detail = log.op === "SSTORE" ? ` <- ${stack.at(-2)}` : "";
      console.log(`${"  ".repeat(log.depth - 1)}${log.op} ${costs[i]} ${key.slice(-12)}${detail.slice(-20)}`);
    }
  }
  const sorted = [...rows.entries()].sort((a, b) => b[1].gas - a[1].gas);
  console.log(
    formatTable(
      ["opcode (indent = call depth)", "count", "gas"],
      sorted.map(([k, v]) => [k, String(v.count), formatGas(BigInt(v.gas))]),
      ["left", "right", "right"],
    ),
  );
  console.log(
    `execution ${formatGas(BigInt(total))}, gasUsed ${formatGas(gasUsed)} (intrinsic and refund account for the rest)\n`,
  );
}

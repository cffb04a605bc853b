import type { HardhatRuntimeEnvironment } from "hardhat/types";

import ceilings from "../../gas/ceilings.json";
import { formatGas, formatTable } from "../../helpers/format";
import { SUITES } from "./index";
import type { GasRow } from "./types";

export interface CheckedRow extends GasRow {
  suite: string;
  ceiling: bigint | undefined;
  ok: boolean;
}

const CEILINGS: Record<string, number> = ceilings;

/** Runs every suite on a fresh deployment and checks each row against its committed ceiling. */
export async function runBench(
  hre: HardhatRuntimeEnvironment,
  onProgress: (suite: string, index: number, total: number) => void = () => {},
): Promise<CheckedRow[]> {
  const rows: CheckedRow[] = [];
  // `BENCH_ONLY=LoanVault` runs the named suites only (comma-separated), e.g. with BENCH_PROFILE.
  const only = process.env.BENCH_ONLY?.split(",");
  const suites = only ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
  for (const [index, suite] of suites.entries()) {
    onProgress(suite.name, index, suites.length);
    for (const row of await suite.run(hre)) {
      const ceiling = CEILINGS[row.key] === undefined ? undefined : BigInt(CEILINGS[row.key]);
      rows.push({ ...row, suite: suite.name, ceiling, ok: ceiling !== undefined && row.gas <= ceiling });
    }
  }
  return rows;
}

export function formatBenchTable(rows: CheckedRow[]): string {
  return formatTable(
    ["operation", "gas", "ceiling", "headroom", "", "note"],
    rows.map((r) => [
      r.key,
      formatGas(r.gas),
      r.ceiling === undefined ? "none" : formatGas(r.ceiling),
      r.ceiling === undefined
        ? "-"
        : `${((Number(r.ceiling - r.gas) / Number(r.ceiling)) * 100).toFixed(1)}%`,
      r.ok ? "ok" : "OVER",
      r.note ?? "",
    ]),
    ["left", "right", "right", "right", "left", "left"],
  );
}

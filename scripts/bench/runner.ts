import type { HardhatRuntimeEnvironment } from "hardhat/types";

import ceilings from "../../gas/ceilings.json";
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
  for (const [index, suite] of SUITES.entries()) {
    onProgress(suite.name, index, SUITES.length);
    for (const row of await suite.run(hre)) {
      const ceiling = CEILINGS[row.key] === undefined ? undefined : BigInt(CEILINGS[row.key]);
      rows.push({ ...row, suite: suite.name, ceiling, ok: ceiling !== undefined && row.gas <= ceiling });
    }
  }
  return rows;
}

export function formatTable(rows: CheckedRow[]): string {
  const header = ["operation", "gas", "ceiling", "headroom", "", "note"];
  const body = rows.map((r) => [
    r.key,
    r.gas.toLocaleString("en-US"),
    r.ceiling === undefined ? "none" : r.ceiling.toLocaleString("en-US"),
    r.ceiling === undefined ? "-" : `${((Number(r.ceiling - r.gas) / Number(r.ceiling)) * 100).toFixed(1)}%`,
    r.ok ? "ok" : "OVER",
    r.note ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

import fs from "node:fs";
import path from "node:path";

import { formatTable } from "../helpers/format";

/**
 * `npm run coverage:gate [-- <coverage.json>]`: reads the Istanbul coverage that `npx hardhat coverage` writes to
 * ./coverage.json (solidity-coverage's raw per-file hit counts) and fails unless the protocol's Solidity, everything
 * under contracts/ except contracts/mocks/, has
 *   - 100% of lines and at least 95% of branches in EVERY file, and
 *   - 100% of lines and at least 95% of branches in TOTAL.
 * Both are checked: the total alone would hide one badly tested file behind many good ones. Files with nothing to
 * cover (pure interfaces, constants) count as fully covered. The thresholds can be overridden for a partial run with
 * COVERAGE_MIN_LINES / COVERAGE_MIN_BRANCHES (percent), e.g. to dry-run the gate on a one-spec coverage run.
 * Prints every file under a threshold, then the total, and exits 1 on failure.
 */

/** One file of Istanbul's raw coverage (what solidity-coverage writes). */
interface FileCoverage {
  path: string;
  /** Hits per line number. */
  l: Record<string, number>;
  /** Hits per branch id, one count per path of the branch. */
  b: Record<string, number[]>;
}

export interface Counts {
  lines: number;
  linesHit: number;
  branches: number;
  branchesHit: number;
}

export interface FileResult extends Counts {
  file: string;
}

export const MIN_LINES_PCT = Number(process.env.COVERAGE_MIN_LINES ?? 100);
export const MIN_BRANCHES_PCT = Number(process.env.COVERAGE_MIN_BRANCHES ?? 95);

const ROOT = path.resolve(__dirname, "..");

/** `contracts/...` relative path of a covered file, or undefined when the gate ignores it. */
export function gatedPath(absoluteOrRelative: string): string | undefined {
  const rel = path.relative(ROOT, path.resolve(ROOT, absoluteOrRelative)).split(path.sep).join("/");
  if (!rel.startsWith("contracts/") || rel.startsWith("contracts/mocks/")) return undefined;
  return rel;
}

export function countFile(cov: FileCoverage): Counts {
  const lineHits = Object.values(cov.l ?? {});
  const branchHits = Object.values(cov.b ?? {}).flat();
  return {
    lines: lineHits.length,
    linesHit: lineHits.filter((n) => n > 0).length,
    branches: branchHits.length,
    branchesHit: branchHits.filter((n) => n > 0).length,
  };
}

/** Percent covered; a file with nothing to cover counts as fully covered. */
export const pct = (hit: number, total: number): number => (total === 0 ? 100 : (hit / total) * 100);

export function passes(c: Counts): boolean {
  return pct(c.linesHit, c.lines) >= MIN_LINES_PCT && pct(c.branchesHit, c.branches) >= MIN_BRANCHES_PCT;
}

export function evaluate(raw: Record<string, FileCoverage>): { files: FileResult[]; total: Counts } {
  const files: FileResult[] = [];
  for (const [key, cov] of Object.entries(raw)) {
    const file = gatedPath(cov.path ?? key);
    if (file) files.push({ file, ...countFile(cov) });
  }
  files.sort((a, b) => a.file.localeCompare(b.file));
  const total = files.reduce<Counts>(
    (t, f) => ({
      lines: t.lines + f.lines,
      linesHit: t.linesHit + f.linesHit,
      branches: t.branches + f.branches,
      branchesHit: t.branchesHit + f.branchesHit,
    }),
    { lines: 0, linesHit: 0, branches: 0, branchesHit: 0 },
  );
  return { files, total };
}

function row(name: string, c: Counts): string[] {
  return [
    name,
    `${pct(c.linesHit, c.lines).toFixed(2)}%`,
    `${c.linesHit}/${c.lines}`,
    `${pct(c.branchesHit, c.branches).toFixed(2)}%`,
    `${c.branchesHit}/${c.branches}`,
  ];
}

function main(): void {
  const input = path.resolve(ROOT, process.argv[2] ?? "coverage.json");
  if (!fs.existsSync(input)) {
    console.error(`coverage-gate: ${input} not found; run \`npx hardhat coverage\` first`);
    process.exit(1);
  }
  const { files, total } = evaluate(JSON.parse(fs.readFileSync(input, "utf8")));
  if (files.length === 0) {
    console.error(
      "coverage-gate: no file under contracts/ (excluding contracts/mocks/) in the coverage data",
    );
    process.exit(1);
  }
  const under = files.filter((f) => !passes(f));
  const header = ["file", "lines", "", "branches", ""];
  const align = ["left", "right", "right", "right", "right"] as const;
  console.log(
    `Coverage gate: >= ${MIN_LINES_PCT}% lines and >= ${MIN_BRANCHES_PCT}% branches, per file and in total, ` +
      `over ${files.length} files of contracts/ (contracts/mocks/ excluded)\n`,
  );
  if (under.length > 0) {
    console.log(`${under.length} file(s) under threshold:\n`);
    console.log(
      formatTable(
        header,
        under.map((f) => row(f.file, f)),
        [...align],
      ),
    );
    console.log("");
  }
  console.log(formatTable(header, [row("TOTAL", total)], [...align]));
  const ok = under.length === 0 && passes(total);
  console.log(ok ? "\nCoverage gate passed." : "\nCoverage gate FAILED.");
  if (!ok) process.exitCode = 1;
}

if (require.main === module) main();

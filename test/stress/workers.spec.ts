import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { loadConfig } from "../../scripts/stress/config";
import { jobLabel, jobsOf } from "../../scripts/stress/jobs";
import type { PathResult } from "../../scripts/stress/path";
import type { StressReport } from "../../scripts/stress/report";
import { underCoverage } from "../helpers/coverage";

/**
 * The stress runner spread over worker processes (scripts/stress/workers.ts) gives every path the result a single
 * worker gives it: the same run, one worker and two, end to end through `npm run stress`'s entry point. The run is the
 * smallest that still means something: the `run` scenario (the redemption wave on top of the base world) over three
 * months, paths 0 and 1 with the coupon rules and path 0 without, so one of the two workers plays a second path from
 * its restored snapshot and the other starts on a later job than the single worker does.
 */

const ROOT = path.join(__dirname, "..", "..");
const ARGS = ["--profile", "ci", "--scenarios", "run", "--paths", "2", "--coupon-off", "1", "--months", "3"];

/** Runs the stress CLI with `--workers n` into `out`; the environment's STRESS_* settings are left out. */
function stress(workers: number, out: string): Promise<StressReport> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRESS_")));
  const args = ["-r", "ts-node/register/transpile-only", "scripts/stress/index.ts", ...ARGS];
  args.push("--workers", String(workers), "--out", out);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, FORCE_COLOR: "0" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`stress --workers ${workers} exited with ${code}:\n${output}`));
      resolve(JSON.parse(fs.readFileSync(path.join(out, "stress.json"), "utf8")) as StressReport);
    });
  });
}

/** A path's result without what the wall clock decides. */
const figures = ({ wallMs: _wallMs, ...rest }: PathResult) => rest;

describe("stress: paths spread over worker processes", function () {
  let tmp: string;

  before(function () {
    // Not a contract test, and its child processes compile: under coverage they would overwrite the instrumented build.
    if (underCoverage()) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stress-workers-"));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("gives every path the same result with one worker and with two, in the run's job order", async function () {
    this.timeout(180_000);
    // Both runs at once: the two-worker run's set-ups race a third Hardhat process, which must not change a figure.
    const [one, two] = await Promise.all([
      stress(1, path.join(tmp, "one")),
      stress(2, path.join(tmp, "two")),
    ]);

    const jobs = jobsOf(loadConfig(ARGS, {}));
    expect(jobs.map(jobLabel)).to.deep.equal(["run #0", "run #0 (rules off)", "run #1"]);
    for (const report of [one, two]) {
      expect(report.paths.map((p) => jobLabel(p))).to.deep.equal(jobs.map(jobLabel));
      for (const p of report.paths) expect(p.transactions).to.be.greaterThan(0);
    }
    expect(two.paths.map(figures)).to.deep.equal(one.paths.map(figures));
    // The rules-off path is a different path, so equal results above are not equal by construction.
    expect(figures(two.paths[1])).to.not.deep.equal(figures(two.paths[0]));
    expect(two.scenarios).to.deep.equal(one.scenarios);

    expect(one.execution.workers).to.equal(1);
    expect(one.execution.perWorker.map((w) => w.jobs)).to.deep.equal([[0, 1, 2]]);
    expect(two.execution.workers).to.equal(2);
    const shares = two.execution.perWorker.map((w) => w.jobs);
    expect(shares.every((j) => j.length >= 1)).to.equal(
      true,
      `each worker ran a path: ${JSON.stringify(shares)}`,
    );
    expect(shares.flat().sort()).to.deep.equal([0, 1, 2]);
    expect(two.execution.perWorker.map((w) => w.paths).reduce((a, b) => a + b, 0)).to.equal(3);
  });
});

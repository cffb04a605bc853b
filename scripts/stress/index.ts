import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { loadConfig, replayCommand } from "./config";
import { jobLabel, jobReplayCommand, jobsOf } from "./jobs";
import { generateBook } from "./model";
import type { PathResult } from "./path";
import { Progress } from "./progress";
import { buildReport, printReport, renderHtml, type RunTiming } from "./report";
import { runOnWorkers, type WorkerStats } from "./workers";

/**
 * `npm run stress [-- --seed 7 --profile ci --paths 20 --scenarios base,run --workers 2]`: the Monte Carlo stress run.
 * See docs/stress.md for what it simulates and how to read the report; scripts/stress/config.ts for every parameter.
 *
 * The runner compiles once, then spreads the paths over `--workers` processes (scripts/stress/workers.ts), each with
 * its own deployment; it never loads Hardhat itself. Results are kept in the run's job order whichever worker
 * finished first, so the report is the same as a single worker's, wall-clock figures aside.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2));
  const book = generateBook(config);
  const jobs = jobsOf(config);
  console.log(
    `stress: seed ${config.seed}, profile ${config.profile}, ${config.scenarios.length} scenarios x ` +
      `${config.pathsPerScenario} paths (+${config.couponOffPaths} per scenario with the coupon rules off) = ` +
      `${jobs.length} on-chain paths of ${config.horizonMonths} months; ${book.operators.length} operators; ` +
      `${config.workers} worker${config.workers === 1 ? "" : "s"}`,
  );
  if ((process.env.HARDHAT_NETWORK ?? "hardhat") !== "hardhat")
    throw new Error("the stress run uses Hardhat's in-process network only");

  const started = Date.now();
  const root = path.resolve(__dirname, "..", "..");
  // Once, before the workers start: they load the artifacts and never compile.
  const compiled = spawnSync(path.join(root, "node_modules", ".bin", "hardhat"), ["compile", "--quiet"], {
    cwd: root,
    env: { ...process.env, HARDHAT_SKIP_TASKS: "1" },
    stdio: "inherit",
  });
  if (compiled.status !== 0) throw new Error("stress: compile failed");

  const dir = path.resolve(config.reportDir);
  fs.mkdirSync(dir, { recursive: true });
  const results: (PathResult | undefined)[] = jobs.map(() => undefined);
  let firstReady: number | null = null;
  let lastResult: number | null = null;
  const timing = (workers: readonly WorkerStats[]): RunTiming => {
    const end = lastResult ?? Date.now();
    return {
      setupSeconds: ((firstReady ?? Date.now()) - started) / 1000,
      runSeconds: firstReady === null ? 0 : (end - firstReady) / 1000,
      totalSeconds: process.uptime(),
      workers: workers.map((w) => ({
        worker: w.worker,
        jobs: [...w.jobs],
        setupSeconds: w.setupSeconds,
        runSeconds: w.readyAt === null ? 0 : ((w.lastResultAt ?? end) - w.readyAt) / 1000,
        transactions: w.transactions,
      })),
    };
  };
  // The finished paths in job order (a worker may finish a later job first).
  const write = (workers: readonly WorkerStats[]) => {
    const done = results.filter((r): r is PathResult => r !== undefined);
    const report = buildReport(config, book, done, timing(workers));
    fs.writeFileSync(path.join(dir, "stress.json"), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "stress.html"), renderHtml(report));
    return report;
  };

  const progress = new Progress(jobs.length);
  const outcome = await runOnWorkers(config, jobs, {
    log: (worker, line) => {
      if (worker === 0) console.log(`  ${line}`);
    },
    ready: (worker, setupSeconds, snapshot) => {
      firstReady ??= Date.now();
      console.log(
        `  worker ${worker}: set-up done in ${setupSeconds.toFixed(1)}s; snapshot taken at block time ${snapshot.t0} ` +
          `(block ${snapshot.block}, ${snapshot.blockHash.slice(0, 10)})`,
      );
    },
    result: (worker, job, result, workers) => {
      results[job.id] = result;
      lastResult = Date.now();
      // The report is rewritten after every path, so a long run stopped early still leaves what it measured.
      write(workers);
      progress.tick(
        `worker ${worker}: ${jobLabel(job)}: ` +
          `${(result.annualizedReturn * 100).toFixed(2)}%/yr, ${result.defaults} defaults, ` +
          `${result.transactions} txs in ${(result.wallMs / 1000).toFixed(1)}s`,
      );
    },
    interrupted: () => {
      progress.done();
      console.log("\nstress: interrupted; stopping the workers");
    },
  });
  progress.done();

  const report = write(outcome.workers);
  const finished = report.paths.length;
  const files =
    `${path.relative(process.cwd(), path.join(dir, "stress.json"))} and ` +
    `${path.relative(process.cwd(), path.join(dir, "stress.html"))}`;
  if (outcome.failure) {
    const { worker, job, error } = outcome.failure;
    console.error(
      [
        `\nstress: FAILED in worker ${worker} ${job ? `on ${jobLabel(job)} (scenario ${job.scenario}, path ${job.index}, coupon rules ${job.couponRules ? "on" : "off"})` : "during its set-up"}:`,
        error,
        job
          ? `Replay that path alone (it is the last one this runs; STRESS_TRACE=1 in front prints its transactions):\n  ${jobReplayCommand(config, job)}`
          : `Replay: ${replayCommand(config)} --workers 1`,
        `${finished} of ${jobs.length} paths had finished; ${files} keep them.`,
      ].join("\n"),
    );
    process.exitCode = 1;
    return;
  }
  if (outcome.interrupted) {
    console.log(`stress: ${finished} of ${jobs.length} paths had finished; ${files} keep them.`);
    process.exitCode = 130;
    return;
  }
  printReport(report);
  console.log(`\nWrote ${files}. Replay: ${replayCommand(config)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

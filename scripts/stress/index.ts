import fs from "node:fs";
import path from "node:path";

import { loadConfig, replayCommand } from "./config";
import { generateBook, generatePath } from "./model";
import type { PathResult } from "./path";
import { Progress } from "./progress";
import { buildReport, printReport, renderHtml } from "./report";

/**
 * `npm run stress [-- --seed 7 --profile ci --paths 20 --scenarios base,run]`: the Monte Carlo stress run. See
 * docs/stress.md for what it simulates and how to read the report; scripts/stress/config.ts for every parameter.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2));
  const book = generateBook(config);
  const jobs = config.scenarios.flatMap((scenario) =>
    Array.from({ length: config.pathsPerScenario }, (_, index) => [
      { scenario, index, couponRules: true },
      ...(index < config.couponOffPaths ? [{ scenario, index, couponRules: false }] : []),
    ]).flat(),
  );
  console.log(
    `stress: seed ${config.seed}, profile ${config.profile}, ${config.scenarios.length} scenarios x ` +
      `${config.pathsPerScenario} paths (+${config.couponOffPaths} per scenario with the coupon rules off) = ` +
      `${jobs.length} on-chain paths of ${config.horizonMonths} months; ${book.operators.length} operators`,
  );

  // Hardhat's runtime on its in-process network; the CLI tasks are not needed here.
  process.env.HARDHAT_SKIP_TASKS ??= "1";
  process.env.HARDHAT_NETWORK ??= "hardhat";
  const hre = (await import("hardhat")).default;
  if (hre.network.name !== "hardhat")
    throw new Error("the stress run uses Hardhat's in-process network only");
  const setupStarted = Date.now();
  await hre.run("compile", { quiet: true });
  const { setUpChain } = await import("./chain");
  const { runPath } = await import("./path");
  const chain = await setUpChain(hre, config, book, (line) => console.log(`  ${line}`));
  const setupSeconds = (Date.now() - setupStarted) / 1000;
  console.log(`  set-up done in ${setupSeconds.toFixed(1)}s; snapshot taken at block time ${chain.t0}`);

  const dir = path.resolve(config.reportDir);
  fs.mkdirSync(dir, { recursive: true });
  const write = (done: PathResult[], runSeconds: number) => {
    const report = buildReport(config, book, done, {
      setupSeconds,
      runSeconds,
      totalSeconds: process.uptime(),
    });
    fs.writeFileSync(path.join(dir, "stress.json"), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "stress.html"), renderHtml(report));
    return report;
  };

  const progress = new Progress(jobs.length);
  const results: PathResult[] = [];
  const runStarted = Date.now();
  for (const job of jobs) {
    const market = generatePath(config, book, job.scenario, job.index);
    const result = await runPath(chain, config, book, market, job.couponRules);
    results.push(result);
    // The report is rewritten after every path, so a long run stopped early still leaves what it measured.
    write(results, (Date.now() - runStarted) / 1000);
    progress.tick(
      `${job.scenario} #${job.index}${job.couponRules ? "" : " (rules off)"}: ` +
        `${(result.annualizedReturn * 100).toFixed(2)}%/yr, ${result.defaults} defaults, ` +
        `${result.transactions} txs in ${(result.wallMs / 1000).toFixed(1)}s`,
    );
  }
  progress.done();
  const runSeconds = (Date.now() - runStarted) / 1000;

  const report = write(results, runSeconds);
  printReport(report);
  console.log(
    `\nWrote ${path.relative(process.cwd(), path.join(dir, "stress.json"))} and ` +
      `${path.relative(process.cwd(), path.join(dir, "stress.html"))}. Replay: ${replayCommand(config)}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

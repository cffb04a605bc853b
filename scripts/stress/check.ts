import fs from "node:fs";
import path from "node:path";

import { SCENARIOS } from "./config";
import { REPORT_SCHEMA, type StressReport } from "./report";

/**
 * `npm run stress:check`: validates reports/stress.json (or the file named by STRESS_REPORT_DIR / the first argument's
 * directory) as CI needs it: the schema, one result per scenario with the expected paths, finite statistics, the HTML
 * beside it, and known figures that follow from the protocol's rules rather than from the random draws:
 *   - every path starts with sUSDai's NAV equal to what the lenders staked, plus the few seconds of interest the loans
 *     accrued since their draws (less than a dollar; read on-chain);
 *   - the `concentration` scenario's forced failure ends in a declared default on every path (a payment left unpaid
 *     past grace and the default window is defaultable, so the keeper's `declareDefault` must succeed);
 *   - under `run`, the redemption wave's requests are all recorded.
 * Exits non-zero with every failed check listed.
 */
function main(): void {
  const dir = path.resolve(process.argv[2] ?? process.env.STRESS_REPORT_DIR ?? "reports");
  const file = path.join(dir, "stress.json");
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run npm run stress first`);
  const r = JSON.parse(fs.readFileSync(file, "utf8")) as StressReport;

  check(r.schema === REPORT_SCHEMA, `schema is ${r.schema}, expected ${REPORT_SCHEMA}`);
  check(typeof r.seed === "string" && r.seed.length > 0, "the seed is recorded");
  const html = path.join(dir, "stress.html");
  check(fs.existsSync(html), "stress.html exists beside stress.json");
  if (fs.existsSync(html)) {
    const text = fs.readFileSync(html, "utf8");
    check(
      text.includes("<svg") && !/<script|https?:\/\/(?!www\.w3\.org)/.test(text),
      "stress.html has SVG charts and no scripts or remote resources",
    );
  }

  const expectedPaths = r.config.scenarios.length * (r.config.pathsPerScenario + r.config.couponOffPaths);
  check(
    r.execution.onChainPaths === expectedPaths,
    `${r.execution.onChainPaths} on-chain paths, expected ${expectedPaths}`,
  );
  check(r.paths.length === expectedPaths, `${r.paths.length} path results, expected ${expectedPaths}`);
  check(r.execution.modelPaths === 0, "no path ran in an off-chain model");
  const byWorkers = (r.execution.perWorker ?? []).reduce((sum, w) => sum + w.paths, 0);
  check(
    r.execution.workers === r.execution.perWorker?.length && byWorkers === r.paths.length,
    `the workers' path counts (${byWorkers}, ${r.execution.workers} workers) add up to the ${r.paths.length} results`,
  );

  for (const name of r.config.scenarios) {
    check((SCENARIOS as readonly string[]).includes(name), `known scenario ${name}`);
    const s = r.scenarios.find((x) => x.scenario === name);
    if (!s) {
      failures.push(`scenario ${name} is missing from the report`);
      continue;
    }
    check(
      s.paths === r.config.pathsPerScenario,
      `${name}: ${s.paths} paths, expected ${r.config.pathsPerScenario}`,
    );
    for (const [k, v] of Object.entries({
      mean: s.annualizedReturn.mean,
      p5: s.annualizedReturn.p5,
      p50: s.annualizedReturn.p50,
      var95: s.var95,
      es95: s.es95,
      var99: s.var99,
      es99: s.es99,
    })) {
      check(Number.isFinite(v), `${name}: ${k} is a finite number`);
    }
    check(
      s.es95 >= s.var95 - 1e-12 && s.es99 >= s.var99 - 1e-12,
      `${name}: expected shortfall is at least the VaR`,
    );
    check(s.priceBands.p50.length === r.config.horizonMonths + 1, `${name}: one price band point per month`);
    if (r.config.couponOffPaths > 0)
      check(s.couponRulesOff?.paths === r.config.couponOffPaths, `${name}: coupon-off comparison present`);
  }

  for (const p of r.paths) {
    const id = `${p.scenario} #${p.index}${p.couponRules ? "" : " (rules off)"}`;
    // The loans accrue a few seconds of interest between their draws and the path's first block: cents, not dollars.
    check(
      p.startNavUsd >= r.book.stakedUsd && p.startNavUsd - r.book.stakedUsd < 1,
      `${id}: NAV at the start (${p.startNavUsd}) is the lenders' stake (${r.book.stakedUsd}) plus seconds of interest`,
    );
    check(p.prices.length === r.config.horizonMonths + 1, `${id}: a share price per month`);
    check(p.startPrice > 0 && p.endPrice > 0, `${id}: positive share prices`);
    check(p.transactions > 0, `${id}: transactions were sent`);
    if (p.scenario === "concentration") {
      const largest = r.book.operators.reduce((a, b) => (b.principalUsd > a.principalUsd ? b : a));
      check(
        p.recoveries.some((x) => x.operator === largest.index),
        `${id}: the largest operator's (${largest.index}) forced failure ended in a declared default`,
      );
    }
    if (p.scenario === "run") {
      const expected = Math.max(1, Math.round((r.config.book.lenders * r.config.run.shareBps) / 10_000));
      check(
        p.redemptions?.length === expected,
        `${id}: ${p.redemptions?.length ?? 0} redemption requests, expected ${expected}`,
      );
    }
  }

  if (failures.length > 0) {
    console.error(`stress report check FAILED (${file}):\n  - ${failures.join("\n  - ")}`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `stress report check passed: ${r.paths.length} paths, ${r.scenarios.length} scenarios, NAV at start = stake (+ seconds of interest) ` +
      `($${r.book.stakedUsd.toLocaleString("en-US")}) on every path (${path.relative(process.cwd(), file)})`,
  );
}

main();

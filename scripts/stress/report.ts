import { formatTable } from "../../helpers/format";
import { replayCommand, type ScenarioName, type StressConfig } from "./config";
import type { Book } from "./model";
import type { PathResult, Recovery } from "./path";
import { formatDuration } from "./progress";
import {
  expectedShortfall,
  histogram,
  mean,
  probabilityBelowZero,
  quantile,
  summarize,
  valueAtRisk,
  type Summary,
} from "./stats";

/** The report's JSON schema version; scripts/stress/check.ts validates against it. */
export const REPORT_SCHEMA = "gpu-credit/stress-report/1";

export interface ScenarioReport {
  scenario: ScenarioName;
  paths: number;
  /** sUSDai's annualized return over the horizon, from its share price (`convertToAssets(1e18)`). */
  annualizedReturn: Summary;
  probabilityOfLoss: number;
  /** Value at risk and expected shortfall of the annualized return (positive numbers are losses). */
  var95: number;
  var99: number;
  es95: number;
  es99: number;
  maxDrawdown: Summary;
  /** sUSDai's realized credit losses (`cumulativeLosses()`) as a share of its NAV at the start. */
  realizedLossShare: Summary;
  operatorFailuresPerPath: number;
  defaultsPerPath: number;
  recoveries: {
    defaults: number;
    auctionsSold: number;
    auctionsExpired: number;
    stepIns: number;
    unresolved: number;
    /** repaid / (repaid + loss) over resolved auctions, pooled. */
    auctionRecoveryRate: number | null;
    meanBidBps: number | null;
  };
  coupon: {
    stepUpsPerPath: number;
    stepDownsPerPath: number;
    topUpsPerPath: number;
    slaBreachesPerPath: number;
  };
  /** The same paths with the oracle's coupon rules switched off (`setRules([])`). */
  couponRulesOff: {
    paths: number;
    meanReturnWithRules: number;
    meanReturnWithoutRules: number;
    meanDifference: number;
    differences: number[];
  } | null;
  redemptions: {
    requests: number;
    servedByHorizon: number;
    waitDays: Summary | null;
    meanServedShare: number;
  } | null;
  /** Share price percentiles per month (5th, 50th, 95th). */
  priceBands: { p5: number[]; p50: number[]; p95: number[] };
  reverts: Record<string, number>;
}

export interface StressReport {
  schema: string;
  seed: string;
  profile: string;
  generatedAt: string;
  config: StressConfig;
  book: {
    stakedUsd: number;
    operators: {
      index: number;
      site: string;
      model: string;
      servers: number;
      spares: number;
      principalUsd: number;
    }[];
  };
  execution: {
    onChainPaths: number;
    modelPaths: number;
    note: string;
    /** From the start (compile check included) until the first worker had set up its chain. */
    setupSeconds: number;
    /** From the first worker ready until the last path finished: the paths' wall time. */
    runSeconds: number;
    totalSeconds: number;
    pathsPerSecondOnChain: number;
    transactions: number;
    transactionsPerSecond: number;
    /** Worker processes the paths were spread over (each with its own deployment); results do not depend on it. */
    workers: number;
    perWorker: WorkerExecution[];
  };
  tranches: { junior: string; senior: string };
  scenarios: ScenarioReport[];
  reverts: Record<string, number>;
  paths: PathResult[];
}

/** One worker's share of a run. */
export interface WorkerExecution {
  worker: number;
  paths: number;
  /** Positions in `paths` of the results this worker produced, in the order it ran them. */
  jobs: number[];
  /** Its own deployment and set-up of the book (null if it never finished it). */
  setupSeconds: number | null;
  /** From its set-up done to its last path finished. */
  runSeconds: number;
  pathsPerSecond: number;
  transactions: number;
}

/** What the runner measured: overall times and each worker's share. */
export interface RunTiming {
  setupSeconds: number;
  runSeconds: number;
  totalSeconds: number;
  workers: Omit<WorkerExecution, "paths" | "pathsPerSecond">[];
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function scenarioReport(config: StressConfig, scenario: ScenarioName, all: PathResult[]): ScenarioReport {
  const on = all.filter((p) => p.scenario === scenario && p.couponRules);
  const off = all.filter((p) => p.scenario === scenario && !p.couponRules);
  const returns = on.map((p) => p.annualizedReturn);
  const recoveries: Recovery[] = on.flatMap((p) => p.recoveries);
  const sold = recoveries.filter((r) => r.how === "auction-sold");
  const expired = recoveries.filter((r) => r.how === "auction-expired");
  const auctions = [...sold, ...expired];
  const repaid = auctions.reduce((s, r) => s + (r.repaidUsd ?? 0), 0);
  const lost = auctions.reduce((s, r) => s + (r.lossUsd ?? 0), 0);
  const bids = recoveries.filter((r) => r.bidBps !== null).map((r) => r.bidBps!);
  const pairs = off.map((o) => ({ off: o, on: on.find((p) => p.index === o.index)! })).filter((x) => x.on);
  const waits = on.flatMap((p) => p.redemptions ?? []);
  const served = waits.filter((w) => w.waitSeconds !== null).map((w) => w.waitSeconds! / 86_400);
  const months = config.horizonMonths;
  const band = (q: number) =>
    Array.from({ length: months + 1 }, (_, m) =>
      quantile(
        on.map((p) => p.prices[m] ?? p.endPrice),
        q,
      ),
    );
  const reverts: Record<string, number> = {};
  for (const p of [...on, ...off]) addCounts(reverts, p.reverts);
  return {
    scenario,
    paths: on.length,
    annualizedReturn: summarize(returns),
    probabilityOfLoss: probabilityBelowZero(on.map((p) => p.totalReturn)),
    var95: valueAtRisk(returns, 0.95),
    var99: valueAtRisk(returns, 0.99),
    es95: expectedShortfall(returns, 0.95),
    es99: expectedShortfall(returns, 0.99),
    maxDrawdown: summarize(on.map((p) => p.maxDrawdown)),
    realizedLossShare: summarize(on.map((p) => p.realizedLossUsd / p.startNavUsd)),
    operatorFailuresPerPath: mean(on.map((p) => p.operatorFailures)),
    defaultsPerPath: mean(on.map((p) => p.defaults)),
    recoveries: {
      defaults: recoveries.length,
      auctionsSold: sold.length,
      auctionsExpired: expired.length,
      stepIns: recoveries.filter((r) => r.how === "step-in").length,
      unresolved: recoveries.filter((r) => r.how === "pending").length,
      auctionRecoveryRate: repaid + lost > 0 ? repaid / (repaid + lost) : null,
      meanBidBps: bids.length ? mean(bids) : null,
    },
    coupon: {
      stepUpsPerPath: mean(on.map((p) => p.stepUps)),
      stepDownsPerPath: mean(on.map((p) => p.stepDowns)),
      topUpsPerPath: mean(on.map((p) => p.topUps)),
      slaBreachesPerPath: mean(on.map((p) => p.slaBreaches)),
    },
    couponRulesOff: pairs.length
      ? {
          paths: pairs.length,
          meanReturnWithRules: mean(pairs.map((x) => x.on.annualizedReturn)),
          meanReturnWithoutRules: mean(pairs.map((x) => x.off.annualizedReturn)),
          meanDifference: mean(pairs.map((x) => x.on.annualizedReturn - x.off.annualizedReturn)),
          differences: pairs.map((x) => x.on.annualizedReturn - x.off.annualizedReturn),
        }
      : null,
    redemptions: on.some((p) => p.redemptions)
      ? {
          requests: waits.length,
          servedByHorizon: served.length,
          waitDays: served.length ? summarize(served) : null,
          meanServedShare: mean(waits.map((w) => w.servedShare)),
        }
      : null,
    priceBands: { p5: band(0.05), p50: band(0.5), p95: band(0.95) },
    reverts,
  };
}

export function buildReport(
  config: StressConfig,
  book: Book,
  results: PathResult[],
  timing: RunTiming,
): StressReport {
  const transactions = results.reduce((s, p) => s + p.transactions, 0);
  const reverts: Record<string, number> = {};
  for (const p of results) addCounts(reverts, p.reverts);
  return {
    schema: REPORT_SCHEMA,
    seed: config.seed,
    profile: config.profile,
    generatedAt: new Date().toISOString(),
    config,
    book: {
      stakedUsd: book.stakedUsd,
      operators: book.operators.map((o) => ({
        index: o.index,
        site: config.book.sites[o.site],
        model: config.book.models[o.model].name,
        servers: o.servers,
        spares: o.spares,
        principalUsd: o.principalUsd,
      })),
    },
    execution: {
      onChainPaths: results.length,
      modelPaths: 0,
      note:
        "Every path ran on the deployed contracts (Hardhat's in-process network); no off-chain model of the protocol " +
        "is used, so every figure is read from the contracts' state and events.",
      setupSeconds: round(timing.setupSeconds, 1),
      runSeconds: round(timing.runSeconds, 1),
      totalSeconds: round(timing.totalSeconds, 1),
      pathsPerSecondOnChain: round(results.length / Math.max(timing.runSeconds, 1e-9), 4),
      transactions,
      transactionsPerSecond: round(transactions / Math.max(timing.runSeconds, 1e-9), 1),
      workers: timing.workers.length,
      perWorker: timing.workers.map((w) => ({
        worker: w.worker,
        paths: w.jobs.length,
        jobs: w.jobs,
        setupSeconds: w.setupSeconds === null ? null : round(w.setupSeconds, 1),
        runSeconds: round(w.runSeconds, 1),
        pathsPerSecond: round(w.jobs.length / Math.max(w.runSeconds, 1e-9), 4),
        transactions: w.transactions,
      })),
    },
    tranches: {
      junior:
        "not deployed: the junior tranche (jUSDai) is not part of this deployment, so there is no first-loss layer " +
        "and no tranche split to report",
      senior: "sUSDai takes every realized loss (see realizedLossShare)",
    },
    scenarios: config.scenarios.map((s) => scenarioReport(config, s, results)),
    reverts,
    paths: results,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? "-" : `${(x * 100).toFixed(digits)}%`;
const num = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

/** The console report: results by scenario, risk, recovery, coupon rules and the run. */
export function printReport(r: StressReport): void {
  const S = r.scenarios;
  console.log(
    `\n== sUSDai annualized return by scenario (${r.config.horizonMonths} months, seed ${r.seed}) ==`,
  );
  console.log(
    formatTable(
      [
        "scenario",
        "paths",
        "mean",
        "p5",
        "p50",
        "p95",
        "P(loss)",
        "VaR95",
        "ES95",
        "VaR99",
        "ES99",
        "worst drawdown",
      ],
      S.map((s) => [
        s.scenario,
        String(s.paths),
        pct(s.annualizedReturn.mean),
        pct(s.annualizedReturn.p5),
        pct(s.annualizedReturn.p50),
        pct(s.annualizedReturn.p95),
        pct(s.probabilityOfLoss, 1),
        pct(s.var95),
        pct(s.es95),
        pct(s.var99),
        pct(s.es99),
        pct(s.maxDrawdown.min),
      ]),
      ["left", ...Array(11).fill("right")],
    ),
  );
  console.log("\n== Credit: failures, defaults and recoveries ==");
  console.log(
    formatTable(
      [
        "scenario",
        "failures/path",
        "defaults/path",
        "sold",
        "expired",
        "step-ins",
        "unresolved",
        "auction recovery",
        "mean bid",
        "loss/NAV mean",
        "loss/NAV p99",
      ],
      S.map((s) => [
        s.scenario,
        num(s.operatorFailuresPerPath),
        num(s.defaultsPerPath),
        String(s.recoveries.auctionsSold),
        String(s.recoveries.auctionsExpired),
        String(s.recoveries.stepIns),
        String(s.recoveries.unresolved),
        pct(s.recoveries.auctionRecoveryRate, 1),
        s.recoveries.meanBidBps === null ? "-" : pct(s.recoveries.meanBidBps / 10_000, 1),
        pct(s.realizedLossShare.mean),
        pct(s.realizedLossShare.p99),
      ]),
      ["left", ...Array(10).fill("right")],
    ),
  );
  console.log("\n== Coupon rules: steps per path, and the same paths with the rules off ==");
  console.log(
    formatTable(
      [
        "scenario",
        "step-ups",
        "step-downs",
        "top-ups",
        "SLA breaches",
        "paths off",
        "return on",
        "return off",
        "on - off",
      ],
      S.map((s) => [
        s.scenario,
        num(s.coupon.stepUpsPerPath),
        num(s.coupon.stepDownsPerPath),
        num(s.coupon.topUpsPerPath),
        num(s.coupon.slaBreachesPerPath),
        String(s.couponRulesOff?.paths ?? 0),
        pct(s.couponRulesOff?.meanReturnWithRules),
        pct(s.couponRulesOff?.meanReturnWithoutRules),
        s.couponRulesOff ? `${(s.couponRulesOff.meanDifference * 10_000).toFixed(1)} bps` : "-",
      ]),
      ["left", ...Array(8).fill("right")],
    ),
  );
  for (const s of S.filter((x) => x.redemptions)) {
    const red = s.redemptions!;
    console.log(
      `\n== Redemptions (${s.scenario}): ${red.requests} requests, ${red.servedByHorizon} fully served by the horizon, ` +
        `mean share served ${pct(red.meanServedShare, 1)}; wait days p50 ${num(red.waitDays?.p50 ?? NaN, 1)}, ` +
        `p95 ${num(red.waitDays?.p95 ?? NaN, 1)}, max ${num(red.waitDays?.max ?? NaN, 1)} ==`,
    );
  }
  const reverts = Object.entries(r.reverts).sort((a, b) => b[1] - a[1]);
  console.log(
    `\nReverted calls (counted, the path went on): ${reverts.length ? reverts.map(([k, v]) => `${k} x${v}`).join("; ") : "none"}`,
  );
  console.log(
    `Tranches: ${r.tranches.junior}.\nExecution: ${r.execution.onChainPaths} paths on-chain, ${r.execution.modelPaths} in a model; ` +
      `set-up ${formatDuration(r.execution.setupSeconds)}, paths ${formatDuration(r.execution.runSeconds)} ` +
      `(${num(r.execution.pathsPerSecondOnChain, 3)} paths/s, ${num(r.execution.transactionsPerSecond, 0)} tx/s), ` +
      `whole run ${formatDuration(r.execution.totalSeconds)}; ${workerSummary(r)}.`,
  );
}

/** `2 workers: worker 0 6 paths (0.051/s, set-up 12s), worker 1 ...`. */
function workerSummary(r: StressReport): string {
  const each = r.execution.perWorker.map(
    (w) =>
      `worker ${w.worker} ${w.paths} path${w.paths === 1 ? "" : "s"} (${num(w.pathsPerSecond, 3)}/s, set-up ${w.setupSeconds === null ? "-" : formatDuration(w.setupSeconds)})`,
  );
  return `${r.execution.workers} worker${r.execution.workers === 1 ? "" : "s"}: ${each.join(", ")}`;
}

// ---------------------------------------------------------------------------- HTML

const COLORS = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Share-price fan per scenario: the 5th to 95th percentile band and the median, month by month. */
function fanChart(r: StressReport): string {
  const W = 760;
  const H = 300;
  const pad = { l: 60, r: 150, t: 20, b: 36 };
  const months = r.config.horizonMonths;
  const all = r.scenarios.flatMap((s) => [...s.priceBands.p5, ...s.priceBands.p95]).filter(Number.isFinite);
  const lo = Math.min(...all, 1) * 0.995;
  const hi = Math.max(...all, 1) * 1.005;
  const x = (m: number) => pad.l + ((W - pad.l - pad.r) * m) / months;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - (v - lo) / (hi - lo || 1));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(
      `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(4)}</text>`,
    );
  }
  for (let m = 0; m <= months; m += Math.max(1, Math.round(months / 6))) {
    parts.push(`<text x="${x(m)}" y="${H - pad.b + 16}" text-anchor="middle" font-size="11">${m}</text>`);
  }
  parts.push(
    `<text x="${(pad.l + W - pad.r) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">month</text>`,
  );
  r.scenarios.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const top = s.priceBands.p95.map((v, m) => `${x(m)},${y(v)}`);
    const bottom = s.priceBands.p5.map((v, m) => `${x(m)},${y(v)}`).reverse();
    parts.push(
      `<polygon points="${[...top, ...bottom].join(" ")}" fill="${c}" fill-opacity="0.10" stroke="none"/>`,
    );
    parts.push(
      `<polyline points="${s.priceBands.p50.map((v, m) => `${x(m)},${y(v)}`).join(" ")}" fill="none" stroke="${c}" stroke-width="2"/>`,
    );
    parts.push(`<rect x="${W - pad.r + 12}" y="${pad.t + i * 18}" width="12" height="12" fill="${c}"/>`);
    parts.push(
      `<text x="${W - pad.r + 30}" y="${pad.t + i * 18 + 10}" font-size="12">${esc(s.scenario)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="sUSDai share price by month">${parts.join("")}</svg>`;
}

/** Histogram of annualized returns of one scenario. */
function histogramChart(s: ScenarioReport, returns: number[], lo: number, hi: number, color: string): string {
  const W = 240;
  const H = 140;
  const pad = { l: 8, r: 8, t: 18, b: 26 };
  const bins = 16;
  const counts = histogram(returns, bins, lo, hi);
  const max = Math.max(1, ...counts);
  const bw = (W - pad.l - pad.r) / bins;
  const bars = counts
    .map((c, i) => {
      const h = ((H - pad.t - pad.b) * c) / max;
      return `<rect x="${pad.l + i * bw + 1}" y="${H - pad.b - h}" width="${bw - 2}" height="${h}" fill="${color}"/>`;
    })
    .join("");
  const zero = lo < 0 && hi > 0 ? pad.l + ((W - pad.l - pad.r) * (0 - lo)) / (hi - lo) : null;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(s.scenario)} returns">` +
    `<text x="${W / 2}" y="12" text-anchor="middle" font-size="12">${esc(s.scenario)} (n=${s.paths})</text>${bars}` +
    (zero === null
      ? ""
      : `<line x1="${zero}" x2="${zero}" y1="${pad.t}" y2="${H - pad.b}" stroke="#000" stroke-dasharray="3,2"/>`) +
    `<text x="${pad.l}" y="${H - 8}" font-size="10">${pct(lo, 1)}</text>` +
    `<text x="${W - pad.r}" y="${H - 8}" font-size="10" text-anchor="end">${pct(hi, 1)}</text></svg>`
  );
}

/** Horizontal bars: one value per scenario. */
function barChart(
  label: string,
  rows: { name: string; value: number | null }[],
  format: (v: number) => string,
): string {
  const W = 520;
  const row = 22;
  const H = 28 + rows.length * row;
  const values = rows.map((r) => r.value ?? 0);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values, 1e-12);
  const x0 = 150;
  const x1 = W - 70;
  const x = (v: number) => x0 + ((x1 - x0) * (v - lo)) / (hi - lo || 1);
  const parts = [`<text x="${x0}" y="14" font-size="12">${esc(label)}</text>`];
  rows.forEach((r, i) => {
    const yy = 22 + i * row;
    parts.push(`<text x="${x0 - 6}" y="${yy + 13}" text-anchor="end" font-size="12">${esc(r.name)}</text>`);
    if (r.value === null) {
      parts.push(`<text x="${x(0) + 4}" y="${yy + 13}" font-size="11" fill="#888">n/a</text>`);
      return;
    }
    const a = x(Math.min(0, r.value));
    const b = x(Math.max(0, r.value));
    parts.push(
      `<rect x="${a}" y="${yy + 2}" width="${Math.max(1, b - a)}" height="${row - 6}" fill="${r.value < 0 ? "#d62728" : "#1f77b4"}"/>`,
    );
    parts.push(`<text x="${b + 4}" y="${yy + 13}" font-size="11">${format(r.value)}</text>`);
  });
  parts.push(`<line x1="${x(0)}" x2="${x(0)}" y1="20" y2="${H}" stroke="#000"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(label)}">${parts.join("")}</svg>`;
}

function htmlTable(header: string[], rows: string[][]): string {
  return (
    `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map((r) => `<tr>${r.map((c, i) => `<td${i ? ' class="n"' : ""}>${esc(c)}</td>`).join("")}</tr>`)
      .join("") +
    "</tbody></table>"
  );
}

/** A self-contained page (inline CSS and SVG, no scripts, no network) with the report's tables and charts. */
export function renderHtml(r: StressReport): string {
  const S = r.scenarios;
  const returnsOf = (s: ScenarioReport) =>
    r.paths.filter((p) => p.scenario === s.scenario && p.couponRules).map((p) => p.annualizedReturn);
  const allReturns = S.flatMap(returnsOf);
  const lo = Math.min(...allReturns, 0);
  const hi = Math.max(...allReturns, 0.0001);
  const histograms = S.map((s, i) => histogramChart(s, returnsOf(s), lo, hi, COLORS[i % COLORS.length])).join(
    "",
  );
  const riskRows = S.map((s) => [
    s.scenario,
    String(s.paths),
    pct(s.annualizedReturn.mean),
    pct(s.annualizedReturn.p1),
    pct(s.annualizedReturn.p5),
    pct(s.annualizedReturn.p50),
    pct(s.annualizedReturn.p95),
    pct(s.probabilityOfLoss, 1),
    pct(s.var95),
    pct(s.es95),
    pct(s.var99),
    pct(s.es99),
  ]);
  const creditRows = S.map((s) => [
    s.scenario,
    num(s.operatorFailuresPerPath),
    num(s.defaultsPerPath),
    String(s.recoveries.auctionsSold),
    String(s.recoveries.auctionsExpired),
    String(s.recoveries.stepIns),
    String(s.recoveries.unresolved),
    pct(s.recoveries.auctionRecoveryRate, 1),
    pct(s.realizedLossShare.mean),
    pct(s.realizedLossShare.max),
  ]);
  const couponRows = S.map((s) => [
    s.scenario,
    num(s.coupon.stepUpsPerPath),
    num(s.coupon.stepDownsPerPath),
    num(s.coupon.topUpsPerPath),
    num(s.coupon.slaBreachesPerPath),
    String(s.couponRulesOff?.paths ?? 0),
    pct(s.couponRulesOff?.meanReturnWithRules),
    pct(s.couponRulesOff?.meanReturnWithoutRules),
    s.couponRulesOff ? `${(s.couponRulesOff.meanDifference * 10_000).toFixed(1)} bps` : "-",
  ]);
  const runs = S.filter((s) => s.redemptions);
  const runRows = runs.map((s) => [
    s.scenario,
    String(s.redemptions!.requests),
    String(s.redemptions!.servedByHorizon),
    pct(s.redemptions!.meanServedShare, 1),
    num(s.redemptions!.waitDays?.p50 ?? NaN, 1),
    num(s.redemptions!.waitDays?.p95 ?? NaN, 1),
    num(s.redemptions!.waitDays?.max ?? NaN, 1),
  ]);
  const bookRows = r.book.operators.map((o) => [
    `operator ${o.index}`,
    o.site,
    o.model,
    String(o.servers),
    String(o.spares),
    `$${o.principalUsd.toLocaleString("en-US")}`,
  ]);
  const reverts = Object.entries(r.reverts).sort((a, b) => b[1] - a[1]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stress report: seed ${esc(r.seed)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1080px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border-bottom:1px solid #eee}th{text-align:left;background:#f6f6f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555}.grid{display:flex;flex-wrap:wrap;gap:8px}
</style></head><body>
<h1>GPU credit protocol: stress report</h1>
<p class="note">Seed <b>${esc(r.seed)}</b>, profile <b>${esc(r.profile)}</b>, ${r.config.horizonMonths} months,
${r.book.operators.length} operators, $${r.book.stakedUsd.toLocaleString("en-US")} staked. ${esc(r.execution.note)}
${r.execution.onChainPaths} paths on-chain, ${r.execution.modelPaths} in a model; ${r.execution.transactions.toLocaleString("en-US")}
transactions; paths ran in ${formatDuration(r.execution.runSeconds)} (${num(r.execution.pathsPerSecondOnChain, 3)} paths/s),
${esc(workerSummary(r))}.
Replay with <code>${esc(replayCommand(r.config))}</code>. Generated ${esc(r.generatedAt)}.</p>

<h2>What lenders earn: sUSDai's annualized return</h2>
${htmlTable(["scenario", "paths", "mean", "p1", "p5", "p50", "p95", "P(loss)", "VaR 95%", "ES 95%", "VaR 99%", "ES 99%"], riskRows)}
<p class="note">Return: the change of sUSDai's share price (<code>convertToAssets(1e18)</code>) from the draw to the horizon,
compounded to a year. VaR and ES are stated as positive losses of the annualized return; with fewer than 100 paths the
99% figures are the worst path's. P(loss): share of paths whose share price ends below where it started.</p>
<div class="grid">${histograms}</div>
<h2>Share price month by month (median and 5th to 95th percentile)</h2>
${fanChart(r)}

<h2>What lenders lose: failures, defaults, recoveries</h2>
${htmlTable(["scenario", "failures/path", "defaults/path", "auctions sold", "auctions expired", "step-ins", "unresolved", "auction recovery", "loss/NAV mean", "loss/NAV worst"], creditRows)}
${barChart(
  "Auction recovery rate (repaid / debt settled)",
  S.map((s) => ({ name: s.scenario, value: s.recoveries.auctionRecoveryRate })),
  (v) => pct(v, 1),
)}
<p class="note">Tranches: ${esc(r.tranches.junior)}; ${esc(r.tranches.senior)}.</p>

<h2>The coupon rules</h2>
${htmlTable(["scenario", "step-ups", "step-downs", "top-ups", "SLA breaches", "paths re-run without rules", "return with", "return without", "difference"], couponRows)}
${barChart(
  "Mean annualized return: rules on minus rules off (bps)",
  S.map((s) => ({
    name: s.scenario,
    value: s.couponRulesOff ? s.couponRulesOff.meanDifference * 10_000 : null,
  })),
  (v) => `${v.toFixed(1)} bps`,
)}

${
  runs.length
    ? `<h2>Redemption waits under the run</h2>
${htmlTable(["scenario", "requests", "fully served", "mean share served", "wait p50 (days)", "wait p95", "wait max"], runRows)}
<p class="note">${r.config.run.shareBps / 100}% of sUSDai's shares ask to leave over ${r.config.run.days} days in month ${r.config.run.month};
a keeper services the ERC-7540 queue daily from idle USDai. A wait counts from the request to the last share serviced.</p>`
    : ""
}

<h2>The book</h2>
${htmlTable(["operator", "site", "model", "servers", "spares", "principal"], bookRows)}

<h2>Reverted calls</h2>
<p class="note">Calls the contracts refused; each was counted and the path went on.</p>
${
  reverts.length
    ? htmlTable(
        ["call: error", "count"],
        reverts.map(([k, v]) => [k, String(v)]),
      )
    : "<p>none</p>"
}
</body></html>
`;
}

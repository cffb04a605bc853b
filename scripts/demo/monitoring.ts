import type { ContractTransactionReceipt } from "ethers";

import { getProtocolConfig } from "../../config/protocol";
import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { usd } from "../../helpers/units";
import {
  dayOf,
  MAX_REPORT_PERIOD_DAYS,
  reportableDay,
  signReports,
  type Report,
} from "../../helpers/reports";
import type { NamedAccount } from "../../config/env";
import { appliedSteps, onCouponSteps } from "./coupons";
import { HOUR, loanOf, MONTH_DAYS, monthOf, now, storyDay, type DemoContext, type DemoLoan } from "./context";
import type { DailyReading } from "./report";
import {
  DAILY_READING_DAYS,
  FEEDS,
  feedFault,
  feedReading,
  MONTHLY_UTILIZATION_A,
  REPORTER3_LATE,
  reportB,
} from "./scenario";

/**
 * Chapter 5, utilization from three monitoring sources. Loan A is read from three Chainlink-style feeds (`poke`, a
 * median of at least two good readings); the third feed misbehaves part of the time (frozen, negative, reverting,
 * above 100%) and the oracle skips it with a `SourceSkipped` event while the quorum holds. Loan B is read from three
 * REPORTERs' EIP-712 signed reports (`submitReport`, quorum two), which also carry uptime against the loan's SLA; a
 * reported day is the median of every reporter's report, so when reporter3 is late the keeper's two reports leave the
 * day open until reporter3's arrives.
 * (The oracle records a day from feeds or from reports, never a mix, so each loan uses one kind.) After every
 * reading a keeper runs the Chainlink Automation pair `checkUpkeep` / `performUpkeep`, which pushes coupon steps and
 * covenant flags into the LoanVault.
 */

const SKIP_REASONS = [
  "CallFailed",
  "MalformedResponse",
  "NonPositiveAnswer",
  "AboveFullScale",
  "FutureTimestamp",
  "Stale",
  "RoundNotNewer",
] as const;
const REPORTERS: NamedAccount[] = ["reporter1", "reporter2", "reporter3"];
const FEED_KIND = 0;
const REPORTER_KIND = 1;
const MOCK_MODE = { Normal: 0, Revert: 1 } as const;

/** Deploys loan A's three feeds (local mocks) and configures both loans' sources on the oracle. */
export async function setupMonitoring(ctx: DemoContext): Promise<void> {
  const { hre, fx, actors, log } = ctx;
  const { oracle } = fx;
  const config = getProtocolConfig(hre.network.name).oracle;
  log("\n== 3. (cont.) Monitoring set-up: three sources per loan, one of them faulty ==");

  for (const feed of FEEDS) {
    const contract = await hre.ethers.deployContract("MockAggregator", [feed.decimals], actors.deployer);
    ctx.feeds.push({ name: feed.name, contract, address: await contract.getAddress(), faulty: feed.faulty });
  }
  const a = loanOf(ctx, "A");
  const b = loanOf(ctx, "B");
  const admin = oracle.connect(actors.oracleAdmin);
  await admin.configureLoan(
    a.id,
    ctx.feeds.map((f) => ({ kind: FEED_KIND, account: f.address })),
    config.quorum,
    config.maxStalenessSeconds,
  );
  await admin.configureLoan(
    b.id,
    REPORTERS.map((name) => ({ kind: REPORTER_KIND, account: actors[name].address })),
    config.quorum,
    config.maxStalenessSeconds,
  );
  // The configuration copies each loan's covenants from its terms (RevenueCovenantsSet): nobody sets them here.
  const [covenantsB] = await oracle.revenueCovenants(b.id);

  const sources = ctx.report.oracle.sources;
  for (const feed of ctx.feeds) {
    sources.push({ loan: "A", kind: "feed", name: feed.name, account: feed.address, faulty: feed.faulty });
  }
  for (const name of REPORTERS) {
    sources.push({ loan: "B", kind: "reporter", name, account: actors[name].address, faulty: false });
  }
  const rules = await oracle.rules();
  log(
    formatTable(
      ["loan", "kind", "source", "decimals", "note"],
      sources.map((s, i) => [
        s.loan,
        s.kind,
        s.name,
        s.kind === "feed" ? String(FEEDS[i].decimals) : "-",
        s.faulty ? "faulty part of the time" : s.kind === "reporter" ? "EIP-712 signer (REPORTER)" : "",
      ]),
      ["left", "left", "left", "right", "left"],
    ),
  );
  log(
    `  quorum ${config.quorum} of 3, readings older than ${config.maxStalenessSeconds / 3600}h are stale; rules: ` +
      rules
        .map(
          (r) =>
            `${Number(r.comparator) === 0 ? ">=" : "<"} ${formatBps(r.thresholdBps, 0)} for ${r.windowDays} days: ` +
            `${Number(r.premiumDeltaBps) > 0 ? "+" : ""}${r.premiumDeltaBps} bps${r.topUpRequired ? " + top-up" : ""}`,
        )
        .join("; "),
  );
  log(`  loan A is read daily for ${DAILY_READING_DAYS} days, then monthly; loan B monthly (progress below)`);
  log(
    `  loan B's terms carry a ${dscrText(covenantsB.minDscrBps)} debt-service coverage floor, copied by the oracle ` +
      `when it configured the loan (no role can change it): each monthly report's revenue is checked against it`,
  );
}

/** Publishes each of loan A's feeds for `day` (the faulty one as its fault says) and pokes the oracle. */
export async function dailyReadingA(ctx: DemoContext, day: number): Promise<void> {
  const loan = loanOf(ctx, "A");
  const answers: (number | null)[] = [];
  for (const [i, feed] of ctx.feeds.entries()) {
    const fault = feed.faulty ? feedFault(day) : null;
    const reading = feedReading(day, i);
    const scale = 10n ** BigInt(FEEDS[i].decimals - 4);
    const mode = Number(await feed.contract.mode());
    if (fault === "reverting" && mode !== MOCK_MODE.Revert) await feed.contract.setMode(MOCK_MODE.Revert);
    if (fault !== "reverting" && mode !== MOCK_MODE.Normal) await feed.contract.setMode(MOCK_MODE.Normal);
    if (fault === "frozen") {
      answers.push(null);
      continue;
    }
    const bps = fault === "negative" ? -reading : fault === "overrange" ? 11_500 : reading;
    await feed.contract.pushAnswer(BigInt(bps) * scale);
    answers.push(bps);
  }
  const receipt = await (await ctx.fx.oracle.connect(ctx.actors.keeper).poke(loan.id)).wait();
  const { medianBps, readings, skipped, fired } = parseReading(ctx, receipt!, loan);
  await observe(ctx, loan, medianBps);
  const [high] = await ctx.fx.oracle.streakOf(loan.id, 0);
  const [low] = await ctx.fx.oracle.streakOf(loan.id, 1);
  const row: DailyReading = {
    day,
    observationDay: dayOf(await now(ctx.hre)),
    sources: ctx.feeds.map((f, i) => {
      const skip = skipped.find((s) => s.source === f.address);
      return { name: f.name, answerBps: skip ? null : answers[i], skipped: skip?.reason ?? null };
    }),
    medianBps,
    readings,
    streakHighDays: Number(high),
    streakLowDays: Number(low),
    event: fired.join(", "),
  };
  ctx.report.oracle.daily.push(row);
  for (const s of skipped) {
    ctx.report.oracle.skipped.push({ day, loan: "A", source: feedName(ctx, s.source), reason: s.reason });
  }
  if (skipped.length > 0) {
    await ctx.progress(
      `oracle A: ${skipped.map((s) => `${feedName(ctx, s.source)} skipped (${s.reason})`).join(", ")}; ` +
        `median of ${readings} good readings ${formatBps(medianBps)} recorded (quorum 2 holds)`,
    );
  }
  if (fired.length > 0) await ctx.progress(`oracle A: ${fired.join(", ")} on day ${day}`);
  await runUpkeep(ctx);
}

/** Loan A's monthly reading after the daily window: all three feeds publish once, the keeper pokes. */
export async function monthlyReadingA(ctx: DemoContext, month: number): Promise<void> {
  const loan = loanOf(ctx, "A");
  const bps = MONTHLY_UTILIZATION_A[month];
  if (bps === undefined || !(await ctx.fx.loanVault.isPerforming(loan.id))) return;
  for (const [i, feed] of ctx.feeds.entries()) {
    await feed.contract.pushAnswer(BigInt(bps + (i - 1) * 40) * 10n ** BigInt(FEEDS[i].decimals - 4));
  }
  const receipt = await (await ctx.fx.oracle.connect(ctx.actors.keeper).poke(loan.id)).wait();
  await observe(ctx, loan, parseReading(ctx, receipt!, loan).medianBps);
  await runUpkeep(ctx);
}

/**
 * Loan B's monthly reading: the reporters sign a report of the month (EIP-712), covering every day since the last one
 * (`periodDays`), and the keeper submits them. A report covering N days counts as N observed days for the coupon
 * rules, so a month under 60% fires the one-month step-up and its top-up requirement. In a month when reporter3 is
 * late, the keeper submits the other two, the day stays open, and reporter3 submits its own.
 */
export async function monthlyReportB(ctx: DemoContext, month: number): Promise<void> {
  const loan = loanOf(ctx, "B");
  const { fx, actors } = ctx;
  const timestamp = await now(ctx.hre);
  const { utilizationBps, uptimeBps, billedBps } = reportB(month);
  const signers = REPORTERS;
  const late = REPORTER3_LATE.has(month);
  // A monthly reading skips days: the day it reports must open after the day before has closed.
  const reportDay = reportableDay(timestamp, await fx.oracle.reportWindow());
  // The month's report covers every day since the last recorded one (the first one, the month before it).
  const [, , lastDay] = await fx.oracle.latestUtilization(loan.id);
  const periodDays =
    lastDay === 0n ? MONTH_DAYS : Math.min(reportDay - Number(lastDay), MAX_REPORT_PERIOD_DAYS);
  const entries = signers.map((name, i) => {
    // Each reporter measures independently: their numbers differ a little.
    const reported = utilizationBps + (i - 1) * 30;
    const report: Report = {
      loanId: loan.id,
      utilizationBps: reported,
      uptimeBps: Math.min(10_000, uptimeBps + (i - 1) * 10),
      day: reportDay,
      periodDays,
      revenueUsd: billedRevenue(loan, reported, periodDays, billedBps),
      deadline: BigInt(timestamp + HOUR),
    };
    return { signer: actors[name], report };
  });
  let subset: { firstReports: number; recordedByFirst: boolean; readings: number } | null = null;
  let receipt: ContractTransactionReceipt | null;
  if (late) {
    const early = entries.filter((_, i) => signers[i] !== "reporter3");
    const first = await signReports(fx.oracle, early);
    const firstReceipt = await (
      await fx.oracle.connect(actors.keeper).submitReport(first.reports, first.signatures)
    ).wait();
    const recordedByFirst = firstReceipt!.logs.some(
      (l) => fx.oracle.interface.parseLog(l)?.name === "ObservationRecorded",
    );
    const [openDay, collected, closesAt] = await fx.oracle.openReportDay(loan.id);
    await ctx.progress(
      `oracle B: reporter3 is late; the keeper submits ${collected} of 3 reports and day ${openDay} stays open ` +
        `(until ${new Date(Number(closesAt) * 1000).toISOString().slice(0, 16)}Z): which two were sent decides nothing`,
    );
    const own = await signReports(
      fx.oracle,
      entries.filter((_, i) => signers[i] === "reporter3"),
    );
    receipt = await (
      await fx.oracle.connect(actors.reporter3).submitReport(own.reports, own.signatures)
    ).wait();
    subset = {
      firstReports: early.length,
      recordedByFirst,
      readings: parseReading(ctx, receipt!, loan).readings,
    };
  } else {
    const { reports, signatures } = await signReports(fx.oracle, entries);
    receipt = await (await fx.oracle.connect(actors.keeper).submitReport(reports, signatures)).wait();
  }
  const { medianBps, fired } = parseReading(ctx, receipt!, loan);
  await observe(ctx, loan, medianBps);
  if (fired.length > 0) {
    await ctx.progress(
      `oracle B: the ${periodDays}-day report at ${formatBps(medianBps)} counts as ${periodDays} observed days: ` +
        fired.join(", "),
    );
  }
  const [, medianUptime] = await fx.oracle.latestUtilization(loan.id);
  const sla = await fx.loanVault.slaUptimeBps(loan.id);
  const breach = medianUptime < sla;
  const dscr = await dscrOf(ctx, receipt!, loan, periodDays);
  if (dscr.breach) {
    await ctx.progress(
      `oracle B: the ${periodDays}-day report bills ${formatUsd(dscr.revenue, 0)}, ` +
        `${(Number((dscr.revenue * 100n) / dscr.debtService) / 100).toFixed(2)}x its debt service ` +
        `${formatUsd(dscr.debtService, 0)}: below the ${dscrText(dscr.minDscrBps)} floor in its terms, DSCR breach flagged`,
    );
  }
  ctx.report.oracle.reports.push({
    month,
    loan: "B",
    signers: signers.map(String),
    utilizationBps: medianBps,
    uptimeBps: Number(medianUptime),
    slaBreach: breach,
    periodDays,
    fired,
    revenueUsd: dscr.revenue.toString(),
    debtServiceUsd: dscr.debtService.toString(),
    minDscrBps: dscr.minDscrBps,
    dscrBreach: dscr.breach,
    subset,
  });
  const flagsChanged = receipt!.logs.some(
    (l) => fx.oracle.interface.parseLog(l)?.name === "CovenantFlagsChanged",
  );
  if (late || flagsChanged) {
    await ctx.progress(
      `oracle B: ${signers.length} signed reports (${signers.join(", ")}), utilization ${formatBps(medianBps)}, uptime ` +
        `${formatBps(medianUptime)}` +
        (flagsChanged
          ? breach
            ? ` < SLA ${formatBps(sla)}: SLA breach flagged`
            : `: SLA breach cleared`
          : ""),
    );
  }
  await runUpkeep(ctx);
}

/** The keeper's Chainlink Automation round: `checkUpkeep` off-chain, `performUpkeep` when it says so. */
export async function runUpkeep(ctx: DemoContext): Promise<void> {
  const { fx, actors } = ctx;
  const [needed, performData] = await fx.oracle.checkUpkeep("0x");
  if (!needed) return;
  const receipt = await (await fx.oracle.connect(actors.keeper).performUpkeep(performData)).wait();
  await onCouponSteps(ctx, appliedSteps(ctx, receipt!));
  for (const log of receipt!.logs) {
    const parsed = fx.loanVault.interface.parseLog(log);
    if (parsed?.name !== "CovenantFlagsSet") continue;
    const loan = ctx.loans.find((l) => l.id === (parsed.args.loanId as bigint))!;
    const [previous, flags] = [Number(parsed.args.previousFlags), Number(parsed.args.flags)];
    ctx.report.oracle.flagPushes.push({
      loan: loan.label,
      day: Number(storyDay(ctx, await now(ctx.hre)).toFixed(3)),
      previousFlags: previous,
      flags,
    });
    await ctx.progress(
      `loan ${loan.label}: covenant flags pushed to the vault (${previous} -> ${flags}): ` +
        (flags === 0 ? `${flagNames(previous)} cured` : `${flagNames(flags)}, cash sweep on`),
    );
  }
}

/** The oracle's covenant flags by name (`IUtilizationOracle`: bit 0 SLA, 1 data gap, 2 DSCR, 3 revenue shortfall). */
function flagNames(flags: number): string {
  const names = ["SLA breach", "data gap", "DSCR breach", "revenue shortfall"];
  return names.filter((_, bit) => (flags & (1 << bit)) !== 0).join(" + ") || "none";
}

/** A coverage ratio in bps as a multiple, e.g. 12500 -> "1.25x". */
function dscrText(bps: bigint | number): string {
  return `${(Number(bps) / 10_000).toFixed(2)}x`;
}

/**
 * What the fleet billed over `periodDays` days at `utilizationBps`: its GPU-hours at the net rate (as the lockbox
 * deposits), times the share billed (`billedBps`).
 */
function billedRevenue(
  loan: DemoLoan,
  utilizationBps: number,
  periodDays: number,
  billedBps: number,
): bigint {
  const cents = Math.round(
    (loan.gpus * periodDays * 24 * loan.revenuePerGpuHourUsd * utilizationBps * billedBps * 100) /
      10_000 ** 2,
  );
  return usd(cents) / 100n;
}

/**
 * The reported period's revenue (`RevenueRecorded`), the loan's debt service over it (the vault's view the oracle
 * compared it with), the floor the oracle holds from the loan's terms, and whether it flagged the period (`DscrBreached`).
 */
async function dscrOf(
  ctx: DemoContext,
  receipt: ContractTransactionReceipt,
  loan: DemoLoan,
  periodDays: number,
): Promise<{ revenue: bigint; debtService: bigint; minDscrBps: number; breach: boolean }> {
  const { oracle, loanVault } = ctx.fx;
  let revenue = 0n;
  let breach = false;
  for (const log of receipt.logs) {
    const parsed = oracle.interface.parseLog(log);
    if (parsed?.name === "RevenueRecorded") revenue = parsed.args.revenueUsd as bigint;
    if (parsed?.name === "DscrBreached") breach = true;
  }
  const [debtService] = await loanVault.revenueCovenantInputs(loan.id, periodDays);
  const [covenants] = await oracle.revenueCovenants(loan.id);
  return { revenue, debtService, minDscrBps: Number(covenants.minDscrBps), breach };
}

/** The observation, skipped sources and fired rules of a poke or a report submission. */
function parseReading(
  ctx: DemoContext,
  receipt: ContractTransactionReceipt,
  loan: DemoLoan,
): { medianBps: number; readings: number; skipped: { source: string; reason: string }[]; fired: string[] } {
  const iface = ctx.fx.oracle.interface;
  let medianBps = -1;
  let readings = 0;
  const skipped: { source: string; reason: string }[] = [];
  const fired: string[] = [];
  for (const log of receipt.logs) {
    const parsed = iface.parseLog(log);
    if (parsed?.name === "ObservationRecorded") {
      medianBps = Number(parsed.args.utilizationBps);
      readings = Number(parsed.args.readings);
    } else if (parsed?.name === "SourceSkipped") {
      skipped.push({
        source: parsed.args.source as string,
        reason: SKIP_REASONS[Number(parsed.args.reason)],
      });
    } else if (parsed?.name === "RuleFired") {
      fired.push(
        `rule ${parsed.args.ruleIndex} fired (${Number(parsed.args.deltaBps) > 0 ? "+" : ""}${parsed.args.deltaBps} bps)`,
      );
    }
  }
  if (medianBps < 0) throw new Error(`loan ${loan.label}: no observation was recorded`);
  return { medianBps, readings, skipped, fired };
}

/** Keeps the loan's observation for revenue, the month table and the chart. */
async function observe(ctx: DemoContext, loan: DemoLoan, bps: number): Promise<void> {
  const timestamp = await now(ctx.hre);
  ctx.observations[loan.label].push({
    day: Number(storyDay(ctx, timestamp).toFixed(3)),
    month: monthOf(ctx, timestamp),
    bps,
  });
}

function feedName(ctx: DemoContext, address: string): string {
  return ctx.feeds.find((f) => f.address === address)?.name ?? address;
}

/** The 120 daily readings of loan A as a table, and the skipped-source events by reason. */
export function printDailyReadings(ctx: DemoContext): void {
  // A summary here; every day's row (each source's answer or skip reason, median, streaks, rule) is in the JSON
  // report under oracle.daily.
  const daily = ctx.report.oracle.daily;
  const medians = daily.map((r) => r.medianBps);
  const fired = daily.filter((r) => r.event);
  ctx.log(
    formatTable(
      ["field", "value"],
      [
        ["days read", `${daily.length} (days ${daily[0]?.day ?? "-"} to ${daily.at(-1)?.day ?? "-"})`],
        ["sources", ctx.feeds.map((f) => f.name).join(", ")],
        ["median utilization", `${formatBps(Math.min(...medians))} to ${formatBps(Math.max(...medians))}`],
        ["longest >=90% streak", `${Math.max(...daily.map((r) => r.streakHighDays))} days`],
        ["longest <60% streak", `${Math.max(...daily.map((r) => r.streakLowDays))} days`],
        ["rules fired", fired.map((r) => `day ${r.day}: ${r.event}`).join("; ") || "none"],
      ],
      ["left", "left"],
    ),
  );
  const byReason = new Map<string, number[]>();
  for (const s of ctx.report.oracle.skipped)
    byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.day]);
  ctx.log(
    `  skipped readings (SourceSkipped events): ` +
      [...byReason.entries()].map(([reason, days]) => `${reason} on days ${days.join(", ")}`).join("; "),
  );
  ctx.log("  every day's readings, median and streaks: reports/demo.json, oracle.daily");
}

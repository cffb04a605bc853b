import fs from "node:fs";
import path from "node:path";

import type { DemoReport } from "./demo/report";

/**
 * `npm run demo:check`: reads reports/demo.json (written by `npm run demo`) and checks the lifecycle's key facts.
 * Every failed check is listed; the exit code is 1 when any failed. Plain ts-node: no chain needed.
 */

const ROOT = path.join(__dirname, "..");
const REPORT = path.join(ROOT, "reports", "demo.json");
const MAX_ELAPSED_SECONDS = 120;

const failures: string[] = [];
let passed = 0;

function check(condition: boolean, message: string): void {
  if (condition) passed++;
  else failures.push(message);
}

function load(): DemoReport {
  if (!fs.existsSync(REPORT)) {
    console.error(
      `demo:check: ${path.relative(process.cwd(), REPORT)} is missing; run \`npm run demo\` first`,
    );
    process.exit(1);
  }
  try {
    return JSON.parse(fs.readFileSync(REPORT, "utf8")) as DemoReport;
  } catch (err) {
    console.error(`demo:check: ${REPORT} is not valid JSON: ${(err as Error).message}`);
    process.exit(1);
  }
}

function checkLoans(r: DemoReport): void {
  check(r.loans.length === 2, `two loans must be made, found ${r.loans.length}`);
  const sites = new Set(r.loans.map((l) => l.site));
  const borrowers = new Set(r.loans.map((l) => l.borrower));
  check(
    sites.size === 2 && borrowers.size === 2,
    "the two loans must have different borrowers and different sites",
  );
  check(
    r.loans.every((l) => BigInt(l.principal) > 0n),
    "every loan must have a positive principal",
  );
}

function checkMonths(r: DemoReport): void {
  check(r.months.length === 18, `18 monthly rows expected, found ${r.months.length}`);
  check(
    r.months.every((m, i) => m.month === i + 1),
    "monthly rows must be months 1 to 18 in order",
  );
  check(
    r.months.every((m) => BigInt(m.paymentsReceived) >= 0n && Number.isFinite(m.trailingApy)),
    "every month needs payments received and a finite trailing APY",
  );
  for (const label of ["A", "B"]) {
    const paid = r.months.filter((m) => m.loans[label]?.settled === true).length;
    check(paid >= 3, `loan ${label} must settle monthly payments from its lockbox (settled ${paid})`);
  }
  const withPayments = r.months.filter((m) => BigInt(m.paymentsReceived) > 0n).length;
  check(withPayments >= 15, `payments must arrive in most months (in ${withPayments} of 18)`);
}

function checkCoupons(r: DemoReport): void {
  const down = r.couponHistory.find((c) => c.event === "step-down");
  const up = r.couponHistory.find((c) => c.event === "step-up");
  check(
    down !== undefined && down.appliedDeltaBps < 0,
    "a step-down (negative applied delta) must be recorded",
  );
  check(
    up !== undefined && up.appliedDeltaBps > 0 && up.topUpRequired,
    "a step-up (positive applied delta) with topUpRequired must be recorded",
  );
  if (down && up) check(down.day < up.day, "the step-down must come before the slump's step-up");
  const t = r.topUp;
  check(t !== null, "the borrower's top-up must be recorded");
  if (t) {
    check(t.cleared, "the top-up must clear the top-up requirement");
    check(
      t.day <= t.cureDeadlineDay,
      `the top-up (day ${t.day}) must land by the cure deadline (day ${t.cureDeadlineDay})`,
    );
    check(
      t.ltvBeforeBps > t.maxLtvBps && t.ltvAfterBps <= t.maxLtvBps,
      `the top-up must bring the LTV from above the origination max to within it (${t.ltvBeforeBps} -> ${t.ltvAfterBps}, max ${t.maxLtvBps})`,
    );
  }
}

function checkOracle(r: DemoReport): void {
  const { daily, skipped, sources } = r.oracle;
  check(daily.length === 120, `120 daily readings expected, found ${daily.length}`);
  check(
    daily.every((d, i) => i === 0 || d.observationDay === daily[i - 1].observationDay + 1),
    "daily readings must be on consecutive observation days",
  );
  check(skipped.length > 0, "the faulty source must be skipped at least once (SourceSkipped)");
  const faulty = new Set(sources.filter((s) => s.faulty).map((s) => s.name));
  check(faulty.size === 1, `exactly one source must be marked faulty, found ${faulty.size}`);
  check(
    skipped.every((s) => faulty.has(s.source)),
    "only the faulty source may be skipped",
  );
  const skippedDays = new Set(skipped.map((s) => s.day));
  check(
    daily.filter((d) => skippedDays.has(d.day)).every((d) => d.readings >= 2 && d.medianBps > 0),
    "on every day with a skipped source the quorum (2 of 3) must still hold",
  );
  check(new Set(skipped.map((s) => s.reason)).size >= 2, "the faulty source must fail in more than one way");
  const subsets = r.oracle.reports.filter((x) => x.subset !== null);
  check(subsets.length > 0, "a first submission carrying only some of the reports must be shown");
  check(
    subsets.every((x) => !x.subset!.recordedByFirst && x.subset!.readings === 3),
    "a subset of the reports must not make the day: it is recorded from all three once the late report arrives",
  );
}

/** Loan B is read monthly from signed reports: a month under 60% fires the one-month step-up and its top-up. */
function checkMonthlyReporter(r: DemoReport): void {
  const monthly = r.oracle.reports.filter((x) => x.loan === "B");
  check(monthly.length >= 12, `loan B must be read monthly from signed reports (${monthly.length} reports)`);
  check(
    monthly.every((x) => x.periodDays >= 28 && x.periodDays <= 92),
    "loan B's monthly reports must each cover the month since the last one (28 to 92 days)",
  );
  const slump = monthly.filter((x) => x.utilizationBps < 6_000);
  check(slump.length > 0, "loan B's utilization must fall under 60% in some month");
  check(
    slump.length > 0 && slump.every((x) => x.fired.some((f) => f.includes("+300"))),
    "each month loan B reports under 60% must fire the one-month step-up (a report of N days counts as N days)",
  );
  const stepUps = r.couponHistory.filter((c) => c.loan === "B" && c.event === "step-up");
  check(
    stepUps.length > 0 &&
      stepUps.every((c) => c.appliedDeltaBps > 0 && c.topUpRequired && c.cureDeadlineDay !== null),
    "loan B's step-ups must raise its coupon and require a top-up within the cure period",
  );
}

/**
 * Loan B's terms carry a DSCR floor: the oracle checks each monthly report's revenue against the period's debt service,
 * flags a report below the floor (`DscrBreached`), and the flag reaches the vault.
 */
function checkDscr(r: DemoReport): void {
  const monthly = r.oracle.reports.filter((x) => x.loan === "B");
  check(
    monthly.length > 0 && monthly.every((x) => x.minDscrBps === 12_500),
    "loan B's 1.25x DSCR floor must come from its terms into the oracle (revenueCovenants.minDscrBps 12500)",
  );
  check(
    monthly.every((x) => BigInt(x.revenueUsd) > 0n),
    "every monthly report of loan B must carry the period's revenue",
  );
  const below = (x: (typeof monthly)[number]) =>
    BigInt(x.revenueUsd) * 10_000n < BigInt(x.debtServiceUsd) * BigInt(x.minDscrBps);
  const breaches = monthly.filter((x) => x.dscrBreach);
  check(breaches.length > 0, "a monthly report of loan B must fall below its DSCR floor (DscrBreached)");
  check(
    monthly.every((x) => x.dscrBreach === below(x)),
    "DscrBreached must fire exactly for the reports whose revenue is below the floor times the period's debt service",
  );
  const first = breaches[0];
  check(
    r.oracle.flagPushes.some((p) => p.loan === "B" && (p.flags & 4) !== 0),
    "loan B's DSCR breach flag (bit 2) must be pushed into the LoanVault",
  );
  const month = first ? r.months.find((m) => m.month === first.month) : undefined;
  check(
    month === undefined || month.loans.B?.note.includes("cash sweep") === true,
    `the DSCR breach must put loan B under the cash sweep in month ${first?.month}`,
  );
}

function checkRecovery(r: DemoReport): void {
  const a = r.auction;
  check(a !== null, "one liquidation by auction must be recorded");
  if (a) {
    check(
      a.status === "Sold" && a.loanStatus === "Recovered",
      `the auction must settle (status ${a.status}, loan ${a.loanStatus})`,
    );
    check(BigInt(a.price) > 0n && a.buyer.length > 0, "the auction must have a buyer and a price");
    check(
      BigInt(a.repaid) + BigInt(a.loss) === BigInt(a.debtAtDefault),
      "the auction's repaid amount plus its shortfall must equal the debt at default",
    );
    check(
      BigInt(a.price) + BigInt(a.cashHeld) === BigInt(a.repaid) + BigInt(a.lateFees) + BigInt(a.surplus),
      "the sale must reconcile: price + cash held = debt repaid + late fees + surplus",
    );
    check(
      BigInt(a.price) >= BigInt(a.floorPrice) && BigInt(a.price) <= BigInt(a.startPrice),
      "the sale price must lie on the Dutch auction's curve",
    );
    if (BigInt(a.loss) > 0n) {
      check(
        BigInt(a.sharePriceAfter) < BigInt(a.sharePriceBefore),
        "a shortfall must lower the sUSDai price",
      );
    }
    const loan = r.loans.find((l) => l.label === a.loan);
    check(loan?.finalStatus === "Recovered", `the liquidated loan must end Recovered (${loan?.finalStatus})`);
  }
  const s = r.stepIn;
  check(s !== null, "one step-in must be recorded");
  if (s) {
    const loan = r.loans.find((l) => l.label === s.loan);
    check(s.previousBorrower !== s.newBorrower, "the step-in must change the borrower");
    check(
      loan?.finalStatus === "Active" && loan.performing && loan.finalBorrower === s.newBorrower,
      `the stepped-in loan must end Active and performing under ${s.newBorrower}`,
    );
    check(
      s.paymentsAfter > 0 && s.paymentsSettledAfter === s.paymentsAfter,
      `the replacement operator must settle every payment after the step-in (${s.paymentsSettledAfter} of ${s.paymentsAfter})`,
    );
    check(s.inGoodStandingAtEnd, "the stepped-in loan must end in good standing");
  }
}

function checkRedemption(r: DemoReport): void {
  const q = r.redemption;
  check(q !== null, "a queued redemption must be recorded");
  if (q) {
    check(BigInt(q.claimedAssets) > 0n, "the queued redemption must pay USDai");
    check(
      (q.serviceDay - q.requestDay) * 86_400 >= q.cooldownSeconds,
      "the queue must be serviced only after the cooldown",
    );
  }
}

function checkPrice(r: DemoReport): void {
  const series = r.priceSeries;
  check(series.length >= 20, `the sUSDai price series is too short (${series.length})`);
  if (series.length < 2) return;
  check(
    BigInt(series[series.length - 1].price) > BigInt(series[0].price),
    "the sUSDai price must rise over the period",
  );
  for (let i = 1; i < series.length; i++) {
    const fell = BigInt(series[i].price) < BigInt(series[i - 1].price);
    check(
      !fell || series[i].lossEvent,
      `the sUSDai price fell at "${series[i].label}" (day ${series[i].day}) without a realized loss`,
    );
  }
  check(
    series.every((p, i) => i === 0 || p.timestamp >= series[i - 1].timestamp),
    "the price series must be in time order",
  );
}

function checkSvg(r: DemoReport): void {
  const file = r.svg ? path.join(ROOT, r.svg) : "";
  const svg = file && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  check(
    svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"),
    `the chart ${r.svg ?? "(none)"} must be an SVG`,
  );
  check(
    svg.includes("Utilization vs coupon") && svg.includes("sUSDai price"),
    "the chart must have the utilization/coupon and sUSDai price panels",
  );
}

function main(): void {
  const r = load();
  checkLoans(r);
  checkMonths(r);
  checkCoupons(r);
  checkOracle(r);
  checkMonthlyReporter(r);
  checkDscr(r);
  checkRecovery(r);
  checkRedemption(r);
  checkPrice(r);
  checkSvg(r);
  check(
    r.elapsedSeconds > 0 && r.elapsedSeconds < MAX_ELAPSED_SECONDS,
    `the demo must finish in under ${MAX_ELAPSED_SECONDS}s (took ${r.elapsedSeconds}s)`,
  );

  if (failures.length > 0) {
    console.error(`demo:check: ${failures.length} of ${failures.length + passed} checks failed:`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exitCode = 1;
    return;
  }
  console.log(`demo:check: all ${passed} checks passed (${path.relative(process.cwd(), REPORT)})`);
}

main();

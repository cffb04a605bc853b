import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";

import { formatBps, formatTable, formatUsd } from "../helpers/format";
import { deployProtocol } from "../test/fixtures/protocol";
import { createContext, now, statusName, storyDay, type DemoContext } from "./demo/context";
import { printCouponHistory } from "./demo/coupons";
import { fleetChapter } from "./demo/fleet";
import { lendersChapter } from "./demo/lenders";
import { loansChapter } from "./demo/loans";
import { printDailyReadings, setupMonitoring } from "./demo/monitoring";
import { fundCustomers, printMonths } from "./demo/payments";
import { printRecovery } from "./demo/recovery";
import { redemptionChapter } from "./demo/redemption";
import { MONTHS } from "./demo/scenario";
import { renderChart } from "./demo/svg";
import { runTimeline } from "./demo/timeline";

/**
 * `npm run demo`: the protocol's whole lifecycle on Hardhat's in-process network, deployed through the real deploy
 * scripts (tag `protocol`). Eight chapters; 4 to 7 share one 18-month timeline:
 *   1. lenders deposit (USDai from USDC, staked in sUSDai; idle reserves in T-bills)
 *   2. the fleet is tokenized (GpuReceipts: attested serials, appraisal, depreciation, insurance)
 *   3. two loans are made (two operators, two sites; loan B's terms carry a 1.25x DSCR floor the oracle checks)
 *   4. 18 months of payments from lockbox revenue (deposit + sweep each month: the waterfall)
 *   5. utilization from three monitoring sources per loan, one of them faulty; loan B's reported revenue against its
 *      DSCR floor (month 12 falls below it: DscrBreached, pushed to the vault beside the SLA breach)
 *   6. a step-down, a slump with a step-up and a required top-up, and the borrower's top-up
 *   7. one borrower defaults and is liquidated by Dutch auction; the other is replaced by a step-in
 *   8. a queued ERC-7540 redemption
 * Prints progress and tables; writes reports/demo.json and reports/demo.svg (`npm run demo:check` verifies them).
 */
async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Deploying the protocol on "${hre.network.name}" through the deploy scripts...`);
  const ctx = await createContext(hre, await deployProtocol());
  const { log } = ctx;

  await lendersChapter(ctx);
  await fleetChapter(ctx);
  await loansChapter(ctx);
  await fundCustomers(ctx);
  await setupMonitoring(ctx);

  log(`\n== 4-7. ${MONTHS} months on one clock: payments, readings, coupon steps, defaults ==`);
  await runTimeline(ctx);

  log("\n== 4. Payments: month by month ==");
  printMonths(ctx);
  log("\n== 5. Loan A: 120 days of readings from three sources (the third is faulty) ==");
  printDailyReadings(ctx);
  log("\n== 6. Coupon history ==");
  printCouponHistory(ctx);
  log("\n== 7. Defaults and recovery ==");
  await finalizeLoans(ctx);
  printRecovery(ctx);

  await redemptionChapter(ctx);

  collectFacts(ctx);
  const outDir = path.join(__dirname, "..", "reports");
  fs.mkdirSync(outDir, { recursive: true });
  const svgFile = path.join(outDir, "demo.svg");
  fs.writeFileSync(svgFile, renderChart(ctx.report, ctx.observations));
  ctx.report.svg = path.relative(path.join(__dirname, ".."), svgFile);
  const elapsed = (Date.now() - started) / 1000;
  // The whole process: Hardhat's start-up (and a compile, when one is needed), the deploy and the story.
  const total = process.uptime();
  ctx.report.elapsedSeconds = Number(total.toFixed(1));
  const jsonFile = path.join(outDir, "demo.json");
  fs.writeFileSync(jsonFile, `${JSON.stringify(ctx.report, null, 2)}\n`);

  log("\n== Key facts ==");
  log(
    formatTable(
      ["fact", "value"],
      Object.entries(ctx.report.facts).map(([k, v]) => [k, String(v)]),
      ["left", "right"],
    ),
  );
  log(
    `\nWrote ${path.relative(process.cwd(), jsonFile)} and ${path.relative(process.cwd(), svgFile)}; ` +
      `elapsed ${total.toFixed(1)}s (deploy and story ${elapsed.toFixed(1)}s).`,
  );
}

/** Each loan's final state, by field name from the vault's views. */
async function finalizeLoans(ctx: DemoContext): Promise<void> {
  const vault = ctx.fx.loanVault;
  const rows: string[][] = [];
  for (const loan of ctx.loans) {
    const terms = await vault.termsOf(loan.id);
    const state = await vault.stateOf(loan.id);
    const performing = await vault.isPerforming(loan.id);
    const goodStanding = await vault.inGoodStanding(loan.id);
    const borrower =
      Object.entries(ctx.actors).find(([, s]) => s.address === terms.borrower)?.[0] ?? terms.borrower;
    ctx.report.loans.push({
      label: loan.label,
      id: loan.id.toString(),
      borrower: ctx.report.stepIn?.loan === loan.label ? ctx.report.stepIn.previousBorrower : loan.borrower,
      site: loan.site,
      principal: terms.principal.toString(),
      receipts: loan.receiptIds.map(String),
      finalStatus: statusName(state.status),
      finalBorrower: borrower,
      performing,
      inGoodStanding: goodStanding,
      debt: (await vault.debtOf(loan.id)).toString(),
      couponBps: Number(await vault.couponOf(loan.id)),
    });
    if (ctx.report.stepIn?.loan === loan.label) ctx.report.stepIn.inGoodStandingAtEnd = goodStanding;
    rows.push([
      `${loan.label} #${loan.id}`,
      statusName(state.status),
      borrower,
      formatUsd(await vault.debtOf(loan.id), 0),
      performing ? formatBps(await vault.couponOf(loan.id)) : "-",
      String(goodStanding),
    ]);
  }
  ctx.log(
    formatTable(["loan", "final status", "borrower", "debt", "coupon", "good standing"], rows, [
      "left",
      "left",
      "left",
      "right",
      "right",
      "left",
    ]),
  );
  ctx.log(`  day ${storyDay(ctx, await now(ctx.hre)).toFixed(1)}: the story's last payment month is over`);
}

/** The key facts of the run, for the summary and for `npm run demo:check`. */
function collectFacts(ctx: DemoContext): void {
  const { report } = ctx;
  const history = report.couponHistory;
  const series = report.priceSeries;
  const first = series[0];
  const last = series[series.length - 1];
  const years = (last.timestamp - first.timestamp) / (365 * 86_400);
  report.facts = {
    loansMade: report.loans.length,
    monthRows: report.months.length,
    dailyReadings: report.oracle.daily.length,
    skippedSourceEvents: report.oracle.skipped.length,
    skipReasons: [...new Set(report.oracle.skipped.map((s) => s.reason))].join(", "),
    signedReports: report.oracle.reports.length,
    dscrBreaches: report.oracle.reports.filter((x) => x.dscrBreach).length,
    stepDowns: history.filter((c) => c.event === "step-down").length,
    stepUpsWithTopUp: history.filter((c) => c.event === "step-up" && c.topUpRequired).length,
    topUpCleared: report.topUp?.cleared ?? false,
    liquidations: report.auction ? 1 : 0,
    auctionStatus: report.auction?.status ?? "none",
    auctionShortfall: formatUsd(BigInt(report.auction?.loss ?? "0"), 0),
    auctionSurplus: formatUsd(BigInt(report.auction?.surplus ?? "0"), 0),
    stepIns: report.stepIn ? 1 : 0,
    steppedInLoanFinalStatus:
      report.loans.find((l) => l.label === report.stepIn?.loan)?.finalStatus ?? "none",
    redemptionClaimed: formatUsd(BigInt(report.redemption?.claimedAssets ?? "0")),
    sharePriceStart: first.priceFloat.toFixed(6),
    sharePriceEnd: last.priceFloat.toFixed(6),
    annualizedReturn: `${(((last.priceFloat / first.priceFloat) ** (1 / years) - 1) * 100).toFixed(2)}%`,
    storyDays: Number(storyDay(ctx, last.timestamp).toFixed(1)),
  };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

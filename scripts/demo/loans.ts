import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { loanTerms } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import { now, samplePrice, type DemoContext, type DemoLoan } from "./context";
import { GPUS_PER_SERVER, LOANS } from "./scenario";
import { recordCoupon } from "./coupons";

/**
 * Chapter 3, two loans are made: the underwriter approves each operator's loan on the house terms (36 monthly
 * payments amortizing 2%, 4.30% reference + 6.00% premium, 60% origination LTV; loan B with a 1.25x debt-service
 * coverage floor), within the per-borrower and per-site concentration caps measured against sUSDai's NAV; each operator
 * pledges its servers and draws USDai from sUSDai.
 */
export async function loansChapter(ctx: DemoContext): Promise<void> {
  const { actors, fx, log } = ctx;
  const { loanVault, receipts } = fx;
  log("\n== 3. Two loans: two operators, two sites ==");

  for (const plan of LOANS) {
    const borrower = actors[plan.borrower];
    const pledged = ctx.fleet.filter((r) => r.server.owner === plan.borrower && r.server.pledged);
    const loanId = (await loanVault.loanCount()) + 1n;
    // The covenants the oracle checks are terms: loan B's DSCR floor is fixed here, at approval.
    await loanVault.connect(actors.underwriter).approveLoan(
      loanTerms(borrower.address, usd(plan.principalUsd), plan.site, await now(ctx.hre), {
        minDscrBps: plan.minDscrBps ?? 0,
      }),
    );
    await receipts.connect(borrower).setApprovalForAll(await loanVault.getAddress(), true);
    await loanVault.connect(borrower).borrow(
      loanId,
      pledged.map((r) => r.tokenId),
    );
    if (ctx.t0 === 0) ctx.t0 = await now(ctx.hre);
    const loan: DemoLoan = {
      label: plan.label,
      id: loanId,
      borrower: plan.borrower,
      site: plan.site,
      receiptIds: pledged.map((r) => r.tokenId),
      revenuePerGpuHourUsd: plan.revenuePerGpuHourUsd,
      gpus: pledged.length * GPUS_PER_SERVER,
    };
    ctx.loans.push(loan);
    await recordCoupon(ctx, loan, "drawn", null);
    await ctx.progress(
      `loan ${plan.label} (#${loanId}): ${plan.borrower} drew ${formatUsd(usd(plan.principalUsd), 0)} at ${plan.site} ` +
        `against receipts ${loan.receiptIds.map((i) => `#${i}`).join(", ")}`,
    );
  }

  const nav = await fx.susdai.totalAssets();
  const risk = await loanVault.riskParams();
  const rows: string[][] = [];
  for (const loan of ctx.loans) {
    const terms = await loanVault.termsOf(loan.id);
    const [dueDate, amountDue] = await loanVault.nextPayment(loan.id);
    rows.push([
      `${loan.label} #${loan.id}`,
      loan.borrower,
      loan.site,
      formatUsd(terms.principal, 0),
      formatUsd(await loanVault.collateralValueOf(loan.id), 0),
      formatBps(await loanVault.ltvOf(loan.id)),
      formatBps(await loanVault.couponOf(loan.id)),
      String(terms.numPayments),
      `day ${((Number(dueDate) - ctx.t0) / 86_400).toFixed(0)}: ${formatUsd(amountDue)}`,
    ]);
  }
  log(
    formatTable(
      ["loan", "borrower", "site", "principal", "collateral", "LTV", "coupon", "payments", "first payment"],
      rows,
      ["left", "left", "left", "right", "right", "right", "right", "right", "right"],
    ),
  );
  log(
    `  caps: ${formatBps(risk.borrowerCapBps)} of NAV per borrower, ${formatBps(risk.siteCapBps)} per site ` +
      `(NAV ${formatUsd(nav, 0)}); sUSDai idle after funding ${formatUsd(await fx.susdai.idleAssets(), 0)}`,
  );
  await samplePrice(ctx, "loans drawn");
}

import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { fundBuyer, liquidateAt } from "../../test/helpers/recovery";
import { recordCoupon } from "./coupons";
import { now, samplePrice, statusName, storyDay, type DemoContext, type DemoLoan } from "./context";
import { LIQUIDATOR_BID_BPS, LOANS } from "./scenario";

/**
 * Chapter 7, defaults and recovery. A missed payment that stays unpaid past the grace period and the default window
 * lets anyone declare the default, which impairs the loan in sUSDai's NAV to its expected recovery. Loan A's receipts
 * then go to a Dutch auction that a RECEIPT_HOLDER buys once the price falls to its bid: proceeds settle the debt, a
 * surplus goes to the borrower, a shortfall is written off against sUSDai. Loan B's operator is replaced instead:
 * the CREDIT_ADMIN novates the loan, its lockbox and its receipts to a replacement operator (`stepIn`), who keeps
 * paying on a fresh schedule.
 */

const scheduled = new Set<string>();

/** Called when a loan's payment stays unsettled after the month's sweep: queues the default at `defaultableAt`. */
export async function onMissedPayment(ctx: DemoContext, loan: DemoLoan): Promise<void> {
  const plan = LOANS.find((p) => p.label === loan.label)!;
  if (loan.borrower !== plan.borrower || scheduled.has(loan.label)) return;
  scheduled.add(loan.label);
  const at = Number(await ctx.fx.loanVault.defaultableAt(loan.id));
  await ctx.progress(
    `loan ${loan.label}: ${loan.borrower} missed a payment; defaultable from day ${storyDay(ctx, at).toFixed(1)} ` +
      `(grace + default window)`,
  );
  ctx.schedule(at, `default of loan ${loan.label}`, () => declareDefault(ctx, loan));
}

async function declareDefault(ctx: DemoContext, loan: DemoLoan): Promise<void> {
  const { fx, actors } = ctx;
  const vault = fx.loanVault;
  const priceBefore = await samplePrice(ctx, `loan ${loan.label} before default`);
  const receipt = await (await vault.connect(actors.keeper).declareDefault(loan.id)).wait();
  const event = receipt!.logs
    .map((l) => vault.interface.parseLog(l))
    .find((p) => p?.name === "LoanDefaulted")!;
  const debt = event.args.debt as bigint;
  const impaired = event.args.impairedValue as bigint;
  const after = await samplePrice(ctx, `loan ${loan.label} defaulted`, impaired < debt);
  await recordCoupon(ctx, loan, "defaulted: interest stops", null);
  ctx.report.chapters[`default${loan.label}`] = {
    day: after.day,
    debt: debt.toString(),
    impairedValue: impaired.toString(),
    collateralValue: (await vault.collateralValueOf(loan.id)).toString(),
    sharePriceBefore: priceBefore.price,
    sharePriceAfter: after.price,
  };
  await ctx.progress(
    `loan ${loan.label}: default declared by the keeper; debt ${formatUsd(debt, 0)}, impaired to ` +
      `${formatUsd(impaired, 0)} (collateral ${formatUsd(await vault.collateralValueOf(loan.id), 0)} less the haircut` +
      ` + lockbox + reserve, at most the debt); sUSDai ${priceBefore.priceFloat.toFixed(6)} -> ${after.priceFloat.toFixed(6)}`,
  );
  const plan = LOANS.find((p) => p.label === loan.label)!;
  if (plan.recovery === "liquidation") await liquidate(ctx, loan, debt, impaired);
  else await stepIn(ctx, loan, plan.replacement!, debt);
}

async function liquidate(ctx: DemoContext, loan: DemoLoan, debt: bigint, impaired: bigint): Promise<void> {
  const { fx, actors } = ctx;
  const collateral = await fx.loanVault.collateralValueOf(loan.id);
  const { auctionId, startedAt } = await liquidateAt(fx, loan.id);
  const auction = await fx.auction.auctionOf(auctionId);
  const start = auction.startPrice;
  const floor = auction.floorPrice;
  const duration = BigInt(auction.duration);
  // The liquidator would pay LIQUIDATOR_BID_BPS of the collateral, but the lot never sells below its floor (the
  // reserve, or the loan's maximum LTV of the collateral): it waits for the floor if its bid is below it.
  // It buys an hour before the end at the latest (the price then is a little above the floor).
  const wanted = (collateral * BigInt(LIQUIDATOR_BID_BPS)) / 10_000n;
  const last = duration - 3_600n;
  const priceAt = (elapsed: bigint) => start - ((start - floor) * elapsed) / duration;
  // The first second at which the linear Dutch price is at or below the bid.
  const reached =
    wanted >= start ? 0n : ((start - wanted) * duration + (start - floor) - 1n) / (start - floor);
  const elapsed = reached < last ? reached : last;
  const bid = wanted > priceAt(elapsed) ? wanted : priceAt(elapsed);
  await ctx.progress(
    `loan ${loan.label}: liquidated into auction #${auctionId}: ${formatUsd(start, 0)} falling to ${formatUsd(floor, 0)} ` +
      `over ${Number(duration) / 3600}h (the floor: the reserve or the 60% maximum LTV); the liquidator would pay ` +
      `${formatBps(LIQUIDATOR_BID_BPS)} of collateral (${formatUsd(wanted, 0)}) and bids ${formatUsd(bid, 0)}`,
  );
  ctx.schedule(Number(startedAt + elapsed), `auction #${auctionId} buy`, async () => {
    const buyer = actors.liquidator;
    await fundBuyer(fx, buyer.address, bid);
    const before = await samplePrice(ctx, `auction #${auctionId} before sale`);
    const receipt = await (await fx.auction.connect(buyer).buy(auctionId, bid)).wait();
    const settledEvent = receipt!.logs
      .map((l) => fx.loanVault.interface.parseLog(l))
      .find((p) => p?.name === "AuctionSettled")!;
    const loss = settledEvent.args.loss as bigint;
    const after = await samplePrice(ctx, `auction #${auctionId} settled`, loss > 0n);
    const state = await fx.loanVault.stateOf(loan.id);
    const sold = await fx.auction.auctionOf(auctionId);
    ctx.report.auction = {
      auctionId: auctionId.toString(),
      loan: loan.label,
      loanId: loan.id.toString(),
      collateralValue: collateral.toString(),
      startPrice: start.toString(),
      floorPrice: floor.toString(),
      durationSeconds: Number(duration),
      boughtAfterSeconds: (await now(ctx.hre)) - Number(startedAt),
      buyer: "liquidator",
      price: (settledEvent.args.proceeds as bigint).toString(),
      debtAtDefault: debt.toString(),
      impairedValue: impaired.toString(),
      cashHeld: (settledEvent.args.cashHeld as bigint).toString(),
      repaid: (settledEvent.args.repaid as bigint).toString(),
      lateFees: (settledEvent.args.lateFees as bigint).toString(),
      surplus: (settledEvent.args.surplus as bigint).toString(),
      loss: loss.toString(),
      status: ["None", "Live", "Sold", "Expired"][Number(sold.status)],
      loanStatus: statusName(state.status),
      sharePriceBefore: before.price,
      sharePriceAfter: after.price,
    };
    await ctx.progress(
      `auction #${auctionId}: liquidator bought ${sold.receiptIds.length} receipts for ` +
        `${formatUsd(settledEvent.args.proceeds, 0)} after ` +
        `${(ctx.report.auction.boughtAfterSeconds / 3600).toFixed(1)}h; repaid ${formatUsd(settledEvent.args.repaid, 0)}, ` +
        `surplus ${formatUsd(settledEvent.args.surplus, 0)}, shortfall ${formatUsd(loss, 0)} written off; sUSDai ` +
        `${before.priceFloat.toFixed(6)} -> ${after.priceFloat.toFixed(6)}`,
    );
  });
}

async function stepIn(
  ctx: DemoContext,
  loan: DemoLoan,
  replacement: DemoLoan["borrower"],
  debt: bigint,
): Promise<void> {
  const { fx, actors } = ctx;
  const vault = fx.loanVault;
  const previous = loan.borrower;
  await vault.connect(actors.creditAdmin).stepIn(loan.id, actors[replacement].address);
  loan.borrower = replacement;
  const terms = await vault.termsOf(loan.id);
  const state = await vault.stateOf(loan.id);
  await recordCoupon(ctx, loan, `step-in: novated to ${replacement}`, null);
  const point = await samplePrice(ctx, `loan ${loan.label} stepped in`);
  ctx.report.stepIn = {
    loan: loan.label,
    loanId: loan.id.toString(),
    day: point.day,
    previousBorrower: previous,
    newBorrower: replacement,
    debtAtStepIn: debt.toString(),
    paymentsAfter: 0,
    paymentsSettledAfter: 0,
    performingAfter: await vault.isPerforming(loan.id),
    inGoodStandingAtEnd: false,
  };
  if (terms.borrower !== actors[replacement].address) throw new Error("step-in did not change the borrower");
  const [dueDate] = await vault.nextPayment(loan.id);
  await ctx.progress(
    `loan ${loan.label}: creditAdmin steps in: ${previous} -> ${replacement}, ${state.schedulePayments} payments ` +
      `from day ${storyDay(ctx, Number(dueDate)).toFixed(1)}; performing again` +
      (state.oracleFlags !== 0n ? " (the SLA flag stands until the new operator's uptime is reported)" : "") +
      `; sUSDai ${point.priceFloat.toFixed(6)}`,
  );
}

/** A summary of both recoveries. */
export function printRecovery(ctx: DemoContext): void {
  const { auction, stepIn: novation } = ctx.report;
  const rows: string[][] = [];
  if (auction) {
    rows.push(
      [`loan ${auction.loan}`, "debt at default", formatUsd(BigInt(auction.debtAtDefault), 0)],
      ["", "impaired to", formatUsd(BigInt(auction.impairedValue), 0)],
      [
        "",
        "auction",
        `${formatUsd(BigInt(auction.startPrice), 0)} -> ${formatUsd(BigInt(auction.floorPrice), 0)}`,
      ],
      ["", "sold to the liquidator for", formatUsd(BigInt(auction.price), 0)],
      [
        "",
        "repaid / late fees / surplus / shortfall",
        [auction.repaid, auction.lateFees, auction.surplus, auction.loss]
          .map((v) => formatUsd(BigInt(v), 0))
          .join(" / "),
      ],
      [
        "",
        "sUSDai at the sale",
        `${fmtPrice(auction.sharePriceBefore)} -> ${fmtPrice(auction.sharePriceAfter)}`,
      ],
    );
  }
  if (novation) {
    rows.push(
      [
        `loan ${novation.loan}`,
        "stepped in",
        `${novation.previousBorrower} -> ${novation.newBorrower} on day ${novation.day.toFixed(1)}`,
      ],
      [
        "",
        "payments after the step-in",
        `${novation.paymentsSettledAfter} of ${novation.paymentsAfter} settled`,
      ],
      ["", "in good standing at the end", String(novation.inGoodStandingAtEnd)],
    );
  }
  ctx.log(formatTable(["loan", "what", "value"], rows, ["left", "left", "right"]));
}

function fmtPrice(raw: string): string {
  return (Number(raw) / 1e18).toFixed(6);
}

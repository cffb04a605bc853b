import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { LoanStatus } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import { fundUsdai } from "../../test/helpers/loans";
import {
  MONTH_DAYS,
  now,
  samplePrice,
  statusName,
  storyDay,
  type DemoContext,
  type DemoLoan,
} from "./context";
import { harvestTBills } from "./lenders";
import { monthlyReadingA, monthlyReportB } from "./monitoring";
import { onMissedPayment } from "./recovery";
import type { LoanMonth, MonthRow } from "./report";
import { LOANS } from "./scenario";

/**
 * Chapter 4, monthly payments from lockbox revenue: each month the fleets' customers pay compute revenue into each
 * loan's lockbox (`depositRevenue`), and after the due date a keeper runs the waterfall (`sweep`): late fees,
 * interest, scheduled principal, the debt-service reserve up to 3% of principal, then the excess, which the borrower
 * releases while in good standing (under a covenant breach the excess prepays principal instead). Revenue follows
 * the month's measured utilization. A quarterly T-bill harvest adds to sUSDai's yield.
 */

const HOURS_PER_MONTH = MONTH_DAYS * 24;

/** The customers' USDai for a year and a half of revenue. */
export async function fundCustomers(ctx: DemoContext): Promise<void> {
  await fundUsdai(ctx.fx, ctx.customers, 1_000_000);
}

/** One month of the story: readings, payments of both loans, the quarterly harvest, and the month's row. */
export async function monthlyTick(ctx: DemoContext, month: number): Promise<void> {
  await monthlyReadingA(ctx, month);
  await monthlyReportB(ctx, month);

  const loans: Record<string, LoanMonth> = {};
  const events: string[] = [];
  let received = 0n;
  for (const loan of ctx.loans) {
    const row = await payMonth(ctx, loan, month);
    loans[loan.label] = row;
    received += BigInt(row.paid);
    if (row.note) events.push(`${loan.label}: ${row.note}`);
  }

  if (month % 3 === 0) {
    const harvested = await harvestTBills(ctx);
    events.push(`T-bill harvest ${formatUsd(harvested, 0)} (vests)`);
  }

  const point = await samplePrice(ctx, `month ${month}`);
  const previous = ctx.report.months.at(-1);
  const base = previous
    ? { price: previous.sharePriceFloat, timestamp: previous.timestamp }
    : { price: ctx.report.priceSeries[0].priceFloat, timestamp: ctx.report.priceSeries[0].timestamp };
  const years = (point.timestamp - base.timestamp) / (365 * 86_400);
  const trailingApy = (point.priceFloat / base.price) ** (1 / years) - 1;
  const row: MonthRow = {
    month,
    day: Number(storyDay(ctx, point.timestamp).toFixed(2)),
    timestamp: point.timestamp,
    loans,
    paymentsReceived: received.toString(),
    sharePrice: point.price,
    sharePriceFloat: point.priceFloat,
    trailingApy,
    nav: (await ctx.fx.susdai.totalAssets()).toString(),
    events,
  };
  ctx.report.months.push(row);
  await ctx.progress(
    `month ${month}: payments ${formatUsd(received, 0)}, sUSDai ${point.priceFloat.toFixed(6)}` +
      (events.length ? ` (${events.join("; ")})` : ""),
  );
}

/** Revenue, sweep and release for one loan this month. */
async function payMonth(ctx: DemoContext, loan: DemoLoan, month: number): Promise<LoanMonth> {
  const { fx, actors } = ctx;
  const vault = fx.loanVault;
  const plan = LOANS.find((p) => p.label === loan.label)!;
  const utilizationBps = monthUtilization(ctx, loan, month);
  const empty = (status: string, note: string): LoanMonth => ({
    status,
    utilizationBps,
    couponBps: 0,
    revenue: "0",
    paid: "0",
    interest: "0",
    principal: "0",
    lateFees: "0",
    released: "0",
    settled: null,
    debt: "0",
    ltvBps: null,
    note,
  });

  const before = await vault.stateOf(loan.id);
  if (before.status !== LoanStatus.Active) return empty(statusName(before.status), "");
  const [dueDate] = await vault.nextPayment(loan.id);
  const timestamp = await now(ctx.hre);
  if (dueDate === 0n || Number(dueDate) > timestamp) {
    const row = empty("Active", `next payment due day ${storyDay(ctx, Number(dueDate)).toFixed(0)}`);
    return { ...row, couponBps: Number(await vault.couponOf(loan.id)), ...(await position(ctx, loan)) };
  }

  // The operator's customers pay while it operates; a failed operator's fleet remits nothing until a step-in.
  const operating = loan.borrower !== plan.borrower || month <= plan.lastRevenueMonth;
  const revenue = operating ? revenueFor(loan, utilizationBps) : 0n;
  if (revenue > 0n) await vault.connect(ctx.customers).depositRevenue(loan.id, revenue);

  const receipt = await (await vault.connect(actors.keeper).sweep(loan.id)).wait();
  let applied = 0n;
  let charged = 0n;
  for (const log of receipt!.logs) {
    const parsed = vault.interface.parseLog(log);
    if (parsed?.name === "Swept") applied = parsed.args.applied as bigint;
    if (parsed?.name === "LateFeeCharged") charged += parsed.args.fee as bigint;
  }
  const after = await vault.stateOf(loan.id);
  const principal = before.principal - after.principal;
  const lateFees = before.lateFees + charged - after.lateFees;
  const [nextDue] = await vault.nextPayment(loan.id);
  const settled = nextDue === 0n || Number(nextDue) > timestamp;

  let released = 0n;
  // The release sweeps again first, so the seconds of interest since the keeper's sweep come out of the excess.
  if (after.lockbox > usd(1) && (await vault.inGoodStanding(loan.id))) {
    released = after.lockbox - usd(1);
    await vault
      .connect(actors[loan.borrower])
      .releaseExcess(loan.id, actors[loan.borrower].address, released);
  }

  const novation = ctx.report.stepIn;
  if (novation?.loan === loan.label) {
    novation.paymentsAfter += 1;
    if (settled) novation.paymentsSettledAfter += 1;
  }
  const notes: string[] = [];
  if (!operating) notes.push(settled ? "no revenue: paid from the debt-service reserve" : "no revenue");
  if (after.breachFlags !== 0n || after.oracleFlags !== 0n) notes.push("cash sweep");
  if (!settled) {
    notes.push("payment missed");
    await onMissedPayment(ctx, loan);
  }
  return {
    status: "Active",
    utilizationBps,
    couponBps: Number(await vault.couponOf(loan.id)),
    revenue: revenue.toString(),
    paid: applied.toString(),
    interest: (applied - principal - lateFees).toString(),
    principal: principal.toString(),
    lateFees: lateFees.toString(),
    released: released.toString(),
    settled,
    note: notes.join(", "),
    ...(await position(ctx, loan)),
  };
}

async function position(ctx: DemoContext, loan: DemoLoan): Promise<{ debt: string; ltvBps: number }> {
  const vault = ctx.fx.loanVault;
  return { debt: (await vault.debtOf(loan.id)).toString(), ltvBps: Number(await vault.ltvOf(loan.id)) };
}

/** The month's revenue: the fleet's GPU-hours at the month's average measured utilization, at the net rate. */
function revenueFor(loan: DemoLoan, utilizationBps: number | null): bigint {
  const cents = Math.round(
    (loan.gpus * HOURS_PER_MONTH * loan.revenuePerGpuHourUsd * (utilizationBps ?? 0) * 100) / 10_000,
  );
  return usd(cents) / 100n;
}

/** The loan's average observed utilization over `month` (null: no observation in it). */
function monthUtilization(ctx: DemoContext, loan: DemoLoan, month: number): number | null {
  const inMonth = ctx.observations[loan.label].filter((o) => o.month === month);
  if (inMonth.length === 0) return null;
  return Math.round(inMonth.reduce((sum, o) => sum + o.bps, 0) / inMonth.length);
}

/** The month-by-month table. */
export function printMonths(ctx: DemoContext): void {
  const util = (l?: LoanMonth) => (l?.utilizationBps == null ? "-" : formatBps(l.utilizationBps, 1));
  // Rates only: a loan that is not performing (defaulted, repaid) shows "-", and its status is in the events.
  const coupon = (l?: LoanMonth) => (l && l.couponBps > 0 ? formatBps(l.couponBps) : "-");
  const ltv = (l?: LoanMonth) => (l?.ltvBps == null ? "-" : formatBps(l.ltvBps, 1));
  const rows = ctx.report.months.map((m) => [
    String(m.month),
    util(m.loans.A),
    util(m.loans.B),
    coupon(m.loans.A),
    coupon(m.loans.B),
    formatUsd(BigInt(m.paymentsReceived), 0),
    ltv(m.loans.A),
    ltv(m.loans.B),
    m.sharePriceFloat.toFixed(6),
    `${(m.trailingApy * 100).toFixed(2)}%`,
    m.events.join("; "),
  ]);
  ctx.log(
    formatTable(
      [
        "month",
        "util A",
        "util B",
        "coupon A",
        "coupon B",
        "payments",
        "LTV A",
        "LTV B",
        "sUSDai",
        "trailing APY",
        "events",
      ],
      rows,
      ["right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "left"],
    ),
  );
  ctx.log(
    "  coupon: the loan's annual rate (reference + premium after oracle steps); '-' while it is not performing.\n" +
      "  sUSDai: the share price in USDai. trailing APY: that price's change over the month, compounded to a year\n" +
      "  ((price / last month's price) ^ (365 days / days elapsed) - 1), so one month's default or harvest swings it.",
  );
}

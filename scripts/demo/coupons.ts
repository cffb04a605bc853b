import type { ContractTransactionReceipt } from "ethers";

import { formatBps, formatTable } from "../../helpers/format";
import { BreachFlags } from "../../helpers/loans";
import { DAY, now, storyDay, type DemoContext, type DemoLoan } from "./context";
import type { CouponEvent } from "./report";
import { GPUS_PER_SERVER, TOPS_UP } from "./scenario";

/**
 * Chapter 6, coupon steps: the oracle's pushes move a loan's premium (step-down after 90 busy days, step-up after 30
 * slow days, which also requires a collateral top-up within the cure period), and the borrower tops up. This module
 * records every coupon change as it happens and prints the history.
 */

export interface AppliedStep {
  loanId: bigint;
  stepId: bigint;
  requestedDeltaBps: bigint;
  appliedDeltaBps: bigint;
  topUpRequired: boolean;
  cureDeadline: bigint;
}

/** The `CouponStepApplied` events the LoanVault emitted in `receipt`. */
export function appliedSteps(ctx: DemoContext, receipt: ContractTransactionReceipt): AppliedStep[] {
  const vault = ctx.fx.loanVault;
  const steps: AppliedStep[] = [];
  for (const log of receipt.logs) {
    const parsed = vault.interface.parseLog(log);
    if (parsed?.name !== "CouponStepApplied") continue;
    steps.push({
      loanId: parsed.args.loanId as bigint,
      stepId: parsed.args.stepId as bigint,
      requestedDeltaBps: parsed.args.requestedDeltaBps as bigint,
      appliedDeltaBps: parsed.args.appliedDeltaBps as bigint,
      topUpRequired: parsed.args.topUpRequired as boolean,
      cureDeadline: parsed.args.cureDeadline as bigint,
    });
  }
  return steps;
}

/** Appends a row to the coupon history with the loan's premium, coupon and LTV as they are now. */
export async function recordCoupon(
  ctx: DemoContext,
  loan: DemoLoan,
  event: string,
  step: AppliedStep | null,
): Promise<CouponEvent> {
  const vault = ctx.fx.loanVault;
  const state = await vault.stateOf(loan.id);
  const row: CouponEvent = {
    loan: loan.label,
    loanId: loan.id.toString(),
    day: Number(storyDay(ctx, await now(ctx.hre)).toFixed(2)),
    event,
    stepId: step ? Number(step.stepId) : null,
    requestedDeltaBps: step ? Number(step.requestedDeltaBps) : 0,
    appliedDeltaBps: step ? Number(step.appliedDeltaBps) : 0,
    premiumBps: Number(state.premiumBps),
    couponBps: Number(await vault.couponOf(loan.id)),
    topUpRequired: step?.topUpRequired ?? (state.breachFlags & BreachFlags.TopUp) !== 0n,
    cureDeadlineDay:
      state.cureDeadline === 0n ? null : Number(storyDay(ctx, Number(state.cureDeadline)).toFixed(2)),
    ltvBps: Number(await vault.ltvOf(loan.id)),
  };
  ctx.report.couponHistory.push(row);
  return row;
}

/**
 * Handles the coupon steps a push applied: records them, and when a step requires a top-up schedules the borrower's
 * top-up three days later, inside the cure period.
 */
export async function onCouponSteps(ctx: DemoContext, steps: AppliedStep[]): Promise<void> {
  for (const step of steps) {
    const loan = ctx.loans.find((l) => l.id === step.loanId)!;
    const event = step.appliedDeltaBps < 0n ? "step-down" : "step-up";
    const row = await recordCoupon(ctx, loan, event, step);
    await ctx.progress(
      `loan ${loan.label}: ${event} ${formatSigned(step.appliedDeltaBps)} bps pushed by the keeper's upkeep -> coupon ` +
        `${formatBps(row.couponBps)}` +
        (step.topUpRequired
          ? `; top-up required by day ${row.cureDeadlineDay} (LTV ${formatBps(row.ltvBps!)}, origination max ` +
            `${formatBps((await ctx.fx.loanVault.termsOf(loan.id)).maxLtvBps)})`
          : ""),
    );
    if (step.topUpRequired && TOPS_UP.has(loan.label)) {
      ctx.schedule((await now(ctx.hre)) + 3 * DAY, `top-up of loan ${loan.label}`, () => topUp(ctx, loan));
    } else if (step.topUpRequired) {
      await ctx.progress(`loan ${loan.label}: ${loan.borrower}'s operation is failing: no top-up comes`);
    }
  }
}

/** The borrower pledges its spare receipts at the loan's site; the top-up requirement clears once the LTV is back. */
async function topUp(ctx: DemoContext, loan: DemoLoan): Promise<void> {
  const { fx, actors } = ctx;
  const vault = fx.loanVault;
  const spare = ctx.fleet.filter(
    (r) => r.server.owner === loan.borrower && !r.server.pledged && r.server.site === loan.site,
  );
  if (spare.length === 0)
    throw new Error(`loan ${loan.label}: the borrower has no spare receipt to top up with`);
  const before = await vault.stateOf(loan.id);
  if ((before.breachFlags & BreachFlags.TopUp) === 0n) {
    throw new Error(
      `loan ${loan.label}: the top-up requirement was cleared before the top-up (LTV ${await vault.ltvOf(loan.id)} bps)`,
    );
  }
  const ltvBefore = await vault.ltvOf(loan.id);
  const ids = spare.map((r) => r.tokenId);
  await vault.connect(actors[loan.borrower]).topUp(loan.id, ids);
  for (const r of spare) r.server.pledged = true;
  loan.receiptIds.push(...ids);
  loan.gpus += spare.length * GPUS_PER_SERVER;
  const after = await vault.stateOf(loan.id);
  const cleared = (after.breachFlags & BreachFlags.TopUp) === 0n;
  const ltvAfter = await vault.ltvOf(loan.id);
  const terms = await vault.termsOf(loan.id);
  await recordCoupon(
    ctx,
    loan,
    cleared ? "top-up made: requirement cleared" : "top-up made: still short",
    null,
  );
  ctx.report.topUp = {
    loan: loan.label,
    day: Number(storyDay(ctx, await now(ctx.hre)).toFixed(2)),
    receiptIds: ids.map(String),
    ltvBeforeBps: Number(ltvBefore),
    ltvAfterBps: Number(ltvAfter),
    maxLtvBps: Number(terms.maxLtvBps),
    cureDeadlineDay: Number(storyDay(ctx, Number(before.cureDeadline)).toFixed(2)),
    cleared,
  };
  await ctx.progress(
    `loan ${loan.label}: ${loan.borrower} tops up with receipt ${ids.map((i) => `#${i}`).join(", ")}: LTV ` +
      `${formatBps(ltvBefore)} -> ${formatBps(ltvAfter)}; requirement ${cleared ? "cleared" : "still open"}`,
  );
}

function formatSigned(bps: bigint): string {
  return bps > 0n ? `+${bps}` : String(bps);
}

/** The coupon history as a table. */
export function printCouponHistory(ctx: DemoContext): void {
  const rows = ctx.report.couponHistory.map((e) => [
    e.loan,
    e.day.toFixed(1),
    e.event,
    e.stepId === null ? "" : String(e.stepId),
    e.stepId === null ? "" : formatSigned(BigInt(e.appliedDeltaBps)),
    formatBps(e.premiumBps),
    formatBps(e.couponBps),
    e.topUpRequired ? `yes, by day ${e.cureDeadlineDay?.toFixed(1)}` : "no",
    e.ltvBps === null ? "" : formatBps(e.ltvBps),
  ]);
  ctx.log(
    formatTable(
      ["loan", "day", "event", "step", "delta bps", "premium", "coupon", "top-up required", "LTV"],
      rows,
      ["left", "right", "left", "right", "right", "right", "right", "left", "right"],
    ),
  );
}

/**
 * LoanVault: the loan row (terms at approval, state re-read from the vault at every event's block), the tape (one
 * row per event about a loan) and the typed tables: payments, sweeps, coupon steps, covenant flags.
 */
import type { Context } from "ponder:registry";
import { auction, couponStep, covenantFlag, loan, loanEvent, payment, receipt, sweep } from "ponder:schema";

import { LoanVaultAbi } from "../../abis/generated";
import { LOAN_STATUSES } from "../constants";
import { on } from "../registry";
import { orOnRevert, position, shortString, toJson } from "../util";

interface LoanEventLike {
  id: string;
  args: { loanId: bigint };
  log: { logIndex: number };
  block: { number: bigint; timestamp: bigint };
  transaction: { hash: `0x${string}` };
}

type LoanSnapshot = {
  status: string;
  principal: bigint;
  debt: bigint;
  couponBps: number;
  ltvBps: bigint | null;
  collateralValue: bigint;
};

/**
 * Reads the loan's state from the vault at the event's block and writes it to the loan row. Reads are end-of-block
 * state, so a second event of the same loan in the same block (a sweep emits `Repaid`, `PaymentSettled` and
 * `Swept`) reuses the row instead of asking the node again.
 */
async function refreshLoan(
  context: Context,
  loanId: bigint,
  event: LoanEventLike,
  force = false,
): Promise<LoanSnapshot> {
  const current = await context.db.find(loan, { id: loanId });
  if (current && !force && current.updatedBlock === event.block.number) {
    const { status, principal, debt, couponBps, ltvBps, collateralValue } = current;
    return { status, principal, debt, couponBps, ltvBps, collateralValue };
  }
  const vault = { abi: LoanVaultAbi, address: context.contracts.LoanVault.address } as const;
  const [state, debt, ltvBps, collateralValue] = await Promise.all([
    context.client.readContract({ ...vault, functionName: "stateOf", args: [loanId] }),
    orOnRevert(() => context.client.readContract({ ...vault, functionName: "debtOf", args: [loanId] }), 0n),
    // No pledged collateral (an approval not drawn yet, a closed loan): no LTV.
    orOnRevert(() => context.client.readContract({ ...vault, functionName: "ltvOf", args: [loanId] }), null),
    orOnRevert(
      () => context.client.readContract({ ...vault, functionName: "collateralValueOf", args: [loanId] }),
      0n,
    ),
  ]);
  const snapshot: LoanSnapshot = {
    status: LOAN_STATUSES[state.status] ?? `Unknown(${state.status})`,
    principal: state.principal,
    debt,
    couponBps: state.couponBps,
    ltvBps,
    collateralValue,
  };
  await context.db.update(loan, { id: loanId }).set({
    ...snapshot,
    premiumBps: state.premiumBps,
    referenceRateBps: state.referenceRateBps,
    lockbox: state.lockbox,
    reserve: state.reserve,
    lateFees: state.lateFees,
    nextPaymentIndex: state.nextPaymentIndex,
    receiptCount: state.receiptCount,
    breachFlags: state.breachFlags,
    oracleFlags: state.oracleFlags,
    cureDeadline: BigInt(state.cureDeadline),
    impairedValue: state.impairedValue,
    updatedBlock: event.block.number,
    updatedAt: event.block.timestamp,
  });
  return snapshot;
}

/**
 * The common part of every loan event: refresh the loan and append the tape row. Returns the state after the
 * event's block for the typed tables.
 */
async function onLoanEvent(
  kind: string,
  event: LoanEventLike,
  context: Context,
  force = false,
): Promise<LoanSnapshot> {
  const snapshot = await refreshLoan(context, event.args.loanId, event, force);
  await context.db.insert(loanEvent).values({
    id: event.id,
    loanId: event.args.loanId,
    kind,
    args: toJson(event.args),
    ...position(event),
    logIndex: event.log.logIndex,
    ...snapshot,
  });
  return snapshot;
}

async function pledge(context: Context, receiptIds: readonly bigint[], loanId: bigint | null, block: bigint) {
  for (const id of receiptIds) {
    await context.db.update(receipt, { id }).set({ loanId, updatedBlock: block });
  }
}

on("LoanVault:LoanApproved", async ({ event, context }) => {
  const { loanId } = event.args;
  const terms = await context.client.readContract({
    abi: LoanVaultAbi,
    address: context.contracts.LoanVault.address,
    functionName: "termsOf",
    args: [loanId],
  });
  await context.db.insert(loan).values({
    id: loanId,
    borrower: event.args.borrower,
    site: event.args.site,
    siteName: shortString(event.args.site),
    status: "Approved",
    approvedPrincipal: event.args.principal,
    paymentIntervalSeconds: terms.paymentIntervalSeconds,
    numPayments: terms.numPayments,
    amortizationBps: terms.amortizationBps,
    gracePeriodSeconds: terms.gracePeriodSeconds,
    referenceRateFeed: terms.referenceRateFeed,
    basePremiumBps: terms.basePremiumBps,
    premiumFloorBps: terms.premiumFloorBps,
    premiumCapBps: terms.premiumCapBps,
    maxLtvBps: terms.maxLtvBps,
    maintenanceLtvBps: terms.maintenanceLtvBps,
    slaUptimeBps: terms.slaUptimeBps,
    approvalExpiry: BigInt(terms.approvalExpiry),
    principal: 0n,
    debt: 0n,
    couponBps: 0,
    premiumBps: terms.basePremiumBps,
    referenceRateBps: terms.referenceRateBps,
    ltvBps: null,
    collateralValue: 0n,
    lockbox: 0n,
    reserve: 0n,
    lateFees: 0n,
    nextPaymentIndex: 0,
    receiptCount: 0,
    breachFlags: 0,
    oracleFlags: 0,
    cureDeadline: 0n,
    impairedValue: 0n,
    installmentsSettled: 0,
    paymentsCount: 0,
    paidInterest: 0n,
    paidPrincipal: 0n,
    paidLateFees: 0n,
    couponStepsCount: 0,
    approvedBlock: event.block.number,
    approvedAt: event.block.timestamp,
    updatedBlock: event.block.number,
    updatedAt: event.block.timestamp,
  });
  await onLoanEvent("LoanApproved", event, context, true);
});

on("LoanVault:ApprovalCancelled", async ({ event, context }) => {
  await onLoanEvent("ApprovalCancelled", event, context);
});

on("LoanVault:LoanDrawn", async ({ event, context }) => {
  await onLoanEvent("LoanDrawn", event, context);
  await context.db.update(loan, { id: event.args.loanId }).set({ drawnAt: event.block.timestamp });
  await pledge(context, event.args.receiptIds, event.args.loanId, event.block.number);
});

on("LoanVault:Repaid", async ({ event, context }) => {
  const { loanId, payer, lateFees, interest, scheduledPrincipal, prepayment } = event.args;
  await onLoanEvent("Repaid", event, context);
  await context.db.insert(payment).values({
    id: event.id,
    loanId,
    payer,
    lateFees,
    interest,
    scheduledPrincipal,
    prepayment,
    total: lateFees + interest + scheduledPrincipal + prepayment,
    ...position(event),
  });
  await context.db.update(loan, { id: loanId }).set((row) => ({
    paymentsCount: row.paymentsCount + 1,
    paidInterest: row.paidInterest + interest,
    paidPrincipal: row.paidPrincipal + scheduledPrincipal + prepayment,
    paidLateFees: row.paidLateFees + lateFees,
  }));
});

on("LoanVault:PaymentSettled", async ({ event, context }) => {
  await onLoanEvent("PaymentSettled", event, context);
  await context.db
    .update(loan, { id: event.args.loanId })
    .set((row) => ({ installmentsSettled: row.installmentsSettled + 1 }));
});

on("LoanVault:LateFeeCharged", async ({ event, context }) => {
  await onLoanEvent("LateFeeCharged", event, context);
});

on("LoanVault:RevenueDeposited", async ({ event, context }) => {
  await onLoanEvent("RevenueDeposited", event, context);
});

on("LoanVault:Swept", async ({ event, context }) => {
  await onLoanEvent("Swept", event, context);
  const { loanId, applied, reserve, excess, cashSweep } = event.args;
  await context.db
    .insert(sweep)
    .values({ id: event.id, loanId, applied, reserve, excess, cashSweep, ...position(event) });
});

on("LoanVault:ExcessReleased", async ({ event, context }) => {
  await onLoanEvent("ExcessReleased", event, context);
});

on("LoanVault:ToppedUp", async ({ event, context }) => {
  await onLoanEvent("ToppedUp", event, context);
  await pledge(context, event.args.receiptIds, event.args.loanId, event.block.number);
});

on("LoanVault:BreachFlagsSet", async ({ event, context }) => {
  await onLoanEvent("BreachFlagsSet", event, context);
  await context.db.insert(covenantFlag).values({
    id: event.id,
    loanId: event.args.loanId,
    source: "vault",
    previousFlags: null,
    flags: Number(event.args.flags),
    cureDeadline: event.args.cureDeadline,
    ...position(event),
  });
});

on("LoanVault:CovenantFlagsSet", async ({ event, context }) => {
  await onLoanEvent("CovenantFlagsSet", event, context);
  await context.db.insert(covenantFlag).values({
    id: event.id,
    loanId: event.args.loanId,
    source: "oracle",
    previousFlags: Number(event.args.previousFlags),
    flags: Number(event.args.flags),
    cureDeadline: null,
    ...position(event),
  });
});

on("LoanVault:CouponStepApplied", async ({ event, context }) => {
  const after = await onLoanEvent("CouponStepApplied", event, context);
  const { loanId, stepId, requestedDeltaBps, appliedDeltaBps, topUpRequired, cureDeadline } = event.args;
  await context.db.insert(couponStep).values({
    id: event.id,
    loanId,
    stepId,
    requestedDeltaBps: Number(requestedDeltaBps),
    appliedDeltaBps: Number(appliedDeltaBps),
    topUpRequired,
    cureDeadline,
    couponBps: after.couponBps,
    ...position(event),
  });
  await context.db
    .update(loan, { id: loanId })
    .set((row) => ({ couponStepsCount: row.couponStepsCount + 1 }));
});

on("LoanVault:ReferenceRateUpdated", async ({ event, context }) => {
  await onLoanEvent("ReferenceRateUpdated", event, context);
});

on("LoanVault:LoanDefaulted", async ({ event, context }) => {
  await onLoanEvent("LoanDefaulted", event, context);
  await context.db.update(loan, { id: event.args.loanId }).set({ defaultedAt: event.block.timestamp });
});

// Marks on the way to a default, on the tape with the state they leave: non-accrual (a payment past grace), the
// past-grace writedown (the loan's `impairedValue` while Active) and an auction lot's reserve.
on("LoanVault:NonAccrualSet", async ({ event, context }) => {
  await onLoanEvent("NonAccrualSet", event, context);
});

on("LoanVault:WrittenDown", async ({ event, context }) => {
  await onLoanEvent("WrittenDown", event, context);
});

on("LoanVault:ReserveSet", async ({ event, context }) => {
  await onLoanEvent("ReserveSet", event, context);
});

on("LoanVault:LoanLiquidated", async ({ event, context }) => {
  await onLoanEvent("LoanLiquidated", event, context);
  await context.db.update(loan, { id: event.args.loanId }).set({ auctionId: event.args.auctionId });
});

on("LoanVault:AuctionSettled", async ({ event, context }) => {
  await onLoanEvent("AuctionSettled", event, context);
  const row = await context.db.find(loan, { id: event.args.loanId });
  if (row?.auctionId == null) return;
  const { proceeds, cashHeld, repaid, lateFees, surplus, loss } = event.args;
  await context.db
    .update(auction, { id: row.auctionId })
    .set({ proceeds, cashHeld, repaid, lateFees, surplus, loss });
});

on("LoanVault:SteppedIn", async ({ event, context }) => {
  await onLoanEvent("SteppedIn", event, context);
  await context.db.update(loan, { id: event.args.loanId }).set({ borrower: event.args.newBorrower });
});

on("LoanVault:LoanClosed", async ({ event, context }) => {
  await onLoanEvent("LoanClosed", event, context);
  await context.db.update(loan, { id: event.args.loanId }).set({ closedAt: event.block.timestamp });
});

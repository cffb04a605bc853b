import { BreachFlags, LoanStatus } from "../../helpers/loans";
import { BPS, ceilDiv, INTEREST_DENOMINATOR as D, max, min, SECONDS_PER_QUARTER, subFloor } from "./math";

// The arithmetic is defined once, in ./math; these re-exports keep the model's older imports (test/invariant/) working.
export { BPS, ceilDiv, max, min, SECONDS_PER_QUARTER, SECONDS_PER_YEAR, subFloor } from "./math";
export { INTEREST_DENOMINATOR as D } from "./math";

/**
 * The one bigint model of a LoanVault loan, of the vault's NAV aggregates and of a defaulted loan's recovery (late
 * fees, impairment, the Dutch auction curve and the settlement split), written from the specification (DESIGN.md
 * "Waterfall", issue 5) and the documented rounding, independently of the Solidity code:
 *
 * - interest is booked per loan at each checkpoint: ceil(principal x coupon x elapsed / D), D = 10_000 x 365 days;
 * - payment k falls due at scheduleStart + k x interval; the schedule requires cumulativeDue(k) =
 *   min(P, ceil(P x amortization x k / 10_000)) repaid by payment k, and all of P at the last payment;
 * - a late fee of ceil((interest + scheduled principal due now) x penalty x newlyLate / 10_000) is charged at the
 *   first touch after due + grace; its interest is one interval's at the contract coupon (reference + base premium),
 *   which oracle steps do not move, so a step need not charge it first;
 * - repay and sweep pay late fees, then interest, then scheduled principal (then prepayment / reserve / excess);
 * - payments settle when interest and late fees are paid and principal <= P - cumulativeDue(k), for due dates passed.
 *
 * Every function takes the block timestamp it runs at, so the tests pin each transaction's timestamp and replay it
 * here to the wei. Struct fields are named like `ILoanVault.LoanState`, so state is compared field by field by name.
 */

/** The vault's statuses and breach flags, as the shared helpers name them. */
export const Status = LoanStatus;
export const BREACH_LTV = BreachFlags.Ltv;
export const BREACH_TOP_UP = BreachFlags.TopUp;
/** Non-accrual: a payment is past its grace period; the loan's interest is out of the books. */
export const BREACH_NON_ACCRUAL = 4n;
/** The covenant flags (with a cure period). */
export const COVENANT_FLAGS = BREACH_LTV | BREACH_TOP_UP;
/** The local deployment's risk parameters that the state machine reads (`ILoanVault.RiskParams`). */
export const LOCAL_MATERIALITY = 10n * 10n ** 18n;
/** `MIN_MATERIALITY_THRESHOLD`: the threshold in force is never below 1e-9 USDai (the quote's rounding). */
export const MIN_MATERIALITY = 10n ** 9n;
export const LOCAL_STEP_IN_WINDOW = 2n * 86_400n;
/** The local deployment's recovery haircut (`RiskParams.recoveryHaircutBps`), 20%. */
export const LOCAL_HAIRCUT_BPS = 2_000n;

/** The terms the model needs (all bigints). */
export interface ModelTerms {
  principal: bigint;
  paymentIntervalSeconds: bigint;
  numPayments: bigint;
  amortizationBps: bigint;
  referenceRateBps: bigint;
  basePremiumBps: bigint;
  premiumFloorBps: bigint;
  premiumCapBps: bigint;
  maxLtvBps: bigint;
  maintenanceLtvBps: bigint;
  latePenaltyBps: bigint;
  gracePeriodSeconds: bigint;
  defaultWindowSeconds: bigint;
  curePeriodSeconds: bigint;
  debtServiceReserveBps: bigint;
}

/** Reads the model terms out of `loanTerms(...)`-style terms (numbers, bigints or strings). */
export function modelTerms(t: Record<string, unknown>): ModelTerms {
  const b = (k: string) => BigInt(t[k] as bigint | number | string);
  return {
    principal: b("principal"),
    paymentIntervalSeconds: b("paymentIntervalSeconds"),
    numPayments: b("numPayments"),
    amortizationBps: b("amortizationBps"),
    referenceRateBps: b("referenceRateBps"),
    basePremiumBps: b("basePremiumBps"),
    premiumFloorBps: b("premiumFloorBps"),
    premiumCapBps: b("premiumCapBps"),
    maxLtvBps: b("maxLtvBps"),
    maintenanceLtvBps: b("maintenanceLtvBps"),
    latePenaltyBps: b("latePenaltyBps"),
    gracePeriodSeconds: b("gracePeriodSeconds"),
    defaultWindowSeconds: b("defaultWindowSeconds"),
    curePeriodSeconds: b("curePeriodSeconds"),
    debtServiceReserveBps: b("debtServiceReserveBps"),
  };
}

/** The fields of `ILoanVault.LoanState` the model predicts, by name. */
export interface ModelState {
  principal: bigint;
  accruedAt: bigint;
  couponBps: bigint;
  premiumBps: bigint;
  nextPaymentIndex: bigint;
  lateFeeIndex: bigint;
  status: bigint;
  breachFlags: bigint;
  oracleFlags: bigint;
  interest: bigint;
  lateFees: bigint;
  lockbox: bigint;
  reserve: bigint;
  schedulePrincipal: bigint;
  scheduleStart: bigint;
  cureDeadline: bigint;
  lastStepId: bigint;
  schedulePayments: bigint;
  referenceRateBps: bigint;
  impairedValue: bigint;
}

export const STATE_FIELDS: (keyof ModelState)[] = [
  "principal",
  "accruedAt",
  "couponBps",
  "premiumBps",
  "nextPaymentIndex",
  "lateFeeIndex",
  "status",
  "breachFlags",
  "oracleFlags",
  "interest",
  "lateFees",
  "lockbox",
  "reserve",
  "schedulePrincipal",
  "scheduleStart",
  "cureDeadline",
  "lastStepId",
  "schedulePayments",
  "referenceRateBps",
  "impairedValue",
];

/** How a payment was applied (`ILoanVault.Allocation`). */
export interface Allocation {
  lateFees: bigint;
  interest: bigint;
  scheduledPrincipal: bigint;
  prepayment: bigint;
  /** Whether the interest paid was in the books (false for a loan in non-accrual: it is a gain). */
  interestInBooks?: boolean;
}

export const emptyAllocation = (): Allocation => ({
  lateFees: 0n,
  interest: 0n,
  scheduledPrincipal: 0n,
  prepayment: 0n,
});

/** A model failure the vault should also reject (name and args of the custom error). */
export class ModelRevert extends Error {
  constructor(
    public readonly errorName: string,
    public readonly args: bigint[],
  ) {
    super(`${errorName}(${args.join(", ")})`);
  }
}

/** Principal the schedule requires repaid by payment `k`. */
export function cumulativeDue(
  schedulePrincipal: bigint,
  amortizationBps: bigint,
  k: bigint,
  n: bigint,
): bigint {
  if (k >= n) return schedulePrincipal;
  return min(schedulePrincipal, ceilDiv(schedulePrincipal * amortizationBps * k, BPS));
}

/** Payments with due date <= `ts`, at most `n`. */
export function paymentsDueBy(start: bigint, interval: bigint, n: bigint, ts: bigint): bigint {
  if (ts < start) return 0n;
  return min((ts - start) / interval, n);
}

/** Depreciated receipt value (whole quarters since appraisal, down to the floor), rounded down. */
export function depreciated(
  value: bigint,
  elapsed: bigint,
  markdownBpsPerQuarter: bigint,
  floorBps = BPS,
): bigint {
  const markdown = min((elapsed / SECONDS_PER_QUARTER) * markdownBpsPerQuarter, BPS - floorBps);
  return (value * (BPS - markdown)) / BPS;
}

/** One loan. `collateral(now)` is the depreciated value of its receipts. */
export class LoanModel {
  s: ModelState;
  /** `RiskParams.materialityThreshold` (USDai units). */
  materiality = LOCAL_MATERIALITY;

  /** The threshold in force: the setting, never below `MIN_MATERIALITY`. */
  get threshold(): bigint {
    return this.materiality > MIN_MATERIALITY ? this.materiality : MIN_MATERIALITY;
  }

  constructor(
    public readonly id: bigint,
    public readonly t: ModelTerms,
    public collateral: (now: bigint) => bigint,
  ) {
    this.s = {
      principal: 0n,
      accruedAt: 0n,
      couponBps: 0n,
      premiumBps: t.basePremiumBps,
      nextPaymentIndex: 1n,
      lateFeeIndex: 0n,
      status: Status.Approved,
      breachFlags: 0n,
      oracleFlags: 0n,
      interest: 0n,
      lateFees: 0n,
      lockbox: 0n,
      reserve: 0n,
      schedulePrincipal: t.principal,
      scheduleStart: 0n,
      cureDeadline: 0n,
      lastStepId: 0n,
      schedulePayments: t.numPayments,
      referenceRateBps: t.referenceRateBps,
      impairedValue: 0n,
    };
  }

  clone(): LoanModel {
    const m = new LoanModel(this.id, this.t, this.collateral);
    m.s = { ...this.s };
    return m;
  }

  // ------------------------------------------------------------ reads

  get active(): boolean {
    return this.s.status === Status.Active;
  }

  /** Whether the loan's interest is in the books (not in non-accrual). */
  get accruing(): boolean {
    return (this.s.breachFlags & BREACH_NON_ACCRUAL) === 0n;
  }

  /** Exact interest numerator of the loan at `now` (booked x D + pending exact). */
  numeratorAt(now: bigint): bigint {
    return this.s.interest * D + this.s.principal * this.s.couponBps * (now - this.s.accruedAt);
  }

  interestNow(now: bigint): bigint {
    if (this.s.accruedAt >= now) return this.s.interest;
    return this.s.interest + ceilDiv(this.s.principal * this.s.couponBps * (now - this.s.accruedAt), D);
  }

  dueDate(k: bigint): bigint {
    return this.s.scheduleStart + k * this.t.paymentIntervalSeconds;
  }

  scheduledPrincipalDue(now: bigint): bigint {
    const s = this.s;
    return this.principalOwedThrough(
      paymentsDueBy(s.scheduleStart, this.t.paymentIntervalSeconds, s.schedulePayments, now),
    );
  }

  /** Of the outstanding principal, what the schedule requires repaid by payment `k`. */
  principalOwedThrough(k: bigint): bigint {
    const s = this.s;
    const allowed =
      s.schedulePrincipal - cumulativeDue(s.schedulePrincipal, this.t.amortizationBps, k, s.schedulePayments);
    return subFloor(s.principal, allowed);
  }

  /** (last payment settled or charged, last payment past its grace period): `charged + 1 ..= lateBy` are newly late. */
  latePayments(now: bigint): [bigint, bigint] {
    const s = this.s;
    const charged = max(s.lateFeeIndex, s.nextPaymentIndex - 1n);
    const grace = this.t.gracePeriodSeconds;
    if (now <= grace) return [charged, 0n];
    const lateBy = paymentsDueBy(
      s.scheduleStart,
      this.t.paymentIntervalSeconds,
      s.schedulePayments,
      now - grace - 1n,
    );
    return [charged, lateBy];
  }

  /**
   * The late fee on payments `charged + 1 ..= lateBy`: the penalty on each installment, i.e. on the scheduled
   * principal it still owes plus one interval's interest (rounded up) on the outstanding principal at the contract
   * coupon (reference rate + base premium, not the stepped premium); rounded up.
   */
  lateFee(charged: bigint, lateBy: bigint): bigint {
    const s = this.s;
    const principalPart = this.principalOwedThrough(lateBy) - this.principalOwedThrough(charged);
    const contractCouponBps = s.referenceRateBps + this.t.basePremiumBps;
    const interestPart =
      ceilDiv(s.principal * contractCouponBps * this.t.paymentIntervalSeconds, D) * (lateBy - charged);
    return ceilDiv((principalPart + interestPart) * this.t.latePenaltyBps, BPS);
  }

  pendingLateFee(now: bigint): bigint {
    const [charged, lateBy] = this.latePayments(now);
    return lateBy <= charged ? 0n : this.lateFee(charged, lateBy);
  }

  /** `debtOf`: principal + interest + late fees (pending ones included while active). */
  debtOf(now: bigint): bigint {
    const s = this.s;
    if (!this.active) return s.principal + s.interest + s.lateFees;
    return s.principal + this.interestNow(now) + s.lateFees + this.pendingLateFee(now);
  }

  /** `nextPayment`: the first unsettled due date and the amount that settles it, quoted at `now`. */
  nextPayment(now: bigint): [bigint, bigint] {
    const s = this.s;
    if (!this.active || s.nextPaymentIndex > s.schedulePayments) return [0n, 0n];
    const due = this.dueDate(s.nextPaymentIndex);
    const until = max(due, now);
    const interest = s.interest + ceilDiv(s.principal * s.couponBps * subFloor(until, s.accruedAt), D);
    const required =
      s.schedulePrincipal -
      cumulativeDue(s.schedulePrincipal, this.t.amortizationBps, s.nextPaymentIndex, s.schedulePayments);
    return [due, s.lateFees + this.pendingLateFee(now) + interest + subFloor(s.principal, required)];
  }

  inGoodStanding(now: bigint): boolean {
    const s = this.s;
    if (s.status !== Status.Active && s.status !== Status.Repaid) return false;
    if (s.breachFlags !== 0n || s.oracleFlags !== 0n) return false;
    if (s.nextPaymentIndex > s.schedulePayments) return true;
    return now <= this.dueDate(s.nextPaymentIndex) + this.t.gracePeriodSeconds;
  }

  paymentDefaultAt(): bigint {
    const s = this.s;
    if (s.nextPaymentIndex > s.schedulePayments) return 0n;
    return this.dueDate(s.nextPaymentIndex) + this.t.gracePeriodSeconds + this.t.defaultWindowSeconds + 1n;
  }

  static earliestDefault(paymentAt: bigint, cureDeadline: bigint): bigint {
    if (cureDeadline === 0n) return paymentAt;
    return paymentAt === 0n ? cureDeadline + 1n : min(paymentAt, cureDeadline + 1n);
  }

  defaultableAt(): bigint {
    if (!this.active) return 0n;
    return LoanModel.earliestDefault(this.paymentDefaultAt(), this.s.cureDeadline);
  }

  // ------------------------------------------------------------ bookkeeping

  checkpoint(now: bigint): void {
    const s = this.s;
    if (s.accruedAt >= now) return; // interest paid ahead covers the time up to accruedAt
    s.interest += ceilDiv(s.principal * s.couponBps * (now - s.accruedAt), D);
    s.accruedAt = now;
  }

  /**
   * Checkpoint, then charge the late fees that came due; a newly late loan goes into non-accrual unless `payment` (a
   * repayment or the waterfall decide after the money is applied, `syncAccrual`). Returns the fee charged.
   */
  accrue(now: bigint, payment = false): bigint {
    this.checkpoint(now);
    const [charged, lateBy] = this.latePayments(now);
    if (lateBy <= charged) return 0n;
    const fee = this.lateFee(charged, lateBy);
    this.s.lateFeeIndex = lateBy;
    this.s.lateFees += fee;
    if (!payment) this.s.breachFlags |= BREACH_NON_ACCRUAL;
    return fee;
  }

  /**
   * After money was applied: into non-accrual if a payment past grace is unsettled, out of it (and its writedown with
   * it) once none is.
   */
  syncAccrual(): void {
    const s = this.s;
    const late = s.lateFeeIndex >= s.nextPaymentIndex;
    if (this.accruing && late) s.breachFlags |= BREACH_NON_ACCRUAL;
    else if (!this.accruing && !late) {
      s.breachFlags &= ~BREACH_NON_ACCRUAL;
      s.impairedValue = 0n;
    }
  }

  /**
   * The past-grace mark (#24.2, `checkCovenants` and `topUp`): a loan in non-accrual is written down to what it would
   * recover today, `min(principal, collateral x (1 - haircut) + lockbox + reserve)`; an Active loan's `impairedValue`
   * is that writedown.
   */
  markPastGrace(now: bigint, haircutBps: bigint): void {
    if (this.accruing) return;
    this.s.impairedValue = subFloor(this.s.principal, this.recovery(now, haircutBps));
  }

  /** `LoanAccounting.recoveryOf`: the collateral after the haircut, plus the lockbox and reserve. */
  recovery(now: bigint, haircutBps: bigint): bigint {
    return (this.collateral(now) * (BPS - haircutBps)) / BPS + this.s.lockbox + this.s.reserve;
  }

  /** An Active loan whose next unsettled payment is past its grace period at `now`. */
  pastGrace(now: bigint): boolean {
    return this.active && this.dueDate(this.s.nextPaymentIndex) + this.t.gracePeriodSeconds < now;
  }

  /** The LTV covenants; a required top-up clears only on a `cure` (a top-up, or a repayment of principal). */
  evaluateCovenants(now: bigint, cure = false): bigint {
    const s = this.s;
    const collateral = this.collateral(now);
    const before = s.breachFlags;
    const debt = s.principal + s.interest + s.lateFees;
    let flags = before;
    if (debt > (collateral * this.t.maintenanceLtvBps) / BPS) flags |= BREACH_LTV;
    else flags &= ~BREACH_LTV;
    if (cure && debt <= (collateral * this.t.maxLtvBps) / BPS) flags &= ~BREACH_TOP_UP;
    if (flags === before) return flags;
    let deadline = s.cureDeadline;
    if ((flags & COVENANT_FLAGS) === 0n) deadline = 0n;
    else if (deadline === 0n) deadline = now + this.t.curePeriodSeconds;
    s.breachFlags = flags;
    s.cureDeadline = deadline;
    return flags;
  }

  allocate(now: bigint, cash: bigint): Allocation {
    const a = emptyAllocation();
    a.lateFees = min(cash, this.s.lateFees);
    cash -= a.lateFees;
    a.interest = min(cash, this.s.interest);
    cash -= a.interest;
    a.scheduledPrincipal = min(cash, this.scheduledPrincipalDue(now));
    return a;
  }

  /** Books an allocation (with interest paid `ahead`, if any); sets `a.interestInBooks`. */
  applyAllocation(now: bigint, a: Allocation, ahead?: Ahead): void {
    const s = this.s;
    a.interestInBooks = this.accruing;
    s.lateFees -= a.lateFees;
    s.interest = s.interest + (ahead?.interest ?? 0n) - a.interest;
    if (ahead && ahead.accruedAt !== 0n) s.accruedAt = ahead.accruedAt;
    const paid = a.scheduledPrincipal + a.prepayment;
    s.principal -= paid;
    // a written-down loan stays written down by as much, never below zero
    if (paid !== 0n && !a.interestInBooks && s.impairedValue > s.principal) s.impairedValue = s.principal;
    if (s.interest === 0n && s.lateFees === 0n) {
      if (s.principal === 0n) {
        s.status = Status.Repaid;
        s.nextPaymentIndex = s.schedulePayments + 1n;
        s.breachFlags = 0n;
        s.cureDeadline = 0n;
        return;
      }
      this.settlePayments(now);
    }
    this.syncAccrual();
    if (paid !== 0n && (s.breachFlags & COVENANT_FLAGS) !== 0n) this.evaluateCovenants(now, true);
  }

  /**
   * Advances past settled installments: scheduled principal met and interest paid to the due date; a shortfall up to
   * the materiality threshold settles too, except on the last installment; at most one installment not yet due (the
   * one interest was paid ahead for) settles.
   */
  settlePayments(now: bigint): void {
    const s = this.s;
    const index = s.nextPaymentIndex;
    const paidThrough = max(s.accruedAt, now);
    let k = index;
    while (k <= s.schedulePayments) {
      const dueAt = this.dueDate(k);
      let shortfall = 0n;
      if (dueAt > paidThrough) {
        if (k !== index || paidThrough === now) break;
        shortfall = ceilDiv(s.principal * s.couponBps * (dueAt - paidThrough), D);
      }
      shortfall += this.principalOwedThrough(k);
      if (shortfall !== 0n && (k === s.schedulePayments || shortfall > this.threshold)) break;
      k++;
    }
    s.nextPaymentIndex = k;
  }

  /** Interest a payment of `rest` beyond what is due pays ahead (the first unsettled installment, not yet due). */
  interestAhead(now: bigint, scheduledDue: bigint, rest: bigint): Ahead {
    const s = this.s;
    const a: Ahead = { interest: 0n, upcomingPrincipal: 0n, accruedAt: 0n };
    if (!this.accruing) return a;
    const next = s.nextPaymentIndex;
    const dueAt = this.dueDate(next);
    if (dueAt <= now) return a;
    const principal = s.principal - scheduledDue;
    const allowed =
      s.schedulePrincipal -
      cumulativeDue(s.schedulePrincipal, this.t.amortizationBps, next, s.schedulePayments);
    a.upcomingPrincipal = subFloor(principal, allowed);
    const from = s.accruedAt;
    if (dueAt <= from) return a;
    const rate = principal * s.couponBps;
    const full = ceilDiv(rate * (dueAt - from), D);
    if (rest >= full) {
      a.interest = full;
      a.accruedAt = dueAt;
    } else {
      const secondsPaid = (rest * D) / rate;
      a.interest = ceilDiv(rate * secondsPaid, D);
      a.accruedAt = from + secondsPaid;
    }
    return a;
  }

  // ------------------------------------------------------------ entry points

  borrow(now: bigint): void {
    const s = this.s;
    s.principal = this.t.principal;
    s.accruedAt = now;
    s.couponBps = s.referenceRateBps + s.premiumBps;
    s.nextPaymentIndex = 1n;
    s.status = Status.Active;
    s.scheduleStart = now;
  }

  /** Owed now (fees, interest, principal) after accrual; `repay(type(uint256).max)` pays it. */
  owed(now: bigint): bigint {
    const c = this.clone();
    c.accrue(now);
    return c.s.lateFees + c.s.interest + c.s.principal;
  }

  repay(now: bigint, amount: bigint | "max"): Allocation {
    if (amount === 0n) throw new ModelRevert("LoanVaultZeroAmount", []);
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    const before = { ...this.s };
    this.accrue(now, true);
    const s = this.s;
    const owed = s.lateFees + s.interest + s.principal;
    if (amount === "max" || amount >= owed) {
      if (amount !== "max" && amount > owed) {
        const tolerance = this.interestAhead(now, 0n, 2n ** 255n).interest;
        if (amount - owed > tolerance) {
          this.s = before;
          throw new ModelRevert("LoanVaultOverpayment", [this.id, amount, owed + tolerance]);
        }
      }
      const a = this.allocate(now, owed);
      a.prepayment = s.principal - a.scheduledPrincipal;
      this.applyAllocation(now, a);
      return a;
    }
    const a = this.allocate(now, amount);
    let rest = amount - a.lateFees - a.interest - a.scheduledPrincipal;
    let ahead: Ahead | undefined;
    if (rest !== 0n) {
      ahead = this.interestAhead(now, a.scheduledPrincipal, rest);
      rest -= ahead.interest;
      a.interest += ahead.interest;
      const upcoming = min(rest, ahead.upcomingPrincipal);
      a.scheduledPrincipal += upcoming;
      a.prepayment = rest - upcoming;
    }
    this.applyAllocation(now, a, ahead);
    return a;
  }

  depositRevenue(amount: bigint): void {
    const st = this.s.status;
    if (st !== Status.Active && st !== Status.Repaid && st !== Status.Defaulted)
      throw new ModelRevert("LoanVaultBadStatus", [this.id, st]);
    this.s.lockbox += amount;
  }

  /** The waterfall; returns the allocation (prepayment = cash sweep) and whether the cash sweep was on. */
  sweep(now: bigint): { a: Allocation; cashSweep: boolean; excess: bigint } {
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    this.accrue(now, true);
    const s = this.s;
    let cash = s.lockbox + s.reserve;
    const a = this.allocate(now, cash);
    cash -= a.lateFees + a.interest + a.scheduledPrincipal;
    const principalLeft = s.principal - a.scheduledPrincipal;
    const bps = this.t.debtServiceReserveBps;
    const cashSweep = s.breachFlags !== 0n || s.oracleFlags !== 0n;
    if (cashSweep) a.prepayment = sweepPrepayment(cash, principalLeft, bps);
    cash -= a.prepayment;
    const reserve = min(cash, ceilDiv((principalLeft - a.prepayment) * bps, BPS));
    const excess = cash - reserve;
    s.lockbox = excess;
    s.reserve = reserve;
    this.applyAllocation(now, a);
    return { a, cashSweep, excess };
  }

  releaseExcess(now: bigint, amount: bigint): Allocation {
    const before = { ...this.s };
    let a = emptyAllocation();
    try {
      if (this.s.status === Status.Active) a = this.sweep(now).a;
      else if (this.s.status !== Status.Repaid)
        throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
      if (!this.inGoodStanding(now)) throw new ModelRevert("LoanVaultNotInGoodStanding", [this.id]);
      if (amount > this.s.lockbox)
        throw new ModelRevert("LoanVaultExcessUnavailable", [this.id, amount, this.s.lockbox]);
    } catch (e) {
      this.s = before;
      throw e;
    }
    this.s.lockbox -= amount;
    return a;
  }

  checkCovenants(now: bigint, haircutBps = LOCAL_HAIRCUT_BPS): bigint {
    this.accrue(now);
    const flags = this.evaluateCovenants(now);
    this.markPastGrace(now, haircutBps);
    return flags;
  }

  /** `topUp`: the collateral function must already include the new receipts. A top-up may cure a required top-up. */
  topUp(now: bigint, haircutBps = LOCAL_HAIRCUT_BPS): void {
    this.accrue(now);
    this.evaluateCovenants(now, true);
    this.markPastGrace(now, haircutBps);
  }

  applyCouponStep(now: bigint, stepId: bigint, deltaBps: bigint, topUpRequired: boolean): void {
    const s = this.s;
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, s.status]);
    if (stepId <= s.lastStepId) return;
    this.checkpoint(now);
    let next = s.premiumBps + deltaBps;
    if (next < this.t.premiumFloorBps) next = this.t.premiumFloorBps;
    else if (next > this.t.premiumCapBps) next = this.t.premiumCapBps;
    s.lastStepId = stepId;
    s.premiumBps = next;
    const coupon = s.referenceRateBps + next;
    // Interest paid ahead keeps its value: the time it covers is rescaled to the new coupon (rounded down).
    if (s.accruedAt > now && coupon !== 0n) {
      const rescaled = now + ((s.accruedAt - now) * s.couponBps) / coupon;
      s.accruedAt = rescaled > 2n ** 32n - 1n ? 2n ** 32n - 1n : rescaled;
    }
    s.couponBps = coupon;
    if (topUpRequired) {
      s.breachFlags |= BREACH_TOP_UP;
      if (s.cureDeadline === 0n) s.cureDeadline = now + this.t.curePeriodSeconds;
    }
  }

  setCovenantBreach(flags: bigint): void {
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    this.s.oracleFlags = flags;
  }

  /**
   * `declareDefault`: the lockbox and reserve run the waterfall first (returned: the allocation sUSDai receives); a
   * payment default over no more than the materiality threshold, or one the cash cured, is refused.
   */
  declareDefault(now: bigint, haircutBps: bigint): Allocation {
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    const before = { ...this.s };
    const cash = this.s.lockbox + this.s.reserve;
    const paymentWasDue = this.paymentDefaultAt() !== 0n && now >= this.paymentDefaultAt();
    let applied = emptyAllocation();
    if (cash !== 0n) {
      applied = this.sweep(now).a;
      if (!this.active) {
        this.s = before;
        throw new ModelRevert("LoanVaultOverdueCoveredByLockbox", [this.id, cash]);
      }
    } else this.accrue(now, true);
    const s = this.s;
    const paymentAt = this.paymentDefaultAt();
    if (paymentAt !== 0n && now >= paymentAt) {
      const overdue = s.lateFees + s.interest + this.scheduledPrincipalDue(now);
      if (overdue <= this.threshold) {
        this.s = before;
        throw new ModelRevert("LoanVaultOverdueImmaterial", [this.id, overdue, this.threshold]);
      }
    } else {
      this.evaluateCovenants(now);
      if (s.cureDeadline === 0n || now <= s.cureDeadline) {
        const at = LoanModel.earliestDefault(paymentAt, s.cureDeadline);
        this.s = before;
        if (paymentWasDue && cash !== 0n)
          throw new ModelRevert("LoanVaultOverdueCoveredByLockbox", [this.id, cash]);
        throw new ModelRevert("LoanVaultNotDefaultable", [this.id, at]);
      }
    }
    const late = s.lateFeeIndex >= s.nextPaymentIndex;
    // a loan in non-accrual leaves the book at what it carried: its principal less its writedown
    const carried = this.accruing && !late ? s.principal + s.interest : s.principal - s.impairedValue;
    s.impairedValue = min(this.recovery(now, haircutBps), carried);
    s.accruedAt = now; // a defaulted loan's accruedAt is when it defaulted
    s.status = Status.Defaulted;
    return applied;
  }

  /** When the step-in window after this (Defaulted) loan's default closes. */
  liquidationOpensAt(stepInWindow = LOCAL_STEP_IN_WINDOW): bigint {
    return this.s.accruedAt + stepInWindow;
  }

  /**
   * `stepIn`: the lockbox and reserve repay the debt (interest, then principal; returned for sUSDai), then the loan
   * starts clean on a fresh schedule under the new operator.
   */
  stepIn(now: bigint): Allocation {
    const s = this.s;
    if (s.status !== Status.Defaulted) throw new ModelRevert("LoanVaultBadStatus", [this.id, s.status]);
    const cash = s.lockbox + s.reserve;
    const debt = s.principal + s.interest;
    if (cash >= debt) throw new ModelRevert("LoanVaultDebtCoveredByCash", [this.id, cash, debt]);
    const a = emptyAllocation();
    a.interest = min(cash, s.interest);
    a.prepayment = cash - a.interest;
    a.interestInBooks = true;
    s.interest -= a.interest;
    s.principal -= a.prepayment;
    const elapsed = paymentsDueBy(s.scheduleStart, this.t.paymentIntervalSeconds, s.schedulePayments, now);
    const remaining = s.schedulePayments - elapsed;
    s.status = Status.Active;
    s.accruedAt = now;
    s.nextPaymentIndex = 1n;
    s.lateFees = 0n;
    s.lateFeeIndex = 0n;
    s.breachFlags = 0n;
    s.oracleFlags = 0n;
    s.cureDeadline = 0n;
    s.lockbox = 0n;
    s.reserve = 0n;
    s.premiumBps = this.t.basePremiumBps;
    s.couponBps = s.referenceRateBps + this.t.basePremiumBps;
    s.schedulePrincipal = s.principal;
    s.scheduleStart = now;
    s.schedulePayments = remaining === 0n ? 1n : remaining;
    s.impairedValue = 0n;
    return a;
  }

  close(): bigint {
    if (this.s.status !== Status.Repaid)
      throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    const refund = this.s.lockbox + this.s.reserve;
    this.s.status = Status.Closed;
    this.s.lockbox = 0n;
    this.s.reserve = 0n;
    return refund;
  }
}

/** The vault's NAV aggregates as the sum over loans, at `now`. */
export function aggregateOf(loans: LoanModel[], now: bigint) {
  let totalPrincipal = 0n;
  let rateSum = 0n;
  let numerator = 0n;
  let impaired = 0n;
  let markdown = 0n;
  for (const l of loans) {
    if (l.active) {
      totalPrincipal += l.s.principal;
      // a loan in non-accrual is in the books at its principal alone, less its writedown (booked in the numerator);
      // the entry price adds the writedown back
      if (l.accruing) {
        rateSum += l.s.principal * l.s.couponBps;
        numerator += l.numeratorAt(now);
      } else {
        numerator -= l.s.impairedValue * D;
        markdown += l.s.impairedValue;
      }
    }
    if (l.s.status === Status.Defaulted || l.s.status === Status.Liquidating) {
      impaired += l.s.impairedValue;
      // the claim (principal, interest and late fees, frozen at the default) above the impaired value
      markdown += l.s.principal + l.s.interest + l.s.lateFees - l.s.impairedValue;
    }
  }
  return {
    totalPrincipal,
    rateSum,
    numerator,
    impaired,
    /** What the entry price adds back (`entryLoanAssets - loanAssets`). */
    markdown,
    // interest paid ahead makes the numerator negative; NAV rounds down
    loanAssets: max(
      0n,
      totalPrincipal + impaired + (numerator >= 0n ? numerator / D : -ceilDiv(-numerator, D)),
    ),
  };
}

/** Interest a payment pays ahead, and the next installment's principal (`LoanPayments.Ahead`). */
export interface Ahead {
  interest: bigint;
  upcomingPrincipal: bigint;
  /** How far the interest is paid; 0: unchanged. */
  accruedAt: bigint;
}

/** The cash sweep's prepayment: the largest whose reserve target on the principal left after it is still funded. */
export function sweepPrepayment(cash: bigint, principal: bigint, reserveBps: bigint): bigint {
  if (cash >= principal) return principal;
  if (reserveBps >= BPS) return 0n;
  const held = principal * reserveBps;
  const budget = cash * BPS;
  if (budget <= held) return 0n;
  return (budget - held) / (BPS - reserveBps);
}

/**
 * sUSDai's NAV as the loan vault moves it: idle USDai (funding out, repayments in, late fees in as a vesting gain)
 * plus `loanAssets()` minus unvested gains.
 */
export class StakedModel {
  /** The stream: `vestingAmount` linear over [vestingStart, vestingEnd). */
  vestingAmount = 0n;
  vestingStart = 0n;
  vestingEnd = 0n;
  /** The waiting bucket: `waitingGain` linear over [vestingEnd, vestingEnd + waitingPeriod), while `gainWaiting`. */
  gainWaiting = false;
  waitingGain = 0n;
  waitingPeriod = 0n;

  constructor(
    public idle: bigint,
    public readonly vestingPeriod: bigint,
  ) {}

  unvested(now: bigint): bigint {
    const end = this.vestingEnd;
    let unvested = 0n;
    if (now < end) unvested = ceilDiv(this.vestingAmount * (end - now), end - this.vestingStart);
    if (this.gainWaiting) {
      const waitingEnd = end + this.waitingPeriod;
      if (now < end) unvested += this.waitingGain;
      else if (now < waitingEnd) unvested += ceilDiv(this.waitingGain * (waitingEnd - now), waitingEnd - end);
    }
    return unvested;
  }

  /** `_startVesting` (supply minimum met): a new stream if nothing streams, else the waiting bucket. */
  vest(now: bigint, amount: bigint): void {
    let streamEnd = this.vestingEnd;
    if (this.gainWaiting && now >= streamEnd) {
      this.vestingAmount = this.waitingGain;
      this.vestingStart = streamEnd;
      streamEnd += this.waitingPeriod;
      this.vestingEnd = streamEnd;
      this.gainWaiting = false;
    }
    if (this.vestingPeriod === 0n) return;
    if (now >= streamEnd) {
      this.vestingAmount = amount;
      this.vestingStart = now;
      this.vestingEnd = now + this.vestingPeriod;
    } else if (this.gainWaiting) {
      this.waitingGain += amount;
      if (this.vestingPeriod > this.waitingPeriod) this.waitingPeriod = this.vestingPeriod;
    } else {
      this.gainWaiting = true;
      this.waitingGain = amount;
      this.waitingPeriod = this.vestingPeriod;
    }
  }

  fund(amount: bigint): void {
    this.idle -= amount;
  }

  /** `payStaked`: principal and interest into idle, late fees (and a non-accrual loan's interest) as a vesting gain. */
  receive(now: bigint, a: Allocation): void {
    const gain = a.lateFees + (a.interestInBooks === false ? a.interest : 0n);
    this.idle +=
      a.interest + a.scheduledPrincipal + a.prepayment - (a.interestInBooks === false ? a.interest : 0n);
    if (gain !== 0n) {
      this.idle += gain;
      this.vest(now, gain);
    }
  }

  totalAssets(now: bigint, loanAssets: bigint): bigint {
    return subFloor(this.idle + loanAssets, this.unvested(now));
  }
}

// ================================================================ recovery: late fees, impairment, auction, settlement

/**
 * Late fee on `late` installments charged at once: the penalty on each installment, i.e. on the scheduled principal
 * they owe (`principalOwed`) plus one interval's interest each (`installmentInterest`), rounded up.
 */
export function lateFeeFor(
  principalOwed: bigint,
  installmentInterest: bigint,
  penaltyBps: bigint,
  late: bigint,
): bigint {
  return ceilDiv((principalOwed + installmentInterest * late) * penaltyBps, BPS);
}

/** Expected recovery booked at default: `min(debt, collateral x (1 - haircut) + lockbox + reserve)`. */
export function impairedValueFor(
  debt: bigint,
  collateral: bigint,
  haircutBps: bigint,
  lockbox = 0n,
  reserve = 0n,
): bigint {
  return min(debt, (collateral * (BPS - haircutBps)) / BPS + lockbox + reserve);
}

export interface Curve {
  startPrice: bigint;
  floorPrice: bigint;
  duration: bigint;
}

/**
 * Start and floor prices of an auction of `collateral` (both rounded up). The lot's floor is the highest of the floor
 * parameter, the loan's maximum LTV and the reserve in whole bps rounded up, at most the start price (`_newAuction`).
 */
export function curveFor(
  collateral: bigint,
  premiumBps: bigint,
  floorBps: bigint,
  duration: bigint,
  reservePrice = 0n,
  maxLtvBps = 0n,
): Curve {
  // The auction stores the start price and derives the floor from it: floorBps of startPrice / (1 + premium).
  const top = BPS + premiumBps;
  const startPrice = ceilDiv(collateral * top, BPS);
  const minFloorBps = min(max(floorBps, maxLtvBps), top);
  const lotFloorBps = max(minFloorBps, min(ceilDiv(reservePrice * BPS, collateral), top));
  return { startPrice, floorPrice: ceilDiv(startPrice * lotFloorBps, top), duration };
}

/** The reserve price a liquidation sets: the impaired value (marked down to the collateral after the haircut plus the
 * cash, if lower) less the cash held. */
export function reserveFor(
  impairedValue: bigint,
  collateral: bigint,
  haircutBps: bigint,
  cash: bigint,
): { impairedValue: bigint; reservePrice: bigint } {
  const marked = impairedValueFor(impairedValue, collateral, haircutBps, cash);
  return { impairedValue: marked, reservePrice: marked > cash ? marked - cash : 0n };
}

/** The linear Dutch price `elapsed` seconds after the start, rounded up (the discount is floored). */
export function priceAt(curve: Curve, elapsed: bigint): bigint {
  return curve.startPrice - ((curve.startPrice - curve.floorPrice) * elapsed) / curve.duration;
}

export interface Settlement {
  recovered: bigint;
  repaid: bigint;
  fees: bigint;
  surplus: bigint;
  loss: bigint;
  /** Booked into sUSDai's idle assets at once (at most the impaired value). */
  booked: bigint;
  /** The part above the impaired value, plus late fees: vests. */
  gain: bigint;
}

/** How an auction's proceeds settle a defaulted loan (spec: debt first, late fees next, surplus to the borrower). */
export function settle(
  proceeds: bigint,
  debt: { principal: bigint; interest: bigint; lateFees: bigint },
  impairedValue: bigint,
  lockbox = 0n,
  reserve = 0n,
): Settlement {
  const owed = debt.principal + debt.interest;
  const recovered = proceeds + lockbox + reserve;
  const repaid = min(recovered, owed);
  const fees = min(recovered - repaid, debt.lateFees);
  const surplus = recovered - repaid - fees;
  const loss = owed - repaid;
  const booked = min(repaid, impairedValue);
  const gain = repaid - booked + fees;
  return { recovered, repaid, fees, surplus, loss, booked, gain };
}

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

  /** Exact interest numerator of the loan at `now` (booked x D + pending exact). */
  numeratorAt(now: bigint): bigint {
    return this.s.interest * D + this.s.principal * this.s.couponBps * (now - this.s.accruedAt);
  }

  interestNow(now: bigint): bigint {
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
    const interest = s.interest + ceilDiv(s.principal * s.couponBps * (until - s.accruedAt), D);
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
    if (s.accruedAt === now) return;
    s.interest += ceilDiv(s.principal * s.couponBps * (now - s.accruedAt), D);
    s.accruedAt = now;
  }

  /** Checkpoint, then charge the late fees that came due. Returns the fee charged. */
  accrue(now: bigint): bigint {
    this.checkpoint(now);
    const [charged, lateBy] = this.latePayments(now);
    if (lateBy <= charged) return 0n;
    const fee = this.lateFee(charged, lateBy);
    this.s.lateFeeIndex = lateBy;
    this.s.lateFees += fee;
    return fee;
  }

  evaluateCovenants(now: bigint): bigint {
    const s = this.s;
    const collateral = this.collateral(now);
    const before = s.breachFlags;
    const debt = s.principal + s.interest + s.lateFees;
    let flags = before;
    if (debt > (collateral * this.t.maintenanceLtvBps) / BPS) flags |= BREACH_LTV;
    else flags &= ~BREACH_LTV;
    if (debt <= (collateral * this.t.maxLtvBps) / BPS) flags &= ~BREACH_TOP_UP;
    if (flags === before) return flags;
    let cure = s.cureDeadline;
    if (flags === 0n) cure = 0n;
    else if (cure === 0n) cure = now + this.t.curePeriodSeconds;
    s.breachFlags = flags;
    s.cureDeadline = cure;
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

  applyAllocation(now: bigint, a: Allocation): void {
    const s = this.s;
    s.lateFees -= a.lateFees;
    s.interest -= a.interest;
    const paid = a.scheduledPrincipal + a.prepayment;
    s.principal -= paid;
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
    if (paid !== 0n && s.breachFlags !== 0n) this.evaluateCovenants(now);
  }

  settlePayments(now: bigint): void {
    const s = this.s;
    let k = s.nextPaymentIndex;
    while (
      k <= s.schedulePayments &&
      this.dueDate(k) <= now &&
      s.principal <=
        s.schedulePrincipal -
          cumulativeDue(s.schedulePrincipal, this.t.amortizationBps, k, s.schedulePayments)
    )
      k++;
    s.nextPaymentIndex = k;
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
    this.accrue(now);
    const s = this.s;
    const owed = s.lateFees + s.interest + s.principal;
    const amt = amount === "max" ? owed : amount;
    if (amt > owed) {
      this.s = before;
      throw new ModelRevert("LoanVaultOverpayment", [this.id, amt, owed]);
    }
    const a = this.allocate(now, amt);
    a.prepayment = amt - a.lateFees - a.interest - a.scheduledPrincipal;
    this.applyAllocation(now, a);
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
    this.accrue(now);
    const s = this.s;
    let cash = s.lockbox + s.reserve;
    const a = this.allocate(now, cash);
    cash -= a.lateFees + a.interest + a.scheduledPrincipal;
    const principalLeft = s.principal - a.scheduledPrincipal;
    const reserve = min(cash, ceilDiv(principalLeft * this.t.debtServiceReserveBps, BPS));
    let excess = cash - reserve;
    const cashSweep = s.breachFlags !== 0n || s.oracleFlags !== 0n;
    if (cashSweep) {
      a.prepayment = min(excess, principalLeft);
      excess -= a.prepayment;
    }
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

  checkCovenants(now: bigint): bigint {
    this.accrue(now);
    return this.evaluateCovenants(now);
  }

  /** `topUp`: the collateral function must already include the new receipts. */
  topUp(now: bigint): void {
    this.accrue(now);
    this.evaluateCovenants(now);
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
    s.couponBps = s.referenceRateBps + next;
    if (topUpRequired) {
      s.breachFlags |= BREACH_TOP_UP;
      if (s.cureDeadline === 0n) s.cureDeadline = now + this.t.curePeriodSeconds;
    }
  }

  setCovenantBreach(flags: bigint): void {
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    this.s.oracleFlags = flags;
  }

  declareDefault(now: bigint, haircutBps: bigint): void {
    if (!this.active) throw new ModelRevert("LoanVaultBadStatus", [this.id, this.s.status]);
    const before = { ...this.s };
    this.accrue(now);
    const s = this.s;
    const paymentAt = this.paymentDefaultAt();
    if (paymentAt === 0n || now < paymentAt) {
      this.evaluateCovenants(now);
      if (s.cureDeadline === 0n || now <= s.cureDeadline) {
        const at = LoanModel.earliestDefault(paymentAt, s.cureDeadline);
        this.s = before;
        throw new ModelRevert("LoanVaultNotDefaultable", [this.id, at]);
      }
    }
    const debt = s.principal + s.interest;
    const recovery = (this.collateral(now) * (BPS - haircutBps)) / BPS + s.lockbox + s.reserve;
    s.impairedValue = min(recovery, debt);
    s.status = Status.Defaulted;
  }

  stepIn(now: bigint): void {
    const s = this.s;
    if (s.status !== Status.Defaulted) throw new ModelRevert("LoanVaultBadStatus", [this.id, s.status]);
    const elapsed = paymentsDueBy(s.scheduleStart, this.t.paymentIntervalSeconds, s.schedulePayments, now);
    const remaining = s.schedulePayments - elapsed;
    s.status = Status.Active;
    s.accruedAt = now;
    s.nextPaymentIndex = 1n;
    s.lateFeeIndex = 0n;
    s.breachFlags = 0n;
    s.cureDeadline = 0n;
    s.schedulePrincipal = s.principal;
    s.scheduleStart = now;
    s.schedulePayments = remaining === 0n ? 1n : remaining;
    s.impairedValue = 0n;
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
  for (const l of loans) {
    if (l.active) {
      totalPrincipal += l.s.principal;
      rateSum += l.s.principal * l.s.couponBps;
      numerator += l.numeratorAt(now);
    }
    if (l.s.status === Status.Defaulted || l.s.status === Status.Liquidating) impaired += l.s.impairedValue;
  }
  return {
    totalPrincipal,
    rateSum,
    numerator,
    impaired,
    loanAssets: totalPrincipal + impaired + numerator / D,
  };
}

/**
 * sUSDai's NAV as the loan vault moves it: idle USDai (funding out, repayments in, late fees in as a vesting gain)
 * plus `loanAssets()` minus unvested gains.
 */
export class StakedModel {
  vestingAmount = 0n;
  vestingStart = 0n;
  vestingEnd = 0n;

  constructor(
    public idle: bigint,
    public readonly vestingPeriod: bigint,
  ) {}

  unvested(now: bigint): bigint {
    if (now >= this.vestingEnd) return 0n;
    return ceilDiv(this.vestingAmount * (this.vestingEnd - now), this.vestingEnd - this.vestingStart);
  }

  fund(amount: bigint): void {
    this.idle -= amount;
  }

  /** `payStaked`: principal and interest into idle, late fees as a gain that vests. */
  receive(now: bigint, a: Allocation): void {
    this.idle += a.interest + a.scheduledPrincipal + a.prepayment;
    if (a.lateFees !== 0n) {
      const unvested = this.unvested(now) + a.lateFees;
      this.idle += a.lateFees;
      this.vestingAmount = unvested;
      this.vestingStart = now;
      this.vestingEnd = now + this.vestingPeriod;
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

/** Start and floor prices of an auction of `collateral` (both rounded up). */
export function curveFor(collateral: bigint, premiumBps: bigint, floorBps: bigint, duration: bigint): Curve {
  // The auction stores the start price and derives the floor from it: floorBps of startPrice / (1 + premium).
  const startPrice = ceilDiv(collateral * (BPS + premiumBps), BPS);
  return { startPrice, floorPrice: ceilDiv(startPrice * floorBps, BPS + premiumBps), duration };
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

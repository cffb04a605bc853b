import {
  BPS,
  ceilDiv,
  depreciated,
  LoanModel,
  min,
  StakedModel,
  Status,
  subFloor,
  type Allocation,
} from "../helpers/loan-model";
import { curveFor, priceAt, settle, type Curve, type Settlement } from "../helpers/recovery";

/**
 * The bigint model behind test/invariant/Protocol.spec.ts: the whole protocol's state as the specification describes
 * it (DESIGN.md, the interfaces' NatSpec), independent of the Solidity. Loans are `LoanModel`s (test/helpers/
 * loan-model.ts); this file adds sUSDai's shares and redemption queue on top of `StakedModel` (idle and vesting),
 * USDai and reserve balances, receipts and their depreciation, auctions, and the oracle's days, streaks and pushes.
 *
 * Every prediction is pure: it either throws `Expected` (the custom error the chain must revert with) or returns an
 * `apply` closure that moves the model, run only once the transaction succeeded.
 */

/** A revert the chain must produce: the contract whose ABI declares the error, its name and arguments. */
export type ErrorSource = "usdai" | "susdai" | "receipts" | "loanVault" | "auction" | "oracle" | "reserve";

export class Expected extends Error {
  constructor(
    readonly at: ErrorSource,
    readonly error: string,
    readonly args: unknown[],
  ) {
    super(`${at}.${error}(${args.map(String).join(", ")})`);
  }
}

export function fail(at: ErrorSource, error: string, ...args: unknown[]): never {
  throw new Expected(at, error, args);
}

/** OpenZeppelin `_convertToShares/_convertToAssets` with decimals offset 0 (virtual share and asset of 1). */
const mulDivDown = (x: bigint, y: bigint, d: bigint): bigint => (x * y) / d;
const mulDivUp = (x: bigint, y: bigint, d: bigint): bigint => ceilDiv(x * y, d);

/** sUSDai lump gains are not credited below this supply (`MIN_SUPPLY_FOR_GAINS`). */
export const MIN_SUPPLY_FOR_GAINS = 10n ** 18n;

// ==================================================================================================== ERC-20 ledger

/** Balances of one ERC-20 (USDai, the reserve token, sUSDai shares) by address, with its total supply. */
export class Ledger {
  balances = new Map<string, bigint>();
  supply = 0n;

  constructor(
    readonly at: ErrorSource,
    init: Record<string, bigint> = {},
    supply = 0n,
  ) {
    for (const [k, v] of Object.entries(init)) this.balances.set(k, v);
    this.supply = supply;
  }

  clone(): Ledger {
    const l = new Ledger(this.at, {}, this.supply);
    l.balances = new Map(this.balances);
    return l;
  }

  of(who: string): bigint {
    return this.balances.get(who) ?? 0n;
  }

  /** Throws OpenZeppelin's `ERC20InsufficientBalance` when `from` holds less than `amount`. */
  require(from: string, amount: bigint): void {
    const balance = this.of(from);
    if (balance < amount) fail(this.at, "ERC20InsufficientBalance", from, balance, amount);
  }

  move(from: string, to: string, amount: bigint): void {
    this.balances.set(from, this.of(from) - amount);
    this.balances.set(to, this.of(to) + amount);
  }

  mint(to: string, amount: bigint): void {
    this.balances.set(to, this.of(to) + amount);
    this.supply += amount;
  }

  burn(from: string, amount: bigint): void {
    this.balances.set(from, this.of(from) - amount);
    this.supply -= amount;
  }
}

// ==================================================================================================== sUSDai

export interface Controller {
  pending: bigint;
  active: bigint;
  claimableShares: bigint;
  claimableAssets: bigint;
}

export interface QueueEntry {
  controller: string;
  claimableAt: bigint;
  shares: bigint;
}

/**
 * sUSDai: `StakedModel` (idle USDai and linear vesting of lump gains) plus the share ledger, the FIFO queue priced at
 * service time, per-controller claims paid pro rata, and recorded losses.
 */
export class ShareModel extends StakedModel {
  shares: Ledger;
  queue: QueueEntry[] = [];
  head = 0;
  totalPending = 0n;
  totalClaimable = 0n;
  cumulativeLosses = 0n;
  controllers = new Map<string, Controller>();

  constructor(
    idle: bigint,
    vestingPeriod: bigint,
    readonly self: string,
    readonly cooldown: bigint,
    readonly minRedeemAssets: bigint,
    readonly maxActiveRequests: bigint,
    shares: Ledger,
  ) {
    super(idle, vestingPeriod);
    this.shares = shares;
  }

  clone(): ShareModel {
    const c = new ShareModel(
      this.idle,
      this.vestingPeriod,
      this.self,
      this.cooldown,
      this.minRedeemAssets,
      this.maxActiveRequests,
      this.shares.clone(),
    );
    Object.assign(c, {
      vestingAmount: this.vestingAmount,
      vestingStart: this.vestingStart,
      vestingEnd: this.vestingEnd,
      gainWaiting: this.gainWaiting,
      waitingGain: this.waitingGain,
      waitingPeriod: this.waitingPeriod,
      queue: this.queue.map((q) => ({ ...q })),
      head: this.head,
      totalPending: this.totalPending,
      totalClaimable: this.totalClaimable,
      cumulativeLosses: this.cumulativeLosses,
      controllers: new Map([...this.controllers].map(([k, v]) => [k, { ...v }])),
    });
    return c;
  }

  get supply(): bigint {
    return this.shares.supply;
  }

  controller(who: string): Controller {
    let c = this.controllers.get(who);
    if (!c) {
      c = { pending: 0n, active: 0n, claimableShares: 0n, claimableAssets: 0n };
      this.controllers.set(who, c);
    }
    return c;
  }

  /** Entry at NAV with unvested gains: `gross` is idle + loan assets. */
  previewDeposit(gross: bigint, assets: bigint): bigint {
    return mulDivDown(assets, this.supply + 1n, gross + 1n);
  }

  previewMint(gross: bigint, shares: bigint): bigint {
    return mulDivUp(shares, gross + 1n, this.supply + 1n);
  }

  /** Idle USDai not owed to the queue, valued at NAV `ta` and rounded up (what `fundLoan` may send). */
  lendable(ta: bigint): bigint {
    return subFloor(this.idle, mulDivUp(this.totalPending, ta + 1n, this.supply + 1n));
  }

  /** `_addGain`: vests on top of what is unvested; below the minimum supply the USDai stays an untracked balance. */
  gain(now: bigint, amount: bigint): boolean {
    if (this.supply < MIN_SUPPLY_FOR_GAINS) return false;
    this.idle += amount;
    this.vest(now, amount);
    return true;
  }

  /**
   * `payStaked`: principal and interest into idle; late fees, and the interest of a loan in non-accrual (not in the
   * books), as a vesting gain.
   */
  override receive(now: bigint, a: Allocation): void {
    const gain = a.lateFees + (a.interestInBooks === false ? a.interest : 0n);
    this.idle += a.interest + a.scheduledPrincipal + a.prepayment + a.lateFees - gain;
    if (gain !== 0n) this.gain(now, gain);
  }

  /** FIFO service at NAV `ta`; returns the entries touched (fully or partly), the shares burned and assets moved. */
  service(now: bigint, ta: bigint, maxRequests: bigint): { touched: number; shares: bigint; assets: bigint } {
    let navAssets = ta + 1n;
    let navShares = this.supply + 1n;
    let touched = 0;
    let shares = 0n;
    let assets = 0n;
    for (let i = 0n; i < maxRequests && this.head < this.queue.length; i++) {
      const entry = this.queue[this.head];
      if (entry.claimableAt > now) break;
      let fillShares = entry.shares;
      let fillAssets = mulDivDown(fillShares, navAssets, navShares);
      if (fillAssets > this.idle) {
        fillShares = mulDivDown(this.idle, navShares, navAssets);
        fillAssets = mulDivDown(fillShares, navAssets, navShares);
        if (fillShares === 0n) break;
      }
      touched++;
      const c = this.controller(entry.controller);
      c.pending -= fillShares;
      c.claimableShares += fillShares;
      c.claimableAssets += fillAssets;
      this.idle -= fillAssets;
      navAssets -= fillAssets;
      navShares -= fillShares;
      shares += fillShares;
      assets += fillAssets;
      if (fillShares === entry.shares) {
        entry.shares = 0n;
        c.active -= 1n;
        this.head++;
      } else {
        entry.shares -= fillShares;
        break;
      }
    }
    this.totalPending -= shares;
    this.totalClaimable += assets;
    if (shares !== 0n) this.shares.burn(this.self, shares);
    return { touched, shares, assets };
  }
}

// ==================================================================================================== receipts

export interface ReceiptRecord {
  id: bigint;
  owner: string;
  site: string;
  value: bigint;
  appraisedAt: bigint;
  markdownBpsPerQuarter: bigint;
  floorBps: bigint;
  serials: string[];
}

export const collateralOf = (r: ReceiptRecord, now: bigint): bigint =>
  depreciated(r.value, now - r.appraisedAt, r.markdownBpsPerQuarter, r.floorBps);

// ==================================================================================================== auctions

export const AuctionStatus = { None: 0n, Live: 1n, Sold: 2n, Expired: 3n } as const;

export interface AuctionRecord {
  id: bigint;
  loanId: bigint;
  curve: Curve;
  startedAt: bigint;
  status: bigint;
}

export const auctionPrice = (a: AuctionRecord, now: bigint): bigint => priceAt(a.curve, now - a.startedAt);

export { curveFor, settle, type Settlement };

// ==================================================================================================== oracle

/** `CouponRules.Rule` with bigints. */
export interface Rule {
  gte: boolean;
  thresholdBps: bigint;
  windowDays: bigint;
  premiumDeltaBps: bigint;
  topUpRequired: boolean;
}

export interface Streak {
  length: bigint;
  lastDay: bigint;
}

export interface FeedState {
  address: string;
  decimals: bigint;
  roundId: bigint;
  answer: bigint;
  updatedAt: bigint;
}

export const UPTIME_UNKNOWN = 0xffffn;
export const COVENANT_SLA_BREACH = 1n;

/** `Median.medianDown`. */
export function medianDown(values: bigint[]): bigint {
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2n;
}

/** `CouponRules.advance`: a matching day extends a streak evaluated the day before, a full window fires and resets. */
export function advance(rule: Rule, s: Streak, day: bigint, utilizationBps: bigint): [Streak, boolean] {
  const matches = rule.gte ? utilizationBps >= rule.thresholdBps : utilizationBps < rule.thresholdBps;
  if (!matches) return [{ length: 0n, lastDay: day }, false];
  const extended = s.length !== 0n && s.lastDay + 1n === day ? s.length + 1n : 1n;
  if (extended >= rule.windowDays) return [{ length: 0n, lastDay: day }, true];
  return [{ length: extended, lastDay: day }, false];
}

/** One loan's oracle state. */
export class OracleLoan {
  lastDay = 0n;
  utilizationBps = 0n;
  uptimeBps = 0n;
  updatedAt = 0n;
  flags = 0n;
  streaks: Streak[];
  lastStepId = 0n;
  pushedStepId = 0n;
  pendingDeltaBps = 0n;
  pendingTopUp = false;
  pushedFlags = 0n;
  /** Last round used per feed address. */
  lastRound = new Map<string, bigint>();
  /** Coupon steps fired per rule, and the days of the observations that fired them. */
  firedDays: bigint[][];

  constructor(
    readonly loanId: bigint,
    readonly quorum: bigint,
    readonly maxStaleness: bigint,
    readonly reporters: string[],
    readonly feeds: string[],
    rules: number,
  ) {
    this.streaks = Array.from({ length: rules }, () => ({ length: 0n, lastDay: 0n }));
    this.firedDays = Array.from({ length: rules }, () => []);
  }

  clone(): OracleLoan {
    const c = new OracleLoan(
      this.loanId,
      this.quorum,
      this.maxStaleness,
      this.reporters,
      this.feeds,
      this.streaks.length,
    );
    Object.assign(c, {
      lastDay: this.lastDay,
      utilizationBps: this.utilizationBps,
      uptimeBps: this.uptimeBps,
      updatedAt: this.updatedAt,
      flags: this.flags,
      streaks: this.streaks.map((s) => ({ ...s })),
      lastStepId: this.lastStepId,
      pushedStepId: this.pushedStepId,
      pendingDeltaBps: this.pendingDeltaBps,
      pendingTopUp: this.pendingTopUp,
      pushedFlags: this.pushedFlags,
      lastRound: new Map(this.lastRound),
      firedDays: this.firedDays.map((d) => [...d]),
    });
    return c;
  }

  get stepPending(): boolean {
    return this.lastStepId !== this.pushedStepId;
  }

  /** `onStepIn`: a replacement operator starts from its own readings (streaks, pending step and flags dropped). */
  restart(): void {
    this.streaks = this.streaks.map(() => ({ length: 0n, lastDay: 0n }));
    this.pushedStepId = this.lastStepId;
    this.pendingDeltaBps = 0n;
    this.pendingTopUp = false;
    this.flags = 0n;
    this.pushedFlags = 0n;
  }

  get flagsPending(): boolean {
    return this.flags !== this.pushedFlags;
  }

  /** `_record`: the day's observation, the SLA flag (reports only) and every rule's streak. */
  record(
    rules: Rule[],
    now: bigint,
    day: bigint,
    utilizationBps: bigint,
    uptimeBps: bigint,
    slaUptimeBps: bigint,
  ): void {
    if (uptimeBps !== UPTIME_UNKNOWN) {
      this.flags =
        uptimeBps < slaUptimeBps ? this.flags | COVENANT_SLA_BREACH : this.flags & ~COVENANT_SLA_BREACH;
    }
    this.lastDay = day;
    this.utilizationBps = utilizationBps;
    this.uptimeBps = uptimeBps;
    this.updatedAt = now;
    let stepId = this.lastStepId;
    let delta = 0n;
    let topUp = false;
    rules.forEach((rule, i) => {
      const [next, fired] = advance(rule, this.streaks[i], day, utilizationBps);
      this.streaks[i] = next;
      if (fired) {
        stepId++;
        delta += rule.premiumDeltaBps;
        topUp ||= rule.topUpRequired;
        this.firedDays[i].push(day);
      }
    });
    if (stepId !== this.lastStepId) {
      this.lastStepId = stepId;
      this.pendingDeltaBps += delta;
      if (topUp) this.pendingTopUp = true;
    }
  }
}

// ==================================================================================================== loans

/** A loan of the model: the shared `LoanModel` plus who holds it, where, what backs it, and the money it moved. */
export interface LoanRecord {
  m: LoanModel;
  borrower: string;
  site: string;
  receipts: bigint[];
  slaUptimeBps: bigint;
  approvalExpiry: bigint;
  /** Principal sent to the borrower, and USDai the borrower side paid in net (repayments, revenue, less releases). */
  drawn: bigint;
  netPaid: bigint;
}

/** Statuses whose receipts sit in the LoanVault. */
export const PLEDGED = new Set<bigint>([Status.Active, Status.Repaid, Status.Defaulted]);

/** Principal outstanding of a borrower or a site, as `exposureOf` books it. */
export function exposure(loans: Iterable<LoanRecord>, pick: (l: LoanRecord) => boolean): bigint {
  let sum = 0n;
  for (const l of loans) if (pick(l)) sum += l.m.s.principal;
  return sum;
}

export { BPS, ceilDiv, min, Status };

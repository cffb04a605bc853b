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
import { curveFor, priceAt, reserveFor, settle, type Curve, type Settlement } from "../helpers/recovery";

/**
 * The bigint model behind test/invariant/Protocol.spec.ts: the whole protocol's state as the specification describes
 * it (DESIGN.md, the interfaces' NatSpec), independent of the Solidity. Loans are `LoanModel`s (test/helpers/
 * loan-model.ts); this file adds sUSDai's shares and redemption queue on top of `StakedModel` (idle and vesting),
 * USDai and reserve balances, receipts and their depreciation, auctions, and the oracle's report days, observations,
 * streaks and composed coupon steps.
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
  /** The cap base's checkpoints (#24.6): shares burned by servicing, the latest checkpoint's time and counts. */
  cap = { burned: 0n, at: 0n, prev: 0n, current: 0n };

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
      cap: { ...this.cap },
    });
    return c;
  }

  /** `_capWindow`: the cooldown, at least a day. */
  get capWindow(): bigint {
    return this.cooldown > 86_400n ? this.cooldown : 86_400n;
  }

  /** `_checkpointCapBase`: once the latest checkpoint is a window old (or with none), the count of shares ever minted. */
  checkpoint(now: bigint): void {
    const { cap } = this;
    if (cap.at !== 0n && now < cap.at + this.capWindow) return;
    const minted = this.supply + cap.burned;
    let prev = cap.current;
    if (cap.at === 0n || prev > minted) prev = minted;
    Object.assign(cap, { prev, current: minted, at: now });
  }

  /** `capBase`: NAV `ta` less the recent and the queued shares at today's price rounded up, floored at zero. */
  capBase(now: bigint, ta: bigint): bigint {
    const { cap } = this;
    const minted = this.supply + cap.burned;
    let recent = 0n;
    if (cap.at !== 0n) recent = subFloor(minted, now >= cap.at + this.capWindow ? cap.current : cap.prev);
    const excluded = recent + this.totalPending;
    if (excluded >= this.supply) return 0n;
    return subFloor(ta, mulDivUp(excluded, ta + 1n, this.supply + 1n));
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
    this.cap.burned += shares;
    this.checkpoint(now);
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

export { curveFor, reserveFor, settle, type Settlement };

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

/**
 * `CouponRules.advance`: a non-matching day resets the streak; a matching day extends it. A missing day (no observation
 * between the streak's last day and `day`) breaks a step-down streak (it starts again at one) but not a step-up one
 * (positive premium change: missing days never help the borrower). A full window fires and resets.
 */
export function advance(rule: Rule, s: Streak, day: bigint, utilizationBps: bigint): [Streak, boolean] {
  const matches = rule.gte ? utilizationBps >= rule.thresholdBps : utilizationBps < rule.thresholdBps;
  if (!matches) return [{ length: 0n, lastDay: day }, false];
  const unbroken = s.lastDay + 1n === day || rule.premiumDeltaBps > 0n;
  const extended = s.length !== 0n && unbroken ? s.length + 1n : 1n;
  if (extended >= rule.windowDays) return [{ length: 0n, lastDay: day }, true];
  return [{ length: extended, lastDay: day }, false];
}

/** `DEFAULT_REPORT_WINDOW_SECONDS`: a day's reports are collected until this long after the day ends. */
export const REPORT_WINDOW = 21_600n;

/** `_closesAt`: when day `day`'s report window ends. */
export const closesAt = (day: bigint): bigint => (day + 1n) * 86_400n + REPORT_WINDOW;

export const INT32_MIN = -(2n ** 31n);
export const INT32_MAX = 2n ** 31n - 1n;

export const clamp = (x: bigint, low: bigint, high: bigint): bigint => (x < low ? low : x > high ? high : x);

/** The vault's premium clamp for a loan (`premiumBounds`): the terms' floor and cap, unclamped without terms. */
export interface PremiumBounds {
  floor: bigint;
  cap: bigint;
}

export const UNCLAMPED: PremiumBounds = { floor: INT32_MIN, cap: INT32_MAX };

/** How `_closeReportDay` closed a day: recorded from its reports, or missed (`ReportDayMissed`). */
export interface ClosedDay {
  day: bigint;
  reports: bigint;
  recorded: boolean;
}

/** One reporter's signed reading of the open report day. */
export interface Reading {
  utilizationBps: bigint;
  uptimeBps: bigint;
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
  /**
   * The pending steps map a premium p to clamp(p + pendingDeltaBps, stepLowBps, stepHighBps) (the vault's clamp after
   * each step); meaningful while a step is pending.
   */
  stepLowBps = 0n;
  stepHighBps = 0n;
  /** The day collecting signed reports (0: none) and its readings by reporter address, the first report of each. */
  openDay = 0n;
  openReadings = new Map<string, Reading>();
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
      stepLowBps: this.stepLowBps,
      stepHighBps: this.stepHighBps,
      openDay: this.openDay,
      openReadings: new Map([...this.openReadings].map(([k, v]) => [k, { ...v }])),
      lastRound: new Map(this.lastRound),
      firedDays: this.firedDays.map((d) => [...d]),
    });
    return c;
  }

  get stepPending(): boolean {
    return this.lastStepId !== this.pushedStepId;
  }

  /**
   * `onStepIn`: a replacement operator starts from its own readings (streaks, pending step and flags dropped). The open
   * report day, if any, stays: its reports are about the fleet, not the operator.
   */
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

  /**
   * `_record`: the day's observation, the SLA flag (reports only) and every rule's streak. Firings compose onto the
   * pending step in rule order as the vault would apply them one by one, clamped to `bounds` after each
   * (`_advanceStreaks`, `_pendingStep`, `_composeStep`).
   */
  record(
    rules: Rule[],
    now: bigint,
    day: bigint,
    utilizationBps: bigint,
    uptimeBps: bigint,
    slaUptimeBps: bigint,
    bounds: PremiumBounds,
  ): void {
    if (uptimeBps !== UPTIME_UNKNOWN) {
      this.flags =
        uptimeBps < slaUptimeBps ? this.flags | COVENANT_SLA_BREACH : this.flags & ~COVENANT_SLA_BREACH;
    }
    this.lastDay = day;
    this.utilizationBps = utilizationBps;
    this.uptimeBps = uptimeBps;
    this.updatedAt = now;
    const { floor, cap } = bounds;
    let stepId = this.lastStepId;
    let step: { delta: bigint; low: bigint; high: bigint; topUp: boolean } | undefined;
    for (const [i, rule] of rules.entries()) {
      const [next, fired] = advance(rule, this.streaks[i], day, utilizationBps);
      this.streaks[i] = next;
      if (!fired) continue;
      step ??= this.stepPending
        ? {
            delta: this.pendingDeltaBps,
            low: this.stepLowBps,
            high: this.stepHighBps,
            topUp: this.pendingTopUp,
          }
        : { delta: 0n, low: floor, high: cap, topUp: false };
      stepId++;
      const d = rule.premiumDeltaBps;
      step.delta += d;
      step.low = clamp(step.low + d, floor, cap);
      step.high = clamp(step.high + d, floor, cap);
      step.topUp ||= rule.topUpRequired;
      this.firedDays[i].push(day);
    }
    if (step !== undefined) {
      this.lastStepId = stepId;
      this.pendingDeltaBps = step.delta;
      this.pendingTopUp = step.topUp;
      this.stepLowBps = step.low;
      this.stepHighBps = step.high;
    }
  }

  /** `_effectiveDelta`: the premium change a push sends when the vault's premium is `premiumBps`. */
  effectiveDelta(premiumBps: bigint): bigint {
    return clamp(premiumBps + this.pendingDeltaBps, this.stepLowBps, this.stepHighBps) - premiumBps;
  }

  /** `pendingPush(loanId).deltaBps` (a LoanVault is set): the effective change while a step is pending. */
  pendingPushDelta(premiumBps: bigint): bigint {
    return this.stepPending ? this.effectiveDelta(premiumBps) : this.pendingDeltaBps;
  }

  /** Whether the open report day has closed at `now` (`_closable`). */
  closable(now: bigint): boolean {
    return this.openDay !== 0n && now >= closesAt(this.openDay);
  }

  /** `_recordReports`: the medians of every collected reading. */
  recordReadings(
    rules: Rule[],
    now: bigint,
    day: bigint,
    readings: Reading[],
    slaUptimeBps: bigint,
    bounds: PremiumBounds,
  ): void {
    this.record(
      rules,
      now,
      day,
      medianDown(readings.map((r) => r.utilizationBps)),
      medianDown(readings.map((r) => r.uptimeBps)),
      slaUptimeBps,
      bounds,
    );
  }

  /**
   * `_closeReportDay`: throws `UtilizationOracleReportDayOpen` before the open day closes, else clears it and records
   * it from its readings when they reach the quorum (a day short of it is missed: nothing recorded).
   */
  closeOpenDay(rules: Rule[], now: bigint, slaUptimeBps: bigint, bounds: PremiumBounds): ClosedDay {
    const open = this.openDay;
    if (now < closesAt(open))
      fail("oracle", "UtilizationOracleReportDayOpen", this.loanId, open, closesAt(open));
    const readings = [...this.openReadings.values()];
    this.clearOpenDay();
    const recorded = BigInt(readings.length) >= this.quorum;
    if (recorded) this.recordReadings(rules, now, open, readings, slaUptimeBps, bounds);
    return { day: open, reports: BigInt(readings.length), recorded };
  }

  clearOpenDay(): void {
    this.openDay = 0n;
    this.openReadings = new Map();
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

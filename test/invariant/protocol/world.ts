import { aggregateOf } from "../../helpers/loan-model";
import {
  collateralOf,
  Ledger,
  OracleLoan,
  ShareModel,
  UNCLAMPED,
  type AuctionRecord,
  type FeedState,
  type LoanRecord,
  type PremiumBounds,
  type ReceiptRecord,
} from "../protocol-model";
import { CONFIGURED_LOANS, ORACLE_STALENESS, RULES, type Setup } from "./setup";

// ==================================================================================================== the world

/*
 * The ghost state: the bigint model of one sequence (balances, shares and queue, loans, receipts, auctions, the
 * oracle's days and streaks), rebuilt from the setup's genesis reads before each sequence, plus the helpers the
 * handlers use to pick actors and targets from it.
 */

/** The model of one run, rebuilt from the setup's genesis reads (no chain reads) before each sequence. */
export class World {
  usdai: Ledger;
  reserve: Ledger;
  staked: ShareModel;
  /** USDai held by sUSDai outside idle and claimable: donations and gains credited below the minimum supply. */
  untracked = 0n;
  receipts = new Map<bigint, ReceiptRecord>();
  loans: LoanRecord[] = [];
  auctions: AuctionRecord[] = [];
  oracle = new Map<bigint, OracleLoan>();
  feeds: FeedState[];
  /** Ghost totals (invariant 2). */
  ghost = { inflow: 0n, funded: 0n, principalBack: 0n };
  now: bigint;
  lastPrice: [bigint, bigint] = [0n, 0n];
  /** Each loan's status after the previous command (docs/credit-state-machine.md, "Transitions"). */
  statuses = new Map<bigint, bigint>();
  /** Loans in non-accrual when the price was last checked. */
  nonAccrual = new Set<bigint>();
  /** Each Active loan's writedown (#24.2) when the price was last checked. */
  writedowns = new Map<bigint, bigint>();
  /** Loans the commands touched since the last full check (whose views that check compares). */
  touched = new Set<bigint>();
  /** Each loan's raw `stateOf` at the last check that found it equal to the model, with the model's fields then. */
  verifiedStates = new Map<bigint, { raw: string; fields: unknown[] }>();
  /** Logs of the transactions since the last full check: which balances and loans the chain says it moved. */
  logs: { address: string; topics: readonly string[] }[] = [];
  /** USDai and sUSDai balances as the last check that read them found them (equal to the model then). */
  verifiedUsdai = new Map<string, bigint>();
  verifiedShares = new Map<string, bigint>();
  /** Commands run in this sequence (the opening's included). */
  steps = 0;

  constructor(readonly s: Setup) {
    this.usdai = new Ledger("usdai", s.usdaiInit, s.usdaiSupply);
    this.reserve = new Ledger("reserve", s.reserveInit);
    this.staked = new ShareModel(
      s.idle,
      s.params.vesting,
      s.addr.susdai,
      s.params.cooldown,
      s.params.minRedeem,
      s.params.maxActive,
      new Ledger("susdai", s.sharesInit, s.shareSupply),
    );
    const cap = s.capCheckpoint;
    this.staked.cap = {
      burned: cap.minted - s.shareSupply,
      at: cap.at,
      prev: cap.prev,
      current: cap.current,
    };
    this.ghost.inflow = s.idle;
    this.now = s.startedAt;
    for (const r of s.receipts) this.receipts.set(r.id, { ...r });
    this.feeds = s.feedInit.map((f) => ({ ...f }));
    const reporters = [s.fx.actors.reporter1, s.fx.actors.reporter2, s.fx.actors.reporter3].map(
      (r) => r.address,
    );
    for (let i = 1n; i <= BigInt(CONFIGURED_LOANS); i++)
      this.oracle.set(
        i,
        new OracleLoan(
          i,
          2n,
          ORACLE_STALENESS,
          reporters,
          this.feeds.map((f) => f.address),
          RULES.length,
        ),
      );
  }

  loanAssets(now: bigint): bigint {
    return aggregateOf(
      this.loans.map((l) => l.m),
      now,
    ).loanAssets;
  }

  /** NAV with unvested gains and impaired loans at their claim: what deposits and mints are priced at. */
  entryNav(now: bigint): bigint {
    const books = aggregateOf(
      this.loans.map((l) => l.m),
      now,
    );
    return this.staked.idle + books.loanAssets + books.markdown;
  }

  nav(now: bigint): bigint {
    return this.staked.totalAssets(now, this.loanAssets(now));
  }

  collateral(ids: bigint[], now: bigint): bigint {
    return ids.reduce((sum, rid) => sum + collateralOf(this.receipts.get(rid)!, now), 0n);
  }

  loan(idx: number): LoanRecord | undefined {
    return this.loans.length === 0 ? undefined : this.loans[idx % this.loans.length];
  }

  /** The id a command aims at: an existing loan, or the next (unapproved, status None) one. */
  loanId(idx: number): bigint {
    return this.loan(idx)?.m.id ?? BigInt(this.loans.length + 1);
  }

  /** The loan behind an oracle loan id, once the vault approved it. */
  record(loanId: bigint): LoanRecord | undefined {
    return this.loans[Number(loanId) - 1];
  }

  /** `LoanVault.premiumBounds(loanId)`'s premium: the loan's premium now, 0 for an id never approved. */
  premiumOf(loanId: bigint): bigint {
    return this.record(loanId)?.m.s.premiumBps ?? 0n;
  }

  /** The clamp the oracle composes coupon steps with: the terms' floor and cap, unclamped for a loan without terms. */
  premiumBounds(loanId: bigint): PremiumBounds {
    const t = this.record(loanId)?.m.t;
    return t !== undefined && t.premiumCapBps !== 0n
      ? { floor: t.premiumFloorBps, cap: t.premiumCapBps }
      : UNCLAMPED;
  }

  /** `LoanVault.slaUptimeBps(loanId)`: the terms' SLA, 0 without terms. */
  slaUptimeBps(loanId: bigint): bigint {
    return this.record(loanId)?.slaUptimeBps ?? 0n;
  }

  freeReceipts(owner: string, site?: string): ReceiptRecord[] {
    return [...this.receipts.values()].filter(
      (r) => r.owner === owner && (site === undefined || r.site === site),
    );
  }

  payStaked(
    now: bigint,
    a: {
      interest: bigint;
      scheduledPrincipal: bigint;
      prepayment: bigint;
      lateFees: bigint;
      interestInBooks?: boolean;
    },
  ) {
    const total = a.interest + a.scheduledPrincipal + a.prepayment + a.lateFees;
    if (total === 0n) return;
    this.usdai.move(this.s.addr.loanVault, this.s.addr.susdai, total);
    this.ghost.inflow += total;
    this.ghost.principalBack += a.scheduledPrincipal + a.prepayment;
    // late fees and a non-accrual loan's interest are gains, untracked below the minimum supply
    const gain = a.lateFees + (a.interestInBooks === false ? a.interest : 0n);
    if (gain !== 0n && this.staked.supply < 10n ** 18n) this.untracked += gain;
    this.staked.receive(now, a);
  }
}

export const lenderOf = (w: World, i: number) => w.s.lenders[i % w.s.lenders.length];

export const bps = (x: bigint, b: number) => (x * BigInt(b)) / 10_000n;

/** Aims at the first loan in `status` (and due, for a default) when there is one, else at the index. */
export function aim(w: World, idx: number, pick: (l: LoanRecord) => boolean): number {
  const found = w.loans.findIndex(pick);
  return found >= 0 ? found : idx;
}

import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { AuctionStatus, curveFor, fail, reserveFor, Status, type LoanRecord } from "../../protocol-model";
import { INTEREST_DENOMINATOR, min } from "../../../helpers/math";
import { World, lenderOf, aim } from "../world";
import { lv, act, eventArgs, type Params } from "../execution";

/**
 * Handlers of permissionless upkeep (the keeper, or any lender): T-bill harvest, servicing the redemption queue,
 * lockbox sweeps, closing repaid loans, declaring defaults and starting liquidations.
 */

export async function harvest(w: World, _p: Params, t: bigint) {
  const { usdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  // Preview at the transaction's own timestamp (the pending block): what the harvest must mint.
  const preview = await usdai.harvest.staticCall({ blockTag: "pending" });
  await act(
    w,
    "usdai.harvest",
    t,
    () => (receipt) => {
      const minted = eventArgs(w, receipt, "usdai", "YieldHarvested").reduce(
        (s, a) => s + (a.amount as bigint),
        0n,
      );
      expect(minted, "harvest mints its preview").to.equal(preview);
      if (minted === 0n) return;
      w.usdai.mint(w.s.addr.susdai, minted);
      w.ghost.inflow += minted;
      if (!w.staked.gain(t, minted)) w.untracked += minted;
    },
    () => usdai.harvest(),
  );
}

/**
 * `serviceRedemptions`. With `keeper`, the keeper's routine as `susdai:service` runs it: every Active loan with a payment
 * past grace is marked first (`checkCovenants`, one block each), then the queue is serviced, and (14) no exit is
 * serviced at a price above the book's value under the state machine: performing loans at principal and interest,
 * loans past grace at the lower of principal and their recovery (collateral after the haircut plus cash) when marked,
 * impaired loans at their impaired value.
 */
export async function service(w: World, p: Params, t: bigint) {
  const max = BigInt(p.max as number);
  let at = t;
  const marked = new Map<bigint, bigint>();
  if (p.keeper) {
    for (const rec of w.loans) {
      if (!rec.m.pastGrace(at)) continue;
      await markLoan(w, rec, at);
      marked.set(rec.m.id, rec.m.recovery(at, w.s.haircutBps));
      at += 1n;
    }
  }
  const headBefore = w.staked.head;
  await act(
    w,
    "susdai.serviceRedemptions",
    at,
    () => (receipt) => {
      const ta = w.nav(at);
      if (p.keeper) {
        let book = 0n;
        for (const { m } of w.loans) {
          const st = m.s.status;
          if (st === Status.Defaulted || st === Status.Liquidating) book += m.s.impairedValue;
          else if (!m.active) continue;
          else if (marked.has(m.id)) book += min(m.s.principal, marked.get(m.id)!);
          else book += m.s.principal + (m.accruing ? m.numeratorAt(at) / INTEREST_DENOMINATOR : 0n);
        }
        // per-loan floors against the aggregate's one floor: at most a wei per loan
        const fair = w.staked.totalAssets(at, book) + BigInt(w.loans.length);
        expect(ta, "(14) an exit is priced at no more than the book's value").to.be.lessThanOrEqual(fair);
      }
      const { touched, shares, assets } = w.staked.service(at, ta, max);
      const events = eventArgs(w, receipt, "susdai", "RedeemRequestServiced");
      // (12) queue work per call is bounded by its argument.
      expect(events.length, "entries serviced").to.equal(touched);
      expect(BigInt(events.length), "serviced <= maxRequests").to.be.lessThanOrEqual(max);
      expect(BigInt(w.staked.head - headBefore), "head advance <= maxRequests").to.be.lessThanOrEqual(max);
      expect(
        events.reduce((s, e) => s + (e.shares as bigint), 0n),
        "shares serviced",
      ).to.equal(shares);
      expect(
        events.reduce((s, e) => s + (e.assets as bigint), 0n),
        "assets serviced",
      ).to.equal(assets);
    },
    () => w.s.fx.susdai.connect(w.s.fx.actors.keeper).serviceRedemptions(max),
  );
}

export async function sweep(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  await act(
    w,
    "loanVault.sweep",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      const { a } = lv(() => probe.sweep(t));
      return () => {
        rec!.m.s = probe.s;
        w.payStaked(t, a);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).sweep(loanId),
  );
}

export async function close(w: World, p: Params, t: bigint) {
  const idx = p.aim ? aim(w, p.loan as number, (l) => l.m.s.status === Status.Repaid) : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.close",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      const refund = lv(() => probe.close());
      return () => {
        rec!.m.s = probe.s;
        w.usdai.move(w.s.addr.loanVault, rec!.borrower, refund);
        rec!.netPaid -= refund;
        for (const rid of rec!.receipts) w.receipts.get(rid)!.owner = rec!.borrower;
        // (5) borrow-then-repay-all never profits: the loan took in at least what it lent.
        expect(rec!.netPaid, `loan ${loanId} net repaid vs drawn`).to.be.greaterThanOrEqual(rec!.drawn);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).close(loanId),
  );
}

/**
 * `checkCovenants`, the keeper's round (anyone may call it): accrues, re-tests the LTV covenants and marks a loan past
 * grace to what it would recover today (#24.2). Aimed at loans with a payment past grace, which the mark moves.
 */
export async function checkCovenants(w: World, p: Params, t: bigint) {
  const idx = p.aim ? aim(w, p.loan as number, (l) => l.m.pastGrace(t)) : (p.loan as number);
  const rec = w.loan(idx);
  if (!rec) {
    const loanId = w.loanId(idx);
    await act(
      w,
      "loanVault.checkCovenants",
      t,
      () => fail("loanVault", "LoanVaultBadStatus", loanId, Status.None),
      () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).checkCovenants(loanId),
    );
    return;
  }
  await markLoan(w, rec, t);
}

/** `checkCovenants(loanId)` of one loan at `t`, from the keeper. */
async function markLoan(w: World, rec: LoanRecord, t: bigint) {
  const loanId = rec.m.id;
  await act(
    w,
    "loanVault.checkCovenants",
    t,
    () => {
      if (!rec.m.active) fail("loanVault", "LoanVaultBadStatus", loanId, rec.m.s.status);
      const probe = rec.m.clone();
      probe.checkCovenants(t, w.s.haircutBps);
      return () => {
        rec.m.s = probe.s;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).checkCovenants(loanId),
  );
}

export async function declareDefault(w: World, p: Params, t: bigint) {
  const idx = p.aim
    ? aim(w, p.loan as number, (l) => l.m.active && l.m.defaultableAt() !== 0n && l.m.defaultableAt() <= t)
    : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.declareDefault",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      // the lockbox and reserve run the waterfall first: what they pay goes to sUSDai (#16.3)
      const applied = lv(() => probe.declareDefault(t, w.s.haircutBps));
      // (8) a loan in good standing never defaults, so never loses its collateral.
      expect(rec!.m.inGoodStanding(t), `loan ${loanId} in good standing at default`).to.equal(false);
      return () => {
        rec!.m.s = probe.s;
        w.payStaked(t, applied);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(lenderOf(w, 2)).declareDefault(loanId),
  );
}

export async function liquidate(w: World, p: Params, t: bigint) {
  const idx = aim(w, p.loan as number, (l) => l.m.s.status === Status.Defaulted);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.liquidate",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      if (rec!.m.s.status !== Status.Defaulted)
        fail("loanVault", "LoanVaultBadStatus", loanId, rec!.m.s.status);
      // within the step-in window after the default only the credit admin may liquidate (#16.5)
      const opensAt = rec!.m.liquidationOpensAt();
      if (!p.admin && t < opensAt) fail("loanVault", "LoanVaultStepInWindow", loanId, opensAt);
      const collateral = w.collateral(rec!.receipts, t);
      if (collateral === 0n) fail("auction", "AuctionEmptyLot", loanId);
      const ap = w.s.auctionParams;
      // #24.3/#24.5: the lot is marked down to its collateral today after the haircut (plus its cash), and its reserve
      // (the impaired value less the cash) and the loan's maximum LTV bound the auction's floor
      const s = rec!.m.s;
      const { impairedValue, reservePrice } = reserveFor(
        s.impairedValue,
        collateral,
        w.s.haircutBps,
        s.lockbox + s.reserve,
      );
      return () => {
        rec!.m.s.status = Status.Liquidating;
        rec!.m.s.impairedValue = impairedValue;
        w.auctions.push({
          id: loanId, // an auction is keyed by its loan
          loanId,
          curve: curveFor(collateral, ap.premium, ap.floor, ap.duration, reservePrice, rec!.m.t.maxLtvBps),
          startedAt: t,
          status: AuctionStatus.Live,
        });
        for (const rid of rec!.receipts) w.receipts.get(rid)!.owner = w.s.addr.auction;
        w.touched.add(loanId);
      };
    },
    () =>
      w.s.fx.loanVault.connect(p.admin ? w.s.fx.actors.creditAdmin : w.s.fx.actors.keeper).liquidate(loanId),
  );
}

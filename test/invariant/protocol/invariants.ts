import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { expectAggregates, expectLoanState } from "../../helpers/loan-check";
import { aggregateOf } from "../../helpers/loan-model";
import { AuctionStatus, auctionPrice, closesAt, PLEDGED, Status } from "../protocol-model";
import { RULES } from "./setup";
import { World, lenderOf } from "./world";
import type { Op } from "./execution";
import { counters } from "./counters";

/** What a check is labelled with: the command it follows (or the end of the sequence). */
type After = Pick<Op, "name" | "toString">;

// ==================================================================================================== invariants

/*
 * The invariants checked after every command (`checkInvariants`) and at the end of every sequence (`checkReceipts`).
 * The numbers label the suite's properties wherever they are asserted (a few sit in the handler whose call they judge):
 *   (1) share balances, custody included, sum to sUSDai's supply;
 *   (2) solvency: sUSDai holds idle + claimable, the vault holds every lockbox and reserve, NAV <= idle + loan assets,
 *       borrowed <= funded - repaid;
 *   (3) receipts: each serial backs one receipt, each pledged receipt one loan, custody where the model says;
 *   (4) the share price falls only on an impairment or a realized loss;
 *   (5) no free money: a deposit or mint is worth at most what it paid (handlers/lender.ts), a closed loan took in at
 *       least what it lent (handlers/keeper.ts);
 *   (7) `loanAssets()`, the aggregates and every loan's state equal the model to the wei;
 *   (8) a loan in good standing never defaults (handlers/keeper.ts); a sale never leaves more bad debt than a
 *       write-off would (handlers/liquidator.ts);
 *   (9) unauthorized calls revert with their exact error and move no governance parameter (handlers/attacker.ts);
 *   (10) the oracle's observation, open report day, pending push (its delta the pending steps applied to the loan's
 *       premium now, clamped after each) and streaks equal the model; a push moves the coupon by at most that delta,
 *       within the terms' floor and cap (handlers/oracle.ts);
 *   (11) the max views never revert and name exactly what can be deposited, minted or claimed;
 *   (12) redemption-queue work per call is bounded by its argument (handlers/keeper.ts);
 *   (13) no free gain (#24.4): a deposit or mint claimed at the earliest service, with no credit event in between,
 *       returns at most what it paid plus its share of the interest accrued meanwhile (handlers/lender.ts);
 *   (14) no exit is serviced at a price above the book's value under the state machine, when the keeper marks the loans
 *       past grace before servicing as `susdai:service` does (#24.2, handlers/keeper.ts).
 */

/**
 * The checks after a command. `full` runs every invariant below; between full checks (FUZZ_CHECK_EVERY > 1) a command
 * is followed by the step checks only: the clock, the loan aggregates and `loanAssets()` (7), sUSDai's supply and
 * total assets against the model, and the share price (4), which compares consecutive commands and so runs after each.
 * A full check covers every loan touched since the previous one, and a sequence always ends with one.
 */
export async function checkInvariants(w: World, cmd: After, full = true): Promise<void> {
  const label = `after ${cmd.toString()}`;
  if (!full) return checkStep(w, cmd, label);
  const { fx, addr } = w.s;
  const { susdai, usdai, loanVault, receipts } = fx;
  const now = w.now;
  expect(BigInt(await time.latest()), `${label}: clock`).to.equal(now);
  const m = w.staked;
  counters.fullChecks++;

  // (7) loanAssets() and the aggregates are the model's sums over loans, to the wei; each loan's state by field.
  const loanModels = w.loans.map((l) => l.m);
  const loanAssets = await expectAggregates(fx, loanModels, label);
  for (const l of w.loans) {
    await expectLoanState(fx, l.m, label);
    // An Active loan always has a next payment (the one settling the last installment repays it): the vault's
    // default and late-fee arithmetic relies on it.
    if (l.m.s.status === Status.Active) {
      expect(l.m.s.nextPaymentIndex, `${label}: loan ${l.m.id} next payment`).to.be.lessThanOrEqual(
        l.m.s.schedulePayments,
      );
    }
  }

  const [
    supply,
    idle,
    ta,
    unvested,
    pending,
    claimable,
    losses,
    bounds,
    custody,
    heldUsdai,
    vaultUsdai,
    usdaiSupply,
    reserves,
    inVault,
    inAuction,
  ] = await Promise.all([
    susdai.totalSupply(),
    susdai.idleAssets(),
    susdai.totalAssets(),
    susdai.unvestedGains(),
    susdai.totalPendingShares(),
    susdai.totalClaimableAssets(),
    susdai.cumulativeLosses(),
    susdai.queueBounds(),
    susdai.balanceOf(addr.susdai),
    usdai.balanceOf(addr.susdai),
    usdai.balanceOf(addr.loanVault),
    usdai.totalSupply(),
    usdai.totalReserves(),
    receipts.balanceOf(addr.loanVault),
    receipts.balanceOf(addr.auction),
  ]);
  expect(
    { supply, idle, ta, unvested, pending, claimable, losses, head: bounds[0], tail: bounds[1], custody },
    `${label}: sUSDai`,
  ).to.deep.equal({
    supply: m.supply,
    idle: m.idle,
    ta: m.totalAssets(now, loanAssets),
    unvested: m.unvested(now),
    pending: m.totalPending,
    claimable: m.totalClaimable,
    losses: m.cumulativeLosses,
    head: BigInt(m.head),
    tail: BigInt(m.queue.length),
    custody: m.totalPending,
  });

  // (1) sum of balances, including the shares queued in custody, is the total supply.
  const holders = [...w.s.lenders.map((l) => l.address), addr.susdai, w.s.attackerAddress];
  const balances = await Promise.all(holders.map((h) => susdai.balanceOf(h)));
  balances.forEach((b, i) =>
    expect(b, `${label}: shares of ${holders[i]}`).to.equal(m.shares.of(holders[i])),
  );
  expect(
    balances.reduce((a, b) => a + b, 0n),
    `${label}: sum of share balances`,
  ).to.equal(supply);

  // USDai: every tracked balance and the supply match; reserves back the supply.
  const usdaiBalances = await Promise.all(w.s.tracked.map((a) => usdai.balanceOf(a)));
  usdaiBalances.forEach((b, i) =>
    expect(b, `${label}: USDai of ${w.s.tracked[i]}`).to.equal(w.usdai.of(w.s.tracked[i])),
  );
  expect(usdaiSupply, `${label}: USDai supply`).to.equal(w.usdai.supply);
  expect(reserves * 10n ** 12n, `${label}: reserves back USDai`).to.be.greaterThanOrEqual(usdaiSupply);

  // (2) solvency: sUSDai holds idle plus what serviced redemptions are owed; the vault holds every lockbox and
  // reserve; NAV claims no more than idle plus loan assets; borrowed never exceeds supplied.
  expect(heldUsdai, `${label}: sUSDai USDai`).to.equal(idle + claimable + w.untracked);
  let cash = 0n;
  let debts = 0n;
  for (const l of w.loans) {
    const st = l.m.s.status;
    if (st === Status.Active || st === Status.Repaid || st === Status.Defaulted || st === Status.Liquidating)
      cash += l.m.s.lockbox + l.m.s.reserve;
    if (st === Status.Active) debts += l.m.s.principal + l.m.interestNow(now);
    if (st === Status.Defaulted || st === Status.Liquidating) debts += l.m.s.impairedValue;
  }
  expect(vaultUsdai, `${label}: LoanVault USDai = lockboxes + reserves`).to.equal(cash);
  expect(ta, `${label}: NAV <= idle + loan assets`).to.be.lessThanOrEqual(idle + loanAssets);
  expect(loanAssets, `${label}: loan assets <= debts`).to.be.lessThanOrEqual(debts);
  const agg = await loanVault.accrualState();
  expect(w.ghost.funded, `${label}: funded <= USDai that ever entered sUSDai`).to.be.lessThanOrEqual(
    w.ghost.inflow,
  );
  expect(agg.totalPrincipal, `${label}: borrowed <= funded - repaid`).to.be.lessThanOrEqual(
    w.ghost.funded - w.ghost.principalBack,
  );

  // (3) pledged receipts: every open loan's receipts are in the vault, each backs exactly one loan.
  const pledged = new Map<bigint, bigint>();
  for (const l of w.loans) {
    if (!PLEDGED.has(l.m.s.status)) continue;
    for (const rid of l.receipts) {
      expect(pledged.has(rid), `${label}: receipt ${rid} backs two loans`).to.equal(false);
      pledged.set(rid, l.m.id);
    }
  }
  expect(inVault, `${label}: receipts in the vault`).to.equal(BigInt(pledged.size));
  const auctioned = w.loans
    .filter((l) => l.m.s.status === Status.Liquidating)
    .reduce((s, l) => s + l.receipts.length, 0);
  expect(inAuction, `${label}: receipts at auction`).to.equal(BigInt(auctioned));
  // #24.3: a lot in a live auction is carried at no more than what a buyer pays for it now plus the loan's cash, so
  // no exit is serviced at a price above what the book can fetch (the model's curve is checked against the chain's)
  for (const a of w.auctions) {
    if (a.status !== AuctionStatus.Live || now > a.startedAt + a.curve.duration) continue;
    const s = w.loans[Number(a.loanId) - 1].m.s;
    expect(
      s.impairedValue,
      `${label}: lot ${a.loanId} carried above its live price plus cash`,
    ).to.be.lessThanOrEqual(auctionPrice(a, now) + s.lockbox + s.reserve);
  }
  for (const loanId of w.touched) {
    const l = w.loans[Number(loanId) - 1];
    if (!l) continue;
    const owners = await Promise.all(l.receipts.map((rid) => receipts.ownerOf(rid)));
    owners.forEach((o, i) =>
      expect(o, `${label}: owner of receipt ${l.receipts[i]}`).to.equal(w.receipts.get(l.receipts[i])!.owner),
    );
    expect([...(await loanVault.receiptsOf(loanId))], `${label}: receiptsOf(${loanId})`).to.deep.equal(
      l.receipts,
    );
    // Views of the touched loan, at this block.
    const [debt, good, defaultable, next, collateral] = await Promise.all([
      loanVault.debtOf(loanId),
      loanVault.inGoodStanding(loanId),
      loanVault.defaultableAt(loanId),
      loanVault.nextPayment(loanId),
      loanVault.collateralValueOf(loanId),
    ]);
    expect(
      { debt, good, defaultable, next: [...next], collateral },
      `${label}: views of loan ${loanId}`,
    ).to.deep.equal({
      debt: l.m.debtOf(now),
      good: l.m.inGoodStanding(now),
      defaultable: l.m.defaultableAt(),
      next: l.m.nextPayment(now),
      collateral: w.collateral(l.receipts, now),
    });
  }

  // (10) the oracle's view of the touched loans: observation, open report day, pending push and streaks.
  for (const loanId of w.touched) {
    const o = w.oracle.get(loanId);
    if (!o) continue;
    const [obs, open, pendingPush, ...streaks] = await Promise.all([
      fx.oracle.latestUtilization(loanId),
      fx.oracle.openReportDay(loanId),
      fx.oracle.pendingPush(loanId),
      ...RULES.map((_, i) => fx.oracle.streakOf(loanId, i)),
    ]);
    expect(
      {
        obs: [...obs],
        open: [...open],
        push: [
          pendingPush.stepId,
          pendingPush.deltaBps,
          pendingPush.topUpRequired,
          pendingPush.flags,
          pendingPush.stepPending,
          pendingPush.flagsPending,
        ],
        streaks: streaks.map((s) => [s.streakDays, s.lastDay]),
      },
      `${label}: oracle loan ${loanId}`,
    ).to.deep.equal({
      obs: [o.utilizationBps, o.uptimeBps, o.lastDay, o.updatedAt],
      open: o.openDay === 0n ? [0n, 0n, 0n] : [o.openDay, BigInt(o.openReadings.size), closesAt(o.openDay)],
      push: [
        o.lastStepId,
        o.pendingPushDelta(w.premiumOf(loanId)),
        o.pendingTopUp,
        o.flags,
        o.stepPending,
        o.flagsPending,
      ],
      streaks: o.streaks.map((s) => [s.length, s.lastDay]),
    });
    // One firing per streak: consecutive firings of a rule are a full window apart.
    RULES.forEach((rule, i) => {
      const days = o.firedDays[i];
      for (let k = 1; k < days.length; k++)
        expect(days[k] - days[k - 1]).to.be.greaterThanOrEqual(rule.windowDays);
    });
  }

  // (11) max views never revert for any lender.
  const lender = lenderOf(w, Number(now % 4n));
  const [maxDeposit, maxMint] = await Promise.all([
    susdai.maxDeposit(lender.address),
    susdai.maxMint(lender.address),
  ]);
  expect(maxDeposit, `${label}: maxDeposit`).to.equal(2n ** 128n - 1n - idle);
  expect(maxMint, `${label}: maxMint`).to.equal(w.staked.previewDeposit(w.entryNav(now), maxDeposit));

  checkPrice(w, cmd, label, ta, supply);
  w.touched.clear();
}

/**
 * Between full checks: the clock, (7) the loan aggregates and `loanAssets()` (as `expectAggregates` checks them), sUSDai's
 * supply and total assets against the model, and (4) the share price; read in one concurrent round.
 */
async function checkStep(w: World, cmd: After, label: string): Promise<void> {
  counters.stepChecks++;
  const { loanVault, susdai } = w.s.fx;
  const now = w.now;
  const [latest, agg, loanAssets, entryLoanAssets, supply, ta, capBase] = await Promise.all([
    time.latest(),
    loanVault.accrualState(),
    loanVault.loanAssets(),
    loanVault.entryLoanAssets(),
    susdai.totalSupply(),
    susdai.totalAssets(),
    susdai.capBase(),
  ]);
  expect(BigInt(latest), `${label}: clock`).to.equal(now);
  const expected = aggregateOf(
    w.loans.map((l) => l.m),
    now,
  );
  expect(agg.totalPrincipal, `${label} totalPrincipal`).to.equal(expected.totalPrincipal);
  expect(agg.rateSum, `${label} rateSum`).to.equal(expected.rateSum);
  expect(
    agg.interestNumerator + agg.rateSum * (now - agg.checkpointAt),
    `${label} interest numerator`,
  ).to.equal(expected.numerator);
  expect(agg.impaired, `${label} impaired`).to.equal(expected.impaired);
  expect(loanAssets, `${label} loanAssets`).to.equal(expected.loanAssets);
  // #24.1: the entry price counts each impaired loan at its claim
  expect(entryLoanAssets - loanAssets, `${label} markdown`).to.equal(expected.markdown);
  expect(supply, `${label}: sUSDai supply`).to.equal(w.staked.supply);
  expect(ta, `${label}: sUSDai totalAssets`).to.equal(w.staked.totalAssets(now, loanAssets));
  // #24.6: the caps' base matches the model and is never above NAV
  expect(capBase, `${label}: sUSDai capBase`).to.equal(w.staked.capBase(now, ta));
  expect(capBase, `${label}: capBase <= NAV`).to.be.lessThanOrEqual(ta);
  checkPrice(w, cmd, label, ta, supply);
}

/**
 * (4) the share price falls only on an impairment or a realized loss (and vested gains never jump: unvested equals the
 * model's linear schedule, checked with the sUSDai state).
 */
function checkPrice(w: World, cmd: After, label: string, ta: bigint, supply: bigint): void {
  const price: [bigint, bigint] = [ta + 1n, supply + 1n];
  // a loan going into non-accrual reverses its unpaid interest out of NAV: an impairment (#16.10); so does a deeper
  // past-grace mark (#24.2: an Active loan's writedown rose)
  const nonAccrual = new Set(w.loans.filter((l) => l.m.active && !l.m.accruing).map((l) => l.m.id));
  const newlyNonAccrual = [...nonAccrual].some((id) => !w.nonAccrual.has(id));
  const writedowns = new Map(w.loans.filter((l) => l.m.active).map((l) => [l.m.id, l.m.s.impairedValue]));
  const writtenDown = [...writedowns].some(([id, v]) => v > (w.writedowns.get(id) ?? 0n));
  if (w.lastPrice[1] !== 0n && price[0] * w.lastPrice[1] < w.lastPrice[0] * price[1]) {
    const realized =
      newlyNonAccrual ||
      writtenDown ||
      ["loanVault.declareDefault", "auction.buy", "auction.expire"].includes(cmd.name);
    expect(realized, `${label}: share price fell`).to.equal(true);
  }
  w.lastPrice = price;
  w.nonAccrual = nonAccrual;
  w.writedowns = writedowns;
}

/** End of a sequence: every receipt's owner and serial registry entry. */
export async function checkReceipts(w: World): Promise<void> {
  const { receipts } = w.s.fx;
  for (const r of w.receipts.values()) {
    expect(await receipts.ownerOf(r.id), `owner of receipt ${r.id}`).to.equal(r.owner);
    expect(await receipts.receiptOfSerial(r.serials[Number(r.id) % 8]), `serial of receipt ${r.id}`).to.equal(
      r.id,
    );
  }
}

/**
 * The credit state machine's transitions (docs/credit-state-machine.md, "Transitions"): after every command each loan
 * is in the status it was in, or moved along an edge of the table. A loan appears as Approved.
 */
const TRANSITIONS = new Set(
  [
    [Status.Approved, Status.Cancelled],
    [Status.Approved, Status.Active],
    [Status.Active, Status.Repaid],
    [Status.Repaid, Status.Closed],
    [Status.Active, Status.Defaulted],
    [Status.Defaulted, Status.Active],
    [Status.Defaulted, Status.Liquidating],
    [Status.Defaulted, Status.WrittenOff],
    [Status.Liquidating, Status.Recovered],
    [Status.Liquidating, Status.WrittenOff],
  ].map(([from, to]) => `${from}>${to}`),
);

export function checkTransitions(w: World, label: string): void {
  for (const rec of w.loans) {
    const id = rec.m.id;
    const to = rec.m.s.status;
    const from = w.statuses.get(id) ?? Status.Approved;
    if (from !== to) {
      expect(TRANSITIONS.has(`${from}>${to}`), `after ${label}: loan ${id} moved ${from} -> ${to}`).to.equal(
        true,
      );
    }
    w.statuses.set(id, to);
  }
}

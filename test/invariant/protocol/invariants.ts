import { expect } from "chai";
import { id } from "ethers";
import { aggregateOf, STATE_FIELDS, type LoanModel } from "../../helpers/loan-model";
import { AuctionStatus, auctionPrice, closesAt, PLEDGED, Status } from "../protocol-model";
import { RULES, type Setup } from "./setup";
import { World, lenderOf } from "./world";
import type { Op } from "./execution";
import { counters } from "./counters";
import { phase, relabel } from "./profile";
import { deepEq, eq, latest, View, word } from "./rpc";

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
 *   (7) `loanAssets()`, the aggregates and every loan's state equal the model to the wei (a loan's state is read again
 *       after a command that moved it, and every loan's at the end of the sequence);
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

/** The views the checks read every time, with their calldata encoded once per setup (./rpc.ts). */
interface Views {
  accrualState: View;
  loanAssets: View;
  entryLoanAssets: View;
  supply: View;
  idle: View;
  totalAssets: View;
  unvested: View;
  pending: View;
  claimable: View;
  losses: View;
  bounds: View;
  capBase: View;
  /** sUSDai balances of `holders`: the lenders, sUSDai's custody, the attacker. */
  holders: string[];
  shares: View[];
  /** USDai balances of `Setup.tracked`. */
  usdai: View[];
  usdaiSupply: View;
  reserves: View;
  inVault: View;
  inAuction: View;
}

const viewsBySetup = new WeakMap<Setup, Views>();

function views(s: Setup): Views {
  let v = viewsBySetup.get(s);
  if (v !== undefined) return v;
  const { susdai, usdai, loanVault, receipts } = s.fx;
  const { addr } = s;
  // `true`: a stable view, reading storage only (./rpc.ts answers it again from its last result until storage moves)
  const lv = (fn: string, stable = false) => new View(loanVault, addr.loanVault, fn, [], stable);
  const su = (fn: string, args: unknown[] = [], stable = false) =>
    new View(susdai, addr.susdai, fn, args, stable);
  const holders = [...s.lenders.map((l) => l.address), addr.susdai, s.attackerAddress];
  v = {
    accrualState: lv("accrualState", true),
    loanAssets: lv("loanAssets"),
    entryLoanAssets: lv("entryLoanAssets"),
    supply: su("totalSupply", [], true),
    idle: su("idleAssets", [], true),
    totalAssets: su("totalAssets"),
    unvested: su("unvestedGains"),
    pending: su("totalPendingShares", [], true),
    claimable: su("totalClaimableAssets", [], true),
    losses: su("cumulativeLosses", [], true),
    bounds: su("queueBounds", [], true),
    capBase: su("capBase"),
    holders,
    shares: holders.map((h) => su("balanceOf", [h], true)),
    usdai: s.tracked.map((a) => new View(usdai, addr.usdai, "balanceOf", [a], true)),
    usdaiSupply: new View(usdai, addr.usdai, "totalSupply", [], true),
    reserves: new View(usdai, addr.usdai, "totalReserves"),
    inVault: new View(receipts, addr.receipts, "balanceOf", [addr.loanVault], true),
    inAuction: new View(receipts, addr.receipts, "balanceOf", [addr.auction], true),
  };
  viewsBySetup.set(s, v);
  return v;
}

/**
 * The checks after a command. `full` runs every invariant below; between full checks (FUZZ_CHECK_EVERY > 1) a command
 * is followed by the step checks only: the clock, the loan aggregates and `loanAssets()` (7), sUSDai's supply and
 * total assets against the model, and the share price (4), which compares consecutive commands and so runs after each.
 * A full check covers every loan touched since the previous one, and a sequence always ends with one.
 *
 * Reads go one by one through ./rpc.ts (raw `eth_call`s, calldata encoded once; a view that reads storage only is
 * answered from its last result while no request changed storage) and a passing comparison costs a `===` (chai builds
 * its message only on a mismatch). Each loan's state and each tracked USDai and sUSDai balance is read again when the
 * model moved it, the chain did (a loan event naming it, a `Transfer` from or to the holder) or no check of the sequence
 * read it yet; the sequence ends by reading every one (`checkEverything`).
 */
export async function checkInvariants(w: World, cmd: After, full = true): Promise<void> {
  return phase("inv.clock", () => (full ? checkFull(w, cmd) : checkStep(w, cmd, `after ${cmd.toString()}`)));
}

/** (7) the aggregates and `loanAssets()` are the model's sums over the loans, to the wei; the entry price's markdown. */
async function checkAggregates(w: World, label: string) {
  const v = views(w.s);
  const now = w.now;
  const agg = await v.accrualState.decode();
  const loanAssets = await v.loanAssets.uint();
  const entryLoanAssets = await v.entryLoanAssets.uint();
  const expected = aggregateOf(
    w.loans.map((l) => l.m),
    now,
  );
  eq(agg.totalPrincipal, expected.totalPrincipal, `${label} totalPrincipal`);
  eq(agg.rateSum, expected.rateSum, `${label} rateSum`);
  eq(
    (agg.interestNumerator as bigint) + (agg.rateSum as bigint) * (now - (agg.checkpointAt as bigint)),
    expected.numerator,
    `${label} interest numerator`,
  );
  eq(agg.impaired, expected.impaired, `${label} impaired`);
  eq(loanAssets, expected.loanAssets, `${label} loanAssets`);
  // #24.1: the entry price counts each impaired loan at its claim
  eq(entryLoanAssets - loanAssets, expected.markdown, `${label} markdown`);
  return { agg, loanAssets };
}

/** #24.6: the caps' base matches the model and is never above NAV. */
async function checkCapBase(w: World, label: string, ta: bigint) {
  const capBase = await views(w.s).capBase.uint();
  eq(capBase, w.staked.capBase(w.now, ta), `${label}: sUSDai capBase`);
  if (capBase > ta) expect(capBase, `${label}: capBase <= NAV`).to.be.lessThanOrEqual(ta);
}

const TRANSFER = id("Transfer(address,address,uint256)");

/** What the chain says the transactions since the last full check moved, from their logs. */
interface Moved {
  usdai: Set<string>;
  shares: Set<string>;
  loans: Set<bigint>;
}

function moved(w: World): Moved {
  const out: Moved = { usdai: new Set(), shares: new Set(), loans: new Set() };
  const usdai = w.s.addr.usdai.toLowerCase();
  const susdai = w.s.addr.susdai.toLowerCase();
  const vault = w.s.addr.loanVault.toLowerCase();
  for (const log of w.logs) {
    const at = log.address.toLowerCase();
    if ((at === usdai || at === susdai) && log.topics[0] === TRANSFER) {
      const set = at === usdai ? out.usdai : out.shares;
      set.add(`0x${log.topics[1].slice(26)}`);
      set.add(`0x${log.topics[2].slice(26)}`);
    } else if (at === vault && log.topics.length > 1) out.loans.add(BigInt(log.topics[1])); // loanId, indexed first
  }
  w.logs = [];
  return out;
}

/**
 * A balance is read again when the chain moved it (a `Transfer` from or to it), when the model moved it, or when no
 * check has read it yet in this sequence; otherwise it is the value the last read found equal to the model, and the
 * end of the sequence reads every one (`checkEverything`).
 */
async function balance(
  view: View,
  who: string,
  model: bigint,
  verified: Map<string, bigint>,
  movedBy: Set<string> | null,
): Promise<bigint> {
  const seen = verified.get(who);
  if (movedBy !== null && seen !== undefined && seen === model && !movedBy.has(who.toLowerCase()))
    return seen;
  const b = await view.uint();
  verified.set(who, b);
  return b;
}

/**
 * (7) every field of `stateOf(id)` equals the model. A loan's raw result is kept with the model's fields it was found
 * equal to: when neither moved since, the loan still matches without decoding it again.
 */
async function checkLoanState(w: World, m: LoanModel, label: string, read: boolean) {
  const seen = w.verifiedStates.get(m.id);
  const unmoved = seen !== undefined && STATE_FIELDS.every((f, i) => m.s[f] === seen.fields[i]);
  // Neither the model nor (by its events) the chain moved the loan since a check found them equal.
  if (unmoved && !read) return;
  const raw = await new View(w.s.fx.loanVault, w.s.addr.loanVault, "stateOf", [m.id], true).raw();
  if (unmoved && seen.raw === raw) return;
  const [state] = w.s.fx.loanVault.interface.decodeFunctionResult("stateOf", raw);
  for (const field of STATE_FIELDS) eq(state[field], m.s[field], `${label} loan ${m.id} ${field}`);
  w.verifiedStates.set(m.id, { raw, fields: STATE_FIELDS.map((f) => m.s[f]) });
}

async function checkFull(w: World, cmd: After): Promise<void> {
  const label = `after ${cmd.toString()}`;
  const { fx, addr } = w.s;
  const { loanVault, receipts } = fx;
  const v = views(w.s);
  const now = w.now;
  eq(await latest(), now, `${label}: clock`);
  const m = w.staked;
  counters.fullChecks++;

  relabel("inv.aggregates(7)");
  // (7) loanAssets() and the aggregates are the model's sums over loans, to the wei; each loan's state by field.
  const { agg, loanAssets } = await checkAggregates(w, label);
  relabel("inv.loanStates(7)");
  const chain = moved(w);
  for (const l of w.loans) {
    await checkLoanState(w, l.m, label, w.touched.has(l.m.id) || chain.loans.has(l.m.id));
    // An Active loan always has a next payment (the one settling the last installment repays it): the vault's
    // default and late-fee arithmetic relies on it.
    if (l.m.s.status === Status.Active && l.m.s.nextPaymentIndex > l.m.s.schedulePayments) {
      expect(l.m.s.nextPaymentIndex, `${label}: loan ${l.m.id} next payment`).to.be.lessThanOrEqual(
        l.m.s.schedulePayments,
      );
    }
  }

  relabel("inv.susdai");
  const supply = await v.supply.uint();
  const idle = await v.idle.uint();
  const ta = await v.totalAssets.uint();
  const unvested = await v.unvested.uint();
  const pending = await v.pending.uint();
  const claimable = await v.claimable.uint();
  const losses = await v.losses.uint();
  const boundsRaw = await v.bounds.raw();
  // (1) below reads every holder's shares; sUSDai's own balance is the custody of queued shares.
  relabel("inv.shares(1)");
  const balances: bigint[] = [];
  for (const [i, view] of v.shares.entries())
    balances.push(
      await balance(view, v.holders[i], m.shares.of(v.holders[i]), w.verifiedShares, chain.shares),
    );
  const custody = balances[v.holders.indexOf(addr.susdai)];
  relabel("inv.susdai");
  deepEq(
    {
      supply,
      idle,
      ta,
      unvested,
      pending,
      claimable,
      losses,
      head: word(boundsRaw, 0),
      tail: word(boundsRaw, 1),
      custody,
    },
    {
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
    },
    `${label}: sUSDai`,
  );
  await checkCapBase(w, label, ta);

  relabel("inv.shares(1)");
  // (1) sum of balances, including the shares queued in custody, is the total supply.
  let sum = 0n;
  balances.forEach((b, i) => {
    eq(b, m.shares.of(v.holders[i]), `${label}: shares of ${v.holders[i]}`);
    sum += b;
  });
  eq(sum, supply, `${label}: sum of share balances`);

  relabel("inv.usdaiBalances");
  // USDai: every tracked balance and the supply match; reserves back the supply.
  const usdaiBalances: bigint[] = [];
  for (const [i, view] of v.usdai.entries()) {
    const who = w.s.tracked[i];
    usdaiBalances.push(await balance(view, who, w.usdai.of(who), w.verifiedUsdai, chain.usdai));
  }
  usdaiBalances.forEach((b, i) => eq(b, w.usdai.of(w.s.tracked[i]), `${label}: USDai of ${w.s.tracked[i]}`));
  const usdaiSupply = await v.usdaiSupply.uint();
  const reserves = await v.reserves.uint();
  eq(usdaiSupply, w.usdai.supply, `${label}: USDai supply`);
  if (reserves * 10n ** 12n < usdaiSupply)
    expect(reserves * 10n ** 12n, `${label}: reserves back USDai`).to.be.greaterThanOrEqual(usdaiSupply);

  relabel("inv.solvency(2)");
  // (2) solvency: sUSDai holds idle plus what serviced redemptions are owed; the vault holds every lockbox and
  // reserve; NAV claims no more than idle plus loan assets; borrowed never exceeds supplied.
  const heldUsdai = usdaiBalances[w.s.tracked.indexOf(addr.susdai)];
  const vaultUsdai = usdaiBalances[w.s.tracked.indexOf(addr.loanVault)];
  eq(heldUsdai, idle + claimable + w.untracked, `${label}: sUSDai USDai`);
  let cash = 0n;
  let debts = 0n;
  for (const l of w.loans) {
    const st = l.m.s.status;
    if (st === Status.Active || st === Status.Repaid || st === Status.Defaulted || st === Status.Liquidating)
      cash += l.m.s.lockbox + l.m.s.reserve;
    if (st === Status.Active) debts += l.m.s.principal + l.m.interestNow(now);
    if (st === Status.Defaulted || st === Status.Liquidating) debts += l.m.s.impairedValue;
  }
  eq(vaultUsdai, cash, `${label}: LoanVault USDai = lockboxes + reserves`);
  if (ta > idle + loanAssets)
    expect(ta, `${label}: NAV <= idle + loan assets`).to.be.lessThanOrEqual(idle + loanAssets);
  if (loanAssets > debts) expect(loanAssets, `${label}: loan assets <= debts`).to.be.lessThanOrEqual(debts);
  // the aggregates read above, at this same block
  if (w.ghost.funded > w.ghost.inflow)
    expect(w.ghost.funded, `${label}: funded <= USDai that ever entered sUSDai`).to.be.lessThanOrEqual(
      w.ghost.inflow,
    );
  if ((agg.totalPrincipal as bigint) > w.ghost.funded - w.ghost.principalBack)
    expect(agg.totalPrincipal, `${label}: borrowed <= funded - repaid`).to.be.lessThanOrEqual(
      w.ghost.funded - w.ghost.principalBack,
    );

  relabel("inv.pledged(3)");
  // (3) pledged receipts: every open loan's receipts are in the vault, each backs exactly one loan.
  const pledged = new Map<bigint, bigint>();
  for (const l of w.loans) {
    if (!PLEDGED.has(l.m.s.status)) continue;
    for (const rid of l.receipts) {
      if (pledged.has(rid))
        expect(pledged.has(rid), `${label}: receipt ${rid} backs two loans`).to.equal(false);
      pledged.set(rid, l.m.id);
    }
  }
  eq(await v.inVault.uint(), BigInt(pledged.size), `${label}: receipts in the vault`);
  const auctioned = w.loans
    .filter((l) => l.m.s.status === Status.Liquidating)
    .reduce((s, l) => s + l.receipts.length, 0);
  eq(await v.inAuction.uint(), BigInt(auctioned), `${label}: receipts at auction`);
  // #24.3: a lot in a live auction is carried at no more than what a buyer pays for it now plus the loan's cash, so
  // no exit is serviced at a price above what the book can fetch (the model's curve is checked against the chain's)
  for (const a of w.auctions) {
    if (a.status !== AuctionStatus.Live || now > a.startedAt + a.curve.duration) continue;
    const s = w.loans[Number(a.loanId) - 1].m.s;
    const bound = auctionPrice(a, now) + s.lockbox + s.reserve;
    if (s.impairedValue > bound)
      expect(
        s.impairedValue,
        `${label}: lot ${a.loanId} carried above its live price plus cash`,
      ).to.be.lessThanOrEqual(bound);
  }
  relabel("inv.touchedViews");
  for (const loanId of w.touched) {
    const l = w.loans[Number(loanId) - 1];
    if (!l) continue;
    for (const rid of l.receipts)
      eq(
        await new View(receipts, addr.receipts, "ownerOf", [rid], true).address(),
        w.receipts.get(rid)!.owner,
        `${label}: owner of receipt ${rid}`,
      );
    const [ids] = await new View(loanVault, addr.loanVault, "receiptsOf", [loanId], true).decode();
    deepEq([...(ids as bigint[])], l.receipts, `${label}: receiptsOf(${loanId})`);
    // Views of the touched loan, at this block.
    const view = (fn: string) => new View(loanVault, addr.loanVault, fn, [loanId]);
    const debt = await view("debtOf").uint();
    const good = (await view("inGoodStanding").uint()) !== 0n;
    const defaultable = await view("defaultableAt").uint();
    const nextRaw = await view("nextPayment").raw();
    const collateral = await view("collateralValueOf").uint();
    deepEq(
      { debt, good, defaultable, next: [word(nextRaw, 0), word(nextRaw, 1)], collateral },
      {
        debt: l.m.debtOf(now),
        good: l.m.inGoodStanding(now),
        defaultable: l.m.defaultableAt(),
        next: l.m.nextPayment(now),
        collateral: w.collateral(l.receipts, now),
      },
      `${label}: views of loan ${loanId}`,
    );
  }

  relabel("inv.oracle(10)");
  // (10) the oracle's view of the touched loans: observation, open report day, pending push and streaks.
  for (const loanId of w.touched) {
    const o = w.oracle.get(loanId);
    if (!o) continue;
    const view = (fn: string, args: unknown[] = [loanId]) => new View(fx.oracle, addr.oracle, fn, args);
    const obs = await view("latestUtilization").raw();
    const open = await view("openReportDay").raw();
    const [pendingPush] = await view("pendingPush").decode();
    const streaks: bigint[][] = [];
    for (let i = 0; i < RULES.length; i++) {
      const raw = await view("streakOf", [loanId, i]).raw();
      streaks.push([word(raw, 0), word(raw, 1)]);
    }
    deepEq(
      {
        obs: [0, 1, 2, 3].map((i) => word(obs, i)),
        open: [0, 1, 2].map((i) => word(open, i)),
        push: [
          pendingPush.stepId,
          pendingPush.deltaBps,
          pendingPush.topUpRequired,
          pendingPush.flags,
          pendingPush.stepPending,
          pendingPush.flagsPending,
        ],
        streaks,
      },
      {
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
      },
      `${label}: oracle loan ${loanId}`,
    );
    // One firing per streak: consecutive firings of a rule are a full window apart.
    RULES.forEach((rule, i) => {
      const days = o.firedDays[i];
      for (let k = 1; k < days.length; k++)
        if (days[k] - days[k - 1] < rule.windowDays)
          expect(days[k] - days[k - 1]).to.be.greaterThanOrEqual(rule.windowDays);
    });
  }

  relabel("inv.maxViews(11)");
  // (11) max views never revert for any lender.
  const lender = lenderOf(w, Number(now % 4n));
  const maxDeposit = await new View(fx.susdai, addr.susdai, "maxDeposit", [lender.address], true).uint();
  const maxMint = await new View(fx.susdai, addr.susdai, "maxMint", [lender.address]).uint();
  eq(maxDeposit, 2n ** 128n - 1n - idle, `${label}: maxDeposit`);
  eq(maxMint, w.staked.previewDeposit(w.entryNav(now), maxDeposit), `${label}: maxMint`);

  relabel("inv.price(4)");
  checkPrice(w, cmd, label, ta, supply);
  w.touched.clear();
}

/**
 * Between full checks: the clock, (7) the loan aggregates and `loanAssets()` (as `checkAggregates` checks them),
 * sUSDai's supply, total assets and caps' base against the model, and (4) the share price.
 */
async function checkStep(w: World, cmd: After, label: string): Promise<void> {
  relabel("inv.step");
  counters.stepChecks++;
  const v = views(w.s);
  const now = w.now;
  eq(await latest(), now, `${label}: clock`);
  const { loanAssets } = await checkAggregates(w, label);
  const supply = await v.supply.uint();
  const ta = await v.totalAssets.uint();
  eq(supply, w.staked.supply, `${label}: sUSDai supply`);
  eq(ta, w.staked.totalAssets(now, loanAssets), `${label}: sUSDai totalAssets`);
  await checkCapBase(w, label, ta);
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

/**
 * End of a sequence: what the checks after each command read only when moved (every loan's state, every tracked USDai
 * and sUSDai balance) is read again, whatever moved.
 */
export async function checkEverything(w: World): Promise<void> {
  const v = views(w.s);
  const label = "at the end of the sequence";
  for (const l of w.loans) await checkLoanState(w, l.m, label, true);
  for (const [i, view] of v.shares.entries()) {
    const who = v.holders[i];
    eq(
      await balance(view, who, 0n, w.verifiedShares, null),
      w.staked.shares.of(who),
      `${label}: shares of ${who}`,
    );
  }
  for (const [i, view] of v.usdai.entries()) {
    const who = w.s.tracked[i];
    eq(await balance(view, who, 0n, w.verifiedUsdai, null), w.usdai.of(who), `${label}: USDai of ${who}`);
  }
}

/** End of a sequence: every receipt's owner and serial registry entry. */
export async function checkReceipts(w: World): Promise<void> {
  const { receipts } = w.s.fx;
  const at = w.s.addr.receipts;
  for (const r of w.receipts.values()) {
    eq(await new View(receipts, at, "ownerOf", [r.id], true).address(), r.owner, `owner of receipt ${r.id}`);
    const serial = r.serials[Number(r.id) % 8];
    eq(
      await new View(receipts, at, "receiptOfSerial", [serial], true).uint(),
      r.id,
      `serial of receipt ${r.id}`,
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

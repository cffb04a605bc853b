import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { AuctionStatus, auctionPrice, fail, settle, Status, type AuctionRecord } from "../../protocol-model";
import { World, lenderOf } from "../world";
import { act, eventArgs, type Params } from "../execution";
import { RawTx } from "../rpc";

/**
 * Handlers of the auction side: buying a lot (the liquidator, and buyers the auction or the vault must refuse) and
 * expiring an unsold auction, with the settlement model both share.
 */

/** Settles `a`'s loan for `proceeds` (`onAuctionSettled`): debt first, late fees next, surplus to the borrower. */
export function settleModel(w: World, a: AuctionRecord, t: bigint, proceeds: bigint, to: string) {
  const rec = w.loans[Number(a.loanId) - 1];
  const s = rec.m.s;
  const out = settle(
    proceeds,
    { principal: s.principal, interest: s.interest, lateFees: s.lateFees },
    s.impairedValue,
    s.lockbox,
    s.reserve,
  );
  const debt = s.principal + s.interest;
  // (8) a sale never leaves more bad debt than writing the loan off with its cash would.
  expect(out.loss, "auction loss <= debt - lockbox - reserve").to.be.lessThanOrEqual(
    debt - (debt < s.lockbox + s.reserve ? debt : s.lockbox + s.reserve),
  );
  const vault = w.s.addr.loanVault;
  if (proceeds !== 0n) w.usdai.move(to, vault, proceeds);
  w.ghost.inflow += out.booked + out.gain;
  if (out.booked !== 0n) {
    w.usdai.move(vault, w.s.addr.susdai, out.booked);
    w.staked.idle += out.booked;
    w.ghost.principalBack += out.booked < s.principal ? out.booked : s.principal;
  }
  if (out.gain !== 0n) {
    w.usdai.move(vault, w.s.addr.susdai, out.gain);
    if (!w.staked.gain(t, out.gain)) w.untracked += out.gain;
  }
  w.staked.cumulativeLosses += out.loss;
  if (out.surplus !== 0n) w.usdai.move(vault, rec.borrower, out.surplus);
  // the vault clears the settled loan's accrual and schedule slots whole
  Object.assign(s, {
    principal: 0n,
    interest: 0n,
    accruedAt: 0n,
    couponBps: 0n,
    nextPaymentIndex: 0n,
    lateFees: 0n,
    lockbox: 0n,
    reserve: 0n,
    schedulePrincipal: 0n,
    scheduleStart: 0n,
    schedulePayments: 0n,
    impairedValue: 0n,
  });
  s.status = proceeds === 0n ? Status.WrittenOff : Status.Recovered;
  for (const rid of rec.receipts) w.receipts.get(rid)!.owner = to;
  w.touched.add(a.loanId);
  return out;
}

export function auctionOf(w: World, idx: number): { a?: AuctionRecord; auctionId: bigint } {
  const live = w.auctions.findIndex((x) => x.status === AuctionStatus.Live);
  const i = live >= 0 && idx % 4 !== 3 ? live : idx;
  const a = w.auctions.length === 0 ? undefined : w.auctions[i % w.auctions.length];
  // With no auction yet, aim at an id no loan has (auction ids are loan ids).
  return { a, auctionId: a?.id ?? 10_000n + BigInt(idx) };
}

export async function buy(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const { a, auctionId } = auctionOf(w, p.auction as number);
  const buyerKind = p.buyer as string;
  // "borrower": the loan's own borrower, a RECEIPT_HOLDER that the vault refuses as the buyer of its own lot.
  const buyers: Record<string, () => string> = {
    attacker: () => w.s.attackerAddress,
    lender: () => lenderOf(w, 0).address,
    borrower: () => (a ? w.loans[Number(a.loanId) - 1].borrower : w.s.borrowers[0].address),
    liquidator: () => fx.actors.liquidator.address,
  };
  const buyer = buyers[buyerKind]();
  const live = a !== undefined && a.status === AuctionStatus.Live;
  const endsAt = a ? a.startedAt + a.curve.duration : 0n;
  const price = live && t <= endsAt ? auctionPrice(a!, t) : 0n;
  const maxPrice = p.max === "low" ? price - 1n : p.max === "max" ? MaxUint256 : price;
  const data = fx.auction.interface.encodeFunctionData("buy", [auctionId, maxPrice < 0n ? 0n : maxPrice]);
  await act(
    w,
    "auction.buy",
    t,
    () => {
      if (!live) fail("auction", "AuctionBadStatus", auctionId, a?.status ?? AuctionStatus.None);
      if (t > endsAt) fail("auction", "AuctionEnded", auctionId, endsAt);
      if (buyerKind !== "liquidator" && buyerKind !== "borrower")
        fail("auction", "AuctionBuyerNotAllowed", buyer);
      if (price > maxPrice) fail("auction", "AuctionPriceAboveMax", price, maxPrice);
      w.usdai.require(buyer, price);
      if (buyerKind === "borrower") fail("loanVault", "LoanVaultBuyerIsBorrower", a!.loanId, buyer);
      return (receipt) => {
        const [bought] = eventArgs(w, receipt, "auction", "AuctionBought");
        expect(bought.price, "auction price").to.equal(price);
        a!.status = AuctionStatus.Sold;
        settleModel(w, a!, t, price, buyer);
      };
    },
    () =>
      buyerKind === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.auction, data)
        : new RawTx(buyer, w.s.addr.auction, data),
  );
}

export async function expire(w: World, p: Params, t: bigint) {
  const { a, auctionId } = auctionOf(w, p.auction as number);
  await act(
    w,
    "auction.expire",
    t,
    () => {
      if (!a || a.status !== AuctionStatus.Live)
        fail("auction", "AuctionBadStatus", auctionId, a?.status ?? AuctionStatus.None);
      const endsAt = a!.startedAt + a!.curve.duration;
      if (t <= endsAt) fail("auction", "AuctionNotEnded", auctionId, endsAt);
      return () => {
        a!.status = AuctionStatus.Expired;
        settleModel(w, a!, t, 0n, w.s.addr.custodian);
      };
    },
    () => w.s.fx.auction.connect(lenderOf(w, 3)).expire(auctionId),
  );
}

import hre from "hardhat";
import { MaxUint256, ZeroAddress } from "ethers";
import { LoanModel } from "../../../helpers/loan-model";
import { usd } from "../../../../helpers/units";
import { BPS, ceilDiv, collateralOf, fail, PLEDGED, Status, type LoanRecord } from "../../protocol-model";
import { World, lenderOf, aim } from "../world";
import { lv, act, type Params } from "../execution";
import { RawTx } from "../rpc";
import { sweep } from "./keeper";
import { checkCaps } from "./admin";

/**
 * Handlers of the borrowers (GPU operators): drawing approved loans against receipts, repaying (also a lender on
 * their behalf), depositing revenue, releasing excess and topping up collateral.
 */

/** `_pledgeValue`: count, site and value of each receipt, in order. */
export function pledgeValue(w: World, t: bigint, site: string, ids: bigint[], existing: number): bigint {
  if (ids.length === 0 || existing + ids.length > 64)
    fail("loanVault", "LoanVaultReceiptCount", BigInt(existing + ids.length), 64n);
  let value = 0n;
  for (const rid of ids) {
    const r = w.receipts.get(rid)!;
    if (r.site !== site) fail("loanVault", "LoanVaultWrongSite", rid, r.site, site);
    const v = collateralOf(r, t);
    if (v === 0n) fail("loanVault", "LoanVaultWorthlessReceipt", rid);
    value += v;
  }
  return value;
}

/** `transferFrom(from, vault, id)` by the vault: the owner must be `from` (the vault is approved for all). */
export function pullReceipts(w: World, from: string, ids: bigint[]) {
  for (const rid of ids) {
    const owner = w.receipts.get(rid)!.owner;
    if (owner === w.s.addr.loanVault) fail("receipts", "ERC721IncorrectOwner", from, rid, owner);
    if (owner !== from) fail("receipts", "ERC721InsufficientApproval", w.s.addr.loanVault, rid);
  }
}

/** Receipts a borrow or top-up pledges, by variant. */
export function pickReceipts(
  w: World,
  rec: LoanRecord,
  variant: string,
  principal: bigint,
  t: bigint,
): bigint[] {
  const free = w.freeReceipts(rec.borrower, rec.site);
  if (variant === "none") return [];
  if (variant === "wrongSite") {
    const other = w.freeReceipts(rec.borrower).find((r) => r.site !== rec.site);
    if (other) return [other.id];
  }
  if (variant === "pledged") {
    const pledged = [...w.receipts.values()].find(
      (r) => r.owner === w.s.addr.loanVault && r.site === rec.site,
    );
    if (pledged) return [pledged.id];
  }
  if (variant === "one") return free.slice(0, 1).map((r) => r.id);
  // "fit": the fewest free receipts that carry the principal at the origination LTV.
  const picked: bigint[] = [];
  let value = 0n;
  for (const r of free) {
    if ((value * rec.m.t.maxLtvBps) / BPS >= principal && picked.length > 0) break;
    picked.push(r.id);
    value += collateralOf(r, t);
  }
  return picked;
}

export async function borrow(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const variant = p.variant as string;
  const ids = rec ? pickReceipts(w, rec, variant, rec.m.t.principal, t) : [1n];
  const caller = variant === "attacker" || !rec ? w.s.attackerAddress : rec.borrower;
  const data = fx.loanVault.interface.encodeFunctionData("borrow", [loanId, ids]);
  await act(
    w,
    "loanVault.borrow",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const m = rec!.m;
      if (m.s.status !== Status.Approved) fail("loanVault", "LoanVaultBadStatus", loanId, m.s.status);
      if (caller !== rec!.borrower) fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      if (t > rec!.approvalExpiry) fail("loanVault", "LoanVaultApprovalExpired", loanId, rec!.approvalExpiry);
      const value = pledgeValue(w, t, rec!.site, ids, 0);
      if (m.t.principal > (value * m.t.maxLtvBps) / BPS)
        fail("loanVault", "LoanVaultLtvExceeded", m.t.principal, value, m.t.maxLtvBps);
      checkCaps(w, t, rec!.borrower, rec!.site, m.t.principal);
      const available = w.staked.lendable(w.nav(t));
      if (m.t.principal > available) fail("susdai", "StakedUSDaiInsufficientIdle", m.t.principal, available);
      pullReceipts(w, rec!.borrower, ids);
      return () => {
        m.borrow(t);
        rec!.receipts = ids;
        rec!.drawn = m.t.principal;
        w.staked.fund(m.t.principal);
        w.usdai.move(w.s.addr.susdai, rec!.borrower, m.t.principal);
        w.ghost.funded += m.t.principal;
        for (const rid of ids) w.receipts.get(rid)!.owner = w.s.addr.loanVault;
        w.touched.add(loanId);
      };
    },
    () =>
      caller === w.s.attackerAddress
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : new RawTx(caller, w.s.addr.loanVault, data),
  );
}

/** A payer for the loan: its borrower, or a lender paying on its behalf. */
export async function payerOf(w: World, rec: LoanRecord | undefined, lender: boolean) {
  return lender || !rec ? lenderOf(w, 1) : await hre.ethers.getSigner(rec.borrower);
}

export async function repay(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const payer = await payerOf(w, rec, p.lender as boolean);
  const mode = p.mode as string;
  const m = rec?.m;
  let amount: bigint;
  if (mode === "max") amount = MaxUint256;
  else if (mode === "zero") amount = 0n;
  else if (!m || !m.active) amount = 1n;
  else if (mode === "quote") amount = m.nextPayment(t)[1] || 1n;
  // above the debt: within the interest to the next due date it is a payoff taking only the debt; far above, refused
  else if (mode === "over") amount = (p.bps as number) % 2 === 1 ? m.owed(t) + 1n : 2n * m.owed(t) + 1n;
  else amount = ceilDiv(m.owed(t) * BigInt(p.bps as number), 10_000n);
  await act(
    w,
    "loanVault.repay",
    t,
    () => {
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      if (!m) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = m!.clone();
      const owedBefore = m!.active ? m!.owed(t) : 0n;
      const a = lv(() => probe.repay(t, amount === MaxUint256 ? "max" : amount));
      const paid = amount === MaxUint256 || amount >= owedBefore ? owedBefore : amount;
      w.usdai.require(payer.address, paid);
      return () => {
        m!.s = probe.s;
        w.usdai.move(payer.address, w.s.addr.loanVault, paid);
        w.payStaked(t, a);
        rec!.netPaid += paid;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(payer).repay(loanId, amount),
  );
}

export async function revenue(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const payer = await payerOf(w, rec, false);
  const amount = p.zero ? 0n : usd(p.usd as number);
  await act(
    w,
    "loanVault.depositRevenue",
    t,
    () => {
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      lv(() => probe.depositRevenue(amount));
      w.usdai.require(payer.address, amount);
      return () => {
        rec!.m.s = probe.s;
        w.usdai.move(payer.address, w.s.addr.loanVault, amount);
        rec!.netPaid += amount;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(payer).depositRevenue(loanId, amount),
  );
  if (p.sweep) await sweep(w, p, w.now + 1n);
}

export async function releaseExcess(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const idx = p.aim
    ? aim(w, p.loan as number, (l) => l.m.s.lockbox + l.m.s.reserve !== 0n && PLEDGED.has(l.m.s.status))
    : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  const viaAttacker = (p.attacker as boolean) || !rec;
  const caller = viaAttacker ? w.s.attackerAddress : rec!.borrower;
  let available = 0n;
  if (rec) {
    const probe = rec.m.clone();
    try {
      if (probe.active) probe.sweep(t);
    } catch {
      // a bad status: the release reverts on it below
    }
    available = probe.s.lockbox;
  }
  const mode = p.mode as string;
  const amount =
    mode === "all" ? available : mode === "half" ? available / 2n : mode === "over" ? available + 1n : 0n;
  const data = fx.loanVault.interface.encodeFunctionData("releaseExcess", [loanId, caller, amount]);
  await act(
    w,
    "loanVault.releaseExcess",
    t,
    () => {
      if (caller !== (rec?.borrower ?? ZeroAddress))
        fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      const probe = rec!.m.clone();
      const a = lv(() => probe.releaseExcess(t, amount));
      return () => {
        rec!.m.s = probe.s;
        w.payStaked(t, a);
        w.usdai.move(w.s.addr.loanVault, rec!.borrower, amount);
        rec!.netPaid -= amount;
        w.touched.add(loanId);
      };
    },
    () =>
      viaAttacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : new RawTx(caller, w.s.addr.loanVault, data),
  );
}

export async function topUp(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const variant = p.variant as string;
  const ids = rec ? pickReceipts(w, rec, variant === "ok" ? "one" : variant, 0n, t) : [1n];
  const viaAttacker = variant === "attacker" || !rec;
  const caller = viaAttacker ? w.s.attackerAddress : rec!.borrower;
  const data = fx.loanVault.interface.encodeFunctionData("topUp", [loanId, ids]);
  await act(
    w,
    "loanVault.topUp",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const m = rec!.m;
      if (m.s.status !== Status.Active) fail("loanVault", "LoanVaultBadStatus", loanId, m.s.status);
      if (caller !== rec!.borrower) fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      pledgeValue(w, t, rec!.site, ids, rec!.receipts.length);
      const all = [...rec!.receipts, ...ids];
      const probe = new LoanModel(m.id, m.t, (now) => w.collateral(all, now));
      probe.s = { ...m.s };
      probe.topUp(t, w.s.haircutBps);
      pullReceipts(w, rec!.borrower, ids);
      return () => {
        m.s = probe.s;
        rec!.receipts = all;
        for (const rid of ids) w.receipts.get(rid)!.owner = w.s.addr.loanVault;
        w.touched.add(loanId);
      };
    },
    () =>
      viaAttacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : new RawTx(caller, w.s.addr.loanVault, data),
  );
}

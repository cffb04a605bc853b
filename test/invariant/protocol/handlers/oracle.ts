import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { signReport, toSubmission, type Report, type SignedReport } from "../../../../helpers/reports";
import { Roles } from "../../../../helpers/roles";
import { fail, medianDown, OracleLoan, UPTIME_UNKNOWN, type LoanRecord } from "../../protocol-model";
import { CONFIGURED_LOANS, ORACLE_STALENESS, RULES } from "../setup";
import { World, lenderOf } from "../world";
import { act, environment, unauthorized, type Params } from "../execution";

/**
 * Handlers of the utilization oracle: reporters' signed reports, the keeper's feed pokes (with the feeds publishing
 * first) and pushes of coupon steps and covenant flags into the vault.
 */

export const today = (t: bigint) => t / 86_400n;

/**
 * The loan an oracle command reads for: with `aim`, an active loan (for a push, one with something pending), else any
 * id in 1..CONFIGURED_LOANS + 1 (the last is not configured).
 */
export function oracleLoanId(
  w: World,
  p: Params,
  pick: (l: LoanRecord) => boolean = (l) => l.m.active,
): bigint {
  const fallback = BigInt(1 + ((p.loan as number) % (CONFIGURED_LOANS + 1)));
  if (!p.aim) return fallback;
  const found = w.loans.filter((l) => l.m.id <= BigInt(CONFIGURED_LOANS) && pick(l));
  return found.length === 0 ? fallback : found[(p.loan as number) % found.length].m.id;
}

/** `submitReport`'s checks in the contract's order, over the final (sorted or not) arrays. */
export function predictReports(
  w: World,
  t: bigint,
  reports: Report[],
  signers: (string | null)[],
): OracleLoan {
  const count = reports.length;
  if (count === 0 || count > 8)
    fail("oracle", "UtilizationOracleInvalidReportCount", BigInt(count), BigInt(count));
  const loanId = reports[0].loanId;
  const o = w.oracle.get(loanId);
  if (!o) fail("oracle", "UtilizationOracleLoanNotConfigured", loanId);
  const day = BigInt(reports[0].day);
  if (day <= o!.lastDay) fail("oracle", "UtilizationOracleDayNotAfterLast", loanId, day, o!.lastDay);
  if (day > today(t)) fail("oracle", "UtilizationOracleFutureDay", loanId, day, today(t));
  if ((day + 1n) * 86_400n + o!.maxStaleness < t)
    fail("oracle", "UtilizationOracleStaleReport", loanId, day, o!.maxStaleness);
  if (BigInt(count) < o!.quorum)
    fail("oracle", "UtilizationOracleQuorumNotMet", loanId, BigInt(count), o!.quorum);
  let previous = ZeroAddress;
  reports.forEach((r, i) => {
    if (r.loanId !== loanId || BigInt(r.day) !== day)
      fail("oracle", "UtilizationOracleReportMismatch", BigInt(i));
    if (r.deadline < t) fail("oracle", "UtilizationOracleReportExpired", BigInt(i), r.deadline);
    if (r.utilizationBps > 10_000 || r.uptimeBps > 10_000)
      fail("oracle", "UtilizationOracleReadingOutOfRange", BigInt(i), r.utilizationBps, r.uptimeBps);
    const signer = signers[i];
    if (signer === null) fail("oracle", "UtilizationOracleInvalidSignature", BigInt(i));
    if (BigInt(signer!) <= BigInt(previous))
      fail("oracle", "UtilizationOracleSignersNotAscending", BigInt(i), signer, previous);
    if (!o!.reporters.includes(signer!))
      fail("oracle", "UtilizationOracleUnauthorizedSigner", loanId, signer);
    previous = signer!;
  });
  const probe = o!.clone();
  const rec = w.loans[Number(loanId) - 1];
  probe.record(
    RULES,
    t,
    day,
    medianDown(reports.map((r) => BigInt(r.utilizationBps))),
    medianDown(reports.map((r) => BigInt(r.uptimeBps))),
    rec?.slaUptimeBps ?? 0n,
  );
  return probe;
}

export async function submitReport(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const loanId = oracleLoanId(w, p);
  const variant = p.variant as string;
  const o = w.oracle.get(loanId);
  const reporters = [fx.actors.reporter1, fx.actors.reporter2, fx.actors.reporter3];
  const n = variant === "short" ? 1 : (p.signers as number);
  let day = Number(today(t));
  if (variant === "old") day -= 3;
  if (variant === "replay") day = Number(o?.lastDay ?? 0n);
  if (variant === "future") day += 1;
  const utils = p.utils as number[];
  const ups = p.uptimes as number[];
  const entries = reporters.slice(0, n).map((signer, i) => ({
    signer: variant === "badSigner" && i === 0 ? fx.actors.attacker : signer,
    report: {
      loanId,
      utilizationBps: variant === "range" && i === 0 ? 10_001 : utils[i],
      uptimeBps: ups[i],
      day,
      deadline: variant === "expired" && i === n - 1 ? t - 1n : t + 3_600n,
    } as Report,
  }));
  const signed: SignedReport[] = await Promise.all(
    entries.map((e) => signReport(e.signer, fx.oracle, e.report)),
  );
  // `toSubmission` orders the reports by signer, as `submitReport` requires; "unsorted" reverses that order.
  const { reports, signatures } = toSubmission(signed);
  const signers: (string | null)[] = signed
    .map((x) => x.signer)
    .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  if (variant === "unsorted") [reports, signatures, signers].forEach((list) => list.reverse());
  if (variant === "corrupt") {
    signatures[0] = signatures[0].slice(0, 130);
    signers[0] = null;
  }
  await act(
    w,
    "oracle.submitReport",
    t,
    () => {
      const probe = predictReports(w, t, reports, signers);
      return () => {
        w.oracle.set(loanId, probe);
        w.touched.add(loanId);
      };
    },
    () => fx.oracle.connect(lenderOf(w, 2)).submitReport(reports, signatures),
  );
}

export async function poke(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const loanId = oracleLoanId(w, p);
  const variant = p.variant as string;
  const utils = p.utils as number[];
  // The environment: the feeds publish (or not) before the keeper pokes.
  let at = t;
  if (variant !== "same" && variant !== "attacker") {
    const tPoke = t + BigInt(w.s.feeds.length);
    for (const [i, feed] of w.s.feeds.entries()) {
      const f = w.feeds[i];
      const scale = 10n ** f.decimals;
      const stale = variant === "stale" || (variant === "oneStale" && i === 1);
      const next = {
        roundId: f.roundId + 1n,
        answer: variant === "above" && i === 0 ? scale + 1n : (BigInt(utils[i]) * scale) / 10_000n,
        updatedAt:
          variant === "future" && i === 0
            ? tPoke + 100n
            : stale
              ? tPoke - ORACLE_STALENESS - 1n
              : tPoke - 60n,
      };
      await environment(w, at, () => feed.setRound(next.roundId, next.answer, next.updatedAt));
      Object.assign(f, next);
      at += 1n;
    }
  }
  const caller = variant === "attacker" ? w.s.attackerAddress : fx.actors.keeper.address;
  const data = fx.oracle.interface.encodeFunctionData("poke", [loanId]);
  await act(
    w,
    "oracle.poke",
    at,
    () => {
      if (variant === "attacker") unauthorized("oracle", caller, Roles.KEEPER);
      const o = w.oracle.get(loanId);
      if (!o) fail("oracle", "UtilizationOracleLoanNotConfigured", loanId);
      const day = today(at);
      if (day <= o!.lastDay) fail("oracle", "UtilizationOracleDayNotAfterLast", loanId, day, o!.lastDay);
      const good: bigint[] = [];
      const rounds = new Map<string, bigint>();
      for (const f of w.feeds) {
        const scale = 10n ** f.decimals;
        if (f.answer <= 0n || f.answer > scale || f.updatedAt > at || at - f.updatedAt > o!.maxStaleness)
          continue;
        if (f.roundId <= (o!.lastRound.get(f.address) ?? 0n)) continue;
        good.push((f.answer * 10_000n) / scale);
        rounds.set(f.address, f.roundId);
      }
      if (BigInt(good.length) < o!.quorum)
        fail("oracle", "UtilizationOracleQuorumNotMet", loanId, BigInt(good.length), o!.quorum);
      const probe = o!.clone();
      for (const [feed, round] of rounds) probe.lastRound.set(feed, round);
      probe.record(RULES, at, day, medianDown(good), UPTIME_UNKNOWN, 0n);
      return () => {
        w.oracle.set(loanId, probe);
        w.touched.add(loanId);
      };
    },
    () =>
      variant === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.oracle, data)
        : fx.oracle.connect(fx.actors.keeper).poke(loanId),
  );
}

export async function push(w: World, p: Params, t: bigint) {
  const loanId = oracleLoanId(w, p, (l) => {
    const o = w.oracle.get(l.m.id)!;
    return l.m.active && (o.stepPending || o.flagsPending);
  });
  const couponBefore = await w.s.fx.loanVault.couponOf(loanId);
  await act(
    w,
    "oracle.push",
    t,
    () => {
      const o = w.oracle.get(loanId);
      if (!o || (!o.stepPending && !o.flagsPending)) fail("oracle", "UtilizationOracleNothingToPush", loanId);
      const rec = w.loans[Number(loanId) - 1];
      if (!rec || !rec.m.active) fail("oracle", "UtilizationOracleLoanNotPerforming", loanId);
      const probe = rec.m.clone();
      const delta = o!.pendingDeltaBps;
      if (o!.stepPending) probe.applyCouponStep(t, o!.lastStepId, delta, o!.pendingTopUp);
      if (o!.flagsPending) probe.setCovenantBreach(o!.flags);
      return async () => {
        rec.m.s = probe.s;
        Object.assign(o!, {
          pushedStepId: o!.lastStepId,
          pendingDeltaBps: 0n,
          pendingTopUp: false,
          pushedFlags: o!.flags,
        });
        // (10) a push moves the coupon by at most the pending delta, within the terms' floor and cap.
        const after = await w.s.fx.loanVault.couponOf(loanId);
        const moved = after > couponBefore ? after - couponBefore : couponBefore - after;
        expect(moved, "coupon move <= pending delta").to.be.lessThanOrEqual(delta < 0n ? -delta : delta);
        expect(after - probe.s.referenceRateBps).to.be.within(probe.t.premiumFloorBps, probe.t.premiumCapBps);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.oracle.connect(lenderOf(w, 3)).push(loanId),
  );
}

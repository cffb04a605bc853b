import { expect } from "chai";
import { AbiCoder, ZeroAddress, type TransactionReceipt } from "ethers";
import { signReport, toSubmission, type Report, type SignedReport } from "../../../../helpers/reports";
import { Roles } from "../../../../helpers/roles";
import type { LoanModel } from "../../../helpers/loan-model";
import {
  closesAt,
  fail,
  medianDown,
  OracleLoan,
  UPTIME_UNKNOWN,
  type ClosedDay,
  type LoanRecord,
  type Reading,
} from "../../protocol-model";
import { CONFIGURED_LOANS, ORACLE_STALENESS, RULES } from "../setup";
import { World, lenderOf } from "../world";
import { act, environment, eventArgs, unauthorized, type Params } from "../execution";
import { oracleTally } from "../counters";

/**
 * Handlers of the utilization oracle: reporters' signed reports (collected per report day until every reporter has
 * reported or the day's window ends), closing a report day, the keeper's feed pokes (with the feeds publishing first),
 * pushes of coupon steps and covenant flags into the vault, and Chainlink Automation's check and perform.
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

/** With `aim`, a loan with an open report day (one closed at `t` when there is one), else any id as `oracleLoanId`. */
export function openDayLoanId(w: World, p: Params, t: bigint): bigint {
  const fallback = BigInt(1 + ((p.loan as number) % (CONFIGURED_LOANS + 1)));
  if (!p.aim) return fallback;
  const open = [...w.oracle.values()].filter((o) => o.openDay !== 0n);
  const closable = open.filter((o) => o.closable(t));
  const found = closable.length > 0 ? closable : open;
  return found.length === 0 ? fallback : found[(p.loan as number) % found.length].loanId;
}

// ==================================================================================================== events

/** The oracle events a command must emit for one loan (tallied once the chain emitted them). */
interface OracleEvents {
  /** Days recorded (`ObservationRecorded`), in order. */
  recorded: bigint[];
  /** Days closed short of the quorum (`ReportDayMissed`). */
  missed: ClosedDay[];
  /** `ReportsCollected`: day, added, reports, closesAt. */
  collected: bigint[][];
  /** `CouponStepPushed`: step id, delta, top-up. */
  pushed: (bigint | boolean)[][];
  /** Days recorded at their window's close, and pushed steps whose delta differs from the plain sum. */
  closed: number;
  clamped: number;
}

const noEvents = (): OracleEvents => ({
  recorded: [],
  missed: [],
  collected: [],
  pushed: [],
  closed: 0,
  clamped: 0,
});

function noteClosed(e: OracleEvents, c: ClosedDay): void {
  if (c.recorded) {
    e.recorded.push(c.day);
    e.closed++;
  } else e.missed.push(c);
}

/**
 * The `RuleFired` events that took oracle loan `before` to `after`: the firings `after` added, by day and then rule
 * order, with consecutive step ids.
 */
function firings(before: OracleLoan, after: OracleLoan): (bigint | boolean)[][] {
  const fired = RULES.flatMap((_, i) =>
    after.firedDays[i].slice(before.firedDays[i].length).map((day) => ({ day, i })),
  );
  fired.sort((x, y) => (x.day === y.day ? x.i - y.i : x.day < y.day ? -1 : 1));
  return fired.map(({ i }, k) => [
    BigInt(i),
    before.lastStepId + BigInt(k + 1),
    RULES[i].premiumDeltaBps,
    RULES[i].topUpRequired,
  ]);
}

/** The chain emitted exactly the oracle events the model expects for loan `after.loanId`, which `before` was. */
function expectEvents(
  w: World,
  receipt: TransactionReceipt,
  before: OracleLoan,
  after: OracleLoan,
  e: OracleEvents,
): void {
  const loanId = after.loanId;
  const of = (name: string) =>
    eventArgs(w, receipt, "oracle", name).filter((a) => (a.loanId as bigint) === loanId);
  const fired = firings(before, after);
  expect(
    {
      recorded: of("ObservationRecorded").map((a) => a.day as bigint),
      missed: of("ReportDayMissed").map((a) => [a.day as bigint, a.reports as bigint, a.quorum as bigint]),
      collected: of("ReportsCollected").map((a) => [
        a.day as bigint,
        a.added as bigint,
        a.reports as bigint,
        a.closesAt as bigint,
      ]),
      fired: of("RuleFired").map((a) => [
        a.ruleIndex as bigint,
        a.stepId as bigint,
        a.deltaBps as bigint,
        a.topUpRequired as boolean,
      ]),
      pushed: of("CouponStepPushed").map((a) => [
        a.stepId as bigint,
        a.deltaBps as bigint,
        a.topUpRequired as boolean,
      ]),
    },
    `oracle events of loan ${loanId}`,
  ).to.deep.equal({
    recorded: e.recorded,
    missed: e.missed.map((m) => [m.day, m.reports, after.quorum]),
    collected: e.collected,
    fired,
    pushed: e.pushed,
  });
  oracleTally.fired += fired.length;
  oracleTally.recorded += e.recorded.length;
  oracleTally.closed += e.closed;
  oracleTally.missed += e.missed.length;
  oracleTally.collected += e.collected.length;
  oracleTally.pushed += e.pushed.length;
  oracleTally.clamped += e.clamped;
}

// ==================================================================================================== reports

/**
 * `submitReport` in the contract's order, over the final (sorted or not) arrays: the day checks; then, for a day other
 * than the open one, an earlier open day must have closed and is recorded (or missed) first, and the day must not have
 * closed nor cut short a skipped day before it (`_requireDayOpens`, with the last day as closing the open one leaves
 * it), or else the open day must still be collecting; each report's checks; a reporter already collected keeps its
 * first report; the day is recorded once every reporter has reported (refused short of the quorum), else the collection
 * stays open. The model closes the earlier day on a copy before the later checks; the contract checks first and closes
 * in its effects: the errors, their order and the outcome are the same.
 */
export function predictReports(
  w: World,
  t: bigint,
  reports: Report[],
  signers: (string | null)[],
): { probe: OracleLoan; events: OracleEvents } {
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

  const probe = o!.clone();
  const events = noEvents();
  const sla = w.slaUptimeBps(loanId);
  const bounds = w.premiumBounds(loanId);
  const open = probe.openDay;
  let collected: Map<string, Reading>;
  if (open !== day) {
    if (open > day) fail("oracle", "UtilizationOracleReportDayClosed", loanId, day, closesAt(day));
    if (open !== 0n) noteClosed(events, probe.closeOpenDay(RULES, t, sla, bounds));
    // `_openDay`: the day has not closed, and a skipped day before it has.
    if (t >= closesAt(day)) fail("oracle", "UtilizationOracleReportDayClosed", loanId, day, closesAt(day));
    const before = day - 1n;
    if (probe.lastDay !== 0n && before > probe.lastDay && t < closesAt(before))
      fail("oracle", "UtilizationOracleReportDayOpen", loanId, before, closesAt(before));
    collected = new Map();
  } else {
    if (t >= closesAt(day)) fail("oracle", "UtilizationOracleReportDayClosed", loanId, day, closesAt(day));
    collected = new Map(probe.openReadings);
  }

  let previous = ZeroAddress;
  let added = 0n;
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
    if (collected.has(signer!)) return; // its first report counts
    collected.set(signer!, { utilizationBps: BigInt(r.utilizationBps), uptimeBps: BigInt(r.uptimeBps) });
    added++;
  });

  const reported = BigInt(collected.size);
  if (collected.size === o!.reporters.length) {
    if (reported < o!.quorum) fail("oracle", "UtilizationOracleQuorumNotMet", loanId, reported, o!.quorum);
    probe.clearOpenDay();
    probe.recordReadings(RULES, t, day, [...collected.values()], sla, bounds);
    events.recorded.push(day);
  } else {
    probe.openDay = day;
    probe.openReadings = collected;
    events.collected.push([day, added, reported, closesAt(day)]);
  }
  return { probe, events };
}

export async function submitReport(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const variant = p.variant as string;
  const loanId = variant === "open" ? openDayLoanId(w, p, t) : oracleLoanId(w, p);
  const o = w.oracle.get(loanId);
  // Which reporters sign: `first` rotates the three, so a partial collection is any subset.
  const first = (p.first as number) % 3;
  const all = [fx.actors.reporter1, fx.actors.reporter2, fx.actors.reporter3];
  const reporters = [...all.slice(first), ...all.slice(0, first)];
  const n = variant === "short" ? 1 : variant === "open" ? 3 : (p.signers as number);
  let day = Number(today(t));
  if (variant === "old") day -= 3;
  if (variant === "yesterday") day -= 1;
  if (variant === "replay") day = Number(o?.lastDay ?? 0n);
  if (variant === "future") day += 1;
  // Every reporter signs for the day being collected: the ones already in keep their first report.
  if (variant === "open" && o !== undefined && o.openDay !== 0n) day = Number(o.openDay);
  const utils = p.utils as number[];
  const ups = p.uptimes as number[];
  const entries = reporters.slice(0, n).map((signer, i) => ({
    signer: variant === "badSigner" && i === 0 ? fx.actors.attacker : signer,
    report: {
      loanId,
      utilizationBps: variant === "range" && i === 0 ? 10_001 : utils[i],
      uptimeBps: ups[i],
      day,
      periodDays: 1,
      revenueUsd: 0n,
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
  await sendReports(w, "oracle.submitReport", t, reports, signatures, signers);
}

/** Sends one `submitReport` (from a lender: anyone may submit) against `predictReports`. */
async function sendReports(
  w: World,
  command: string,
  t: bigint,
  reports: Report[],
  signatures: string[],
  signers: (string | null)[],
) {
  await act(
    w,
    command,
    t,
    () => {
      const { probe, events } = predictReports(w, t, reports, signers);
      return (receipt) => {
        expectEvents(w, receipt, w.oracle.get(probe.loanId)!, probe, events);
        w.oracle.set(probe.loanId, probe);
        w.touched.add(probe.loanId);
      };
    },
    () => w.s.fx.oracle.connect(lenderOf(w, 2)).submitReport(reports, signatures),
  );
}

/** Utilizations a run of report days draws from: days matching the step-down rule, the step-up rule, or any. */
const REGIMES: Record<string, number[]> = {
  high: [9_000, 9_500, 10_000],
  low: [0, 3_000, 5_999],
  mixed: [0, 3_000, 5_999, 6_000, 8_999, 9_000, 9_500, 10_000],
};

/** The most days one run of report days covers (its arbitraries draw three readings per day). */
export const MAX_REPORT_DAYS = 5;

/**
 * A run of report days for one loan, the reporters' routine compressed into one command so that streaks build up and
 * rules fire within a sequence: on each of `days` days (with `gap`, one day skipped between the first and the
 * second) every reporter signs that day's reading from `regime`, submitted an hour after the previous day's window
 * closed; with `partial`, the last day gets two of the three reports and stays open until something closes it.
 * Each submission is a `submitReport` predicted as that command is (a revert, e.g. for a day already recorded, is
 * expected like any other); the clock moves with the submissions, as a warp would.
 */
export async function reportDays(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const loanId = oracleLoanId(w, p);
  const values = REGIMES[p.regime as string];
  const picks = p.picks as number[];
  const ups = p.uptimes as number[];
  const days = p.days as number;
  const reporters = [fx.actors.reporter1, fx.actors.reporter2, fx.actors.reporter3];
  let at = t;
  let day = today(t);
  for (let k = 0; k < days; k++) {
    if (k > 0) {
      day += p.gap && k === 1 ? 2n : 1n;
      const after = closesAt(day - 1n) + 3_600n;
      at = after > w.now ? after : w.now + 1n;
    }
    const n = p.partial && k === days - 1 ? 2 : 3;
    const signed = await Promise.all(
      reporters.slice(0, n).map((r, i) =>
        signReport(r, fx.oracle, {
          loanId,
          utilizationBps: values[picks[3 * k + i] % values.length],
          uptimeBps: ups[3 * k + i],
          day: Number(day),
          periodDays: 1,
          revenueUsd: 0n,
          deadline: at + 3_600n,
        }),
      ),
    );
    const { reports, signatures } = toSubmission(signed);
    const signers = signed.map((x) => x.signer).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    await sendReports(w, "oracle.reportDays", at, reports, signatures, signers);
  }
}

/** `closeReportDay` (anyone): records the open day once it has closed, or misses it short of the quorum. */
export async function closeReportDay(w: World, p: Params, t: bigint) {
  const loanId = openDayLoanId(w, p, t);
  await act(
    w,
    "oracle.closeReportDay",
    t,
    () => {
      const o = w.oracle.get(loanId);
      if (o === undefined || o.openDay === 0n) fail("oracle", "UtilizationOracleNoOpenReportDay", loanId);
      const probe = o!.clone();
      const events = noEvents();
      noteClosed(events, probe.closeOpenDay(RULES, t, w.slaUptimeBps(loanId), w.premiumBounds(loanId)));
      return (receipt) => {
        expectEvents(w, receipt, o!, probe, events);
        w.oracle.set(loanId, probe);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.oracle.connect(lenderOf(w, p.caller as number)).closeReportDay(loanId),
  );
}

// ==================================================================================================== feeds

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
      // An open report day is closed first (it must have closed): recorded or missed before today's reading.
      const probe = o!.clone();
      const events = noEvents();
      const bounds = w.premiumBounds(loanId);
      if (probe.openDay !== 0n)
        noteClosed(events, probe.closeOpenDay(RULES, at, w.slaUptimeBps(loanId), bounds));
      const good: bigint[] = [];
      const rounds = new Map<string, bigint>();
      for (const f of w.feeds) {
        const scale = 10n ** f.decimals;
        if (f.answer <= 0n || f.answer > scale || f.updatedAt > at || at - f.updatedAt > probe.maxStaleness)
          continue;
        if (f.roundId <= (probe.lastRound.get(f.address) ?? 0n)) continue;
        good.push((f.answer * 10_000n) / scale);
        rounds.set(f.address, f.roundId);
      }
      if (BigInt(good.length) < probe.quorum)
        fail("oracle", "UtilizationOracleQuorumNotMet", loanId, BigInt(good.length), probe.quorum);
      for (const [feed, round] of rounds) probe.lastRound.set(feed, round);
      probe.record(RULES, at, day, medianDown(good), UPTIME_UNKNOWN, 0n, bounds);
      events.recorded.push(day);
      return (receipt) => {
        expectEvents(w, receipt, o!, probe, events);
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

// ==================================================================================================== pushes

/** What `_push` sends for one loan: the vault's loan and the oracle's loan after it, and the step's effective delta. */
interface PushPlan {
  loan: LoanModel;
  oracle: OracleLoan;
  delta: bigint;
}

/**
 * `_push` for oracle loan `o` and vault loan `m` at `t`: the error name of a push that finds nothing pending or a loan
 * that is not performing, else the plan. The step sent is the pending steps applied to the vault's premium now, with
 * the clamp after each (`_effectiveDelta`).
 */
function planPush(
  o: OracleLoan | undefined,
  m: LoanModel | undefined,
  t: bigint,
): PushPlan | "UtilizationOracleNothingToPush" | "UtilizationOracleLoanNotPerforming" {
  if (o === undefined || (!o.stepPending && !o.flagsPending)) return "UtilizationOracleNothingToPush";
  if (m === undefined || !m.active) return "UtilizationOracleLoanNotPerforming";
  const loan = m.clone();
  const delta = o.stepPending ? o.effectiveDelta(m.s.premiumBps) : 0n;
  if (o.stepPending) loan.applyCouponStep(t, o.lastStepId, delta, o.pendingTopUp);
  if (o.flagsPending) loan.setCovenantBreach(o.flags);
  const oracle = o.clone();
  Object.assign(oracle, {
    pushedStepId: o.lastStepId,
    pendingDeltaBps: 0n,
    pendingTopUp: false,
    pushedFlags: o.flags,
  });
  return { loan, oracle, delta };
}

/** Notes the `CouponStepPushed` event of `plan` (oracle loan `o` before the push), if it sends a step. */
function notePushed(e: OracleEvents, o: OracleLoan, plan: PushPlan): void {
  if (!o.stepPending) return;
  e.pushed.push([o.lastStepId, plan.delta, o.pendingTopUp]);
  if (plan.delta !== o.pendingDeltaBps) e.clamped++;
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
      const rec = w.record(loanId);
      const plan = planPush(o, rec?.m, t);
      if (typeof plan === "string") fail("oracle", plan, loanId);
      const { loan, oracle, delta } = plan;
      return async (receipt) => {
        const events = noEvents();
        notePushed(events, o!, plan);
        expectEvents(w, receipt, o!, oracle, events);
        rec!.m.s = loan.s;
        w.oracle.set(loanId, oracle);
        // (10) a push moves the coupon by at most the effective pending delta, within the terms' floor and cap.
        const after = await w.s.fx.loanVault.couponOf(loanId);
        const moved = after > couponBefore ? after - couponBefore : couponBefore - after;
        expect(moved, "coupon move <= effective pending delta").to.be.lessThanOrEqual(
          delta < 0n ? -delta : delta,
        );
        expect(after - loan.s.referenceRateBps).to.be.within(loan.t.premiumFloorBps, loan.t.premiumCapBps);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.oracle.connect(lenderOf(w, 3)).push(loanId),
  );
}

// ==================================================================================================== automation

/**
 * `checkUpkeep("")` on the model at `now`: the configured loans (in configuration order, ids 1..CONFIGURED_LOANS) with
 * a report day that has closed, or with something to push and performing.
 */
export function upkeepDue(w: World, now: bigint): bigint[] {
  const due: bigint[] = [];
  for (const [loanId, o] of w.oracle) {
    const pending = o.stepPending || o.flagsPending;
    if (o.closable(now) || (pending && w.record(loanId)?.m.active === true)) due.push(loanId);
  }
  return due;
}

/**
 * Chainlink Automation: "check" compares `checkUpkeep` with the model and performs what it returns (or, with nothing
 * due, a stale list of one loan); "list" performs an arbitrary list (a loan twice). Each listed loan has a closed
 * report day recorded (or missed) first, then its pending push sent; a loan with nothing to do is skipped.
 */
export async function performUpkeep(w: World, p: Params, t: bigint) {
  const { oracle } = w.s.fx;
  const coder = AbiCoder.defaultAbiCoder();
  let ids: bigint[];
  if (p.variant === "check") {
    const due = upkeepDue(w, w.now);
    const [needed, performData] = await oracle.checkUpkeep("0x");
    const listed = needed ? [...(coder.decode(["uint256[]"], performData)[0] as bigint[])] : [];
    expect({ needed, listed }, "checkUpkeep").to.deep.equal({ needed: due.length > 0, listed: due });
    ids = needed ? due : [openDayLoanId(w, p, t)];
  } else {
    const loanId = openDayLoanId(w, p, t);
    ids = p.twice ? [loanId, loanId] : [loanId];
  }
  await act(
    w,
    "oracle.performUpkeep",
    t,
    () => {
      const oracles = new Map<bigint, OracleLoan>();
      const loans = new Map<bigint, LoanModel>();
      const events = new Map<bigint, OracleEvents>();
      for (const loanId of ids) {
        const current = oracles.get(loanId) ?? w.oracle.get(loanId);
        const e = events.get(loanId) ?? noEvents();
        events.set(loanId, e);
        if (current === undefined) continue; // not configured: nothing open, nothing pending
        const o = current.clone();
        if (o.closable(t))
          noteClosed(e, o.closeOpenDay(RULES, t, w.slaUptimeBps(loanId), w.premiumBounds(loanId)));
        oracles.set(loanId, o);
        const plan = planPush(o, loans.get(loanId) ?? w.record(loanId)?.m, t);
        if (typeof plan === "string") continue;
        notePushed(e, o, plan);
        oracles.set(loanId, plan.oracle);
        loans.set(loanId, plan.loan);
      }
      return (receipt) => {
        for (const [loanId, e] of events) {
          const before = w.oracle.get(loanId);
          if (before !== undefined) expectEvents(w, receipt, before, oracles.get(loanId) ?? before, e);
        }
        for (const [loanId, o] of oracles) w.oracle.set(loanId, o);
        for (const [loanId, m] of loans) w.record(loanId)!.m.s = m.s;
        for (const loanId of ids) w.touched.add(loanId);
      };
    },
    () => oracle.connect(lenderOf(w, 1)).performUpkeep(coder.encode(["uint256[]"], [ids])),
  );
}

import { Signature, TypedDataEncoder, type Log } from "ethers";

import { REPORT_TYPES, dayOf, type Report } from "../../helpers/reports";
import { BreachFlags, LoanStatus } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import {
  latestTimestamp,
  mineAt,
  revertName,
  send,
  setNextTimestamp,
  type Chain,
  type ChainLoan,
} from "./chain";
import type { StressConfig } from "./config";
import {
  appraisedServerUsd,
  clearingBidBps,
  hazard,
  measuredUtilizationBps,
  monthlyRevenueCents,
  type Book,
  type MarketPath,
} from "./model";

/**
 * Plays one market path against the deployed protocol, from the set-up snapshot: 30 days a month for the horizon.
 * Each day the reporters sign and submit every performing loan's reading and a keeper runs the oracle's upkeep; each
 * due date the fleets' revenue goes into the lockboxes, a keeper sweeps, operators release their excess or walk away;
 * defaults, step-ins, liquidations, auction purchases and expiries, top-ups, re-appraisals, T-bill harvests and the
 * run scenario's redemptions happen at the moment they fall due. The simulator only decides what the outside world
 * does (revenue, prices, who walks away, what buyers bid); every figure it reports is read from the contracts.
 */

const DAYS_PER_MONTH = 30;
const HOUR = 3600;
const WAD = 10n ** 18n;

export interface Recovery {
  loanId: string;
  operator: number;
  month: number;
  how: "auction-sold" | "auction-expired" | "step-in" | "pending";
  debtAtDefaultUsd: number;
  impairedValueUsd: number;
  collateralValueUsd: number;
  /** Auction only: the bid as a share of collateral value, the lots on sale that month, what the sale repaid. */
  bidBps: number | null;
  lotsInMonth: number | null;
  proceedsUsd: number | null;
  repaidUsd: number | null;
  lossUsd: number | null;
  /** repaid / (repaid + loss): the share of the debt the recovery settled (auctions only). */
  recoveryRate: number | null;
}

export interface RedemptionWait {
  lender: number;
  requestedAt: number;
  sharesRequested: string;
  /** Seconds from the request to the moment all its shares were serviced; null if not by the horizon. */
  waitSeconds: number | null;
  /** Share of the requested shares serviced by the horizon. */
  servedShare: number;
}

export interface PathResult {
  scenario: string;
  index: number;
  couponRules: boolean;
  startPrice: number;
  endPrice: number;
  /** Monthly share prices (USDai per sUSDai), index 0 at the draw. */
  prices: number[];
  seconds: number;
  annualizedReturn: number;
  totalReturn: number;
  /** Worst share price over the path relative to the start, minus one (<= 0). */
  maxDrawdown: number;
  startNavUsd: number;
  endNavUsd: number;
  /** sUSDai's `cumulativeLosses()` over the path. */
  realizedLossUsd: number;
  operatorFailures: number;
  defaults: number;
  recoveries: Recovery[];
  stepUps: number;
  stepDowns: number;
  topUps: number;
  slaBreaches: number;
  redemptions: RedemptionWait[] | null;
  reverts: Record<string, number>;
  transactions: number;
  wallMs: number;
}

interface LoanSim {
  chain: ChainLoan;
  borrower: string;
  /** The operator's state: running, gone (walked away), or replaced after a step-in. */
  operating: boolean;
  distressed: number;
  /** The operator's own cash (USDai units), set at its first installment; null before. */
  cash: bigint | null;
  spares: bigint[];
  status: "active" | "defaulted" | "liquidating" | "closed";
  defaultCheckAt: number | null;
}

interface Action {
  at: number;
  seq: number;
  label: string;
  run: () => Promise<void>;
}

const fromWad = (x: bigint) => Number(x) / 1e18;

/** STRESS_TRACE=1 prints every transaction of a path but the daily reports (to replay one path and read it). */
const trace = process.env.STRESS_TRACE === "1";
const traceArgs = (args: unknown[]) =>
  args
    .map((a) =>
      typeof a === "bigint"
        ? a > 10n ** 15n
          ? `$${(Number(a) / 1e18).toFixed(2)}`
          : a.toString()
        : Array.isArray(a)
          ? `[${a.length}]`
          : String(a).slice(0, 12),
    )
    .join(", ");

export async function runPath(
  chain: Chain,
  config: StressConfig,
  book: Book,
  path: MarketPath,
  couponRules: boolean,
): Promise<PathResult> {
  const started = Date.now();
  const { fx, iface, addresses } = chain;
  await chain.snapshot.restore();

  const reverts: Record<string, number> = {};
  let transactions = 0;
  const queue: Action[] = [];
  let seq = 0;
  const schedule = (at: number, label: string, run: () => Promise<void>) => {
    queue.push({ at, seq: seq++, label, run });
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  };

  let clock = await latestTimestamp(chain);
  const at = async (timestamp: number) => {
    clock = Math.max(timestamp, clock + 1);
    await setNextTimestamp(chain, clock);
  };

  /** Sends a call at the next block; returns the tx hash, or null (counted) if the contract refused it. */
  const call = async (from: string, to: string, fn: string, args: unknown[]): Promise<string | null> => {
    transactions += 1;
    await at(clock); // every transaction gets its own block one second after the last: timestamps never depend on the wall clock
    const day = ((clock - chain.t0) / 86_400).toFixed(2);
    try {
      const hash = await send(chain, from, to, iface.encodeFunctionData(fn, args));
      if (trace && fn !== "submitReport") console.log(`    day ${day} ${fn}(${traceArgs(args)})`);
      return hash;
    } catch (err) {
      const key = `${fn}: ${revertName(err, iface)}`;
      reverts[key] = (reverts[key] ?? 0) + 1;
      if (trace) console.log(`    day ${day} ${fn}(${traceArgs(args)}) REVERTED ${key}`);
      return null;
    }
  };
  const logsOf = async (hash: string): Promise<{ name: string; args: Record<string, unknown> }[]> => {
    const receipt = (await chain.hre.network.provider.request({
      method: "eth_getTransactionReceipt",
      params: [hash],
    })) as { logs: Log[] };
    const out: { name: string; args: Record<string, unknown> }[] = [];
    for (const log of receipt.logs) {
      try {
        const parsed = iface.parseLog(log);
        if (parsed) out.push({ name: parsed.name, args: parsed.args.toObject() });
      } catch {
        /* an event of another contract (ERC-20 transfers decode too; anything else is skipped) */
      }
    }
    return out;
  };
  if (!couponRules) {
    await at(chain.t0 + 1);
    await call(chain.oracleAdmin, addresses.oracle, "setRules", [[]]);
  }

  const loans: LoanSim[] = chain.loans.map((c) => ({
    chain: c,
    borrower: c.borrower,
    operating: true,
    distressed: 0,
    cash: null,
    spares: [...c.spareIds],
    status: "active",
    defaultCheckAt: null,
  }));
  const price = async (block: number) => fromWad(await fx.susdai.convertToAssets(WAD, { blockTag: block }));
  const startBlock = await mineAt(chain, Math.max(chain.t0 + 2, clock + 1));
  clock = await latestTimestamp(chain);
  const startTime = clock;
  const startPrice = await price(startBlock);
  const startNav = fromWad(await fx.susdai.totalAssets({ blockTag: startBlock }));
  const lossesBefore = await fx.susdai.cumulativeLosses({ blockTag: startBlock });
  const prices = [startPrice];

  let operatorFailures = 0;
  let stepUps = 0;
  let stepDowns = 0;
  let topUps = 0;
  let slaBreaches = 0;
  const recoveries: Recovery[] = [];
  const lotsPerMonth = new Map<number, number>();
  const monthOf = (timestamp: number) =>
    Math.max(1, Math.ceil((timestamp - chain.t0) / (DAYS_PER_MONTH * 86_400)));

  // ------------------------------------------------------------------ recovery

  const tryTopUp = async (loan: LoanSim) => {
    if (!loan.operating || loan.spares.length === 0 || loan.status !== "active") return;
    const state = await fx.loanVault.stateOf(loan.chain.loanId);
    if ((state.breachFlags & (BreachFlags.Ltv | BreachFlags.TopUp)) === 0n) return;
    const receipt = loan.spares[0];
    if (await call(loan.borrower, addresses.loanVault, "topUp", [loan.chain.loanId, [receipt]])) {
      loan.spares.shift();
      topUps += 1;
    }
  };

  const scheduleDefaultCheck = async (loan: LoanSim) => {
    if (loan.status !== "active") return;
    const when = Number(await fx.loanVault.defaultableAt(loan.chain.loanId));
    if (when === 0 || loan.defaultCheckAt === when) return;
    loan.defaultCheckAt = when;
    // The first second after `defaultableAt`, not before the current block.
    schedule(Math.max(when + 1, clock + 1), `default check ${loan.chain.loanId}`, () => declare(loan, when));
  };

  const declare = async (loan: LoanSim, expected: number) => {
    if (loan.status !== "active" || loan.defaultCheckAt !== expected) return;
    const hash = await call(chain.keeper, addresses.loanVault, "declareDefault", [loan.chain.loanId]);
    if (!hash) {
      // Refused (counted): a lapsed cure counts only if the breach still stands, which `defaultableAt` does not
      // re-evaluate. The keeper persists the evaluation (`checkCovenants`) and schedules by the fresh date; a date
      // still in the past is looked at again in a day.
      await call(chain.keeper, addresses.loanVault, "checkCovenants", [loan.chain.loanId]);
      loan.defaultCheckAt = null;
      const next = Number(await fx.loanVault.defaultableAt(loan.chain.loanId));
      if (next !== 0 && next <= clock) {
        loan.defaultCheckAt = next;
        schedule(clock + 86_400, "default re-check", () => declare(loan, next));
      } else {
        await scheduleDefaultCheck(loan);
      }
      return;
    }
    const event = (await logsOf(hash)).find((l) => l.name === "LoanDefaulted");
    const debt = fromWad(event!.args.debt as bigint);
    const impaired = fromWad(event!.args.impairedValue as bigint);
    loan.status = "defaulted";
    const month = monthOf(clock);
    const collateral = fromWad(await fx.loanVault.collateralValueOf(loan.chain.loanId));
    const recovery: Recovery = {
      loanId: loan.chain.loanId.toString(),
      operator: loan.chain.operator,
      month,
      how: "pending",
      debtAtDefaultUsd: debt,
      impairedValueUsd: impaired,
      collateralValueUsd: collateral,
      bidBps: null,
      lotsInMonth: null,
      proceedsUsd: null,
      repaidUsd: null,
      lossUsd: null,
      recoveryRate: null,
    };
    recoveries.push(recovery);
    const stepIn =
      path.recoveryDraw[loan.chain.operator] < config.credit.stepInShare &&
      loan.borrower !== loan.chain.replacement;
    if (stepIn) {
      await at(clock + HOUR);
      if (
        await call(chain.creditAdmin, addresses.loanVault, "stepIn", [
          loan.chain.loanId,
          loan.chain.replacement,
        ])
      ) {
        recovery.how = "step-in";
        loan.borrower = loan.chain.replacement;
        loan.operating = true;
        loan.distressed = 0;
        loan.cash = null;
        loan.spares = []; // the failed operator's spare servers stay with it
        loan.status = "active";
        loan.defaultCheckAt = null;
        await scheduleDefaultCheck(loan);
        return;
      }
    }
    await tryLiquidate(loan, recovery, 0);
  };

  const tryLiquidate = async (loan: LoanSim, recovery: Recovery, attempt: number): Promise<void> => {
    await at(clock + HOUR);
    const collateral = await fx.loanVault.collateralValueOf(loan.chain.loanId);
    const hash = await call(chain.keeper, addresses.loanVault, "liquidate", [loan.chain.loanId]);
    if (!hash) {
      // A step-in window, a pause: try again tomorrow, for a month at most.
      if (attempt < DAYS_PER_MONTH)
        schedule(clock + 86_400, "liquidate retry", () => tryLiquidate(loan, recovery, attempt + 1));
      return;
    }
    loan.status = "liquidating";
    const auctionId = await fx.auction.auctionOfLoan(loan.chain.loanId);
    const auction = await fx.auction.auctionOf(auctionId);
    const month = monthOf(clock);
    const lots = (lotsPerMonth.get(month) ?? 0) + 1;
    lotsPerMonth.set(month, lots);
    const bidBps = clearingBidBps(
      config,
      lots,
      path.bidNoise[loan.chain.operator][Math.min(month, path.months)],
    );
    const bid = (collateral * BigInt(bidBps)) / 10_000n;
    recovery.bidBps = bidBps;
    recovery.lotsInMonth = lots;
    recovery.collateralValueUsd = fromWad(collateral);
    const startPrice = BigInt(auction.startPrice);
    const floor = BigInt(auction.floorPrice);
    const duration = BigInt(auction.duration);
    const startedAt = Number(auction.startedAt);
    const settle = async (hash: string | null, how: Recovery["how"]) => {
      if (!hash) return;
      const settled = (await logsOf(hash)).find((l) => l.name === "AuctionSettled");
      if (!settled) return;
      const repaid = fromWad(settled.args.repaid as bigint);
      const loss = fromWad(settled.args.loss as bigint);
      recovery.how = how;
      recovery.proceedsUsd = fromWad(settled.args.proceeds as bigint);
      recovery.repaidUsd = repaid;
      recovery.lossUsd = loss;
      recovery.recoveryRate = repaid + loss > 0 ? repaid / (repaid + loss) : 1;
      loan.status = "closed";
    };
    if (bid >= floor && bid > 0n) {
      // The first second at which the linear Dutch price is at or below the bid.
      const elapsed =
        bid >= startPrice
          ? 0n
          : ((startPrice - bid) * duration + (startPrice - floor) - 1n) / (startPrice - floor);
      schedule(startedAt + Number(elapsed), "auction buy", async () => {
        await settle(await call(chain.buyer, addresses.auction, "buy", [auctionId, bid]), "auction-sold");
      });
    } else {
      schedule(startedAt + Number(duration) + 1, "auction expiry", async () => {
        await settle(await call(chain.keeper, addresses.auction, "expire", [auctionId]), "auction-expired");
      });
    }
  };

  // ------------------------------------------------------------------ daily

  const reportDay = async (dayIndex: number) => {
    const month = Math.min(path.months, Math.floor((dayIndex - 1) / DAYS_PER_MONTH) + 1);
    const today = dayOf(clock);
    const outage = path.outage && month >= path.outage.from && month <= path.outage.to ? path.outage : null;
    for (const loan of loans) {
      if (loan.status !== "active") continue;
      const o = loan.chain.operator;
      const uptime = path.uptimeBps[o][month];
      const util = loan.operating ? measuredUtilizationBps(path.utilizationBps[o][month], uptime) : 0;
      const entries: { key: number; util: number; uptime: number }[] = [];
      // Every reporter reports on a normal day, which records the day at once (the median of the three). In the
      // outage reporter 3 has gone silent and reporter 2 lies: the two reports leave the day open until its window
      // closes (the oracle records a day from every report it collects, so the keeper cannot leave the liar out).
      for (let r = 0; r < chain.reporterKeys.length; r++) {
        if (outage && r === 2) continue;
        const lie = outage && r === 1;
        const jitter = Math.round(
          (((dayIndex * 31 + r * 17 + o * 7) % 13) - 6) * (config.oracle.reporterJitterBps / 6),
        );
        entries.push({
          key: r,
          util: lie ? outage.lieUtilizationBps : Math.max(0, Math.min(10_000, util + jitter)),
          uptime: lie
            ? config.power.normalUptimeBps
            : Math.max(0, Math.min(10_000, uptime + Math.round(jitter / 4))),
        });
      }
      // The keeper waits for an open day (left short by the outage) to close, and for the day before today to close
      // when the loan skipped it: the oracle refuses today's reports until then.
      const [, , lastDay] = await fx.oracle.latestUtilization(loan.chain.loanId);
      const [openDay, , openClosesAt] = await fx.oracle.openReportDay(loan.chain.loanId);
      const window = Number(await fx.oracle.reportWindow());
      if (openDay !== 0n) clock = Math.max(clock, Number(openClosesAt));
      else if (lastDay !== 0n && BigInt(today - 1) > lastDay)
        clock = Math.max(clock, today * 86_400 + window);
      const reports: Report[] = [];
      const signatures: string[] = [];
      const signed = entries
        .map((e) => {
          const wallet = chain.reporterKeys[e.key];
          const report: Report = {
            loanId: loan.chain.loanId,
            utilizationBps: e.util,
            uptimeBps: e.uptime,
            day: today,
            periodDays: 1,
            revenueUsd: 0n,
            deadline: BigInt(clock + HOUR),
          };
          const digest = TypedDataEncoder.hash(chain.reportDomain, REPORT_TYPES, report);
          return {
            address: wallet.address,
            report,
            signature: Signature.from(wallet.signingKey.sign(digest)).serialized,
          };
        })
        .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
      for (const s of signed) {
        reports.push(s.report);
        signatures.push(s.signature);
      }
      await call(chain.keeper, addresses.oracle, "submitReport", [reports, signatures]);
    }
    const [needed, performData] = await fx.oracle.checkUpkeep("0x");
    if (needed) {
      const hash = await call(chain.keeper, addresses.oracle, "performUpkeep", [performData]);
      if (hash) {
        for (const log of await logsOf(hash)) {
          if (log.name === "CouponStepApplied") {
            const delta = log.args.appliedDeltaBps as bigint;
            if (delta > 0n) stepUps += 1;
            else if (delta < 0n) stepDowns += 1;
          } else if (log.name === "CovenantFlagsSet" && (log.args.flags as bigint) !== 0n) {
            slaBreaches += 1;
          }
        }
        for (const loan of loans) {
          await tryTopUp(loan);
          await scheduleDefaultCheck(loan);
        }
      }
    }
  };

  // ------------------------------------------------------------------ monthly

  const monthly = async (month: number) => {
    if (month % config.market.reappraiseEveryMonths === 0) {
      for (const loan of loans) {
        if (loan.status === "closed" || loan.status === "liquidating") continue;
        const o = book.operators[loan.chain.operator];
        const model = config.book.models[o.model];
        const value = usd(appraisedServerUsd(config, path, o.model, month));
        for (const id of [...loan.chain.receiptIds, ...loan.spares]) {
          await call(chain.appraiser, addresses.receipts, "appraise", [
            id,
            value,
            model.markdownBpsPerQuarter,
            model.residualFloorBps,
          ]);
        }
        if (loan.status === "active") {
          await call(chain.keeper, addresses.loanVault, "checkCovenants", [loan.chain.loanId]);
          await tryTopUp(loan);
        }
      }
    }
    for (const loan of loans) {
      if (loan.status !== "active") continue;
      const id = loan.chain.loanId;
      const o = loan.chain.operator;
      if (loan.operating) {
        const [, amountDue] = await fx.loanVault.nextPayment(id);
        loan.cash ??= BigInt(config.credit.operatorCashMonths) * amountDue;
        const revenue = usd(monthlyRevenueCents(config, book.operators[o], path, month)) / 100n;
        const forced =
          path.forcedFailures.some((f) => f.operator === o && f.month === month) &&
          loan.borrower === loan.chain.borrower;
        loan.distressed = revenue < amountDue ? loan.distressed + 1 : 0;
        if (
          forced ||
          loan.distressed >= config.credit.failAfterDistressedMonths ||
          path.defaultDraw[o][month] < hazard(config, path.hit[o][month])
        ) {
          loan.operating = false;
          operatorFailures += 1;
        } else if (revenue > 0n) {
          await call(chain.customers, addresses.loanVault, "depositRevenue", [id, revenue]);
        }
      }
      await call(chain.keeper, addresses.loanVault, "sweep", [id]);
      if (loan.operating) {
        // What revenue, lockbox and reserve left open of the installment due, the operator pays from its own cash (plus
        // a dollar for the seconds of interest until its transaction); without the cash it walks away.
        const [dueDate, open] = await fx.loanVault.nextPayment(id);
        if (dueDate !== 0n && Number(dueDate) <= clock && open > 0n) {
          // Never more than the whole debt (the last installment): the vault refuses an overpayment.
          const debt = await fx.loanVault.debtOf(id);
          const gap = open + WAD > debt ? debt : open + WAD;
          if (gap > (loan.cash ?? 0n)) {
            loan.operating = false;
            operatorFailures += 1;
          } else if (await call(loan.borrower, addresses.loanVault, "repay", [id, gap])) {
            loan.cash = (loan.cash ?? 0n) - gap;
          }
        }
      }
      if (trace) {
        const st = await fx.loanVault.stateOf(id);
        const [due, amount] = await fx.loanVault.nextPayment(id);
        console.log(
          `      loan ${id}: next payment #${st.nextPaymentIndex} due day ${((Number(due) - chain.t0) / 86_400).toFixed(2)} ` +
            `$${fromWad(amount).toFixed(2)}, lockbox $${fromWad(st.lockbox).toFixed(2)}, reserve $${fromWad(st.reserve).toFixed(2)}, ` +
            `flags ${st.breachFlags}/${st.oracleFlags}, defaultable day ${((Number(await fx.loanVault.defaultableAt(id)) - chain.t0) / 86_400).toFixed(2)}`,
        );
      }
      if (loan.operating) {
        const state = await fx.loanVault.stateOf(id);
        if (
          state.status === LoanStatus.Active &&
          state.lockbox > WAD &&
          (await fx.loanVault.inGoodStanding(id))
        ) {
          if (
            await call(loan.borrower, addresses.loanVault, "releaseExcess", [
              id,
              loan.borrower,
              state.lockbox - WAD,
            ])
          ) {
            loan.cash = (loan.cash ?? 0n) + state.lockbox - WAD;
          }
        }
        await tryTopUp(loan);
      }
      const status = (await fx.loanVault.stateOf(id)).status;
      if (status === LoanStatus.Repaid || status === LoanStatus.Closed) loan.status = "closed";
      await scheduleDefaultCheck(loan);
    }
    if (month % 3 === 0) {
      await call(chain.keeper, addresses.usdai, "harvest", []);
    }
  };

  // ------------------------------------------------------------------ the run

  const waits: RedemptionWait[] | null = path.run ? [] : null;
  const runLenders = path.run
    ? Math.max(1, Math.round((chain.lenders.length * path.run.shareBps) / 10_000))
    : 0;
  const requests: { lender: number; requestedAt: number; shares: bigint; wait: RedemptionWait }[] = [];
  const runDay = async (dayIndex: number) => {
    if (!path.run) return;
    const first = (path.run.month - 1) * DAYS_PER_MONTH + 1;
    const k = dayIndex - first;
    // The wave: `runLenders` lenders ask for all their shares, spread over the run's days.
    for (let lender = 0; lender < runLenders; lender++) {
      if (Math.floor((lender * path.run.days) / runLenders) !== k) continue;
      const address = chain.lenders[lender];
      const shares = await fx.susdai.balanceOf(address);
      if (await call(address, addresses.susdai, "requestRedeem", [shares, address, address])) {
        const wait: RedemptionWait = {
          lender,
          requestedAt: clock,
          sharesRequested: shares.toString(),
          waitSeconds: null,
          servedShare: 0,
        };
        requests.push({ lender, requestedAt: clock, shares, wait });
        waits!.push(wait);
      }
    }
    const open = requests.filter((r) => r.wait.waitSeconds === null);
    if (open.length === 0) return;
    if ((await fx.susdai.totalPendingShares()) > 0n && (await fx.susdai.idleAssets()) > 0n) {
      await call(chain.keeper, addresses.susdai, "serviceRedemptions", [50n]);
    }
    for (const r of open) {
      const address = chain.lenders[r.lender];
      const claimable = await fx.susdai.claimableRedeemRequest(0n, address);
      const pending = await fx.susdai.pendingRedeemRequest(0n, address);
      const served = r.shares - pending;
      r.wait.servedShare = Number((served * 10_000n) / (r.shares === 0n ? 1n : r.shares)) / 10_000;
      if (claimable > 0n) {
        await call(address, addresses.susdai, "redeem(uint256,address,address)", [
          claimable,
          address,
          address,
        ]);
      }
      if (pending === 0n) r.wait.waitSeconds = clock - r.requestedAt;
    }
  };

  // ------------------------------------------------------------------ the clock

  const drain = async (until: number) => {
    while (queue.length > 0 && queue[0].at <= until) {
      const action = queue.shift()!;
      await at(action.at);
      clock = Math.max(clock, action.at);
      await action.run();
    }
  };

  const totalDays = path.months * DAYS_PER_MONTH;
  for (let day = 1; day <= totalDays; day++) {
    if (day % DAYS_PER_MONTH === 0) {
      const month = day / DAYS_PER_MONTH;
      const tick = chain.t0 + day * 86_400 + HOUR;
      await drain(tick);
      clock = Math.max(clock, tick - 1);
      await monthly(month);
      const block = await mineAt(chain, ++clock);
      prices.push(await price(block));
    }
    const reportAt = chain.t0 + day * 86_400 + 2 * HOUR;
    await drain(reportAt);
    clock = Math.max(clock, reportAt - 1);
    clock += 1;
    await reportDay(day);
    await runDay(day);
  }
  // Auctions started in the last days settle before the books are read.
  await drain(clock + 7 * 86_400);

  const endBlock = await mineAt(chain, ++clock);
  const endPrice = await price(endBlock);
  const endNav = fromWad(await fx.susdai.totalAssets({ blockTag: endBlock }));
  const losses = fromWad((await fx.susdai.cumulativeLosses({ blockTag: endBlock })) - lossesBefore);
  const seconds = clock - startTime;
  const minPrice = Math.min(...prices, endPrice);
  return {
    scenario: path.scenario,
    index: path.index,
    couponRules,
    startPrice,
    endPrice,
    prices,
    seconds,
    annualizedReturn: (endPrice / startPrice) ** ((365 * 86_400) / seconds) - 1,
    totalReturn: endPrice / startPrice - 1,
    maxDrawdown: minPrice / startPrice - 1,
    startNavUsd: startNav,
    endNavUsd: endNav,
    realizedLossUsd: losses,
    operatorFailures,
    defaults: recoveries.length,
    recoveries,
    stepUps,
    stepDowns,
    topUps,
    slaBreaches,
    redemptions: waits,
    reverts,
    transactions,
    wallMs: Date.now() - started,
  };
}

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { NAMED_ACCOUNT_NAMES, type NamedAccount } from "../../config/env";
import { DAY, LoanStatus } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import type { MockAggregator } from "../../typechain-types";
import type { ProtocolFixture } from "../../test/fixtures/protocol";
import type { DemoReport, PricePoint } from "./report";
import type { Server } from "./scenario";

export { DAY };
export const HOUR = 60 * 60;
/** The loans' payment interval (house terms): the demo's "month". */
export const MONTH_DAYS = 30;

/** A loan of the story, filled in by chapter 3. */
export interface DemoLoan {
  label: "A" | "B";
  id: bigint;
  borrower: NamedAccount;
  site: string;
  receiptIds: bigint[];
  /** Net revenue the fleet remits to the lockbox per GPU-hour at 100% utilization, in whole dollars. */
  revenuePerGpuHourUsd: number;
  gpus: number;
}

/** An oracle observation of a loan: the story day, the month whose payment tick it precedes, the median. */
export interface Observation {
  day: number;
  month: number;
  bps: number;
}

/** A minted receipt and the server it stands for (chapter 2). */
export interface FleetReceipt {
  tokenId: bigint;
  server: Server;
}

/** A utilization feed of loan A's monitoring (chapter 5). */
export interface DemoFeed {
  name: string;
  contract: MockAggregator;
  address: string;
  faulty: boolean;
}

/** Everything the chapters share: the runtime, named actors, the deployed protocol, the story's state and the report. */
export interface DemoContext {
  hre: HardhatRuntimeEnvironment;
  fx: ProtocolFixture;
  actors: ProtocolFixture["actors"];
  /** The fleets' compute customers: they pay revenue into the loans' lockboxes (an unnamed local account). */
  customers: HardhatEthersSigner;
  /** Day 0 of the story: the block time of the first loan's draw (set by chapter 3). */
  t0: number;
  fleet: FleetReceipt[];
  loans: DemoLoan[];
  feeds: DemoFeed[];
  /** Oracle observations per loan label, in order (for revenue, the month table and the chart). */
  observations: Record<string, Observation[]>;
  report: DemoReport;
  /** Queues `run` at chain time `at` on the story's timeline (set by the timeline). */
  schedule(at: number, label: string, run: () => Promise<void>): void;
  log(message: string): void;
  /** A progress line stamped with the story's day. */
  progress(message: string): Promise<void>;
}

export async function createContext(
  hre: HardhatRuntimeEnvironment,
  fx: ProtocolFixture,
): Promise<DemoContext> {
  const startedAt = new Date((await now(hre)) * 1000).toISOString();
  const signers = await hre.ethers.getSigners();
  const ctx: DemoContext = {
    hre,
    fx,
    actors: fx.actors,
    customers: signers[NAMED_ACCOUNT_NAMES.length],
    t0: 0,
    fleet: [],
    loans: [],
    feeds: [],
    observations: { A: [], B: [] },
    schedule: () => {
      throw new Error("the timeline is not running");
    },
    report: {
      network: hre.network.name,
      startedAt,
      elapsedSeconds: 0,
      facts: {},
      chapters: {},
      months: [],
      couponHistory: [],
      oracle: { sources: [], daily: [], skipped: [], reports: [], flagPushes: [] },
      loans: [],
      auction: null,
      stepIn: null,
      topUp: null,
      redemption: null,
      priceSeries: [],
      svg: null,
    },
    log: (message: string) => console.log(message),
    async progress(message: string) {
      console.log(
        `  [day ${storyDay(ctx, await now(hre))
          .toFixed(0)
          .padStart(3)}] ${message}`,
      );
    },
  };
  return ctx;
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(LoanStatus).map(([name, value]) => [value.toString(), name]),
);

/** `ILoanVault.LoanStatus` by name. */
export function statusName(status: bigint): string {
  return STATUS_NAMES[status.toString()] ?? `status ${status}`;
}

export async function now(hre: HardhatRuntimeEnvironment): Promise<number> {
  return (await hre.ethers.provider.getBlock("latest"))!.timestamp;
}

/** Days since day 0 of the story (fractional). */
export function storyDay(ctx: DemoContext, timestamp: number): number {
  return ctx.t0 === 0 ? 0 : (timestamp - ctx.t0) / DAY;
}

/**
 * The month an event at `timestamp` belongs to: month `m` ends at its payment tick, day `30m + 1` 02:00 (see the
 * timeline), with an hour's slack for the tick's own transactions.
 */
export function monthOf(ctx: DemoContext, timestamp: number): number {
  const sinceFirstTick = timestamp - ctx.t0 - DAY - 3 * HOUR;
  return Math.max(1, Math.ceil(sinceFirstTick / (MONTH_DAYS * DAY)));
}

/** Moves the chain to `timestamp` (Hardhat time helper) unless it is already there or past it. */
export async function moveTo(hre: HardhatRuntimeEnvironment, timestamp: number): Promise<void> {
  if (timestamp > (await now(hre))) await time.increaseTo(timestamp);
}

export function loanOf(ctx: DemoContext, label: DemoLoan["label"]): DemoLoan {
  const loan = ctx.loans.find((l) => l.label === label);
  if (!loan) throw new Error(`loan ${label} is not open yet`);
  return loan;
}

/** sUSDai's price: USDai per share, 18 decimals. */
export function sharePrice(ctx: DemoContext): Promise<bigint> {
  return ctx.fx.susdai.convertToAssets(usd(1));
}

/** Records sUSDai's price now for the chart and the price check; `lossEvent` marks a price move by a loss. */
export async function samplePrice(ctx: DemoContext, label: string, lossEvent = false): Promise<PricePoint> {
  const timestamp = await now(ctx.hre);
  const price = await sharePrice(ctx);
  const point: PricePoint = {
    day: Number(storyDay(ctx, timestamp).toFixed(3)),
    timestamp,
    price: price.toString(),
    priceFloat: Number(price) / 1e18,
    label,
    lossEvent,
  };
  ctx.report.priceSeries.push(point);
  return point;
}

import type { NamedAccount } from "../../config/env";

/**
 * The story the demo tells, in one place: who deposits, which servers back which loan, what the monitoring sources
 * read day by day, when revenue dries up. Every number the chapters act on comes from here; every number they print
 * comes from the chain.
 */

export const MONTHS = 18;

/** Days with a daily oracle reading of loan A: the step-down window (90) and the slump (30). */
export const DAILY_READING_DAYS = 120;
export const STEP_DOWN_DAYS = 90;

// ---------------------------------------------------------------- chapter 1: lenders

export const LENDERS: { name: NamedAccount; usdc: number; stake: number }[] = [
  { name: "lender1", usdc: 1_200_000, stake: 1_000_000 },
  { name: "lender2", usdc: 800_000, stake: 800_000 },
  { name: "lender3", usdc: 500_000, stake: 400_000 },
];

/** Share of the USDC reserves the reserve manager parks in tokenized T-bills. */
export const TBILL_ALLOCATION_BPS = 4_000;

// ---------------------------------------------------------------- chapter 2: the fleet

export interface Server {
  owner: NamedAccount;
  model: string;
  site: string;
  valueUsd: number;
  markdownBpsPerQuarter: number;
  /** Pledged at the draw; otherwise kept as spare capacity (a later top-up). */
  pledged: boolean;
}

const h100 = (pledged: boolean): Server => ({
  owner: "borrower1",
  model: "H100-SXM5-80GB",
  site: "DAL-1",
  valueUsd: 250_000,
  markdownBpsPerQuarter: 1_000,
  pledged,
});
const h200: Server = {
  owner: "borrower2",
  model: "H200-SXM5-141GB",
  site: "PHX-2",
  valueUsd: 320_000,
  markdownBpsPerQuarter: 600,
  pledged: true,
};

/** borrower1 runs five H100 servers at DAL-1 (one spare), borrower2 three H200 servers at PHX-2. */
export const SERVERS: Server[] = [
  h100(true),
  h100(true),
  h100(true),
  h100(true),
  h100(false),
  h200,
  h200,
  h200,
];
export const GPUS_PER_SERVER = 8;
export const RESIDUAL_FLOOR_BPS = 3_000;
/** Insurance binds this share of the appraisal for two years. */
export const INSURED_BPS = 5_000;

// ---------------------------------------------------------------- chapter 3: loans

export interface LoanPlan {
  label: "A" | "B";
  borrower: NamedAccount;
  site: string;
  principalUsd: number;
  /** Net revenue remitted to the lockbox per GPU-hour at 100% utilization, whole dollars. */
  revenuePerGpuHourUsd: number;
  /** The last month whose revenue reaches the lockbox before the operator fails. */
  lastRevenueMonth: number;
  /** What happens after the failure. */
  recovery: "liquidation" | "stepIn";
  /** The replacement operator for a step-in. */
  replacement?: NamedAccount;
  /**
   * The debt-service coverage floor in the loan's terms (bps of debt service; absent: none). The oracle copies it when
   * the loan is configured and checks each signed report's revenue against it; nobody can change it afterwards.
   */
  minDscrBps?: number;
}

/** Loan A is drawn at the origination LTV (60%): the H100 markdowns make the slump's top-up bite. */
export const LOANS: LoanPlan[] = [
  {
    label: "A",
    borrower: "borrower1",
    site: "DAL-1",
    principalUsd: 600_000,
    revenuePerGpuHourUsd: 1.1,
    lastRevenueMonth: 8,
    recovery: "liquidation",
  },
  {
    label: "B",
    borrower: "borrower2",
    site: "PHX-2",
    principalUsd: 520_000,
    revenuePerGpuHourUsd: 1.4,
    lastRevenueMonth: 12,
    recovery: "stepIn",
    replacement: "borrower3",
    minDscrBps: 12_500,
  },
];

// ---------------------------------------------------------------- chapter 5: monitoring

/** Loan A's three feeds; the third misbehaves on the days listed in `FEED_FAULTS`. */
export const FEEDS = [
  { name: "DCIM telemetry", decimals: 8, faulty: false },
  { name: "job scheduler", decimals: 18, faulty: false },
  { name: "BMC power meter", decimals: 8, faulty: true },
] as const;

export type FeedFault = "frozen" | "negative" | "reverting" | "overrange";

/** The faulty feed's bad days: frozen (no update: not newer, then stale), negative, reverting, above 100%. */
export function feedFault(day: number): FeedFault | null {
  if (day >= 17 && day <= 20) return "frozen";
  if (day >= 44 && day <= 46) return "negative";
  if (day >= 71 && day <= 73) return "reverting";
  if (day >= 103 && day <= 104) return "overrange";
  return null;
}

/** A deterministic wobble in [-200, +200] bps (a hash of the day and the source) so sources never agree exactly. */
function jitter(day: number, source: number): number {
  const x = Math.sin(day * 12.9898 + source * 78.233) * 43_758.5453;
  return Math.round((x - Math.floor(x)) * 40 - 20) * 10;
}

/** Loan A's true fleet utilization on `day` of the daily window: busy for 90 days, then a 30-day slump. */
export function utilizationA(day: number): number {
  return day <= STEP_DOWN_DAYS ? 9_350 : 5_000;
}

/** What feed `source` of loan A reads on `day` (bps). */
export function feedReading(day: number, source: number): number {
  return Math.min(10_000, utilizationA(day) + jitter(day, source));
}

/** Loan A's utilization read once a month after the daily window (partial recovery, then customers leave). */
export const MONTHLY_UTILIZATION_A: Record<number, number> = {
  5: 7_200,
  6: 7_600,
  7: 7_400,
  8: 6_800,
  9: 3_600,
};

/**
 * A month of loan B's signed reports: utilization and uptime (bps; the SLA is 95% uptime), and the share of the fleet's
 * revenue at that utilization that was billed (bps; the report's `revenueUsd`, checked against the 1.25x DSCR floor in
 * the loan's terms).
 */
export interface ReportB {
  utilizationBps: number;
  uptimeBps: number;
  billedBps: number;
}

/**
 * Loan B's monthly signed reports: steady (revenue about 1.4x its debt service), then borrower2's operation degrades
 * in month 12: uptime below the SLA, and a customer disputes a quarter of the month's invoices, so the billed revenue
 * falls below the 1.25x DSCR floor in the loan's terms (a DSCR breach beside the SLA breach). It fails in months 13 and
 * 14; from month 15 the replacement operator runs the fleet.
 */
const REPORTS_B: Record<number, Partial<ReportB>> = {
  12: { utilizationBps: 7_100, uptimeBps: 9_300, billedBps: 7_500 },
  13: { utilizationBps: 4_200, uptimeBps: 8_100 },
  14: { utilizationBps: 2_500, uptimeBps: 7_200 },
  15: { utilizationBps: 7_800, uptimeBps: 9_750 },
};
export function reportB(month: number): ReportB {
  return {
    utilizationBps: 8_600 + jitter(month, 0),
    uptimeBps: 9_900 + (jitter(month, 1) >> 2),
    billedBps: 10_000,
    ...REPORTS_B[month],
  };
}

/**
 * Loans whose borrower answers a top-up requirement (three days later, inside the cure period). Loan B's operator is
 * failing when its monthly reports fire the step-up: the requirement stands, unanswered.
 */
export const TOPS_UP = new Set(["A"]);

/**
 * Months in which reporter3's report is late: the keeper submits the other two, which leaves the day open (a subset
 * decides nothing), and reporter3 adds its own before the day's window closes.
 */
export const REPORTER3_LATE = new Set([7, 8]);

// ---------------------------------------------------------------- chapter 7: recovery

/**
 * What the liquidator would pay: this share of the lot's collateral value. The lot's floor is the highest of the 50%
 * floor parameter, the loan's 60% maximum LTV and its reserve, so it waits for the floor.
 */
export const LIQUIDATOR_BID_BPS = 5_300;

// ---------------------------------------------------------------- chapter 8: redemption

/** Share of lender2's sUSDai it asks to redeem at the end. */
export const REDEEM_BPS = 2_500;

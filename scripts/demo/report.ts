/**
 * The shape of reports/demo.json, read back by scripts/check-demo.ts. Raw token amounts are decimal strings in
 * 18-decimal USDai units (or 6-decimal USDC where the name says so); rates, LTVs and utilization are basis points;
 * `day` is days since the first loan's draw.
 */

export interface PricePoint {
  day: number;
  timestamp: number;
  /** USDai per sUSDai share, raw (18 decimals). */
  price: string;
  priceFloat: number;
  label: string;
  /** The move from the previous point includes a loss: an impairment at default or a shortfall written off. */
  lossEvent: boolean;
}

export interface LoanMonth {
  status: string;
  /** The loan's latest oracle utilization this month (null: no reading). */
  utilizationBps: number | null;
  couponBps: number;
  revenue: string;
  /** Swept into the debt: late fees + interest + scheduled principal + prepayment. */
  paid: string;
  interest: string;
  principal: string;
  lateFees: string;
  released: string;
  /** The payment due this month was settled (false: missed or partly paid). */
  settled: boolean | null;
  debt: string;
  ltvBps: number | null;
  note: string;
}

export interface MonthRow {
  month: number;
  day: number;
  timestamp: number;
  loans: Record<string, LoanMonth>;
  /** Sum of `paid` over the loans. */
  paymentsReceived: string;
  sharePrice: string;
  sharePriceFloat: number;
  /** sUSDai's price change over the trailing month, annualized (compounded), as a fraction. */
  trailingApy: number;
  nav: string;
  events: string[];
}

export interface CouponEvent {
  loan: string;
  loanId: string;
  day: number;
  event: string;
  stepId: number | null;
  requestedDeltaBps: number;
  appliedDeltaBps: number;
  premiumBps: number;
  couponBps: number;
  topUpRequired: boolean;
  cureDeadlineDay: number | null;
  ltvBps: number | null;
}

export interface DailyReading {
  day: number;
  observationDay: number;
  /** Per source, in configuration order: the answer in bps, or null when the source was skipped. */
  sources: { name: string; answerBps: number | null; skipped: string | null }[];
  medianBps: number;
  readings: number;
  streakHighDays: number;
  streakLowDays: number;
  event: string;
}

export interface LoanSummary {
  label: string;
  id: string;
  borrower: string;
  site: string;
  principal: string;
  receipts: string[];
  finalStatus: string;
  finalBorrower: string;
  performing: boolean;
  inGoodStanding: boolean;
  debt: string;
  couponBps: number;
}

export interface DemoReport {
  network: string;
  startedAt: string;
  /** Wall-clock seconds of the whole `npm run demo` process. */
  elapsedSeconds: number;
  facts: Record<string, string | number | boolean>;
  chapters: Record<string, unknown>;
  months: MonthRow[];
  couponHistory: CouponEvent[];
  oracle: {
    sources: { loan: string; kind: string; name: string; account: string; faulty: boolean }[];
    daily: DailyReading[];
    skipped: { day: number; loan: string; source: string; reason: string }[];
    /** Covenant flags the upkeep pushed into the LoanVault (`CovenantFlagsSet`): bit 0 SLA, 1 data gap, 2 DSCR. */
    flagPushes: { loan: string; day: number; previousFlags: number; flags: number }[];
    reports: {
      month: number;
      loan: string;
      signers: string[];
      utilizationBps: number;
      uptimeBps: number;
      slaBreach: boolean;
      /** Days the signed reports cover, ending on the reported day (a monthly report: the days since the last one). */
      periodDays: number;
      /** The coupon rules the recorded period fired (`RuleFired`), e.g. "rule 1 fired (+300 bps)". */
      fired: string[];
      /** The period's billed revenue, the median of the reports (`RevenueRecorded`), raw USDai. */
      revenueUsd: string;
      /** The loan's scheduled debt service over the period (`LoanVault.revenueCovenantInputs`), raw USDai. */
      debtServiceUsd: string;
      /** The DSCR floor in the loan's terms as the oracle holds it (`revenueCovenants`), bps (0: none). */
      minDscrBps: number;
      /** The oracle flagged the period below the floor (`DscrBreached`). */
      dscrBreach: boolean;
      /**
       * When a first submission carried only some of the reports: how many, whether it recorded the day (it must
       * not: a day is the median of every reporter's report), and the reports the recorded day counted.
       */
      subset: { firstReports: number; recordedByFirst: boolean; readings: number } | null;
    }[];
  };
  loans: LoanSummary[];
  auction: {
    auctionId: string;
    loan: string;
    loanId: string;
    collateralValue: string;
    startPrice: string;
    floorPrice: string;
    durationSeconds: number;
    boughtAfterSeconds: number;
    buyer: string;
    price: string;
    debtAtDefault: string;
    impairedValue: string;
    /** The loan's lockbox and reserve, added to the price (`AuctionSettled.cashHeld`). */
    cashHeld: string;
    repaid: string;
    /** Late fees paid out of the recovery after the debt (`AuctionSettled.lateFees`). */
    lateFees: string;
    surplus: string;
    loss: string;
    status: string;
    loanStatus: string;
    sharePriceBefore: string;
    sharePriceAfter: string;
  } | null;
  stepIn: {
    loan: string;
    loanId: string;
    day: number;
    previousBorrower: string;
    newBorrower: string;
    debtAtStepIn: string;
    paymentsAfter: number;
    paymentsSettledAfter: number;
    performingAfter: boolean;
    inGoodStandingAtEnd: boolean;
  } | null;
  topUp: {
    loan: string;
    day: number;
    receiptIds: string[];
    ltvBeforeBps: number;
    ltvAfterBps: number;
    maxLtvBps: number;
    cureDeadlineDay: number;
    cleared: boolean;
  } | null;
  redemption: {
    lender: string;
    requestedShares: string;
    requestDay: number;
    serviceDay: number;
    cooldownSeconds: number;
    claimableShares: string;
    claimedAssets: string;
    sharePriceAtService: string;
  } | null;
  priceSeries: PricePoint[];
  svg: string | null;
}

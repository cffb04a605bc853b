/**
 * The indexer's tables. Amounts are raw on-chain integers (USDai units: 18 decimals), rates and LTVs in basis
 * points, times in seconds, exactly as the contracts emit and return them. Each row records the block that wrote
 * it, so every value can be checked against the chain at that block.
 *
 * Ponder keeps these tables reorg-safe: rows written by blocks that a reorg orphans are removed before the new
 * branch is indexed.
 */
import { index, onchainTable, primaryKey } from "ponder";

// ---------------------------------------------------------------- every event

/** Every event of every indexed contract, decoded (bigints as decimal strings). The raw audit trail. */
export const eventLog = onchainTable(
  "event_log",
  (t) => ({
    id: t.text().primaryKey(),
    contract: t.text().notNull(),
    name: t.text().notNull(),
    args: t.json().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({
    contractNameIdx: index().on(table.contract, table.name),
    blockIdx: index().on(table.blockNumber),
  }),
);

// ---------------------------------------------------------------- loans

/** One row per loan: its terms (written at approval) and its state as of the last block that touched it. */
export const loan = onchainTable(
  "loan",
  (t) => ({
    id: t.bigint().primaryKey(),
    borrower: t.hex().notNull(),
    /** GpuReceipt site id (bytes32) every pledged receipt shares. */
    site: t.hex().notNull(),
    /** The site id decoded (an OpenZeppelin ShortString: the text, its length in the last byte). */
    siteName: t.text().notNull(),
    status: t.text().notNull(),
    // terms
    approvedPrincipal: t.bigint().notNull(),
    paymentIntervalSeconds: t.integer().notNull(),
    numPayments: t.integer().notNull(),
    amortizationBps: t.integer().notNull(),
    gracePeriodSeconds: t.integer().notNull(),
    referenceRateFeed: t.hex().notNull(),
    basePremiumBps: t.integer().notNull(),
    premiumFloorBps: t.integer().notNull(),
    premiumCapBps: t.integer().notNull(),
    maxLtvBps: t.integer().notNull(),
    maintenanceLtvBps: t.integer().notNull(),
    slaUptimeBps: t.integer().notNull(),
    approvalExpiry: t.bigint().notNull(),
    // state (read from the vault at `updatedBlock`)
    principal: t.bigint().notNull(),
    debt: t.bigint().notNull(),
    couponBps: t.integer().notNull(),
    premiumBps: t.integer().notNull(),
    referenceRateBps: t.integer().notNull(),
    /** debt / depreciated collateral value in bps; null while nothing is pledged. */
    ltvBps: t.bigint(),
    collateralValue: t.bigint().notNull(),
    lockbox: t.bigint().notNull(),
    reserve: t.bigint().notNull(),
    lateFees: t.bigint().notNull(),
    nextPaymentIndex: t.integer().notNull(),
    receiptCount: t.integer().notNull(),
    breachFlags: t.integer().notNull(),
    oracleFlags: t.integer().notNull(),
    cureDeadline: t.bigint().notNull(),
    impairedValue: t.bigint().notNull(),
    /** The Dutch auction of its receipts, once liquidated. */
    auctionId: t.bigint(),
    // totals from events
    /** Scheduled installments settled (`PaymentSettled`), whether paid by a sweep of the lockbox or a repayment. */
    installmentsSettled: t.integer().notNull(),
    /** Direct repayments (`Repaid`); lockbox sweeps are counted in the `sweep` table. */
    paymentsCount: t.integer().notNull(),
    paidInterest: t.bigint().notNull(),
    paidPrincipal: t.bigint().notNull(),
    paidLateFees: t.bigint().notNull(),
    couponStepsCount: t.integer().notNull(),
    // lifecycle
    approvedBlock: t.bigint().notNull(),
    approvedAt: t.bigint().notNull(),
    drawnAt: t.bigint(),
    defaultedAt: t.bigint(),
    closedAt: t.bigint(),
    updatedBlock: t.bigint().notNull(),
    updatedAt: t.bigint().notNull(),
  }),
  (table) => ({
    borrowerIdx: index().on(table.borrower),
    statusIdx: index().on(table.status),
  }),
);

/**
 * The loan tape: one row per LoanVault event about a loan, in chain order, with the loan's state read at the end of
 * that event's block (debt, principal, coupon, LTV, collateral value, status).
 */
export const loanEvent = onchainTable(
  "loan_event",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    kind: t.text().notNull(),
    args: t.json().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
    status: t.text().notNull(),
    principal: t.bigint().notNull(),
    debt: t.bigint().notNull(),
    couponBps: t.integer().notNull(),
    ltvBps: t.bigint(),
    collateralValue: t.bigint().notNull(),
  }),
  (table) => ({
    loanIdx: index().on(table.loanId, table.blockNumber, table.logIndex),
  }),
);

/** Every application of money to a loan (`Repaid`): a direct repayment or a lockbox sweep's waterfall. */
export const payment = onchainTable(
  "payment",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    payer: t.hex().notNull(),
    lateFees: t.bigint().notNull(),
    interest: t.bigint().notNull(),
    scheduledPrincipal: t.bigint().notNull(),
    prepayment: t.bigint().notNull(),
    total: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

/** Lockbox sweeps (`Swept`): what the waterfall applied, topped up the reserve with, and left as excess. */
export const sweep = onchainTable(
  "sweep",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    applied: t.bigint().notNull(),
    reserve: t.bigint().notNull(),
    excess: t.bigint().notNull(),
    cashSweep: t.boolean().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

/** Oracle coupon steps as the vault applied them (`CouponStepApplied`), with the coupon after the step. */
export const couponStep = onchainTable(
  "coupon_step",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    stepId: t.bigint().notNull(),
    requestedDeltaBps: t.integer().notNull(),
    appliedDeltaBps: t.integer().notNull(),
    topUpRequired: t.boolean().notNull(),
    cureDeadline: t.bigint().notNull(),
    couponBps: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

/**
 * Covenant flag changes: `oracle` rows are the oracle's pushes (`CovenantFlagsSet`, bit 0 = SLA breach), `vault` rows
 * the vault's own breach flags (`BreachFlagsSet`: LTV, top-up) with their cure deadline.
 */
export const covenantFlag = onchainTable(
  "covenant_flag",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    source: t.text().notNull(),
    previousFlags: t.integer(),
    flags: t.integer().notNull(),
    cureDeadline: t.bigint(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

// ---------------------------------------------------------------- oracle

/**
 * The oracle's recorded day per loan (`ObservationRecorded`): median utilization and uptime of `readings` sources over
 * the `periodDays` days ending on `day` (1: a daily observation).
 */
export const oracleObservation = onchainTable(
  "oracle_observation",
  (t) => ({
    loanId: t.bigint().notNull(),
    day: t.integer().notNull(),
    periodDays: t.integer().notNull(),
    utilizationBps: t.integer().notNull(),
    uptimeBps: t.integer().notNull(),
    readings: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.loanId, table.day] }) }),
);

/**
 * One source's reading for a loan and day: each signed report of a `submitReport` call (the signer recovered from
 * its EIP-712 signature), so a faulty source shows up next to the median it did not move.
 */
export const oracleReading = onchainTable(
  "oracle_reading",
  (t) => ({
    loanId: t.bigint().notNull(),
    day: t.integer().notNull(),
    source: t.hex().notNull(),
    periodDays: t.integer().notNull(),
    utilizationBps: t.integer().notNull(),
    uptimeBps: t.integer().notNull(),
    blockNumber: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.loanId, table.day, table.source] }) }),
);

/**
 * The oracle's configuration of a loan: its sources and quorum (`LoanConfigured`), the revenue covenants it copied
 * from the loan's terms (`RevenueCovenantsSet`, `MaxGapDaysSet`; null while it holds none, as when it has no
 * LoanVault) and the covenant flags its latest observations call for (`CovenantFlagsChanged`: bit 0 SLA breach, bit
 * 1 data gap, bit 2 DSCR breach, bit 3 revenue shortfall; the vault's copy is `loan.oracleFlags`, set by pushes).
 */
export const oracleLoan = onchainTable("oracle_loan", (t) => ({
  loanId: t.bigint().primaryKey(),
  sourceCount: t.integer(),
  quorum: t.integer(),
  maxStalenessSeconds: t.integer(),
  /** Debt-service coverage floor in bps of the period's debt service (0: off). */
  minDscrBps: t.integer(),
  /** Whether lockbox deposits are compared with the reported revenue. */
  lockboxCheck: t.boolean(),
  /** How far deposits may fall short of the reported revenue, in bps of it. */
  shortfallToleranceBps: t.integer(),
  /** Missing days tolerated before a data-gap flag (0: never). */
  maxGapDays: t.integer(),
  flags: t.integer().notNull(),
  updatedBlock: t.bigint().notNull(),
  updatedAt: t.bigint().notNull(),
}));

/**
 * The revenue billed over a loan's reported period (`RevenueRecorded`, beside the period's `ObservationRecorded`):
 * `revenueUsd` (USDai units, 18 decimals) over the `periodDays` days ending on `day`, the median of its reports.
 */
export const oracleRevenue = onchainTable(
  "oracle_revenue",
  (t) => ({
    loanId: t.bigint().notNull(),
    day: t.integer().notNull(),
    periodDays: t.integer().notNull(),
    revenueUsd: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.loanId, table.day] }) }),
);

/**
 * The oracle's revenue and data covenant events, one row each, with the event's figures (columns another kind does
 * not carry are null):
 * - `dscr-breach` (`DscrBreached`): the period ending on `day` billed `revenueUsd`, below `minDscrBps` of its debt
 *   service `debtServiceUsd`;
 * - `revenue-shortfall` (`RevenueShortfall`): `depositedUsd` reached the lockbox against the `revenueUsd` reported for
 *   the period ending on `day`, short by more than `shortfallToleranceBps`;
 * - `data-gap` (`DataGapFlagged`): `missingDays` closed days after `lastDay`, the last observed day, more than
 *   `maxGapDays`.
 */
export const oracleCovenantEvent = onchainTable(
  "oracle_covenant_event",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    kind: t.text().notNull(),
    day: t.integer(),
    revenueUsd: t.bigint(),
    debtServiceUsd: t.bigint(),
    minDscrBps: t.integer(),
    depositedUsd: t.bigint(),
    shortfallToleranceBps: t.integer(),
    lastDay: t.integer(),
    missingDays: t.bigint(),
    maxGapDays: t.integer(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    logIndex: t.integer().notNull(),
  }),
  (table) => ({
    loanIdx: index().on(table.loanId, table.blockNumber, table.logIndex),
    kindIdx: index().on(table.kind),
  }),
);

/** A source the oracle ignored (`SourceSkipped`): stale, future, out of range, replayed... */
export const oracleSourceSkip = onchainTable(
  "oracle_source_skip",
  (t) => ({
    id: t.text().primaryKey(),
    loanId: t.bigint().notNull(),
    source: t.hex().notNull(),
    reason: t.text().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

// ---------------------------------------------------------------- collateral

/** GpuReceipt NFTs: the asset, its serials count, appraisal and depreciation, insurance, owner and pledge. */
export const receipt = onchainTable(
  "receipt",
  (t) => ({
    id: t.bigint().primaryKey(),
    owner: t.hex().notNull(),
    custodian: t.hex().notNull(),
    model: t.text().notNull(),
    gpuCount: t.integer().notNull(),
    site: t.text().notNull(),
    serialsCount: t.integer().notNull(),
    attestationDigest: t.hex().notNull(),
    status: t.text().notNull(),
    appraisedValue: t.bigint(),
    appraisedAt: t.bigint(),
    markdownBpsPerQuarter: t.integer(),
    residualFloorBps: t.integer(),
    appraiser: t.hex(),
    insuredValue: t.bigint(),
    insuranceExpiry: t.bigint(),
    insurer: t.hex(),
    policyHash: t.hex(),
    /** The loan it is pledged to, if any (the LoanVault holds it). */
    loanId: t.bigint(),
    mintedBlock: t.bigint().notNull(),
    mintedAt: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ ownerIdx: index().on(table.owner), loanIdx: index().on(table.loanId) }),
);

/** Dutch auctions of defaulted loans' receipts, with their outcome. */
export const auction = onchainTable(
  "auction",
  (t) => ({
    id: t.bigint().primaryKey(),
    loanId: t.bigint().notNull(),
    startPrice: t.bigint().notNull(),
    floorPrice: t.bigint().notNull(),
    endsAt: t.bigint().notNull(),
    receiptIds: t.json().notNull(),
    status: t.text().notNull(),
    buyer: t.hex(),
    price: t.bigint(),
    proceeds: t.bigint(),
    cashHeld: t.bigint(),
    repaid: t.bigint(),
    lateFees: t.bigint(),
    surplus: t.bigint(),
    loss: t.bigint(),
    startedBlock: t.bigint().notNull(),
    startedAt: t.bigint().notNull(),
    endedAt: t.bigint(),
  }),
  (table) => ({ loanIdx: index().on(table.loanId) }),
);

/** Bids: in a Dutch auction the first buyer at the running price wins, so each bid is a purchase. */
export const auctionBid = onchainTable("auction_bid", (t) => ({
  id: t.text().primaryKey(),
  auctionId: t.bigint().notNull(),
  loanId: t.bigint().notNull(),
  buyer: t.hex().notNull(),
  price: t.bigint().notNull(),
  blockNumber: t.bigint().notNull(),
  timestamp: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
}));

// ---------------------------------------------------------------- sUSDai

/**
 * sUSDai's price per block (every `SUSDAI_SNAPSHOT_INTERVAL` blocks): NAV, supply, USDai per whole share, and the
 * trailing APY over `SUSDAI_APY_WINDOW_DAYS` (compounded, from the latest snapshot at least a window old; null
 * while the history is shorter than the window).
 */
export const susdaiSnapshot = onchainTable(
  "susdai_snapshot",
  (t) => ({
    blockNumber: t.bigint().primaryKey(),
    timestamp: t.bigint().notNull(),
    totalAssets: t.bigint().notNull(),
    totalSupply: t.bigint().notNull(),
    /** USDai units per 1e18 share units (`convertToAssets(1e18)`). */
    pricePerShare: t.bigint().notNull(),
    loanAssets: t.bigint().notNull(),
    trailingApy: t.doublePrecision(),
    apyWindowSeconds: t.integer().notNull(),
  }),
  (table) => ({ timestampIdx: index().on(table.timestamp) }),
);

/** ERC-7540 redemption requests, from request through servicing (FIFO, partial fills) to claim. */
export const redemption = onchainTable(
  "redemption",
  (t) => ({
    /** Position in the sUSDai queue (the index `RedeemRequestServiced` reports). */
    id: t.bigint().primaryKey(),
    controller: t.hex().notNull(),
    owner: t.hex().notNull(),
    sender: t.hex().notNull(),
    shares: t.bigint().notNull(),
    claimableAt: t.bigint().notNull(),
    servicedShares: t.bigint().notNull(),
    servicedAssets: t.bigint().notNull(),
    claimedShares: t.bigint().notNull(),
    claimedAssets: t.bigint().notNull(),
    /** pending, partially_serviced, serviced, claimed */
    status: t.text().notNull(),
    requestedBlock: t.bigint().notNull(),
    requestedAt: t.bigint().notNull(),
    servicedAt: t.bigint(),
    claimedAt: t.bigint(),
  }),
  (table) => ({ controllerIdx: index().on(table.controller), statusIdx: index().on(table.status) }),
);

/** Queue totals (one row, id "sUSDai"): next index to service, next index to assign, shares waiting. */
export const redemptionQueue = onchainTable("redemption_queue", (t) => ({
  id: t.text().primaryKey(),
  head: t.bigint().notNull(),
  tail: t.bigint().notNull(),
  pendingShares: t.bigint().notNull(),
  claimableShares: t.bigint().notNull(),
  claimableAssets: t.bigint().notNull(),
  updatedBlock: t.bigint().notNull(),
}));

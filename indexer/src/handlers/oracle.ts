/**
 * UtilizationOracle: the recorded day per loan, each source's reading (from the signed reports of `submitReport`),
 * the sources the oracle skipped, each reported period's revenue, the covenant events (DSCR breach, revenue
 * shortfall, data gap) and the loan's oracle configuration (sources, covenants, current flags).
 */
import type { Context } from "ponder:registry";
import {
  oracleCovenantEvent,
  oracleLoan,
  oracleObservation,
  oracleReading,
  oracleRevenue,
  oracleSourceSkip,
} from "ponder:schema";
import { decodeFunctionData, recoverTypedDataAddress, type Hex, type TypedDataDomain } from "viem";

import { UtilizationOracleAbi } from "../../abis/generated";
import { SKIP_REASONS, type OracleCovenantKind } from "../constants";
import { on } from "../registry";
import { position } from "../util";

/** The EIP-712 `Report` type the reporters sign (UtilizationOracle's REPORT_TYPEHASH). */
const REPORT_TYPES = {
  Report: [
    { name: "loanId", type: "uint256" },
    { name: "utilizationBps", type: "uint16" },
    { name: "uptimeBps", type: "uint16" },
    { name: "day", type: "uint32" },
    { name: "periodDays", type: "uint16" },
    { name: "revenueUsd", type: "uint128" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The oracle's EIP-712 domain, read once from its EIP-5267 `eip712Domain()`. */
let domain: Promise<TypedDataDomain> | undefined;

function oracleDomain(context: Context): Promise<TypedDataDomain> {
  domain ??= context.client
    .readContract({
      abi: UtilizationOracleAbi,
      address: context.contracts.UtilizationOracle.address,
      functionName: "eip712Domain",
    })
    .then(([, name, version, chainId, verifyingContract]) => ({
      name,
      version,
      chainId: Number(chainId),
      verifyingContract,
    }))
    .catch((err: unknown) => {
      domain = undefined;
      throw err;
    });
  return domain;
}

/** Decodes a direct `submitReport` call; anything else (a feed `poke`, a call through another contract) is null. */
function submittedReports(input: Hex) {
  try {
    const call = decodeFunctionData({ abi: UtilizationOracleAbi, data: input });
    return call.functionName === "submitReport" ? { reports: call.args[0], signatures: call.args[1] } : null;
  } catch {
    return null;
  }
}

/**
 * Each source's signed reading for `loanId`'s `day` carried by the event's transaction, when it is a direct
 * `submitReport`. A day's reports may arrive in several submissions (`ReportsCollected`, then `ObservationRecorded`);
 * the oracle counts a reporter's first report for a day, and so does the primary key here.
 */
async function recordReadings(
  event: { transaction: { to: Hex | null; input: Hex; hash: Hex }; block: { number: bigint } },
  context: Context,
  loanId: bigint,
  day: number,
): Promise<void> {
  const submitted =
    event.transaction.to?.toLowerCase() === context.contracts.UtilizationOracle.address.toLowerCase()
      ? submittedReports(event.transaction.input)
      : null;
  if (!submitted) return;
  const typedDomain = await oracleDomain(context);
  for (const [i, report] of submitted.reports.entries()) {
    if (report.loanId !== loanId || report.day !== day) continue;
    const source = await recoverTypedDataAddress({
      domain: typedDomain,
      types: REPORT_TYPES,
      primaryType: "Report",
      message: report,
      signature: submitted.signatures[i]!,
    });
    await context.db
      .insert(oracleReading)
      .values({
        loanId,
        day,
        source,
        periodDays: report.periodDays,
        utilizationBps: report.utilizationBps,
        uptimeBps: report.uptimeBps,
        blockNumber: event.block.number,
        transactionHash: event.transaction.hash,
      })
      .onConflictDoNothing();
  }
}

on("UtilizationOracle:ObservationRecorded", async ({ event, context }) => {
  const { loanId, day, periodDays, utilizationBps, uptimeBps, readings } = event.args;
  await context.db.insert(oracleObservation).values({
    loanId,
    day,
    periodDays,
    utilizationBps,
    uptimeBps,
    readings: Number(readings),
    ...position(event),
  });
  await recordReadings(event, context, loanId, day);
});

on("UtilizationOracle:ReportsCollected", async ({ event, context }) => {
  await recordReadings(event, context, event.args.loanId, event.args.day);
});

on("UtilizationOracle:SourceSkipped", async ({ event, context }) => {
  await context.db.insert(oracleSourceSkip).values({
    id: event.id,
    loanId: event.args.loanId,
    source: event.args.source,
    reason: SKIP_REASONS[event.args.reason] ?? `Unknown(${event.args.reason})`,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
  });
});

on("UtilizationOracle:RevenueRecorded", async ({ event, context }) => {
  const { loanId, day, periodDays, revenueUsd } = event.args;
  await context.db.insert(oracleRevenue).values({
    loanId,
    day,
    periodDays,
    revenueUsd,
    ...position(event),
    logIndex: event.log.logIndex,
  });
});

type OracleLoanFields = Partial<
  Omit<typeof oracleLoan.$inferInsert, "loanId" | "updatedBlock" | "updatedAt">
>;

/** Writes `fields` to the loan's `oracle_loan` row, creating it (no flags, nothing else known) on its first event. */
async function updateOracleLoan(
  context: Context,
  event: { block: { number: bigint; timestamp: bigint } },
  loanId: bigint,
  fields: OracleLoanFields,
): Promise<void> {
  const stamp = { updatedBlock: event.block.number, updatedAt: event.block.timestamp };
  await context.db
    .insert(oracleLoan)
    .values({ loanId, flags: 0, ...fields, ...stamp })
    .onConflictDoUpdate({ ...fields, ...stamp });
}

on("UtilizationOracle:LoanConfigured", async ({ event, context }) => {
  const { loanId, sources, quorum, maxStaleness } = event.args;
  await updateOracleLoan(context, event, loanId, {
    sourceCount: sources.length,
    quorum,
    maxStalenessSeconds: maxStaleness,
  });
});

on("UtilizationOracle:RevenueCovenantsSet", async ({ event, context }) => {
  const { loanId, minDscrBps, lockboxCheck, shortfallToleranceBps } = event.args;
  await updateOracleLoan(context, event, loanId, { minDscrBps, lockboxCheck, shortfallToleranceBps });
});

on("UtilizationOracle:MaxGapDaysSet", async ({ event, context }) => {
  await updateOracleLoan(context, event, event.args.loanId, { maxGapDays: event.args.maxGapDays });
});

on("UtilizationOracle:CovenantFlagsChanged", async ({ event, context }) => {
  await updateOracleLoan(context, event, event.args.loanId, { flags: event.args.flags });
});

type CovenantFigures = Omit<
  typeof oracleCovenantEvent.$inferInsert,
  "id" | "loanId" | "kind" | "blockNumber" | "timestamp" | "transactionHash" | "logIndex"
>;

async function recordCovenantEvent(
  context: Context,
  event: {
    id: string;
    log: { logIndex: number };
    block: { number: bigint; timestamp: bigint };
    transaction: { hash: Hex };
  },
  loanId: bigint,
  kind: OracleCovenantKind,
  figures: CovenantFigures,
): Promise<void> {
  await context.db.insert(oracleCovenantEvent).values({
    id: event.id,
    loanId,
    kind,
    ...figures,
    ...position(event),
    logIndex: event.log.logIndex,
  });
}

on("UtilizationOracle:DscrBreached", async ({ event, context }) => {
  const { loanId, day, revenueUsd, debtServiceUsd, minDscrBps } = event.args;
  await recordCovenantEvent(context, event, loanId, "dscr-breach", {
    day,
    revenueUsd,
    debtServiceUsd,
    minDscrBps,
  });
});

on("UtilizationOracle:RevenueShortfall", async ({ event, context }) => {
  const { loanId, day, revenueUsd, depositedUsd, shortfallToleranceBps } = event.args;
  await recordCovenantEvent(context, event, loanId, "revenue-shortfall", {
    day,
    revenueUsd,
    depositedUsd,
    shortfallToleranceBps,
  });
});

on("UtilizationOracle:DataGapFlagged", async ({ event, context }) => {
  const { loanId, lastDay, missingDays, maxGapDays } = event.args;
  await recordCovenantEvent(context, event, loanId, "data-gap", { lastDay, missingDays, maxGapDays });
});

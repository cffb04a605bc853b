import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

/**
 * A reporter's reading of one loan's fleet over the `periodDays` days ending on `day`, as
 * `UtilizationOracle.submitReport` takes it.
 */
export interface Report {
  loanId: bigint;
  /** The period's average, basis points of capacity, at most 10_000. */
  utilizationBps: number;
  /** The period's average, basis points of capacity, at most 10_000. */
  uptimeBps: number;
  /** Observation day: `timestamp / 86400`, the last day of the period. */
  day: number;
  /** Days the report covers, ending on `day`: 1 (daily) to `MAX_REPORT_PERIOD_DAYS`. */
  periodDays: number;
  /** The period's billed revenue, USDai units (18 decimals). */
  revenueUsd: bigint;
  /** Last timestamp (seconds) at which the report may be submitted. */
  deadline: bigint;
}

/** A report with its signer's EIP-712 signature. */
export interface SignedReport {
  signer: string;
  report: Report;
  signature: string;
}

/** EIP-712 types of a report; identical to `REPORT_TYPEHASH` in contracts/interfaces/IUtilizationOracle.sol. */
export const REPORT_TYPES: Record<string, TypedDataField[]> = {
  Report: [
    { name: "loanId", type: "uint256" },
    { name: "utilizationBps", type: "uint16" },
    { name: "uptimeBps", type: "uint16" },
    { name: "day", type: "uint32" },
    { name: "periodDays", type: "uint16" },
    { name: "revenueUsd", type: "uint128" },
    { name: "deadline", type: "uint64" },
  ],
};

/** The part of the oracle contract the helpers need (any typed or untyped ethers contract fits). */
export interface ReportOracle {
  getAddress(): Promise<string>;
}

/** The oracle's EIP-712 domain: name "UtilizationOracle", version "1", this chain and this oracle. */
export async function reportDomain(oracle: ReportOracle, signer: Signer): Promise<TypedDataDomain> {
  const { chainId } = await signer.provider!.getNetwork();
  return { name: "UtilizationOracle", version: "1", chainId, verifyingContract: await oracle.getAddress() };
}

/**
 * Signs `report` for `oracle` with `signer`. `domain` overrides fields of the oracle's domain (tests use it to sign
 * for another chain or contract).
 */
export async function signReport(
  signer: Signer,
  oracle: ReportOracle,
  report: Report,
  domain: Partial<TypedDataDomain> = {},
): Promise<SignedReport> {
  const fullDomain = { ...(await reportDomain(oracle, signer)), ...domain };
  const signature = await signer.signTypedData(fullDomain, REPORT_TYPES, report);
  return { signer: await signer.getAddress(), report, signature };
}

/**
 * Orders signed reports by signer address, ascending, as `submitReport` requires, and splits them into its two
 * arguments.
 */
export function toSubmission(signed: SignedReport[]): { reports: Report[]; signatures: string[] } {
  const sorted = [...signed].sort((a, b) => {
    const x = BigInt(a.signer);
    const y = BigInt(b.signer);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { reports: sorted.map((s) => s.report), signatures: sorted.map((s) => s.signature) };
}

/** Each `signers[i]` signs `reports[i]`; returns `submitReport`'s arguments, ordered by signer. */
export async function signReports(
  oracle: ReportOracle,
  entries: { signer: Signer; report: Report }[],
): Promise<{ reports: Report[]; signatures: string[] }> {
  return toSubmission(
    await Promise.all(entries.map(({ signer, report }) => signReport(signer, oracle, report))),
  );
}

/** `MAX_REPORT_PERIOD_DAYS` in IUtilizationOracle.sol: the longest period a report may cover. */
export const MAX_REPORT_PERIOD_DAYS = 92;

/** The observation day of a timestamp in seconds. */
export function dayOf(timestamp: number | bigint): number {
  return Number(BigInt(timestamp) / 86_400n);
}

/**
 * The day a reporter that reads once in a while (not every day) reports at `timestamp`: today once `windowSeconds`
 * (`UtilizationOracle.reportWindow()`) of today have passed, else yesterday. The oracle opens a day after a day it did
 * not record only once that day has closed, `windowSeconds` after it ended, so that reports for one day cannot cut
 * short the window of the day before; until then the latest day it accepts is yesterday, whose window is still open.
 */
export function reportableDay(timestamp: number | bigint, windowSeconds: number | bigint): number {
  const today = dayOf(timestamp);
  return BigInt(timestamp) >= BigInt(today) * 86_400n + BigInt(windowSeconds) ? today : today - 1;
}

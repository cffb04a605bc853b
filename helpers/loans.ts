import { getBytes, hexlify, toUtf8Bytes, toUtf8String, ZeroAddress } from "ethers";

import type { ILoanVault } from "../typechain-types";

/** `ILoanVault.LoanStatus`. */
export const LoanStatus = {
  None: 0n,
  Approved: 1n,
  Active: 2n,
  Repaid: 3n,
  Defaulted: 4n,
  Liquidating: 5n,
  Recovered: 6n,
  WrittenOff: 7n,
  Closed: 8n,
  Cancelled: 9n,
} as const;

/** Vault covenant flags (`contracts/credit/logic/LoanConstants.sol`): maintenance-LTV breach and required top-up. */
export const BreachFlags = { Ltv: 1n, TopUp: 2n } as const;

export const DAY = 24 * 60 * 60;

/**
 * The `bytes32` key GpuReceipt's `siteOf` returns for a site name: OpenZeppelin's ShortString encoding (the UTF-8
 * bytes left-aligned, the length in the last byte). Loan terms name their site with it.
 */
export function siteKey(site: string): string {
  const bytes = getBytes(toUtf8Bytes(site));
  if (bytes.length === 0 || bytes.length > 31) throw new Error(`site "${site}" must be 1 to 31 bytes`);
  const word = new Uint8Array(32);
  word.set(bytes);
  word[31] = bytes.length;
  return hexlify(word);
}

export type LoanTerms = ILoanVault.LoanTermsStruct;

/**
 * Loan terms with the protocol's house defaults: 36 monthly payments amortizing 2% of principal each (a 28% balloon),
 * a 4.30% fixed reference rate plus a 6.00% premium within [2%, 12%], 60% origination and 75% maintenance LTV, 5 days
 * of grace, a 25-day default window, a 5% late penalty, 95% uptime SLA, a 3% debt-service reserve and a 14-day cure
 * period; no revenue or data-gap covenants (the oracle's `minDscrBps`, `lockboxCheck`, `shortfallToleranceBps`,
 * `maxGapDays` terms are 0 / off). `now` anchors the approval expiry (7 days).
 */
export function loanTerms(
  borrower: string,
  principal: bigint,
  site: string,
  now: number,
  overrides: Partial<LoanTerms> = {},
): LoanTerms {
  return {
    borrower,
    paymentIntervalSeconds: 30 * DAY,
    numPayments: 36,
    amortizationBps: 200,
    basePremiumBps: 600,
    slaUptimeBps: 9_500,
    referenceRateFeed: ZeroAddress,
    referenceRateBps: 430,
    premiumFloorBps: 200,
    premiumCapBps: 1_200,
    maxLtvBps: 6_000,
    maintenanceLtvBps: 7_500,
    latePenaltyBps: 500,
    principal,
    gracePeriodSeconds: 5 * DAY,
    defaultWindowSeconds: 25 * DAY,
    curePeriodSeconds: 14 * DAY,
    debtServiceReserveBps: 300,
    approvalExpiry: now + 7 * DAY,
    site: siteKey(site),
    minDscrBps: 0,
    lockboxCheck: false,
    shortfallToleranceBps: 0,
    maxGapDays: 0,
    ...overrides,
  };
}

/** The site name a `siteKey` encodes (the inverse of `siteKey`); a key that is not a ShortString is returned as hex. */
export function siteName(key: string): string {
  const bytes = getBytes(key);
  const length = bytes[31];
  if (bytes.length !== 32 || length === 0 || length > 31 || bytes.slice(length, 31).some((b) => b !== 0)) {
    return key;
  }
  return toUtf8String(bytes.slice(0, length));
}

/**
 * The indexer's HTTP API (indexer/src/api): REST for loans, tapes, the sUSDai price history and the redemption queue,
 * GraphQL for the rest (receipts, sweeps, oracle observations). Amounts arrive as decimal strings; `big` converts.
 */
import { useQuery } from "@tanstack/react-query";

import { config } from "../config";

export type Big = string;

export function big(value: Big | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${config.indexerUrl}${path}`);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(`indexer ${path}: ${res.status} ${body.error ?? res.statusText}`);
  }
  return (await res.json()) as T;
}

export async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${config.indexerUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (!body.data)
    throw new Error(`indexer GraphQL: ${body.errors?.map((e) => e.message).join("; ") ?? res.status}`);
  return body.data;
}

export interface IndexedLoan {
  id: Big;
  borrower: string;
  site: string;
  siteName: string;
  status: string;
  approvedPrincipal: Big;
  numPayments: number;
  paymentIntervalSeconds: number;
  principal: Big;
  debt: Big;
  couponBps: number;
  ltvBps: Big | null;
  collateralValue: Big;
  lockbox: Big;
  breachFlags: number;
  oracleFlags: number;
  cureDeadline: Big;
  auctionId: Big | null;
  paidInterest: Big;
  paidPrincipal: Big;
  paidLateFees: Big;
  drawnAt: Big | null;
  defaultedAt: Big | null;
}

export interface TapeEvent {
  id: string;
  kind: string;
  args: Record<string, unknown>;
  blockNumber: Big;
  timestamp: Big;
  transactionHash: string;
  status: string;
  principal: Big;
  debt: Big;
  couponBps: number;
  ltvBps: Big | null;
}

export interface Payment {
  id: string;
  payer: string;
  lateFees: Big;
  interest: Big;
  scheduledPrincipal: Big;
  prepayment: Big;
  total: Big;
  timestamp: Big;
  transactionHash: string;
}

export interface CouponStep {
  id: string;
  requestedDeltaBps: number;
  appliedDeltaBps: number;
  topUpRequired: boolean;
  cureDeadline: Big;
  couponBps: number;
  timestamp: Big;
}

export interface CovenantFlag {
  id: string;
  source: string;
  previousFlags: number | null;
  flags: number;
  cureDeadline: Big | null;
  timestamp: Big;
}

export interface Tape {
  loan: IndexedLoan;
  events: TapeEvent[];
  payments: Payment[];
  couponSteps: CouponStep[];
  covenantFlags: CovenantFlag[];
}

export interface Snapshot {
  blockNumber: Big;
  timestamp: Big;
  totalAssets: Big;
  totalSupply: Big;
  pricePerShare: Big;
  loanAssets: Big;
  trailingApy: number | null;
}

export interface Redemption {
  id: Big;
  controller: string;
  shares: Big;
  claimableAt: Big;
  servicedShares: Big;
  servicedAssets: Big;
  claimedShares: Big;
  status: string;
  requestedAt: Big;
}

export interface Queue {
  queue: { head: Big; tail: Big; pendingShares: Big; claimableShares: Big; claimableAssets: Big };
  requests: Redemption[];
}

export interface Sweep {
  id: string;
  applied: Big;
  reserve: Big;
  excess: Big;
  cashSweep: boolean;
  timestamp: Big;
  transactionHash: string;
}

export interface Observation {
  day: number;
  utilizationBps: number;
  uptimeBps: number;
  readings: number;
  timestamp: Big;
}

export interface IndexedReceipt {
  id: Big;
  owner: string;
  custodian: string;
  model: string;
  gpuCount: number;
  site: string;
  serialsCount: number;
  status: string;
  appraisedValue: Big | null;
  appraisedAt: Big | null;
  markdownBpsPerQuarter: number | null;
  residualFloorBps: number | null;
  insuredValue: Big | null;
  insuranceExpiry: Big | null;
  insurer: string | null;
  policyHash: string | null;
  loanId: Big | null;
  mintedAt: Big;
}

export interface IndexedAuction {
  id: Big;
  loanId: Big;
  startPrice: Big;
  floorPrice: Big;
  endsAt: Big;
  status: string;
  buyer: string | null;
  price: Big | null;
  proceeds: Big | null;
  repaid: Big | null;
  surplus: Big | null;
  loss: Big | null;
  startedAt: Big;
}

const refetchInterval = () => config.pollMs;

export function useLoans() {
  return useQuery({
    queryKey: ["indexer", "loans"],
    queryFn: () => get<{ total: number; loans: IndexedLoan[] }>("/loans?limit=1000"),
    refetchInterval,
  });
}

export function useTape(loanId: bigint | undefined) {
  return useQuery({
    queryKey: ["indexer", "tape", loanId?.toString()],
    queryFn: () => get<Tape>(`/loans/${loanId}/tape`),
    enabled: loanId !== undefined,
    refetchInterval,
  });
}

export function useSusdaiHistory() {
  return useQuery({
    queryKey: ["indexer", "susdai"],
    queryFn: () => get<{ snapshots: Snapshot[] }>("/susdai/history?order=desc&limit=1000"),
    refetchInterval,
  });
}

export function useQueue(controller: string | undefined) {
  return useQuery({
    queryKey: ["indexer", "queue", controller],
    queryFn: () => get<Queue>(`/queue${controller ? `?controller=${controller.toLowerCase()}` : ""}`),
    refetchInterval,
  });
}

export function useLoanHistory(loanId: bigint | undefined) {
  return useQuery({
    queryKey: ["indexer", "loan-history", loanId?.toString()],
    enabled: loanId !== undefined,
    refetchInterval,
    queryFn: () =>
      graphql<{
        sweeps: { items: Sweep[] };
        oracleObservations: { items: Observation[] };
        revenue: { items: { args: { amount?: string }; timestamp: Big }[] };
      }>(
        `
          query ($loanId: BigInt!) {
            sweeps(where: { loanId: $loanId }, orderBy: "blockNumber", orderDirection: "asc", limit: 1000) {
              items {
                id
                applied
                reserve
                excess
                cashSweep
                timestamp
                transactionHash
              }
            }
            oracleObservations(
              where: { loanId: $loanId }
              orderBy: "day"
              orderDirection: "asc"
              limit: 1000
            ) {
              items {
                day
                utilizationBps
                uptimeBps
                readings
                timestamp
              }
            }
            revenue: loanEvents(where: { loanId: $loanId, kind: "RevenueDeposited" }, limit: 1000) {
              items {
                args
                timestamp
              }
            }
          }
        `,
        { loanId: loanId?.toString() },
      ),
  });
}

export function useReceipts() {
  return useQuery({
    queryKey: ["indexer", "receipts"],
    refetchInterval,
    queryFn: () =>
      graphql<{ receipts: { items: IndexedReceipt[] } }>(`
        {
          receipts(orderBy: "id", orderDirection: "asc", limit: 1000) {
            items {
              id
              owner
              custodian
              model
              gpuCount
              site
              serialsCount
              status
              appraisedValue
              appraisedAt
              markdownBpsPerQuarter
              residualFloorBps
              insuredValue
              insuranceExpiry
              insurer
              policyHash
              loanId
              mintedAt
            }
          }
        }
      `),
  });
}

export function useAuctions() {
  return useQuery({
    queryKey: ["indexer", "auctions"],
    refetchInterval,
    queryFn: () =>
      graphql<{ auctions: { items: IndexedAuction[] } }>(`
        {
          auctions(orderBy: "id", orderDirection: "asc", limit: 1000) {
            items {
              id
              loanId
              startPrice
              floorPrice
              endsAt
              status
              buyer
              price
              proceeds
              repaid
              surplus
              loss
              startedAt
            }
          }
        }
      `),
  });
}

import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { DAY } from "../../helpers/loans";
import type { ProtocolFixture } from "../fixtures/protocol";
import { now } from "./loans";

/**
 * Shared pieces of the recovery tests (default, auction, step-in): a bigint model of interest, late fees,
 * impairment, the Dutch auction curve and the settlement split, each written from the specification and
 * independent of the contracts, plus a few drivers.
 */

export const BPS = 10_000n;
export const SECONDS_PER_YEAR = 31_536_000n;
export const INTEREST_DENOMINATOR = BPS * SECONDS_PER_YEAR;

export const ceilDiv = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Interest booked at one per-loan checkpoint: `ceil(principal x coupon x seconds / (10,000 x 31,536,000))`. */
export function interestFor(principal: bigint, couponBps: bigint, seconds: bigint): bigint {
  return ceilDiv(principal * couponBps * seconds, INTEREST_DENOMINATOR);
}

/** Interest over `seconds` of the exact aggregate (what `loanAssets()` shows between checkpoints): floored. */
export function interestFloor(principal: bigint, couponBps: bigint, seconds: bigint): bigint {
  return (principal * couponBps * seconds) / INTEREST_DENOMINATOR;
}

/** Principal the schedule requires repaid by payment `k`. */
export function cumulativePrincipalDue(
  schedulePrincipal: bigint,
  amortizationBps: bigint,
  k: bigint,
  numPayments: bigint,
): bigint {
  if (k >= numPayments) return schedulePrincipal;
  return min(ceilDiv(schedulePrincipal * amortizationBps * k, BPS), schedulePrincipal);
}

/** Number of payments due by `timestamp` (due date `start + k x interval <= timestamp`), at most `n`. */
export function paymentsDueBy(start: bigint, interval: bigint, n: bigint, timestamp: bigint): bigint {
  if (timestamp < start) return 0n;
  const k = (timestamp - start) / interval;
  return k < n ? k : n;
}

/**
 * Late fee on `late` installments charged at once: the penalty on each installment, i.e. on the scheduled principal
 * they owe (`principalOwed`) plus one interval's interest each (`installmentInterest`), rounded up.
 */
export function lateFeeFor(
  principalOwed: bigint,
  installmentInterest: bigint,
  penaltyBps: bigint,
  late: bigint,
): bigint {
  return ceilDiv((principalOwed + installmentInterest * late) * penaltyBps, BPS);
}

/** Expected recovery booked at default: `min(debt, collateral x (1 - haircut) + lockbox + reserve)`. */
export function impairedValueFor(
  debt: bigint,
  collateral: bigint,
  haircutBps: bigint,
  lockbox = 0n,
  reserve = 0n,
): bigint {
  return min(debt, (collateral * (BPS - haircutBps)) / BPS + lockbox + reserve);
}

export interface Curve {
  startPrice: bigint;
  floorPrice: bigint;
  duration: bigint;
}

/** Start and floor prices of an auction of `collateral` (both rounded up). */
export function curveFor(collateral: bigint, premiumBps: bigint, floorBps: bigint, duration: bigint): Curve {
  // The auction stores the start price and derives the floor from it: floorBps of startPrice / (1 + premium).
  const startPrice = ceilDiv(collateral * (BPS + premiumBps), BPS);
  return { startPrice, floorPrice: ceilDiv(startPrice * floorBps, BPS + premiumBps), duration };
}

/** The linear Dutch price `elapsed` seconds after the start, rounded up (the discount is floored). */
export function priceAt(curve: Curve, elapsed: bigint): bigint {
  return curve.startPrice - ((curve.startPrice - curve.floorPrice) * elapsed) / curve.duration;
}

export interface Settlement {
  recovered: bigint;
  repaid: bigint;
  fees: bigint;
  surplus: bigint;
  loss: bigint;
  /** Booked into sUSDai's idle assets at once (at most the impaired value). */
  booked: bigint;
  /** The part above the impaired value, plus late fees: vests. */
  gain: bigint;
}

/** How an auction's proceeds settle a defaulted loan (spec: debt first, late fees next, surplus to the borrower). */
export function settle(
  proceeds: bigint,
  debt: { principal: bigint; interest: bigint; lateFees: bigint },
  impairedValue: bigint,
  lockbox = 0n,
  reserve = 0n,
): Settlement {
  const owed = debt.principal + debt.interest;
  const recovered = proceeds + lockbox + reserve;
  const repaid = min(recovered, owed);
  const fees = min(recovered - repaid, debt.lateFees);
  const surplus = recovered - repaid - fees;
  const loss = owed - repaid;
  const booked = min(repaid, impairedValue);
  const gain = repaid - booked + fees;
  return { recovered, repaid, fees, surplus, loss, booked, gain };
}

/** Mints `count` attested receipts worth `valueUsd` each to `to` (an account or a contract that is a RECEIPT_HOLDER). */
let serial = 0;
export async function mintReceiptsTo(
  fx: ProtocolFixture,
  to: string,
  count: number,
  valueUsd: number,
  site = "DAL-1",
): Promise<bigint[]> {
  const issuers = receiptIssuers(fx.actors);
  const ids: bigint[] = [];
  const deadline = (await now()) + DAY;
  for (let i = 0; i < count; i++) {
    ids.push(
      await mintAppraisedReceipt(fx.receipts, issuers, to, site, valueUsd, `recovery-${serial++}`, deadline),
    );
  }
  return ids;
}

/** Moves time to the loan's `defaultableAt()` (or `at`) and declares the default there; returns that timestamp. */
export async function declareDefaultAt(fx: ProtocolFixture, loanId: bigint, at?: bigint): Promise<bigint> {
  const when = at ?? (await fx.loanVault.defaultableAt(loanId));
  await time.setNextBlockTimestamp(when);
  await fx.loanVault.connect(fx.actors.keeper).declareDefault(loanId);
  return when;
}

/** Liquidates at `at` (next block by default) and returns the auction id and its start time. */
export async function liquidateAt(
  fx: ProtocolFixture,
  loanId: bigint,
  at?: bigint,
): Promise<{ auctionId: bigint; startedAt: bigint }> {
  if (at !== undefined) await time.setNextBlockTimestamp(at);
  await fx.loanVault.connect(fx.actors.keeper).liquidate(loanId);
  const auctionId = await fx.auction.auctionOfLoan(loanId);
  const startedAt = (await fx.auction.auctionOf(auctionId)).startedAt;
  return { auctionId, startedAt: BigInt(startedAt) };
}

/** USDai for `account`, approved to the auction (for buyers). */
export async function fundBuyer(fx: ProtocolFixture, account: string, amount: bigint): Promise<void> {
  const { reserve, usdai, auction } = fx;
  const signer = await hre.ethers.getSigner(account);
  const reserveAmount = ceilDiv(amount, 10n ** 12n);
  await reserve.mint(account, reserveAmount);
  await reserve.connect(signer).approve(await usdai.getAddress(), reserveAmount);
  await usdai.connect(signer).deposit(reserveAmount, 0n, account);
  await usdai.connect(signer).approve(await auction.getAddress(), hre.ethers.MaxUint256);
}

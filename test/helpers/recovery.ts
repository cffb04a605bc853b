import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { DAY } from "../../helpers/loans";
import type { ProtocolFixture } from "../fixtures/protocol";
import { ceilDiv } from "./math";
import { now } from "./loans";

/**
 * Drivers of the recovery tests (default, auction, step-in): receipts minted to any holder, a default and a
 * liquidation at a chosen time, a funded buyer. The reference model of late fees, impairment, the auction curve and
 * the settlement split is part of the one loan model, ./loan-model.ts.
 */

// Kept for test/invariant/protocol-model.ts, which imports these from here; new code imports ./loan-model.
export { curveFor, priceAt, reserveFor, settle, type Curve, type Settlement } from "./loan-model";

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
  await fx.loanVault.connect(fx.actors.creditAdmin).liquidate(loanId);
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

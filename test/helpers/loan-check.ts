import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import type { ProtocolFixture } from "../fixtures/protocol";
import { aggregateOf, LoanModel, STATE_FIELDS, StakedModel } from "./loan-model";

/** Timestamp of the latest block. */
export async function latest(): Promise<bigint> {
  return BigInt(await time.latest());
}

/**
 * Sends a transaction in a block pinned at `t`, so the model can replay it at the same timestamp, and checks that
 * the block really has that timestamp.
 */
export async function at(
  t: bigint,
  send: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  await time.setNextBlockTimestamp(t);
  const tx = await send();
  const receipt = (await tx.wait())!;
  const block = await hre.ethers.provider.getBlock(receipt.blockNumber);
  expect(BigInt(block!.timestamp), "pinned block timestamp").to.equal(t);
  return receipt;
}

/** Every modelled field of `stateOf(id)` equals the model, read by name. */
export async function expectLoanState(fx: ProtocolFixture, m: LoanModel, label = ""): Promise<void> {
  const state = await fx.loanVault.stateOf(m.id);
  for (const field of STATE_FIELDS) {
    expect(state[field], `${label} loan ${m.id} ${field}`).to.equal(m.s[field]);
  }
}

/**
 * The vault aggregates are the sums over `loans` (exactly, through the interest numerator), and `loanAssets()` is the
 * model's figure to the wei at the latest block.
 */
export async function expectAggregates(fx: ProtocolFixture, loans: LoanModel[], label = ""): Promise<bigint> {
  const now = await latest();
  const agg = await fx.loanVault.accrualState();
  const m = aggregateOf(loans, now);
  expect(agg.totalPrincipal, `${label} totalPrincipal`).to.equal(m.totalPrincipal);
  expect(agg.rateSum, `${label} rateSum`).to.equal(m.rateSum);
  expect(
    agg.interestNumerator + agg.rateSum * (now - agg.checkpointAt),
    `${label} interest numerator`,
  ).to.equal(m.numerator);
  expect(agg.impaired, `${label} impaired`).to.equal(m.impaired);
  expect(await fx.loanVault.loanAssets(), `${label} loanAssets`).to.equal(m.loanAssets);
  return m.loanAssets;
}

/** Loan state, aggregates, `loanAssets()` and sUSDai `totalAssets()` all equal the model at the latest block. */
export async function expectAll(
  fx: ProtocolFixture,
  loans: LoanModel[],
  staked: StakedModel,
  label = "",
): Promise<void> {
  for (const m of loans) await expectLoanState(fx, m, label);
  const loanAssets = await expectAggregates(fx, loans, label);
  const now = await latest();
  expect(await fx.susdai.idleAssets(), `${label} sUSDai idle`).to.equal(staked.idle);
  expect(await fx.susdai.totalAssets(), `${label} sUSDai totalAssets`).to.equal(
    staked.totalAssets(now, loanAssets),
  );
}

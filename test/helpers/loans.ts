import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { DAY, loanTerms, type LoanTerms } from "../../helpers/loans";
import { usd, usdc } from "../../helpers/units";
import type { ProtocolFixture } from "../fixtures/protocol";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

let serialCounter = 0;

export async function now(): Promise<number> {
  return (await hre.ethers.provider.getBlock("latest"))!.timestamp;
}

/**
 * Mints `count` attested receipts to `owner` at `site`, each appraised at `valueUsd` (whole dollars) with the given
 * depreciation (default: none), and returns their ids.
 */
export async function mintReceipts(
  fx: ProtocolFixture,
  owner: HardhatEthersSigner,
  count: number,
  valueUsd: number,
  site = "DAL-1",
  markdownBpsPerQuarter = 0n,
  residualFloorBps = 10_000n,
): Promise<bigint[]> {
  const { actors, receipts } = fx;
  const issuers = receiptIssuers(actors);
  const ids: bigint[] = [];
  const deadline = (await now()) + DAY;
  for (let i = 0; i < count; i++) {
    ids.push(
      await mintAppraisedReceipt(
        receipts,
        issuers,
        owner.address,
        site,
        valueUsd,
        `test-${serialCounter++}`,
        deadline,
        {
          markdownBpsPerQuarter,
          residualFloorBps,
        },
      ),
    );
  }
  await receipts.connect(owner).setApprovalForAll(await fx.loanVault.getAddress(), true);
  return ids;
}

/** `lender` turns `amountUsd` of fresh mock USDC into USDai and stakes it in sUSDai. */
export async function stake(
  fx: ProtocolFixture,
  lender: HardhatEthersSigner,
  amountUsd: number,
): Promise<void> {
  const { reserve, usdai, susdai } = fx;
  await reserve.mint(lender.address, usdc(amountUsd));
  await reserve.connect(lender).approve(await usdai.getAddress(), usdc(amountUsd));
  await usdai.connect(lender).deposit(usdc(amountUsd), usd(amountUsd), lender.address);
  await usdai.connect(lender).approve(await susdai.getAddress(), usd(amountUsd));
  await susdai.connect(lender)["deposit(uint256,address)"](usd(amountUsd), lender.address);
}

/** Gives `account` `amountUsd` of USDai (through the reserve) and approves the loan vault for it. */
/**
 * The earliest exit of `shares` held by `lender`: request, wait out `cooldownSeconds`, service the queue, claim.
 * Returns the USDai the claim paid.
 */
export async function exitAtEarliest(
  fx: Pick<ProtocolFixture, "susdai" | "usdai">,
  lender: HardhatEthersSigner,
  shares: bigint,
  cooldownSeconds: bigint | number,
): Promise<bigint> {
  const { susdai, usdai } = fx;
  await susdai.connect(lender).requestRedeem(shares, lender.address, lender.address);
  await time.increase(cooldownSeconds);
  await susdai.serviceRedemptions(10n);
  const before = await usdai.balanceOf(lender.address);
  await susdai.connect(lender).redeem(shares, lender.address, lender.address);
  return (await usdai.balanceOf(lender.address)) - before;
}

export async function fundUsdai(
  fx: ProtocolFixture,
  account: HardhatEthersSigner,
  amountUsd: number,
): Promise<void> {
  const { reserve, usdai, loanVault } = fx;
  await reserve.mint(account.address, usdc(amountUsd));
  await reserve.connect(account).approve(await usdai.getAddress(), usdc(amountUsd));
  await usdai.connect(account).deposit(usdc(amountUsd), usd(amountUsd), account.address);
  await usdai.connect(account).approve(await loanVault.getAddress(), hre.ethers.MaxUint256);
}

/** Approves a loan with house terms (plus `overrides`) and returns its id. */
export async function approve(
  fx: ProtocolFixture,
  borrower: HardhatEthersSigner,
  principal: bigint,
  site = "DAL-1",
  overrides: Partial<LoanTerms> = {},
): Promise<bigint> {
  const { loanVault, actors } = fx;
  const loanId = (await loanVault.loanCount()) + 1n;
  await loanVault
    .connect(actors.underwriter)
    .approveLoan(loanTerms(borrower.address, principal, site, await now(), overrides));
  return loanId;
}

/** Approves and draws a loan of `principal` against fresh receipts worth `collateralUsd` in total. */
export async function openLoan(
  fx: ProtocolFixture,
  borrower: HardhatEthersSigner,
  principal: bigint,
  collateralUsd: number,
  options: { receipts?: number; site?: string; overrides?: Partial<LoanTerms> } = {},
): Promise<{ loanId: bigint; receiptIds: bigint[] }> {
  const count = options.receipts ?? 1;
  const site = options.site ?? "DAL-1";
  const receiptIds = await mintReceipts(fx, borrower, count, collateralUsd / count, site);
  const loanId = await approve(fx, borrower, principal, site, options.overrides);
  await fx.loanVault.connect(borrower).borrow(loanId, receiptIds);
  return { loanId, receiptIds };
}

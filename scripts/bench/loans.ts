import { MaxUint256 } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { getActors } from "../../helpers/actors";
import {
  getCollateralAuction,
  getGpuReceipt,
  getLoanVault,
  getReserveToken,
  getStakedUSDai,
  getUSDai,
} from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { DAY, loanTerms } from "../../helpers/loans";
import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { Roles } from "../../helpers/roles";
import { usd, usdc } from "../../helpers/units";
import { gasOf, type BenchSuite, type GasRow } from "./types";

/**
 * LoanVault and CollateralAuction, warm, through the proxies: a second loan of the same borrower and site, its second
 * monthly repayment and sweep, an oracle coupon step, and the default → liquidate → buy path. The O(1) figures at 1, 100
 * and 1,000 open loans (`loanAssets()`, sUSDai `deposit`, ...) are the Scale suite's (scripts/bench/scale.ts).
 */
export const loansSuite: BenchSuite = {
  name: "LoanVault",
  async run(hre: HardhatRuntimeEnvironment) {
    const { ethers } = hre;
    await hre.deployments.fixture([Tags.Protocol]);
    const actors = await getActors();
    const { deployer, lender1, borrower1, creditAdmin, underwriter, keeper, liquidator } = actors;
    const [reserve, usdai, susdai, receipts, vault, auction] = await Promise.all([
      getReserveToken(hre),
      getUSDai(hre),
      getStakedUSDai(hre),
      getGpuReceipt(hre),
      getLoanVault(hre),
      getCollateralAuction(hre),
    ]);
    const now = async () => (await ethers.provider.getBlock("latest"))!.timestamp;
    const issuers = receiptIssuers(actors);
    let tags = 0;
    const mint = async (owner: string, count: number, valueUsd: number, site = "DAL-1") => {
      const deadline = (await now()) + 30 * DAY;
      const ids: bigint[] = [];
      for (let i = 0; i < count; i++) {
        ids.push(
          await mintAppraisedReceipt(receipts, issuers, owner, site, valueUsd, `bench-${tags++}`, deadline),
        );
      }
      return ids;
    };
    const fund = async (account: typeof lender1, amountUsd: number, spender: string) => {
      await reserve.mint(account.address, usdc(amountUsd));
      await reserve.connect(account).approve(usdai.target, MaxUint256);
      await usdai.connect(account).deposit(usdc(amountUsd), 0n, account.address);
      await usdai.connect(account).approve(spender, MaxUint256);
    };
    const open = async (principal: bigint, ids: bigint[], site = "DAL-1") => {
      const loanId = (await vault.loanCount()) + 1n;
      await vault
        .connect(underwriter)
        .approveLoan(loanTerms(borrower1.address, principal, site, await now()));
      return { loanId, tx: vault.connect(borrower1).borrow(loanId, ids) };
    };

    await vault.connect(creditAdmin).setRiskParams({
      borrowerCapBps: 10_000,
      siteCapBps: 10_000,
      recoveryHaircutBps: 2_000,
      referenceFeedMaxStalenessSeconds: 2 * DAY,
      materialityThreshold: 10n * 10n ** 18n,
      stepInWindowSeconds: 2 * DAY,
    });
    await fund(lender1, 50_000_000, await susdai.getAddress());
    await susdai.connect(lender1)["deposit(uint256,address)"](usd(40_000_000), lender1.address);
    await receipts.connect(borrower1).setApprovalForAll(vault.target, true);
    await fund(borrower1, 1_000_000, await vault.getAddress());

    // A first loan warms the borrower's and the site's exposure slots and the aggregates.
    const first = await open(usd(100_000), await mint(borrower1.address, 1, 250_000));
    await first.tx;

    const one = await open(usd(100_000), await mint(borrower1.address, 1, 250_000));
    const borrow1 = await gasOf(one.tx);
    const three = await open(usd(100_000), await mint(borrower1.address, 3, 100_000));
    const borrow3 = await gasOf(three.tx);

    // Monthly repayments: the second one is measured.
    // A borrower pays the quote plus a small margin for the seconds until the transaction mines; the margin prepays.
    const pastDue = async (loanId: bigint) => {
      const [dueDate] = await vault.nextPayment(loanId);
      await hre.network.provider.send("evm_mine", [Math.max(Number(dueDate) + DAY, (await now()) + 1)]);
    };
    const pay = async (loanId: bigint) => {
      await pastDue(loanId);
      const [, amount] = await vault.nextPayment(loanId);
      return gasOf(vault.connect(borrower1).repay(loanId, amount + usd(1)));
    };
    await pay(one.loanId);
    const repay = await pay(one.loanId);

    // Lockbox: revenue in, then the waterfall after the due date; the second sweep is measured.
    const sweepOnce = async (loanId: bigint) => {
      await vault.connect(borrower1).depositRevenue(loanId, usd(15_000));
      await pastDue(loanId);
      return gasOf(vault.sweep(loanId));
    };
    await sweepOnce(three.loanId);
    const sweep = await sweepOnce(three.loanId);

    // The oracle's coupon step (an EOA holds ORACLE for the measurement; in production the UtilizationOracle does).
    await vault.connect(deployer).grantRole(Roles.ORACLE, keeper.address);
    await vault.connect(keeper).applyCouponStep(three.loanId, 1n, -100n, false);
    const couponStep = await gasOf(vault.connect(keeper).applyCouponStep(three.loanId, 2n, 300n, true));

    // Default (payments missed past grace + window), liquidation and purchase of the 1-receipt loan.
    const defaultAt = await vault.defaultableAt(first.loanId);
    await hre.network.provider.send("evm_setNextBlockTimestamp", [
      Math.max(Number(defaultAt), (await now()) + 1),
    ]);
    const declareDefault = await gasOf(vault.declareDefault(first.loanId));
    // A keeper's liquidation, once the step-in window after the default has passed (the permissionless path).
    const window = BigInt((await vault.riskParams()).stepInWindowSeconds);
    await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(BigInt(await now()) + window)]);
    const liquidate = await gasOf(vault.liquidate(first.loanId));
    const auctionId = await auction.auctionOfLoan(first.loanId);
    await fund(liquidator, 1_000_000, await auction.getAddress());
    const price = await auction.price(auctionId);
    // The liquidator's first receipt: its receipt balance goes from zero, a fresh slot it pays for.
    const buyFirst = await gasOf(auction.connect(liquidator).buy(auctionId, price + price / 100n));

    // Warm: a second defaulted loan bought by the same liquidator, who already holds a receipt.
    const defaultAt2 = await vault.defaultableAt(one.loanId);
    await hre.network.provider.send("evm_setNextBlockTimestamp", [
      Math.max(Number(defaultAt2), (await now()) + 1),
    ]);
    await vault.declareDefault(one.loanId);
    await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(BigInt(await now()) + window)]);
    await vault.liquidate(one.loanId);
    const price2 = await auction.price(one.loanId);
    const buy = await gasOf(auction.connect(liquidator).buy(one.loanId, price2 + price2 / 100n));

    const rows: GasRow[] = [
      { key: "LoanVault.borrow", gas: borrow1, note: "1 receipt, warm exposures" },
      { key: "LoanVault.borrow.perExtraReceipt", gas: (borrow3 - borrow1) / 2n, note: "3 receipts vs 1" },
      { key: "LoanVault.repay", gas: repay, note: "2nd monthly payment, settles it" },
      { key: "LoanVault.sweep", gas: sweep, note: "2nd waterfall from the lockbox" },
      { key: "LoanVault.applyCouponStep", gas: couponStep, note: "step-up with top-up required" },
      { key: "LoanVault.declareDefault", gas: declareDefault, note: "impairment, 1 receipt" },
      { key: "LoanVault.liquidate", gas: liquidate, note: "1 receipt into the auction" },
      { key: "CollateralAuction.buy", gas: buy, note: "1 receipt, buyer already holds receipts" },
      { key: "CollateralAuction.buy.firstReceipt", gas: buyFirst, note: "1 receipt, the buyer's first" },
    ];
    return rows;
  },
};

import { expect } from "chai";
import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256 } from "ethers";

import { usd, usdc } from "../../helpers/units";
import type { MockERC20, NaiveSpotLender } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, openLoan, stake } from "../helpers/loans";
import { fundBuyer } from "../helpers/recovery";
import { priceAt } from "../helpers/loan-model";
import { ceilDiv } from "../helpers/math";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { createFixture } from "../helpers/fixture";
import { eventOf } from "../../tasks/lib/runtime";

/**
 * Donate-then-self-liquidate: a borrower donates to whatever sets a price its liquidation uses, makes its own loan
 * liquidatable, liquidates it and buys its collateral back for less than it owes, the shortfall falling on the
 * lenders. Against `NaiveSpotLender` (collateral priced from a thin pool's balances, sold at once at 95% of spot) a
 * donation of collateral tokens to the pool does exactly that. Against the protocol the borrower donates to every
 * address it can reach (the LoanVault, the auction, sUSDai, USDai's reserves through a harvest, its own lockbox), then
 * lets the loan default and liquidates it itself. The borrower may not bid on its own lot (`LoanVaultBuyerIsBorrower`),
 * so an allowlisted accomplice buys it: no donation moves the collateral value, the auction's prices or what is paid,
 * and every donation is a pure loss to the pair.
 */
describe("Attack: donate to move a price, then self-liquidate", () => {
  describe("against NaiveSpotLender (spot price from pool balances)", () => {
    it("a 10-token donation to the pool crushes the price; the borrower buys its 1,000 tokens back below its debt", async () => {
      const f = await deployProtocol();
      const { usdai, actors } = f;
      const { attacker, lender1, treasury: pool } = actors;
      const token = (await hre.ethers.deployContract("MockERC20", [
        "Collateral",
        "COL",
        18,
      ])) as unknown as MockERC20;
      const lender = (await hre.ethers.deployContract("NaiveSpotLender", [
        usdai.target,
        token.target,
        pool.address,
      ])) as unknown as NaiveSpotLender;
      // a thin pool at 1 USD per token, the lender's liquidity, the attacker's tokens and some USDai
      await fundUsdai(f, lender1, 100_010);
      await usdai.connect(lender1).transfer(pool.address, usd(10));
      await token.mint(pool.address, usd(10));
      await usdai.connect(lender1).transfer(lender.target, usd(100_000));
      await token.mint(attacker.address, usd(1_010));
      await token.connect(attacker).approve(lender.target, MaxUint256);
      await fundUsdai(f, attacker, 1_000);
      await usdai.connect(attacker).approve(lender.target, MaxUint256);
      const usdBefore = await usdai.balanceOf(attacker.address);

      await lender.connect(attacker).borrow(usd(1_000), usd(600)); // 60% of 1,000 at spot
      await token.connect(attacker).transfer(pool.address, usd(10)); // the donation: spot halves
      expect(await lender.spotValueOf(usd(1_000))).to.equal(usd(500));
      await lender.connect(attacker).liquidate(1n); // buys its own collateral at 95% of 500

      const profit = (await usdai.balanceOf(attacker.address)) - usdBefore;
      expect(profit).to.equal(usd(600) - usd(475));
      expect(await token.balanceOf(attacker.address)).to.equal(usd(1_000)); // its collateral, back
      expect(await lender.writtenOff()).to.equal(usd(125)); // the lenders' loss; the donation cost 10 tokens
    });
  });

  describe("against the LoanVault and CollateralAuction", () => {
    const DONATION = usd(50_000);
    type Target = "none" | "loanVault" | "auction" | "sUSDai" | "usdaiReserves" | "ownLockbox";
    // (Into its own lockbox the donation pays what is overdue, so the default itself is refused: tested below.)
    const TARGETS: Target[] = ["loanVault", "auction", "sUSDai", "usdaiReserves"];

    const fixture = createFixture(async () => {
      const f = await deployProtocol();
      const { actors } = f;
      await stake(f, actors.lender1, 1_000_000);
      const { loanId, receiptIds } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
      // the borrower's war chest: USDai for the donation, approved everywhere, and USDC; its accomplice (another
      // allowlisted operator) holds the USDai for the purchase
      await fundBuyer(f, actors.borrower1.address, usd(300_000));
      await f.usdai.connect(actors.borrower1).approve(f.loanVault.target, MaxUint256);
      await f.reserve.mint(actors.borrower1.address, usdc(50_000));
      await fundBuyer(f, actors.borrower2.address, usd(300_000));
      return { ...f, loanId, receiptId: receiptIds[0] };
    });

    interface Outcome {
      collateralValue: bigint;
      startPrice: bigint;
      floorPrice: bigint;
      paid: bigint;
      /** USDai the borrower and its accomplice end with, less what they started with (the principal is already in). */
      usdaiDelta: bigint;
      /** USDC the borrower ends with, less what it started with. */
      usdcDelta: bigint;
      loss: bigint;
    }

    /** Donates to `target`, defaults, liquidates its own loan; the accomplice buys the lot `buyAfter` seconds in. */
    async function run(
      f: Awaited<ReturnType<typeof fixture>>,
      target: Target,
      buyAfter: bigint,
    ): Promise<Outcome> {
      const { usdai, reserve, loanVault, auction, susdai, actors, loanId, receiptId } = f;
      const borrower = actors.borrower1;
      const accomplice = actors.borrower2;
      const pair = async () =>
        (await usdai.balanceOf(borrower.address)) + (await usdai.balanceOf(accomplice.address));
      const usdaiBefore = await pair();
      const usdcBefore = await reserve.balanceOf(borrower.address);
      // Every block is timestamped explicitly, so that each run sees the same clock after a snapshot is restored.
      let clock = BigInt(await time.latest());
      const tick = () => time.setNextBlockTimestamp(++clock);
      await tick();
      if (target === "loanVault") await usdai.connect(borrower).transfer(loanVault.target, DONATION);
      if (target === "auction") await usdai.connect(borrower).transfer(auction.target, DONATION);
      if (target === "sUSDai") await usdai.connect(borrower).transfer(susdai.target, DONATION);
      if (target === "ownLockbox") await loanVault.connect(borrower).depositRevenue(loanId, DONATION);
      if (target === "usdaiReserves") {
        await reserve.connect(borrower).transfer(usdai.target, ceilDiv(DONATION, 10n ** 12n));
        await tick();
        await usdai.connect(borrower).harvest();
      }
      if (target === "none") await hre.network.provider.send("evm_mine", []);
      const collateralValue = await loanVault.collateralValueOf(loanId);
      const defaultAt = await loanVault.defaultableAt(loanId);
      await time.setNextBlockTimestamp(defaultAt);
      await loanVault.connect(borrower).declareDefault(loanId);
      // Anyone may liquidate once the step-in window after the default has passed.
      await time.setNextBlockTimestamp(
        defaultAt + BigInt((await loanVault.riskParams()).stepInWindowSeconds),
      );
      await loanVault.connect(borrower).liquidate(loanId);
      const auctionId = await auction.auctionOfLoan(loanId);
      const lot = await auction.auctionOf(auctionId);
      await time.setNextBlockTimestamp(BigInt(lot.startedAt) + buyAfter);
      const tx = await auction.connect(accomplice).buy(auctionId, MaxUint256);
      const receipt = (await tx.wait())!;
      const settled = eventOf(receipt, loanVault.interface, "AuctionSettled");
      expect(await f.receipts.ownerOf(receiptId)).to.equal(accomplice.address);
      return {
        collateralValue,
        startPrice: lot.startPrice,
        floorPrice: lot.floorPrice,
        paid: settled.args.proceeds as bigint,
        usdaiDelta: (await pair()) - usdaiBefore,
        usdcDelta: (await reserve.balanceOf(borrower.address)) - usdcBefore,
        loss: settled.args.loss as bigint,
      };
    }

    it("into its own lockbox, the donation pays what is overdue: the default is refused (#16.3)", async () => {
      const f = await fixture();
      const { loanVault, actors, loanId } = f;
      await loanVault.connect(actors.borrower1).depositRevenue(loanId, DONATION);
      const defaultAt = await loanVault.defaultableAt(loanId);
      await time.setNextBlockTimestamp(defaultAt);
      await expect(loanVault.connect(actors.borrower1).declareDefault(loanId))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultOverdueCoveredByLockbox")
        .withArgs(loanId, DONATION);
    });

    for (const when of ["one second in", "halfway down", "at the floor"] as const) {
      it(`no donation changes the collateral value, the auction's prices or the price paid ${when}; each is a pure loss`, async () => {
        const f = await fixture();
        const duration = BigInt((await f.auction.auctionParams()).durationSeconds);
        const buyAfter = when === "one second in" ? 1n : when === "halfway down" ? duration / 2n : duration;
        const snapshot = await takeSnapshot();
        const baseline = await run(f, "none", buyAfter);
        for (const target of TARGETS) {
          await snapshot.restore();
          const o = await run(f, target, buyAfter);
          expect(o.collateralValue, target).to.equal(baseline.collateralValue);
          expect(o.startPrice, target).to.equal(baseline.startPrice);
          expect(o.floorPrice, target).to.equal(baseline.floorPrice);
          expect(o.paid, target).to.equal(baseline.paid);
          // The pair ends poorer by the whole donation, or (into the borrower's own lockbox, which the recovery
          // counts) by the part of it that did not come back as surplus; never richer than without donating.
          const wealth = (x: Outcome) => x.usdaiDelta + x.usdcDelta * 10n ** 12n;
          expect(wealth(o), target).to.be.lessThanOrEqual(wealth(baseline) - DONATION);
          expect(o.loss, target).to.be.lessThanOrEqual(baseline.loss);
        }
      });
    }

    // What the runs above once showed: with nobody else bidding, the borrower waited for the floor (50% of collateral
    // value) and bought its own lot back below its 60%-LTV debt, keeping the principal and its receipts while the
    // lenders wrote off the difference. The auction now refuses the loan's own borrower at every point of the curve.
    for (const when of ["one second in", "at the floor"] as const) {
      it(`the borrower cannot buy its own lot ${when}: LoanVaultBuyerIsBorrower, and nothing moves`, async () => {
        const f = await fixture();
        const { auction, loanVault, usdai, receipts, susdai, actors, loanId, receiptId } = f;
        const borrower = actors.borrower1;
        const defaultAt = await loanVault.defaultableAt(loanId);
        await time.setNextBlockTimestamp(defaultAt);
        await loanVault.declareDefault(loanId);
        await loanVault.connect(actors.creditAdmin).liquidate(loanId);
        const lot = await auction.auctionOf(loanId);
        // the refused bid one second before the end (or one second in), the accomplice's in the next second
        const endsAt = BigInt(lot.startedAt) + BigInt(lot.duration);
        const bidAt = when === "at the floor" ? endsAt - 1n : BigInt(lot.startedAt) + 1n;
        const reads: Reads = {
          auction: async () => (await auction.auctionOf(loanId)).toString(),
          loan: async () => (await loanVault.stateOf(loanId)).toString(),
          owner: () => receipts.ownerOf(receiptId),
          borrower: () => usdai.balanceOf(borrower.address),
          vault: () => usdai.balanceOf(loanVault.target),
          nav: () => susdai.totalAssets(),
        };
        const before = await snapshot(reads);
        await time.setNextBlockTimestamp(bidAt);
        await expect(auction.connect(borrower).buy(loanId, MaxUint256))
          .to.be.revertedWithCustomError(loanVault, "LoanVaultBuyerIsBorrower")
          .withArgs(loanId, borrower.address);
        await expectUnchanged(before, reads);
        // anyone else allowlisted buys, at the floor in the last second
        await time.setNextBlockTimestamp(bidAt + 1n);
        const curve = {
          startPrice: lot.startPrice,
          floorPrice: lot.floorPrice,
          duration: BigInt(lot.duration),
        };
        const price = priceAt(curve, bidAt + 1n - BigInt(lot.startedAt));
        if (when === "at the floor") expect(price).to.equal(lot.floorPrice);
        await expect(auction.connect(actors.borrower2).buy(loanId, MaxUint256))
          .to.emit(auction, "AuctionBought")
          .withArgs(loanId, loanId, actors.borrower2.address, price);
      });
    }
  });
});

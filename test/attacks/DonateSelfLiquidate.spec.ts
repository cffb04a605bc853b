import { expect } from "chai";
import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256 } from "ethers";

import { usd, usdc } from "../../helpers/units";
import type { MockERC20, NaiveSpotLender } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, openLoan, stake } from "../helpers/loans";
import { ceilDiv, fundBuyer } from "../helpers/recovery";

/**
 * Donate-then-self-liquidate: a borrower donates to whatever sets a price its liquidation uses, makes its own loan
 * liquidatable, liquidates it and buys its collateral back for less than it owes, the shortfall falling on the
 * lenders. Against `NaiveSpotLender` (collateral priced from a thin pool's balances, sold at once at 95% of spot) a
 * donation of collateral tokens to the pool does exactly that. Against the protocol the borrower donates to every
 * address it can reach (the LoanVault, the auction, sUSDai, USDai's reserves through a harvest, its own lockbox), then
 * lets the loan default, liquidates it itself and buys its own lot: no donation moves the collateral value, the
 * auction's prices or what the borrower pays, and every donation is a pure loss to it.
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
    const TARGETS: Target[] = ["loanVault", "auction", "sUSDai", "usdaiReserves", "ownLockbox"];

    const fixture = hre.deployments.createFixture(async () => {
      const f = await deployProtocol();
      const { actors } = f;
      await stake(f, actors.lender1, 1_000_000);
      const { loanId, receiptIds } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
      // the borrower's war chest: USDai for the donation and the purchase, approved everywhere, and USDC
      await fundBuyer(f, actors.borrower1.address, usd(300_000));
      await f.usdai.connect(actors.borrower1).approve(f.loanVault.target, MaxUint256);
      await f.reserve.mint(actors.borrower1.address, usdc(50_000));
      return { ...f, loanId, receiptId: receiptIds[0] };
    });

    interface Outcome {
      collateralValue: bigint;
      startPrice: bigint;
      floorPrice: bigint;
      paid: bigint;
      /** USDai the borrower ends with, less what it started with (the loan's principal is already in the start). */
      usdaiDelta: bigint;
      /** USDC the borrower ends with, less what it started with. */
      usdcDelta: bigint;
      loss: bigint;
    }

    /** Donates to `target`, defaults, liquidates its own loan, buys its own lot `buyAfter` seconds into the sale. */
    async function run(
      f: Awaited<ReturnType<typeof fixture>>,
      target: Target,
      buyAfter: bigint,
    ): Promise<Outcome> {
      const { usdai, reserve, loanVault, auction, susdai, actors, loanId, receiptId } = f;
      const borrower = actors.borrower1;
      const usdaiBefore = await usdai.balanceOf(borrower.address);
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
      await time.setNextBlockTimestamp(defaultAt + 1n);
      await loanVault.connect(borrower).liquidate(loanId);
      const auctionId = await auction.auctionOfLoan(loanId);
      const lot = await auction.auctionOf(auctionId);
      await time.setNextBlockTimestamp(BigInt(lot.startedAt) + buyAfter);
      const tx = await auction.connect(borrower).buy(auctionId, MaxUint256);
      const receipt = (await tx.wait())!;
      const settled = receipt.logs
        .map((l) => {
          try {
            return loanVault.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .find((e) => e?.name === "AuctionSettled")!;
      expect(await f.receipts.ownerOf(receiptId)).to.equal(borrower.address);
      return {
        collateralValue,
        startPrice: lot.startPrice,
        floorPrice: lot.floorPrice,
        paid: settled.args.proceeds as bigint,
        usdaiDelta: (await usdai.balanceOf(borrower.address)) - usdaiBefore,
        usdcDelta: (await reserve.balanceOf(borrower.address)) - usdcBefore,
        loss: settled.args.loss as bigint,
      };
    }

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
          // The borrower ends poorer by the whole donation, or (into its own lockbox, which the recovery counts)
          // by the part of it that did not come back as surplus; never richer than without donating.
          const wealth = (x: Outcome) => x.usdaiDelta + x.usdcDelta * 10n ** 12n;
          expect(wealth(o), target).to.be.lessThanOrEqual(
            wealth(baseline) - (target === "ownLockbox" ? 0n : DONATION),
          );
          expect(o.loss, target).to.be.lessThanOrEqual(baseline.loss);
        }
      });
    }

    // Not a donation attack, but what the runs above show: when nobody else bids, the borrower waits for the floor
    // (50% of collateral value) and buys its own lot back below its 60%-LTV debt. It keeps the principal, gets its
    // receipts back, and the lenders write off the difference.
    it.skip("BUG: an uncontested borrower buys its own collateral back at the floor, below its debt, for a profit", async () => {
      const f = await fixture();
      const duration = BigInt((await f.auction.auctionParams()).durationSeconds);
      const o = await run(f, "none", duration);
      // debt 60,000 + interest against a 50,000 floor: the borrower kept 60,000 and paid 50,000
      expect(o.paid).to.equal(usd(50_000));
      expect(o.loss, "lenders lose nothing to a borrower's own bid").to.equal(0n);
    });
  });
});

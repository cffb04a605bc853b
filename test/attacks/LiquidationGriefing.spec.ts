import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256 } from "ethers";

import { DAY, LoanStatus, loanTerms } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import type {
  NaiveDefaultClock,
  PushPaymentAuction,
  ReentrantBorrower,
  RevertingReceiver,
} from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, now, openLoan, stake } from "../helpers/loans";
import { declareDefaultAt, fundBuyer, mintReceiptsTo } from "../helpers/recovery";
import { createFixture } from "../helpers/fixture";
import { eventOf } from "../../tasks/lib/runtime";
import { deployAttackerContract } from "../helpers/attackers";

/**
 * Griefing a default and its auction: dust repayments (or a dust revenue deposit) front-running `declareDefault` or
 * `liquidate` so that a loan that pays nothing never defaults, a buyer whose receipt callback reverts, and a borrower
 * that refuses whatever is sent to it, so that the sale cannot settle. The first works against `NaiveDefaultClock`
 * (any payment restarts the clock), the last against `PushPaymentAuction` (the surplus is pushed to the seller inline).
 * Against the LoanVault and the CollateralAuction none of them blocks anything.
 */
describe("Attack: liquidation griefing", () => {
  describe("against the weak mocks", () => {
    it("NaiveDefaultClock: a 1 wei repay before each window keeps a non-paying loan out of default forever", async () => {
      const f = await deployProtocol();
      const { usdai, actors } = f;
      const window = 30 * DAY;
      const clock = (await hre.ethers.deployContract("NaiveDefaultClock", [
        usdai.target,
        usd(60_000),
        window,
      ])) as unknown as NaiveDefaultClock;
      await fundUsdai(f, actors.attacker, 1);
      await usdai.connect(actors.attacker).approve(clock.target, MaxUint256);
      for (let month = 0; month < 12; month++) {
        await time.increase(window - 2);
        await clock.connect(actors.attacker).repay(1n);
        await expect(clock.declareDefault()).to.be.revertedWithCustomError(
          clock,
          "NaiveDefaultClockNotDefaultable",
        );
      }
      expect(await clock.defaulted()).to.equal(false);
      expect(await clock.debt()).to.equal(usd(60_000) - 12n);
    });

    it("PushPaymentAuction: a seller whose receive() reverts makes every purchase revert", async () => {
      const [, attacker, buyer] = await hre.ethers.getSigners();
      const seller = (await hre.ethers.deployContract(
        "RevertingReceiver",
        [],
        attacker,
      )) as unknown as RevertingReceiver;
      const sale = (await hre.ethers.deployContract("PushPaymentAuction", [
        seller.target,
        100n,
        150n,
      ])) as unknown as PushPaymentAuction;
      await expect(sale.connect(buyer).buy({ value: 150n }))
        .to.be.revertedWithCustomError(sale, "PushPaymentAuctionSurplusFailed")
        .withArgs(seller.target);
      expect(await sale.buyer()).to.equal(hre.ethers.ZeroAddress);
    });
  });

  describe("against the LoanVault and CollateralAuction", () => {
    const fixture = createFixture(async () => {
      const f = await deployProtocol();
      const { actors } = f;
      await stake(f, actors.lender1, 1_000_000);
      const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
      await fundUsdai(f, actors.attacker, 1_000);
      await fundUsdai(f, actors.borrower1, 1_000);
      return { ...f, loanId };
    });

    it("dust repayments through grace and the default window never move defaultableAt; the default lands on time", async () => {
      const f = await fixture();
      const { loanVault, actors, loanId } = f;
      const defaultableAt = await loanVault.defaultableAt(loanId);
      const [dueDate] = await loanVault.nextPayment(loanId);
      // a wei every few days from the due date on, from the borrower and from a third party
      for (let t = Number(dueDate); t < Number(defaultableAt) - 1; t += 3 * DAY) {
        await time.setNextBlockTimestamp(t);
        await loanVault.connect(actors.borrower1).repay(loanId, 1n);
        await loanVault.connect(actors.attacker).repay(loanId, 1n);
        expect(await loanVault.defaultableAt(loanId)).to.equal(defaultableAt);
      }
      // and one in the block right before the keeper's declaration
      await time.setNextBlockTimestamp(defaultableAt - 1n);
      await loanVault.connect(actors.attacker).repay(loanId, 1n);
      expect(await loanVault.defaultableAt(loanId)).to.equal(defaultableAt);
      await declareDefaultAt(f, loanId, defaultableAt);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Defaulted);
    });

    it("a dust repay and a dust revenue deposit front-running declareDefault in the same block do not stop it", async () => {
      const f = await fixture();
      const { loanVault, actors, loanId } = f;
      const defaultableAt = await loanVault.defaultableAt(loanId);
      await hre.network.provider.send("evm_setAutomine", [false]);
      try {
        const dust = await loanVault.connect(actors.attacker).repay(loanId, 1n);
        const revenue = await loanVault.connect(actors.attacker).depositRevenue(loanId, 1n);
        const declare = await loanVault.connect(actors.keeper).declareDefault(loanId);
        await time.setNextBlockTimestamp(defaultableAt);
        await hre.network.provider.send("evm_mine", []);
        for (const tx of [dust, revenue, declare]) expect((await tx.wait())!.status).to.equal(1);
      } finally {
        await hre.network.provider.send("evm_setAutomine", [true]);
      }
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Defaulted);
    });

    it("after default a repay is refused (BadStatus) and a dust deposit does not stop liquidate", async () => {
      const f = await fixture();
      const { loanVault, actors, loanId } = f;
      await declareDefaultAt(f, loanId);
      await expect(loanVault.connect(actors.attacker).repay(loanId, 1n))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultBadStatus")
        .withArgs(loanId, LoanStatus.Defaulted);
      await loanVault.connect(actors.attacker).depositRevenue(loanId, 1n);
      await expect(loanVault.connect(actors.creditAdmin).liquidate(loanId)).to.emit(
        loanVault,
        "LoanLiquidated",
      );
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Liquidating);
    });

    it("a buyer whose receipt callback reverts only reverts its own purchase; the next buyer buys", async () => {
      const f = await fixture();
      const { loanVault, auction, usdai, actors, loanId } = f;
      await declareDefaultAt(f, loanId);
      await loanVault.connect(actors.creditAdmin).liquidate(loanId);
      const auctionId = await auction.auctionOfLoan(loanId);
      const evil = await deployAttackerContract<RevertingReceiver>(f, "RevertingReceiver", {
        borrower: false,
      });
      await fundBuyer(f, actors.attacker.address, usd(200_000));
      await usdai.connect(actors.attacker).transfer(evil.target, usd(200_000));
      await evil
        .connect(actors.attacker)
        .execute(
          usdai.target,
          usdai.interface.encodeFunctionData("approve", [auction.target as string, MaxUint256]),
        );
      await expect(
        evil
          .connect(actors.attacker)
          .execute(auction.target, auction.interface.encodeFunctionData("buy", [auctionId, usd(200_000)])),
      ).to.be.revertedWithCustomError(evil, "RevertingReceiverRefused");
      expect((await auction.auctionOf(auctionId)).status).to.equal(1n); // Live
      await fundBuyer(f, actors.liquidator.address, usd(200_000));
      await expect(auction.connect(actors.liquidator).buy(auctionId, usd(200_000))).to.emit(
        loanVault,
        "AuctionSettled",
      );
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Recovered);
    });

    it("a borrower that refuses every callback still gets its surplus, and neither buy nor expire is blocked", async () => {
      const f = await fixture();
      const { loanVault, auction, receipts, usdai, actors } = f;
      const evil = await deployAttackerContract<ReentrantBorrower>(f, "ReentrantBorrower");
      const as = (target: string, data: string) => evil.connect(actors.attacker).execute(target, data);
      const open = async () => {
        const ids = await mintReceiptsTo(f, evil.target as string, 1, 100_000);
        await as(
          receipts.target as string,
          receipts.interface.encodeFunctionData("setApprovalForAll", [loanVault.target as string, true]),
        );
        const loanId = (await loanVault.loanCount()) + 1n;
        await loanVault
          .connect(actors.underwriter)
          .approveLoan(loanTerms(evil.target as string, usd(20_000), "DAL-1", await now()));
        await as(loanVault.target as string, loanVault.interface.encodeFunctionData("borrow", [loanId, ids]));
        return loanId;
      };
      const sold = await open();
      const expired = await open();
      // from now on every receipt callback into the borrower reverts
      await evil
        .connect(actors.attacker)
        .arm(
          evil.target,
          evil.interface.encodeFunctionData("arm", [evil.target as string, "0x", false]),
          false,
        );

      for (const loanId of [sold, expired]) {
        await declareDefaultAt(f, loanId);
        await loanVault.connect(actors.creditAdmin).liquidate(loanId);
      }
      // bought at once, well above the 20,000 debt: the surplus goes to the hostile borrower
      const auctionId = await auction.auctionOfLoan(sold);
      await fundBuyer(f, actors.liquidator.address, usd(200_000));
      const before = await usdai.balanceOf(evil.target);
      const tx = auction.connect(actors.liquidator).buy(auctionId, usd(200_000));
      await expect(tx).to.emit(loanVault, "AuctionSettled");
      const settled = eventOf((await (await tx).wait())!, loanVault.interface, "AuctionSettled");
      expect(settled.args.surplus).to.be.greaterThan(0n);
      expect((await usdai.balanceOf(evil.target)) - before).to.equal(settled.args.surplus);
      // the other lot runs out unsold and goes to the recovery custodian
      const other = await auction.auctionOf(await auction.auctionOfLoan(expired));
      await time.increaseTo(BigInt(other.startedAt) + BigInt(other.duration) + 1n);
      await expect(auction.expire(await auction.auctionOfLoan(expired))).to.emit(auction, "AuctionExpired");
      expect((await loanVault.stateOf(expired)).status).to.equal(LoanStatus.WrittenOff);
      expect(await receipts.ownerOf((await loanVault.receiptsOf(expired))[0])).to.equal(
        await auction.recoveryCustodian(),
      );
      // the armed callback never ran: nothing on the recovery path calls into the borrower
      expect(await evil.reentryAttempts()).to.equal(0n);
    });
  });
});

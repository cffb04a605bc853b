import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { stake } from "../../helpers/loans";
import { fundBuyer } from "../../helpers/recovery";
import { BPS } from "../../helpers/math";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { usd } from "../../../helpers/units";
import { loadLoanVault, loanVaultHelpers, STEP_IN_WINDOW, type Signer } from "./suite";

/**
 * Fair share pricing around credit events (issue #24): one `describe` per item of the review, named after it. Each
 * reproduces what an informed lender took from the others on the code before the fix and checks the bound now.
 */
const YEAR = 365n * BigInt(DAY);
const COOLDOWN = BigInt(7 * DAY);
const DURATION = BigInt(3 * DAY); // the local auction duration
const ONE = 10n ** 18n;

describe("Fair share pricing (#24)", () => {
  let f: ProtocolFixture, b2: Signer;
  beforeEach(async () => ({ f, b2 } = await loadLoanVault()));
  const { houseLoan, defaultHouseLoan } = loanVaultHelpers(() => f);

  /** What `lender` gets back for every share it holds: request, wait out the cooldown, service, claim. */
  async function exitAll(lender: Signer): Promise<bigint> {
    const { susdai, usdai } = f;
    const shares = await susdai.balanceOf(lender.address);
    await susdai.connect(lender).requestRedeem(shares, lender.address, lender.address);
    await time.increase(COOLDOWN);
    await susdai.serviceRedemptions(10n);
    const before = await usdai.balanceOf(lender.address);
    await susdai.connect(lender).redeem(shares, lender.address, lender.address);
    return (await usdai.balanceOf(lender.address)) - before;
  }

  /**
   * The house loan, its collateral re-appraised at `collateral` (1M: impaired at 800k after the 20% haircut), in
   * default. `beforeDefault` runs at `defaultAt - 2 days`.
   */
  async function impairedHouseLoan(
    collateral = usd(1_000_000),
    beforeDefault?: () => Promise<unknown>,
  ): Promise<bigint> {
    const { loanId, receiptIds, t0 } = await houseLoan();
    await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], collateral, 0, BPS);
    if (beforeDefault) {
      const s = await f.loanVault.stateOf(loanId);
      await time.increaseTo(s.scheduleStart + BigInt(58 * DAY));
      await beforeDefault();
    }
    await defaultHouseLoan(loanId, t0);
    return loanId;
  }

  /** The share price sUSDai pays exits at, in USDai per share (18 decimals). */
  const sharePrice = async () => f.susdai.convertToAssets(ONE);

  describe("#24.1 deposit before a step-in", () => {
    it("a deposit made while a loan is impaired pays for its full recovery: the step-in's write-back gives it nothing", async () => {
      const { loanVault, susdai } = f;
      const informed = f.actors.lender3;
      const loanId = await impairedHouseLoan();
      const s = await loanVault.stateOf(loanId);
      expect(s.impairedValue).to.equal(usd(800_000));
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false); // a defaulted loan is never in good standing
      const claim = s.principal + s.interest + s.lateFees;
      // The entry price counts the loan at its claim; NAV (exits) at its impaired value.
      expect((await loanVault.entryLoanAssets()) - (await loanVault.loanAssets())).to.equal(
        claim - s.impairedValue,
      );

      // The informed lender deposits 900k in the block before the credit admin's step-in.
      await stake(f, informed, 900_000);
      const depositedAt = BigInt(await time.latest());
      const navBefore = await susdai.totalAssets();
      await loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address);
      // The write-back: NAV rises by the claim less the impaired value (interest and late fees: the novated debt is
      // principal plus interest, the late fees are waived), the entry price does not move.
      expect((await susdai.totalAssets()) - navBefore).to.be.greaterThan(usd(200_000));
      expect(await loanVault.entryLoanAssets()).to.equal(await loanVault.loanAssets());

      const paid = await exitAll(informed);
      // Before the fix the informed lender took 18,2xx USDai of the write-back. Now it gets back at most its deposit
      // plus the stepped-in loan's coupon on its own money for the time it held (the most any lender can earn).
      const held = BigInt(await time.latest()) - depositedAt;
      const coupon = (await loanVault.stateOf(loanId)).couponBps;
      const bound = usd(900_000) + (usd(900_000) * coupon * held) / (BPS * YEAR);
      expect(paid).to.be.lessThanOrEqual(bound);
      // The lender who carried the impairment keeps the write-back.
      const lender1Value = await susdai.convertToAssets(await susdai.balanceOf(f.actors.lender1.address));
      expect(lender1Value).to.be.greaterThan(usd(10_000_000) + claim - usd(1_000_000) - usd(1_000));
    });

    it("the markdown follows each impaired loan out: a sale and a write-off leave the entry price equal to NAV", async () => {
      const { loanVault } = f;
      const loanId = await impairedHouseLoan();
      expect(await loanVault.entryLoanAssets()).to.be.greaterThan(await loanVault.loanAssets());
      await time.increase(2 * DAY);
      await loanVault.liquidate(loanId);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Liquidating);
      expect(await loanVault.entryLoanAssets()).to.be.greaterThan(await loanVault.loanAssets());
      const auction = await f.auction.auctionOf(await f.auction.auctionOfLoan(loanId));
      await time.increaseTo(auction.startedAt + auction.duration + 1n);
      await f.auction.expire(loanId);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.WrittenOff);
      expect(await loanVault.entryLoanAssets()).to.equal(await loanVault.loanAssets());
    });
  });
  describe("#24.3 exit during an auction", () => {
    it("a lot is carried at no more than its live price plus its cash: an exit serviced late in the auction is not paid above what the sale brings", async () => {
      const { loanVault, auction, susdai } = f;
      const informed = f.actors.lender3;
      await stake(f, informed, 2_000_000);
      // The informed lender asks to exit two days before the default, so the request matures during the auction.
      const shares = await susdai.balanceOf(informed.address);
      const loanId = await impairedHouseLoan(usd(1_000_000), () =>
        susdai.connect(informed).requestRedeem(shares, informed.address, informed.address),
      );
      await time.increase(STEP_IN_WINDOW);
      await loanVault.liquidate(loanId);
      const lot = await auction.auctionOf(loanId);
      const endsAt = lot.startedAt + lot.duration;
      // Through the auction the book never carries the lot above what a buyer would pay for it now.
      for (const t of [1n, DURATION / 2n, DURATION - 3_600n]) {
        await time.increaseTo(lot.startedAt + t);
        const s = await loanVault.stateOf(loanId);
        expect(s.impairedValue, `at +${t}s`).to.be.lessThanOrEqual(
          (await auction.price(loanId)) + s.lockbox + s.reserve,
        );
      }
      // ... an hour before the end, the request is serviced; at the last second the lot sells uncontested at the floor.
      await susdai.serviceRedemptions(10n);
      const servicedAt = await sharePrice();
      await fundBuyer(f, f.actors.liquidator.address, usd(2_000_000));
      await time.setNextBlockTimestamp(endsAt);
      await auction.connect(f.actors.liquidator).buy(loanId, lot.floorPrice);
      // Before the fix the floor was 500k against a lot carried at 800k: the exit was paid 1.8% above the price the
      // lenders who stayed were left with. Now the sale cannot come in below the lot's value in NAV.
      expect(servicedAt).to.be.lessThanOrEqual(await sharePrice());
    });
  });

  describe("#24.5 strategic default with an affiliate buy-back", () => {
    it("an affiliate waiting for the floor pays at least the lot's impaired value: lenders lose nothing beyond what NAV already took", async () => {
      const { loanVault, auction, susdai } = f;
      // 1.25M of collateral after a revaluation: the loan is impaired at its 1M principal (80% of the collateral).
      const loanId = await impairedHouseLoan(usd(1_250_000));
      const s = await loanVault.stateOf(loanId);
      expect(s.impairedValue).to.equal(usd(1_000_000));
      const navAtDefault = await susdai.totalAssets();
      await time.increase(STEP_IN_WINDOW);
      await loanVault.liquidate(loanId);
      const lot = await auction.auctionOf(loanId);
      // The floor is the reserve (the impaired value), above the 60% maximum LTV and the 50% floor parameter.
      expect(lot.floorPrice).to.equal(usd(1_000_000));
      // The borrower's affiliate (an allowlisted holder other than the borrower) waits for the last second.
      const affiliate = f.actors.liquidator;
      await fundBuyer(f, affiliate.address, usd(2_000_000));
      await time.setNextBlockTimestamp(lot.startedAt + lot.duration);
      const before = await f.usdai.balanceOf(affiliate.address);
      await auction.connect(affiliate).buy(loanId, lot.floorPrice);
      const paid = before - (await f.usdai.balanceOf(affiliate.address));
      // Before the fix it paid the 625k floor and the lenders lost 375k more than NAV had taken at the default.
      expect(paid).to.be.greaterThanOrEqual(s.impairedValue);
      expect(await susdai.totalAssets()).to.be.greaterThanOrEqual(navAtDefault);
    });
  });
});

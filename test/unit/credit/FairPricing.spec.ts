import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { stake } from "../../helpers/loans";
import { BPS } from "../../helpers/math";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { usd } from "../../../helpers/units";
import { loadLoanVault, loanVaultHelpers, type Signer } from "./suite";

/**
 * Fair share pricing around credit events (issue #24): one `describe` per item of the review, named after it. Each
 * reproduces what an informed lender took from the others on the code before the fix and checks the bound now.
 */
const YEAR = 365n * BigInt(DAY);
const COOLDOWN = BigInt(7 * DAY);

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

  /** The house loan, its collateral re-appraised at 1M (impaired at 800k after the 20% haircut), in default. */
  async function impairedHouseLoan(): Promise<bigint> {
    const { loanId, receiptIds, t0 } = await houseLoan();
    await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], usd(1_000_000), 0, BPS);
    await defaultHouseLoan(loanId, t0);
    return loanId;
  }

  describe("#24.1 deposit before a step-in", () => {
    it("a deposit made while a loan is impaired pays for its full recovery: the step-in's write-back gives it nothing", async () => {
      const { loanVault, susdai } = f;
      const informed = f.actors.lender3;
      const loanId = await impairedHouseLoan();
      const s = await loanVault.stateOf(loanId);
      expect(s.impairedValue).to.equal(usd(800_000));
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
});

import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { expectUnchanged, snapshot } from "../../helpers/state";
import { approve, mintReceipts, now } from "../../helpers/loans";
import { field } from "../../helpers/loan-unit";
import { SECONDS_PER_QUARTER, interestOf } from "../../helpers/math";
import { BreachFlags, DAY, LoanStatus, siteKey } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import {
  at,
  COLLATERAL,
  COLLATERAL_USD,
  COUPON,
  CURE,
  GRACE,
  houseLateFee,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  MAX_RECEIPTS,
  P,
  type Signer,
  SITE,
  SITE_KEY,
  WINDOW,
} from "./suite";

/**
 * Covenants while a loan performs: LTV breaches, top-ups and cures, reference-rate refreshes, oracle coupon
 * steps and breach flags.
 */
describe("LoanVault covenants: LTV, top-ups, reference rate, coupon steps, breach flags", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, oracle: Signer, attacker: Signer;
  beforeEach(async () => ({ f, b1, b2, oracle, attacker } = await loadLoanVault()));
  const { reads, expectRevert, houseLoan } = loanVaultHelpers(() => f);

  // ================================================================ topUp and covenants

  describe("checkCovenants, topUp (LTV breach by depreciation and cure)", () => {
    const LONG = { paymentIntervalSeconds: 180 * DAY, numPayments: 4 };

    /** A 1M loan against one 2M receipt marked down 5,000 bps per quarter (floor 0). */
    async function depreciatingLoan(): Promise<{ loanId: bigint; t0: bigint; receiptId: bigint }> {
      const [receiptId] = await mintReceipts(f, b1, 1, COLLATERAL_USD, SITE, 5_000n, 0n);
      const loanId = await approve(f, b1, P, SITE, LONG);
      await f.loanVault.connect(b1).borrow(loanId, [receiptId]);
      const t0 = (await f.loanVault.stateOf(loanId)).scheduleStart;
      return { loanId, t0, receiptId };
    }

    it("checkCovenants: no breach returns 0 and emits nothing", async () => {
      const { loanId } = await houseLoan();
      await expect(f.loanVault.checkCovenants(loanId)).not.to.emit(f.loanVault, "BreachFlagsSet");
      expect((await f.loanVault.stateOf(loanId)).breachFlags).to.equal(0n);
    });

    it("checkCovenants: depreciation past maintenance LTV sets the breach and starts the cure period", async () => {
      const { loanVault, receipts } = f;
      const { loanId, receiptId } = await depreciatingLoan();
      const record = await receipts.assetOf(receiptId);
      const when = BigInt(record.appraisal.appraisedAt) + SECONDS_PER_QUARTER;
      await at(when);
      await expect(loanVault.checkCovenants(loanId))
        .to.emit(loanVault, "BreachFlagsSet")
        .withArgs(loanId, BreachFlags.Ltv, when + CURE);
      const s = await loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(BreachFlags.Ltv);
      expect(s.cureDeadline).to.equal(when + CURE);
      expect(await loanVault.collateralValueOf(loanId)).to.equal(COLLATERAL / 2n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false);
      expect(await loanVault.defaultableAt(loanId)).to.equal(when + CURE + 1n);
      // idempotent: a second check emits nothing and keeps the deadline
      await expect(loanVault.checkCovenants(loanId)).not.to.emit(loanVault, "BreachFlagsSet");
    });

    it("an LTV breach on top of a required top-up keeps the running cure deadline", async () => {
      const { loanVault } = f;
      const { loanId, receiptId } = await depreciatingLoan();
      await loanVault.connect(oracle).applyCouponStep(loanId, 1, 0, true);
      const deadline = (await loanVault.stateOf(loanId)).cureDeadline;
      await at(BigInt((await f.receipts.assetOf(receiptId)).appraisal.appraisedAt) + SECONDS_PER_QUARTER);
      await expect(loanVault.checkCovenants(loanId))
        .to.emit(loanVault, "BreachFlagsSet")
        .withArgs(loanId, BreachFlags.Ltv | BreachFlags.TopUp, deadline);
    });

    it("topUp cures the breach and clears the deadline", async () => {
      const { loanVault } = f;
      const { loanId, receiptId } = await depreciatingLoan();
      await time.increaseTo(
        BigInt((await f.receipts.assetOf(receiptId)).appraisal.appraisedAt) + SECONDS_PER_QUARTER,
      );
      await loanVault.checkCovenants(loanId);
      const extra = await mintReceipts(f, b1, 2, 1_000_000);
      await expect(loanVault.connect(b1).topUp(loanId, extra))
        .to.emit(loanVault, "ToppedUp")
        .withArgs(loanId, extra, usd(2_000_000))
        .and.to.emit(loanVault, "BreachFlagsSet")
        .withArgs(loanId, 0n, 0n);
      expect(await loanVault.receiptsOf(loanId)).to.deep.equal([receiptId, ...extra]);
      for (const id of extra) expect(await f.receipts.ownerOf(id)).to.equal(await loanVault.getAddress());
      const s = await loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(0n);
      expect(s.cureDeadline).to.equal(0n);
      expect(s.receiptCount).to.equal(3n);
    });

    it("a lapsed cure allows default the second after the deadline", async () => {
      const { loanVault } = f;
      const { loanId, receiptId } = await depreciatingLoan();
      await time.increaseTo(
        BigInt((await f.receipts.assetOf(receiptId)).appraisal.appraisedAt) + SECONDS_PER_QUARTER,
      );
      await loanVault.checkCovenants(loanId);
      const deadline = (await loanVault.stateOf(loanId)).cureDeadline;
      await time.increaseTo(deadline - 1n);
      await at(deadline);
      await expect(loanVault.declareDefault(loanId))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultNotDefaultable")
        .withArgs(loanId, deadline + 1n);
      await at(deadline + 1n);
      await expect(loanVault.declareDefault(loanId)).to.emit(loanVault, "LoanDefaulted");
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Defaulted);
    });

    it("a breach cured by appreciation before the deadline is not a default (re-tested at default)", async () => {
      const { loanVault, receipts, actors } = f;
      const { loanId, receiptId } = await depreciatingLoan();
      await time.increaseTo(
        BigInt((await receipts.assetOf(receiptId)).appraisal.appraisedAt) + SECONDS_PER_QUARTER,
      );
      await loanVault.checkCovenants(loanId);
      const deadline = (await loanVault.stateOf(loanId)).cureDeadline;
      // re-appraised at 2M without markdown: the breach no longer stands when default is attempted
      await receipts.connect(actors.appraiser).appraise(receiptId, COLLATERAL, 0, 10_000);
      await time.increaseTo(deadline + 1n);
      const payAt = (await loanVault.stateOf(loanId)).scheduleStart + BigInt(180 * DAY) + GRACE + WINDOW + 1n;
      await expectRevert(loanId, () => loanVault.declareDefault(loanId), "LoanVaultNotDefaultable", [
        loanId,
        payAt,
      ]);
    });

    it("topUp reverts: bad status, not borrower, count, wrong site, worthless, id too large", async () => {
      const { loanVault } = f;
      const approved = await approve(f, b1, P);
      const [r] = await mintReceipts(f, b1, 1, 1_000);
      await expectRevert(approved, () => loanVault.connect(b1).topUp(approved, [r]), "LoanVaultBadStatus", [
        approved,
        LoanStatus.Approved,
      ]);
      const { loanId } = await houseLoan();
      await expectRevert(loanId, () => loanVault.connect(b2).topUp(loanId, [r]), "LoanVaultNotBorrower", [
        loanId,
        b2.address,
      ]);
      await expectRevert(loanId, () => loanVault.connect(b1).topUp(loanId, []), "LoanVaultReceiptCount", [
        1n,
        MAX_RECEIPTS,
      ]);
      const many = Array.from({ length: 64 }, () => r);
      await expectRevert(loanId, () => loanVault.connect(b1).topUp(loanId, many), "LoanVaultReceiptCount", [
        65n,
        MAX_RECEIPTS,
      ]);
      const [wrong] = await mintReceipts(f, b1, 1, 1_000, "NYC-1");
      await expectRevert(loanId, () => loanVault.connect(b1).topUp(loanId, [wrong]), "LoanVaultWrongSite", [
        wrong,
        siteKey("NYC-1"),
        SITE_KEY,
      ]);
      const [zero] = await mintReceipts(f, b1, 1, 0);
      await expectRevert(
        loanId,
        () => loanVault.connect(b1).topUp(loanId, [zero]),
        "LoanVaultWorthlessReceipt",
        [zero],
      );
      const wide = (1n << 64n) + 1n;
      await expectRevert(
        loanId,
        () => loanVault.connect(b1).topUp(loanId, [wide]),
        "LoanVaultReceiptIdTooLarge",
        [wide],
      );
    });

    it("topUp keeps the receipt list packed across slots (2 + 6 receipts)", async () => {
      const { loanId, receiptIds } = await houseLoan({ receipts: 2 });
      const extra = await mintReceipts(f, b1, 6, 1_000);
      await f.loanVault.connect(b1).topUp(loanId, extra);
      expect(await f.loanVault.receiptsOf(loanId)).to.deep.equal([...receiptIds, ...extra]);
      expect(await f.loanVault.collateralValueOf(loanId)).to.equal(COLLATERAL + usd(6_000));
    });

    it("checkCovenants reverts for a loan that is not Active", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.checkCovenants(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Approved,
      ]);
    });
  });

  // ================================================================ refreshReferenceRate

  describe("refreshReferenceRate", () => {
    async function feedLoan(): Promise<{ loanId: bigint; t0: bigint }> {
      const feed = await f.referenceFeed.getAddress();
      await f.referenceFeed.pushAnswer(4_300_000n);
      return houseLoan({ overrides: { referenceRateFeed: feed } });
    }

    it("re-reads the feed, checkpoints at the old coupon and moves the coupon and aggregate rate", async () => {
      const { loanVault, referenceFeed } = f;
      const { loanId, t0 } = await feedLoan();
      await referenceFeed.pushAnswer(5_000_000n);
      const when = t0 + BigInt(DAY);
      await at(when);
      await expect(loanVault.refreshReferenceRate(loanId))
        .to.emit(loanVault, "ReferenceRateUpdated")
        .withArgs(loanId, 500n, 1_100n);
      const s = await loanVault.stateOf(loanId);
      expect(s.couponBps).to.equal(1_100n);
      expect(s.referenceRateBps).to.equal(500n);
      expect(s.interest).to.equal(interestOf(P, COUPON, BigInt(DAY)));
      expect(await loanVault.couponOf(loanId)).to.equal(1_100n);
      expect((await loanVault.accrualState()).rateSum).to.equal(P * 1_100n);
    });

    it("reverts for a fixed-rate loan", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(loanId, () => f.loanVault.refreshReferenceRate(loanId), "LoanVaultInvalidParam", [
        field("referenceRateFeed"),
        0n,
      ]);
    });

    it("reverts for a loan that is not Active", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.refreshReferenceRate(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Approved,
      ]);
    });

    it("reverts on a stale, non-positive or future answer", async () => {
      const { loanVault, referenceFeed } = f;
      const feed = await referenceFeed.getAddress();
      const { loanId } = await feedLoan();
      const [, answer, , updatedAt] = await referenceFeed.latestRoundData();
      await time.increase(2 * DAY + 1);
      await expectRevert(loanId, () => loanVault.refreshReferenceRate(loanId), "LoanVaultBadReferenceRate", [
        feed,
        answer,
        updatedAt,
      ]);
      const t = BigInt(await now());
      for (const [a, u] of [
        [0n, t],
        [-5n, t],
        [4_000_000n, t + 3_600n],
      ]) {
        await referenceFeed.setRound(3, a, u);
        await expectRevert(
          loanId,
          () => loanVault.refreshReferenceRate(loanId),
          "LoanVaultBadReferenceRate",
          [feed, a, u],
        );
      }
    });
  });

  // ================================================================ oracle hooks

  describe("applyCouponStep", () => {
    it("moves the premium, the coupon and the aggregate rate after checkpointing", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const when = t0 + 1_000n;
      await at(when);
      await expect(loanVault.connect(oracle).applyCouponStep(loanId, 1, -200, false))
        .to.emit(loanVault, "CouponStepApplied")
        .withArgs(loanId, 1n, -200n, -200n, false, 0n);
      const s = await loanVault.stateOf(loanId);
      expect(s.premiumBps).to.equal(400n);
      expect(s.couponBps).to.equal(830n);
      expect(s.lastStepId).to.equal(1n);
      expect(s.interest).to.equal(interestOf(P, COUPON, 1_000n));
      expect(await loanVault.lastCouponStepId(loanId)).to.equal(1n);
      expect(await loanVault.couponOf(loanId)).to.equal(830n);
      expect((await loanVault.accrualState()).rateSum).to.equal(P * 830n);
    });

    it("clamps to the cap and to the floor", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await expect(loanVault.connect(oracle).applyCouponStep(loanId, 1, 1_000, false))
        .to.emit(loanVault, "CouponStepApplied")
        .withArgs(loanId, 1n, 1_000n, 600n, false, 0n);
      expect((await loanVault.stateOf(loanId)).premiumBps).to.equal(1_200n);
      await expect(loanVault.connect(oracle).applyCouponStep(loanId, 2, -5_000, false))
        .to.emit(loanVault, "CouponStepApplied")
        .withArgs(loanId, 2n, -5_000n, -1_000n, false, 0n);
      expect((await loanVault.stateOf(loanId)).premiumBps).to.equal(200n);
      expect(await loanVault.couponOf(loanId)).to.equal(630n);
    });

    it("is idempotent by step id: a step id not above the last is ignored", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await loanVault.connect(oracle).applyCouponStep(loanId, 5, 300, false);
      const before = await snapshot(reads(loanId));
      for (const stepId of [5, 4, 0]) {
        await expect(loanVault.connect(oracle).applyCouponStep(loanId, stepId, 300, true)).not.to.emit(
          loanVault,
          "CouponStepApplied",
        );
      }
      await expectUnchanged(before, reads(loanId));
      expect((await loanVault.stateOf(loanId)).premiumBps).to.equal(900n);
    });

    it("a required top-up sets TOP_UP and a cure deadline, kept by later steps", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const when = t0 + 50n;
      await at(when);
      await expect(loanVault.connect(oracle).applyCouponStep(loanId, 1, 300, true))
        .to.emit(loanVault, "CouponStepApplied")
        .withArgs(loanId, 1n, 300n, 300n, true, when + CURE);
      let s = await loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(BreachFlags.TopUp);
      expect(s.cureDeadline).to.equal(when + CURE);
      expect(await loanVault.defaultableAt(loanId)).to.equal(when + CURE + 1n);
      await expect(loanVault.connect(oracle).applyCouponStep(loanId, 2, 300, true))
        .to.emit(loanVault, "CouponStepApplied")
        .withArgs(loanId, 2n, 300n, 300n, true, when + CURE);
      s = await loanVault.stateOf(loanId);
      expect(s.cureDeadline).to.equal(when + CURE);
      expect(s.premiumBps).to.equal(1_200n);
    });

    it("does not charge late fees: they are priced at the contract coupon, the same before or after a step", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const late = t0 + INTERVAL + GRACE + 1n; // installment 1 is one second past its grace period
      const fee = houseLateFee(1n); // at COUPON, the contract coupon (430 reference + 600 base premium)
      const feesAfter = async (first: "step" | "charge"): Promise<bigint> => {
        const snap = await hre.network.provider.send("evm_snapshot");
        await at(late);
        if (first === "step") {
          await expect(loanVault.connect(oracle).applyCouponStep(loanId, 1, 600, false)).not.to.emit(
            loanVault,
            "LateFeeCharged",
          );
          expect((await loanVault.stateOf(loanId)).couponBps).to.equal(COUPON + 600n);
          await expect(loanVault.checkCovenants(loanId))
            .to.emit(loanVault, "LateFeeCharged")
            .withArgs(loanId, 1n, fee);
        } else {
          await expect(loanVault.checkCovenants(loanId))
            .to.emit(loanVault, "LateFeeCharged")
            .withArgs(loanId, 1n, fee);
          await loanVault.connect(oracle).applyCouponStep(loanId, 1, 600, false);
        }
        const { lateFees } = await loanVault.stateOf(loanId);
        await hre.network.provider.send("evm_revert", [snap]);
        return lateFees;
      };
      expect(await feesAfter("step")).to.equal(fee);
      expect(await feesAfter("charge")).to.equal(fee);
    });

    it("a required top-up not made in the cure period allows default; a top-up to the origination LTV cures it", async () => {
      const { loanVault } = f;
      // 1.2M of debt against 2M: 60% LTV; the TOP_UP flag clears only once debt <= 60% of collateral.
      const { loanId } = await houseLoan({ principal: usd(1_200_000) });
      await loanVault.connect(oracle).applyCouponStep(loanId, 1, 300, true);
      const deadline = (await loanVault.stateOf(loanId)).cureDeadline;
      const snap = await hre.network.provider.send("evm_snapshot");
      await at(deadline + 1n);
      await expect(loanVault.declareDefault(loanId)).to.emit(loanVault, "LoanDefaulted");
      await hre.network.provider.send("evm_revert", [snap]);
      const extra = await mintReceipts(f, b1, 1, 1_000_000);
      await expect(loanVault.connect(b1).topUp(loanId, extra))
        .to.emit(loanVault, "BreachFlagsSet")
        .withArgs(loanId, 0n, 0n);
      expect(await loanVault.defaultableAt(loanId)).to.equal(
        (await loanVault.stateOf(loanId)).scheduleStart + INTERVAL + GRACE + WINDOW + 1n,
      );
    });

    it("reverts for a caller without ORACLE, a loan not Active, and a step id above uint32", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await expectRevert(
        loanId,
        () => loanVault.connect(attacker).applyCouponStep(loanId, 1, 1, false),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.ORACLE],
      );
      const tooBig = 2n ** 32n;
      await expectRevert(
        loanId,
        () => loanVault.connect(oracle).applyCouponStep(loanId, tooBig, 1, false),
        "LoanVaultAmountOverflow",
        [tooBig],
      );
      const approved = await approve(f, b1, P);
      await expectRevert(
        approved,
        () => loanVault.connect(oracle).applyCouponStep(approved, 1, 1, false),
        "LoanVaultBadStatus",
        [approved, LoanStatus.Approved],
      );
    });
  });

  describe("setCovenantBreach", () => {
    it("sets the oracle flags, is idempotent and can clear them", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await expect(loanVault.connect(oracle).setCovenantBreach(loanId, 1))
        .to.emit(loanVault, "CovenantFlagsSet")
        .withArgs(loanId, 0n, 1n);
      expect(await loanVault.covenantFlags(loanId)).to.equal(1n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false);
      await expect(loanVault.connect(oracle).setCovenantBreach(loanId, 1)).not.to.emit(
        loanVault,
        "CovenantFlagsSet",
      );
      await expect(loanVault.connect(oracle).setCovenantBreach(loanId, 0))
        .to.emit(loanVault, "CovenantFlagsSet")
        .withArgs(loanId, 1n, 0n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
    });

    it("reverts for a caller without ORACLE, flags above uint8 and a loan not Active", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await expectRevert(
        loanId,
        () => loanVault.connect(attacker).setCovenantBreach(loanId, 1),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.ORACLE],
      );
      await expectRevert(
        loanId,
        () => loanVault.connect(oracle).setCovenantBreach(loanId, 256),
        "LoanVaultInvalidParam",
        [field("flags"), 256n],
      );
      const approved = await approve(f, b1, P);
      await expectRevert(
        approved,
        () => loanVault.connect(oracle).setCovenantBreach(approved, 1),
        "LoanVaultBadStatus",
        [approved, LoanStatus.Approved],
      );
    });
  });
});

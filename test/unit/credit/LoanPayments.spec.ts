import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve } from "../../helpers/loans";
import { BPS, ceilDiv, INTEREST_DENOMINATOR, interestOf, min, mulDivUp } from "../../helpers/math";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import {
  at,
  COUPON,
  GRACE,
  houseLateFee,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  P,
  type Signer,
  SITE_KEY,
} from "./suite";

/**
 * Money coming in (repay, revenue into the lockbox), the waterfall that applies it, excess released to the
 * borrower, and closing a repaid loan.
 */
describe("LoanVault payments: repay, revenue lockbox, waterfall, release, close", () => {
  let f: ProtocolFixture, b1: Signer, b3: Signer, oracle: Signer, attacker: Signer, payer: Signer;
  beforeEach(async () => ({ f, b1, b3, oracle, attacker, payer } = await loadLoanVault()));
  const { expectRevert, houseLoan, defaultHouseLoan } = loanVaultHelpers(() => f);

  // ================================================================ repay

  describe("repay", () => {
    it("pays interest, then scheduled principal, then prepayment (exact figures)", async () => {
      const { loanVault, susdai } = f;
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      const interest = interestOf(P, COUPON, INTERVAL);
      const scheduled = mulDivUp(P, 200n, BPS);
      const prepayment = usd(1_000);
      const amount = interest + scheduled + prepayment;
      const idle = await susdai.idleAssets();
      await at(due);
      await expect(loanVault.connect(payer).repay(loanId, amount))
        .to.emit(loanVault, "Repaid")
        .withArgs(loanId, payer.address, 0n, interest, scheduled, prepayment)
        .and.to.emit(loanVault, "PaymentSettled")
        .withArgs(loanId, 1n);
      const s = await loanVault.stateOf(loanId);
      expect(s.principal).to.equal(P - scheduled - prepayment);
      expect(s.interest).to.equal(0n);
      expect(s.accruedAt).to.equal(due);
      expect(s.nextPaymentIndex).to.equal(2n);
      expect(await susdai.idleAssets()).to.equal(idle + amount);
      const agg = await loanVault.accrualState();
      expect(agg.totalPrincipal).to.equal(P - scheduled - prepayment);
      expect(agg.rateSum).to.equal((P - scheduled - prepayment) * COUPON);
      // The aggregate numerator moved to the booked (rounded-up) interest, which the payment then took out whole.
      expect(agg.interestNumerator).to.equal(0n);
      const exposure = await loanVault.exposureOf(b1.address, SITE_KEY);
      expect(exposure.borrowerPrincipal).to.equal(P - scheduled - prepayment);
    });

    it("applies a partial payment to interest first and settles nothing", async () => {
      const { loanId, t0 } = await houseLoan();
      const interest = interestOf(P, COUPON, INTERVAL);
      await at(t0 + INTERVAL);
      await expect(f.loanVault.connect(payer).repay(loanId, interest - 1n))
        .to.emit(f.loanVault, "Repaid")
        .withArgs(loanId, payer.address, 0n, interest - 1n, 0n, 0n)
        .and.not.to.emit(f.loanVault, "PaymentSettled");
      const s = await f.loanVault.stateOf(loanId);
      expect(s.interest).to.equal(1n);
      expect(s.nextPaymentIndex).to.equal(1n);
    });

    it("before the due date, money beyond the interest pays interest ahead towards the due date (#16.1)", async () => {
      const { loanId, t0 } = await houseLoan();
      const elapsed = 10n * BigInt(DAY);
      const interest = interestOf(P, COUPON, elapsed);
      await at(t0 + elapsed);
      // $5 buys floor(5 x DENOMINATOR / (P x coupon)) whole seconds of interest; the rest of a second's worth goes to
      // the installment's principal
      const seconds = (usd(5) * INTEREST_DENOMINATOR) / (P * COUPON);
      const ahead = interestOf(P, COUPON, seconds);
      await expect(f.loanVault.connect(payer).repay(loanId, interest + usd(5)))
        .to.emit(f.loanVault, "Repaid")
        .withArgs(loanId, payer.address, 0n, interest + ahead, usd(5) - ahead, 0n);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.accruedAt).to.equal(t0 + elapsed + seconds);
      expect(s.interest).to.equal(0n);
      expect(s.principal).to.equal(P - (usd(5) - ahead));
    });

    it("charges a late fee once past grace and takes it first", async () => {
      const { loanVault, susdai } = f;
      const { loanId, t0 } = await houseLoan();
      const when = t0 + INTERVAL + GRACE + 1n;
      const interest = interestOf(P, COUPON, INTERVAL + GRACE + 1n);
      const scheduled = mulDivUp(P, 200n, BPS);
      const fee = houseLateFee(1n);
      await at(when - 1n);
      await f.actors.deployer.sendTransaction({ to: f.actors.deployer.address }); // mine at when-1
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
      await at(when);
      await expect(loanVault.connect(payer).repay(loanId, fee + interest + scheduled))
        .to.emit(loanVault, "LateFeeCharged")
        .withArgs(loanId, 1n, fee)
        .and.to.emit(loanVault, "Repaid")
        .withArgs(loanId, payer.address, fee, interest, scheduled, 0n)
        .and.to.emit(susdai, "RepaymentReceived")
        .withArgs(scheduled, interest);
      const s = await loanVault.stateOf(loanId);
      expect(s.lateFees).to.equal(0n);
      expect(s.lateFeeIndex).to.equal(1n);
      expect(s.nextPaymentIndex).to.equal(2n);
    });

    it("late fees do not depend on when the loan is accrued (regression: lazy accrual once charged overdue x late)", async () => {
      // Two identical loans miss their first two installments. Loan A is poked (checkCovenants accrues) once the
      // first installment is late and again once the second is; loan B is only poked at the second. Each late
      // installment is charged once on its own amount, so both pay the same fee, and exactly the house fee on two.
      const { loanVault } = f;
      const a = await houseLoan();
      const b = await houseLoan();
      await time.increaseTo(a.t0 + INTERVAL + GRACE + 1n);
      await loanVault.checkCovenants(a.loanId);
      const second = b.t0 + 2n * INTERVAL + GRACE + 1n;
      await at(second + (a.t0 - b.t0)); // the same age for A...
      await loanVault.checkCovenants(a.loanId);
      await at(second); // ...and for B, drawn a few blocks after A
      await loanVault.checkCovenants(b.loanId);
      expect((await loanVault.stateOf(b.loanId)).lateFees).to.equal(
        (await loanVault.stateOf(a.loanId)).lateFees,
      );
      expect((await loanVault.stateOf(b.loanId)).lateFees).to.be.closeTo(houseLateFee(2n), 1n);
    });

    it("with a zero late penalty, a late installment is marked but charged nothing", async () => {
      const { loanId, t0 } = await houseLoan({ overrides: { latePenaltyBps: 0 } });
      await at(t0 + INTERVAL + GRACE + 1n);
      await expect(f.loanVault.connect(payer).repay(loanId, usd(1))).not.to.emit(
        f.loanVault,
        "LateFeeCharged",
      );
      const s = await f.loanVault.stateOf(loanId);
      expect(s.lateFeeIndex).to.equal(1n);
      expect(s.lateFees).to.equal(0n);
    });

    it("repay(id, MaxUint256) pays everything, settles all payments and makes the loan Repaid", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const elapsed = 15n * BigInt(DAY);
      const interest = interestOf(P, COUPON, elapsed);
      const balance = await f.usdai.balanceOf(payer.address);
      await at(t0 + elapsed);
      await expect(loanVault.connect(payer).repay(loanId, MaxUint256))
        .to.emit(loanVault, "Repaid")
        .withArgs(loanId, payer.address, 0n, interest, 0n, P)
        .and.to.emit(loanVault, "PaymentSettled")
        .withArgs(loanId, 36n);
      expect(await f.usdai.balanceOf(payer.address)).to.equal(balance - P - interest);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Repaid);
      expect(s.principal).to.equal(0n);
      expect(s.nextPaymentIndex).to.equal(37n);
      expect(await loanVault.debtOf(loanId)).to.equal(0n);
      expect(await loanVault.nextPayment(loanId)).to.deep.equal([0n, 0n]);
      expect(await loanVault.defaultableAt(loanId)).to.equal(0n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
      expect(await loanVault.isPerforming(loanId)).to.equal(false);
      const agg = await loanVault.accrualState();
      expect(agg.totalPrincipal).to.equal(0n);
      expect(agg.rateSum).to.equal(0n);
      expect(await loanVault.exposureOf(b1.address, SITE_KEY)).to.deep.equal([0n, 0n]);
      expect(await loanVault.loanAssets()).to.equal(0n);
    });

    it("reverts on a zero amount", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).repay(loanId, 0n),
        "LoanVaultZeroAmount",
        [],
      );
    });

    it("reverts for a loan that is not Active", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.connect(payer).repay(loanId, 1n), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Approved,
      ]);
    });

    it("reverts on an overpayment beyond the debt plus the interest to the next due date, with that amount", async () => {
      const { loanId, t0 } = await houseLoan();
      const elapsed = BigInt(DAY);
      const owed = P + interestOf(P, COUPON, elapsed);
      const tolerance = interestOf(P, COUPON, INTERVAL - elapsed);
      await at(t0 + elapsed);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).repay(loanId, owed + tolerance + 1n),
        "LoanVaultOverpayment",
        [loanId, owed + tolerance + 1n, owed + tolerance],
      );
    });

    it("a payment above the debt within that tolerance is a payoff and takes only the debt", async () => {
      const { loanId, t0 } = await houseLoan();
      const elapsed = BigInt(DAY);
      const owed = P + interestOf(P, COUPON, elapsed);
      await at(t0 + elapsed);
      const before = await f.usdai.balanceOf(payer.address);
      await f.loanVault.connect(payer).repay(loanId, owed + usd(1));
      expect(before - (await f.usdai.balanceOf(payer.address))).to.equal(owed);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
    });

    it("re-tests a breach when principal falls, curing it", async () => {
      const { loanId } = await houseLoan({
        overrides: { paymentIntervalSeconds: 180 * DAY, numPayments: 4 },
      });
      // Oracle requires a top-up; paying down to within the origination LTV clears it.
      await f.loanVault.connect(oracle).applyCouponStep(loanId, 1, 0, true);
      await f.loanVault.connect(payer).repay(loanId, usd(100_000));
      const s = await f.loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(0n);
      expect(s.cureDeadline).to.equal(0n);
    });
  });

  // ================================================================ depositRevenue

  describe("depositRevenue", () => {
    it("adds to the lockbox and pulls the USDai", async () => {
      const { loanVault, usdai } = f;
      const { loanId } = await houseLoan();
      const vault = await loanVault.getAddress();
      const before = await usdai.balanceOf(vault);
      await expect(loanVault.connect(payer).depositRevenue(loanId, usd(10)))
        .to.emit(loanVault, "RevenueDeposited")
        .withArgs(loanId, payer.address, usd(10));
      await loanVault.connect(payer).depositRevenue(loanId, usd(5));
      expect((await loanVault.stateOf(loanId)).lockbox).to.equal(usd(15));
      expect(await usdai.balanceOf(vault)).to.equal(before + usd(15));
    });

    it("keeps each loan's cumulative deposits and its debt service per period for the oracle's revenue covenants", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      const other = await houseLoan();
      await loanVault.connect(payer).depositRevenue(loanId, usd(10));
      await loanVault.connect(payer).depositRevenue(loanId, usd(5));
      await loanVault.connect(payer).depositRevenue(other.loanId, usd(7));
      // The sweep spends the lockbox, not the cumulative deposits.
      await loanVault.sweep(loanId);
      const period = 30n * BigInt(DAY);
      const debtService =
        mulDivUp(P, COUPON * period, INTEREST_DENOMINATOR) +
        mulDivUp(P, 200n * period, BPS * BigInt(INTERVAL));
      expect([...(await loanVault.revenueCovenantInputs(loanId, 30))]).to.deep.equal([debtService, usd(15)]);
      expect([...(await loanVault.revenueCovenantInputs(other.loanId, 30))]).to.deep.equal([
        debtService,
        usd(7),
      ]);
      // Not Active: no debt service.
      await loanVault.connect(payer).repay(other.loanId, MaxUint256);
      expect([...(await loanVault.revenueCovenantInputs(other.loanId, 30))]).to.deep.equal([0n, usd(7)]);
    });

    it("accepts revenue for Repaid and Defaulted loans", async () => {
      const { loanId, t0 } = await houseLoan();
      const other = await houseLoan();
      await f.loanVault.connect(payer).repay(other.loanId, MaxUint256);
      await f.loanVault.connect(payer).depositRevenue(other.loanId, usd(1));
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(2));
      expect((await f.loanVault.stateOf(other.loanId)).lockbox).to.equal(usd(1));
      expect((await f.loanVault.stateOf(loanId)).lockbox).to.equal(usd(2));
    });

    it("reverts on a zero amount", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).depositRevenue(loanId, 0n),
        "LoanVaultZeroAmount",
        [],
      );
    });

    it("reverts when the lockbox would pass its 128 bits, before pulling anything", async () => {
      const { loanId } = await houseLoan();
      await f.loanVault.connect(payer).depositRevenue(loanId, 5n);
      const amount = 2n ** 128n - 5n;
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).depositRevenue(loanId, amount),
        "LoanVaultAmountOverflow",
        [amount + 5n],
      );
    });

    it("reverts for Approved, unknown and Liquidating loans", async () => {
      const approved = await approve(f, b1, P);
      await expectRevert(
        approved,
        () => f.loanVault.connect(payer).depositRevenue(approved, 1n),
        "LoanVaultBadStatus",
        [approved, LoanStatus.Approved],
      );
      await expectRevert(
        99n,
        () => f.loanVault.connect(payer).depositRevenue(99n, 1n),
        "LoanVaultBadStatus",
        [99n, LoanStatus.None],
      );
      const { loanId, t0 } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).depositRevenue(loanId, 1n),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Liquidating],
      );
    });
  });

  // ================================================================ sweep

  describe("sweep", () => {
    it("runs the waterfall: interest, scheduled principal, reserve to its target, excess stays", async () => {
      const { loanVault, susdai } = f;
      const { loanId, t0 } = await houseLoan();
      const revenue = usd(100_000);
      await loanVault.connect(payer).depositRevenue(loanId, revenue);
      const interest = interestOf(P, COUPON, INTERVAL);
      const scheduled = mulDivUp(P, 200n, BPS);
      const principalLeft = P - scheduled;
      const reserve = ceilDiv(principalLeft * 300n, BPS);
      const excess = revenue - interest - scheduled - reserve;
      await at(t0 + INTERVAL);
      await expect(loanVault.sweep(loanId))
        .to.emit(loanVault, "Swept")
        .withArgs(loanId, interest + scheduled, reserve, excess, false)
        .and.to.emit(loanVault, "PaymentSettled")
        .withArgs(loanId, 1n)
        .and.to.emit(susdai, "RepaymentReceived")
        .withArgs(scheduled, interest);
      const s = await loanVault.stateOf(loanId);
      expect(s.lockbox).to.equal(excess);
      expect(s.reserve).to.equal(reserve);
      expect(s.principal).to.equal(principalLeft);
      expect(s.nextPaymentIndex).to.equal(2n);
    });

    it("fills the reserve only partly when cash runs short, and the reserve pays the next installment", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const interest1 = interestOf(P, COUPON, INTERVAL);
      const scheduled = mulDivUp(P, 200n, BPS);
      const revenue = interest1 + scheduled + usd(100);
      await loanVault.connect(payer).depositRevenue(loanId, revenue);
      await at(t0 + INTERVAL);
      await expect(loanVault.sweep(loanId))
        .to.emit(loanVault, "Swept")
        .withArgs(loanId, interest1 + scheduled, usd(100), 0n, false);
      // next month: the 100 of reserve goes to interest
      const principal = P - scheduled;
      const interest2 = interestOf(principal, COUPON, INTERVAL);
      await at(t0 + 2n * INTERVAL);
      await expect(loanVault.sweep(loanId))
        .to.emit(loanVault, "Swept")
        .withArgs(loanId, usd(100), 0n, 0n, false);
      const s = await loanVault.stateOf(loanId);
      expect(s.interest).to.equal(interest2 - usd(100));
      expect(s.reserve).to.equal(0n);
    });

    it("with a covenant flag set, the excess prepays principal (cash sweep)", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      await loanVault.connect(oracle).setCovenantBreach(loanId, 1);
      const revenue = usd(100_000);
      await loanVault.connect(payer).depositRevenue(loanId, revenue);
      const interest = interestOf(P, COUPON, INTERVAL);
      const scheduled = mulDivUp(P, 200n, BPS);
      const principalLeft = P - scheduled;
      // the largest prepayment whose reserve target, on the principal left after it, is still funded (#16.12b)
      const cash = revenue - interest - scheduled;
      const prepayment = (cash * BPS - principalLeft * 300n) / (BPS - 300n);
      const reserve = min(cash - prepayment, ceilDiv((principalLeft - prepayment) * 300n, BPS));
      await at(t0 + INTERVAL);
      await expect(loanVault.sweep(loanId))
        .to.emit(loanVault, "Swept")
        .withArgs(loanId, interest + scheduled + prepayment, reserve, 0n, true);
      const s = await loanVault.stateOf(loanId);
      expect(s.lockbox).to.equal(0n);
      expect(s.principal).to.equal(principalLeft - prepayment);
    });

    it("a cash sweep larger than the debt repays the loan and leaves the rest in the lockbox", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      await loanVault.connect(oracle).setCovenantBreach(loanId, 1);
      const revenue = usd(1_100_000);
      await loanVault.connect(payer).depositRevenue(loanId, revenue);
      const elapsed = BigInt(DAY);
      const interest = interestOf(P, COUPON, elapsed);
      await at(t0 + elapsed);
      // nothing scheduled yet: the cash sweep repays it all, and a repaid loan needs no reserve (#16.12b)
      const reserve = 0n;
      const excess = revenue - interest - P;
      await expect(loanVault.sweep(loanId))
        .to.emit(loanVault, "Swept")
        .withArgs(loanId, interest + P, reserve, excess, true)
        .and.to.emit(loanVault, "PaymentSettled")
        .withArgs(loanId, 36n);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Repaid);
      expect(s.lockbox).to.equal(excess);
      expect(s.reserve).to.equal(reserve);
    });

    it("an empty sweep changes nothing but the checkpoint", async () => {
      const { loanId, t0 } = await houseLoan();
      await at(t0 + 100n);
      await expect(f.loanVault.sweep(loanId))
        .to.emit(f.loanVault, "Swept")
        .withArgs(loanId, 0n, 0n, 0n, false);
      expect((await f.loanVault.stateOf(loanId)).interest).to.equal(interestOf(P, COUPON, 100n));
    });

    it("reverts for a loan that is not Active", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.sweep(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Approved,
      ]);
    });
  });

  // ================================================================ releaseExcess

  describe("releaseExcess", () => {
    async function withExcess(): Promise<{ loanId: bigint; t0: bigint; excess: bigint }> {
      const { loanId, t0 } = await houseLoan();
      const revenue = usd(100_000);
      await f.loanVault.connect(payer).depositRevenue(loanId, revenue);
      const elapsed = BigInt(DAY);
      const excess = revenue - interestOf(P, COUPON, elapsed) - ceilDiv(P * 300n, BPS);
      await at(t0 + elapsed);
      return { loanId, t0, excess };
    }

    it("sweeps, then sends the excess to `to`", async () => {
      const { loanVault, usdai } = f;
      const { loanId, excess } = await withExcess();
      await expect(loanVault.connect(b1).releaseExcess(loanId, b3.address, excess))
        .to.emit(loanVault, "Swept")
        .and.to.emit(loanVault, "ExcessReleased")
        .withArgs(loanId, b3.address, excess);
      expect(await usdai.balanceOf(b3.address)).to.equal(usd(5_000_000) + excess);
      expect((await loanVault.stateOf(loanId)).lockbox).to.equal(0n);
    });

    it("releases from a Repaid loan's lockbox without a sweep", async () => {
      const { loanVault } = f;
      const { loanId } = await houseLoan();
      await loanVault.connect(payer).repay(loanId, MaxUint256);
      await loanVault.connect(payer).depositRevenue(loanId, usd(7));
      await expect(loanVault.connect(b1).releaseExcess(loanId, b1.address, usd(7)))
        .to.emit(loanVault, "ExcessReleased")
        .withArgs(loanId, b1.address, usd(7))
        .and.not.to.emit(loanVault, "Swept");
    });

    it("reverts with the exact excess available", async () => {
      const { loanId, excess } = await withExcess();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, b1.address, excess + 1n),
        "LoanVaultExcessUnavailable",
        [loanId, excess + 1n, excess],
      );
    });

    it("reverts for a caller other than the borrower, a zero recipient or a zero amount", async () => {
      const { loanId } = await withExcess();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(attacker).releaseExcess(loanId, attacker.address, 1n),
        "LoanVaultNotBorrower",
        [loanId, attacker.address],
      );
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, ZeroAddress, 1n),
        "LoanVaultZeroAddress",
        [],
      );
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, b1.address, 0n),
        "LoanVaultZeroAmount",
        [],
      );
    });

    it("reverts for an Approved or Defaulted loan", async () => {
      const approved = await approve(f, b1, P);
      await expectRevert(
        approved,
        () => f.loanVault.connect(b1).releaseExcess(approved, b1.address, 1n),
        "LoanVaultBadStatus",
        [approved, LoanStatus.Approved],
      );
      const { loanId, t0 } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, b1.address, 1n),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Defaulted],
      );
    });

    it("reverts while not in good standing: oracle flag, vault flag, overdue payment", async () => {
      const { loanId, t0 } = await withExcess();
      await f.loanVault.connect(oracle).setCovenantBreach(loanId, 1);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, b1.address, 1n),
        "LoanVaultNotInGoodStanding",
        [loanId],
      );
      // A required top-up (vault flag) on a loan with an empty lockbox: the sweep pays nothing, so the flag stands.
      const flagged = await houseLoan();
      await f.loanVault.connect(oracle).applyCouponStep(flagged.loanId, 1, 0, true);
      await expectRevert(
        flagged.loanId,
        () => f.loanVault.connect(b1).releaseExcess(flagged.loanId, b1.address, 1n),
        "LoanVaultNotInGoodStanding",
        [flagged.loanId],
      );
      // A fresh loan whose first payment is past grace, with revenue not covering it.
      const other = await houseLoan();
      await f.loanVault.connect(payer).depositRevenue(other.loanId, usd(1));
      await time.increaseTo(other.t0 + INTERVAL + GRACE + 1n);
      await expectRevert(
        other.loanId,
        () => f.loanVault.connect(b1).releaseExcess(other.loanId, b1.address, 1n),
        "LoanVaultNotInGoodStanding",
        [other.loanId],
      );
      void t0;
    });

    it("reverts while paused", async () => {
      const { loanId } = await withExcess();
      await f.loanVault.connect(f.actors.guardian).pause();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).releaseExcess(loanId, b1.address, 1n),
        "EnforcedPause",
        [],
      );
    });
  });

  // ================================================================ close

  describe("close", () => {
    it("returns the receipts and the lockbox plus reserve to the borrower", async () => {
      const { loanVault, usdai, receipts } = f;
      const { loanId, receiptIds, t0 } = await houseLoan({ receipts: 2 });
      await loanVault.connect(payer).depositRevenue(loanId, usd(100_000));
      await at(t0 + INTERVAL);
      await loanVault.sweep(loanId); // leaves a reserve and an excess
      const s0 = await loanVault.stateOf(loanId);
      const refund = s0.lockbox + s0.reserve;
      expect(s0.reserve).to.be.greaterThan(0n);
      await loanVault.connect(payer).repay(loanId, MaxUint256);
      const balance = await usdai.balanceOf(b1.address);
      await expect(loanVault.connect(attacker).close(loanId))
        .to.emit(loanVault, "LoanClosed")
        .withArgs(loanId, b1.address, refund);
      expect(await usdai.balanceOf(b1.address)).to.equal(balance + refund);
      for (const id of receiptIds) expect(await receipts.ownerOf(id)).to.equal(b1.address);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Closed);
      expect(s.lockbox).to.equal(0n);
      expect(s.reserve).to.equal(0n);
      await expectRevert(loanId, () => loanVault.close(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Closed,
      ]);
    });

    it("closes without a refund when the lockbox is empty", async () => {
      const { loanId } = await houseLoan();
      await f.loanVault.connect(payer).repay(loanId, MaxUint256);
      const balance = await f.usdai.balanceOf(b1.address);
      await expect(f.loanVault.close(loanId))
        .to.emit(f.loanVault, "LoanClosed")
        .withArgs(loanId, b1.address, 0n);
      expect(await f.usdai.balanceOf(b1.address)).to.equal(balance);
    });

    it("reverts for a loan that is not Repaid", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(loanId, () => f.loanVault.close(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Active,
      ]);
    });

    it("a borrower contract re-entering from onERC721Received during close is blocked", async () => {
      const { loanVault, receipts, actors } = f;
      const { loanId, t0, receiptIds } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      const receiver = await hre.ethers.deployContract("ReentrantReceiptReceiver", [
        await loanVault.getAddress(),
      ]);
      const receiverAddress = await receiver.getAddress();
      await loanVault.connect(actors.deployer).grantRole(Roles.BORROWER, receiverAddress);
      await receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, receiverAddress);
      await loanVault.connect(actors.creditAdmin).stepIn(loanId, receiverAddress);
      await loanVault.connect(payer).repay(loanId, MaxUint256);
      const closeCall = loanVault.interface.encodeFunctionData("close", [loanId]);
      for (const reentry of [
        loanVault.interface.encodeFunctionData("close", [loanId]),
        loanVault.interface.encodeFunctionData("repay", [loanId, 1n]),
        loanVault.interface.encodeFunctionData("liquidate", [loanId]),
        loanVault.interface.encodeFunctionData("writeOff", [loanId]),
        loanVault.interface.encodeFunctionData("recordRecovery", [loanId, 1n]),
        loanVault.interface.encodeFunctionData("claimSurplus", [receiverAddress]),
      ]) {
        await expectRevert(
          loanId,
          () => receiver.callWithReentry(closeCall, reentry),
          "ReentrancyGuardReentrantCall",
          [],
        );
      }
      await loanVault.close(loanId);
      expect(await receipts.ownerOf(receiptIds[0])).to.equal(receiverAddress);
    });
  });
});

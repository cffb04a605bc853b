import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve, mintReceipts, openLoan } from "../../helpers/loans";
import { BPS, INTEREST_DENOMINATOR, SECONDS_PER_QUARTER, interestOf, mulDivUp } from "../../helpers/math";
import { LoanStatus } from "../../../helpers/loans";
import { usd } from "../../../helpers/units";
import {
  at,
  COLLATERAL,
  COUPON,
  CURE,
  GRACE,
  houseLateFee,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  P,
  type Signer,
  SITE,
  WINDOW,
} from "./suite";

/** The read-only views an integrator or indexer relies on. */
describe("LoanVault views", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer;
  beforeEach(async () => ({ f, b1, b2 } = await loadLoanVault()));
  const { houseLoan } = loanVaultHelpers(() => f);

  // ================================================================ views

  describe("views", () => {
    it("loanAssets is principal + floor of the aggregate interest, and equals the sum over loans", async () => {
      const { loanVault } = f;
      const a = await houseLoan();
      const b = await openLoan(f, b2, usd(300_000), 1_000_000, { overrides: { basePremiumBps: 700 } });
      const tb = (await loanVault.stateOf(b.loanId)).scheduleStart;
      const when = tb + 12_345n;
      await at(when);
      await loanVault.sweep(a.loanId); // checkpoints loan a at `when`
      const numerator = P * COUPON * (when - a.t0) + usd(300_000) * 1_130n * (when - tb);
      const agg = await loanVault.accrualState();
      expect(agg.checkpointAt).to.equal(when);
      expect(agg.totalPrincipal).to.equal(P + usd(300_000));
      expect(agg.rateSum).to.equal(P * COUPON + usd(300_000) * 1_130n);
      expect(agg.interestNumerator).to.equal(
        numerator - P * COUPON * (when - a.t0) + interestOf(P, COUPON, when - a.t0) * INTEREST_DENOMINATOR,
      );
      expect(await loanVault.loanAssets()).to.equal(
        P + usd(300_000) + agg.interestNumerator / INTEREST_DENOMINATOR,
      );
      // the aggregate never drifts from the per-loan figures by more than 1 wei per loan
      const sum = (await loanVault.debtOf(a.loanId)) + (await loanVault.debtOf(b.loanId));
      const assets = await loanVault.loanAssets();
      expect(sum - assets).to.be.lessThanOrEqual(2n);
      expect(sum).to.be.greaterThanOrEqual(assets);
    });

    it("debtOf includes the pending late fee of an active loan", async () => {
      const { loanId, t0 } = await houseLoan();
      const when = t0 + INTERVAL + GRACE + 1n;
      await time.increaseTo(when);
      const interest = interestOf(P, COUPON, when - t0);
      const fee = houseLateFee(1n);
      expect(await f.loanVault.debtOf(loanId)).to.equal(P + interest + fee);
      expect(await f.loanVault.inGoodStanding(loanId)).to.equal(false);
    });

    it("ltvOf rounds up, is 0 without debt and max without collateral value", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      await time.increaseTo(t0 + 1_000n);
      const debt = P + interestOf(P, COUPON, 1_000n);
      expect(await loanVault.ltvOf(loanId)).to.equal(mulDivUp(debt, BPS, COLLATERAL));
      expect(await loanVault.ltvOf(await approve(f, b1, P))).to.equal(0n);
      // a receipt marked down 100% per quarter with no floor is worth nothing after a quarter
      const [r] = await mintReceipts(f, b2, 1, 1_000_000, SITE, 10_000n, 0n);
      const id = await approve(f, b2, usd(100_000));
      await f.loanVault.connect(b2).borrow(id, [r]);
      await time.increase(SECONDS_PER_QUARTER);
      expect(await loanVault.collateralValueOf(id)).to.equal(0n);
      expect(await loanVault.ltvOf(id)).to.equal(MaxUint256);
    });

    it("nextPayment: due date and amount to settle it, before and after the due date", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      const scheduled = mulDivUp(P, 200n, BPS);
      await time.increaseTo(t0 + 10n);
      expect(await loanVault.nextPayment(loanId)).to.deep.equal([
        due,
        interestOf(P, COUPON, INTERVAL) + scheduled,
      ]);
      const late = due + GRACE + 1n;
      await time.increaseTo(late);
      const interest = interestOf(P, COUPON, late - t0);
      const fee = houseLateFee(1n);
      expect(await loanVault.nextPayment(loanId)).to.deep.equal([due, fee + interest + scheduled]);
      expect(await loanVault.nextPayment(await approve(f, b1, P))).to.deep.equal([0n, 0n]);
    });

    it("inGoodStanding: true up to the end of grace, false after; false for non-active loans", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      await time.increaseTo(t0 + INTERVAL + GRACE);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
      await time.increase(1);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false);
      expect(await loanVault.inGoodStanding(await approve(f, b1, P))).to.equal(false);
    });

    it("inGoodStanding: false while the oracle flags a covenant breach on a loan paid up to date", async () => {
      const { loanVault, actors } = f;
      const { loanId } = await houseLoan();
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
      // the fixture gives the ORACLE role on the vault to oracleAdmin
      await loanVault.connect(actors.oracleAdmin).setCovenantBreach(loanId, 1n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false);
      await loanVault.connect(actors.oracleAdmin).setCovenantBreach(loanId, 0n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(true);
      // and while the vault's own breach flags are set (here non-accrual, after a touch past grace)
      const { loanId: late, t0 } = await houseLoan();
      await time.increaseTo(t0 + INTERVAL + GRACE + 1n);
      await loanVault.checkCovenants(late);
      expect((await loanVault.stateOf(late)).breachFlags).to.not.equal(0n);
      expect(await loanVault.inGoodStanding(late)).to.equal(false);
    });

    it("termsOf / stateOf / receiptsOf / slaUptimeBps / covenantFlags / lastCouponStepId / loanCount", async () => {
      const { loanVault } = f;
      const { loanId, receiptIds } = await houseLoan({ receipts: 5 });
      const t = await loanVault.termsOf(loanId);
      expect(t.maxLtvBps).to.equal(6_000n);
      expect(t.maintenanceLtvBps).to.equal(7_500n);
      expect(t.gracePeriodSeconds).to.equal(GRACE);
      expect(t.defaultWindowSeconds).to.equal(WINDOW);
      expect(t.curePeriodSeconds).to.equal(CURE);
      expect(t.debtServiceReserveBps).to.equal(300n);
      expect(t.latePenaltyBps).to.equal(500n);
      expect(t.amortizationBps).to.equal(200n);
      expect(t.referenceRateFeed).to.equal(ZeroAddress);
      expect(await loanVault.slaUptimeBps(loanId)).to.equal(9_500n);
      const terms = await loanVault.termsOf(loanId);
      expect(await loanVault.premiumBounds(loanId)).to.deep.equal([
        (await loanVault.stateOf(loanId)).premiumBps,
        terms.premiumFloorBps,
        terms.premiumCapBps,
      ]);
      expect(await loanVault.premiumBounds(99n)).to.deep.equal([0n, 0n, 0n]);
      expect(await loanVault.covenantFlags(loanId)).to.equal(0n);
      expect(await loanVault.lastCouponStepId(loanId)).to.equal(0n);
      expect(await loanVault.receiptsOf(loanId)).to.deep.equal(receiptIds);
      expect(await loanVault.receiptsOf(99n)).to.deep.equal([]);
      expect(await loanVault.loanCount()).to.equal(loanId);
      const s = await loanVault.stateOf(99n);
      expect(s.status).to.equal(LoanStatus.None);
      expect(await loanVault.isPerforming(99n)).to.equal(false);
      expect(await loanVault.debtOf(99n)).to.equal(0n);
      expect(await loanVault.defaultableAt(99n)).to.equal(0n);
      expect(await loanVault.collateralValueOf(99n)).to.equal(0n);
    });
  });
});

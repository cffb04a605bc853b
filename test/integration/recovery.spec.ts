import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, openLoan, stake } from "../helpers/loans";
import { fundBuyer } from "../helpers/recovery";
import {
  cumulativeDue,
  curveFor,
  impairedValueFor,
  lateFeeFor,
  paymentsDueBy,
  priceAt,
  settle,
} from "../helpers/loan-model";
import { BPS, interestFloor, interestOf } from "../helpers/math";
import { DAY, LoanStatus } from "../../helpers/loans";
import { usd } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";

/**
 * Recovery lifecycles (issue 5, lifecycles 5, 6 and 7) through the deploy scripts, each against a bigint model.
 * Principal 63,072 USDai makes `principal x coupon x seconds` a multiple of 10,000 x 31,536,000, so interest is exact
 * and NAV deltas can be compared to the wei.
 */
const STAKE = 1_000_000;
const PRINCIPAL = usd(63_072);
const COLLATERAL_USD = 105_120;
const COUPON = 1_030n; // 4.30% fixed reference + 6.00% premium
const HAIRCUT = 2_000n;
const PREMIUM = 2_000n;
const FLOOR = 5_000n;
const DURATION = BigInt(3 * DAY);
const INTERVAL = BigInt(30 * DAY);
const GRACE = BigInt(5 * DAY);
const WINDOW = BigInt(25 * DAY);
const PAYMENTS = 36n;
const AMORTIZATION = 200n;
const PENALTY = 500n;
const VESTING = BigInt(DAY);

const loanFixture = createFixture(async () => {
  const fx = await deployProtocol();
  await stake(fx, fx.actors.lender1, STAKE);
  const { loanId, receiptIds } = await openLoan(fx, fx.actors.borrower1, PRINCIPAL, COLLATERAL_USD);
  const t0 = BigInt((await fx.loanVault.stateOf(loanId)).scheduleStart);
  await fundBuyer(fx, fx.actors.liquidator.address, usd(500_000));
  return { ...fx, loanId, receiptIds, t0 };
});

type Fixture = Awaited<ReturnType<typeof loanFixture>>;

/** The debt model at default: one checkpoint (borrow -> default), one late payment. */
function debtAtDefault(t0: bigint, at: bigint) {
  const interest = interestOf(PRINCIPAL, COUPON, at - t0);
  const late = paymentsDueBy(t0, INTERVAL, PAYMENTS, at - GRACE - 1n);
  const owed = cumulativeDue(PRINCIPAL, AMORTIZATION, late, PAYMENTS);
  const lateFees = lateFeeFor(owed, interestOf(PRINCIPAL, COUPON, INTERVAL), PENALTY, late);
  return { principal: PRINCIPAL, interest, lateFees };
}

describe("Recovery lifecycles (deploy scripts, bigint model)", () => {
  let f: Fixture;
  let idle0: bigint;

  beforeEach(async () => {
    f = await loanFixture();
    idle0 = usd(STAKE) - PRINCIPAL;
    expect(await f.susdai.idleAssets()).to.equal(idle0);
    expect(await f.loanVault.couponOf(f.loanId)).to.equal(COUPON);
  });

  /** NAV the model expects while the loan performs (the aggregate floors the exact numerator). */
  const performingNav = (at: bigint) => idle0 + PRINCIPAL + interestFloor(PRINCIPAL, COUPON, at - f.t0);

  /** Reads sUSDai's NAV as it stands at `at` just before the next transaction (pending block). */
  async function navPendingAt(at: bigint): Promise<bigint> {
    await time.setNextBlockTimestamp(at);
    return f.susdai.totalAssets({ blockTag: "pending" });
  }

  async function declareDefault(at: bigint) {
    await time.setNextBlockTimestamp(at);
    return f.loanVault.connect(f.actors.keeper).declareDefault(f.loanId);
  }

  it("(5) default, auction sold with a surplus: impaired value booked at once, the rest vests, surplus to the borrower", async () => {
    const { loanVault, auction, susdai, usdai, receipts, actors, loanId, t0 } = f;
    // The hardware is re-appraised down, so recovery < debt. (Cash in the lockbox at default: StateMachine.spec.ts.)
    const reappraised = usd(70_000);
    await receipts.connect(actors.appraiser).appraise(f.receiptIds[0], reappraised, 0n, 10_000n);

    const defaultAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
    expect(await loanVault.defaultableAt(loanId)).to.equal(defaultAt);
    const debt = debtAtDefault(t0, defaultAt);
    const owed = debt.principal + debt.interest;
    // the late installment put the loan in non-accrual: the books carry its principal, and the recovery is below it
    const impaired = impairedValueFor(PRINCIPAL, reappraised, HAIRCUT);
    expect(impaired).to.equal(usd(56_000)); // 70,000 x 80% < principal
    expect(await navPendingAt(defaultAt)).to.equal(performingNav(defaultAt));

    await expect(declareDefault(defaultAt))
      .to.emit(loanVault, "LoanDefaulted")
      .withArgs(loanId, owed, impaired);
    const s = await loanVault.stateOf(loanId);
    expect(s.status).to.equal(LoanStatus.Defaulted);
    expect(s.interest).to.equal(debt.interest);
    expect(s.lateFees).to.equal(debt.lateFees);
    expect(s.impairedValue).to.equal(impaired);
    // NAV takes the impairment at once
    expect(await susdai.totalAssets()).to.equal(idle0 + impaired);
    const acc = await loanVault.accrualState();
    expect(acc.totalPrincipal).to.equal(0n);
    expect(acc.rateSum).to.equal(0n);
    expect(acc.impaired).to.equal(impaired);

    const liquidateAt = defaultAt + 100n;
    await time.setNextBlockTimestamp(liquidateAt);
    await loanVault.connect(actors.creditAdmin).liquidate(loanId);
    const auctionId = await auction.auctionOfLoan(loanId);
    // the lot's reserve is the impaired value (no cash held): it is also its floor (80% of the collateral)
    const maxLtv = (await loanVault.termsOf(loanId)).maxLtvBps;
    const curve = curveFor(reappraised, PREMIUM, FLOOR, DURATION, impaired, maxLtv);
    expect(curve.floorPrice).to.equal(impaired);
    const lot = await auction.auctionOf(auctionId);
    expect([lot.startPrice, lot.floorPrice]).to.deep.equal([curve.startPrice, curve.floorPrice]);

    const buyAt = liquidateAt + 3_600n;
    const price = priceAt(curve, 3_600n);
    const m = settle(price, debt, impaired);
    expect(m.surplus > 0n && m.loss === 0n && m.booked === impaired).to.equal(true);
    expect(m.gain).to.equal(owed - impaired + debt.lateFees);
    const borrowerBefore = await usdai.balanceOf(actors.borrower1.address);
    const idleBefore = await susdai.idleAssets();
    await time.setNextBlockTimestamp(buyAt);
    await expect(auction.connect(actors.liquidator).buy(auctionId, price))
      .to.emit(loanVault, "AuctionSettled")
      .withArgs(loanId, price, 0, owed, m.fees, m.surplus, 0)
      .and.to.emit(susdai, "RepaymentReceived")
      .withArgs(impaired, 0);

    expect((await usdai.balanceOf(actors.borrower1.address)) - borrowerBefore).to.equal(m.surplus);
    expect(await susdai.idleAssets()).to.equal(idleBefore + m.booked + m.gain);
    expect(await susdai.unvestedGains()).to.equal(m.gain);
    // at settlement the NAV is where the impairment left it; the gain vests
    expect(await susdai.totalAssets()).to.equal(idle0 + impaired);
    expect(await susdai.cumulativeLosses()).to.equal(0n);
    expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(actors.liquidator.address);
    expect(await usdai.balanceOf(loanVault.target)).to.equal(0n);
    const after = await loanVault.stateOf(loanId);
    expect(after.status).to.equal(LoanStatus.Recovered);
    expect(after.principal + after.interest + after.lateFees + after.lockbox + after.impairedValue).to.equal(
      0n,
    );
    expect((await loanVault.accrualState()).impaired).to.equal(0n);
    const exposure = await loanVault.exposureOf(
      actors.borrower1.address,
      (await loanVault.termsOf(loanId)).site,
    );
    expect(exposure.borrowerPrincipal).to.equal(0n);
    expect(exposure.sitePrincipal).to.equal(0n);

    // half-way through the vesting period: unvested rounds up (NAV rounds down)
    await time.increaseTo(buyAt + VESTING / 2n);
    const unvestedHalf = (m.gain * (VESTING / 2n) + VESTING - 1n) / VESTING;
    expect(await susdai.unvestedGains()).to.equal(unvestedHalf);
    expect(await susdai.totalAssets()).to.equal(idle0 + m.booked + m.gain - unvestedHalf);

    await time.increaseTo(buyAt + VESTING);
    expect(await susdai.unvestedGains()).to.equal(0n);
    // fully vested: stakers got principal, interest at default and the late fee; the surplus was not theirs
    expect(await susdai.totalAssets()).to.equal(usd(STAKE) + debt.interest + debt.lateFees);
  });

  it("(6) default, auction with a shortfall: NAV and share price fall by exactly the loss", async () => {
    const { loanVault, auction, susdai, receipts, actors, loanId, t0 } = f;
    const reappraised = usd(75_000);
    await receipts.connect(actors.appraiser).appraise(f.receiptIds[0], reappraised, 0n, 10_000n);
    const supply = await susdai.totalSupply();

    const defaultAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
    const debt = debtAtDefault(t0, defaultAt);
    const owed = debt.principal + debt.interest;
    const impaired = impairedValueFor(owed, reappraised, HAIRCUT);
    expect(impaired).to.equal(usd(60_000));

    // just before default, at the default timestamp
    const navBefore = await navPendingAt(defaultAt);
    expect(navBefore).to.equal(performingNav(defaultAt));
    expect(navBefore).to.equal(idle0 + owed); // interest is exact: aggregate = booked
    const priceBefore = await susdai.convertToAssets(10n ** 18n, { blockTag: "pending" });
    await loanVault.connect(actors.keeper).declareDefault(loanId);
    expect(await time.latest()).to.equal(Number(defaultAt));
    expect(await susdai.totalAssets()).to.equal(idle0 + impaired);

    await loanVault.connect(actors.creditAdmin).liquidate(loanId);
    const auctionId = await auction.auctionOfLoan(loanId);
    const a = await auction.auctionOf(auctionId);
    // the reserve (the impaired value) is the floor: the lot cannot sell below what NAV carries it at (#24.3, #24.5)
    const curve = curveFor(
      reappraised,
      PREMIUM,
      FLOOR,
      DURATION,
      impaired,
      (await loanVault.termsOf(loanId)).maxLtvBps,
    );
    expect(a.floorPrice).to.equal(impaired);
    const navAtAuction = await susdai.totalAssets();
    const endsAt = BigInt(a.startedAt) + DURATION;
    // bought at the floor, in the auction's last second
    const proceeds = curve.floorPrice;
    expect(priceAt(curve, DURATION)).to.equal(proceeds);
    const m = settle(proceeds, debt, impaired);
    const loss = PRINCIPAL + debt.interest - proceeds;
    expect(m.loss).to.equal(loss);
    expect(m.gain).to.equal(0n);
    expect(m.surplus).to.equal(0n);
    await time.setNextBlockTimestamp(endsAt);
    await expect(auction.connect(actors.liquidator).buy(auctionId, proceeds))
      .to.emit(loanVault, "AuctionSettled")
      .withArgs(loanId, proceeds, 0, proceeds, 0, 0, loss)
      .and.to.emit(susdai, "LossRecorded")
      .withArgs(loss, loss);

    const navAfter = await susdai.totalAssets();
    expect(navBefore - navAfter).to.equal(loss);
    // the whole loss was in NAV from the default: the sale at the reserve moves nothing
    expect(navAfter).to.equal(navAtAuction);
    expect(navAfter).to.equal(idle0 + proceeds);
    expect(await susdai.unvestedGains()).to.equal(0n);
    expect(await susdai.cumulativeLosses()).to.equal(loss);
    expect(await susdai.totalSupply()).to.equal(supply);
    const priceAfter = await susdai.convertToAssets(10n ** 18n);
    // ERC-4626 with a zero offset: price = 1e18 x (assets + 1) / (supply + 1), floored
    expect(priceBefore).to.equal((10n ** 18n * (navBefore + 1n)) / (supply + 1n));
    expect(priceAfter).to.equal((10n ** 18n * (navAfter + 1n)) / (supply + 1n));
    const modelDrop = (loss * 10n ** 18n) / (supply + 1n);
    const drop = priceBefore - priceAfter;
    expect(drop >= modelDrop - 1n && drop <= modelDrop + 1n, `drop ${drop} vs ${modelDrop}`).to.equal(true);
    expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Recovered);
    // stays put: nothing vests later
    await time.increase(2 * DAY);
    expect(await susdai.totalAssets()).to.equal(navAfter);
  });

  it("(6b) unsold auction expires: receipts to the credit admin, loan written off, loss = full debt", async () => {
    const { loanVault, auction, susdai, receipts, actors, loanId, t0 } = f;
    const defaultAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
    const debt = debtAtDefault(t0, defaultAt);
    const owed = debt.principal + debt.interest;
    const collateral = usd(COLLATERAL_USD);
    // 84,096 after haircut covers the debt, but the loan went into non-accrual at its late installment: NAV carries
    // its principal alone, so the default takes the unpaid interest out of NAV and impairs to the principal
    const impaired = impairedValueFor(PRINCIPAL, collateral, HAIRCUT);
    expect(impaired).to.equal(PRINCIPAL);
    const navBefore = await navPendingAt(defaultAt);
    await loanVault.connect(actors.keeper).declareDefault(loanId);
    expect(await susdai.totalAssets()).to.equal(navBefore - debt.interest);
    expect(navBefore).to.equal(idle0 + owed);

    await loanVault.connect(actors.creditAdmin).liquidate(loanId);
    const auctionId = await auction.auctionOfLoan(loanId);
    const endsAt = BigInt((await auction.auctionOf(auctionId)).startedAt) + DURATION;
    await time.setNextBlockTimestamp(endsAt + 1n);
    await expect(auction.connect(actors.attacker).expire(auctionId))
      .to.emit(auction, "AuctionExpired")
      .withArgs(auctionId, loanId, actors.creditAdmin.address)
      .and.to.emit(loanVault, "AuctionSettled")
      .withArgs(loanId, 0, 0, 0, 0, 0, owed)
      .and.to.emit(susdai, "LossRecorded")
      .withArgs(owed, owed);
    expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(actors.creditAdmin.address);
    expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.WrittenOff);
    expect(await susdai.cumulativeLosses()).to.equal(owed);
    expect(await susdai.totalAssets()).to.equal(idle0);
    expect(navBefore - (await susdai.totalAssets())).to.equal(owed);
    expect(await loanVault.loanAssets()).to.equal(0n);
    const exposure = await loanVault.exposureOf(
      actors.borrower1.address,
      (await loanVault.termsOf(loanId)).site,
    );
    expect(exposure.borrowerPrincipal).to.equal(0n);
    expect(exposure.sitePrincipal).to.equal(0n);
  });

  it("(7) default, then step-in: performing again under borrower2, who pays on the fresh schedule, repays and closes", async () => {
    const { loanVault, susdai, usdai, receipts, actors, loanId, t0 } = f;
    const { borrower1, borrower2, creditAdmin } = actors;
    const site = (await loanVault.termsOf(loanId)).site;
    const defaultAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
    const debt = debtAtDefault(t0, defaultAt);
    await declareDefault(defaultAt);

    // only the credit admin, only to an allowlisted borrower
    await expect(
      loanVault.connect(actors.attacker).stepIn(loanId, borrower2.address),
    ).to.be.revertedWithCustomError(loanVault, "AccessControlUnauthorizedAccount");
    await expect(loanVault.connect(creditAdmin).stepIn(loanId, actors.liquidator.address))
      .to.be.revertedWithCustomError(loanVault, "LoanVaultNotAllowlisted")
      .withArgs(actors.liquidator.address);

    const stepAt = defaultAt + BigInt(2 * DAY);
    await time.setNextBlockTimestamp(stepAt);
    await expect(loanVault.connect(creditAdmin).stepIn(loanId, borrower2.address))
      .to.emit(loanVault, "SteppedIn")
      .withArgs(loanId, borrower1.address, borrower2.address);

    const remaining = PAYMENTS - paymentsDueBy(t0, INTERVAL, PAYMENTS, stepAt);
    expect(remaining).to.equal(34n);
    const s = await loanVault.stateOf(loanId);
    expect(s.status).to.equal(LoanStatus.Active);
    expect(s.principal).to.equal(PRINCIPAL);
    expect(s.interest).to.equal(debt.interest);
    expect(s.lateFees).to.equal(0n); // the old operator's late fee does not carry over
    expect(s.impairedValue).to.equal(0n);
    expect(s.schedulePayments).to.equal(remaining);
    expect(s.scheduleStart).to.equal(stepAt);
    expect(s.nextPaymentIndex).to.equal(1n);
    expect((await loanVault.termsOf(loanId)).borrower).to.equal(borrower2.address);
    expect(await loanVault.isPerforming(loanId)).to.equal(true);
    // exposures move to the new operator; the site's stays
    const e1 = await loanVault.exposureOf(borrower1.address, site);
    const e2 = await loanVault.exposureOf(borrower2.address, site);
    expect(e1.borrowerPrincipal).to.equal(0n);
    expect(e2.borrowerPrincipal).to.equal(PRINCIPAL);
    expect(e2.sitePrincipal).to.equal(PRINCIPAL);
    // back in the performing aggregates: NAV is principal + interest at default again
    const acc = await loanVault.accrualState();
    expect(acc.totalPrincipal).to.equal(PRINCIPAL);
    expect(acc.rateSum).to.equal(PRINCIPAL * COUPON);
    expect(acc.impaired).to.equal(0n);
    expect(await susdai.totalAssets()).to.equal(idle0 + PRINCIPAL + debt.interest);
    expect(await loanVault.inGoodStanding(loanId)).to.equal(true);

    // payment 1 of the fresh schedule, paid on its due date by borrower2
    await fundUsdai(f, borrower2, 80_000);
    const due1 = stepAt + INTERVAL;
    const interest1 = interestOf(PRINCIPAL, COUPON, INTERVAL);
    const scheduled1 = cumulativeDue(PRINCIPAL, AMORTIZATION, 1n, remaining);
    const amount1 = debt.interest + interest1 + scheduled1;
    await time.setNextBlockTimestamp(due1);
    const next = await loanVault.nextPayment(loanId);
    expect(next.dueDate).to.equal(due1);
    await expect(loanVault.connect(borrower2).repay(loanId, amount1))
      .to.emit(loanVault, "Repaid")
      .withArgs(loanId, borrower2.address, 0, debt.interest + interest1, scheduled1, 0)
      .and.to.emit(loanVault, "PaymentSettled")
      .withArgs(loanId, 1);
    const principal1 = PRINCIPAL - scheduled1;
    expect(scheduled1).to.equal((PRINCIPAL * AMORTIZATION) / BPS);

    // the rest, 10 days later; then close: the receipts go to the new operator
    const payoffAt = due1 + BigInt(10 * DAY);
    const interest2 = interestOf(principal1, COUPON, payoffAt - due1);
    await time.setNextBlockTimestamp(payoffAt);
    await expect(loanVault.connect(borrower2).repay(loanId, hre.ethers.MaxUint256))
      .to.emit(loanVault, "Repaid")
      .withArgs(loanId, borrower2.address, 0, interest2, 0, principal1);
    expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
    await expect(loanVault.connect(actors.attacker).close(loanId))
      .to.emit(loanVault, "LoanClosed")
      .withArgs(loanId, borrower2.address, 0);
    expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(borrower2.address);
    expect((await loanVault.exposureOf(borrower2.address, site)).borrowerPrincipal).to.equal(0n);
    expect(await usdai.balanceOf(loanVault.target)).to.equal(0n);

    // stakers: principal back and all interest; no loss (the old operator's late fee was not novated)
    await time.increase(DAY);
    expect(await susdai.cumulativeLosses()).to.equal(0n);
    expect(await susdai.totalAssets()).to.equal(usd(STAKE) + debt.interest + interest1 + interest2);
  });
});

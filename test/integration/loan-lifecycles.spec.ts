import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { approve, fundUsdai, mintReceipts, stake } from "../helpers/loans";
import { at, expectAll, latest } from "../helpers/loan-check";
import { BPS, interestOf } from "../helpers/math";
import {
  depreciated,
  LoanModel,
  modelTerms,
  StakedModel,
  Status,
  type Allocation,
} from "../helpers/loan-model";
import { BreachFlags, DAY, loanTerms, LoanStatus } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";

const PRINCIPAL = usd(1_000_000);
const HOUR = 3600n;
const D = BigInt(DAY);

interface Setup {
  fx: ProtocolFixture;
  borrower: HardhatEthersSigner;
  customer: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  staked: StakedModel;
}

/**
 * The protocol from the deploy scripts; lender1 stakes 10M USDai (the borrower cap is 30% of NAV); the borrower's
 * customer and the borrower hold USDai approved to the vault. The sUSDai model starts from the chain's idle balance.
 */
async function setup(): Promise<Setup> {
  const fx = await deployProtocol();
  const { actors } = fx;
  await stake(fx, actors.lender1, 10_000_000);
  await fundUsdai(fx, actors.lender3, 10_000_000);
  await fundUsdai(fx, actors.borrower1, 2_000_000);
  expect(await fx.susdai.unvestedGains()).to.equal(0n);
  const [, , , vestingPeriod] = await fx.susdai.params();
  const staked = new StakedModel(await fx.susdai.idleAssets(), vestingPeriod);
  return { fx, borrower: actors.borrower1, customer: actors.lender3, keeper: actors.keeper, staked };
}

/** Approves house terms (plus overrides) and draws them at a pinned time; returns the loan model. */
async function draw(
  s: Setup,
  receiptIds: bigint[],
  collateral: (now: bigint) => bigint,
  overrides: Record<string, unknown> = {},
): Promise<LoanModel> {
  const { fx, borrower } = s;
  const id = await approve(fx, borrower, PRINCIPAL, "DAL-1", overrides);
  const terms = loanTerms(borrower.address, PRINCIPAL, "DAL-1", 0, overrides);
  const m = new LoanModel(id, modelTerms(terms as unknown as Record<string, unknown>), collateral);
  const t0 = (await latest()) + 10n;
  await at(t0, () => fx.loanVault.connect(borrower).borrow(id, receiptIds));
  m.borrow(t0);
  s.staked.fund(PRINCIPAL);
  return m;
}

/** Collateral of receipts with a flat appraisal (no markdown). */
const flat = (value: bigint) => () => value;

/** Appraisal time of a receipt, from the chain. */
async function appraisedAt(fx: ProtocolFixture, id: bigint): Promise<bigint> {
  return (await fx.receipts.assetOf(id)).appraisal.appraisedAt;
}

function expectAllocation(actual: Allocation, expected: Allocation, label: string) {
  expect(actual.lateFees, `${label} lateFees`).to.equal(expected.lateFees);
  expect(actual.interest, `${label} interest`).to.equal(expected.interest);
  expect(actual.scheduledPrincipal, `${label} scheduledPrincipal`).to.equal(expected.scheduledPrincipal);
  expect(actual.prepayment, `${label} prepayment`).to.equal(expected.prepayment);
}

/** The Repaid / Swept allocation of a receipt, decoded from the vault's events. */
function repaidEvent(s: Setup, receipt: { logs: readonly unknown[] }): Allocation {
  for (const log of receipt.logs as { topics: string[]; data: string }[]) {
    const parsed = s.fx.loanVault.interface.parseLog(log);
    if (parsed?.name === "Repaid") {
      const [, , lateFees, interest, scheduledPrincipal, prepayment] = parsed.args;
      return { lateFees, interest, scheduledPrincipal, prepayment };
    }
  }
  throw new Error("no Repaid event");
}

describe("LoanVault integration lifecycles (against the bigint model)", () => {
  it("1. a 36-month amortizing loan repaid on time from lockbox revenue, excess released, closed", async () => {
    const s = await setup();
    const { fx, borrower, customer, keeper, staked } = s;
    const navBefore = await fx.susdai.totalAssets();
    const receiptIds = await mintReceipts(fx, borrower, 2, 1_000_000);
    const m = await draw(s, receiptIds, flat(usd(2_000_000)));
    await expectAll(fx, [m], staked, "borrowed");
    expect(await fx.susdai.totalAssets(), "borrow does not move NAV").to.equal(navBefore);

    const monthly = usd(60_000);
    let interestPaid = 0n;
    let released = 0n;
    for (let k = 1n; k <= 36n; k++) {
      const due = m.dueDate(k);
      // The customers pay revenue a day before the due date: at least the month's revenue, and at the balloon
      // whatever the quote at the due date needs beyond the lockbox and the reserve.
      const [quotedDue, quote] = m.nextPayment(due);
      expect(quotedDue).to.equal(due);
      const shortfall = quote - m.s.lockbox - m.s.reserve + usd(1_000);
      const revenue = shortfall > monthly ? shortfall : monthly;
      await at(due - D, () => fx.loanVault.connect(customer).depositRevenue(m.id, revenue));
      m.depositRevenue(revenue);
      await expectAll(fx, [m], staked, `deposit ${k}`);

      // The keeper sweeps on the due date: the payment settles.
      const receipt = await at(due, () => fx.loanVault.connect(keeper).sweep(m.id));
      const { a, cashSweep } = m.sweep(due);
      expect(cashSweep).to.equal(false);
      staked.receive(due, a);
      interestPaid += a.interest;
      await expect(receipt).to.emit(fx.loanVault, "PaymentSettled").withArgs(m.id, k);
      await expectAll(fx, [m], staked, `sweep ${k}`);
      expect(m.s.nextPaymentIndex, `payment ${k} settled`).to.equal(k + 1n);
      expect(a.lateFees).to.equal(0n);

      if (k < 36n) {
        expect(m.s.status).to.equal(Status.Active);
        expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(true);
        // The borrower takes half the excess an hour later (releaseExcess sweeps that hour's interest first).
        const t = due + HOUR;
        const probe = m.clone();
        probe.sweep(t);
        const amount = probe.s.lockbox / 2n;
        if (amount > 0n) {
          const before = await fx.usdai.balanceOf(borrower.address);
          await at(t, () => fx.loanVault.connect(borrower).releaseExcess(m.id, borrower.address, amount));
          const a2 = m.releaseExcess(t, amount);
          staked.receive(t, a2);
          interestPaid += a2.interest;
          released += amount;
          expect((await fx.usdai.balanceOf(borrower.address)) - before).to.equal(amount);
          await expectAll(fx, [m], staked, `release ${k}`);
        }
      }
    }
    expect(released).to.be.greaterThan(0n);
    expect(m.s.status).to.equal(Status.Repaid);
    expect(m.s.principal).to.equal(0n);

    // close: receipts and the lockbox (the final excess) go back to the borrower.
    const before = await fx.usdai.balanceOf(borrower.address);
    const t = (await latest()) + 10n;
    await at(t, () => fx.loanVault.close(m.id));
    const refund = m.close();
    expect(refund).to.be.greaterThan(0n);
    expect((await fx.usdai.balanceOf(borrower.address)) - before).to.equal(refund);
    for (const id of receiptIds) expect(await fx.receipts.ownerOf(id)).to.equal(borrower.address);
    expect((await fx.loanVault.stateOf(m.id)).status).to.equal(LoanStatus.Closed);
    await expectAll(fx, [m], staked, "closed");
    expect(await fx.loanVault.loanAssets()).to.equal(0n);
    // sUSDai's NAV grew by exactly the interest paid.
    expect((await fx.susdai.totalAssets()) - navBefore).to.equal(interestPaid);
  });

  it("2. a missed payment: late fee charged exactly, then paid late and cured before the default window ends", async () => {
    const s = await setup();
    const { fx, borrower, staked } = s;
    const receiptIds = await mintReceipts(fx, borrower, 1, 2_000_000);
    const m = await draw(s, receiptIds, flat(usd(2_000_000)));
    const due1 = m.dueDate(1n);
    const grace = m.t.gracePeriodSeconds;
    const defaultAt1 = due1 + grace + m.t.defaultWindowSeconds + 1n;

    // Nothing paid. At the last second of grace the loan is still in good standing and no fee is due.
    await time.increaseTo(due1 + grace);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(true);
    const [, quoteInGrace] = await fx.loanVault.nextPayment(m.id);
    expect(quoteInGrace).to.equal(m.nextPayment(due1 + grace)[1]);
    await expectAll(fx, [m], staked, "in grace");

    // One day past grace: the first touch (a small partial repayment) charges the late fee on installment 1, exactly
    // ceil((its scheduled principal + one interval's interest at the contract coupon, rounded up) x 5%).
    const t1 = due1 + grace + D;
    const installment =
      (PRINCIPAL * m.t.amortizationBps + BPS - 1n) / BPS +
      interestOf(PRINCIPAL, m.s.referenceRateBps + m.t.basePremiumBps, m.t.paymentIntervalSeconds);
    const expectedFee = (installment * m.t.latePenaltyBps + BPS - 1n) / BPS;
    expect(expectedFee).to.be.greaterThan(0n);
    const partial = usd(100);
    const r1 = await at(t1, () => fx.loanVault.connect(borrower).repay(m.id, partial));
    const a1 = m.repay(t1, partial);
    staked.receive(t1, a1);
    await expect(r1).to.emit(fx.loanVault, "LateFeeCharged").withArgs(m.id, 1n, expectedFee);
    expectAllocation(repaidEvent(s, r1), a1, "partial");
    expect(a1.lateFees).to.equal(partial); // the fee comes first
    expect(m.s.lateFees).to.equal(expectedFee - partial);
    expect(m.s.lateFeeIndex).to.equal(1n);
    expect(m.s.nextPaymentIndex).to.equal(1n);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(false);
    await expectAll(fx, [m], staked, "late fee charged");

    // Not defaultable yet: the exact date is due + grace + window + 1.
    expect(await fx.loanVault.defaultableAt(m.id)).to.equal(defaultAt1);
    await expect(fx.loanVault.declareDefault(m.id))
      .to.be.revertedWithCustomError(fx.loanVault, "LoanVaultNotDefaultable")
      .withArgs(m.id, defaultAt1);

    // Ten days later the borrower pays exactly the quote: fee, interest and the scheduled principal. Cured.
    const t2 = due1 + grace + 10n * D;
    expect(t2).to.be.lessThan(defaultAt1);
    const [, amount] = m.nextPayment(t2);
    const r2 = await at(t2, () => fx.loanVault.connect(borrower).repay(m.id, amount));
    const a2 = m.repay(t2, amount);
    staked.receive(t2, a2);
    expectAllocation(repaidEvent(s, r2), a2, "cure");
    expect(a2.lateFees).to.equal(expectedFee - partial);
    expect(a2.prepayment).to.equal(0n);
    await expect(r2).to.emit(fx.loanVault, "PaymentSettled").withArgs(m.id, 1n);
    await expect(r2).not.to.emit(fx.loanVault, "LateFeeCharged");
    expect(m.s.lateFees).to.equal(0n);
    expect(m.s.interest).to.equal(0n);
    expect(m.s.nextPaymentIndex).to.equal(2n);
    expect(m.s.principal).to.equal(PRINCIPAL - (PRINCIPAL * m.t.amortizationBps) / BPS);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(true);
    await expectAll(fx, [m], staked, "cured");

    // The next default date is payment 2's.
    const defaultAt2 = m.dueDate(2n) + grace + m.t.defaultWindowSeconds + 1n;
    await expect(fx.loanVault.declareDefault(m.id))
      .to.be.revertedWithCustomError(fx.loanVault, "LoanVaultNotDefaultable")
      .withArgs(m.id, defaultAt2);

    // Payment 2 on time charges no fee; the late fee has vested into NAV after the vesting period.
    const due2 = m.dueDate(2n);
    const [, amount2] = m.nextPayment(due2);
    const r3 = await at(due2, () => fx.loanVault.connect(borrower).repay(m.id, amount2));
    const a3 = m.repay(due2, amount2);
    staked.receive(due2, a3);
    expect(a3.lateFees).to.equal(0n);
    await expect(r3).to.emit(fx.loanVault, "PaymentSettled").withArgs(m.id, 2n);
    expect(m.s.nextPaymentIndex).to.equal(3n);
    await expectAll(fx, [m], staked, "payment 2");
    expect(await fx.susdai.unvestedGains()).to.equal(0n);
  });

  it("2b. two installments late at the first touch: one fee per late installment, on its own amount", async () => {
    // With two newly late installments the fee is 5% of each: ceil((2 x scheduled principal + 2 x one interval's
    // interest) x 5%), the same as if each had been charged when it fell late.
    const s = await setup();
    const { fx, borrower, staked } = s;
    const receiptIds = await mintReceipts(fx, borrower, 1, 2_000_000);
    const m = await draw(s, receiptIds, flat(usd(2_000_000)));
    const t = m.dueDate(2n) + m.t.gracePeriodSeconds + 1n;
    const probe = m.clone();
    probe.checkpoint(t);
    expect(probe.scheduledPrincipalDue(t)).to.equal((2n * PRINCIPAL * m.t.amortizationBps) / BPS);
    const installments =
      probe.scheduledPrincipalDue(t) +
      2n * interestOf(PRINCIPAL, m.s.referenceRateBps + m.t.basePremiumBps, m.t.paymentIntervalSeconds);
    const fee = (installments * m.t.latePenaltyBps + BPS - 1n) / BPS;
    const r = await at(t, () => fx.loanVault.checkCovenants(m.id));
    m.checkCovenants(t);
    await expect(r).to.emit(fx.loanVault, "LateFeeCharged").withArgs(m.id, 2n, fee);
    expect(m.s.lateFees).to.equal(fee);
    expect(m.s.lateFeeIndex).to.equal(2n);
    await expectAll(fx, [m], staked, "two late");
    // Payment 1's default date has passed (it precedes payment 2's grace end): the loan can be declared in default.
    expect(await fx.loanVault.defaultableAt(m.id)).to.be.lessThan(t);
  });

  it("3. an LTV breach from depreciation, cured by a top-up", async () => {
    const s = await setup();
    const { fx, borrower, staked } = s;
    // 1.8M of receipts marked down 15% a quarter: after three quarters 990k, whose 75% is below the debt.
    const markdown = 1_500n;
    const floor = 2_000n;
    const receiptIds = await mintReceipts(fx, borrower, 2, 900_000, "DAL-1", markdown, floor);
    const appraised = await Promise.all(receiptIds.map((id) => appraisedAt(fx, id)));
    let receiptsValue = (now: bigint) =>
      appraised.reduce((sum, a) => sum + depreciated(usd(900_000), now - a, markdown, floor), 0n);
    const m = await draw(s, receiptIds, (now) => receiptsValue(now));
    await expectAll(fx, [m], staked, "borrowed");

    // The borrower pays each installment on its due date; a keeper checks the covenants an hour later.
    let breachAt = 0n;
    for (let k = 1n; k <= 12n && breachAt === 0n; k++) {
      const due = m.dueDate(k);
      const [, amount] = m.nextPayment(due);
      await at(due, () => fx.loanVault.connect(borrower).repay(m.id, amount));
      staked.receive(due, m.repay(due, amount));
      expect(m.s.nextPaymentIndex).to.equal(k + 1n);
      const t = due + HOUR;
      await at(t, () => fx.loanVault.checkCovenants(m.id));
      const flags = m.checkCovenants(t);
      expect(await fx.loanVault.collateralValueOf(m.id)).to.equal(m.collateral(t));
      await expectAll(fx, [m], staked, `month ${k}`);
      if (flags !== 0n) breachAt = t;
    }
    expect(breachAt, "the model breaches within a year").to.be.greaterThan(0n);
    // The breach comes with depreciation, in the month after the third quarter.
    expect(breachAt - appraised[0]).to.be.greaterThan((365n * D * 3n) / 4n);
    expect((await fx.loanVault.stateOf(m.id)).breachFlags).to.equal(BreachFlags.Ltv);
    expect((await fx.loanVault.stateOf(m.id)).cureDeadline).to.equal(breachAt + m.t.curePeriodSeconds);
    expect(await fx.loanVault.ltvOf(m.id)).to.be.greaterThan(m.t.maintenanceLtvBps);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(false);
    expect(await fx.loanVault.defaultableAt(m.id)).to.equal(breachAt + m.t.curePeriodSeconds + 1n);

    // A top-up with a fresh 500k receipt inside the cure period restores the LTV: flags and deadline clear.
    const [extra] = await mintReceipts(fx, borrower, 1, 500_000);
    const old = receiptsValue;
    receiptsValue = (now: bigint) => old(now) + usd(500_000);
    const t = breachAt + 2n * D;
    const r = await at(t, () => fx.loanVault.connect(borrower).topUp(m.id, [extra]));
    m.topUp(t);
    await expect(r).to.emit(fx.loanVault, "BreachFlagsSet").withArgs(m.id, 0n, 0n);
    expect(m.s.breachFlags).to.equal(0n);
    expect(m.s.cureDeadline).to.equal(0n);
    expect(await fx.receipts.ownerOf(extra)).to.equal(await fx.loanVault.getAddress());
    expect(await fx.loanVault.receiptsOf(m.id)).to.deep.equal([...receiptIds, extra]);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(true);
    expect(await fx.loanVault.ltvOf(m.id)).to.be.lessThanOrEqual(m.t.maintenanceLtvBps);
    await expectAll(fx, [m], staked, "topped up");
  });

  it("4. an oracle SLA breach: cash sweep prepays principal, releases blocked, then cleared", async () => {
    const s = await setup();
    const { fx, borrower, customer, keeper, staked } = s;
    const [oracle] = (await hre.ethers.getSigners()).slice(30, 31);
    await fx.loanVault.connect(fx.actors.deployer).grantRole(Roles.ORACLE, oracle.address);
    const receiptIds = await mintReceipts(fx, borrower, 1, 2_000_000);
    const m = await draw(s, receiptIds, flat(usd(2_000_000)));

    // Month 1 in good standing: the sweep leaves the excess in the lockbox.
    const due1 = m.dueDate(1n);
    await at(due1 - D, () => fx.loanVault.connect(customer).depositRevenue(m.id, usd(80_000)));
    m.depositRevenue(usd(80_000));
    await at(due1, () => fx.loanVault.connect(keeper).sweep(m.id));
    const sw1 = m.sweep(due1);
    staked.receive(due1, sw1.a);
    expect(sw1.cashSweep).to.equal(false);
    expect(sw1.a.prepayment).to.equal(0n);
    const excess1 = m.s.lockbox;
    expect(excess1).to.be.greaterThan(0n);
    await expectAll(fx, [m], staked, "month 1");

    // The oracle flags an SLA breach.
    const tb = due1 + D;
    const rb = await at(tb, () => fx.loanVault.connect(oracle).setCovenantBreach(m.id, 1n));
    m.setCovenantBreach(1n);
    await expect(rb).to.emit(fx.loanVault, "CovenantFlagsSet").withArgs(m.id, 0n, 1n);
    expect(await fx.loanVault.covenantFlags(m.id)).to.equal(1n);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(false);
    await expectAll(fx, [m], staked, "flagged");

    // Distributions are blocked, whatever the amount.
    await expect(fx.loanVault.connect(borrower).releaseExcess(m.id, borrower.address, 1n))
      .to.be.revertedWithCustomError(fx.loanVault, "LoanVaultNotInGoodStanding")
      .withArgs(m.id);

    // More revenue, then a sweep: the excess (old and new) prepays principal.
    await at(tb + HOUR, () => fx.loanVault.connect(customer).depositRevenue(m.id, usd(50_000)));
    m.depositRevenue(usd(50_000));
    const principalBefore = m.s.principal;
    const ts = tb + 2n * HOUR;
    const rs = await at(ts, () => fx.loanVault.connect(keeper).sweep(m.id));
    const sw2 = m.sweep(ts);
    staked.receive(ts, sw2.a);
    expect(sw2.cashSweep).to.equal(true);
    expect(sw2.a.prepayment).to.be.greaterThan(excess1);
    expect(sw2.a.scheduledPrincipal).to.equal(0n);
    expect(m.s.lockbox).to.equal(0n);
    expect(m.s.principal).to.equal(principalBefore - sw2.a.prepayment);
    await expect(rs)
      .to.emit(fx.loanVault, "Swept")
      .withArgs(m.id, sw2.a.interest + sw2.a.prepayment, m.s.reserve, 0n, true);
    await expectAll(fx, [m], staked, "cash sweep");
    await expect(fx.loanVault.connect(borrower).releaseExcess(m.id, borrower.address, 1n))
      .to.be.revertedWithCustomError(fx.loanVault, "LoanVaultNotInGoodStanding")
      .withArgs(m.id);

    // The oracle clears the flag: the next sweep keeps the excess, and the borrower can release it.
    const tc = ts + D;
    await at(tc, () => fx.loanVault.connect(oracle).setCovenantBreach(m.id, 0n));
    m.setCovenantBreach(0n);
    expect(await fx.loanVault.inGoodStanding(m.id)).to.equal(true);
    const due2 = m.dueDate(2n);
    await at(due2 - D, () => fx.loanVault.connect(customer).depositRevenue(m.id, usd(60_000)));
    m.depositRevenue(usd(60_000));
    await at(due2, () => fx.loanVault.connect(keeper).sweep(m.id));
    const sw3 = m.sweep(due2);
    staked.receive(due2, sw3.a);
    expect(sw3.cashSweep).to.equal(false);
    expect(sw3.a.prepayment).to.equal(0n);
    expect(m.s.nextPaymentIndex).to.equal(3n);
    expect(m.s.lockbox).to.be.greaterThan(0n);
    await expectAll(fx, [m], staked, "cleared");

    const t = due2 + HOUR;
    const probe = m.clone();
    probe.sweep(t);
    const amount = probe.s.lockbox;
    const before = await fx.usdai.balanceOf(borrower.address);
    await at(t, () => fx.loanVault.connect(borrower).releaseExcess(m.id, borrower.address, amount));
    staked.receive(t, m.releaseExcess(t, amount));
    expect((await fx.usdai.balanceOf(borrower.address)) - before).to.equal(amount);
    expect(m.s.lockbox).to.equal(0n);
    await expectAll(fx, [m], staked, "released");
  });
});

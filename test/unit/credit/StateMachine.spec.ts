import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve, fundUsdai, mintReceipts, now, openLoan } from "../../helpers/loans";
import { deployLoanVaultProxy } from "../../helpers/loan-unit";
import { fundBuyer } from "../../helpers/recovery";
import { BPS, ceilDiv, INTEREST_DENOMINATOR, interestOf, mulDivUp } from "../../helpers/math";
import { DAY, LoanStatus, loanTerms } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import {
  at,
  COLLATERAL_USD,
  COUPON,
  FRESH_VAULT_RISK,
  GRACE,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  P,
  type Signer,
  WINDOW,
} from "./suite";

/**
 * The credit state machine (issue #16): one test per finding of the review, named after it. Each reproduces what a
 * GPU operator or a lender would lose over on the code before the fix, and checks the fixed behaviour. The local
 * deployment's parameters apply: a 10 USDai materiality threshold and a 2-day step-in window.
 */
const MATERIALITY = usd(10);
const STEP_IN_WINDOW = BigInt(2 * DAY);

describe("LoanVault credit state machine (#16)", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, oracle: Signer, attacker: Signer, payer: Signer;
  beforeEach(async () => ({ f, b1, b2, oracle, attacker, payer } = await loadLoanVault()));
  const { houseLoan, expectRevert } = loanVaultHelpers(() => f);

  /** The latest block's timestamp. */
  const latest = async () => BigInt(await time.latest());
  /** The quote `nextPayment` gives in a block mined at `t`. */
  async function quoteAt(loanId: bigint, t: bigint): Promise<bigint> {
    await time.increaseTo(t);
    return (await f.loanVault.nextPayment(loanId)).amountDue;
  }

  /** A 100k loan with 200k of revenue unswept in its lockbox, past its first default date: the default is refused. */
  async function refusedAsCoveredByLockbox(
    overrides: NonNullable<Parameters<typeof houseLoan>[0]>["overrides"] = {},
  ): Promise<bigint> {
    const { loanId, t0 } = await houseLoan({ principal: usd(100_000), overrides });
    await f.loanVault.connect(payer).depositRevenue(loanId, usd(200_000));
    await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
    await expectRevert(loanId, () => f.loanVault.declareDefault(loanId), "LoanVaultOverdueCoveredByLockbox", [
      loanId,
      usd(200_000),
    ]);
    return loanId;
  }

  describe("#16.1 paying the quoted amount settles the installment", () => {
    it("quoted in the grace period and paid a block later: settled, and the loan is never defaultable for it", async () => {
      const { loanId, t0 } = await houseLoan();
      const quote = await quoteAt(loanId, t0 + INTERVAL + BigInt(DAY)); // a day into the grace period
      await at((await latest()) + 12n); // paid one block later: 12 seconds more interest than quoted
      await f.loanVault.connect(b1).repay(loanId, quote);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.nextPaymentIndex).to.equal(2n);
      expect(s.lateFees).to.equal(0n);
      // past the first installment's grace and default window, nothing is late or defaultable
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await expect(f.loanVault.declareDefault(loanId)).to.be.revertedWithCustomError(
        f.loanVault,
        "LoanVaultNotDefaultable",
      );
      expect((await f.loanVault.stateOf(loanId)).lateFees).to.equal(0n);
    });

    it("paid five days early: settled at once, and the interest up to the due date is not owed again", async () => {
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      const quote = await quoteAt(loanId, due - 5n * BigInt(DAY));
      await at((await latest()) + 1n);
      await f.loanVault.connect(b1).repay(loanId, quote);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.nextPaymentIndex).to.equal(2n);
      expect(s.accruedAt).to.equal(due); // interest is paid up to the due date: interest, not a prepayment
      const installment = mulDivUp(P, 200n, BPS);
      expect(s.principal).to.be.closeTo(P - installment, 1n); // (the quote's rounding: at most a wei)
      // at the due date the next quote is the second installment alone: one interval of interest, no more
      await time.increaseTo(due);
      const next = await f.loanVault.nextPayment(loanId);
      expect(next.dueDate).to.equal(due + INTERVAL);
      expect(next.amountDue).to.equal(
        interestOf(s.principal, COUPON, INTERVAL) + s.principal - (P - 2n * installment),
      );
      // and no late fee ever comes for the first installment
      await at(due + GRACE + 1n);
      await expect(f.loanVault.checkCovenants(loanId)).to.not.emit(f.loanVault, "LateFeeCharged");
    });

    it("with no dust threshold, paying the quote after keeper touches still settles it (the quote's rounding)", async () => {
      const risk = await f.loanVault.riskParams();
      await f.loanVault.connect(f.actors.creditAdmin).setRiskParams({
        borrowerCapBps: risk.borrowerCapBps,
        siteCapBps: risk.siteCapBps,
        recoveryHaircutBps: risk.recoveryHaircutBps,
        referenceFeedMaxStalenessSeconds: risk.referenceFeedMaxStalenessSeconds,
        materialityThreshold: 0n,
        stepInWindowSeconds: risk.stepInWindowSeconds,
      });
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      const quoted = due - 5n * BigInt(DAY);
      const quote = await quoteAt(loanId, quoted);
      // The quote rounds the interest to the due date up once; a keeper's checkCovenants at t1 and the payment at t2
      // round it up in three pieces. Pick t1 and t2 where the pieces add up to more than the quote's interest.
      const rate = P * COUPON;
      const up = (seconds: bigint) => ceilDiv(rate * seconds, INTEREST_DENOMINATOR);
      let t1 = 0n;
      let t2 = 0n;
      for (let a = 1n; a < 40n && t1 === 0n; a++)
        for (let b = 1n; b < 40n && t1 === 0n; b++)
          if (up(quoted + a - t0) + up(b) + up(due - quoted - a - b) > up(due - t0)) {
            t1 = quoted + a;
            t2 = quoted + a + b;
          }
      expect(t1, "a split that rounds above the quote").to.not.equal(0n);
      await at(t1);
      await f.loanVault.connect(attacker).checkCovenants(loanId);
      await at(t2);
      await f.loanVault.connect(b1).repay(loanId, quote);
      expect((await f.loanVault.stateOf(loanId)).nextPaymentIndex).to.equal(2n);
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await expect(f.loanVault.declareDefault(loanId)).to.be.revertedWithCustomError(
        f.loanVault,
        "LoanVaultNotDefaultable",
      );
    });

    it("an installment settled short by dust, then the last one paid early as quoted: accepted, the loan is repaid", async () => {
      const { loanId, t0 } = await houseLoan({ overrides: { numPayments: 2 } });
      const first = await quoteAt(loanId, t0 + INTERVAL - 5n * BigInt(DAY));
      await f.loanVault.connect(b1).repay(loanId, first - usd(5)); // within the 10 USDai threshold: settles
      expect((await f.loanVault.stateOf(loanId)).nextPaymentIndex).to.equal(2n);
      const last = await quoteAt(loanId, t0 + 2n * INTERVAL - 5n * BigInt(DAY));
      await f.loanVault.connect(b1).repay(loanId, last);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
    });
  });

  describe("#16.2 no default over dust", () => {
    it("a bullet paid a block after its quote leaves cents overdue: the default is refused as immaterial", async () => {
      const { loanId, t0 } = await houseLoan({ overrides: { numPayments: 1 } });
      const quote = await quoteAt(loanId, t0 + INTERVAL);
      await at((await latest()) + 12n);
      await f.loanVault.connect(b1).repay(loanId, quote);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Active); // the last installment settles only in full
      expect(s.principal).to.be.greaterThan(0n).and.lessThan(usd(1));
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      const tx = f.loanVault.connect(attacker).declareDefault(loanId);
      await expect(tx).to.be.revertedWithCustomError(f.loanVault, "LoanVaultOverdueImmaterial");
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Active);
    });
  });

  describe("#16.3 default uses the money the protocol already holds", () => {
    it("three installments of revenue sit in the lockbox, unswept: the default is refused", async () => {
      const { loanId, t0 } = await houseLoan();
      const cash = usd(100_000);
      await f.loanVault.connect(payer).depositRevenue(loanId, cash);
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await expect(f.loanVault.connect(attacker).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultOverdueCoveredByLockbox")
        .withArgs(loanId, cash);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Active);
      // a sweep settles what is due, and the loan is current
      await f.loanVault.sweep(loanId);
      expect((await f.loanVault.stateOf(loanId)).nextPaymentIndex).to.equal(3n);
    });
  });

  /** A loan against receipts that depreciate fully in a quarter, defaulted once they are worth nothing. */
  async function worthlessDefaulted(): Promise<{ loanId: bigint; receiptIds: bigint[] }> {
    const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD, "DAL-1", 10_000n, 0n);
    const loanId = await approve(f, b1, P);
    await f.loanVault.connect(b1).borrow(loanId, receiptIds);
    await at((await f.loanVault.stateOf(loanId)).scheduleStart + 4n * INTERVAL);
    await f.loanVault.declareDefault(loanId);
    expect(await f.loanVault.collateralValueOf(loanId)).to.equal(0n);
    return { loanId, receiptIds };
  }

  describe("#16.4 worthless collateral can still be written off", () => {
    it("the auction refuses an empty lot; writeOff books the loss, pays the cash to sUSDai, sends the receipts to the custodian", async () => {
      const { loanId, receiptIds } = await worthlessDefaulted();
      await at((await latest()) + STEP_IN_WINDOW);
      await expect(f.loanVault.liquidate(loanId)).to.be.revertedWithCustomError(f.auction, "AuctionEmptyLot");
      const losses = await f.susdai.cumulativeLosses();
      await expect(f.loanVault.connect(attacker).writeOff(loanId))
        .to.emit(f.loanVault, "LoanWrittenOff")
        .withArgs(loanId, await f.auction.recoveryCustodian())
        .and.to.emit(f.loanVault, "AuctionSettled");
      const s = await f.loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.WrittenOff);
      expect(await f.susdai.cumulativeLosses()).to.be.greaterThan(losses);
      expect(await f.receipts.ownerOf(receiptIds[0])).to.equal(await f.auction.recoveryCustodian());
      const [exposure] = await f.loanVault.exposureOf(b1.address, hre.ethers.ZeroHash);
      expect(exposure).to.equal(0n);
      expect((await f.loanVault.accrualState()).impaired).to.equal(0n);
    });

    it("within the step-in window only the credit admin may write off (review: the window applies to writeOff too)", async () => {
      const { loanId } = await worthlessDefaulted();
      const defaultedAt = (await f.loanVault.stateOf(loanId)).accruedAt;
      await expectRevert(
        loanId,
        () => f.loanVault.connect(attacker).writeOff(loanId),
        "LoanVaultStepInWindow",
        [loanId, defaultedAt + STEP_IN_WINDOW],
      );
      await at(defaultedAt + STEP_IN_WINDOW);
      await expect(f.loanVault.connect(attacker).writeOff(loanId)).to.emit(f.loanVault, "LoanWrittenOff");
    });

    it("refuses a loan whose collateral still has value", async () => {
      const { loanId, t0 } = await houseLoan();
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await expect(f.loanVault.writeOff(loanId))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultCollateralNotWorthless")
        .withArgs(loanId, await f.loanVault.collateralValueOf(loanId));
    });
  });

  describe("#16.5 a step-in window", () => {
    it("after a default only the credit admin may liquidate until the window closes", async () => {
      const { loanId, t0 } = await houseLoan();
      const defaultedAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
      await at(defaultedAt);
      await f.loanVault.declareDefault(loanId);
      await expect(f.loanVault.connect(attacker).liquidate(loanId))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultStepInWindow")
        .withArgs(loanId, defaultedAt + STEP_IN_WINDOW);
      // the credit admin may step in (or liquidate) within it
      await expect(f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address)).to.emit(
        f.loanVault,
        "SteppedIn",
      );
    });

    it("anyone may liquidate once it has passed", async () => {
      const { loanId, t0 } = await houseLoan();
      const defaultedAt = t0 + INTERVAL + GRACE + WINDOW + 1n;
      await at(defaultedAt);
      await f.loanVault.declareDefault(loanId);
      await at(defaultedAt + STEP_IN_WINDOW);
      await expect(f.loanVault.connect(attacker).liquidate(loanId)).to.emit(f.loanVault, "LoanLiquidated");
    });
  });

  describe("#16.6 step-in starts clean", () => {
    it("no stepped-up premium, oracle flag, late fee or lockbox cash of the old operator reaches the new one", async () => {
      const { loanId, t0 } = await houseLoan();
      await f.loanVault.connect(oracle).applyCouponStep(loanId, 1n, 300n, false);
      await f.loanVault.connect(oracle).setCovenantBreach(loanId, 1n);
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(1_000));
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId); // the waterfall applies the cash to part of the late fee
      const defaulted = await f.loanVault.stateOf(loanId);
      expect(defaulted.lateFees).to.be.greaterThan(0n);
      await f.loanVault.connect(b2).depositRevenue(loanId, usd(1_000)); // cash arriving after the default
      const terms = await f.loanVault.termsOf(loanId);
      await f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.premiumBps).to.equal(terms.basePremiumBps);
      expect(s.couponBps).to.equal(BigInt(terms.referenceRateBps) + BigInt(terms.basePremiumBps));
      expect(s.oracleFlags).to.equal(0n);
      expect(s.breachFlags).to.equal(0n);
      expect(s.lateFees).to.equal(0n);
      expect(s.lockbox).to.equal(0n);
      expect(s.reserve).to.equal(0n);
      // the cash held repaid the debt (interest first): the new operator owes less than the old one did
      expect(s.principal + s.interest).to.equal(defaulted.principal + defaulted.interest - usd(1_000));
    });

    it("the oracle forgets the old operator: its streaks and its unpushed coupon step (with its top-up)", async () => {
      const { loanId, t0 } = await houseLoan();
      // One feed (quorum 1) reads the fleet daily at 50%, under the 60%-for-30-days step-up rule (+300 bps, top-up).
      const feed = await hre.ethers.deployContract("MockAggregator", [8]);
      await f.oracle
        .connect(f.actors.oracleAdmin)
        .configureLoan(loanId, [{ kind: 0, account: await feed.getAddress() }], 1, 2 * DAY);
      const readDays = async (from: bigint, days: number) => {
        for (let d = 0; d < days; d++) {
          const t = from + BigInt(d * DAY);
          await time.increaseTo(t);
          await feed.setRound(BigInt(Math.floor(Number(t) / DAY)), 50_000_000n, t);
          await f.oracle.connect(f.actors.keeper).poke(loanId);
        }
      };
      await readDays(t0 + BigInt(DAY), 30);
      expect((await f.oracle.pendingPush(loanId)).stepPending).to.equal(true); // fired, not pushed yet
      await readDays(t0 + 31n * BigInt(DAY), 5); // the streak runs on under the old operator
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      const terms = await f.loanVault.termsOf(loanId);
      await f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address);

      const pending = await f.oracle.pendingPush(loanId);
      expect(pending.stepPending).to.equal(false);
      expect(pending.flagsPending).to.equal(false);
      expect(pending.topUpRequired).to.equal(false);
      const [streakDays] = await f.oracle.streakOf(loanId, 1n);
      expect(streakDays).to.equal(0n);
      await expect(f.oracle.push(loanId))
        .to.be.revertedWithCustomError(f.oracle, "UtilizationOracleNothingToPush")
        .withArgs(loanId);
      expect((await f.loanVault.stateOf(loanId)).premiumBps).to.equal(terms.basePremiumBps);
      // The new operator's own month under 60% does step the coupon up.
      await readDays(BigInt(await time.latest()) + BigInt(DAY), 30);
      await f.oracle.push(loanId);
      expect((await f.loanVault.stateOf(loanId)).premiumBps).to.equal(BigInt(terms.basePremiumBps) + 300n);
    });

    it("refuses a new operator without RECEIPT_HOLDER, or one over its borrower cap", async () => {
      const { loanId, t0 } = await houseLoan();
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await f.loanVault.connect(f.actors.deployer).grantRole(Roles.BORROWER, attacker.address);
      await expect(f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, attacker.address))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultNotReceiptHolder")
        .withArgs(attacker.address);
      // borrower2 already owes 2.5M; the cap is 30% of a ~10M NAV
      await openLoan(f, b2, usd(2_500_000), 5_000_000);
      await expect(
        f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address),
      ).to.be.revertedWithCustomError(f.loanVault, "LoanVaultBorrowerCap");
    });
  });

  describe("#16.7 recoveries after a write-off", () => {
    it("the credit admin pays money recovered off-chain into sUSDai, booked as a recovery with an event", async () => {
      const { loanId } = await worthlessDefaulted();
      const admin = f.actors.creditAdmin;
      await f.loanVault.connect(admin).writeOff(loanId); // the credit admin need not wait out the step-in window
      await fundUsdai(f, admin, 50_000);
      const idle = await f.susdai.idleAssets();
      await expect(f.loanVault.connect(admin).recordRecovery(loanId, usd(50_000)))
        .to.emit(f.loanVault, "RecoveryRecorded")
        .withArgs(loanId, admin.address, usd(50_000));
      expect(await f.susdai.idleAssets()).to.equal(idle + usd(50_000));
      await expect(f.loanVault.connect(attacker).recordRecovery(loanId, 1n))
        .to.be.revertedWithCustomError(f.loanVault, "AccessControlUnauthorizedAccount")
        .withArgs(attacker.address, Roles.CREDIT_ADMIN);
    });
  });

  describe("#16.8 the auction cannot be swapped under a live lot", () => {
    it("setAuction is refused while a loan is Liquidating, and allowed once the lot is settled", async () => {
      const { loanId, t0 } = await houseLoan();
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      expect(await f.loanVault.liquidatingCount()).to.equal(1n);
      await expect(f.loanVault.connect(f.actors.deployer).setAuction(attacker.address))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultLotsInAuction")
        .withArgs(1n);
      const lot = await f.auction.auctionOf(loanId);
      await at(BigInt(lot.startedAt) + BigInt(lot.duration) + 1n);
      await f.auction.expire(loanId);
      expect(await f.loanVault.liquidatingCount()).to.equal(0n);
      await expect(f.loanVault.connect(f.actors.deployer).setAuction(attacker.address)).to.emit(
        f.loanVault,
        "AuctionSet",
      );
    });
  });

  describe("#16.9 a reverting surplus transfer cannot block a sale", () => {
    it("a borrower the token refuses to pay: the sale settles and the surplus is credited to claim", async () => {
      const { loanId, t0 } = await houseLoan({ principal: usd(100_000) });
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      // USDai upgraded to a build that refuses transfers to borrower1 (as a blacklist would)
      const freezable = await hre.ethers.deployContract("USDaiFreezableMock");
      await f.usdai.connect(f.actors.deployer).upgradeToAndCall(await freezable.getAddress(), "0x");
      const usdai = await hre.ethers.getContractAt("USDaiFreezableMock", await f.usdai.getAddress());
      await usdai.freeze(b1.address);
      const buyer = f.actors.liquidator;
      await fundBuyer(f, buyer.address, usd(3_000_000));
      const price = await f.auction.price(loanId);
      await expect(f.auction.connect(buyer).buy(loanId, price)).to.emit(f.loanVault, "SurplusCredited");
      const surplus = await f.loanVault.surplusOf(b1.address);
      expect(surplus).to.be.greaterThan(0n);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Recovered);
      await usdai.freeze(hre.ethers.ZeroAddress);
      await expect(f.loanVault.connect(b1).claimSurplus(b1.address))
        .to.emit(f.loanVault, "SurplusClaimed")
        .withArgs(b1.address, b1.address, surplus);
      expect(await f.loanVault.surplusOf(b1.address)).to.equal(0n);
      await expect(f.loanVault.connect(b1).claimSurplus(b1.address))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultNoSurplus")
        .withArgs(b1.address);
    });
  });

  describe("#16.10 non-accrual", () => {
    it("a loan past its grace period stops accruing into loanAssets() and keeps accruing in debtOf", async () => {
      const { loanId, t0 } = await houseLoan();
      const late = t0 + INTERVAL + GRACE + 1n;
      await at(late);
      await expect(f.loanVault.checkCovenants(loanId))
        .to.emit(f.loanVault, "NonAccrualSet")
        .withArgs(loanId, true);
      expect(await f.loanVault.loanAssets()).to.equal(P); // the interest nobody is paying is out of NAV
      const debt = await f.loanVault.debtOf(loanId);
      expect(debt).to.be.greaterThan(P);
      await time.increase(10n * BigInt(DAY));
      expect(await f.loanVault.loanAssets()).to.equal(P);
      expect(await f.loanVault.debtOf(loanId)).to.be.greaterThan(debt);
      // paying what is due brings it current: back in the books, and its interest paid was a gain
      await f.loanVault.connect(b1).repay(loanId, (await f.loanVault.nextPayment(loanId)).amountDue);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(0n);
      expect((await f.loanVault.accrualState()).rateSum).to.equal(s.principal * BigInt(s.couponBps));
    });
  });

  describe("#16.12 earlier findings", () => {
    it("12a: a required top-up is not cleared by a collateral revaluation, only by a top-up", async () => {
      const { loanId } = await houseLoan(); // 50% LTV, within the origination LTV
      await f.loanVault.connect(oracle).applyCouponStep(loanId, 1n, 300n, true);
      expect((await f.loanVault.stateOf(loanId)).breachFlags).to.equal(2n);
      await f.loanVault.checkCovenants(loanId);
      expect((await f.loanVault.stateOf(loanId)).breachFlags).to.equal(2n);
      const [extra] = await mintReceipts(f, b1, 1, 100_000);
      await f.loanVault.connect(b1).topUp(loanId, [extra]);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.breachFlags).to.equal(0n);
      expect(s.cureDeadline).to.equal(0n);
    });

    it("12b: under a cash sweep the reserve target is taken on the principal left after the prepayment", async () => {
      const { loanId, t0 } = await houseLoan();
      await f.loanVault.connect(oracle).setCovenantBreach(loanId, 1n);
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(200_000));
      await at(t0 + INTERVAL);
      await f.loanVault.sweep(loanId);
      const s = await f.loanVault.stateOf(loanId);
      const terms = await f.loanVault.termsOf(loanId);
      const target = ceilDiv(s.principal * BigInt(terms.debtServiceReserveBps), BPS);
      expect(s.reserve).to.be.lessThanOrEqual(target);
      expect(target - s.reserve).to.be.lessThanOrEqual(1n);
      expect(s.lockbox).to.equal(0n);
    });
  });

  describe("every revert branch of the state machine's entry points, state unchanged", () => {
    it("writeOff: a loan not Defaulted; a vault without an auction (no custodian to send the receipts to)", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(loanId, () => f.loanVault.writeOff(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Active,
      ]);
      const { actors } = f;
      const fresh = await deployLoanVaultProxy(f, actors.deployer.address, {
        ...FRESH_VAULT_RISK,
        stepInWindowSeconds: 0,
      });
      await f.susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, await fresh.getAddress());
      await fresh.connect(actors.deployer).grantRole(Roles.UNDERWRITER, actors.underwriter.address);
      await fresh.connect(actors.deployer).grantRole(Roles.BORROWER, b1.address);
      await f.receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, await fresh.getAddress());
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD, "DAL-1", 10_000n, 0n);
      await f.receipts.connect(b1).setApprovalForAll(await fresh.getAddress(), true);
      await fresh.connect(actors.underwriter).approveLoan(loanTerms(b1.address, P, "DAL-1", await now()));
      await fresh.connect(b1).borrow(1n, receiptIds);
      await at((await fresh.stateOf(1n)).scheduleStart + 4n * INTERVAL);
      await fresh.declareDefault(1n);
      await expect(fresh.writeOff(1n)).to.be.revertedWithCustomError(fresh, "LoanVaultZeroAddress");
      expect((await fresh.stateOf(1n)).status).to.equal(LoanStatus.Defaulted);
      expect(await fresh.liquidatingCount()).to.equal(0n);
    });

    it("recordRecovery: zero, and a loan that was not written off", async () => {
      const { loanId } = await houseLoan();
      const admin = f.actors.creditAdmin;
      await expectRevert(
        loanId,
        () => f.loanVault.connect(admin).recordRecovery(loanId, 0n),
        "LoanVaultZeroAmount",
      );
      await expectRevert(
        loanId,
        () => f.loanVault.connect(admin).recordRecovery(loanId, 1n),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
    });

    it("claimSurplus: to the zero address; nothing to claim", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(b1).claimSurplus(hre.ethers.ZeroAddress),
        "LoanVaultZeroAddress",
      );
      await expectRevert(0n, () => f.loanVault.connect(b1).claimSurplus(b1.address), "LoanVaultNoSurplus", [
        b1.address,
      ]);
    });

    it("stepIn: cash held covers the whole debt, nothing to novate (liquidation settles it)", async () => {
      const { loanId, t0 } = await houseLoan({ principal: usd(100_000) });
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(200_000));
      const s = await f.loanVault.stateOf(loanId);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, b2.address),
        "LoanVaultDebtCoveredByCash",
        [loanId, usd(200_000), s.principal + s.interest],
      );
    });

    it("declareDefault: a lockbox that repays the whole loan refuses the default (the loan stays Active)", async () => {
      await refusedAsCoveredByLockbox();
    });
  });

  describe("a default and a sale with cash held", () => {
    it("declareDefault: a bullet the lockbox repays in full at maturity is refused, the loan stays Active", async () => {
      const loanId = await refusedAsCoveredByLockbox({ numPayments: 1 });
      await f.loanVault.sweep(loanId); // what the refusal points at: the sweep repays it
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
    });

    it("revenue that reached the lockbox after the default is part of the sale's recovery, and is cleared", async () => {
      const { loanId, t0 } = await houseLoan({ principal: usd(100_000) });
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await f.loanVault.declareDefault(loanId);
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(5_000));
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      const s0 = await f.loanVault.stateOf(loanId);
      expect(s0.lockbox + s0.reserve).to.equal(usd(5_000));
      const buyer = f.actors.liquidator;
      await fundBuyer(f, buyer.address, usd(3_000_000));
      const before = await f.usdai.balanceOf(b1.address);
      const receipt = await (
        await f.auction.connect(buyer).buy(loanId, await f.auction.price(loanId))
      ).wait();
      const settled = receipt!.logs
        .map((log) => {
          try {
            return f.loanVault.interface.parseLog(log);
          } catch {
            return null;
          }
        })
        .find((e) => e?.name === "AuctionSettled")!.args;
      const debt = s0.principal + s0.interest;
      expect(settled.repaid).to.equal(debt);
      expect(settled.loss).to.equal(0n);
      // the surplus is the proceeds and the cash held, less the debt and the late fees
      expect(settled.surplus).to.equal(settled.proceeds + usd(5_000) - debt - s0.lateFees);
      expect((await f.usdai.balanceOf(b1.address)) - before).to.equal(settled.surplus);
      const s = await f.loanVault.stateOf(loanId);
      expect([s.status, s.lockbox, s.reserve]).to.deep.equal([BigInt(LoanStatus.Recovered), 0n, 0n]);
    });
  });

  describe("interest paid ahead, non-accrual and the books", () => {
    it("an early payment short of its quote by less than the threshold settles; the shortfall stays owed", async () => {
      // interest-only terms: the installment is the interest to its due date, and the dollar short is interest
      const { loanId, t0 } = await houseLoan({ overrides: { amortizationBps: 0 } });
      const due = t0 + INTERVAL;
      const quote = await quoteAt(loanId, due - 5n * BigInt(DAY));
      await at((await latest()) + 1n);
      await f.loanVault.connect(b1).repay(loanId, quote - usd(1));
      const s = await f.loanVault.stateOf(loanId);
      expect(s.nextPaymentIndex).to.equal(2n);
      expect(s.accruedAt).to.be.lessThan(due); // paid a dollar short of the due date: that interest is owed next
      await time.increaseTo(due);
      const next = await f.loanVault.nextPayment(loanId);
      expect(next.amountDue).to.be.greaterThan(interestOf(P, COUPON, INTERVAL));
    });

    it("a partial early payment keeps its interest paid ahead; a second one pays the principal; the books follow", async () => {
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      await at(due - 10n * BigInt(DAY));
      // the interest to the due date and half the installment's principal
      const interest = interestOf(P, COUPON, INTERVAL);
      await f.loanVault.connect(b1).repay(loanId, interest + usd(10_000));
      let s = await f.loanVault.stateOf(loanId);
      expect(s.accruedAt).to.equal(due);
      expect(s.nextPaymentIndex).to.equal(1n); // 10,000 of principal short: not settled
      // paid ahead, the loan's unearned interest is out of the book (negative numerator, one loan)
      const unearned = s.principal * BigInt(s.couponBps) * (due - (await latest()));
      expect(await f.loanVault.loanAssets()).to.equal(s.principal - ceilDiv(unearned, INTEREST_DENOMINATOR));
      // a coupon step while paid ahead: the prepaid interest now pays for less time at the higher coupon, so the
      // second payment (its quote) also carries the interest from there to the due date
      await f.loanVault.connect(oracle).applyCouponStep(loanId, 1n, 100n, false);
      const quote = await quoteAt(loanId, due - 5n * BigInt(DAY));
      expect(quote).to.be.greaterThan(usd(10_000));
      await at((await latest()) + 1n);
      await f.loanVault.connect(b1).repay(loanId, quote);
      s = await f.loanVault.stateOf(loanId);
      expect(s.nextPaymentIndex).to.equal(2n);
      expect(s.accruedAt).to.equal(due);
      const agg = await f.loanVault.accrualState();
      expect(agg.rateSum).to.equal(s.principal * BigInt(s.couponBps));
      const t = BigInt(await time.latest());
      expect(agg.interestNumerator + agg.rateSum * (t - agg.checkpointAt)).to.equal(
        s.principal * BigInt(s.couponBps) * (t - due),
      );
    });

    it("a coupon step on a loan paid ahead leaves the books where they were: the prepaid interest keeps its value", async () => {
      const { loanId, t0 } = await houseLoan();
      const due = t0 + INTERVAL;
      await at(due - 10n * BigInt(DAY));
      await f.loanVault.connect(b1).repay(loanId, interestOf(P, COUPON, INTERVAL));
      expect((await f.loanVault.stateOf(loanId)).accruedAt).to.equal(due);
      for (const [stepId, delta] of [
        [1n, 300n],
        [2n, -500n],
      ]) {
        const before = await f.loanVault.stateOf(loanId);
        const assets = await f.loanVault.loanAssets();
        await f.loanVault.connect(oracle).applyCouponStep(loanId, stepId, delta, false);
        const after = await f.loanVault.stateOf(loanId);
        const t = await latest();
        // a step-up shortens the prepaid period, a step-down lengthens it; the value it pays for is the same
        expect(after.accruedAt).to.equal(
          t + ((before.accruedAt - t) * BigInt(before.couponBps)) / BigInt(after.couponBps),
        );
        // the books move by the block's second of interest and the rounding (under a second) only; they used to dip
        // (or jump) by the step over the whole prepaid period
        const top = BigInt(Math.max(Number(before.couponBps), Number(after.couponBps)));
        const moved = (await f.loanVault.loanAssets()) - assets;
        expect(moved).to.be.within(0n, interestOf(P, top, 2n) + 2n);
      }
    });

    it("a partial payment that leaves a payment past grace puts the loan into non-accrual; a coupon step leaves the book alone", async () => {
      const { loanId, t0 } = await houseLoan();
      await at(t0 + INTERVAL + GRACE + 1n);
      await expect(f.loanVault.connect(b1).repay(loanId, usd(100)))
        .to.emit(f.loanVault, "NonAccrualSet")
        .withArgs(loanId, true);
      expect((await f.loanVault.accrualState()).rateSum).to.equal(0n);
      await f.loanVault.connect(oracle).applyCouponStep(loanId, 1n, 100n, false);
      expect((await f.loanVault.accrualState()).rateSum).to.equal(0n);
      expect(await f.loanVault.loanAssets()).to.equal((await f.loanVault.stateOf(loanId)).principal);
    });

    it("12b: a reserve target of 100% takes no prepayment; a small cash sweep refills the reserve first", async () => {
      const full = await houseLoan({ overrides: { debtServiceReserveBps: 10_000 } });
      await f.loanVault.connect(oracle).setCovenantBreach(full.loanId, 1n);
      await f.loanVault.connect(payer).depositRevenue(full.loanId, usd(50_000));
      await at(full.t0 + INTERVAL);
      await f.loanVault.sweep(full.loanId);
      expect((await f.loanVault.stateOf(full.loanId)).lockbox).to.equal(0n);
      const small = await houseLoan();
      await f.loanVault.connect(oracle).setCovenantBreach(small.loanId, 1n);
      await f.loanVault.connect(payer).depositRevenue(small.loanId, usd(30_000));
      await at(small.t0 + INTERVAL);
      await expect(f.loanVault.sweep(small.loanId)).to.emit(f.loanVault, "Swept");
      const s = await f.loanVault.stateOf(small.loanId);
      expect(s.lockbox).to.equal(0n);
      expect(s.principal).to.equal(P - mulDivUp(P, 200n, BPS)); // nothing prepaid: the reserve came first
    });
  });

  it("the fixture's parameters are the ones these tests assume", async () => {
    const risk = await f.loanVault.riskParams();
    expect(risk.materialityThreshold).to.equal(MATERIALITY);
    expect(risk.stepInWindowSeconds).to.equal(STEP_IN_WINDOW);
  });
});

import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve, mintReceipts, now } from "../../helpers/loans";
import { deployLoanVaultProxy, field } from "../../helpers/loan-unit";
import { BPS, INTEREST_DENOMINATOR, interestOf, min, mulDivDown, mulDivUp } from "../../helpers/math";
import { DAY, LoanStatus, loanTerms } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import {
  at,
  COLLATERAL,
  COLLATERAL_USD,
  COUPON,
  FRESH_VAULT_RISK,
  GRACE,
  HAIRCUT,
  houseLateFee,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  NAV,
  P,
  type Signer,
  SITE,
  SITE_KEY,
  STEP_IN_WINDOW,
  WINDOW,
} from "./suite";

/**
 * A loan gone bad: declaring the default, liquidating into the auction, the settlement of its proceeds, and a
 * step-in.
 */
describe("LoanVault recovery: default, liquidation, settlement, step-in", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, oracle: Signer, attacker: Signer, payer: Signer;
  beforeEach(async () => ({ f, b1, b2, oracle, attacker, payer } = await loadLoanVault()));
  const { expectRevert, houseLoan, defaultHouseLoan } = loanVaultHelpers(() => f);

  // ================================================================ default and recovery

  describe("declareDefault", () => {
    it("defaults at exactly due + grace + window + 1, impairs to min(value in the books, collateral after haircut)", async () => {
      const { loanVault, susdai } = f;
      const { loanId, t0 } = await houseLoan();
      const when = t0 + INTERVAL + GRACE + WINDOW + 1n;
      expect(await loanVault.defaultableAt(loanId)).to.equal(when);
      await at(when - 1n);
      await expect(loanVault.declareDefault(loanId))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultNotDefaultable")
        .withArgs(loanId, when);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Active);
      const idle = await susdai.idleAssets();
      const elapsed = when - t0;
      const interest = interestOf(P, COUPON, elapsed);
      const debt = P + interest;
      const recovery = mulDivDown(COLLATERAL, BPS - HAIRCUT, BPS);
      // A loan with an installment past grace is carried at its principal (non-accrual): the impairment is capped there.
      const impaired = min(P, recovery);
      const navBefore = idle + P + (P * COUPON * elapsed) / INTEREST_DENOMINATOR; // aggregate at `when`, pre-default
      // one installment is late (the first; the second has fallen due but is within its grace period)
      const fee = houseLateFee(1n);
      await at(when);
      await expect(loanVault.connect(attacker).declareDefault(loanId))
        .to.emit(loanVault, "LoanDefaulted")
        .withArgs(loanId, debt, impaired)
        .and.to.emit(loanVault, "LateFeeCharged")
        .withArgs(loanId, 1n, fee);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Defaulted);
      expect(s.impairedValue).to.equal(impaired);
      expect(s.lateFees).to.equal(fee);
      const agg = await loanVault.accrualState();
      expect(agg.totalPrincipal).to.equal(0n);
      expect(agg.rateSum).to.equal(0n);
      expect(agg.impaired).to.equal(impaired);
      expect(await loanVault.loanAssets()).to.equal(impaired);
      const navAfter = await susdai.totalAssets();
      expect(navAfter).to.equal(idle + impaired);
      // NAV takes the write-down (debt less recovery) at once (up to the 1-wei rounding of the booked interest).
      expect(navBefore - navAfter).to.equal(
        debt - impaired - (interest - (P * COUPON * elapsed) / INTEREST_DENOMINATOR),
      );
      expect(await loanVault.isPerforming(loanId)).to.equal(false);
      expect(await loanVault.defaultableAt(loanId)).to.equal(0n);
      expect(await loanVault.inGoodStanding(loanId)).to.equal(false);
      expect(await loanVault.nextPayment(loanId)).to.deep.equal([0n, 0n]);
      // debtOf of a non-active loan is the stored figure
      expect(await loanVault.debtOf(loanId)).to.equal(debt + fee);
    });

    it("impairs to the value the books held (the principal, in non-accrual) when the recovery exceeds it", async () => {
      const { loanId, t0 } = await houseLoan({ principal: usd(100_000) });
      const when = t0 + INTERVAL + GRACE + WINDOW + 1n;
      const debt = usd(100_000) + interestOf(usd(100_000), COUPON, when - t0);
      await at(when);
      await expect(f.loanVault.declareDefault(loanId))
        .to.emit(f.loanVault, "LoanDefaulted")
        .withArgs(loanId, debt, usd(100_000));
    });

    it("reverts for a loan that is not Active", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.declareDefault(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Approved,
      ]);
    });

    it("reverts before the default date with that date (no breach)", async () => {
      const { loanId, t0 } = await houseLoan();
      await expectRevert(loanId, () => f.loanVault.declareDefault(loanId), "LoanVaultNotDefaultable", [
        loanId,
        t0 + INTERVAL + GRACE + WINDOW + 1n,
      ]);
    });

    it("a paid installment moves the default date to the next one", async () => {
      const { loanVault } = f;
      const { loanId, t0 } = await houseLoan();
      await at(t0 + INTERVAL);
      await loanVault.connect(payer).repay(loanId, interestOf(P, COUPON, INTERVAL) + mulDivUp(P, 200n, BPS));
      expect(await loanVault.defaultableAt(loanId)).to.equal(t0 + 2n * INTERVAL + GRACE + WINDOW + 1n);
    });

    it("works while paused", async () => {
      const { loanId, t0 } = await houseLoan();
      await f.loanVault.connect(f.actors.guardian).pause();
      await defaultHouseLoan(loanId, t0);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Defaulted);
    });
  });

  describe("liquidate", () => {
    it("moves the receipts to a Dutch auction", async () => {
      const { loanVault, auction } = f;
      const { loanId, t0, receiptIds } = await houseLoan({ receipts: 2 });
      const defaultedAt = await defaultHouseLoan(loanId, t0);
      await at(defaultedAt + STEP_IN_WINDOW); // anyone, once the step-in window has passed
      await expect(loanVault.connect(attacker).liquidate(loanId))
        .to.emit(loanVault, "LoanLiquidated")
        .withArgs(loanId, 1n, COLLATERAL);
      for (const id of receiptIds) expect(await f.receipts.ownerOf(id)).to.equal(await auction.getAddress());
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Liquidating);
      expect(await auction.auctionOfLoan(loanId)).to.equal(1n);
    });

    it("reverts for a loan that is not Defaulted", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(loanId, () => f.loanVault.liquidate(loanId), "LoanVaultBadStatus", [
        loanId,
        LoanStatus.Active,
      ]);
    });

    it("reverts with LoanVaultZeroAddress on a vault without an auction", async () => {
      // A fresh vault (no auction wired) that sUSDai lets fund loans: draw, default, then liquidate.
      const { susdai, actors } = f;
      const fresh = await deployLoanVaultProxy(f, actors.deployer.address, FRESH_VAULT_RISK);
      await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, await fresh.getAddress());
      await fresh.connect(actors.deployer).grantRole(Roles.UNDERWRITER, actors.underwriter.address);
      await fresh.connect(actors.deployer).grantRole(Roles.BORROWER, b1.address);
      await f.receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, await fresh.getAddress());
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      await f.receipts.connect(b1).setApprovalForAll(await fresh.getAddress(), true);
      await fresh.connect(actors.underwriter).approveLoan(loanTerms(b1.address, P, SITE, await now()));
      await fresh.connect(b1).borrow(1n, receiptIds);
      const t0 = (await fresh.stateOf(1n)).scheduleStart;
      await at(t0 + INTERVAL + GRACE + WINDOW + 1n);
      await fresh.declareDefault(1n);
      await expect(fresh.liquidate(1n)).to.be.revertedWithCustomError(fresh, "LoanVaultZeroAddress");
      expect((await fresh.stateOf(1n)).status).to.equal(LoanStatus.Defaulted);
    });

    it("sets the lot's reserve to the impaired value less the cash held; the floor never sells below it", async () => {
      const { loanVault, auction } = f;
      const { loanId, t0 } = await houseLoan();
      await f.loanVault.connect(payer).depositRevenue(loanId, usd(1_000));
      const defaultedAt = await defaultHouseLoan(loanId, t0);
      const s = await loanVault.stateOf(loanId);
      const cash = s.lockbox + s.reserve;
      // the 1,000 of revenue paid part of the late fee: the cash left is what the lockbox still holds
      const reserve = s.impairedValue - cash;
      await at(defaultedAt + STEP_IN_WINDOW);
      await expect(loanVault.liquidate(loanId))
        .to.emit(loanVault, "ReserveSet")
        .withArgs(loanId, reserve, s.impairedValue);
      // the reserve (the principal less the cash, 50% of the collateral) is under the 60% maximum LTV: the floor is 60%
      const lot = await auction.auctionOf(loanId);
      expect(lot.floorPrice).to.equal(mulDivUp(COLLATERAL, 6_000n, BPS));
      expect(lot.floorPrice).to.be.greaterThanOrEqual(reserve);
      expect((await loanVault.stateOf(loanId)).impairedValue).to.equal(s.impairedValue);
    });

    it("marks a lot that depreciated since the default down to its collateral today after the haircut (#24.3)", async () => {
      const { loanVault, auction, receipts, actors } = f;
      const { loanId, t0, receiptIds } = await houseLoan();
      const defaultedAt = await defaultHouseLoan(loanId, t0);
      expect((await loanVault.stateOf(loanId)).impairedValue).to.equal(P); // 2M x 80% > the principal
      await receipts.connect(actors.appraiser).appraise(receiptIds[0], usd(1_000_000), 0, BPS);
      await at(defaultedAt + STEP_IN_WINDOW);
      const [navBefore, entryBefore] = [await loanVault.loanAssets(), await loanVault.entryLoanAssets()];
      await expect(loanVault.liquidate(loanId))
        .to.emit(loanVault, "ReserveSet")
        .withArgs(loanId, usd(800_000), usd(800_000));
      expect((await loanVault.stateOf(loanId)).impairedValue).to.equal(usd(800_000));
      expect((await loanVault.accrualState()).impaired).to.equal(usd(800_000));
      // NAV takes the 200k at once; the entry price still counts the loan at its claim
      expect(navBefore - (await loanVault.loanAssets())).to.equal(usd(200_000));
      expect(await loanVault.entryLoanAssets()).to.equal(entryBefore);
      // the floor is the reserve: 80% of the collateral today
      expect((await auction.auctionOf(loanId)).floorPrice).to.equal(usd(800_000));
    });

    it("works while paused", async () => {
      const { loanId, t0 } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.guardian).pause();
      await expect(f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId)).to.emit(
        f.loanVault,
        "LoanLiquidated",
      );
    });
  });

  describe("lowerReserve", () => {
    /** The house loan re-appraised at 1.25M, defaulted and liquidated: reserve 1M (80%), minimum floor 750k (60%). */
    async function reservedLot(): Promise<bigint> {
      const { loanId, t0, receiptIds } = await houseLoan();
      await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], usd(1_250_000), 0, BPS);
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      expect((await f.auction.auctionOf(loanId)).floorPrice).to.equal(P);
      return loanId;
    }

    it("marks the loan down to the accepted reserve first, then lowers the auction's floor to it", async () => {
      const { loanVault, auction, susdai, actors } = f;
      const loanId = await reservedLot();
      const [navBefore, entryBefore] = [await susdai.totalAssets(), await loanVault.entryLoanAssets()];
      await expect(loanVault.connect(actors.creditAdmin).lowerReserve(loanId, usd(900_000)))
        .to.emit(loanVault, "ReserveSet")
        .withArgs(loanId, usd(900_000), usd(900_000))
        .and.to.emit(auction, "AuctionFloorLowered")
        .withArgs(loanId, usd(900_000), usd(900_000));
      expect((await loanVault.stateOf(loanId)).impairedValue).to.equal(usd(900_000));
      expect(navBefore - (await susdai.totalAssets())).to.equal(usd(100_000));
      expect(await loanVault.entryLoanAssets()).to.equal(entryBefore);
      expect((await auction.auctionOf(loanId)).floorPrice).to.equal(usd(900_000));
      // a reserve the loan's value is already below moves the floor, not the mark
      await loanVault.connect(actors.creditAdmin).lowerReserve(loanId, usd(800_000));
      expect((await loanVault.stateOf(loanId)).impairedValue).to.equal(usd(800_000));
    });

    it("reverts: not the credit admin, not Liquidating, below the maximum LTV, not lower; state unchanged", async () => {
      const { loanVault, auction, actors } = f;
      const loanId = await reservedLot();
      const lot = async () => [...(await auction.auctionOf(loanId))];
      await expectRevert(
        loanId,
        () => loanVault.connect(attacker).lowerReserve(loanId, usd(900_000)),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.CREDIT_ADMIN],
      );
      const { loanId: active } = await houseLoan();
      await expectRevert(
        active,
        () => loanVault.connect(actors.creditAdmin).lowerReserve(active, usd(900_000)),
        "LoanVaultBadStatus",
        [active, LoanStatus.Active],
      );
      const before = await lot();
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).lowerReserve(loanId, usd(750_000) - 1n),
        "AuctionReserveBelowMinFloor",
        [loanId, usd(750_000) - 1n, usd(750_000)],
        auction,
      );
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).lowerReserve(loanId, P),
        "AuctionFloorNotLowered",
        [loanId, P, P],
        auction,
      );
      // a reserve far above the mark: the auction's clear refusal, not an overflow
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).lowerReserve(loanId, MaxUint256 / 2n ** 64n),
        "AuctionFloorNotLowered",
        [loanId, MaxUint256 / 2n ** 64n, P],
        auction,
      );
      expect(await lot()).to.deep.equal(before);
    });
  });

  describe("onAuctionSettled", () => {
    async function liquidated(principal = P): Promise<{ loanId: bigint; when: bigint; t0: bigint }> {
      const { loanId, t0 } = await houseLoan({ principal });
      const when = await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.creditAdmin).liquidate(loanId);
      return { loanId, when, t0 };
    }

    /** The auction as a signer (impersonated, with 100 ETH for gas), to call the vault's auction hook directly. */
    async function impersonateAuction(): Promise<Signer> {
      const auctionAddress = await f.auction.getAddress();
      await hre.network.provider.send("hardhat_impersonateAccount", [auctionAddress]);
      await hre.network.provider.send("hardhat_setBalance", [auctionAddress, "0x56BC75E2D63100000"]);
      return hre.ethers.getSigner(auctionAddress);
    }

    it("a sale above the debt repays it and sends the surplus to the borrower", async () => {
      const { loanVault, auction, usdai, susdai, actors } = f;
      const principal = usd(500_000);
      const { loanId, when, t0 } = await liquidated(principal);
      const s = await loanVault.stateOf(loanId);
      const debt = s.principal + s.interest;
      expect(s.interest).to.equal(interestOf(principal, COUPON, when - t0));
      const a = await auction.auctionOf(1n);
      const price = a.floorPrice; // bought at the very end of the auction
      await usdai.connect(actors.liquidator).approve(await auction.getAddress(), MaxUint256);
      const balance = await usdai.balanceOf(b1.address);
      const idle = await susdai.idleAssets();
      await at(BigInt(a.startedAt) + BigInt(a.duration));
      const fees = min(price - debt, s.lateFees);
      const surplus = price - debt - fees;
      await expect(auction.connect(actors.liquidator).buy(1n, price))
        .to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, price, 0n, debt, fees, surplus, 0n);
      expect(await usdai.balanceOf(b1.address)).to.equal(balance + surplus);
      const after = await loanVault.stateOf(loanId);
      expect(after.status).to.equal(LoanStatus.Recovered);
      // the dead accrual and schedule slots are cleared; status, receipts and the oracle's fields stay
      for (const field of [
        "principal",
        "interest",
        "accruedAt",
        "couponBps",
        "nextPaymentIndex",
        "lateFees",
        "lockbox",
        "reserve",
        "schedulePrincipal",
        "scheduleStart",
        "schedulePayments",
        "impairedValue",
      ] as const) {
        expect(after[field], field).to.equal(0n);
      }
      expect(after.receiptCount).to.equal(s.receiptCount);
      expect(after.premiumBps).to.equal(s.premiumBps);
      expect(await loanVault.receiptsOf(loanId)).to.have.lengthOf(Number(s.receiptCount));
      expect((await loanVault.accrualState()).impaired).to.equal(0n);
      expect(await loanVault.exposureOf(b1.address, SITE_KEY)).to.deep.equal([0n, 0n]);
      // impaired value booked at once, the rest (debt above it and the fees) vests as a gain: all of it lands idle
      expect(await susdai.idleAssets()).to.equal(idle + debt + fees);
    });

    it("an unsold auction writes the loan off: loss = debt", async () => {
      const { loanVault, auction, susdai } = f;
      const { loanId } = await liquidated();
      const s = await loanVault.stateOf(loanId);
      const debt = s.principal + s.interest;
      const a = await auction.auctionOf(1n);
      await time.increaseTo(BigInt(a.startedAt) + BigInt(a.duration) + 1n);
      const navBefore = await susdai.totalAssets();
      await expect(auction.expire(1n))
        .to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, 0n, 0n, 0n, 0n, 0n, debt);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.WrittenOff);
      expect(navBefore - (await susdai.totalAssets())).to.equal(s.impairedValue);
    });

    it("reverts for a caller other than the auction", async () => {
      const { loanId } = await liquidated();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(attacker).onAuctionSettled(loanId, 1n, attacker.address),
        "LoanVaultNotAuction",
        [attacker.address],
      );
    });

    it("reverts when the buyer is the loan's borrower (called as the auction), state unchanged", async () => {
      const { loanId } = await liquidated();
      const asAuction = await impersonateAuction();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(asAuction).onAuctionSettled(loanId, usd(1_000_000), b1.address),
        "LoanVaultBuyerIsBorrower",
        [loanId, b1.address],
      );
      await hre.network.provider.send("hardhat_stopImpersonatingAccount", [asAuction.address]);
    });

    it("reverts for a loan that is not Liquidating (called as the auction)", async () => {
      const { loanId } = await houseLoan();
      const asAuction = await impersonateAuction();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(asAuction).onAuctionSettled(loanId, 0n, ZeroAddress),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
      await hre.network.provider.send("hardhat_stopImpersonatingAccount", [asAuction.address]);
    });
  });

  describe("stepIn", () => {
    it("novates a defaulted loan to a new operator with a fresh schedule over the remaining payments", async () => {
      const { loanVault, susdai, actors } = f;
      const { loanId, t0 } = await houseLoan();
      const defaultedAt = await defaultHouseLoan(loanId, t0);
      const s0 = await loanVault.stateOf(loanId);
      const idle = await susdai.idleAssets();
      const when = defaultedAt + 100n;
      await at(when);
      await expect(loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address))
        .to.emit(loanVault, "SteppedIn")
        .withArgs(loanId, b1.address, b2.address);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Active);
      expect(s.scheduleStart).to.equal(when);
      expect(s.accruedAt).to.equal(when);
      expect(s.schedulePayments).to.equal(34n); // 2 payments fell due by then
      expect(s.schedulePrincipal).to.equal(P);
      expect(s.nextPaymentIndex).to.equal(1n);
      expect(s.impairedValue).to.equal(0n);
      expect(s.interest).to.equal(s0.interest); // no interest for the defaulted period
      expect((await loanVault.termsOf(loanId)).borrower).to.equal(b2.address);
      expect(await loanVault.exposureOf(b1.address, SITE_KEY)).to.deep.equal([0n, P]);
      expect((await loanVault.exposureOf(b2.address, SITE_KEY)).borrowerPrincipal).to.equal(P);
      const agg = await loanVault.accrualState();
      expect(agg.impaired).to.equal(0n);
      expect(agg.totalPrincipal).to.equal(P);
      expect(agg.rateSum).to.equal(P * COUPON);
      // NAV restored: principal + booked interest
      expect(await susdai.totalAssets()).to.equal(idle + P + s0.interest);
      expect(await loanVault.defaultableAt(loanId)).to.equal(when + INTERVAL + GRACE + WINDOW + 1n);
    });

    it("tells the utilization oracle (LoanRestarted); a mislinked oracle blocks it until governance unlinks it", async () => {
      const { loanVault, actors } = f;
      const utilization = f.oracle;
      const { loanId, t0 } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      const snap = await hre.network.provider.send("evm_snapshot");
      await expect(loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address))
        .to.emit(utilization, "LoanRestarted")
        .withArgs(loanId, 0n);
      await hre.network.provider.send("evm_revert", [snap]);
      // An oracle that serves another vault refuses the call, and the step-in with it.
      await utilization.connect(actors.deployer).setLoanVault(attacker.address);
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address),
        "UtilizationOracleNotLoanVault",
        [await loanVault.getAddress()],
        utilization,
      );
      await loanVault.connect(actors.deployer).setUtilizationOracle(ZeroAddress);
      await expect(loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address))
        .to.emit(loanVault, "SteppedIn")
        .and.not.to.emit(utilization, "LoanRestarted");
    });

    it("reverts for a caller without CREDIT_ADMIN, a zero or non-allowlisted operator, a loan not Defaulted", async () => {
      const { loanVault, actors } = f;
      const { loanId, t0 } = await houseLoan();
      await expectRevert(
        loanId,
        () => loanVault.connect(attacker).stepIn(loanId, b2.address),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.CREDIT_ADMIN],
      );
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
      await defaultHouseLoan(loanId, t0);
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).stepIn(loanId, ZeroAddress),
        "LoanVaultZeroAddress",
        [],
      );
      await expectRevert(
        loanId,
        () => loanVault.connect(actors.creditAdmin).stepIn(loanId, attacker.address),
        "LoanVaultNotAllowlisted",
        [attacker.address],
      );
    });

    it("a step-in after the last due date schedules a single payment", async () => {
      const { loanVault, actors } = f;
      const { loanId, t0 } = await houseLoan({ overrides: { numPayments: 2 } });
      await defaultHouseLoan(loanId, t0);
      await time.increaseTo(t0 + 3n * INTERVAL);
      await loanVault.connect(actors.creditAdmin).stepIn(loanId, b2.address);
      expect((await loanVault.stateOf(loanId)).schedulePayments).to.equal(1n);
    });
  });
});

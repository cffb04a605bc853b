import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, ZeroHash } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve, mintReceipts, now, openLoan } from "../../helpers/loans";
import { field } from "../../helpers/loan-unit";
import { BPS, mulDivDown } from "../../helpers/math";
import { DAY, LoanStatus, loanTerms, siteKey } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import {
  at,
  COLLATERAL,
  COLLATERAL_USD,
  COUPON,
  loadLoanVault,
  loanVaultHelpers,
  MAX_RECEIPTS,
  NAV,
  P,
  type Signer,
  SITE,
  SITE_KEY,
  ZERO_COUPON,
} from "./suite";

/**
 * Underwriting a loan (terms validation, borrower and site caps, the reference rate), cancelling it, and
 * drawing it against receipts.
 */
describe("LoanVault origination: approval and draw", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, attacker: Signer;
  beforeEach(async () => ({ f, b1, b2, attacker } = await loadLoanVault()));
  const { reads, expectRevert, houseLoan } = loanVaultHelpers(() => f);

  // ================================================================ approveLoan

  describe("approveLoan", () => {
    it("records the terms, pre-writes the state and emits LoanApproved", async () => {
      const { loanVault, actors } = f;
      const terms = loanTerms(b1.address, P, SITE, await now());
      await expect(loanVault.connect(actors.underwriter).approveLoan(terms))
        .to.emit(loanVault, "LoanApproved")
        .withArgs(1n, b1.address, SITE_KEY, P);
      expect(await loanVault.loanCount()).to.equal(1n);
      const t = await loanVault.termsOf(1n);
      expect(t.borrower).to.equal(b1.address);
      expect(t.principal).to.equal(P);
      expect(t.numPayments).to.equal(36n);
      expect(t.site).to.equal(SITE_KEY);
      expect(t.approvalExpiry).to.equal(BigInt(terms.approvalExpiry));
      const s = await loanVault.stateOf(1n);
      expect(s.status).to.equal(LoanStatus.Approved);
      expect(s.premiumBps).to.equal(600n);
      expect(s.referenceRateBps).to.equal(430n);
      expect(s.schedulePrincipal).to.equal(P);
      expect(s.schedulePayments).to.equal(36n);
      expect(s.principal).to.equal(0n);
      expect(await loanVault.couponOf(1n)).to.equal(COUPON);
      // Approval books no exposure.
      const exposure = await loanVault.exposureOf(b1.address, SITE_KEY);
      expect(exposure.borrowerPrincipal).to.equal(0n);
      expect(exposure.sitePrincipal).to.equal(0n);
      // The house terms carry no revenue or data-gap covenant.
      expect([t.minDscrBps, t.lockboxCheck, t.shortfallToleranceBps, t.maxGapDays]).to.deep.equal([
        0n,
        false,
        0n,
        0n,
      ]);
      expect([...(await loanVault.covenantTermsOf(1n))]).to.deep.equal([0n, false, 0n, 0n]);
    });

    it("records the covenants the oracle checks as terms, up to their bounds, for termsOf and covenantTermsOf", async () => {
      const { loanVault, actors } = f;
      const covenants = {
        minDscrBps: 12_500,
        lockboxCheck: true,
        shortfallToleranceBps: 500,
        maxGapDays: 35,
      };
      await loanVault
        .connect(actors.underwriter)
        .approveLoan(loanTerms(b1.address, P, SITE, await now(), covenants));
      const t = await loanVault.termsOf(1n);
      expect([t.minDscrBps, t.lockboxCheck, t.shortfallToleranceBps, t.maxGapDays]).to.deep.equal([
        12_500n,
        true,
        500n,
        35n,
      ]);
      expect([...(await loanVault.covenantTermsOf(1n))]).to.deep.equal([12_500n, true, 500n, 35n]);
      // The slot before is untouched by the new one: the site still reads back.
      expect(t.site).to.equal(SITE_KEY);
      // The bounds themselves are accepted: a 5.0x floor, a 100% tolerance, 365 days.
      const bounds = {
        minDscrBps: 50_000,
        lockboxCheck: true,
        shortfallToleranceBps: 10_000,
        maxGapDays: 365,
      };
      await loanVault
        .connect(actors.underwriter)
        .approveLoan(loanTerms(b1.address, P, SITE, await now(), bounds));
      expect([...(await loanVault.covenantTermsOf(2n))]).to.deep.equal([50_000n, true, 10_000n, 365n]);
      // An unknown loan has none.
      expect([...(await loanVault.covenantTermsOf(3n))]).to.deep.equal([0n, false, 0n, 0n]);
    });

    it("reads the reference rate from a feed, rounded up to bps", async () => {
      const { loanVault, actors, referenceFeed } = f;
      await referenceFeed.pushAnswer(4_300_001n); // 4.30001% -> 431 bps after rounding up
      const terms = loanTerms(b1.address, P, SITE, await now(), {
        referenceRateFeed: await referenceFeed.getAddress(),
      });
      await loanVault.connect(actors.underwriter).approveLoan(terms);
      expect((await loanVault.stateOf(1n)).referenceRateBps).to.equal(431n);
    });

    it("reverts for a caller without UNDERWRITER", async () => {
      const terms = loanTerms(b1.address, P, SITE, await now());
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).approveLoan(terms),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.UNDERWRITER],
      );
    });

    it("reverts while paused", async () => {
      await f.loanVault.connect(f.actors.guardian).pause();
      const terms = loanTerms(b1.address, P, SITE, await now());
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
        "EnforcedPause",
        [],
      );
    });

    it("reverts for a borrower that is not allowlisted", async () => {
      const terms = loanTerms(attacker.address, P, SITE, await now());
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
        "LoanVaultNotAllowlisted",
        [attacker.address],
      );
    });

    it("reverts on a zero borrower (even if the zero address were allowlisted) and a zero principal", async () => {
      const { loanVault, actors } = f;
      await expectRevert(
        0n,
        async () =>
          loanVault.connect(actors.underwriter).approveLoan(loanTerms(ZeroAddress, P, SITE, await now())),
        "LoanVaultNotAllowlisted",
        [ZeroAddress],
      );
      await loanVault.connect(actors.deployer).grantRole(Roles.BORROWER, ZeroAddress);
      await expectRevert(
        0n,
        async () =>
          loanVault.connect(actors.underwriter).approveLoan(loanTerms(ZeroAddress, P, SITE, await now())),
        "LoanVaultZeroAddress",
        [],
      );
      await expectRevert(
        0n,
        async () =>
          loanVault.connect(actors.underwriter).approveLoan(loanTerms(b1.address, 0n, SITE, await now())),
        "LoanVaultZeroAmount",
        [],
      );
    });

    const invalid: [string, Record<string, unknown>, string, bigint][] = [
      ["numPayments = 0", { numPayments: 0 }, "numPayments", 0n],
      ["numPayments > 360", { numPayments: 361 }, "numPayments", 361n],
      ["interval < 1 day", { paymentIntervalSeconds: DAY - 1 }, "paymentIntervalSeconds", BigInt(DAY - 1)],
      [
        "interval > 366 days",
        { paymentIntervalSeconds: 366 * DAY + 1 },
        "paymentIntervalSeconds",
        BigInt(366 * DAY + 1),
      ],
      ["amortization > 100%", { amortizationBps: 10_001 }, "amortizationBps", 10_001n],
      [
        "grace > 365 days",
        { gracePeriodSeconds: 365 * DAY + 1 },
        "gracePeriodSeconds",
        BigInt(365 * DAY + 1),
      ],
      ["floor above base premium", { premiumFloorBps: 601 }, "premiumFloorBps", 601n],
      ["cap below base premium", { premiumCapBps: 599 }, "premiumCapBps", 599n],
      ["fixed reference rate > 50%", { referenceRateBps: 5_001 }, "referenceRateBps", 5_001n],
      ["reference + cap > 100%", { premiumCapBps: 9_571 }, "premiumCapBps", 9_571n],
      ["maxLtv = 0", { maxLtvBps: 0 }, "maxLtvBps", 0n],
      ["maxLtv > 100%", { maxLtvBps: 10_001 }, "maxLtvBps", 10_001n],
      ["maintenance < maxLtv", { maintenanceLtvBps: 5_999 }, "maintenanceLtvBps", 5_999n],
      ["maintenance > 100%", { maxLtvBps: 10_000, maintenanceLtvBps: 10_001 }, "maintenanceLtvBps", 10_001n],
      ["late penalty > 25%", { latePenaltyBps: 2_501 }, "latePenaltyBps", 2_501n],
      ["SLA > 100%", { slaUptimeBps: 10_001 }, "slaUptimeBps", 10_001n],
      ["reserve > 100%", { debtServiceReserveBps: 10_001 }, "debtServiceReserveBps", 10_001n],
      ["cure period = 0", { curePeriodSeconds: 0 }, "curePeriodSeconds", 0n],
      ["approval expiry in the past", { approvalExpiry: 1 }, "approvalExpiry", 1n],
      ["zero site", { site: ZeroHash }, "site", 0n],
      ["DSCR floor > 5.0x", { minDscrBps: 50_001 }, "minDscrBps", 50_001n],
      ["shortfall tolerance > 100%", { shortfallToleranceBps: 10_001 }, "shortfallToleranceBps", 10_001n],
      ["data-gap limit > 365 days", { maxGapDays: 366 }, "maxGapDays", 366n],
    ];
    for (const [name, overrides, fieldName, value] of invalid) {
      it(`reverts with LoanVaultInvalidTerms(${fieldName}) on ${name}`, async () => {
        const terms = loanTerms(b1.address, P, SITE, await now(), overrides);
        await expectRevert(
          0n,
          () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
          "LoanVaultInvalidTerms",
          [field(fieldName), value],
        );
      });
    }

    it("checks reference + cap against the 50% feed ceiling when a feed is set", async () => {
      const terms = loanTerms(b1.address, P, SITE, await now(), {
        referenceRateFeed: await f.referenceFeed.getAddress(),
        referenceRateBps: 0,
        premiumCapBps: 5_001,
      });
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
        "LoanVaultInvalidTerms",
        [field("premiumCapBps"), 5_001n],
      );
      // A feed loan accepts exactly 50% + 50%.
      await f.loanVault
        .connect(f.actors.underwriter)
        .approveLoan({ ...terms, premiumCapBps: 5_000, approvalExpiry: (await now()) + DAY });
      // The approval expiry equal to the block time is refused (`<=`).
      const t = (await now()) + 10;
      await at(BigInt(t));
      await expect(
        f.loanVault
          .connect(f.actors.underwriter)
          .approveLoan(loanTerms(b1.address, P, SITE, 0, { approvalExpiry: t })),
      )
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultInvalidTerms")
        .withArgs(field("approvalExpiry"), BigInt(t));
    });

    it("refuses a stale, non-positive, future or implausible feed answer", async () => {
      const { loanVault, actors, referenceFeed } = f;
      const feed = await referenceFeed.getAddress();
      const terms = async () => loanTerms(b1.address, P, SITE, await now(), { referenceRateFeed: feed });
      const t = BigInt(await now());
      const staleness = BigInt(2 * DAY);
      // stale: one second past the staleness bound at the tx's block time
      await referenceFeed.setRound(7, 4_300_000n, t - staleness);
      const tx = t + 5n;
      await at(tx);
      await expect(loanVault.connect(actors.underwriter).approveLoan(await terms()))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultBadReferenceRate")
        .withArgs(feed, 4_300_000n, t - staleness);
      for (const [answer, updatedAt] of [
        [0n, BigInt(await now())],
        [-1n, BigInt(await now())],
        [4_300_000n, BigInt(await now()) + 1_000n],
        [50_000_001n, BigInt(await now())], // 50.000001% rounds up to 5,001 bps > 5,000
      ]) {
        await referenceFeed.setRound(8, answer, updatedAt);
        await expectRevert(
          0n,
          async () => loanVault.connect(actors.underwriter).approveLoan(await terms()),
          "LoanVaultBadReferenceRate",
          [feed, answer, updatedAt],
        );
      }
      // exactly at the staleness bound is accepted
      const t2 = BigInt(await now()) + 10n;
      await referenceFeed.setRound(9, 5_000_000n, t2 - staleness);
      await at(t2);
      await loanVault.connect(actors.underwriter).approveLoan(await terms());
      expect((await loanVault.stateOf(1n)).referenceRateBps).to.equal(500n);
    });

    it("enforces the borrower cap at today's NAV with exact figures", async () => {
      const cap = mulDivDown(usd(NAV), 3_000n, BPS);
      const terms = loanTerms(b1.address, cap + 1n, SITE, await now(), ZERO_COUPON);
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
        "LoanVaultBorrowerCap",
        [b1.address, cap + 1n, cap],
      );
      await f.loanVault.connect(f.actors.underwriter).approveLoan({ ...terms, principal: cap });
    });

    it("enforces the site cap against the outstanding principal at the site", async () => {
      const siteCap = mulDivDown(usd(NAV), 5_000n, BPS);
      // borrower1 draws 2.6M at DAL-1 (zero coupon: NAV stays exactly 10M)
      await openLoan(f, b1, usd(2_600_000), 5_000_000, { overrides: ZERO_COUPON });
      const terms = loanTerms(b2.address, usd(2_400_000) + 1n, SITE, await now(), ZERO_COUPON);
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(terms),
        "LoanVaultSiteCap",
        [SITE_KEY, siteCap + 1n, siteCap],
      );
      // another site is unaffected
      await f.loanVault.connect(f.actors.underwriter).approveLoan({ ...terms, site: siteKey("NYC-1") });
    });
  });

  // ================================================================ cancelApproval

  describe("cancelApproval", () => {
    it("cancels an undrawn approval", async () => {
      const loanId = await approve(f, b1, P);
      await expect(f.loanVault.connect(f.actors.underwriter).cancelApproval(loanId))
        .to.emit(f.loanVault, "ApprovalCancelled")
        .withArgs(loanId);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Cancelled);
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Cancelled],
      );
    });

    it("reverts for a caller without UNDERWRITER", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(attacker).cancelApproval(loanId),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.UNDERWRITER],
      );
    });

    it("reverts for a loan that is not Approved", async () => {
      const { loanId } = await houseLoan();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(f.actors.underwriter).cancelApproval(loanId),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
      await expectRevert(
        99n,
        () => f.loanVault.connect(f.actors.underwriter).cancelApproval(99n),
        "LoanVaultBadStatus",
        [99n, LoanStatus.None],
      );
    });
  });

  // ================================================================ borrow

  describe("borrow", () => {
    it("escrows the receipts, funds the borrower and opens the loan", async () => {
      const { loanVault, susdai, usdai, receipts } = f;
      const receiptIds = await mintReceipts(f, b1, 6, COLLATERAL_USD / 6);
      const loanId = await approve(f, b1, P);
      const balance = await usdai.balanceOf(b1.address);
      const idle = await susdai.idleAssets();
      const value = usd(COLLATERAL_USD / 6) * 6n;
      const t0 = BigInt(await now()) + 10n;
      await at(t0);
      await expect(loanVault.connect(b1).borrow(loanId, receiptIds))
        .to.emit(loanVault, "LoanDrawn")
        .withArgs(loanId, b1.address, P, COUPON, value, receiptIds);
      expect(await usdai.balanceOf(b1.address)).to.equal(balance + P);
      expect(await susdai.idleAssets()).to.equal(idle - P);
      for (const id of receiptIds) expect(await receipts.ownerOf(id)).to.equal(await loanVault.getAddress());
      expect(await loanVault.receiptsOf(loanId)).to.deep.equal(receiptIds);
      const s = await loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Active);
      expect(s.principal).to.equal(P);
      expect(s.accruedAt).to.equal(t0);
      expect(s.scheduleStart).to.equal(t0);
      expect(s.couponBps).to.equal(COUPON);
      expect(s.nextPaymentIndex).to.equal(1n);
      expect(s.receiptCount).to.equal(6n);
      const agg = await loanVault.accrualState();
      expect(agg.totalPrincipal).to.equal(P);
      expect(agg.rateSum).to.equal(P * COUPON);
      expect(agg.checkpointAt).to.equal(t0);
      const exposure = await loanVault.exposureOf(b1.address, SITE_KEY);
      expect(exposure.borrowerPrincipal).to.equal(P);
      expect(exposure.sitePrincipal).to.equal(P);
      expect(await loanVault.collateralValueOf(loanId)).to.equal(value);
      expect(await loanVault.isPerforming(loanId)).to.equal(true);
    });

    it("draws at exactly the origination LTV", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, 1_000_000);
      const loanId = await approve(f, b1, usd(600_000));
      await f.loanVault.connect(b1).borrow(loanId, receiptIds);
      expect(await f.loanVault.ltvOf(loanId)).to.equal(6_000n);
    });

    it("reads a feed's reference rate at draw time", async () => {
      const feed = await f.referenceFeed.getAddress();
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P, SITE, { referenceRateFeed: feed });
      await f.referenceFeed.pushAnswer(5_000_000n);
      await expect(f.loanVault.connect(b1).borrow(loanId, receiptIds))
        .to.emit(f.loanVault, "LoanDrawn")
        .withArgs(loanId, b1.address, P, 1_100n, COLLATERAL, receiptIds);
      expect((await f.loanVault.stateOf(loanId)).referenceRateBps).to.equal(500n);
    });

    it("reverts on a stale feed at draw time", async () => {
      const feed = await f.referenceFeed.getAddress();
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P, SITE, { referenceRateFeed: feed });
      const [, answer, , updatedAt] = await f.referenceFeed.latestRoundData();
      await time.increase(2 * DAY + 1);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultBadReferenceRate",
        [feed, answer, updatedAt],
      );
    });

    it("reverts for a loan that is not Approved", async () => {
      const { loanId, receiptIds } = await houseLoan();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
      await expectRevert(99n, () => f.loanVault.connect(b1).borrow(99n, receiptIds), "LoanVaultBadStatus", [
        99n,
        LoanStatus.None,
      ]);
    });

    it("reverts for a caller other than the borrower", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b2).borrow(loanId, receiptIds),
        "LoanVaultNotBorrower",
        [loanId, b2.address],
      );
    });

    it("reverts once the borrower has lost the BORROWER role", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P);
      await f.loanVault.connect(f.actors.deployer).revokeRole(Roles.BORROWER, b1.address);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultNotAllowlisted",
        [b1.address],
      );
    });

    it("reverts after the approval expiry and works at it", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P);
      const expiry = (await f.loanVault.termsOf(loanId)).approvalExpiry;
      const snap = await hre.network.provider.send("evm_snapshot");
      await time.increaseTo(expiry);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultApprovalExpired",
        [loanId, expiry],
      );
      await hre.network.provider.send("evm_revert", [snap]);
      await at(expiry);
      await f.loanVault.connect(b1).borrow(loanId, receiptIds);
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Active);
    });

    it("reverts on no receipt and on more than 64", async () => {
      const loanId = await approve(f, b1, P);
      await expectRevert(loanId, () => f.loanVault.connect(b1).borrow(loanId, []), "LoanVaultReceiptCount", [
        0n,
        MAX_RECEIPTS,
      ]);
      const many = Array.from({ length: 65 }, () => 1n);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, many),
        "LoanVaultReceiptCount",
        [65n, MAX_RECEIPTS],
      );
    });

    it("reverts on a receipt id wider than 64 bits", async () => {
      const loanId = await approve(f, b1, P);
      const wide = 1n << 64n;
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, [wide]),
        "LoanVaultReceiptIdTooLarge",
        [wide],
      );
    });

    it("reverts on a receipt at another site", async () => {
      const [good] = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const [wrong] = await mintReceipts(f, b1, 1, COLLATERAL_USD, "NYC-1");
      const loanId = await approve(f, b1, P);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, [good, wrong]),
        "LoanVaultWrongSite",
        [wrong, siteKey("NYC-1"), SITE_KEY],
      );
    });

    it("reverts on a receipt with no collateral value (appraised at zero)", async () => {
      const [good] = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const [worthless] = await mintReceipts(f, b1, 1, 0);
      const loanId = await approve(f, b1, P);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, [good, worthless]),
        "LoanVaultWorthlessReceipt",
        [worthless],
      );
    });

    it("reverts when the principal exceeds the origination LTV", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, 1_000_000);
      const loanId = await approve(f, b1, usd(600_000) + 1n);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "LoanVaultLtvExceeded",
        [usd(600_000) + 1n, usd(1_000_000), 6_000n],
      );
    });

    it("re-checks the borrower cap at draw time", async () => {
      const cap = mulDivDown(usd(NAV), 3_000n, BPS);
      const first = await approve(f, b1, usd(2_000_000), SITE, ZERO_COUPON);
      const second = await approve(f, b1, usd(2_000_000), SITE, ZERO_COUPON);
      await f.loanVault.connect(b1).borrow(first, await mintReceipts(f, b1, 1, 4_000_000));
      const receiptIds = await mintReceipts(f, b1, 1, 4_000_000);
      await expectRevert(
        second,
        () => f.loanVault.connect(b1).borrow(second, receiptIds),
        "LoanVaultBorrowerCap",
        [b1.address, usd(4_000_000), cap],
      );
    });

    it("re-checks the site cap at draw time", async () => {
      const siteCap = mulDivDown(usd(NAV), 5_000n, BPS);
      const first = await approve(f, b1, usd(2_600_000), SITE, ZERO_COUPON);
      const second = await approve(f, b2, usd(2_500_000), SITE, ZERO_COUPON);
      await f.loanVault.connect(b1).borrow(first, await mintReceipts(f, b1, 1, 5_000_000));
      const receiptIds = await mintReceipts(f, b2, 1, 5_000_000);
      await expectRevert(
        second,
        () => f.loanVault.connect(b2).borrow(second, receiptIds),
        "LoanVaultSiteCap",
        [SITE_KEY, usd(5_100_000), siteCap],
      );
    });

    it("reverts while paused", async () => {
      const receiptIds = await mintReceipts(f, b1, 1, COLLATERAL_USD);
      const loanId = await approve(f, b1, P);
      await f.loanVault.connect(f.actors.guardian).pause();
      await expectRevert(
        loanId,
        () => f.loanVault.connect(b1).borrow(loanId, receiptIds),
        "EnforcedPause",
        [],
      );
    });
  });
});

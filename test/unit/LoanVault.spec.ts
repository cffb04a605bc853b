import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress, ZeroHash } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { approve, fundUsdai, mintReceipts, now, openLoan, stake } from "../helpers/loans";
import {
  BPS,
  INTEREST_DENOMINATOR,
  SECONDS_PER_QUARTER,
  ceilDiv,
  deployLoanVaultProxy,
  field,
  interestOf,
  min,
  mulDivDown,
  mulDivUp,
} from "../helpers/loan-unit";
import { BreachFlags, DAY, LoanStatus, loanTerms, siteKey } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";

const SITE = "DAL-1";
const SITE_KEY = siteKey(SITE);
const P = usd(1_000_000);
const COLLATERAL_USD = 2_000_000;
const COLLATERAL = usd(COLLATERAL_USD);
const COUPON = 1_030n; // 430 reference + 600 premium (house terms)
const INTERVAL = BigInt(30 * DAY);
const GRACE = BigInt(5 * DAY);
const WINDOW = BigInt(25 * DAY);
const CURE = BigInt(14 * DAY);
const NAV = 10_000_000; // staked by lender1
const HAIRCUT = 2_000n;
const MAX_RECEIPTS = 64n;
/** Zero-coupon terms: NAV does not move with time, so cap figures are exact in any block. */
/** The house late fee on `late` installments charged at once: 5% of each one's 2% principal + one interval's interest. */
const houseLateFee = (late: bigint, principal = P, coupon = COUPON) =>
  mulDivUp(late * mulDivUp(P, 200n, BPS) + late * interestOf(principal, coupon, INTERVAL), 500n, BPS);
const ZERO_COUPON = { referenceRateBps: 0, basePremiumBps: 0, premiumFloorBps: 0 };

/**
 * The deployed protocol with 10M USDai staked in sUSDai (lender1), 5M USDai for each borrower and for lender2 (a
 * third-party payer), every one of them having approved the vault, and the ORACLE role on the vault given to
 * `oracleAdmin` so tests can push coupon steps and covenant flags directly.
 */
const loanFixture = hre.deployments.createFixture(async () => {
  const fx = await deployProtocol();
  const { actors, loanVault } = fx;
  await stake(fx, actors.lender1, NAV);
  for (const account of [
    actors.borrower1,
    actors.borrower2,
    actors.borrower3,
    actors.lender2,
    actors.liquidator,
  ]) {
    await fundUsdai(fx, account, 5_000_000);
  }
  await loanVault.connect(actors.deployer).grantRole(Roles.ORACLE, actors.oracleAdmin.address);
  return fx;
});

describe("LoanVault", () => {
  let f: ProtocolFixture;
  let b1: HardhatEthersSigner, b2: HardhatEthersSigner, b3: HardhatEthersSigner;
  let oracle: HardhatEthersSigner, attacker: HardhatEthersSigner, payer: HardhatEthersSigner;

  /** Stored (time-independent) state that a reverted call must not change. */
  const reads = (loanId: bigint): Reads => ({
    state: async () => [...(await f.loanVault.stateOf(loanId))],
    terms: async () => [...(await f.loanVault.termsOf(loanId))],
    receipts: () => f.loanVault.receiptsOf(loanId),
    accrual: () => f.loanVault.accrualState(),
    exposure1: () => f.loanVault.exposureOf(b1.address, SITE_KEY),
    exposure2: () => f.loanVault.exposureOf(b2.address, SITE_KEY),
    count: () => f.loanVault.loanCount(),
    risk: () => f.loanVault.riskParams(),
    auction: () => f.loanVault.auction(),
    paused: () => f.loanVault.paused(),
    vaultUsdai: async () => f.usdai.balanceOf(await f.loanVault.getAddress()),
    b1Usdai: () => f.usdai.balanceOf(b1.address),
    payerUsdai: () => f.usdai.balanceOf(payer.address),
    idle: () => f.susdai.idleAssets(),
  });

  /** Asserts that `send` reverts with `error(args)` of `contract` (the vault by default) and changed nothing. */
  async function expectRevert(
    loanId: bigint,
    send: () => Promise<unknown>,
    error: string,
    args?: unknown[],
    contract: { interface: unknown } = f.loanVault,
  ): Promise<void> {
    const before = await snapshot(reads(loanId));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const assertion = expect(send()).to.be.revertedWithCustomError(contract as any, error);
    if (args) await assertion.withArgs(...args);
    else await assertion;
    await expectUnchanged(before, reads(loanId));
  }

  /** Opens the house loan (1M against 2M of DAL-1 collateral) and returns its id, receipts and draw time. */
  async function houseLoan(
    options: { overrides?: Parameters<typeof approve>[4]; receipts?: number; principal?: bigint } = {},
  ): Promise<{ loanId: bigint; receiptIds: bigint[]; t0: bigint }> {
    const { loanId, receiptIds } = await openLoan(f, b1, options.principal ?? P, COLLATERAL_USD, {
      overrides: options.overrides,
      receipts: options.receipts,
    });
    const t0 = (await f.loanVault.stateOf(loanId)).scheduleStart;
    return { loanId, receiptIds, t0 };
  }

  /** Sends the next transaction at exactly `t`. */
  const at = (t: bigint) => time.setNextBlockTimestamp(t);

  /** Declares a house loan in default at its exact payment default date and returns that date. */
  async function defaultHouseLoan(loanId: bigint, t0: bigint): Promise<bigint> {
    const when = t0 + INTERVAL + GRACE + WINDOW + 1n;
    await at(when);
    await f.loanVault.declareDefault(loanId);
    return when;
  }

  beforeEach(async () => {
    f = await loanFixture();
    ({
      borrower1: b1,
      borrower2: b2,
      borrower3: b3,
      oracleAdmin: oracle,
      attacker,
      lender2: payer,
    } = f.actors);
  });

  // ================================================================ initialize

  describe("initialize", () => {
    it("wires sUSDai, receipts, roles, risk parameters and the auction", async () => {
      const { loanVault, susdai, receipts, auction, usdai, actors } = f;
      expect(await loanVault.staked()).to.equal(await susdai.getAddress());
      expect(await loanVault.receipts()).to.equal(await receipts.getAddress());
      expect(await loanVault.auction()).to.equal(await auction.getAddress());
      expect(await loanVault.hasRole(Roles.DEFAULT_ADMIN, actors.deployer.address)).to.equal(true);
      const risk = await loanVault.riskParams();
      expect(risk.borrowerCapBps).to.equal(3_000n);
      expect(risk.siteCapBps).to.equal(5_000n);
      expect(risk.recoveryHaircutBps).to.equal(HAIRCUT);
      expect(risk.referenceFeedMaxStalenessSeconds).to.equal(BigInt(2 * DAY));
      // repayments go from the payer straight to sUSDai: the vault grants sUSDai no allowance
      expect(await usdai.allowance(await loanVault.getAddress(), await susdai.getAddress())).to.equal(0n);
      expect(await loanVault.loanCount()).to.equal(0n);
    });

    it("cannot be called twice", async () => {
      const risk = {
        borrowerCapBps: 1,
        siteCapBps: 1,
        recoveryHaircutBps: 0,
        referenceFeedMaxStalenessSeconds: 1,
      };
      await expectRevert(0n, () => f.loanVault.initialize(attacker.address, risk), "InvalidInitialization");
    });

    it("reverts on a zero admin and on invalid risk parameters", async () => {
      const risk = {
        borrowerCapBps: 3_000,
        siteCapBps: 5_000,
        recoveryHaircutBps: 0,
        referenceFeedMaxStalenessSeconds: DAY,
      };
      await expect(deployLoanVaultProxy(f, ZeroAddress, risk)).to.be.revertedWithCustomError(
        f.loanVault,
        "LoanVaultZeroAddress",
      );
      await expect(deployLoanVaultProxy(f, b1.address, { ...risk, borrowerCapBps: 0 }))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultInvalidParam")
        .withArgs(field("borrowerCapBps"), 0);
      const fresh = await deployLoanVaultProxy(f, b1.address, risk);
      expect(await fresh.hasRole(Roles.DEFAULT_ADMIN, b1.address)).to.equal(true);
      expect(await fresh.auction()).to.equal(ZeroAddress);
    });

    it("the implementation cannot be initialized", async () => {
      const { deployLoanVaultImplementation } = await import("../helpers/loan-unit");
      const impl = await deployLoanVaultImplementation(f);
      const risk = {
        borrowerCapBps: 1,
        siteCapBps: 1,
        recoveryHaircutBps: 0,
        referenceFeedMaxStalenessSeconds: 1,
      };
      await expect(impl.initialize(b1.address, risk)).to.be.revertedWithCustomError(
        impl,
        "InvalidInitialization",
      );
    });
  });

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

    it("before the due date, principal is a prepayment", async () => {
      const { loanId, t0 } = await houseLoan();
      const elapsed = 10n * BigInt(DAY);
      const interest = interestOf(P, COUPON, elapsed);
      await at(t0 + elapsed);
      await expect(f.loanVault.connect(payer).repay(loanId, interest + usd(5)))
        .to.emit(f.loanVault, "Repaid")
        .withArgs(loanId, payer.address, 0n, interest, 0n, usd(5));
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

    it("reverts on an overpayment with the exact amount owed", async () => {
      const { loanId, t0 } = await houseLoan();
      const elapsed = BigInt(DAY);
      const owed = P + interestOf(P, COUPON, elapsed);
      await at(t0 + elapsed);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(payer).repay(loanId, owed + 1n),
        "LoanVaultOverpayment",
        [loanId, owed + 1n, owed],
      );
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
      await f.loanVault.liquidate(loanId);
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
      const reserve = ceilDiv(principalLeft * 300n, BPS);
      const prepayment = revenue - interest - scheduled - reserve;
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
      // nothing scheduled yet: reserve target on the full principal, then the cash sweep repays it all
      const reserve = ceilDiv(P * 300n, BPS);
      const excess = revenue - interest - reserve - P;
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

  // ================================================================ default and recovery

  describe("declareDefault", () => {
    it("defaults at exactly due + grace + window + 1, impairs to min(debt, collateral after haircut + lockbox + reserve)", async () => {
      const { loanVault, susdai } = f;
      const { loanId, t0 } = await houseLoan();
      await loanVault.connect(payer).depositRevenue(loanId, usd(10)); // lockbox counts in the recovery
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
      const recovery = mulDivDown(COLLATERAL, BPS - HAIRCUT, BPS) + usd(10);
      const impaired = min(debt, recovery);
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

    it("impairs to the debt when the recovery exceeds it", async () => {
      const { loanId, t0 } = await houseLoan({ principal: usd(100_000) });
      const when = t0 + INTERVAL + GRACE + WINDOW + 1n;
      const debt = usd(100_000) + interestOf(usd(100_000), COUPON, when - t0);
      await at(when);
      await expect(f.loanVault.declareDefault(loanId))
        .to.emit(f.loanVault, "LoanDefaulted")
        .withArgs(loanId, debt, debt);
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
      await defaultHouseLoan(loanId, t0);
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
      const risk = {
        borrowerCapBps: 3_000,
        siteCapBps: 5_000,
        recoveryHaircutBps: 0,
        referenceFeedMaxStalenessSeconds: DAY,
      };
      const fresh = await deployLoanVaultProxy(f, actors.deployer.address, risk);
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

    it("works while paused", async () => {
      const { loanId, t0 } = await houseLoan();
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.guardian).pause();
      await expect(f.loanVault.liquidate(loanId)).to.emit(f.loanVault, "LoanLiquidated");
    });
  });

  describe("onAuctionSettled", () => {
    async function liquidated(principal = P): Promise<{ loanId: bigint; when: bigint; t0: bigint }> {
      const { loanId, t0 } = await houseLoan({ principal });
      const when = await defaultHouseLoan(loanId, t0);
      await f.loanVault.liquidate(loanId);
      return { loanId, when, t0 };
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
        .withArgs(loanId, price, debt, surplus, 0n);
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
        .withArgs(loanId, 0n, 0n, 0n, debt);
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
      const auctionAddress = await f.auction.getAddress();
      await hre.network.provider.send("hardhat_impersonateAccount", [auctionAddress]);
      await hre.network.provider.send("hardhat_setBalance", [auctionAddress, "0x56BC75E2D63100000"]);
      const asAuction = await hre.ethers.getSigner(auctionAddress);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(asAuction).onAuctionSettled(loanId, usd(1_000_000), b1.address),
        "LoanVaultBuyerIsBorrower",
        [loanId, b1.address],
      );
      await hre.network.provider.send("hardhat_stopImpersonatingAccount", [auctionAddress]);
    });

    it("reverts for a loan that is not Liquidating (called as the auction)", async () => {
      const { loanId } = await houseLoan();
      const auctionAddress = await f.auction.getAddress();
      await hre.network.provider.send("hardhat_impersonateAccount", [auctionAddress]);
      await hre.network.provider.send("hardhat_setBalance", [auctionAddress, "0x56BC75E2D63100000"]);
      const asAuction = await hre.ethers.getSigner(auctionAddress);
      await expectRevert(
        loanId,
        () => f.loanVault.connect(asAuction).onAuctionSettled(loanId, 0n, ZeroAddress),
        "LoanVaultBadStatus",
        [loanId, LoanStatus.Active],
      );
      await hre.network.provider.send("hardhat_stopImpersonatingAccount", [auctionAddress]);
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

  // ================================================================ governance

  describe("setRiskParams", () => {
    const good = {
      borrowerCapBps: 2_000,
      siteCapBps: 4_000,
      recoveryHaircutBps: 3_000,
      referenceFeedMaxStalenessSeconds: 7 * DAY,
    };

    it("sets the parameters and emits RiskParamsSet", async () => {
      await expect(f.loanVault.connect(f.actors.creditAdmin).setRiskParams(good))
        .to.emit(f.loanVault, "RiskParamsSet")
        .withArgs([2_000n, 4_000n, 3_000n, BigInt(7 * DAY)]);
      expect(await f.loanVault.riskParams()).to.deep.equal([2_000n, 4_000n, 3_000n, BigInt(7 * DAY)]);
    });

    it("reverts for a caller without CREDIT_ADMIN", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).setRiskParams(good),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.CREDIT_ADMIN],
      );
    });

    const bad: [Record<string, number>, string, bigint][] = [
      [{ borrowerCapBps: 0 }, "borrowerCapBps", 0n],
      [{ borrowerCapBps: 10_001 }, "borrowerCapBps", 10_001n],
      [{ siteCapBps: 0 }, "siteCapBps", 0n],
      [{ siteCapBps: 10_001 }, "siteCapBps", 10_001n],
      [{ recoveryHaircutBps: 10_001 }, "recoveryHaircutBps", 10_001n],
      [{ referenceFeedMaxStalenessSeconds: 0 }, "referenceFeedMaxStaleness", 0n],
      [{ referenceFeedMaxStalenessSeconds: 7 * DAY + 1 }, "referenceFeedMaxStaleness", BigInt(7 * DAY + 1)],
    ];
    for (const [override, name, value] of bad) {
      it(`reverts with LoanVaultInvalidParam(${name}, ${value})`, async () => {
        await expectRevert(
          0n,
          () => f.loanVault.connect(f.actors.creditAdmin).setRiskParams({ ...good, ...override }),
          "LoanVaultInvalidParam",
          [field(name), value],
        );
      });
    }
  });

  describe("setAuction", () => {
    it("sets the auction (DEFAULT_ADMIN) and emits AuctionSet", async () => {
      await expect(f.loanVault.connect(f.actors.deployer).setAuction(b3.address))
        .to.emit(f.loanVault, "AuctionSet")
        .withArgs(b3.address);
      expect(await f.loanVault.auction()).to.equal(b3.address);
    });

    it("reverts for a caller without DEFAULT_ADMIN and on the zero address", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).setAuction(b3.address),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.DEFAULT_ADMIN],
      );
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.deployer).setAuction(ZeroAddress),
        "LoanVaultZeroAddress",
        [],
      );
    });
  });

  describe("pause", () => {
    it("only PAUSER pauses and only DEFAULT_ADMIN unpauses", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).pause(),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.PAUSER],
      );
      await f.loanVault.connect(f.actors.guardian).pause();
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.guardian).unpause(),
        "AccessControlUnauthorizedAccount",
        [f.actors.guardian.address, Roles.DEFAULT_ADMIN],
      );
      await f.loanVault.connect(f.actors.deployer).unpause();
      expect(await f.loanVault.paused()).to.equal(false);
    });

    it("repay, depositRevenue, sweep, topUp, checkCovenants, coupon steps, default, liquidate and step-in still work", async () => {
      const { loanVault, actors } = f;
      const { loanId } = await houseLoan();
      const other = await houseLoan();
      await loanVault.connect(actors.guardian).pause();
      await loanVault.connect(payer).depositRevenue(loanId, usd(10));
      await loanVault.sweep(loanId);
      await loanVault.connect(payer).repay(loanId, usd(1));
      await loanVault.connect(b1).topUp(loanId, await mintReceipts(f, b1, 1, 1_000));
      await loanVault.checkCovenants(loanId);
      await loanVault.connect(oracle).applyCouponStep(loanId, 1, 100, false);
      await loanVault.connect(oracle).setCovenantBreach(loanId, 1);
      await defaultHouseLoan(other.loanId, other.t0);
      await loanVault.connect(actors.creditAdmin).stepIn(other.loanId, b2.address);
      await time.increase(INTERVAL * 3n);
      await loanVault.declareDefault(other.loanId);
      await loanVault.liquidate(other.loanId);
      await loanVault.connect(payer).repay(loanId, MaxUint256);
      await loanVault.close(loanId);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Closed);
    });
  });

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

import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { id, MaxUint256, ZeroAddress } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { fundBuyer } from "../../helpers/recovery";
import { deployBehindProxy } from "../../helpers/proxy";
import { expectUnchanged, snapshot, type Reads } from "../../helpers/state";
import { BPS } from "../../helpers/math";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import type { JuniorTranche } from "../../../typechain-types";
import {
  at,
  GRACE,
  INTERVAL,
  loadLoanVault,
  loanVaultHelpers,
  P,
  STEP_IN_WINDOW,
  ZERO_COUPON,
  type Signer,
} from "./suite";

/**
 * First-loss capital (#18) seen from the LoanVault: the junior tranche's USDai stands in front of sUSDai. While the junior
 * has USDai, a writedown or an impairment does not lower sUSDai's NAV (`loanAssets` adds back
 * `min(principal at risk, junior's USDai)`), a settlement draws the principal the recovery leaves unpaid from the junior,
 * a step-in releases the protection, and a draw must leave the junior covering the loan book at its minimum ratio.
 *
 * Loans here are zero-coupon, so NAV does not move with time and every NAV figure is exact.
 */
const REGISTRAR = id("REGISTRAR_ROLE");
const LOCKUP = 30 * DAY;
/** The house loan's collateral re-appraised at 1M: it recovers 800k after the 20% haircut, 200k of principal at risk. */
const IMPAIRED_COLLATERAL = usd(1_000_000);
const AT_RISK = usd(200_000);

describe("First-loss capital (#18): LoanVault and junior tranche", () => {
  let f: ProtocolFixture, holder: Signer, attacker: Signer;
  beforeEach(async () => {
    ({ f } = await loadLoanVault());
    holder = f.actors.lender2;
    attacker = f.actors.attacker;
  });
  const { houseLoan, defaultHouseLoan } = loanVaultHelpers(() => f);

  /** A junior tranche over the fixture's USDai, not yet wired to the vault, holding `assets` of `holder`'s. */
  async function deployJunior(assets: bigint, minCoverageBps = 0n): Promise<JuniorTranche> {
    const { deployer } = f.actors;
    const junior = await deployBehindProxy<JuniorTranche>("JuniorTranche", [
      deployer.address,
      await f.usdai.getAddress(),
      ZeroAddress,
      LOCKUP,
      minCoverageBps,
    ]);
    await junior.grantRole(Roles.LOAN_VAULT, await f.loanVault.getAddress());
    await junior.grantRole(REGISTRAR, deployer.address);
    await junior.allow(holder.address, BigInt(await time.latest()) + 10n * 365n * BigInt(DAY));
    if (assets !== 0n) {
      await f.usdai.connect(holder).approve(await junior.getAddress(), MaxUint256);
      await junior.connect(holder).deposit(assets, holder.address);
    }
    return junior;
  }

  /** `deployJunior`, then wired both ways: the vault's junior, and the junior's vault. */
  async function linkJunior(assets: bigint, minCoverageBps = 0n): Promise<JuniorTranche> {
    const junior = await deployJunior(assets, minCoverageBps);
    await f.loanVault.connect(f.actors.deployer).setJuniorTranche(await junior.getAddress());
    await junior.setLoanVault(await f.loanVault.getAddress());
    return junior;
  }

  /** The zero-coupon house loan with its collateral re-appraised at `collateral`, at the end of the grace period. */
  async function pastGrace(collateral: bigint): Promise<{ loanId: bigint; t0: bigint }> {
    const { loanId, receiptIds, t0 } = await houseLoan({ overrides: ZERO_COUPON });
    await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], collateral, 0, BPS);
    await at(t0 + INTERVAL + GRACE + 1n);
    return { loanId, t0 };
  }

  /** The zero-coupon house loan with its collateral at 1M, its first payment missed, marked past grace. */
  async function markedLoan(): Promise<{ loanId: bigint; t0: bigint }> {
    const { loanId, t0 } = await pastGrace(IMPAIRED_COLLATERAL);
    await f.loanVault.connect(f.actors.keeper).checkCovenants(loanId);
    return { loanId, t0 };
  }

  /** The principal at risk of `loanIds`, from their state (the TypeScript model of `firstLossClaim`). */
  async function atRiskOf(loanIds: bigint[]): Promise<bigint> {
    let sum = 0n;
    for (const loanId of loanIds) {
      const s = await f.loanVault.stateOf(loanId);
      if (s.status === BigInt(LoanStatus.Active)) sum += s.impairedValue;
      else if (s.status === BigInt(LoanStatus.Defaulted) || s.status === BigInt(LoanStatus.Liquidating))
        sum += s.principal > s.impairedValue ? s.principal - s.impairedValue : 0n;
    }
    return sum;
  }

  const juniorReads = (): Reads => ({
    junior: async () => [...(await f.loanVault.juniorTranche())],
    claim: () => f.loanVault.firstLossClaim(),
    nav: () => f.loanVault.loanAssets(),
  });

  describe("setJuniorTranche", () => {
    it("reads the junior's USDai and emits JuniorTrancheSet; zero removes it", async () => {
      const { deployer } = f.actors;
      const junior = await deployJunior(usd(300_000));
      await expect(f.loanVault.connect(deployer).setJuniorTranche(await junior.getAddress()))
        .to.emit(f.loanVault, "JuniorTrancheSet")
        .withArgs(await junior.getAddress(), usd(300_000));
      expect([...(await f.loanVault.juniorTranche())]).to.deep.equal([
        await junior.getAddress(),
        usd(300_000),
        0n,
      ]);
      await expect(f.loanVault.connect(deployer).setJuniorTranche(ZeroAddress))
        .to.emit(f.loanVault, "JuniorTrancheSet")
        .withArgs(ZeroAddress, 0n);
      expect([...(await f.loanVault.juniorTranche())]).to.deep.equal([ZeroAddress, 0n, 0n]);
    });

    it("is DEFAULT_ADMIN's only", async () => {
      const before = await snapshot(juniorReads());
      await expect(f.loanVault.connect(attacker).setJuniorTranche(attacker.address))
        .to.be.revertedWithCustomError(f.loanVault, "AccessControlUnauthorizedAccount")
        .withArgs(attacker.address, Roles.DEFAULT_ADMIN);
      await expectUnchanged(before, juniorReads());
    });

    it("refuses to replace a junior that protects principal at risk (LoanVaultJuniorInUse)", async () => {
      await linkJunior(usd(500_000));
      await markedLoan();
      const before = await snapshot(juniorReads());
      await expect(f.loanVault.connect(f.actors.deployer).setJuniorTranche(ZeroAddress))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultJuniorInUse")
        .withArgs(AT_RISK);
      await expectUnchanged(before, juniorReads());
    });
  });

  describe("syncJuniorAssets", () => {
    it("only the junior reports its USDai (LoanVaultNotJunior)", async () => {
      await linkJunior(usd(100_000));
      const before = await snapshot(juniorReads());
      await expect(f.loanVault.connect(attacker).syncJuniorAssets(usd(1_000_000_000)))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultNotJunior")
        .withArgs(attacker.address);
      await expectUnchanged(before, juniorReads());
    });

    it("the vault's mirror follows the junior's deposits", async () => {
      const junior = await linkJunior(usd(100_000));
      await junior.connect(holder).deposit(usd(50_000), holder.address);
      expect((await f.loanVault.juniorTranche()).assets).to.equal(usd(150_000));
      expect(await junior.trackedAssets()).to.equal(usd(150_000));
    });
  });

  describe("the mark and the default", () => {
    it("with a junior: sUSDai's NAV does not fall from the writedown or the impairment; the junior's price does", async () => {
      const junior = await linkJunior(usd(500_000));
      const { loanId, t0 } = await pastGrace(IMPAIRED_COLLATERAL);
      const nav0 = await f.susdai.totalAssets();
      await expect(f.loanVault.connect(f.actors.keeper).checkCovenants(loanId))
        .to.emit(f.loanVault, "WrittenDown")
        .withArgs(loanId, AT_RISK);
      // The writedown is principal at risk, all of it protected: NAV holds, the junior's price falls by it.
      expect(await f.loanVault.firstLossClaim()).to.equal(AT_RISK);
      expect((await f.loanVault.juniorTranche()).protected).to.equal(AT_RISK);
      expect(await f.susdai.totalAssets()).to.equal(nav0);
      expect(await junior.totalAssets()).to.equal(usd(300_000));
      expect(await f.loanVault.entryLoanAssets()).to.be.greaterThanOrEqual(await f.loanVault.loanAssets());

      await defaultHouseLoan(loanId, t0);
      const s = await f.loanVault.stateOf(loanId);
      expect(s.status).to.equal(LoanStatus.Defaulted);
      expect(await f.loanVault.firstLossClaim()).to.equal(s.principal - s.impairedValue);
      expect(await f.loanVault.firstLossClaim()).to.equal(await atRiskOf([loanId]));
      expect(await f.susdai.totalAssets()).to.equal(nav0);
    });

    it("without enough junior: sUSDai takes what the junior cannot (to the wei)", async () => {
      const junior = await linkJunior(usd(50_000));
      const { loanId, t0 } = await pastGrace(IMPAIRED_COLLATERAL);
      const nav0 = await f.susdai.totalAssets();
      await f.loanVault.connect(f.actors.keeper).checkCovenants(loanId);
      expect((await f.loanVault.juniorTranche()).protected).to.equal(usd(50_000));
      expect(await f.susdai.totalAssets()).to.equal(nav0 - (AT_RISK - usd(50_000)));
      expect(await junior.totalAssets()).to.equal(0n);
      // A wiped-out junior takes no new money.
      await expect(junior.connect(holder).deposit(usd(1), holder.address)).to.be.revertedWithCustomError(
        junior,
        "JuniorTrancheWipedOut",
      );
    });

    it("the same book without a junior: the writedown falls on sUSDai (the baseline)", async () => {
      const { loanId, t0 } = await pastGrace(IMPAIRED_COLLATERAL);
      const nav0 = await f.susdai.totalAssets();
      await f.loanVault.connect(f.actors.keeper).checkCovenants(loanId);
      // The principal at risk is booked all the same (a junior set later protects it).
      expect(await f.loanVault.firstLossClaim()).to.equal(AT_RISK);
      expect(await f.susdai.totalAssets()).to.equal(nav0 - AT_RISK);
    });

    it("a step-in releases the protection: the loan is back at its principal and the junior at its price", async () => {
      const junior = await linkJunior(usd(500_000));
      const { loanId, t0 } = await markedLoan();
      await defaultHouseLoan(loanId, t0);
      await f.loanVault.connect(f.actors.creditAdmin).stepIn(loanId, f.actors.borrower2.address);
      expect(await f.loanVault.firstLossClaim()).to.equal(0n);
      expect((await f.loanVault.juniorTranche()).protected).to.equal(0n);
      expect(await junior.totalAssets()).to.equal(usd(500_000));
    });
  });

  describe("settlement", () => {
    it("a write-off: the junior pays the unpaid principal into the settlement, sUSDai's NAV does not move", async () => {
      const junior = await linkJunior(usd(2_000_000));
      const { loanId, receiptIds, t0 } = await houseLoan({ overrides: ZERO_COUPON });
      await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], 0n, 0, BPS);
      const when = await defaultHouseLoan(loanId, t0);
      const s = await f.loanVault.stateOf(loanId);
      const held = s.lockbox + s.reserve;
      expect(s.impairedValue).to.equal(held);
      const nav0 = await f.susdai.totalAssets();
      const juniorUsdai = await f.usdai.balanceOf(await junior.getAddress());
      await at(when + STEP_IN_WINDOW + 1n);
      const cover = s.principal - held;
      await expect(f.loanVault.connect(f.actors.creditAdmin).writeOff(loanId))
        .to.emit(f.loanVault, "LossAbsorbed")
        .withArgs(loanId, cover, s.interest)
        .and.to.emit(junior, "CoverDrawn")
        .withArgs(cover, cover, usd(2_000_000) - cover);
      expect(await f.susdai.totalAssets()).to.equal(nav0);
      expect(await f.usdai.balanceOf(await junior.getAddress())).to.equal(juniorUsdai - cover);
      expect([...(await f.loanVault.juniorTranche())]).to.deep.equal([
        await junior.getAddress(),
        usd(2_000_000) - cover,
        0n,
      ]);
      expect(await f.loanVault.firstLossClaim()).to.equal(0n);
      expect(await f.susdai.cumulativeLosses()).to.equal(s.interest);
    });

    it("an auction below the principal: the junior pays the rest; NAV does not move", async () => {
      const junior = await linkJunior(usd(2_000_000));
      const { loanId, t0 } = await markedLoan();
      const when = await defaultHouseLoan(loanId, t0);
      await at(when + STEP_IN_WINDOW + 1n);
      await f.loanVault.liquidate(loanId);
      const s = await f.loanVault.stateOf(loanId);
      const auctionId = await f.auction.auctionOfLoan(loanId);
      const a = await f.auction.auctionOf(auctionId);
      const price = a.floorPrice;
      await fundBuyer(f, f.actors.liquidator.address, price);
      await at(BigInt(a.startedAt) + BigInt(a.duration));
      const nav0 = await f.susdai.totalAssets();
      const held = s.lockbox + s.reserve;
      const repaid = price + held;
      expect(repaid).to.be.lessThan(s.principal);
      const cover = s.principal - repaid;
      await expect(f.auction.connect(f.actors.liquidator).buy(auctionId, price))
        .to.emit(f.loanVault, "LossAbsorbed")
        .withArgs(loanId, cover, s.interest);
      // NAV carried the loan at its impaired value plus the junior's protection, its principal; it received exactly that.
      expect(await f.susdai.totalAssets()).to.equal(nav0);
      expect(await f.susdai.unvestedGains()).to.equal(0n);
      expect(await junior.trackedAssets()).to.equal(usd(2_000_000) - cover);
    });

    it("an exhausted junior pays what it has; the rest is sUSDai's loss (booked at the default, not again)", async () => {
      const junior = await linkJunior(usd(100_000));
      const { loanId, receiptIds, t0 } = await houseLoan({ overrides: ZERO_COUPON });
      await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], 0n, 0, BPS);
      const navBefore = await f.susdai.totalAssets();
      const when = await defaultHouseLoan(loanId, t0);
      const s = await f.loanVault.stateOf(loanId);
      const held = s.lockbox + s.reserve;
      // At the default: the principal not carried, less the junior's 100k.
      expect(await f.susdai.totalAssets()).to.equal(navBefore - (s.principal - held - usd(100_000)));
      const nav0 = await f.susdai.totalAssets();
      await at(when + STEP_IN_WINDOW + 1n);
      await expect(f.loanVault.connect(f.actors.creditAdmin).writeOff(loanId))
        .to.emit(f.loanVault, "LossAbsorbed")
        .withArgs(loanId, usd(100_000), s.principal + s.interest - held - usd(100_000));
      expect(await f.susdai.totalAssets()).to.equal(nav0);
      expect(await junior.trackedAssets()).to.equal(0n);
    });

    it("a junior that pays less cover than the vault's mirror of it promised: the settlement is refused (LoanVaultCoverShort)", async () => {
      const { deployer, creditAdmin } = f.actors;
      const mock = await hre.ethers.deployContract("ShortCoverJunior");
      await f.loanVault.connect(deployer).setJuniorTranche(await mock.getAddress());
      await mock.report(await f.loanVault.getAddress(), usd(2_000_000));
      const { loanId, receiptIds, t0 } = await houseLoan({ overrides: ZERO_COUPON });
      await f.receipts.connect(f.actors.appraiser).appraise(receiptIds[0], 0n, 0, BPS);
      const when = await defaultHouseLoan(loanId, t0);
      const s = await f.loanVault.stateOf(loanId);
      const cover = s.principal - s.lockbox - s.reserve;
      await at(when + STEP_IN_WINDOW + 1n);
      const before = await snapshot({
        ...juniorReads(),
        state: async () => [...(await f.loanVault.stateOf(loanId))],
        idle: () => f.susdai.idleAssets(),
      });
      await expect(f.loanVault.connect(creditAdmin).writeOff(loanId))
        .to.be.revertedWithCustomError(f.loanVault, "LoanVaultCoverShort")
        .withArgs(cover, cover - 1n);
      await expectUnchanged(before, {
        ...juniorReads(),
        state: async () => [...(await f.loanVault.stateOf(loanId))],
        idle: () => f.susdai.idleAssets(),
      });
    });

    it("a recovery above the principal draws nothing from the junior", async () => {
      const junior = await linkJunior(usd(500_000));
      const { loanId, t0 } = await houseLoan({ overrides: ZERO_COUPON });
      const when = await defaultHouseLoan(loanId, t0);
      await at(when + STEP_IN_WINDOW + 1n);
      await f.loanVault.liquidate(loanId);
      const auctionId = await f.auction.auctionOfLoan(loanId);
      const a = await f.auction.auctionOf(auctionId);
      const price = await f.auction.price(auctionId);
      await fundBuyer(f, f.actors.liquidator.address, price + usd(1));
      expect(price).to.be.greaterThan(P);
      await expect(f.auction.connect(f.actors.liquidator).buy(auctionId, a.startPrice)).not.to.emit(
        f.loanVault,
        "LossAbsorbed",
      );
      expect(await junior.trackedAssets()).to.equal(usd(500_000));
    });
  });

  describe("coverage at the draw", () => {
    it("a draw that would leave the junior under its minimum ratio reverts (JuniorTrancheCoverageBreached)", async () => {
      const junior = await linkJunior(usd(50_000), 1_000n);
      const book = await f.loanVault.loanBook();
      await expect(houseLoan({ overrides: ZERO_COUPON }))
        .to.be.revertedWithCustomError(junior, "JuniorTrancheCoverageBreached")
        .withArgs(usd(50_000), book + P, 1_000n);
      expect(await f.loanVault.loanBook()).to.equal(book);
    });

    it("a draw the junior covers goes through", async () => {
      await linkJunior(usd(100_000), 1_000n);
      const { loanId } = await houseLoan({ overrides: ZERO_COUPON });
      expect((await f.loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Active);
      expect(await f.loanVault.loanBook()).to.equal(P);
    });
  });
});

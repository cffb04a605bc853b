import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress } from "ethers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { mintReceipts } from "../../helpers/loans";
import { deployLoanVaultProxy, field } from "../../helpers/loan-unit";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import { FRESH_VAULT_RISK, HAIRCUT, INTERVAL, loadLoanVault, loanVaultHelpers, type Signer } from "./suite";

/** Initialization, the credit admin's risk parameters and auction, and the pauser's switch. */
describe("LoanVault administration: initialize, risk parameters, auction, pause", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, b3: Signer, oracle: Signer, attacker: Signer, payer: Signer;
  beforeEach(async () => ({ f, b1, b2, b3, oracle, attacker, payer } = await loadLoanVault()));
  const { expectRevert, houseLoan, defaultHouseLoan } = loanVaultHelpers(() => f);

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
        ...FRESH_VAULT_RISK,
        borrowerCapBps: 1,
        siteCapBps: 1,
        referenceFeedMaxStalenessSeconds: 1,
      };
      await expectRevert(0n, () => f.loanVault.initialize(attacker.address, risk), "InvalidInitialization");
    });

    it("reverts on a zero admin and on invalid risk parameters", async () => {
      const risk = FRESH_VAULT_RISK;
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
      const { deployLoanVaultImplementation } = await import("../../helpers/loan-unit");
      const impl = await deployLoanVaultImplementation(f);
      const risk = {
        ...FRESH_VAULT_RISK,
        borrowerCapBps: 1,
        siteCapBps: 1,
        referenceFeedMaxStalenessSeconds: 1,
      };
      await expect(impl.initialize(b1.address, risk)).to.be.revertedWithCustomError(
        impl,
        "InvalidInitialization",
      );
    });
  });

  // ================================================================ governance

  describe("setRiskParams", () => {
    const good = {
      borrowerCapBps: 2_000,
      siteCapBps: 4_000,
      recoveryHaircutBps: 3_000,
      referenceFeedMaxStalenessSeconds: 7 * DAY,
      materialityThreshold: 10n * 10n ** 18n,
      stepInWindowSeconds: 2 * DAY,
    };

    it("sets the parameters and emits RiskParamsSet", async () => {
      await expect(f.loanVault.connect(f.actors.creditAdmin).setRiskParams(good))
        .to.emit(f.loanVault, "RiskParamsSet")
        .withArgs([2_000n, 4_000n, 3_000n, BigInt(7 * DAY), usd(10), BigInt(2 * DAY)]);
      expect(await f.loanVault.riskParams()).to.deep.equal([
        2_000n,
        4_000n,
        3_000n,
        BigInt(7 * DAY),
        usd(10),
        BigInt(2 * DAY),
      ]);
    });

    it("reverts for a caller without CREDIT_ADMIN", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).setRiskParams(good),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.CREDIT_ADMIN],
      );
    });

    const bad: [Record<string, number | bigint>, string, bigint][] = [
      [{ borrowerCapBps: 0 }, "borrowerCapBps", 0n],
      [{ borrowerCapBps: 10_001 }, "borrowerCapBps", 10_001n],
      [{ siteCapBps: 0 }, "siteCapBps", 0n],
      [{ siteCapBps: 10_001 }, "siteCapBps", 10_001n],
      [{ recoveryHaircutBps: 10_001 }, "recoveryHaircutBps", 10_001n],
      [{ referenceFeedMaxStalenessSeconds: 0 }, "referenceFeedMaxStaleness", 0n],
      [{ referenceFeedMaxStalenessSeconds: 7 * DAY + 1 }, "referenceFeedMaxStaleness", BigInt(7 * DAY + 1)],
      [{ stepInWindowSeconds: 30 * DAY + 1 }, "stepInWindowSeconds", BigInt(30 * DAY + 1)],
      [{ materialityThreshold: usd(1_000) + 1n }, "materialityThreshold", usd(1_000) + 1n],
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

  describe("setUtilizationOracle", () => {
    it("sets the oracle told of step-ins (DEFAULT_ADMIN) and emits UtilizationOracleSet", async () => {
      expect(await f.loanVault.utilizationOracle()).to.equal(await f.oracle.getAddress()); // linked at deploy
      await expect(f.loanVault.connect(f.actors.deployer).setUtilizationOracle(b3.address))
        .to.emit(f.loanVault, "UtilizationOracleSet")
        .withArgs(b3.address);
      expect(await f.loanVault.utilizationOracle()).to.equal(b3.address);
    });

    it("reverts for a caller without DEFAULT_ADMIN", async () => {
      await expectRevert(
        0n,
        () => f.loanVault.connect(attacker).setUtilizationOracle(b3.address),
        "AccessControlUnauthorizedAccount",
        [attacker.address, Roles.DEFAULT_ADMIN],
      );
      expect(await f.loanVault.utilizationOracle()).to.equal(await f.oracle.getAddress());
    });

    it("zero unlinks the oracle (one that refuses the call would block every step-in)", async () => {
      await expect(f.loanVault.connect(f.actors.deployer).setUtilizationOracle(ZeroAddress))
        .to.emit(f.loanVault, "UtilizationOracleSet")
        .withArgs(ZeroAddress);
      expect(await f.loanVault.utilizationOracle()).to.equal(ZeroAddress);
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
      await loanVault.connect(f.actors.creditAdmin).liquidate(other.loanId);
      await loanVault.connect(payer).repay(loanId, MaxUint256);
      await loanVault.close(loanId);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Closed);
    });
  });
});

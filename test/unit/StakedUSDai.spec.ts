import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { MaxUint256, ZeroAddress, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol } from "../fixtures/protocol";
import { stakingFixture, type StakingFixture } from "../fixtures/staking";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { deployBehindProxy } from "../helpers/proxy";
import { ceilDiv } from "../helpers/math";
import { Roles } from "../../helpers/roles";
import type { MockLoanVaultForStaking, ReentrantToken, StakedUSDai } from "../../typechain-types";
import { usd, usdc } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";
const DAY = 24 * 3600;
const COOLDOWN = 7 * DAY;
const UINT128_MAX = 2n ** 128n - 1n;

/** The arguments of `receiveLoanCashflow`: principal, interest, gain, loss. */
type Cashflow = [bigint, bigint, bigint, bigint];
/** Each component alone, then all four: one of each, for the role checks. */
const CASHFLOWS: Cashflow[] = [
  [1n, 0n, 0n, 0n],
  [0n, 1n, 0n, 0n],
  [0n, 0n, 1n, 0n],
  [0n, 0n, 0n, 1n],
  [1n, 1n, 1n, 1n],
];
const ZERO_CASHFLOW: Cashflow = [0n, 0n, 0n, 0n];

type Fixture = StakingFixture;

describe("StakedUSDai", () => {
  let f: Fixture;
  let lender1: HardhatEthersSigner, lender2: HardhatEthersSigner, lender3: HardhatEthersSigner;

  const reads = (): Reads => ({
    supply: () => f.susdai.totalSupply(),
    idle: () => f.susdai.idleAssets(),
    lender1: () => f.susdai.balanceOf(lender1.address),
    lender2: () => f.susdai.balanceOf(lender2.address),
    custody: () => f.susdai.balanceOf(f.susdai.target),
    pending: () => f.susdai.totalPendingShares(),
    claimable: () => f.susdai.totalClaimableAssets(),
    queue: () => f.susdai.queueBounds(),
    lender1Usdai: () => f.usdai.balanceOf(lender1.address),
  });

  /** The names of sUSDai's own events in a transaction, in emission order. */
  const susdaiEvents = async (tx: ContractTransactionResponse): Promise<string[]> => {
    const receipt = await tx.wait();
    const self = String(f.susdai.target).toLowerCase();
    return receipt!.logs
      .filter((log) => log.address.toLowerCase() === self)
      .map((log) => f.susdai.interface.parseLog(log)!.name);
  };

  beforeEach(async () => {
    f = await stakingFixture();
    ({ lender1, lender2, lender3 } = f.actors);
  });

  describe("initialize", () => {
    it("sets metadata, asset, parameters and roles", async () => {
      const { susdai, usdai, actors, loans } = f;
      expect(await susdai.name()).to.equal("Staked USDai");
      expect(await susdai.symbol()).to.equal("sUSDai");
      expect(await susdai.decimals()).to.equal(18n);
      expect(await susdai.asset()).to.equal(usdai.target);
      expect(await susdai.share()).to.equal(susdai.target);
      expect(await susdai.loanVault()).to.equal(loans.target);
      expect(await susdai.params()).to.deep.equal([BigInt(COOLDOWN), usd(10), 10n, BigInt(DAY)]);
      expect(await susdai.hasRole(Roles.BLACKLIST, actors.blacklister.address)).to.equal(true);
    });

    it("cannot be called twice", async () => {
      const { susdai, usdai, actors } = f;
      await expect(
        susdai.initialize(actors.attacker.address, usdai.target, ZeroAddress, 0, 0, 0, 1),
      ).to.be.revertedWithCustomError(susdai, "InvalidInitialization");
    });

    it("reverts on zero addresses and out-of-range parameters", async () => {
      const { susdai, usdai, actors } = f;
      const admin = actors.deployer.address;
      await expect(
        deployBehindProxy("StakedUSDai", [ZeroAddress, usdai.target, ZeroAddress, 0, 0, 0, 1]),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
      await expect(deployBehindProxy("StakedUSDai", [admin, usdai.target, ZeroAddress, 91 * DAY, 0, 0, 1]))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
        .withArgs(91 * DAY, 90 * DAY);
      await expect(deployBehindProxy("StakedUSDai", [admin, usdai.target, ZeroAddress, 0, 31 * DAY, 0, 1]))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
        .withArgs(31 * DAY, 30 * DAY);
      await expect(deployBehindProxy("StakedUSDai", [admin, usdai.target, ZeroAddress, 0, 0, 0, 0]))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
        .withArgs(0, 100);
    });
  });

  describe("deposit", () => {
    it("mints shares at the current price and tracks idle USDai", async () => {
      const { susdai } = f;
      await expect(susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender2.address))
        .to.emit(susdai, "Deposit")
        .withArgs(lender1.address, lender2.address, usd(1_000), usd(1_000));
      expect(await susdai.balanceOf(lender2.address)).to.equal(usd(1_000));
      expect(await susdai.idleAssets()).to.equal(usd(1_000));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
    });

    it("enforces the minimum-shares bound", async () => {
      const { susdai } = f;
      const before = await snapshot(reads());
      await expect(
        susdai.connect(lender1)["deposit(uint256,address,uint256)"](usd(10), lender1.address, usd(10) + 1n),
      )
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiSlippageShares")
        .withArgs(usd(10), usd(10) + 1n);
      await expectUnchanged(before, reads());
      await susdai.connect(lender1)["deposit(uint256,address,uint256)"](usd(10), lender1.address, usd(10));
    });

    it("reverts on zero, while paused, and for blacklisted callers or receivers", async () => {
      const { susdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        susdai.connect(lender1)["deposit(uint256,address)"](0n, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await susdai.connect(actors.blacklister).setBlacklisted(lender2.address, true);
      await expect(susdai.connect(lender2)["deposit(uint256,address)"](usd(1), lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
        .withArgs(lender2.address);
      // a blacklisted receiver has a max deposit of zero (ERC-4626), which is the revert it gets
      await expect(susdai.connect(lender1)["deposit(uint256,address)"](usd(1), lender2.address))
        .to.be.revertedWithCustomError(susdai, "ERC4626ExceededMaxDeposit")
        .withArgs(lender2.address, usd(1), 0n);
      expect(await susdai.maxDeposit(lender2.address)).to.equal(0n);
      await susdai.connect(actors.guardian).pause();
      expect(await susdai.maxDeposit(lender1.address)).to.equal(0n);
      await expect(
        susdai.connect(lender1)["deposit(uint256,address)"](usd(1), lender1.address),
      ).to.be.revertedWithCustomError(susdai, "EnforcedPause");
      await expectUnchanged(before, reads());
    });

    it("a donation does not move the price", async () => {
      const { susdai, usdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender2).transfer(susdai.target, usd(500_000));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
      expect(await susdai.convertToAssets(usd(1))).to.equal(usd(1));
    });
  });

  describe("mint", () => {
    it("pulls the assets for exact shares and enforces the maximum-assets bound", async () => {
      const { susdai, loans } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.accrue(usd(100)); // price 1.1
      const cost = await susdai.previewMint(usd(10));
      expect(cost).to.be.greaterThan(usd(11) - 10n);
      await expect(
        susdai.connect(lender2)["mint(uint256,address,uint256)"](usd(10), lender2.address, cost - 1n),
      )
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiSlippageAssets")
        .withArgs(cost, cost - 1n);
      await susdai.connect(lender2)["mint(uint256,address,uint256)"](usd(10), lender2.address, cost);
      expect(await susdai.balanceOf(lender2.address)).to.equal(usd(10));
    });

    it("reverts while paused", async () => {
      const { susdai, actors } = f;
      await susdai.connect(actors.guardian).pause();
      expect(await susdai.maxMint(lender1.address)).to.equal(0n);
      await expect(
        susdai.connect(lender1)["mint(uint256,address)"](usd(1), lender1.address),
      ).to.be.revertedWithCustomError(susdai, "EnforcedPause");
    });
  });

  describe("requestRedeem", () => {
    beforeEach(async () => {
      await f.susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
    });

    it("moves the shares into custody and appends a FIFO entry", async () => {
      const { susdai } = f;
      await expect(susdai.connect(lender1).requestRedeem(usd(100), lender2.address, lender1.address))
        .to.emit(susdai, "RedeemRequest")
        .withArgs(lender2.address, lender1.address, 0n, lender1.address, usd(100));
      expect(await susdai.balanceOf(susdai.target)).to.equal(usd(100));
      expect(await susdai.pendingRedeemRequest(0n, lender2.address)).to.equal(usd(100));
      expect(await susdai.claimableRedeemRequest(0n, lender2.address)).to.equal(0n);
      const request = await susdai.redemptionRequest(0n);
      expect(request.controller).to.equal(lender2.address);
      expect(request.shares).to.equal(usd(100));
      expect(request.claimableAt).to.equal(BigInt((await time.latest()) + COOLDOWN));
      expect(await susdai.queueBounds()).to.deep.equal([0n, 1n]);
    });

    it("lets an operator or an allowance holder request for the owner", async () => {
      const { susdai } = f;
      await expect(susdai.connect(lender2).requestRedeem(usd(50), lender2.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "ERC20InsufficientAllowance")
        .withArgs(lender2.address, 0n, usd(50));
      await susdai.connect(lender1).approve(lender2.address, usd(50));
      await susdai.connect(lender2).requestRedeem(usd(50), lender2.address, lender1.address);
      expect(await susdai.allowance(lender1.address, lender2.address)).to.equal(0n);
      await expect(susdai.connect(lender1).setOperator(lender3.address, true))
        .to.emit(susdai, "OperatorSet")
        .withArgs(lender1.address, lender3.address, true);
      await susdai.connect(lender3).requestRedeem(usd(50), lender1.address, lender1.address);
      expect(await susdai.pendingRedeemRequest(0n, lender1.address)).to.equal(usd(50));
    });

    it("reverts on bad input and changes nothing", async () => {
      const { susdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        susdai.connect(lender1).requestRedeem(0n, lender1.address, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expect(
        susdai.connect(lender1).requestRedeem(usd(1), ZeroAddress, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
      await expect(susdai.connect(lender1).requestRedeem(usd(9), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiRequestTooSmall")
        .withArgs(usd(9), usd(9), usd(10));
      await expect(susdai.connect(lender1).requestRedeem(usd(1_001), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "ERC20InsufficientBalance")
        .withArgs(lender1.address, usd(1_000), usd(1_001));
      await susdai.connect(actors.blacklister).setBlacklisted(lender2.address, true);
      await expect(susdai.connect(lender1).requestRedeem(usd(10), lender2.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
        .withArgs(lender2.address);
      await susdai.connect(actors.guardian).pauseRedemptionRequests();
      await expect(
        susdai.connect(lender1).requestRedeem(usd(10), lender1.address, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiRedemptionRequestsPaused");
      await expectUnchanged(before, reads());
    });

    it("caps a controller's active requests", async () => {
      const { susdai } = f;
      for (let i = 0; i < 10; i++)
        await susdai.connect(lender1).requestRedeem(usd(10), lender1.address, lender1.address);
      const before = await snapshot(reads());
      await expect(susdai.connect(lender1).requestRedeem(usd(10), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiTooManyRequests")
        .withArgs(lender1.address, 10n);
      await expectUnchanged(before, reads());
    });
  });

  describe("serviceRedemptions", () => {
    beforeEach(async () => {
      const { susdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await susdai.connect(lender2)["deposit(uint256,address)"](usd(1_000), lender2.address);
      await susdai.connect(lender1).requestRedeem(usd(400), lender1.address, lender1.address);
      await susdai.connect(lender2).requestRedeem(usd(300), lender2.address, lender2.address);
    });

    it("services nothing before the cooldown", async () => {
      const { susdai } = f;
      const before = await snapshot(reads());
      expect(await susdai.serviceRedemptions.staticCall(10n)).to.deep.equal([0n, 0n, 0n]);
      await susdai.serviceRedemptions(10n);
      await expectUnchanged(before, reads());
    });

    it("after the cooldown fills in FIFO order, priced at service time, bounded by maxRequests", async () => {
      const { susdai, loans } = f;
      await time.increase(COOLDOWN);
      await loans.accrue(usd(200)); // NAV 2,200 over 2,000 shares: 1.1
      await expect(susdai.connect(lender3).serviceRedemptions(1n))
        .to.emit(susdai, "RedeemRequestServiced")
        .withArgs(0n, lender1.address, usd(400), (usd(400) * (usd(2_200) + 1n)) / (usd(2_000) + 1n));
      expect(await susdai.queueBounds()).to.deep.equal([1n, 2n]);
      expect(await susdai.pendingRedeemRequest(0n, lender1.address)).to.equal(0n);
      expect(await susdai.claimableRedeemRequest(0n, lender1.address)).to.equal(usd(400));
      expect(await susdai.pendingRedeemRequest(0n, lender2.address)).to.equal(usd(300));
      // the remaining holders' price is unchanged by the fill
      expect(await susdai.convertToAssets(usd(1))).to.be.closeTo(usd(1.1), 1n);
    });

    it("fills partially when idle USDai is short, and the rest later", async () => {
      const { susdai, usdai, loans, actors } = f;
      await time.increase(COOLDOWN);
      // idle 2,000 less the 700 owed to the queue: 1,300 can be lent
      await loans.fund(actors.borrower1.address, usd(1_300));
      await loans.accrue(usd(600)); // NAV 700 idle + 1,900 loans = 2,600 over 2,000 shares: 1.3
      // lender1's 400 shares are worth 520, lender2's 300 are worth 390: 910 owed, 700 idle
      const [serviced, shares, assets] = await susdai.serviceRedemptions.staticCall(10n);
      await expect(susdai.serviceRedemptions(10n)).to.emit(susdai, "RedeemRequestServiced");
      expect(serviced).to.equal(1n);
      expect(await susdai.claimableRedeemRequest(0n, lender1.address)).to.equal(usd(400));
      const lender2Filled = await susdai.claimableRedeemRequest(0n, lender2.address);
      expect(lender2Filled).to.be.closeTo((usd(180) * 10n) / 13n, usd(0.000001));
      expect(shares).to.equal(usd(400) + lender2Filled);
      expect(assets).to.be.closeTo(usd(700), usd(0.000001));
      expect(await susdai.idleAssets()).to.be.lessThan(usd(0.000001));
      expect((await susdai.redemptionRequest(1n)).shares).to.equal(usd(300) - lender2Filled);
      expect(await susdai.pendingRedeemRequest(0n, lender2.address)).to.equal(usd(300) - lender2Filled);
      // the borrower repays; the rest of the queue is serviced
      await usdai.connect(lender3).transfer(loans.target, usd(1_900));
      await loans.repay(usd(1_300), usd(600));
      await susdai.serviceRedemptions(10n);
      expect(await susdai.pendingRedeemRequest(0n, lender2.address)).to.equal(0n);
      expect(await susdai.claimableRedeemRequest(0n, lender2.address)).to.equal(usd(300));
      expect(await susdai.queueBounds()).to.deep.equal([2n, 2n]);
      expect((await susdai.controllerState(lender2.address)).activeRequests).to.equal(0n);
    });

    it("reserves the queue's value from loan funding", async () => {
      const { susdai, loans, actors } = f;
      // idle 2,000, pending 700 shares at 1.0
      await expect(loans.fund(actors.borrower1.address, usd(1_300) + 1n))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiInsufficientIdle")
        .withArgs(usd(1_300) + 1n, usd(1_300));
    });
  });

  describe("redeem / withdraw (claims)", () => {
    beforeEach(async () => {
      const { susdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await susdai.connect(lender1).requestRedeem(usd(400), lender1.address, lender1.address);
      await time.increase(COOLDOWN);
      await susdai.serviceRedemptions(1n);
    });

    it("pays the serviced assets pro rata", async () => {
      const { susdai, usdai } = f;
      const balance = await usdai.balanceOf(lender2.address);
      await expect(susdai.connect(lender1).redeem(usd(100), lender2.address, lender1.address))
        .to.emit(susdai, "Withdraw")
        .withArgs(lender1.address, lender2.address, lender1.address, usd(100), usd(100));
      expect(await usdai.balanceOf(lender2.address)).to.equal(balance + usd(100));
      await susdai.connect(lender1).withdraw(usd(300), lender1.address, lender1.address);
      expect(await susdai.maxRedeem(lender1.address)).to.equal(0n);
      expect(await susdai.totalClaimableAssets()).to.equal(0n);
    });

    it("lets an operator claim, and refuses anyone else", async () => {
      const { susdai } = f;
      await expect(susdai.connect(lender2).redeem(usd(1), lender2.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiNotOperator")
        .withArgs(lender2.address, lender1.address);
      await susdai.connect(lender1).setOperator(lender2.address, true);
      await susdai.connect(lender2).redeem(usd(1), lender2.address, lender1.address);
      expect(await susdai.isOperator(lender1.address, lender2.address)).to.equal(true);
    });

    it("reverts beyond the claimable and on bad input, changing nothing", async () => {
      const { susdai, actors } = f;
      const before = await snapshot(reads());
      await expect(susdai.connect(lender1).redeem(usd(401), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiExceedsClaimable")
        .withArgs(lender1.address, usd(401), usd(400));
      await expect(susdai.connect(lender1).withdraw(usd(401), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiExceedsClaimable")
        .withArgs(lender1.address, usd(401), usd(400));
      await expect(
        susdai.connect(lender1).redeem(0n, lender1.address, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expect(
        susdai.connect(lender1).redeem(usd(1), ZeroAddress, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
      await susdai.connect(actors.blacklister).setBlacklisted(lender1.address, true);
      expect(await susdai.maxRedeem(lender1.address)).to.equal(0n);
      expect(await susdai.maxWithdraw(lender1.address)).to.equal(0n);
      await expect(susdai.connect(lender1).redeem(usd(1), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
        .withArgs(lender1.address);
      await expectUnchanged(before, reads());
    });

    it("keeps working while paused", async () => {
      const { susdai, actors } = f;
      await susdai.connect(actors.guardian).pause();
      await susdai.connect(lender1).redeem(usd(400), lender1.address, lender1.address);
      expect(await susdai.maxRedeem(lender1.address)).to.equal(0n);
    });
  });

  describe("previewRedeem / previewWithdraw", () => {
    it("revert as ERC-7540 requires", async () => {
      const { susdai } = f;
      await expect(susdai.previewRedeem(1n)).to.be.revertedWithCustomError(susdai, "StakedUSDaiAsyncPreview");
      await expect(susdai.previewWithdraw(1n)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiAsyncPreview",
      );
    });
  });

  describe("vesting of lump gains", () => {
    it("a USDai harvest vests linearly: no jump, full after the period", async () => {
      const { susdai, usdai, tbill, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(10_000), lender1.address);
      await usdai.connect(actors.reserveManager).allocate(usdc(1_000_000));
      await time.increase(365 * DAY);
      await tbill.setApyBps(0);
      const priceBefore = await susdai.convertToAssets(usd(1));
      await expect(usdai.harvest()).to.emit(susdai, "GainVesting");
      const unvested = await susdai.unvestedGains();
      expect(unvested).to.be.greaterThan(usd(40_000));
      expect(await susdai.convertToAssets(usd(1))).to.be.closeTo(priceBefore, 10n ** 12n);
      await time.increase(DAY / 2);
      const mid = await susdai.convertToAssets(usd(1));
      expect(mid).to.be.greaterThan(priceBefore);
      await time.increase(DAY);
      expect(await susdai.unvestedGains()).to.equal(0n);
      expect(await susdai.totalAssets()).to.equal(usd(10_000) + unvested);
    });

    it("refuses a harvest callback from anyone but USDai", async () => {
      const { susdai } = f;
      await expect(susdai.connect(lender1).onUSDaiHarvest(1n))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiNotUSDai")
        .withArgs(lender1.address);
    });

    it("a gain from the loan vault vests too", async () => {
      const { susdai, usdai, loans } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender2).transfer(loans.target, usd(100));
      await loans.gain(usd(100));
      expect(await susdai.unvestedGains()).to.equal(usd(100));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
    });
  });

  describe("loan vault hooks", () => {
    it("are restricted to LOAN_VAULT", async () => {
      const { susdai, actors } = f;
      const attacker = susdai.connect(actors.attacker);
      const calls = [
        () => attacker.fundLoan(actors.attacker.address, 1n),
        ...CASHFLOWS.map((c) => () => attacker.receiveLoanCashflow(...c)),
      ];
      for (const call of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
          .withArgs(actors.attacker.address, Roles.LOAN_VAULT);
      }
    });

    it("a realized loss moves the price by exactly the loss", async () => {
      const { susdai, loans, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.fund(actors.borrower1.address, usd(500));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
      await expect(loans.writeOff(usd(100)))
        .to.emit(susdai, "LossRecorded")
        .withArgs(usd(100), usd(100));
      expect(await susdai.totalAssets()).to.equal(usd(900));
      expect(await susdai.cumulativeLosses()).to.equal(usd(100));
    });

    it("reject zero amounts and addresses", async () => {
      const { susdai, actors } = f;
      await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.deployer.address);
      const vault = susdai.connect(actors.deployer);
      await expect(vault.fundLoan(lender1.address, 0n)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiZeroAmount",
      );
      await expect(vault.fundLoan(ZeroAddress, 1n)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiZeroAddress",
      );
      await expect(vault.receiveLoanCashflow(0n, 0n, 0n, 0n)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiZeroAmount",
      );
    });
  });

  describe("receiveLoanCashflow", () => {
    /** Everything a cash flow can move: sUSDai's books, NAV, the double's book, and both USDai balances. */
    const flowReads = (): Reads => ({
      idle: () => f.susdai.idleAssets(),
      unvested: () => f.susdai.unvestedGains(),
      losses: () => f.susdai.cumulativeLosses(),
      totalAssets: () => f.susdai.totalAssets(),
      supply: () => f.susdai.totalSupply(),
      loanAssets: () => f.loans.loanAssets(),
      vaultUsdai: () => f.usdai.balanceOf(f.susdai.target),
      loansUsdai: () => f.usdai.balanceOf(f.loans.target),
    });
    const flow = async (): Promise<Record<string, bigint>> =>
      (await snapshot(flowReads())) as Record<string, bigint>;

    /** Timestamp of the next block, pinned, so a vesting end is exact. */
    const pinNext = async (after = 10): Promise<bigint> => {
      const at = BigInt((await time.latest()) + after);
      await time.setNextBlockTimestamp(at);
      return at;
    };

    beforeEach(async () => {
      const { susdai, usdai, loans, actors } = f;
      // NAV 1,060: 400 idle + a 600 loan that has accrued 60; the double holds 1,000 USDai to push.
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.fund(actors.borrower1.address, usd(600));
      await loans.accrue(usd(60));
      await usdai.connect(lender3).transfer(loans.target, usd(1_000));
    });

    it("principal alone: the pushed USDai becomes idle, the book shrinks, NAV does not move", async () => {
      const { susdai, loans } = f;
      const before = await flow();
      const tx = await loans.repay(usd(600), 0n);
      await expect(tx).to.emit(susdai, "RepaymentReceived").withArgs(usd(600), 0n);
      expect(await susdaiEvents(tx)).to.deep.equal(["RepaymentReceived"]);
      expect(await flow()).to.deep.equal({
        ...before,
        idle: before.idle + usd(600),
        loanAssets: before.loanAssets - usd(600),
        vaultUsdai: before.vaultUsdai + usd(600),
        loansUsdai: before.loansUsdai - usd(600),
      });
      expect(before.totalAssets).to.equal(usd(1_060));
    });

    it("interest alone: the same, reported as interest", async () => {
      const { susdai, loans } = f;
      const before = await flow();
      const tx = await loans.repay(0n, usd(60));
      await expect(tx).to.emit(susdai, "RepaymentReceived").withArgs(0n, usd(60));
      expect(await susdaiEvents(tx)).to.deep.equal(["RepaymentReceived"]);
      expect(await flow()).to.deep.equal({
        ...before,
        idle: before.idle + usd(60),
        loanAssets: before.loanAssets - usd(60),
        vaultUsdai: before.vaultUsdai + usd(60),
        loansUsdai: before.loansUsdai - usd(60),
      });
    });

    it("gain alone: idle at once, NAV over the vesting period, stacked on what is still unvested", async () => {
      const { susdai, loans } = f;
      const before = await flow();
      const t0 = await pinNext();
      const tx = await loans.gain(usd(50));
      await expect(tx)
        .to.emit(susdai, "GainVesting")
        .withArgs(usd(50), usd(50), t0 + BigInt(DAY));
      expect(await susdaiEvents(tx)).to.deep.equal(["GainVesting"]);
      expect(await flow()).to.deep.equal({
        ...before,
        idle: before.idle + usd(50),
        unvested: usd(50),
        vaultUsdai: before.vaultUsdai + usd(50),
        loansUsdai: before.loansUsdai - usd(50),
      });
      // a quarter in, 37.5 of the first gain is unvested; a second gain waits for the first to finish (its schedule is
      // untouched), then vests over a full period
      const t1 = t0 + BigInt(DAY / 4);
      await time.setNextBlockTimestamp(t1);
      await expect(loans.gain(usd(30)))
        .to.emit(susdai, "GainVesting")
        .withArgs(usd(30), usd(67.5), t0 + BigInt(2 * DAY));
      expect(await susdai.totalAssets()).to.equal(before.totalAssets + usd(12.5));
      await time.increaseTo(t0 + BigInt(DAY));
      expect(await susdai.unvestedGains()).to.equal(usd(30));
      expect(await susdai.totalAssets()).to.equal(before.totalAssets + usd(50));
      await time.increaseTo(t0 + BigInt(DAY + DAY / 2));
      expect(await susdai.unvestedGains()).to.equal(usd(15));
      await time.increaseTo(t0 + BigInt(2 * DAY));
      expect(await susdai.unvestedGains()).to.equal(0n);
      expect(await susdai.totalAssets()).to.equal(before.totalAssets + usd(80));
      expect(await susdai.idleAssets()).to.equal(before.idle + usd(80));
    });

    it("loss alone: recorded cumulatively, idle and balances untouched, NAV down by exactly the loss", async () => {
      const { susdai, loans } = f;
      const before = await flow();
      const tx = await loans.writeOff(usd(100));
      await expect(tx).to.emit(susdai, "LossRecorded").withArgs(usd(100), usd(100));
      expect(await susdaiEvents(tx)).to.deep.equal(["LossRecorded"]);
      expect(await flow()).to.deep.equal({
        ...before,
        losses: usd(100),
        totalAssets: before.totalAssets - usd(100),
        loanAssets: before.loanAssets - usd(100),
      });
      await expect(loans.writeOff(usd(20)))
        .to.emit(susdai, "LossRecorded")
        .withArgs(usd(20), usd(120));
      expect(await susdai.cumulativeLosses()).to.equal(usd(120));
    });

    it("all four at once: idle, vesting and cumulative losses exactly, events in order", async () => {
      const { susdai, usdai, loans } = f;
      const [principal, interest, gain, loss] = [usd(300), usd(45), usd(12), usd(7)];
      // the vault pushes principal + interest + gain first, then books the four in one call
      await usdai.connect(lender3).transfer(susdai.target, principal + interest + gain);
      const before = await flow();
      const t = await pinNext();
      const tx = await loans.book(principal, interest, gain, loss);
      await expect(tx)
        .to.emit(susdai, "RepaymentReceived")
        .withArgs(principal, interest)
        .and.to.emit(susdai, "GainVesting")
        .withArgs(gain, gain, t + BigInt(DAY))
        .and.to.emit(susdai, "LossRecorded")
        .withArgs(loss, loss);
      expect(await susdaiEvents(tx)).to.deep.equal(["RepaymentReceived", "GainVesting", "LossRecorded"]);
      // The double's book() leaves its own loanAssets() alone (the real vault takes principal, interest and the
      // loss out of it in the same transaction), so NAV here rises by the repaid amount; the gain is unvested.
      expect(await flow()).to.deep.equal({
        ...before,
        idle: before.idle + principal + interest + gain,
        unvested: gain,
        losses: loss,
        totalAssets: before.totalAssets + principal + interest,
      });
      expect(before.vaultUsdai).to.equal(usd(400) + principal + interest + gain);
      await time.increaseTo(t + BigInt(DAY));
      expect(await susdai.totalAssets()).to.equal(before.totalAssets + principal + interest + gain);
    });

    it("trusts the loan vault: an unfunded call books USDai that never arrived (the trust boundary)", async () => {
      // sUSDai does not check its balance: it trusts LOAN_VAULT to have pushed the USDai, as it trusts
      // loanAssets() for NAV. A vault that books without paying inflates idle and NAV; only the token itself then
      // stops sUSDai paying out USDai it does not hold.
      const { susdai, usdai, loans, actors } = f;
      const before = await flow();
      const t = await pinNext();
      await expect(loans.book(usd(500), 0n, usd(20), 0n))
        .to.emit(susdai, "RepaymentReceived")
        .withArgs(usd(500), 0n)
        .and.to.emit(susdai, "GainVesting")
        .withArgs(usd(20), usd(20), t + BigInt(DAY));
      const after = await flow();
      expect(after).to.deep.equal({
        ...before,
        idle: before.idle + usd(520),
        unvested: usd(20),
        totalAssets: before.totalAssets + usd(500),
      });
      expect(after.idle - after.vaultUsdai).to.equal(usd(520));
      // once vested, all 920 of idle is lendable on paper; the transfer fails on the 400 actually held
      await time.increaseTo(t + BigInt(DAY));
      expect(await susdai.totalAssets()).to.equal(before.totalAssets + usd(520));
      const stuck = await snapshot(fullReads());
      await expect(loans.fund(actors.borrower1.address, usd(920)))
        .to.be.revertedWithCustomError(usdai, "ERC20InsufficientBalance")
        .withArgs(susdai.target, usd(400), usd(920));
      await expectUnchanged(stuck, fullReads());
    });

    it("all zero is refused with StakedUSDaiZeroAmount, changing nothing", async () => {
      const { susdai, loans, actors } = f;
      await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.deployer.address);
      const before = await snapshot(fullReads());
      await expect(loans.book(0n, 0n, 0n, 0n)).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expect(
        susdai.connect(actors.deployer).receiveLoanCashflow(0n, 0n, 0n, 0n),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expectUnchanged(before, fullReads());
    });

    it("needs the LOAN_VAULT role, not the loanVault() pointer, checked before the amounts", async () => {
      const { susdai, loans, actors } = f;
      const before = await snapshot(fullReads());
      for (const who of [actors.attacker, actors.deployer, lender1, actors.borrower1]) {
        for (const c of [...CASHFLOWS, ZERO_CASHFLOW]) {
          await expect(susdai.connect(who).receiveLoanCashflow(...c))
            .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
            .withArgs(who.address, Roles.LOAN_VAULT);
        }
      }
      // the vault NAV reads from, once its role is revoked, is refused like anyone else
      await susdai.connect(actors.deployer).revokeRole(Roles.LOAN_VAULT, loans.target);
      expect(await susdai.loanVault()).to.equal(loans.target);
      await expect(loans.repay(usd(1), 0n))
        .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
        .withArgs(loans.target, Roles.LOAN_VAULT);
      await expect(loans.book(0n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
        .withArgs(loans.target, Roles.LOAN_VAULT);
      await expectUnchanged(before, fullReads());
    });
  });

  describe("governance", () => {
    it("setLoanVault refuses to detach a vault with loans outstanding", async () => {
      const { susdai, loans, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.fund(actors.borrower1.address, usd(100));
      await expect(susdai.connect(actors.deployer).setLoanVault(ZeroAddress))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiLoanVaultInUse")
        .withArgs(usd(100));
      expect(await susdai.loanVault()).to.equal(loans.target);
    });

    it("parameter setters are governance-only and range-checked", async () => {
      const { susdai, actors } = f;
      await expect(susdai.connect(actors.attacker).setRedemptionParams(0, 0, 1))
        .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.DEFAULT_ADMIN);
      await expect(susdai.connect(actors.deployer).setRedemptionParams(DAY, usd(1), 5))
        .to.emit(susdai, "RedemptionParamsSet")
        .withArgs(DAY, usd(1), 5);
      await expect(susdai.connect(actors.deployer).setVestingPeriod(31 * DAY))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
        .withArgs(31 * DAY, 30 * DAY);
      await expect(susdai.connect(actors.deployer).setVestingPeriod(2 * DAY))
        .to.emit(susdai, "VestingPeriodSet")
        .withArgs(2 * DAY);
      await expect(susdai.connect(actors.attacker).setBlacklisted(lender1.address, true))
        .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.BLACKLIST);
    });

    it("blacklisting stops share transfers both ways", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(10), lender1.address);
      await expect(susdai.connect(actors.blacklister).setBlacklisted(lender2.address, true))
        .to.emit(susdai, "BlacklistSet")
        .withArgs(lender2.address, true);
      await expect(susdai.connect(lender1).transfer(lender2.address, 1n))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
        .withArgs(lender2.address);
      await expect(
        susdai.connect(actors.blacklister).setBlacklisted(ZeroAddress, true),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
    });
  });

  /** Every piece of state a hook or setter could touch, for the "state unchanged after a revert" checks. */
  const fullReads = (): Reads => ({
    ...reads(),
    totalAssets: () => f.susdai.totalAssets(),
    unvested: () => f.susdai.unvestedGains(),
    losses: () => f.susdai.cumulativeLosses(),
    params: () => f.susdai.params(),
    loanVault: () => f.susdai.loanVault(),
    loanAssets: () => f.loans.loanAssets(),
    vaultUsdai: () => f.usdai.balanceOf(f.susdai.target),
    borrowerUsdai: () => f.usdai.balanceOf(f.actors.borrower1.address),
    lender1State: () => f.susdai.controllerState(lender1.address),
    lender2State: () => f.susdai.controllerState(lender2.address),
  });

  describe("revert branches (exact error, arguments, state unchanged)", () => {
    it("initialize refuses a zero asset", async () => {
      const { susdai, actors } = f;
      await expect(
        deployBehindProxy("StakedUSDai", [actors.deployer.address, ZeroAddress, ZeroAddress, 0, 0, 0, 1]),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
    });

    it("setOperator refuses the zero address", async () => {
      const { susdai } = f;
      await susdai.connect(lender1).setOperator(lender2.address, true);
      const operatorReads: Reads = {
        ...reads(),
        zero: () => susdai.isOperator(lender1.address, ZeroAddress),
        lender2: () => susdai.isOperator(lender1.address, lender2.address),
      };
      const before = await snapshot(operatorReads);
      await expect(susdai.connect(lender1).setOperator(ZeroAddress, true)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiZeroAddress",
      );
      await expect(susdai.connect(lender1).setOperator(ZeroAddress, false)).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiZeroAddress",
      );
      await expectUnchanged(before, operatorReads);
      // revoking works and is reported
      await expect(susdai.connect(lender1).setOperator(lender2.address, false))
        .to.emit(susdai, "OperatorSet")
        .withArgs(lender1.address, lender2.address, false);
      expect(await susdai.isOperator(lender1.address, lender2.address)).to.equal(false);
    });

    it("a deposit too small to mint a share at a price above 1 reverts", async () => {
      const { susdai, loans } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.accrue(usd(100)); // price 1.1: 1 wei buys 0 shares
      expect(await susdai.previewDeposit(1n)).to.equal(0n);
      const before = await snapshot(fullReads());
      await expect(
        susdai.connect(lender2)["deposit(uint256,address)"](1n, lender2.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expect(
        susdai.connect(lender2)["mint(uint256,address)"](0n, lender2.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
      await expectUnchanged(before, fullReads());
    });

    describe("StakedUSDaiAmountOverflow (uint128 packing)", () => {
      it("setRedemptionParams refuses a minimum request that does not fit 128 bits", async () => {
        const { susdai, actors } = f;
        const before = await snapshot(fullReads());
        await expect(susdai.connect(actors.deployer).setRedemptionParams(0, UINT128_MAX + 1n, 1))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
        await expectUnchanged(before, fullReads());
        await susdai.connect(actors.deployer).setRedemptionParams(0, UINT128_MAX, 1);
        expect((await susdai.params())[1]).to.equal(UINT128_MAX);
      });

      it("receiveLoanCashflow refuses to push cumulative losses past 128 bits, rolling the whole call back", async () => {
        const { susdai, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.deployer.address);
        const vault = susdai.connect(actors.deployer);
        await expect(vault.receiveLoanCashflow(0n, 0n, 0n, UINT128_MAX + 1n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
        await vault.receiveLoanCashflow(0n, 0n, 0n, UINT128_MAX - 1n);
        const before = await snapshot(fullReads());
        await expect(vault.receiveLoanCashflow(0n, 0n, 0n, 2n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
        // the repayment and the gain before the loss fit, and are rolled back with it
        await expect(vault.receiveLoanCashflow(usd(1), usd(1), usd(1), 2n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
        await expectUnchanged(before, fullReads());
        await expect(vault.receiveLoanCashflow(0n, 0n, 0n, 1n))
          .to.emit(susdai, "LossRecorded")
          .withArgs(1n, UINT128_MAX);
        expect(await susdai.cumulativeLosses()).to.equal(UINT128_MAX);
      });

      it("receiveLoanCashflow refuses to push idle past 128 bits, with nothing booked", async () => {
        const { susdai, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.deployer.address);
        const vault = susdai.connect(actors.deployer);
        const room = UINT128_MAX - usd(1_000);
        const before = await snapshot(fullReads());
        const cases: [Cashflow, bigint][] = [
          [[room, 1n, 0n, 0n], UINT128_MAX + 1n],
          [[0n, room + 1n, 0n, 0n], UINT128_MAX + 1n],
          [[0n, 0n, room + 1n, 0n], UINT128_MAX + 1n],
          // the repayment fits; the gain on top of it does not, and takes the repayment down with it
          [[room - 5n, 5n, 1n, 0n], UINT128_MAX + 1n],
          [[room, 0n, room, 1n], UINT128_MAX + room],
        ];
        for (const [c, value] of cases) {
          await expect(vault.receiveLoanCashflow(...c), c.join(","))
            .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
            .withArgs(value);
        }
        await expectUnchanged(before, fullReads());
        // exactly to the brim is fine
        await expect(vault.receiveLoanCashflow(room - 5n, 5n, 0n, 0n))
          .to.emit(susdai, "RepaymentReceived")
          .withArgs(room - 5n, 5n);
        expect(await susdai.idleAssets()).to.equal(UINT128_MAX);
      });

      it("receiveLoanCashflow refuses a gain that fits idle but not the waiting bucket", async () => {
        // Idle lent out while gains vest and wait: a new gain can fit idle yet push the waiting bucket past 128 bits.
        const { susdai, usdai, loans, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await usdai.connect(lender2).transfer(loans.target, usd(150));
        const t0 = BigInt((await time.latest()) + 10);
        await time.setNextBlockTimestamp(t0);
        await loans.gain(usd(100));
        await time.setNextBlockTimestamp(t0 + 1n);
        await loans.gain(usd(50)); // waits for the first
        await time.setNextBlockTimestamp(t0 + 2n);
        await loans.fund(actors.borrower1.address, usd(1_150)); // idle to zero; 100 vesting, 50 waiting
        expect(await susdai.idleAssets()).to.equal(0n);
        const t = t0 + 10n;
        const unvested = ceilDiv(usd(100) * (BigInt(DAY) - 10n), BigInt(DAY)) + usd(50);
        const amount = UINT128_MAX - usd(50) + 1n; // idle 0 + amount fits; waiting 50 + amount is 2^128
        const { unvested: _u, totalAssets: _t, ...timeless } = fullReads();
        const before = await snapshot(timeless);
        await time.setNextBlockTimestamp(t);
        await expect(loans.book(0n, 0n, amount, 0n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
        await expectUnchanged(before, timeless);
        // the schedule of the first gain is untouched
        expect(await susdai.unvestedGains()).to.equal(unvested);
      });

      it("receiveLoanCashflow sums past 256 bits panic before anything is booked", async () => {
        const { susdai, loans } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        const before = await snapshot(fullReads());
        await expect(loans.book(MaxUint256, 1n, 0n, 0n)).to.be.revertedWithPanic(0x11);
        await expect(loans.book(0n, 0n, MaxUint256, 1n)).to.be.revertedWithPanic(0x11);
        await expectUnchanged(before, fullReads());
      });

      it("requestRedeem refuses a share amount that does not fit 128 bits (reachable after a near-total loss)", async () => {
        const { susdai, loans, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(100), lender1.address);
        await loans.fund(actors.borrower1.address, usd(100));
        await loans.writeOff(usd(100) - 1n); // NAV 1 wei over 100e18 shares
        // Such shares are worth dust, far below the 10 USDai minimum: lift it to reach the packing check.
        await susdai.connect(actors.deployer).setRedemptionParams(COOLDOWN, 0, 10);
        await susdai.connect(lender2)["deposit(uint256,address)"](usd(10), lender2.address);
        const shares = await susdai.balanceOf(lender2.address);
        expect(shares).to.equal((usd(10) * (usd(100) + 1n)) / 2n);
        expect(shares).to.be.greaterThan(UINT128_MAX);
        const before = await snapshot(fullReads());
        await expect(susdai.connect(lender2).requestRedeem(shares, lender2.address, lender2.address))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiAmountOverflow")
          .withArgs(shares);
        await expectUnchanged(before, fullReads());
        // a request that fits is fine
        await susdai.connect(lender2).requestRedeem(UINT128_MAX, lender2.address, lender2.address);
        expect(await susdai.pendingRedeemRequest(0n, lender2.address)).to.equal(UINT128_MAX);
      });
    });

    describe("parameter setters out of range", () => {
      it("setRedemptionParams: cooldown above 90 days, zero or more than 100 active requests", async () => {
        const { susdai, actors } = f;
        const gov = susdai.connect(actors.deployer);
        const before = await snapshot(fullReads());
        await expect(gov.setRedemptionParams(90 * DAY + 1, 0, 1))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
          .withArgs(90 * DAY + 1, 90 * DAY);
        await expect(gov.setRedemptionParams(0, 0, 0))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
          .withArgs(0, 100);
        await expect(gov.setRedemptionParams(0, 0, 101))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
          .withArgs(101, 100);
        await expectUnchanged(before, fullReads());
        // the bounds themselves are allowed
        await expect(gov.setRedemptionParams(90 * DAY, 0, 100))
          .to.emit(susdai, "RedemptionParamsSet")
          .withArgs(90 * DAY, 0, 100);
        expect(await susdai.params()).to.deep.equal([BigInt(90 * DAY), 0n, 100n, BigInt(DAY)]);
      });

      it("setVestingPeriod: above 30 days, and governance only", async () => {
        const { susdai, actors } = f;
        const before = await snapshot(fullReads());
        await expect(susdai.connect(actors.deployer).setVestingPeriod(30 * DAY + 1))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiParamOutOfRange")
          .withArgs(30 * DAY + 1, 30 * DAY);
        await expect(susdai.connect(actors.attacker).setVestingPeriod(DAY))
          .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
          .withArgs(actors.attacker.address, Roles.DEFAULT_ADMIN);
        await expectUnchanged(before, fullReads());
        await susdai.connect(actors.deployer).setVestingPeriod(30 * DAY);
        expect((await susdai.params())[3]).to.equal(BigInt(30 * DAY));
        await susdai.connect(actors.deployer).setVestingPeriod(0);
        expect((await susdai.params())[3]).to.equal(0n);
      });
    });

    describe("setLoanVault", () => {
      it("is governance-only", async () => {
        const { susdai, actors } = f;
        const before = await snapshot(fullReads());
        await expect(susdai.connect(actors.attacker).setLoanVault(actors.attacker.address))
          .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
          .withArgs(actors.attacker.address, Roles.DEFAULT_ADMIN);
        await expectUnchanged(before, fullReads());
      });

      it("replaces a vault that reports no loans, and NAV is idle alone without one", async () => {
        const { susdai, loans, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await loans.fund(actors.borrower1.address, usd(100));
        await loans.writeOff(usd(100)); // book back to zero
        const next = await hre.ethers.deployContract("MockLoanVaultForStaking", [susdai.target]);
        await expect(susdai.connect(actors.deployer).setLoanVault(next.target))
          .to.emit(susdai, "LoanVaultSet")
          .withArgs(next.target);
        expect(await susdai.loanVault()).to.equal(next.target);
        await susdai.connect(actors.deployer).setLoanVault(ZeroAddress);
        expect(await susdai.loanVault()).to.equal(ZeroAddress);
        expect(await susdai.totalAssets()).to.equal(usd(900));
        // and a vault can be attached again from zero
        await susdai.connect(actors.deployer).setLoanVault(loans.target);
        expect(await susdai.loanVault()).to.equal(loans.target);
      });
    });

    describe("loan vault hooks", () => {
      beforeEach(async () => {
        const { susdai } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await susdai.connect(lender2)["deposit(uint256,address)"](usd(1_000), lender2.address);
        await susdai.connect(lender1).requestRedeem(usd(500), lender1.address, lender1.address);
      });

      it("every hook refuses a caller without LOAN_VAULT, changing nothing", async () => {
        const { susdai, actors } = f;
        const before = await snapshot(fullReads());
        for (const who of [actors.attacker, actors.deployer, lender1]) {
          const caller = susdai.connect(who);
          for (const call of [
            () => caller.fundLoan(actors.borrower1.address, usd(1)),
            ...CASHFLOWS.map((c) => () => caller.receiveLoanCashflow(...c)),
          ]) {
            await expect(call())
              .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
              .withArgs(who.address, Roles.LOAN_VAULT);
          }
        }
        await expectUnchanged(before, fullReads());
      });

      it("zero amounts and a zero borrower are refused, changing nothing", async () => {
        const { susdai, actors } = f;
        await susdai.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.deployer.address);
        const vault = susdai.connect(actors.deployer);
        const before = await snapshot(fullReads());
        for (const call of [
          () => vault.fundLoan(actors.borrower1.address, 0n),
          () => vault.fundLoan(ZeroAddress, 0n),
          () => vault.receiveLoanCashflow(...ZERO_CASHFLOW),
        ]) {
          await expect(call()).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
        }
        await expect(vault.fundLoan(ZeroAddress, usd(1))).to.be.revertedWithCustomError(
          susdai,
          "StakedUSDaiZeroAddress",
        );
        await expectUnchanged(before, fullReads());
      });

      it("fundLoan refuses more than the idle USDai the queue is not owed, to the wei", async () => {
        const { susdai, loans, actors } = f;
        // idle 2,000; the queue is owed 500 shares at 1.0 (rounded up): 1,500 is available
        const before = await snapshot(fullReads());
        await expect(loans.fund(actors.borrower1.address, usd(1_500) + 1n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiInsufficientIdle")
          .withArgs(usd(1_500) + 1n, usd(1_500));
        await expectUnchanged(before, fullReads());
        await expect(loans.fund(actors.borrower1.address, usd(1_500)))
          .to.emit(susdai, "LoanFunded")
          .withArgs(actors.borrower1.address, usd(1_500));
        expect(await susdai.idleAssets()).to.equal(usd(500));
        // interest accrues: the queue's 500 shares are now worth more than the 500 idle, so nothing is available
        await loans.accrue(usd(200));
        const owed = await susdai.convertToAssets(usd(500));
        expect(owed).to.be.greaterThan(usd(500));
        const after = await snapshot(fullReads());
        await expect(loans.fund(actors.borrower1.address, 1n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiInsufficientIdle")
          .withArgs(1n, 0n);
        await expectUnchanged(after, fullReads());
      });

      it("fundLoan with no idle at all reverts with zero available", async () => {
        const { susdai, loans, actors } = f;
        await time.increase(COOLDOWN);
        await susdai.serviceRedemptions(1n); // 500 moves to claimable; 1,500 idle left, nothing owed
        await loans.fund(actors.borrower1.address, usd(1_500));
        expect(await susdai.idleAssets()).to.equal(0n);
        const before = await snapshot(fullReads());
        await expect(loans.fund(actors.borrower1.address, 1n))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiInsufficientIdle")
          .withArgs(1n, 0n);
        await expectUnchanged(before, fullReads());
        // the claimable USDai is not lendable and still pays out
        await susdai.connect(lender1).redeem(usd(500), lender1.address, lender1.address);
      });

      it("principal-only then interest-only repayments arrive by push while the queue waits", async () => {
        const { susdai, usdai, loans, actors } = f;
        await loans.fund(actors.borrower1.address, usd(1_000));
        await loans.accrue(usd(50));
        await usdai.connect(lender3).transfer(loans.target, usd(1_050));
        expect(await usdai.balanceOf(susdai.target)).to.equal(usd(1_000));
        await expect(loans.repay(usd(1_000), 0n))
          .to.emit(susdai, "RepaymentReceived")
          .withArgs(usd(1_000), 0n)
          .and.to.emit(usdai, "Transfer")
          .withArgs(loans.target, susdai.target, usd(1_000));
        await expect(loans.repay(0n, usd(50)))
          .to.emit(susdai, "RepaymentReceived")
          .withArgs(0n, usd(50))
          .and.to.emit(usdai, "Transfer")
          .withArgs(loans.target, susdai.target, usd(50));
        expect(await susdai.idleAssets()).to.equal(usd(2_050));
        expect(await usdai.balanceOf(susdai.target)).to.equal(usd(2_050));
        expect(await usdai.balanceOf(loans.target)).to.equal(0n);
        expect(await loans.loanAssets()).to.equal(0n);
        // sUSDai pulls nothing: the double never approved it
        expect(await usdai.allowance(loans.target, susdai.target)).to.equal(0n);
        expect(await susdai.totalPendingShares()).to.equal(usd(500));
      });
    });

    describe("lump gains into a (nearly) empty vault", () => {
      it("a USDai harvest is not credited while fewer than 1e18 shares exist (regression)", async () => {
        const { susdai, usdai, reserve, actors } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1) - 1n, lender1.address);
        await reserve.mint(actors.attacker.address, usdc(1_000));
        await reserve.connect(actors.attacker).transfer(usdai.target, usdc(1_000));
        const before = await snapshot(fullReads());
        await expect(usdai.harvest()).to.not.emit(susdai, "GainVesting");
        // the USDai arrived but is an untracked balance, like a donation: neither idle nor NAV moved
        const { vaultUsdai, ...rest } = before;
        const { vaultUsdai: vaultAfter, ...restAfter } = await snapshot(fullReads());
        expect(vaultAfter).to.equal((vaultUsdai as bigint) + usd(1_000));
        expect(restAfter).to.deep.equal(rest);
        await time.increase(DAY);
        expect(await susdai.convertToAssets(usd(1))).to.equal(usd(1));
        // at exactly 1e18 shares the next gain vests as usual
        await susdai.connect(lender1)["deposit(uint256,address)"](1n, lender1.address);
        await reserve.mint(actors.attacker.address, usdc(1));
        await reserve.connect(actors.attacker).transfer(usdai.target, usdc(1));
        await expect(usdai.harvest()).to.emit(susdai, "GainVesting");
        expect(await susdai.unvestedGains()).to.equal(usd(1));
      });

      it("a gain from the loan vault is not credited into an empty vault either", async () => {
        const { susdai, usdai, loans } = f;
        await usdai.connect(lender2).transfer(loans.target, usd(100));
        await expect(loans.gain(usd(100))).to.not.emit(susdai, "GainVesting");
        expect(await usdai.balanceOf(susdai.target)).to.equal(usd(100));
        expect(await susdai.idleAssets()).to.equal(0n);
        expect(await susdai.totalAssets()).to.equal(0n);
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        expect(await susdai.balanceOf(lender1.address)).to.equal(usd(1_000));
      });

      it("a cash flow into an empty vault books the repayment and the loss, and leaves the gain untracked", async () => {
        const { susdai, usdai, loans } = f;
        const [principal, interest, gain, loss] = [usd(70), usd(5), usd(3), usd(2)];
        await usdai.connect(lender3).transfer(susdai.target, principal + interest + gain);
        expect(await susdai.totalSupply()).to.equal(0n);
        const tx = await loans.book(principal, interest, gain, loss);
        await expect(tx)
          .to.emit(susdai, "RepaymentReceived")
          .withArgs(principal, interest)
          .and.to.emit(susdai, "LossRecorded")
          .withArgs(loss, loss);
        expect(await susdaiEvents(tx)).to.deep.equal(["RepaymentReceived", "LossRecorded"]);
        expect(await susdai.idleAssets()).to.equal(principal + interest);
        expect(await susdai.unvestedGains()).to.equal(0n);
        expect(await susdai.cumulativeLosses()).to.equal(loss);
        expect(await usdai.balanceOf(susdai.target)).to.equal(principal + interest + gain);
      });
    });

    describe("claims", () => {
      beforeEach(async () => {
        const { susdai, loans } = f;
        await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
        await susdai.connect(lender1).requestRedeem(usd(300), lender1.address, lender1.address);
        await loans.accrue(usd(100)); // price 1.1 at service
        await time.increase(COOLDOWN);
        await susdai.serviceRedemptions(1n);
      });

      it("a partial withdraw burns claimable shares pro rata, rounding up", async () => {
        const { susdai } = f;
        const state = await susdai.controllerState(lender1.address);
        expect(await susdai.maxWithdraw(lender1.address)).to.equal(state.claimableAssets);
        expect(await susdai.maxRedeem(lender1.address)).to.equal(state.claimableShares);
        const assets = usd(100);
        const num = state.claimableShares * assets;
        const shares = (num + state.claimableAssets - 1n) / state.claimableAssets;
        await expect(susdai.connect(lender1).withdraw(assets, lender2.address, lender1.address))
          .to.emit(susdai, "Withdraw")
          .withArgs(lender1.address, lender2.address, lender1.address, assets, shares);
        const after = await susdai.controllerState(lender1.address);
        expect(after.claimableShares).to.equal(state.claimableShares - shares);
        expect(after.claimableAssets).to.equal(state.claimableAssets - assets);
        // a partial redeem pays pro rata, rounding down, and the rest clears exactly
        const paid = (after.claimableAssets * usd(50)) / after.claimableShares;
        await expect(susdai.connect(lender1).redeem(usd(50), lender1.address, lender1.address))
          .to.emit(susdai, "Withdraw")
          .withArgs(lender1.address, lender1.address, lender1.address, paid, usd(50));
        const last = await susdai.controllerState(lender1.address);
        await susdai.connect(lender1).withdraw(last.claimableAssets, lender1.address, lender1.address);
        expect(await susdai.controllerState(lender1.address)).to.deep.equal([0n, 0n, 0n, 0n]);
        expect(await susdai.totalClaimableAssets()).to.equal(0n);
      });

      it("withdraw refuses zero, a zero receiver, a non-operator and blacklisted parties, changing nothing", async () => {
        const { susdai, actors } = f;
        const before = await snapshot(fullReads());
        await expect(
          susdai.connect(lender1).withdraw(0n, lender1.address, lender1.address),
        ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
        await expect(
          susdai.connect(lender1).withdraw(1n, ZeroAddress, lender1.address),
        ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAddress");
        await expect(susdai.connect(lender2).withdraw(1n, lender2.address, lender1.address))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiNotOperator")
          .withArgs(lender2.address, lender1.address);
        await susdai.connect(lender1).setOperator(lender2.address, true);
        expect(await susdai.isBlacklisted(lender3.address)).to.equal(false);
        await susdai.connect(actors.blacklister).setBlacklisted(lender3.address, true);
        expect(await susdai.isBlacklisted(lender3.address)).to.equal(true);
        await expect(susdai.connect(lender2).withdraw(1n, lender3.address, lender1.address))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
          .withArgs(lender3.address);
        await susdai.connect(actors.blacklister).setBlacklisted(lender2.address, true);
        await expect(susdai.connect(lender2).redeem(1n, lender1.address, lender1.address))
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiBlacklisted")
          .withArgs(lender2.address);
        await expectUnchanged(before, fullReads());
      });
    });

    it("serviceRedemptions stops at a dust idle balance that cannot fill one share, changing nothing", async () => {
      const { susdai, loans, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await susdai.connect(lender2)["deposit(uint256,address)"](usd(1_000), lender2.address);
      await susdai.connect(lender1).requestRedeem(usd(400), lender1.address, lender1.address);
      await susdai.connect(lender2).requestRedeem(usd(300), lender2.address, lender2.address);
      await loans.fund(actors.borrower1.address, usd(1_300)); // everything not owed to the queue
      await loans.accrue(usd(1_000)); // price 1.5: the 700 idle no longer covers the queue
      await time.increase(COOLDOWN);
      await susdai.serviceRedemptions(10n); // lender1 in full, lender2 partially, idle down to dust
      const idle = await susdai.idleAssets();
      expect(idle).to.be.lessThan((await susdai.convertToAssets(1n)) + 1n);
      const before = await snapshot(fullReads());
      expect(await susdai.serviceRedemptions.staticCall(10n)).to.deep.equal([0n, 0n, 0n]);
      await expect(susdai.serviceRedemptions(10n)).to.not.emit(susdai, "RedeemRequestServiced");
      await expectUnchanged(before, fullReads());
    });

    it("maxWithdraw / maxRedeem of a controller with nothing serviced are zero", async () => {
      const { susdai } = f;
      expect(await susdai.maxWithdraw(lender3.address)).to.equal(0n);
      expect(await susdai.maxRedeem(lender3.address)).to.equal(0n);
    });
  });

  describe("vesting: a stream and a waiting bucket", () => {
    /** The loan-vault double pushes `amount` as a lump gain. */
    const gainAt = async (at: bigint, amount: bigint): Promise<ContractTransactionResponse> => {
      await time.setNextBlockTimestamp(at);
      return f.loans.gain(amount);
    };
    const unvestedAt = async (at: bigint): Promise<bigint> => {
      if (at > BigInt(await time.latest())) await time.increaseTo(at);
      return f.susdai.unvestedGains();
    };

    beforeEach(async () => {
      await f.susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await f.usdai.connect(lender3).transfer(f.loans.target, usd(1_000));
    });

    it("gains during a stream pile into one bucket; the bucket becomes the stream when its window opens", async () => {
      const t0 = BigInt(await time.latest()) + 10n;
      const D = BigInt(DAY);
      await gainAt(t0, usd(240)); // stream [t0, t0+D)
      await gainAt(t0 + D / 4n, usd(40)); // waits: [t0+D, t0+2D)
      await gainAt(t0 + D / 2n, usd(60)); // joins the bucket
      expect(await f.susdai.unvestedGains()).to.equal(usd(120) + usd(100));
      expect(await unvestedAt(t0 + D)).to.equal(usd(100));
      expect(await unvestedAt(t0 + D + D / 4n)).to.equal(usd(75));
      // A gain while the bucket streams waits for it: the bucket rolls into the stream, the gain opens a new bucket.
      await expect(gainAt(t0 + D + D / 2n, usd(10)))
        .to.emit(f.susdai, "GainVesting")
        .withArgs(usd(10), usd(50) + usd(10), t0 + 3n * D);
      expect(await unvestedAt(t0 + 2n * D)).to.equal(usd(10));
      expect(await unvestedAt(t0 + 2n * D + D / 2n)).to.equal(usd(5));
      expect(await unvestedAt(t0 + 3n * D)).to.equal(0n);
      // After everything has vested a gain starts a fresh stream from now.
      await expect(gainAt(t0 + 4n * D, usd(8)))
        .to.emit(f.susdai, "GainVesting")
        .withArgs(usd(8), usd(8), t0 + 5n * D);
      expect(await f.susdai.totalAssets()).to.equal(usd(1_000) + usd(350));
    });

    it("a bucket whose window has passed entirely is replaced by a fresh stream", async () => {
      const t0 = BigInt(await time.latest()) + 10n;
      const D = BigInt(DAY);
      await gainAt(t0, usd(10));
      await gainAt(t0 + 1n, usd(20));
      await expect(gainAt(t0 + 5n * D, usd(30)))
        .to.emit(f.susdai, "GainVesting")
        .withArgs(usd(30), usd(30), t0 + 6n * D);
      expect(await unvestedAt(t0 + 6n * D)).to.equal(0n);
      expect(await f.susdai.totalAssets()).to.equal(usd(1_060));
    });

    it("a longer vesting period set while a bucket waits applies to the gains that join it", async () => {
      const t0 = BigInt(await time.latest()) + 10n;
      const D = BigInt(DAY);
      await gainAt(t0, usd(10));
      await gainAt(t0 + 1n, usd(20)); // bucket window [t0+D, t0+2D)
      await f.susdai.connect(f.actors.deployer).setVestingPeriod(2 * DAY);
      await expect(gainAt(t0 + 3n, usd(40)))
        .to.emit(f.susdai, "GainVesting")
        .withArgs(usd(40), anyValue, t0 + 3n * D);
      expect(await unvestedAt(t0 + 2n * D)).to.equal(usd(30));
    });

    it("with a vesting period of zero a gain is in NAV at once and what vests keeps its schedule", async () => {
      const t0 = BigInt(await time.latest()) + 10n;
      await gainAt(t0, usd(100));
      await f.susdai.connect(f.actors.deployer).setVestingPeriod(0);
      await expect(gainAt(t0 + BigInt(DAY / 2), usd(10)))
        .to.emit(f.susdai, "GainVesting")
        .withArgs(usd(10), usd(50), t0 + BigInt(DAY / 2));
      expect(await f.susdai.totalAssets()).to.equal(usd(1_060));
    });
  });

  describe("entry price while gains vest", () => {
    it("deposit and mint are priced at NAV with unvested gains; conversions and exits without", async () => {
      const { susdai, usdai, loans } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender3).transfer(loans.target, usd(100));
      await loans.gain(usd(100));
      const supply = await susdai.totalSupply();
      const gross = (await susdai.totalAssets()) + (await susdai.unvestedGains());
      expect(gross).to.equal(usd(1_100));
      const preview = await susdai.previewDeposit(usd(110));
      expect(preview).to.equal((usd(110) * (supply + 1n)) / (gross + 1n));
      expect(preview).to.be.lessThan(await susdai.convertToShares(usd(110)));
      await expect(susdai.connect(lender2)["deposit(uint256,address)"](usd(110), lender2.address))
        .to.emit(susdai, "Deposit")
        .withArgs(lender2.address, lender2.address, usd(110), preview);
      const cost = await susdai.previewMint(usd(50));
      expect(cost).to.equal(ceilDiv(usd(50) * (usd(1_210) + 1n), supply + preview + 1n));
      await expect(susdai.connect(lender2)["mint(uint256,address)"](usd(50), lender2.address))
        .to.emit(susdai, "Deposit")
        .withArgs(lender2.address, lender2.address, cost, usd(50));
      // Once the gain has vested, the entrant's shares are worth what it paid (less rounding), the first lender's
      // are worth its deposit and the whole gain.
      await time.increase(2 * DAY);
      expect(await susdai.convertToAssets(preview + usd(50))).to.be.closeTo(usd(110) + cost, 10n ** 6n);
      expect(await susdai.convertToAssets(usd(1_000))).to.be.closeTo(usd(1_100), 10n ** 6n);
      expect(await susdai.maxMint(lender2.address)).to.equal(
        await susdai.previewDeposit(await susdai.maxDeposit(lender2.address)),
      );
    });
  });

  describe("request minimum in USDai", () => {
    beforeEach(async () => {
      await f.susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
    });

    it("is priced with the loan book when idle USDai alone cannot show the request is large enough", async () => {
      const { susdai, loans, actors } = f;
      await loans.fund(actors.borrower1.address, usd(995)); // idle 5: the floor from idle alone is far below 10
      await loans.accrue(usd(1_000)); // NAV 2,000: a share is worth 2 USDai
      await susdai.connect(lender1).requestRedeem(usd(5.1), lender1.address, lender1.address);
      const value = await susdai.convertToAssets(usd(4.9));
      expect(value).to.be.lessThan(usd(10));
      const before = await snapshot(reads());
      await expect(susdai.connect(lender1).requestRedeem(usd(4.9), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiRequestTooSmall")
        .withArgs(usd(4.9), value, usd(10));
      await expectUnchanged(before, reads());
    });

    it("exactly the minimum is accepted; zero disables it", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1).requestRedeem(usd(10), lender1.address, lender1.address);
      await susdai.connect(actors.deployer).setRedemptionParams(COOLDOWN, 0, 10);
      await susdai.connect(lender1).requestRedeem(1n, lender1.address, lender1.address);
      expect(await susdai.pendingRedeemRequest(0n, lender1.address)).to.equal(usd(10) + 1n);
    });
  });

  describe("vestSurplus", () => {
    const surplusReads = (): Reads => ({
      ...reads(),
      unvested: () => f.susdai.unvestedGains(),
      totalAssets: () => f.susdai.totalAssets(),
      vaultUsdai: () => f.usdai.balanceOf(f.susdai.target),
    });

    it("books a donation as a vesting gain; nothing leaves the vault", async () => {
      const { susdai, usdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender2).transfer(susdai.target, usd(40));
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(susdai.connect(actors.deployer).vestSurplus())
        .to.emit(susdai, "GainVesting")
        .withArgs(usd(40), usd(40), t + BigInt(DAY))
        .and.to.emit(susdai, "SurplusVested")
        .withArgs(actors.deployer.address, usd(40));
      expect(await susdai.idleAssets()).to.equal(usd(1_040));
      expect(await usdai.balanceOf(susdai.target)).to.equal(usd(1_040));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
    });

    it("does not count what serviced redemptions are owed", async () => {
      const { susdai, usdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await susdai.connect(lender1).requestRedeem(usd(100), lender1.address, lender1.address);
      await time.increase(COOLDOWN);
      await susdai.serviceRedemptions(1n);
      expect(await susdai.totalClaimableAssets()).to.equal(usd(100));
      const before = await snapshot(surplusReads());
      await expect(susdai.connect(actors.deployer).vestSurplus()).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiNoSurplus",
      );
      await expectUnchanged(before, surplusReads());
      await usdai.connect(lender2).transfer(susdai.target, 7n);
      await expect(susdai.connect(actors.deployer).vestSurplus())
        .to.emit(susdai, "SurplusVested")
        .withArgs(actors.deployer.address, 7n);
    });

    it("is governance-only", async () => {
      const { susdai, usdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender2).transfer(susdai.target, usd(1));
      const before = await snapshot(surplusReads());
      for (const account of [actors.attacker, actors.guardian]) {
        await expect(susdai.connect(account).vestSurplus())
          .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
          .withArgs(account.address, Roles.DEFAULT_ADMIN);
      }
      await expectUnchanged(before, surplusReads());
    });

    it("refuses while fewer than 1e18 shares exist, changing nothing", async () => {
      const { susdai, usdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1) - 1n, lender1.address);
      await usdai.connect(lender2).transfer(susdai.target, usd(5));
      const before = await snapshot(surplusReads());
      await expect(susdai.connect(actors.deployer).vestSurplus())
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiSupplyBelowGainMinimum")
        .withArgs(usd(1) - 1n, usd(1));
      await expectUnchanged(before, surplusReads());
    });

    it("refuses when there is nothing beyond idle and claimable assets", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      const before = await snapshot(surplusReads());
      await expect(susdai.connect(actors.deployer).vestSurplus()).to.be.revertedWithCustomError(
        susdai,
        "StakedUSDaiNoSurplus",
      );
      await expectUnchanged(before, surplusReads());
    });
  });

  describe("redemption-request pause", () => {
    beforeEach(async () => {
      await f.susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
    });

    it("the guardian pauses, governance resumes; service, claims and deposits go on meanwhile", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1).requestRedeem(usd(100), lender1.address, lender1.address);
      expect(await susdai.redemptionRequestsPaused()).to.equal(false);
      await susdai.connect(actors.guardian).pauseRedemptionRequests();
      expect(await susdai.redemptionRequestsPaused()).to.equal(true);
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(10), lender1.address);
      await time.increase(COOLDOWN);
      await susdai.serviceRedemptions(1n);
      await susdai.connect(lender1).redeem(usd(100), lender1.address, lender1.address);
      await expect(susdai.connect(actors.deployer).unpauseRedemptionRequests())
        .to.emit(susdai, "RedemptionRequestsPauseSet")
        .withArgs(actors.deployer.address, false);
      expect(await susdai.redemptionRequestsPaused()).to.equal(false);
      await susdai.connect(lender1).requestRedeem(usd(10), lender1.address, lender1.address);
    });

    it("pausing needs PAUSER and resuming needs DEFAULT_ADMIN, changing nothing otherwise", async () => {
      const { susdai, actors } = f;
      await expect(susdai.connect(actors.attacker).pauseRedemptionRequests())
        .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.PAUSER);
      expect(await susdai.redemptionRequestsPaused()).to.equal(false);
      await susdai.connect(actors.guardian).pauseRedemptionRequests();
      for (const account of [actors.attacker, actors.guardian]) {
        await expect(susdai.connect(account).unpauseRedemptionRequests())
          .to.be.revertedWithCustomError(susdai, "AccessControlUnauthorizedAccount")
          .withArgs(account.address, Roles.DEFAULT_ADMIN);
      }
      expect(await susdai.redemptionRequestsPaused()).to.equal(true);
    });
  });

  describe("reentrancy", () => {
    /** sUSDai over a token whose transfers call back into sUSDai (ERC-777 style); the token holds LOAN_VAULT so its
     * callbacks get past the role check to the guard. */
    const reentrantFixture = createFixture(async () => {
      const { actors } = await deployProtocol();
      const token = (await hre.ethers.deployContract("ReentrantToken", [18])) as unknown as ReentrantToken;
      const vault = await deployBehindProxy<StakedUSDai>("StakedUSDai", [
        actors.deployer.address,
        token.target,
        ZeroAddress,
        0,
        0,
        0,
        10,
      ]);
      await vault.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, token.target);
      await token.mint(actors.lender1.address, usd(1_000));
      await token.connect(actors.lender1).approve(vault.target, MaxUint256);
      await vault.connect(actors.lender1)["deposit(uint256,address)"](usd(100), actors.lender1.address);
      return { actors, token, vault };
    });

    it("every guarded entry point refuses re-entry during a token transfer", async () => {
      const { actors, token, vault } = await reentrantFixture();
      const who = actors.lender1.address;
      const i = vault.interface;
      const calls: [string, string][] = [
        ["deposit", i.encodeFunctionData("deposit(uint256,address)", [1n, who])],
        ["mint", i.encodeFunctionData("mint(uint256,address)", [1n, who])],
        ["requestRedeem", i.encodeFunctionData("requestRedeem", [1n, who, who])],
        ["serviceRedemptions", i.encodeFunctionData("serviceRedemptions", [1n])],
        ["redeem", i.encodeFunctionData("redeem", [1n, who, who])],
        ["withdraw", i.encodeFunctionData("withdraw", [1n, who, who])],
        ["fundLoan", i.encodeFunctionData("fundLoan", [who, 1n])],
      ];
      const vaultReads: Reads = {
        supply: () => vault.totalSupply(),
        idle: () => vault.idleAssets(),
        balance: () => vault.balanceOf(who),
        tokens: () => token.balanceOf(vault.target),
      };
      for (const [name, data] of calls) {
        await token.setHook(vault.target, data);
        const before = await snapshot(vaultReads);
        await expect(
          vault.connect(actors.lender1)["deposit(uint256,address)"](usd(1), who),
          name,
        ).to.be.revertedWithCustomError(vault, "ReentrancyGuardReentrantCall");
        await expectUnchanged(before, vaultReads);
      }
      await token.setHook(ZeroAddress, "0x");
      await vault.connect(actors.lender1)["deposit(uint256,address)"](usd(1), who);
      expect(await vault.balanceOf(who)).to.equal(usd(101));
    });

    it("receiveLoanCashflow is not guarded: it makes no external call, so booking from inside a transfer is harmless", async () => {
      const { actors, token, vault } = await reentrantFixture();
      const who = actors.lender1.address;
      // the token (which holds LOAN_VAULT) books 1 wei of principal from inside the deposit's transfer
      await token.setHook(
        vault.target,
        vault.interface.encodeFunctionData("receiveLoanCashflow", [1n, 0n, 0n, 0n]),
      );
      await expect(vault.connect(actors.lender1)["deposit(uint256,address)"](usd(1), who))
        .to.emit(vault, "RepaymentReceived")
        .withArgs(1n, 0n)
        .and.to.emit(vault, "Deposit")
        .withArgs(who, who, usd(1), usd(1));
      expect(await vault.idleAssets()).to.equal(usd(101) + 1n);
      expect(await vault.balanceOf(who)).to.equal(usd(101));
    });
  });

  describe("supportsInterface", () => {
    it("reports ERC-7540 operator and redeem, ERC-7575 and the USDai yield receiver", async () => {
      const { susdai } = f;
      for (const id of ["0xe3bc4e65", "0x620ee8e4", "0x2f0a18c5", "0x01ffc9a7"]) {
        expect(await susdai.supportsInterface(id)).to.equal(true);
      }
      expect(await susdai.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});

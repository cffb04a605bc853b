import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, Signature, ZeroAddress } from "ethers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { deployBehindProxy } from "../helpers/proxy";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { Roles } from "../../helpers/roles";
import type { USDai } from "../../typechain-types";
import { usd, usdc } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";
const SCALE = 10n ** 12n;
const YEAR = 365 * 24 * 3600;

describe("USDai", () => {
  let f: ProtocolFixture;

  /** Balances and supply that a reverted call must leave untouched. */
  const reads = (): Reads => ({
    supply: () => f.usdai.totalSupply(),
    lender1: () => f.usdai.balanceOf(f.actors.lender1.address),
    lender2: () => f.usdai.balanceOf(f.actors.lender2.address),
    recipientBalance: async () => f.usdai.balanceOf(await f.usdai.yieldRecipient()),
    liquid: () => f.usdai.liquidReserves(),
    // shares, not their value: the T-bill position accrues every block
    tbillShares: () => f.tbill.balanceOf(f.usdai.target),
    lender1Reserve: () => f.reserve.balanceOf(f.actors.lender1.address),
    cap: () => f.usdai.supplyCap(),
    redemptionsPaused: () => f.usdai.redemptionsPaused(),
    vault: () => f.usdai.tbillVault(),
    recipient: () => f.usdai.yieldRecipient(),
  });

  /** lender1 and lender2 hold 1,000,000 USDC each and have approved USDai. */
  const fundedFixture = createFixture(async () => {
    const fixture = await deployProtocol();
    const { reserve, usdai, actors } = fixture;
    for (const lender of [actors.lender1, actors.lender2]) {
      await reserve.mint(lender.address, usdc(1_000_000));
      await reserve.connect(lender).approve(await usdai.getAddress(), MaxUint256);
    }
    return fixture;
  });

  /** lender1 deposited 100,000 USDC; 60,000 is allocated to T-bills. */
  const depositedFixture = createFixture(async () => {
    const fixture = await fundedFixture();
    const { usdai, actors } = fixture;
    await usdai.connect(actors.lender1).deposit(usdc(100_000), 0n, actors.lender1.address);
    await usdai.connect(actors.reserveManager).allocate(usdc(60_000));
    return fixture;
  });

  describe("initialize", () => {
    beforeEach(async () => {
      f = await deployProtocol();
    });

    it("sets metadata, reserve scale, dependencies and roles", async () => {
      const { usdai, reserve, tbill, actors } = f;
      expect(await usdai.name()).to.equal("USDai");
      expect(await usdai.symbol()).to.equal("USDai");
      expect(await usdai.decimals()).to.equal(18n);
      expect(await usdai.reserveToken()).to.equal(await reserve.getAddress());
      expect(await usdai.reserveScale()).to.equal(SCALE);
      expect(await usdai.tbillVault()).to.equal(await tbill.getAddress());
      // the deploy's wiring points the yield at sUSDai, which vests it
      expect(await usdai.yieldRecipient()).to.equal(await f.susdai.getAddress());
      expect(await usdai.supplyCap()).to.equal(usd(1_000_000_000));
      expect(await usdai.hasRole(Roles.DEFAULT_ADMIN, actors.deployer.address)).to.equal(true);
      expect(await usdai.hasRole(Roles.PAUSER, actors.guardian.address)).to.equal(true);
      expect(await usdai.hasRole(Roles.RESERVE_MANAGER, actors.reserveManager.address)).to.equal(true);
    });

    it("cannot be called twice on the proxy", async () => {
      const { usdai, reserve, tbill, actors } = f;
      await expect(
        usdai.initialize(actors.attacker.address, reserve, tbill, actors.attacker.address, 0n),
      ).to.be.revertedWithCustomError(usdai, "InvalidInitialization");
      expect(await usdai.hasRole(Roles.DEFAULT_ADMIN, actors.attacker.address)).to.equal(false);
    });

    it("cannot be called on the implementation", async () => {
      const { reserve, tbill, actors } = f;
      const implementation = await hre.ethers.getContractAt(
        "USDai",
        (await hre.deployments.get("USDai_Implementation")).address,
      );
      await expect(
        implementation.initialize(actors.attacker.address, reserve, tbill, actors.attacker.address, 0n),
      ).to.be.revertedWithCustomError(implementation, "InvalidInitialization");
    });

    it("reverts on a zero admin or reserve token", async () => {
      const { reserve, tbill, actors, usdai } = f;
      await expect(
        deployBehindProxy("USDai", [ZeroAddress, reserve.target, tbill.target, actors.treasury.address, 0n]),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
      await expect(
        deployBehindProxy("USDai", [
          actors.deployer.address,
          ZeroAddress,
          ZeroAddress,
          actors.treasury.address,
          0n,
        ]),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
    });

    it("reverts on a zero yield recipient", async () => {
      const { reserve, tbill, actors, usdai } = f;
      await expect(
        deployBehindProxy("USDai", [actors.deployer.address, reserve.target, tbill.target, ZeroAddress, 0n]),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
    });

    it("reverts on a reserve token with more than 18 decimals", async () => {
      const { actors, usdai } = f;
      const odd = await hre.ethers.deployContract("MockERC20", ["Odd", "ODD", 19]);
      await expect(
        deployBehindProxy("USDai", [
          actors.deployer.address,
          odd.target,
          ZeroAddress,
          actors.treasury.address,
          0n,
        ]),
      )
        .to.be.revertedWithCustomError(usdai, "USDaiUnsupportedDecimals")
        .withArgs(19);
    });

    it("reverts on a T-bill vault over another asset", async () => {
      const { reserve, actors, usdai } = f;
      const other = await hre.ethers.deployContract("MockERC20", ["Other", "OTH", 6]);
      const otherVault = await hre.ethers.deployContract("MockTBillVault", [other.target, 0]);
      await expect(
        deployBehindProxy("USDai", [
          actors.deployer.address,
          reserve.target,
          otherVault.target,
          actors.treasury.address,
          0n,
        ]),
      )
        .to.be.revertedWithCustomError(usdai, "USDaiTBillVaultAssetMismatch")
        .withArgs(other.target, reserve.target);
    });

    it("supports an 18-decimal reserve token with a scale of 1", async () => {
      const { actors } = f;
      const dai = await hre.ethers.deployContract("MockERC20", ["Dai", "DAI", 18]);
      const usdai18 = await deployBehindProxy<USDai>("USDai", [
        actors.deployer.address,
        dai.target,
        ZeroAddress,
        actors.treasury.address,
        usd(1_000),
      ]);
      expect(await usdai18.reserveScale()).to.equal(1n);
      await dai.mint(actors.lender1.address, usd(5));
      await dai.connect(actors.lender1).approve(usdai18.target, usd(5));
      await usdai18.connect(actors.lender1).deposit(usd(5), usd(5), actors.lender1.address);
      expect(await usdai18.balanceOf(actors.lender1.address)).to.equal(usd(5));
    });
  });

  describe("deposit", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("pulls the reserve and mints the scaled amount to the receiver", async () => {
      const { usdai, reserve, actors } = f;
      const { lender1, lender2 } = actors;
      await expect(usdai.connect(lender1).deposit(usdc(1_234.5), usd(1_234.5), lender2.address))
        .to.emit(usdai, "Deposited")
        .withArgs(lender1.address, lender2.address, usdc(1_234.5), usd(1_234.5));
      expect(await usdai.balanceOf(lender2.address)).to.equal(usd(1_234.5));
      expect(await usdai.totalSupply()).to.equal(usd(1_234.5));
      expect(await reserve.balanceOf(usdai.target)).to.equal(usdc(1_234.5));
      expect(await usdai.totalReserves()).to.equal(usdc(1_234.5));
    });

    it("returns the minted amount", async () => {
      const { usdai, actors } = f;
      expect(await usdai.connect(actors.lender1).deposit.staticCall(1n, 0n, actors.lender1.address)).to.equal(
        SCALE,
      );
    });

    it("reverts on a zero amount", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).deposit(0n, 0n, actors.lender1.address),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAmount");
      await expectUnchanged(before, reads());
    });

    it("reverts on a zero receiver", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).deposit(usdc(1), 0n, ZeroAddress),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
      await expectUnchanged(before, reads());
    });

    it("reverts when the mint is below minOut", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).deposit(usdc(10), usd(10) + 1n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiSlippage")
        .withArgs(usd(10), usd(10) + 1n);
      await expectUnchanged(before, reads());
    });

    it("reverts above the supply cap and accepts exactly the cap", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.deployer).setSupplyCap(usd(1_000));
      await usdai.connect(actors.lender1).deposit(usdc(400), 0n, actors.lender1.address);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).deposit(usdc(600) + 1n, 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiSupplyCapExceeded")
        .withArgs(usd(1_000) + SCALE, usd(1_000));
      await expectUnchanged(before, reads());
      await usdai.connect(actors.lender1).deposit(usdc(600), 0n, actors.lender1.address);
      expect(await usdai.totalSupply()).to.equal(usd(1_000));
    });

    it("reverts while paused", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.guardian).pause();
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).deposit(usdc(1), 0n, actors.lender1.address),
      ).to.be.revertedWithCustomError(usdai, "EnforcedPause");
      await expectUnchanged(before, reads());
    });

    it("reverts without allowance", async () => {
      const { usdai, reserve, actors } = f;
      await reserve.mint(actors.lender3.address, usdc(10));
      await expect(usdai.connect(actors.lender3).deposit(usdc(10), 0n, actors.lender3.address))
        .to.be.revertedWithCustomError(reserve, "ERC20InsufficientAllowance")
        .withArgs(usdai.target, 0n, usdc(10));
      expect(await usdai.balanceOf(actors.lender3.address)).to.equal(0n);
      expect(await reserve.balanceOf(actors.lender3.address)).to.equal(usdc(10));
    });

    it("reverts when a reserve token returns false instead of reverting", async () => {
      const { actors } = f;
      const token = await hre.ethers.deployContract("FalseReturnToken", [6]);
      const usdaiFalse = await deployBehindProxy<USDai>("USDai", [
        actors.deployer.address,
        token.target,
        ZeroAddress,
        actors.treasury.address,
        usd(1_000_000),
      ]);
      await token.mint(actors.lender1.address, usdc(10));
      // No allowance: the token returns false, SafeERC20 turns it into a revert.
      await expect(usdaiFalse.connect(actors.lender1).deposit(usdc(10), 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdaiFalse, "SafeERC20FailedOperation")
        .withArgs(token.target);
      expect(await usdaiFalse.totalSupply()).to.equal(0n);
      expect(await token.balanceOf(actors.lender1.address)).to.equal(usdc(10));
      // With an allowance it works.
      await token.connect(actors.lender1).approve(usdaiFalse.target, usdc(10));
      await usdaiFalse.connect(actors.lender1).deposit(usdc(10), 0n, actors.lender1.address);
      expect(await usdaiFalse.balanceOf(actors.lender1.address)).to.equal(usd(10));
    });

    it("refuses a fee-on-transfer reserve token instead of minting on the nominal amount", async () => {
      const { actors } = f;
      const token = await hre.ethers.deployContract("FeeOnTransferToken", [6, 100]);
      const usdaiFee = await deployBehindProxy<USDai>("USDai", [
        actors.deployer.address,
        token.target,
        ZeroAddress,
        actors.treasury.address,
        usd(1_000_000),
      ]);
      await token.mint(actors.lender1.address, usdc(100));
      await token.connect(actors.lender1).approve(usdaiFee.target, usdc(100));
      await expect(usdaiFee.connect(actors.lender1).deposit(usdc(100), 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdaiFee, "USDaiTransferShortfall")
        .withArgs(usdc(100), usdc(99));
      expect(await usdaiFee.totalSupply()).to.equal(0n);
      expect(await token.balanceOf(actors.lender1.address)).to.equal(usdc(100));
    });
  });

  describe("redeem", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("burns and pays from the liquid buffer", async () => {
      const { usdai, reserve, actors } = f;
      const { lender1, lender2 } = actors;
      await expect(usdai.connect(lender1).redeem(usd(1_000), usdc(1_000), lender2.address))
        .to.emit(usdai, "Redeemed")
        .withArgs(lender1.address, lender2.address, usd(1_000), usdc(1_000));
      expect(await usdai.balanceOf(lender1.address)).to.equal(usd(99_000));
      expect(await reserve.balanceOf(lender2.address)).to.equal(usdc(1_001_000));
      expect(await usdai.liquidReserves()).to.equal(usdc(39_000));
    });

    it("pulls the shortfall from the T-bill vault when the buffer is short", async () => {
      const { usdai, reserve, tbill, actors } = f;
      const { lender1 } = actors;
      // buffer holds 40,000; redeem 50,000 -> 10,000 from the vault
      const sharesBefore = await tbill.balanceOf(usdai.target);
      const tx = usdai.connect(lender1).redeem(usd(50_000), 0n, lender1.address);
      await expect(tx).to.emit(usdai, "ReservesDeallocated");
      const burned = sharesBefore - (await tbill.balanceOf(usdai.target));
      await expect(tx).to.emit(usdai, "ReservesDeallocated").withArgs(usdc(10_000), burned);
      expect(burned).to.be.greaterThan(0n);
      expect(await usdai.liquidReserves()).to.equal(0n);
      expect(await reserve.balanceOf(lender1.address)).to.equal(usdc(950_000));
    });

    it("keeps the sub-unit remainder with the caller", async () => {
      const { usdai, reserve, actors } = f;
      const { lender1 } = actors;
      const amount = usd(1) + SCALE - 1n; // 1 USDC and just under one more unit
      await usdai.connect(lender1).redeem(amount, 0n, lender1.address);
      expect(await usdai.balanceOf(lender1.address)).to.equal(usd(100_000) - usd(1));
      expect(await reserve.balanceOf(lender1.address)).to.equal(usdc(900_001));
    });

    it("keeps working while deposits are paused", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.guardian).pause();
      await usdai.connect(actors.lender1).redeem(usd(1), 0n, actors.lender1.address);
      expect(await usdai.balanceOf(actors.lender1.address)).to.equal(usd(99_999));
    });

    it("reverts on a zero amount", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).redeem(0n, 0n, actors.lender1.address),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAmount");
      await expectUnchanged(before, reads());
    });

    it("reverts below one reserve unit", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).redeem(SCALE - 1n, 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiBelowReserveUnit")
        .withArgs(SCALE - 1n, SCALE);
      await expectUnchanged(before, reads());
    });

    it("reverts on a zero receiver", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).redeem(usd(1), 0n, ZeroAddress),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
      await expectUnchanged(before, reads());
    });

    it("reverts when the payout is below minOut", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).redeem(usd(5), usdc(5) + 1n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiSlippage")
        .withArgs(usdc(5), usdc(5) + 1n);
      await expectUnchanged(before, reads());
    });

    it("reverts while redemptions are paused, and works again once resumed", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.guardian).pauseRedemptions();
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.lender1).redeem(usd(1), 0n, actors.lender1.address),
      ).to.be.revertedWithCustomError(usdai, "USDaiRedemptionsPaused");
      await expectUnchanged(before, reads());
      await usdai.connect(actors.deployer).unpauseRedemptions();
      await usdai.connect(actors.lender1).redeem(usd(1), 0n, actors.lender1.address);
    });

    it("reverts beyond the caller's balance", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender2).redeem(usd(1), 0n, actors.lender2.address))
        .to.be.revertedWithCustomError(usdai, "ERC20InsufficientBalance")
        .withArgs(actors.lender2.address, 0n, usd(1));
      await expectUnchanged(before, reads());
    });

    it("reverts beyond the reserves after a T-bill drawdown", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.setApyBps(0); // exact figures
      await tbill.simulateLoss(usdc(10_000)); // the vault holds 50,000 for USDai now
      const available = (await usdai.liquidReserves()) + (await tbill.maxWithdraw(usdai.target));
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).redeem(usd(100_000), 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientReserves")
        .withArgs(usdc(100_000), available);
      await expectUnchanged(before, reads());
    });

    it("reverts beyond the reserves when the T-bill vault gates withdrawals", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.setApyBps(0); // exact figures
      await tbill.setWithdrawLimit(usdc(5_000));
      const available = (await usdai.liquidReserves()) + (await tbill.maxWithdraw(usdai.target));
      expect(available).to.be.closeTo(usdc(45_000), 1n);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).redeem(usd(50_000), 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientReserves")
        .withArgs(usdc(50_000), available);
      await expectUnchanged(before, reads());
    });

    it("reverts beyond the buffer when no T-bill vault is set", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.simulateLoss(usdc(10_000)); // reserves now ~90,000 for a supply of 100,000
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      await usdai.connect(actors.deployer).setTBillVault(ZeroAddress);
      const liquid = await usdai.liquidReserves();
      expect(liquid).to.be.lessThan(usdc(100_000));
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).redeem(usd(100_000), 0n, actors.lender1.address))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientReserves")
        .withArgs(usdc(100_000), liquid);
      await expectUnchanged(before, reads());
    });
  });

  describe("harvest", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("is a no-op returning zero when there is no surplus", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.setApyBps(0); // no accrual between blocks
      await usdai.harvest(); // the yield accrued until now
      expect(await usdai.surplus()).to.equal(0n);
      expect(await usdai.harvest.staticCall()).to.equal(0n);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.attacker).harvest()).not.to.emit(usdai, "YieldHarvested");
      await expectUnchanged(before, reads());
    });

    it("mints the T-bill yield to the yield recipient, leaving reserves equal to supply", async () => {
      const { usdai, actors } = f;
      await time.increase(YEAR);
      const surplus = await usdai.surplus();
      // 60,000 allocated at 4.5% a year of simple interest, within the second of the harvest
      expect(surplus).to.be.closeTo(usd(2_700), usd(1));
      const recipient = await usdai.yieldRecipient();
      await expect(usdai.connect(actors.keeper).harvest()).to.emit(usdai, "YieldHarvested");
      const minted = await usdai.balanceOf(recipient);
      expect(minted).to.be.closeTo(surplus, usd(0.01));
      expect(minted % SCALE).to.equal(0n);
      expect(await usdai.surplus()).to.equal(0n);
      expect((await usdai.totalReserves()) * SCALE).to.be.gte(await usdai.totalSupply());
    });

    it("notifies a yield recipient that supports IUSDaiYieldReceiver", async () => {
      const { usdai, actors } = f;
      const receiver = await hre.ethers.deployContract("MockYieldReceiver");
      await expect(usdai.connect(actors.deployer).setYieldRecipient(receiver.target))
        .to.emit(usdai, "YieldRecipientSet")
        .withArgs(receiver.target, true);
      await time.increase(YEAR / 12);
      await usdai.harvest();
      const minted = await usdai.balanceOf(receiver.target);
      expect(minted).to.be.greaterThan(0n);
      expect(await receiver.received()).to.equal(minted);
      expect(await receiver.calls()).to.equal(1n);
      expect(await receiver.lastCaller()).to.equal(usdai.target);
    });

    it("is not limited by the supply cap (the yield is fully backed)", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.deployer).setSupplyCap(usd(100_000));
      await time.increase(YEAR);
      await usdai.harvest();
      expect(await usdai.totalSupply()).to.be.greaterThan(usd(100_000));
    });

    it("mints nothing while reserves are below supply", async () => {
      const { usdai, tbill } = f;
      await tbill.simulateLoss(usdc(1_000));
      await time.increase(YEAR / 365);
      expect(await usdai.surplus()).to.equal(0n);
      const before = await snapshot(reads());
      await usdai.harvest();
      await expectUnchanged(before, reads());
    });
  });

  describe("allocate", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("moves reserves into the T-bill vault without leaving an allowance", async () => {
      const { usdai, reserve, tbill, actors } = f;
      const sharesBefore = await tbill.balanceOf(usdai.target);
      const tx = usdai.connect(actors.reserveManager).allocate(usdc(10_000));
      await expect(tx).to.emit(usdai, "ReservesAllocated");
      const minted = (await tbill.balanceOf(usdai.target)) - sharesBefore;
      await expect(tx).to.emit(usdai, "ReservesAllocated").withArgs(usdc(10_000), minted);
      expect(await usdai.liquidReserves()).to.equal(usdc(30_000));
      expect(await reserve.allowance(usdai.target, tbill.target)).to.equal(0n);
      expect(await usdai.totalReserves()).to.be.closeTo(usdc(100_000), usdc(0.01));
    });

    it("reverts for an account without RESERVE_MANAGER", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.attacker).allocate(usdc(1)))
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.RESERVE_MANAGER);
      await expectUnchanged(before, reads());
    });

    it("reverts on a zero amount", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.reserveManager).allocate(0n)).to.be.revertedWithCustomError(
        usdai,
        "USDaiZeroAmount",
      );
    });

    it("reverts beyond the liquid buffer", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.reserveManager).allocate(usdc(40_000) + 1n))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientLiquidity")
        .withArgs(usdc(40_000) + 1n, usdc(40_000));
      await expectUnchanged(before, reads());
    });

    it("reverts when no T-bill vault is set", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      await usdai.connect(actors.deployer).setTBillVault(ZeroAddress);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.reserveManager).allocate(usdc(1))).to.be.revertedWithCustomError(
        usdai,
        "USDaiNoTBillVault",
      );
      await expectUnchanged(before, reads());
    });
  });

  describe("deallocate", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("moves reserves back to the liquid buffer", async () => {
      const { usdai, tbill, actors } = f;
      const sharesBefore = await tbill.balanceOf(usdai.target);
      const tx = usdai.connect(actors.reserveManager).deallocate(usdc(20_000));
      await expect(tx).to.emit(usdai, "ReservesDeallocated");
      const burned = sharesBefore - (await tbill.balanceOf(usdai.target));
      await expect(tx).to.emit(usdai, "ReservesDeallocated").withArgs(usdc(20_000), burned);
      expect(await usdai.liquidReserves()).to.equal(usdc(60_000));
    });

    it("exits the whole position with type(uint256).max, leaving no shares", async () => {
      const { usdai, tbill, actors } = f;
      await time.increase(YEAR);
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      expect(await tbill.balanceOf(usdai.target)).to.equal(0n);
      expect(await usdai.allocatedReserves()).to.equal(0n);
      // 60,000 came back with a year of 4.5% yield
      expect(await usdai.liquidReserves()).to.be.closeTo(usdc(102_700), usdc(1));
    });

    it("reverts a full exit the vault gates", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.setApyBps(0); // exact figures
      await tbill.setWithdrawLimit(usdc(1_000));
      const available = await tbill.maxWithdraw(usdai.target);
      expect(available).to.be.closeTo(usdc(1_000), 1n);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.reserveManager).deallocate(MaxUint256))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientAllocation")
        .withArgs(MaxUint256, available);
      await expectUnchanged(before, reads());
    });

    it("reverts for an account without RESERVE_MANAGER", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.lender1).deallocate(usdc(1)))
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.lender1.address, Roles.RESERVE_MANAGER);
      await expectUnchanged(before, reads());
    });

    it("reverts on a zero amount", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.reserveManager).deallocate(0n)).to.be.revertedWithCustomError(
        usdai,
        "USDaiZeroAmount",
      );
    });

    it("reverts beyond what the vault releases", async () => {
      const { usdai, tbill, actors } = f;
      await tbill.setApyBps(0); // exact figures
      const available = await tbill.maxWithdraw(usdai.target);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.reserveManager).deallocate(available + 1n))
        .to.be.revertedWithCustomError(usdai, "USDaiInsufficientAllocation")
        .withArgs(available + 1n, available);
      await expectUnchanged(before, reads());
    });

    it("reverts when no T-bill vault is set", async () => {
      const { usdai, actors } = f;
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      await usdai.connect(actors.deployer).setTBillVault(ZeroAddress);
      await expect(usdai.connect(actors.reserveManager).deallocate(usdc(1))).to.be.revertedWithCustomError(
        usdai,
        "USDaiNoTBillVault",
      );
    });
  });

  describe("setSupplyCap", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("sets the cap (governance)", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.deployer).setSupplyCap(usd(5)))
        .to.emit(usdai, "SupplyCapSet")
        .withArgs(usd(5));
      expect(await usdai.supplyCap()).to.equal(usd(5));
    });

    it("reverts for an account without DEFAULT_ADMIN", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.guardian).setSupplyCap(0n))
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.guardian.address, Roles.DEFAULT_ADMIN);
      await expectUnchanged(before, reads());
    });
  });

  describe("setYieldRecipient", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("sets a plain recipient without callbacks", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.deployer).setYieldRecipient(actors.lender3.address))
        .to.emit(usdai, "YieldRecipientSet")
        .withArgs(actors.lender3.address, false);
      expect(await usdai.yieldRecipient()).to.equal(actors.lender3.address);
    });

    it("reverts on the zero address", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(
        usdai.connect(actors.deployer).setYieldRecipient(ZeroAddress),
      ).to.be.revertedWithCustomError(usdai, "USDaiZeroAddress");
      await expectUnchanged(before, reads());
    });

    it("reverts for an account without DEFAULT_ADMIN", async () => {
      const { usdai, actors } = f;
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.attacker).setYieldRecipient(actors.attacker.address))
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.DEFAULT_ADMIN);
      await expectUnchanged(before, reads());
    });
  });

  describe("setTBillVault", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("reverts while the current vault holds reserves", async () => {
      const { usdai, tbill, actors } = f;
      const shares = await tbill.balanceOf(usdai.target);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.deployer).setTBillVault(ZeroAddress))
        .to.be.revertedWithCustomError(usdai, "USDaiTBillVaultNotEmpty")
        .withArgs(shares);
      await expectUnchanged(before, reads());
    });

    it("replaces an empty vault with a new one over the reserve token", async () => {
      const { usdai, reserve, actors } = f;
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      const next = await hre.ethers.deployContract("MockTBillVault", [reserve.target, 500]);
      await expect(usdai.connect(actors.deployer).setTBillVault(next.target))
        .to.emit(usdai, "TBillVaultSet")
        .withArgs(next.target);
      await usdai.connect(actors.reserveManager).allocate(usdc(1_000));
      expect(await next.balanceOf(usdai.target)).to.be.greaterThan(0n);
    });

    it("reverts on a vault over another asset", async () => {
      const { usdai, reserve, actors } = f;
      await usdai.connect(actors.reserveManager).deallocate(MaxUint256);
      const other = await hre.ethers.deployContract("MockERC20", ["Other", "OTH", 6]);
      const otherVault = await hre.ethers.deployContract("MockTBillVault", [other.target, 0]);
      const before = await snapshot(reads());
      await expect(usdai.connect(actors.deployer).setTBillVault(otherVault.target))
        .to.be.revertedWithCustomError(usdai, "USDaiTBillVaultAssetMismatch")
        .withArgs(other.target, reserve.target);
      await expectUnchanged(before, reads());
    });

    it("reverts for an account without DEFAULT_ADMIN", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.reserveManager).setTBillVault(ZeroAddress))
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.reserveManager.address, Roles.DEFAULT_ADMIN);
    });
  });

  describe("pauseRedemptions / unpauseRedemptions", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("toggles the separate redemption switch with events", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.guardian).pauseRedemptions())
        .to.emit(usdai, "RedemptionsPauseSet")
        .withArgs(actors.guardian.address, true);
      expect(await usdai.redemptionsPaused()).to.equal(true);
      expect(await usdai.paused()).to.equal(false);
      await expect(usdai.connect(actors.deployer).unpauseRedemptions())
        .to.emit(usdai, "RedemptionsPauseSet")
        .withArgs(actors.deployer.address, false);
      expect(await usdai.redemptionsPaused()).to.equal(false);
    });

    it("reverts when unchanged", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.deployer).unpauseRedemptions())
        .to.be.revertedWithCustomError(usdai, "USDaiRedemptionsPauseUnchanged")
        .withArgs(false);
      await usdai.connect(actors.guardian).pauseRedemptions();
      await expect(usdai.connect(actors.guardian).pauseRedemptions())
        .to.be.revertedWithCustomError(usdai, "USDaiRedemptionsPauseUnchanged")
        .withArgs(true);
    });

    it("reverts for accounts without the role", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.attacker).pauseRedemptions())
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.PAUSER);
      await usdai.connect(actors.guardian).pauseRedemptions();
      // the guardian can pause but only governance resumes
      await expect(usdai.connect(actors.guardian).unpauseRedemptions())
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.guardian.address, Roles.DEFAULT_ADMIN);
      expect(await usdai.redemptionsPaused()).to.equal(true);
    });
  });

  describe("pause / unpause", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("guardian pauses, governance unpauses", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.guardian).pause())
        .to.emit(usdai, "Paused")
        .withArgs(actors.guardian.address);
      await expect(usdai.connect(actors.guardian).unpause())
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.guardian.address, Roles.DEFAULT_ADMIN);
      expect(await usdai.paused()).to.equal(true);
      await expect(usdai.connect(actors.deployer).unpause()).to.emit(usdai, "Unpaused");
      await usdai.connect(actors.lender1).deposit(usdc(1), 0n, actors.lender1.address);
    });

    it("reverts for an account without PAUSER", async () => {
      const { usdai, actors } = f;
      await expect(usdai.connect(actors.attacker).pause())
        .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.PAUSER);
      expect(await usdai.paused()).to.equal(false);
    });
  });

  describe("permit (ERC-2612)", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("sets an allowance from an off-chain signature", async () => {
      const { usdai, actors } = f;
      const { lender1, lender2 } = actors;
      const deadline = (await time.latest()) + 3600;
      const { chainId } = await hre.ethers.provider.getNetwork();
      const signature = Signature.from(
        await lender1.signTypedData(
          { name: "USDai", version: "1", chainId, verifyingContract: await usdai.getAddress() },
          {
            Permit: [
              { name: "owner", type: "address" },
              { name: "spender", type: "address" },
              { name: "value", type: "uint256" },
              { name: "nonce", type: "uint256" },
              { name: "deadline", type: "uint256" },
            ],
          },
          { owner: lender1.address, spender: lender2.address, value: usd(7), nonce: 0n, deadline },
        ),
      );
      await usdai.permit(
        lender1.address,
        lender2.address,
        usd(7),
        deadline,
        signature.v,
        signature.r,
        signature.s,
      );
      expect(await usdai.allowance(lender1.address, lender2.address)).to.equal(usd(7));
      expect(await usdai.nonces(lender1.address)).to.equal(1n);
    });
  });

  describe("reentrancy", () => {
    /** USDai over a reserve token whose transfers call back into USDai (ERC-777 style), with a T-bill vault. */
    const reentrantFixture = createFixture(async () => {
      const fixture = await deployProtocol();
      const { actors } = fixture;
      const token = await hre.ethers.deployContract("ReentrantToken", [6]);
      const vault = await hre.ethers.deployContract("MockTBillVault", [token.target, 0]);
      const usdaiR = await deployBehindProxy<USDai>("USDai", [
        actors.deployer.address,
        token.target,
        vault.target,
        actors.treasury.address,
        usd(1_000_000),
      ]);
      await usdaiR.connect(actors.deployer).grantRole(Roles.RESERVE_MANAGER, actors.reserveManager.address);
      // the token itself is made a reserve manager so its callback gets past the role check to the guard
      await usdaiR.connect(actors.deployer).grantRole(Roles.RESERVE_MANAGER, token.target);
      await token.mint(actors.lender1.address, usdc(1_000));
      await token.connect(actors.lender1).approve(usdaiR.target, MaxUint256);
      await usdaiR.connect(actors.lender1).deposit(usdc(500), 0n, actors.lender1.address);
      await usdaiR.connect(actors.reserveManager).allocate(usdc(100));
      return { ...fixture, token, vault, usdaiR };
    });

    let r: Awaited<ReturnType<typeof reentrantFixture>>;
    beforeEach(async () => {
      r = await reentrantFixture();
    });

    const reentrantCalls: [string, (u: USDai) => string][] = [
      ["deposit", (u) => u.interface.encodeFunctionData("deposit", [1n, 0n, r.actors.attacker.address])],
      ["redeem", (u) => u.interface.encodeFunctionData("redeem", [SCALE, 0n, r.actors.attacker.address])],
      ["harvest", (u) => u.interface.encodeFunctionData("harvest")],
      ["allocate", (u) => u.interface.encodeFunctionData("allocate", [1n])],
      ["deallocate", (u) => u.interface.encodeFunctionData("deallocate", [1n])],
    ];

    for (const [name, encode] of reentrantCalls) {
      it(`deposit refuses a re-entered ${name}`, async () => {
        const { token, usdaiR, actors } = r;
        await token.setHook(usdaiR.target, encode(usdaiR));
        const supply = await usdaiR.totalSupply();
        await expect(
          usdaiR.connect(actors.lender1).deposit(usdc(1), 0n, actors.lender1.address),
        ).to.be.revertedWithCustomError(usdaiR, "ReentrancyGuardReentrantCall");
        expect(await usdaiR.totalSupply()).to.equal(supply);
      });
    }

    it("redeem refuses re-entry from the reserve transfer", async () => {
      const { token, usdaiR, actors } = r;
      await token.setHook(
        usdaiR.target,
        usdaiR.interface.encodeFunctionData("redeem", [SCALE, 0n, actors.lender1.address]),
      );
      await expect(
        usdaiR.connect(actors.lender1).redeem(usd(1), 0n, actors.lender1.address),
      ).to.be.revertedWithCustomError(usdaiR, "ReentrancyGuardReentrantCall");
      expect(await usdaiR.balanceOf(actors.lender1.address)).to.equal(usd(500));
    });

    it("allocate and deallocate refuse re-entry from the vault's transfers", async () => {
      const { token, usdaiR, vault, actors } = r;
      await token.setHook(usdaiR.target, usdaiR.interface.encodeFunctionData("deallocate", [1n]));
      const shares = await vault.balanceOf(usdaiR.target);
      await expect(usdaiR.connect(actors.reserveManager).allocate(usdc(1))).to.be.revertedWithCustomError(
        usdaiR,
        "ReentrancyGuardReentrantCall",
      );
      await token.setHook(usdaiR.target, usdaiR.interface.encodeFunctionData("allocate", [1n]));
      await expect(usdaiR.connect(actors.reserveManager).deallocate(usdc(1))).to.be.revertedWithCustomError(
        usdaiR,
        "ReentrancyGuardReentrantCall",
      );
      expect(await vault.balanceOf(usdaiR.target)).to.equal(shares);
    });

    it("harvest refuses re-entry from the yield receiver's callback", async () => {
      const { usdaiR, vault, token, actors } = r;
      const receiver = await hre.ethers.deployContract("MockYieldReceiver");
      await receiver.setReenter(true);
      await usdaiR.connect(actors.deployer).setYieldRecipient(receiver.target);
      await token.mint(vault.target, usdc(10)); // a surplus to harvest
      const supply = await usdaiR.totalSupply();
      await expect(usdaiR.harvest()).to.be.revertedWithCustomError(usdaiR, "ReentrancyGuardReentrantCall");
      expect(await usdaiR.totalSupply()).to.equal(supply);
      await receiver.setReenter(false);
      await usdaiR.harvest();
      // the vault's previewRedeem rounds down by at most one reserve unit
      expect(await usdaiR.totalSupply()).to.be.closeTo(supply + usd(10), SCALE);
      expect(await receiver.received()).to.equal((await usdaiR.totalSupply()) - supply);
    });
  });

  describe("without a T-bill vault", () => {
    beforeEach(async () => {
      f = await fundedFixture();
    });

    it("values reserves from the buffer alone, and a vault can be set later", async () => {
      const { usdai, reserve, actors } = f;
      await usdai.connect(actors.deployer).setTBillVault(ZeroAddress);
      await usdai.connect(actors.lender1).deposit(usdc(10), 0n, actors.lender1.address);
      expect(await usdai.allocatedReserves()).to.equal(0n);
      expect(await usdai.totalReserves()).to.equal(usdc(10));
      const vault = await hre.ethers.deployContract("MockTBillVault", [reserve.target, 0]);
      await expect(usdai.connect(actors.deployer).setTBillVault(vault.target))
        .to.emit(usdai, "TBillVaultSet")
        .withArgs(vault.target);
      expect(await usdai.tbillVault()).to.equal(vault.target);
    });
  });

  describe("views", () => {
    beforeEach(async () => {
      f = await depositedFixture();
    });

    it("values reserves as buffer plus the T-bill position and reports the surplus in USDai units", async () => {
      const { usdai, tbill } = f;
      expect(await usdai.liquidReserves()).to.equal(usdc(40_000));
      expect(await usdai.allocatedReserves()).to.equal(
        await tbill.previewRedeem(await tbill.balanceOf(usdai.target)),
      );
      await time.increase(YEAR / 2);
      const reserves = await usdai.totalReserves();
      expect(await usdai.surplus()).to.equal(reserves * SCALE - (await usdai.totalSupply()));
    });
  });
});

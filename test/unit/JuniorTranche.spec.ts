import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { id, MaxUint256, ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { JuniorTranche, MockERC20, MockLoanVaultForJunior, ReentrantToken } from "../../typechain-types";
import { createFixture } from "../helpers/fixture";
import { fuzzParams } from "../helpers/fuzz";
import { deployBehindProxy } from "../helpers/proxy";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";

const DAY = 24 * 3600;
const YEAR = 365 * DAY;
const LOCKUP_SECONDS = 30 * DAY;
const MIN_COVERAGE_BPS = 1_000n;
const BPS = 10_000n;
const UINT128_MAX = 2n ** 128n - 1n;
/** REGISTRAR_ROLE (contracts/libraries/Roles.sol); helpers/roles.ts is outside this change. */
const REGISTRAR = id("REGISTRAR_ROLE");

const juniorFixture = createFixture(async () => {
  const [admin, registrar, pauser, upgrader, alice, bob, carol, attacker] = await hre.ethers.getSigners();
  const usdai = (await hre.ethers.deployContract("MockERC20", [
    "USDai",
    "USDai",
    18,
  ])) as unknown as MockERC20;
  const tranche = await deployBehindProxy<JuniorTranche>("JuniorTranche", [
    admin.address,
    usdai.target,
    ZeroAddress,
    LOCKUP_SECONDS,
    MIN_COVERAGE_BPS,
  ]);
  const vault = (await hre.ethers.deployContract("MockLoanVaultForJunior", [
    tranche.target,
  ])) as unknown as MockLoanVaultForJunior;
  await tranche.setLoanVault(vault.target);
  await tranche.grantRole(Roles.LOAN_VAULT, vault.target);
  await tranche.grantRole(REGISTRAR, registrar.address);
  await tranche.grantRole(Roles.PAUSER, pauser.address);
  await tranche.grantRole(Roles.UPGRADER, upgrader.address);
  const expiry = BigInt(await time.latest()) + BigInt(YEAR);
  for (const holder of [alice, bob, attacker]) await tranche.connect(registrar).allow(holder.address, expiry);
  for (const account of [alice, bob, carol, attacker]) {
    await usdai.mint(account.address, usd(1_000_000));
    await usdai.connect(account).approve(tranche.target, MaxUint256);
  }
  await usdai.mint(vault.target, usd(1_000_000));
  return { admin, registrar, pauser, upgrader, alice, bob, carol, attacker, usdai, tranche, vault, expiry };
});

type Fixture = Awaited<ReturnType<typeof juniorFixture>>;

describe("JuniorTranche", () => {
  let f: Fixture;
  let tranche: JuniorTranche;
  let vault: MockLoanVaultForJunior;
  let usdai: MockERC20;
  let alice: HardhatEthersSigner, bob: HardhatEthersSigner, carol: HardhatEthersSigner;

  const reads = (): Reads => ({
    supply: () => tranche.totalSupply(),
    tracked: () => tranche.trackedAssets(),
    alice: () => tranche.balanceOf(alice.address),
    bob: () => tranche.balanceOf(bob.address),
    carol: () => tranche.balanceOf(carol.address),
    custody: () => tranche.balanceOf(tranche.target),
    aliceRequest: () => tranche.redeemRequest(alice.address).then((r) => [r.shares, r.unlocksAt]),
    bobRequest: () => tranche.redeemRequest(bob.address).then((r) => [r.shares, r.unlocksAt]),
    aliceUsdai: () => usdai.balanceOf(alice.address),
    bobUsdai: () => usdai.balanceOf(bob.address),
    trancheUsdai: () => usdai.balanceOf(tranche.target),
    vaultUsdai: () => usdai.balanceOf(vault.target),
    syncs: () => vault.syncCount(),
  });

  /** Runs `call`, which must revert; then checks nothing that `reads` sees moved. */
  const unchangedAfter = async (call: () => Promise<void>): Promise<void> => {
    const before = await snapshot(reads());
    await call();
    await expectUnchanged(before, reads());
  };

  const deposit = (who: HardhatEthersSigner, assets: bigint) =>
    tranche.connect(who).deposit(assets, who.address);
  const request = (who: HardhatEthersSigner, shares: bigint) =>
    tranche.connect(who).requestRedeem(shares, who.address, who.address);
  const unlocksAt = async (controller: string): Promise<bigint> =>
    (await tranche.redeemRequest(controller)).unlocksAt;
  const passLockup = async (controller: string) => time.increaseTo(await unlocksAt(controller));
  /** Assets `shares` redeem for now (the contract's `floor(shares * (nav + 1) / (supply + 1))`). */
  const redeemValue = async (shares: bigint) =>
    (shares * ((await tranche.totalAssets()) + 1n)) / ((await tranche.totalSupply()) + 1n);

  beforeEach(async () => {
    f = await juniorFixture();
    ({ tranche, vault, usdai, alice, bob, carol } = f);
  });

  describe("initialize", () => {
    it("sets metadata, asset, parameters and roles", async () => {
      expect(await tranche.name()).to.equal("Junior USDai");
      expect(await tranche.symbol()).to.equal("jUSDai");
      expect(await tranche.decimals()).to.equal(18n);
      expect(await tranche.asset()).to.equal(usdai.target);
      expect(await tranche.share()).to.equal(tranche.target);
      expect(await tranche.loanVault()).to.equal(vault.target);
      expect(await tranche.lockupSeconds()).to.equal(BigInt(LOCKUP_SECONDS));
      expect(await tranche.minCoverageBps()).to.equal(MIN_COVERAGE_BPS);
      expect(await tranche.hasRole(Roles.DEFAULT_ADMIN, f.admin.address)).to.equal(true);
    });

    it("takes its parameters and cannot be called twice", async () => {
      const fresh = await deployBehindProxy<JuniorTranche>("JuniorTranche", [
        f.admin.address,
        usdai.target,
        ZeroAddress,
        DAY,
        500,
      ]);
      expect(await fresh.lockupSeconds()).to.equal(BigInt(DAY));
      expect(await fresh.minCoverageBps()).to.equal(500n);
      expect(await fresh.loanVault()).to.equal(ZeroAddress);
      await expect(
        tranche.initialize(f.attacker.address, usdai.target, ZeroAddress, 0, 0),
      ).to.be.revertedWithCustomError(tranche, "InvalidInitialization");
    });

    it("is disabled on the implementation", async () => {
      const implementation = await hre.ethers.deployContract("JuniorTranche");
      await expect(
        implementation.getFunction("initialize")(f.admin.address, usdai.target, ZeroAddress, 0, 0),
      ).to.be.revertedWithCustomError(tranche, "InvalidInitialization");
    });

    it("reverts on zero addresses and out-of-range parameters", async () => {
      const admin = f.admin.address;
      await expect(
        deployBehindProxy("JuniorTranche", [ZeroAddress, usdai.target, ZeroAddress, 0, 0]),
      ).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAddress");
      await expect(
        deployBehindProxy("JuniorTranche", [admin, ZeroAddress, ZeroAddress, 0, 0]),
      ).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAddress");
      await expect(deployBehindProxy("JuniorTranche", [admin, usdai.target, ZeroAddress, YEAR + 1, 0]))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheParamOutOfRange")
        .withArgs(YEAR + 1, YEAR);
      await expect(deployBehindProxy("JuniorTranche", [admin, usdai.target, ZeroAddress, 0, 10_001]))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheParamOutOfRange")
        .withArgs(10_001, 10_000);
    });
  });

  describe("deposit", () => {
    it("mints at the price, tracks the assets and reports them to the vault", async () => {
      await expect(tranche.connect(alice).deposit(usd(1_000), bob.address))
        .to.emit(tranche, "Deposit")
        .withArgs(alice.address, bob.address, usd(1_000), usd(1_000))
        .and.to.emit(vault, "JuniorAssetsSynced")
        .withArgs(usd(1_000));
      expect(await tranche.balanceOf(bob.address)).to.equal(usd(1_000));
      expect(await tranche.trackedAssets()).to.equal(usd(1_000));
      expect(await tranche.totalAssets()).to.equal(usd(1_000));
      expect(await vault.syncedAssets()).to.equal(usd(1_000));
      expect(await vault.syncCount()).to.equal(2n); // setLoanVault, then the deposit
    });

    it("prices entry at the tracked assets while loans are impaired (impaired loans at their whole claim)", async () => {
      await deposit(alice, usd(1_000));
      await vault.setFirstLossClaim(usd(400));
      expect(await tranche.totalAssets()).to.equal(usd(600));
      const supply = await tranche.totalSupply();
      const tracked = await tranche.trackedAssets();
      const expected = (usd(500) * (supply + 1n)) / (tracked + 1n);
      expect(await tranche.previewDeposit(usd(500))).to.equal(expected);
      await deposit(bob, usd(500));
      expect(await tranche.balanceOf(bob.address)).to.equal(expected);
      // The claim is the same USD amount, now spread over both holders.
      expect(await tranche.encumberedAssets()).to.equal(usd(400));
      expect(await tranche.totalAssets()).to.equal(usd(1_100));
    });

    it("does not sync without a vault", async () => {
      await tranche.setLoanVault(ZeroAddress);
      const syncs = await vault.syncCount();
      await deposit(alice, usd(10));
      expect(await vault.syncCount()).to.equal(syncs);
      expect(await tranche.totalAssets()).to.equal(usd(10));
    });

    it("reverts while paused", async () => {
      await tranche.connect(f.pauser).pause();
      await unchangedAfter(async () => {
        await expect(deposit(alice, usd(1))).to.be.revertedWithCustomError(tranche, "EnforcedPause");
      });
    });

    it("reverts into a wiped-out tranche (shares outstanding, everything encumbered)", async () => {
      await deposit(alice, usd(1_000));
      await vault.setFirstLossClaim(usd(1_000));
      expect(await tranche.totalAssets()).to.equal(0n);
      expect(await tranche.maxDeposit(bob.address)).to.equal(0n);
      await unchangedAfter(async () => {
        await expect(deposit(bob, usd(1)))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheWipedOut")
          .withArgs(usd(1_000), usd(1_000), usd(1_000));
      });
    });

    it("reverts into a wiped-out tranche (cover drawn to zero, shares outstanding)", async () => {
      await deposit(alice, usd(1_000));
      await vault.drawCover(usd(1_000));
      await unchangedAfter(async () => {
        await expect(deposit(bob, usd(1)))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheWipedOut")
          .withArgs(0n, 0n, usd(1_000));
      });
    });

    it("reverts into an empty tranche that a claim would encumber at once", async () => {
      await vault.setFirstLossClaim(1n);
      await unchangedAfter(async () => {
        await expect(deposit(bob, usd(1)))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheWipedOut")
          .withArgs(0n, 1n, 0n);
      });
    });

    it("reverts for a receiver that is not allowlisted, or expired", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).deposit(usd(1), carol.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(carol.address, 0n);
      });
      await time.increaseTo(f.expiry);
      await unchangedAfter(async () => {
        await expect(deposit(alice, usd(1)))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(alice.address, f.expiry);
      });
    });

    it("reverts on zero assets and on a deposit that rounds to zero shares", async () => {
      await unchangedAfter(async () => {
        await expect(deposit(alice, 0n)).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAmount");
      });
      await deposit(alice, usd(1_000));
      await vault.payInterest(usd(1_000)); // price 2 USDai per share: 1 wei buys no share
      await unchangedAfter(async () => {
        await expect(deposit(bob, 1n)).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAmount");
      });
    });

    it("reverts above the tracked-assets slot's headroom", async () => {
      await deposit(alice, usd(1));
      const max = UINT128_MAX - usd(1);
      expect(await tranche.maxDeposit(alice.address)).to.equal(max);
      await unchangedAfter(async () => {
        await expect(deposit(alice, max + 1n))
          .to.be.revertedWithCustomError(tranche, "ERC4626ExceededMaxDeposit")
          .withArgs(alice.address, max + 1n, max);
      });
    });
  });

  describe("mint", () => {
    it("charges the entry price rounding up and reports the assets", async () => {
      await deposit(alice, usd(1_000));
      await vault.payInterest(usd(1)); // tracked 1001, supply 1000
      const expected = (usd(10) * (usd(1_001) + 1n) + usd(1_000)) / (usd(1_000) + 1n); // ceil
      expect(await tranche.previewMint(usd(10))).to.equal(expected);
      await expect(tranche.connect(bob).mint(usd(10), bob.address))
        .to.emit(tranche, "Deposit")
        .withArgs(bob.address, bob.address, expected, usd(10))
        .and.to.emit(vault, "JuniorAssetsSynced")
        .withArgs(usd(1_001) + expected);
      expect(await tranche.trackedAssets()).to.equal(usd(1_001) + expected);
    });

    it("reverts while paused", async () => {
      await tranche.connect(f.pauser).pause();
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).mint(usd(1), alice.address)).to.be.revertedWithCustomError(
          tranche,
          "EnforcedPause",
        );
      });
    });

    it("reverts into a wiped-out tranche", async () => {
      await deposit(alice, usd(100));
      await vault.setFirstLossClaim(usd(150));
      await unchangedAfter(async () => {
        await expect(tranche.connect(bob).mint(usd(1), bob.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheWipedOut")
          .withArgs(usd(100), usd(150), usd(100));
      });
    });

    it("reverts for a receiver that is not allowlisted", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).mint(usd(1), carol.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(carol.address, 0n);
      });
    });

    it("reverts above the tracked-assets slot's headroom", async () => {
      await deposit(alice, usd(1));
      const max = await tranche.maxMint(alice.address);
      expect(max).to.equal(UINT128_MAX - usd(1)); // price 1: shares = assets
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).mint(max + 1n, alice.address))
          .to.be.revertedWithCustomError(tranche, "ERC4626ExceededMaxMint")
          .withArgs(alice.address, max + 1n, max);
      });
    });

    it("reverts on zero shares", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).mint(0n, alice.address)).to.be.revertedWithCustomError(
          tranche,
          "JuniorTrancheZeroAmount",
        );
      });
    });
  });

  describe("requestRedeem", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
      await deposit(bob, usd(1_000));
    });

    it("locks the shares in custody until the lock-up ends", async () => {
      const tx = request(alice, usd(400));
      await expect(tx)
        .to.emit(tranche, "RedeemRequest")
        .withArgs(alice.address, alice.address, 0n, alice.address, usd(400));
      const at = BigInt(await time.latest()) + BigInt(LOCKUP_SECONDS);
      await expect(tx).to.emit(tranche, "RedeemRequestLocked").withArgs(alice.address, usd(400), at);
      expect(await tranche.balanceOf(tranche.target)).to.equal(usd(400));
      expect(await tranche.balanceOf(alice.address)).to.equal(usd(600));
      expect(await unlocksAt(alice.address)).to.equal(at);
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(400));
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(0n);
      // Locked shares still carry first loss and cover stays whole.
      expect(await tranche.seniorProtectedAssets()).to.equal(usd(2_000));
    });

    it("a top-up by the controller restarts the lock-up of the whole request", async () => {
      await request(alice, usd(100));
      await passLockup(alice.address);
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(usd(100));
      await request(alice, usd(50));
      const at = BigInt(await time.latest()) + BigInt(LOCKUP_SECONDS);
      const state = await tranche.redeemRequest(alice.address);
      expect([state.shares, state.unlocksAt]).to.deep.equal([usd(150), at]);
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(0n);
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(150));
    });

    it("an operator may request for the owner, and a spender within its allowance", async () => {
      await tranche.connect(alice).setOperator(bob.address, true);
      await tranche.connect(bob).requestRedeem(usd(10), alice.address, alice.address);
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(usd(10));

      await tranche.connect(bob).approve(carol.address, usd(20));
      await tranche.connect(carol).requestRedeem(usd(20), bob.address, bob.address);
      expect(await tranche.allowance(bob.address, carol.address)).to.equal(0n);
      expect((await tranche.redeemRequest(bob.address)).shares).to.equal(usd(20));
    });

    it("a holder past expiry can still request", async () => {
      await time.increaseTo(f.expiry);
      await request(alice, usd(1));
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(usd(1));
    });

    it("reverts when someone else tops up a controller's request (no one can delay an exit)", async () => {
      await request(alice, usd(100));
      await unchangedAfter(async () => {
        await expect(tranche.connect(bob).requestRedeem(usd(1), alice.address, bob.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotOperator")
          .withArgs(bob.address, alice.address);
      });
    });

    it("reverts when a request would not fit its slot (a tranche drawn to dust prices entry very low)", async () => {
      await vault.drawCover(usd(2_000) - 1n); // 1 wei tracked for 2,000e18 shares, and no claim: not wiped out
      await usdai.mint(bob.address, 10n ** 37n);
      await deposit(bob, 10n ** 37n);
      const shares = await tranche.balanceOf(bob.address);
      expect(shares > 2n ** 192n).to.equal(true);
      await unchangedAfter(async () => {
        await expect(request(bob, shares))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheAmountOverflow")
          .withArgs(shares);
      });
    });

    it("reverts on zero shares and a zero controller", async () => {
      await unchangedAfter(async () => {
        await expect(request(alice, 0n)).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAmount");
        await expect(
          tranche.connect(alice).requestRedeem(1n, ZeroAddress, alice.address),
        ).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAddress");
      });
    });

    it("reverts while paused", async () => {
      await tranche.connect(f.pauser).pause();
      await unchangedAfter(async () => {
        await expect(request(alice, 1n)).to.be.revertedWithCustomError(tranche, "EnforcedPause");
      });
    });

    it("reverts beyond the caller's allowance and beyond the owner's balance", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(carol).requestRedeem(1n, carol.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "ERC20InsufficientAllowance")
          .withArgs(carol.address, 0n, 1n);
        await expect(request(alice, usd(1_000) + 1n))
          .to.be.revertedWithCustomError(tranche, "ERC20InsufficientBalance")
          .withArgs(alice.address, usd(1_000), usd(1_000) + 1n);
      });
    });
  });

  describe("cancelRedeemRequest", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
      await request(alice, usd(300));
    });

    it("returns the shares to the controller", async () => {
      await expect(tranche.connect(alice).cancelRedeemRequest(alice.address))
        .to.emit(tranche, "RedeemRequestCancelled")
        .withArgs(alice.address, alice.address, usd(300));
      expect(await tranche.balanceOf(alice.address)).to.equal(usd(1_000));
      expect(await tranche.balanceOf(tranche.target)).to.equal(0n);
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(0n);
    });

    it("an operator may cancel, also while paused", async () => {
      await tranche.connect(alice).setOperator(bob.address, true);
      await tranche.connect(f.pauser).pause();
      await tranche.connect(bob).cancelRedeemRequest(alice.address);
      expect(await tranche.balanceOf(alice.address)).to.equal(usd(1_000));
    });

    it("reverts for a caller that is not the controller or its operator", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(bob).cancelRedeemRequest(alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotOperator")
          .withArgs(bob.address, alice.address);
      });
    });

    it("reverts without a request", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(bob).cancelRedeemRequest(bob.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNoRequest")
          .withArgs(bob.address);
      });
    });

    it("reverts when the controller can no longer receive shares", async () => {
      await f.tranche.connect(f.registrar).revoke(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).cancelRedeemRequest(alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(alice.address, 0n);
      });
    });
  });

  describe("setOperator", () => {
    it("approves and revokes an operator", async () => {
      await expect(tranche.connect(alice).setOperator(bob.address, true))
        .to.emit(tranche, "OperatorSet")
        .withArgs(alice.address, bob.address, true);
      expect(await tranche.isOperator(alice.address, bob.address)).to.equal(true);
      await tranche.connect(alice).setOperator(bob.address, false);
      expect(await tranche.isOperator(alice.address, bob.address)).to.equal(false);
    });

    it("reverts on the zero address", async () => {
      await expect(tranche.connect(alice).setOperator(ZeroAddress, true)).to.be.revertedWithCustomError(
        tranche,
        "JuniorTrancheZeroAddress",
      );
      expect(await tranche.isOperator(alice.address, ZeroAddress)).to.equal(false);
    });
  });

  describe("redeem", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
      await deposit(bob, usd(1_000));
      await request(alice, usd(500));
    });

    it("pays at the price of the claim, burns the shares and reports the assets", async () => {
      await passLockup(alice.address);
      await vault.setFirstLossClaim(usd(200)); // impaired during the lock-up: the requester bears it
      const assets = await redeemValue(usd(500));
      expect(assets).to.equal((usd(500) * (usd(1_800) + 1n)) / (usd(2_000) + 1n));
      await expect(tranche.connect(alice).redeem(usd(500), alice.address, alice.address))
        .to.emit(tranche, "Withdraw")
        .withArgs(alice.address, alice.address, alice.address, assets, usd(500))
        .and.to.emit(vault, "JuniorAssetsSynced")
        .withArgs(usd(2_000) - assets);
      expect(await tranche.trackedAssets()).to.equal(usd(2_000) - assets);
      expect(await tranche.totalSupply()).to.equal(usd(1_500));
      expect(await usdai.balanceOf(alice.address)).to.equal(usd(999_000) + assets);
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(0n);
    });

    it("claims in parts, by an operator to another allowlisted receiver, also while paused", async () => {
      await passLockup(alice.address);
      await tranche.connect(alice).setOperator(bob.address, true);
      await tranche.connect(f.pauser).pause();
      await tranche.connect(bob).redeem(usd(200), bob.address, alice.address);
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(usd(300));
      expect(await usdai.balanceOf(bob.address)).to.equal(usd(999_000) + usd(200));
    });

    it("a holder past expiry claims to itself", async () => {
      await time.increaseTo(f.expiry);
      await tranche.connect(alice).redeem(usd(500), alice.address, alice.address);
      expect(await usdai.balanceOf(alice.address)).to.equal(usd(999_500));
    });

    it("reverts on zero shares", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(
          tranche.connect(alice).redeem(0n, alice.address, alice.address),
        ).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAmount");
      });
    });

    it("reverts for a caller that is not the controller or its operator", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(bob).redeem(1n, bob.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotOperator")
          .withArgs(bob.address, alice.address);
      });
    });

    it("reverts to a receiver that is not allowlisted, or expired and not the controller", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(1n, carol.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(carol.address, 0n);
      });
      await time.increaseTo(f.expiry);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(1n, bob.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(bob.address, f.expiry);
      });
      // Revoked: not even to itself.
      await tranche.connect(f.registrar).revoke(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(alice.address, 0n);
      });
    });

    it("reverts while locked", async () => {
      const at = await unlocksAt(alice.address);
      await time.increaseTo(at - 10n);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheLocked")
          .withArgs(alice.address, at);
      });
    });

    it("reverts beyond the request", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(usd(500) + 1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheExceedsRequest")
          .withArgs(alice.address, usd(500) + 1n, usd(500));
        await expect(tranche.connect(bob).redeem(1n, bob.address, bob.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheExceedsRequest")
          .withArgs(bob.address, 1n, 0n);
      });
    });

    it("reverts when the exit would breach the coverage", async () => {
      await passLockup(alice.address);
      await vault.setLoanBook(usd(16_000)); // 10% needs 1,600 of 2,000
      const assets = await redeemValue(usd(500));
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).redeem(usd(500), alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached")
          .withArgs(usd(2_000) - assets, usd(16_000), MIN_COVERAGE_BPS);
      });
    });
  });

  describe("withdraw", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
      await deposit(bob, usd(1_000));
      await request(alice, usd(500));
    });

    it("burns shares for the assets rounding up", async () => {
      await passLockup(alice.address);
      await vault.setFirstLossClaim(usd(300) + 7n);
      const nav = await tranche.totalAssets();
      const supply = await tranche.totalSupply();
      const shares = (usd(100) * (supply + 1n) + nav) / (nav + 1n); // ceil
      await expect(tranche.connect(alice).withdraw(usd(100), alice.address, alice.address))
        .to.emit(tranche, "Withdraw")
        .withArgs(alice.address, alice.address, alice.address, usd(100), shares)
        .and.to.emit(vault, "JuniorAssetsSynced")
        .withArgs(usd(1_900));
      expect((await tranche.redeemRequest(alice.address)).shares).to.equal(usd(500) - shares);
      expect(await tranche.totalSupply()).to.equal(supply - shares);
    });

    it("withdraws exactly maxWithdraw", async () => {
      await passLockup(alice.address);
      await vault.setFirstLossClaim(usd(123) + 45n);
      await vault.setLoanBook(usd(15_000)); // coverage limits the exit
      const max = await tranche.maxWithdraw(alice.address);
      expect(max).to.equal((await tranche.totalAssets()) - usd(1_500));
      await tranche.connect(alice).withdraw(max, alice.address, alice.address);
      await expect(
        tranche.connect(alice).withdraw(1n, alice.address, alice.address),
      ).to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached");
    });

    it("reverts on zero assets", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(
          tranche.connect(alice).withdraw(0n, alice.address, alice.address),
        ).to.be.revertedWithCustomError(tranche, "JuniorTrancheZeroAmount");
      });
    });

    it("reverts for a caller that is not the controller or its operator", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(carol).withdraw(1n, carol.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotOperator")
          .withArgs(carol.address, alice.address);
      });
    });

    it("reverts to a receiver that is not allowlisted", async () => {
      await passLockup(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).withdraw(1n, carol.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(carol.address, 0n);
      });
    });

    it("reverts while locked", async () => {
      const at = await unlocksAt(alice.address);
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).withdraw(1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheLocked")
          .withArgs(alice.address, at);
      });
    });

    it("reverts beyond the request", async () => {
      await passLockup(alice.address);
      const shares = usd(500) + 1n; // 1:1 price, rounding up
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).withdraw(usd(500) + 1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheExceedsRequest")
          .withArgs(alice.address, shares, usd(500));
      });
    });

    it("reverts when the exit would breach the coverage", async () => {
      await passLockup(alice.address);
      await vault.setLoanBook(usd(16_000));
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).withdraw(usd(400) + 1n, alice.address, alice.address))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached")
          .withArgs(usd(1_600) - 1n, usd(16_000), MIN_COVERAGE_BPS);
      });
      await tranche.connect(alice).withdraw(usd(400), alice.address, alice.address);
      expect(await tranche.totalAssets()).to.equal(usd(1_600));
    });
  });

  describe("drawCover", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
    });

    it("pays the vault and takes the assets out, without a sync", async () => {
      const syncs = await vault.syncCount();
      await expect(vault.drawCover(usd(300)))
        .to.emit(tranche, "CoverDrawn")
        .withArgs(usd(300), usd(300), usd(700));
      expect(await vault.lastCoverPaid()).to.equal(usd(300));
      expect(await tranche.trackedAssets()).to.equal(usd(700));
      expect(await usdai.balanceOf(vault.target)).to.equal(usd(1_000_300));
      expect(await vault.syncCount()).to.equal(syncs);
    });

    it("pays what it has, from locked shares' assets too, and never reverts for lack of funds", async () => {
      await request(alice, usd(1_000));
      await usdai.connect(bob).transfer(tranche.target, usd(50)); // a donation is not cover
      await expect(vault.drawCover(usd(5_000)))
        .to.emit(tranche, "CoverDrawn")
        .withArgs(usd(5_000), usd(1_000), 0n);
      expect(await vault.lastCoverPaid()).to.equal(usd(1_000));
      await expect(vault.drawCover(usd(1)))
        .to.emit(tranche, "CoverDrawn")
        .withArgs(usd(1), 0n, 0n);
      expect(await vault.lastCoverPaid()).to.equal(0n);
      expect(await usdai.balanceOf(tranche.target)).to.equal(usd(50));
    });

    it("reverts for a caller without LOAN_VAULT", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).drawCover(usd(1)))
          .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
          .withArgs(alice.address, Roles.LOAN_VAULT);
      });
    });
  });

  describe("receiveInterest", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
    });

    it("credits the pushed interest, without a sync", async () => {
      const syncs = await vault.syncCount();
      await expect(vault.payInterest(usd(25)))
        .to.emit(tranche, "InterestReceived")
        .withArgs(usd(25), usd(1_025));
      expect(await tranche.totalAssets()).to.equal(usd(1_025));
      expect(await tranche.convertToAssets(usd(1))).to.equal(
        (usd(1) * (usd(1_025) + 1n)) / (usd(1_000) + 1n),
      );
      expect(await vault.syncCount()).to.equal(syncs);
    });

    it("reverts for a caller without LOAN_VAULT", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).receiveInterest(usd(1)))
          .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
          .withArgs(alice.address, Roles.LOAN_VAULT);
      });
    });

    it("reverts when the tracked assets would overflow their slot", async () => {
      const amount = UINT128_MAX - usd(1_000) + 1n;
      await unchangedAfter(async () => {
        await expect(vault.bookInterest(amount))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheAmountOverflow")
          .withArgs(UINT128_MAX + 1n);
      });
    });
  });

  describe("allow", () => {
    it("allowlists a holder until an expiry", async () => {
      const expiry = BigInt(await time.latest()) + 100n;
      await expect(tranche.connect(f.registrar).allow(carol.address, expiry))
        .to.emit(tranche, "HolderAllowed")
        .withArgs(carol.address, expiry);
      expect(await tranche.holderExpiry(carol.address)).to.equal(expiry);
      expect(await tranche.isAllowlisted(carol.address)).to.equal(true);
      await deposit(carol, usd(1));
      await time.increaseTo(expiry);
      expect(await tranche.isAllowlisted(carol.address)).to.equal(false);
      expect(await tranche.maxDeposit(carol.address)).to.equal(0n);
    });

    it("reverts for a caller without REGISTRAR", async () => {
      await expect(tranche.connect(alice).allow(carol.address, f.expiry))
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, REGISTRAR);
      expect(await tranche.holderExpiry(carol.address)).to.equal(0n);
    });

    it("reverts on the zero address and an expiry that is not in the future", async () => {
      await expect(tranche.connect(f.registrar).allow(ZeroAddress, f.expiry)).to.be.revertedWithCustomError(
        tranche,
        "JuniorTrancheZeroAddress",
      );
      const now = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(now);
      await expect(tranche.connect(f.registrar).allow(carol.address, now))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheExpiryPassed")
        .withArgs(now, now);
      expect(await tranche.holderExpiry(carol.address)).to.equal(0n);
    });
  });

  describe("revoke", () => {
    it("removes a holder, who can then no longer receive shares", async () => {
      await deposit(alice, usd(10));
      await expect(tranche.connect(f.registrar).revoke(bob.address))
        .to.emit(tranche, "HolderRevoked")
        .withArgs(bob.address);
      expect(await tranche.holderExpiry(bob.address)).to.equal(0n);
      await expect(tranche.connect(alice).transfer(bob.address, 1n))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
        .withArgs(bob.address, 0n);
    });

    it("reverts for a caller without REGISTRAR", async () => {
      await expect(tranche.connect(alice).revoke(bob.address))
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, REGISTRAR);
      expect(await tranche.holderExpiry(bob.address)).to.equal(f.expiry);
    });
  });

  describe("transfer (registered notes)", () => {
    beforeEach(async () => {
      await deposit(alice, usd(10));
    });

    it("moves shares between allowlisted holders; an expired or revoked sender may still send", async () => {
      await tranche.connect(alice).transfer(bob.address, usd(1));
      await tranche.connect(f.registrar).revoke(alice.address);
      await tranche.connect(alice).transfer(bob.address, usd(1));
      expect(await tranche.balanceOf(bob.address)).to.equal(usd(2));
    });

    it("reverts to an account that is not allowlisted, or expired", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).transfer(carol.address, 1n))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(carol.address, 0n);
      });
      await tranche.connect(alice).approve(carol.address, 1n);
      await time.increaseTo(f.expiry);
      await unchangedAfter(async () => {
        await expect(tranche.connect(carol).transferFrom(alice.address, bob.address, 1n))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheNotAllowlisted")
          .withArgs(bob.address, f.expiry);
      });
    });
  });

  describe("setLoanVault", () => {
    it("switches the vault and reports the assets to the new one", async () => {
      await deposit(alice, usd(100));
      const next = await hre.ethers.deployContract("MockLoanVaultForJunior", [tranche.target]);
      await expect(tranche.setLoanVault(next.target))
        .to.emit(tranche, "LoanVaultSet")
        .withArgs(next.target)
        .and.to.emit(next, "JuniorAssetsSynced")
        .withArgs(usd(100));
      expect(await tranche.loanVault()).to.equal(next.target);
    });

    it("reverts for a caller without DEFAULT_ADMIN", async () => {
      await unchangedAfter(async () => {
        await expect(tranche.connect(alice).setLoanVault(ZeroAddress))
          .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
          .withArgs(alice.address, Roles.DEFAULT_ADMIN);
      });
      expect(await tranche.loanVault()).to.equal(vault.target);
    });

    it("reverts while the current vault reports a first-loss claim", async () => {
      await vault.setFirstLossClaim(5n);
      await unchangedAfter(async () => {
        await expect(tranche.setLoanVault(ZeroAddress))
          .to.be.revertedWithCustomError(tranche, "JuniorTrancheLoanVaultInUse")
          .withArgs(5n);
      });
      expect(await tranche.loanVault()).to.equal(vault.target);
    });
  });

  describe("setMinCoverageBps", () => {
    it("sets the minimum coverage", async () => {
      await expect(tranche.setMinCoverageBps(10_000)).to.emit(tranche, "MinCoverageSet").withArgs(10_000);
      expect(await tranche.minCoverageBps()).to.equal(10_000n);
    });

    it("reverts for a caller without DEFAULT_ADMIN and above 10,000", async () => {
      await expect(tranche.connect(alice).setMinCoverageBps(1))
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, Roles.DEFAULT_ADMIN);
      await expect(tranche.setMinCoverageBps(10_001))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheParamOutOfRange")
        .withArgs(10_001, 10_000);
      expect(await tranche.minCoverageBps()).to.equal(MIN_COVERAGE_BPS);
    });
  });

  describe("setLockupSeconds", () => {
    it("sets the lock-up for later requests; existing ones keep theirs", async () => {
      await deposit(alice, usd(10));
      await request(alice, usd(1));
      const at = await unlocksAt(alice.address);
      await expect(tranche.setLockupSeconds(0)).to.emit(tranche, "LockupSet").withArgs(0);
      expect(await unlocksAt(alice.address)).to.equal(at);
      await deposit(bob, usd(10));
      await request(bob, usd(1));
      expect(await tranche.claimableRedeemRequest(0, bob.address)).to.equal(usd(1));
    });

    it("reverts for a caller without DEFAULT_ADMIN and above a year", async () => {
      await expect(tranche.connect(alice).setLockupSeconds(1))
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, Roles.DEFAULT_ADMIN);
      await expect(tranche.setLockupSeconds(YEAR + 1))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheParamOutOfRange")
        .withArgs(YEAR + 1, YEAR);
      expect(await tranche.lockupSeconds()).to.equal(BigInt(LOCKUP_SECONDS));
    });
  });

  describe("pause / unpause", () => {
    it("the guardian stops entry and requests; governance resumes", async () => {
      await deposit(alice, usd(10));
      await expect(tranche.connect(alice).pause())
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, Roles.PAUSER);
      await tranche.connect(f.pauser).pause();
      expect(await tranche.maxDeposit(alice.address)).to.equal(0n);
      expect(await tranche.maxMint(alice.address)).to.equal(0n);
      await expect(tranche.connect(f.pauser).unpause())
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(f.pauser.address, Roles.DEFAULT_ADMIN);
      await tranche.unpause();
      await request(alice, usd(1));
    });

    it("reverts when already in the requested state", async () => {
      await expect(tranche.unpause()).to.be.revertedWithCustomError(tranche, "ExpectedPause");
      await tranche.connect(f.pauser).pause();
      await expect(tranche.connect(f.pauser).pause()).to.be.revertedWithCustomError(tranche, "EnforcedPause");
      expect(await tranche.paused()).to.equal(true);
    });
  });

  describe("upgradeToAndCall", () => {
    it("reverts for a caller without UPGRADER", async () => {
      const next = await hre.ethers.deployContract("JuniorTranche");
      await expect(tranche.connect(f.admin).upgradeToAndCall(next.target, "0x"))
        .to.be.revertedWithCustomError(tranche, "AccessControlUnauthorizedAccount")
        .withArgs(f.admin.address, Roles.UPGRADER);
      await tranche.connect(f.upgrader).upgradeToAndCall(next.target, "0x");
      expect(await tranche.minCoverageBps()).to.equal(MIN_COVERAGE_BPS);
    });
  });

  describe("totalAssets / encumberedAssets / seniorProtectedAssets", () => {
    it("first-loss encumbrance moves the junior price; a donation does not; a cure restores it", async () => {
      await deposit(alice, usd(1_000));
      const one = usd(1);
      const priceAt = (nav: bigint, supply: bigint) => (one * (nav + 1n)) / (supply + 1n);
      expect(await tranche.convertToAssets(one)).to.equal(priceAt(usd(1_000), usd(1_000)));

      await vault.setFirstLossClaim(usd(250));
      expect(await tranche.encumberedAssets()).to.equal(usd(250));
      expect(await tranche.totalAssets()).to.equal(usd(750));
      expect(await tranche.seniorProtectedAssets()).to.equal(usd(1_000));
      expect(await tranche.convertToAssets(one)).to.equal(priceAt(usd(750), usd(1_000)));
      expect(await tranche.convertToAssets(one)).to.equal(750_000_000_000_000_000n);

      await usdai.connect(bob).transfer(tranche.target, usd(500));
      expect(await tranche.totalAssets()).to.equal(usd(750));
      expect(await tranche.trackedAssets()).to.equal(usd(1_000));
      expect(await tranche.convertToAssets(one)).to.equal(priceAt(usd(750), usd(1_000)));

      // The claim is capped at the tracked assets.
      await vault.setFirstLossClaim(usd(5_000));
      expect(await tranche.encumberedAssets()).to.equal(usd(1_000));
      expect(await tranche.totalAssets()).to.equal(0n);

      await vault.setFirstLossClaim(0n);
      expect(await tranche.totalAssets()).to.equal(usd(1_000));
      expect(await tranche.convertToAssets(one)).to.equal(one);
    });

    it("reads no encumbrance without a vault", async () => {
      await deposit(alice, usd(10));
      await vault.setFirstLossClaim(usd(5));
      expect(await tranche.totalAssets()).to.equal(usd(5));
      await vault.setFirstLossClaim(0n);
      await tranche.setLoanVault(ZeroAddress);
      expect(await tranche.encumberedAssets()).to.equal(0n);
      expect(await tranche.totalAssets()).to.equal(usd(10));
      expect(await tranche.coverageBps()).to.equal(MaxUint256);
    });
  });

  describe("checkCoverage / coverageBps", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
    });

    it("passes at the minimum and reverts one unit of book beyond it", async () => {
      await vault.checkCoverage(usd(10_000));
      await tranche.checkCoverage(0n);
      await expect(vault.checkCoverage(usd(10_000) + 1n))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached")
        .withArgs(usd(1_000), usd(10_000) + 1n, MIN_COVERAGE_BPS);
    });

    it("measures against the assets net of the encumbrance", async () => {
      await vault.setFirstLossClaim(usd(100));
      await expect(tranche.checkCoverage(usd(10_000)))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached")
        .withArgs(usd(900), usd(10_000), MIN_COVERAGE_BPS);
      await tranche.checkCoverage(usd(9_000));
    });

    it("reports coverage in basis points, the maximum without a book", async () => {
      expect(await tranche.coverageBps()).to.equal(MaxUint256);
      await vault.setLoanBook(usd(3_000));
      expect(await tranche.coverageBps()).to.equal((usd(1_000) * BPS) / usd(3_000));
      await vault.setFirstLossClaim(usd(400));
      expect(await tranche.coverageBps()).to.equal(2_000n);
    });
  });

  /** `floor(shares * (nav + 1) / (supply + 1))`, the contract's claim price, for given figures. */
  const redeemValueAt = async (shares: bigint, nav: bigint, supply: bigint) =>
    (shares * (nav + 1n)) / (supply + 1n);

  describe("claimableRedeemRequest / pendingRedeemRequest / maxRedeem / maxWithdraw", () => {
    beforeEach(async () => {
      await deposit(alice, usd(1_000));
      await deposit(bob, usd(1_000));
      await request(alice, usd(1_000));
    });

    it("a controller without a request has nothing claimable or pending", async () => {
      expect(await tranche.claimableRedeemRequest(0, carol.address)).to.equal(0n);
      expect(await tranche.pendingRedeemRequest(0, carol.address)).to.equal(0n);
    });

    it("without a minimum coverage the whole unlocked request is claimable, whatever the book", async () => {
      await tranche.setMinCoverageBps(0);
      await vault.setLoanBook(usd(1_000_000_000));
      await passLockup(alice.address);
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(usd(1_000));
      const before = await usdai.balanceOf(alice.address);
      await tranche.connect(alice).redeem(usd(1_000), alice.address, alice.address);
      expect((await usdai.balanceOf(alice.address)) - before).to.equal(
        await redeemValueAt(usd(1_000), usd(2_000), usd(2_000)),
      );
    });

    it("a holder of a wiped-out tranche can still exit, for nothing: its shares burn and no USDai moves", async () => {
      await tranche.setMinCoverageBps(0);
      await vault.setFirstLossClaim(usd(2_000));
      expect(await tranche.totalAssets()).to.equal(0n);
      await passLockup(alice.address);
      const before = await usdai.balanceOf(alice.address);
      const supply = await tranche.totalSupply();
      await expect(tranche.connect(alice).redeem(usd(1_000), alice.address, alice.address))
        .to.emit(tranche, "Withdraw")
        .withArgs(alice.address, alice.address, alice.address, 0n, usd(1_000));
      expect(await usdai.balanceOf(alice.address)).to.equal(before);
      expect(await tranche.totalSupply()).to.equal(supply - usd(1_000));
      expect(await tranche.trackedAssets()).to.equal(usd(2_000));
    });

    it("nothing is claimable before the lock-up ends", async () => {
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(0n);
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(1_000));
      expect(await tranche.maxRedeem(alice.address)).to.equal(0n);
      expect(await tranche.maxWithdraw(alice.address)).to.equal(0n);
      expect(await tranche.maxWithdraw(bob.address)).to.equal(0n);
    });

    it("a coverage-gated claim is partially claimable", async () => {
      await passLockup(alice.address);
      await vault.setLoanBook(usd(12_000)); // 10% keeps 1,200 of 2,000: 800 may leave
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(usd(800));
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(200));
      expect(await tranche.maxRedeem(alice.address)).to.equal(usd(800));
      expect(await tranche.maxWithdraw(alice.address)).to.equal(usd(800));
      await expect(tranche.connect(alice).redeem(usd(800) + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached")
        .withArgs(usd(1_200) - 1n, usd(12_000), MIN_COVERAGE_BPS);
      await tranche.connect(alice).redeem(usd(800), alice.address, alice.address);
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(0n);
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(200));
      // The book shrinks: the rest becomes claimable.
      await vault.setLoanBook(usd(10_000));
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(usd(200));
    });

    it("the claimable amount is exact at odd prices: it claims, one share more breaches", async () => {
      await passLockup(alice.address);
      const cases: [bigint, bigint, bigint][] = [
        // [first-loss claim, loan book, interest]
        [usd(333) + 7n, usd(12_345) + 11n, 0n],
        [usd(1) + 1n, usd(17_000) + 3n, usd(77) + 5n],
        [0n, usd(19_999) + 999n, usd(3)],
      ];
      for (const [claim, book, interest] of cases) {
        const snap = await takeSnapshot();
        await vault.setFirstLossClaim(claim);
        await vault.setLoanBook(book);
        if (interest !== 0n) await vault.payInterest(interest);
        const claimable = await tranche.claimableRedeemRequest(0, alice.address);
        expect(claimable > 0n && claimable < usd(1_000), `claimable ${claimable}`).to.equal(true);
        expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(1_000) - claimable);
        await expect(
          tranche.connect(alice).redeem(claimable + 1n, alice.address, alice.address),
        ).to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached");
        const nav = await tranche.totalAssets();
        const assets = await redeemValue(claimable);
        await tranche.connect(alice).redeem(claimable, alice.address, alice.address);
        expect((nav - assets) * BPS >= MIN_COVERAGE_BPS * book).to.equal(true);
        await snap.restore();
      }
    });

    it("property: the claimable amount claims, one share more breaches or exceeds the request", async () => {
      await passLockup(alice.address);
      const usdAmount = (max: number) => fc.bigInt({ min: 0n, max: usd(max) });
      await fc.assert(
        fc.asyncProperty(
          usdAmount(2_500),
          usdAmount(40_000),
          usdAmount(500),
          async (claim, book, interest) => {
            const snap = await takeSnapshot();
            try {
              await vault.setFirstLossClaim(claim);
              await vault.setLoanBook(book);
              if (interest !== 0n) await vault.payInterest(interest);
              const claimable = await tranche.claimableRedeemRequest(0, alice.address);
              const nav = await tranche.totalAssets();
              const covered = nav * BPS >= MIN_COVERAGE_BPS * book;
              if (!covered) expect(claimable).to.equal(0n);
              if (claimable < usd(1_000) && covered) {
                await expect(
                  tranche.connect(alice).redeem(claimable + 1n, alice.address, alice.address),
                ).to.be.revertedWithCustomError(tranche, "JuniorTrancheCoverageBreached");
              }
              if (claimable !== 0n) {
                const assets = await redeemValue(claimable);
                await tranche.connect(alice).redeem(claimable, alice.address, alice.address);
                expect((nav - assets) * BPS >= MIN_COVERAGE_BPS * book).to.equal(true);
              }
            } finally {
              await snap.restore();
            }
          },
        ),
        fuzzParams(25),
      );
    });

    it("nothing is claimable while coverage is already breached", async () => {
      await passLockup(alice.address);
      await vault.setLoanBook(usd(20_000) + 1n);
      expect(await tranche.claimableRedeemRequest(0, alice.address)).to.equal(0n);
      expect(await tranche.maxWithdraw(alice.address)).to.equal(0n);
      expect(await tranche.pendingRedeemRequest(0, alice.address)).to.equal(usd(1_000));
    });
  });

  describe("previewRedeem / previewWithdraw / maxDeposit / maxMint", () => {
    it("previews of the asynchronous exit revert", async () => {
      await expect(tranche.previewRedeem(1n)).to.be.revertedWithCustomError(
        tranche,
        "JuniorTrancheAsyncPreview",
      );
      await expect(tranche.previewWithdraw(1n)).to.be.revertedWithCustomError(
        tranche,
        "JuniorTrancheAsyncPreview",
      );
    });

    it("entry limits are zero for a receiver that is not allowlisted", async () => {
      expect(await tranche.maxDeposit(carol.address)).to.equal(0n);
      expect(await tranche.maxMint(carol.address)).to.equal(0n);
      expect(await tranche.maxMint(alice.address)).to.equal(UINT128_MAX);
    });
  });

  describe("supportsInterface", () => {
    it("reports ERC-7540 operator and redeem, ERC-7575 and AccessControl", async () => {
      for (const interfaceId of ["0xe3bc4e65", "0x620ee8e4", "0x2f0a18c5", "0x7965db0b", "0x01ffc9a7"]) {
        expect(await tranche.supportsInterface(interfaceId), interfaceId).to.equal(true);
      }
      expect(await tranche.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("scenarios", () => {
    it("a loss is drawn, then interest is received", async () => {
      await deposit(alice, usd(1_000));
      await deposit(bob, usd(1_000));
      await request(alice, usd(1_000));
      // A loan is impaired: the junior's price falls first.
      await vault.setFirstLossClaim(usd(300));
      expect(await tranche.totalAssets()).to.equal(usd(1_700));
      // It is written off: the vault draws the cover and drops the claim.
      await vault.drawCover(usd(300));
      await vault.setFirstLossClaim(0n);
      expect(await tranche.trackedAssets()).to.equal(usd(1_700));
      expect(await tranche.totalAssets()).to.equal(usd(1_700));
      // Interest comes in.
      await vault.payInterest(usd(100));
      expect(await tranche.totalAssets()).to.equal(usd(1_800));
      expect(await usdai.balanceOf(vault.target)).to.equal(usd(1_000_200));
      await passLockup(alice.address);
      const expected = (usd(1_000) * (usd(1_800) + 1n)) / (usd(2_000) + 1n);
      await tranche.connect(alice).redeem(usd(1_000), alice.address, alice.address);
      expect(await usdai.balanceOf(alice.address)).to.equal(usd(999_000) + expected);
      expect(await tranche.trackedAssets()).to.equal(usd(1_800) - expected);
      expect(await vault.syncedAssets()).to.equal(usd(1_800) - expected);
    });

    it("an inflation attack fails: a donation does not move the price", async () => {
      const attacker = f.attacker;
      await tranche.connect(attacker).deposit(1n, attacker.address);
      await usdai.connect(attacker).transfer(tranche.target, usd(1_000));
      expect(await tranche.totalAssets()).to.equal(1n);
      await deposit(alice, usd(1_000));
      expect(await tranche.balanceOf(alice.address)).to.equal(usd(1_000));
      await request(alice, usd(1_000));
      await request(attacker, 1n);
      await passLockup(attacker.address);
      await tranche.connect(alice).redeem(usd(1_000), alice.address, alice.address);
      await tranche.connect(attacker).redeem(1n, attacker.address, attacker.address);
      expect(await usdai.balanceOf(alice.address)).to.equal(usd(1_000_000));
      // The attacker's donation stays untracked in the tranche; it got back its one wei at most.
      expect(await usdai.balanceOf(attacker.address)).to.equal(usd(999_000));
      expect(await tranche.trackedAssets()).to.equal(0n);
      expect(await tranche.totalSupply()).to.equal(0n);
    });
  });
  describe("reentrancy", () => {
    /** The tranche over a token whose transfers call back into it (ERC-777 style). The token holds LOAN_VAULT and
     * DEFAULT_ADMIN so its callbacks get past the role checks to the guard. */
    it("every guarded entry point refuses re-entry during a token transfer", async () => {
      const token = (await hre.ethers.deployContract("ReentrantToken", [18])) as unknown as ReentrantToken;
      const reentrant = await deployBehindProxy<JuniorTranche>("JuniorTranche", [
        f.admin.address,
        token.target,
        ZeroAddress,
        LOCKUP_SECONDS,
        0n,
      ]);
      await reentrant.grantRole(Roles.LOAN_VAULT, token.target);
      await reentrant.grantRole(Roles.DEFAULT_ADMIN, token.target);
      await reentrant.grantRole(REGISTRAR, f.registrar.address);
      await reentrant.connect(f.registrar).allow(alice.address, f.expiry);
      await token.mint(alice.address, usd(1_000));
      await token.connect(alice).approve(reentrant.target, MaxUint256);
      await reentrant.connect(alice).deposit(usd(100), alice.address);
      const who = alice.address;
      const i = reentrant.interface;
      const calls: [string, string][] = [
        ["deposit", i.encodeFunctionData("deposit", [1n, who])],
        ["mint", i.encodeFunctionData("mint", [1n, who])],
        ["requestRedeem", i.encodeFunctionData("requestRedeem", [1n, who, who])],
        ["cancelRedeemRequest", i.encodeFunctionData("cancelRedeemRequest", [who])],
        ["redeem", i.encodeFunctionData("redeem", [1n, who, who])],
        ["withdraw", i.encodeFunctionData("withdraw", [1n, who, who])],
        ["drawCover", i.encodeFunctionData("drawCover", [1n])],
        ["receiveInterest", i.encodeFunctionData("receiveInterest", [1n])],
        ["setLoanVault", i.encodeFunctionData("setLoanVault", [ZeroAddress])],
      ];
      const trancheReads: Reads = {
        supply: () => reentrant.totalSupply(),
        tracked: () => reentrant.trackedAssets(),
        balance: () => reentrant.balanceOf(who),
        tokens: () => token.balanceOf(reentrant.target),
      };
      for (const [name, data] of calls) {
        await token.setHook(reentrant.target, data);
        const before = await snapshot(trancheReads);
        await expect(reentrant.connect(alice).deposit(usd(1), who), name).to.be.revertedWithCustomError(
          reentrant,
          "ReentrancyGuardReentrantCall",
        );
        await expectUnchanged(before, trancheReads);
      }
      await token.setHook(ZeroAddress, "0x");
      await reentrant.connect(alice).deposit(usd(1), who);
      expect(await reentrant.balanceOf(who)).to.equal(usd(101));
    });
  });
});

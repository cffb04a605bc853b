import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { stakingFixture, type StakingFixture } from "../fixtures/staking";
import { exitAtEarliest } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { usd } from "../../helpers/units";

const DAY = 24 * 3600;
const HOUR = 3600;
const COOLDOWN = 7 * DAY;

/**
 * Regressions for the sUSDai items of issue #16 (credit state machine), one `describe` per item, each written to fail
 * on the code before its fix for the reason the issue gives. The ordinary behaviour of the same functions is covered
 * in StakedUSDai.spec.ts.
 */
describe("StakedUSDai: credit state machine regressions (#16)", () => {
  let f: StakingFixture;
  let lender1: HardhatEthersSigner, lender2: HardhatEthersSigner;

  const reads = (): Reads => ({
    supply: () => f.susdai.totalSupply(),
    idle: () => f.susdai.idleAssets(),
    totalAssets: () => f.susdai.totalAssets(),
    unvested: () => f.susdai.unvestedGains(),
    lender1: () => f.susdai.balanceOf(lender1.address),
    custody: () => f.susdai.balanceOf(f.susdai.target),
    pending: () => f.susdai.totalPendingShares(),
    claimable: () => f.susdai.totalClaimableAssets(),
    queue: () => f.susdai.queueBounds(),
    vaultUsdai: () => f.usdai.balanceOf(f.susdai.target),
  });

  beforeEach(async () => {
    f = await stakingFixture();
    ({ lender1, lender2 } = f.actors);
  });

  /** The loan-vault double pushes `amount` USDai to sUSDai as a lump gain (fees, recoveries, an auction surplus). */
  const gain = async (amount: bigint): Promise<void> => {
    await f.usdai.connect(f.actors.lender3).transfer(f.loans.target, amount);
    await f.loans.gain(amount);
  };

  describe("#16.11 vesting is not reset by new gains", () => {
    it("hourly one-dollar gains do not hold back a lump that was already vesting", async () => {
      const { susdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000_000), lender1.address);
      const lump = usd(100_000);
      const t0 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t0);
      await gain(lump);
      // A permissionless harvest (or any small gain) every hour for a whole vesting period.
      for (let h = 1; h <= 24; h++) {
        await time.setNextBlockTimestamp(t0 + BigInt(h * HOUR));
        await gain(usd(1));
      }
      // One vesting period after the lump, the lump is fully in NAV: only the hourly dollars may still be unvested.
      expect(await susdai.unvestedGains()).to.be.lessThanOrEqual(usd(24));
      expect(await susdai.totalAssets()).to.be.greaterThanOrEqual(usd(1_000_000) + lump);
    });

    it("a lump booked while an earlier gain vests still takes the full vesting period", async () => {
      const { susdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000_000), lender1.address);
      const t0 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t0);
      await gain(usd(1));
      const t1 = t0 + BigInt(23 * HOUR);
      await time.setNextBlockTimestamp(t1);
      const lump = usd(100_000);
      await gain(lump);
      // At any point of the next vesting period, at least the linear remainder of the lump is still unvested: a
      // deposit made just before it cannot capture it faster than over a full period.
      for (const at of [t1, t1 + BigInt(HOUR), t1 + BigInt(DAY / 2), t1 + BigInt(DAY) - 1n]) {
        if (at > BigInt(await time.latest())) await time.increaseTo(at);
        const remaining = (lump * (t1 + BigInt(DAY) - at)) / BigInt(DAY);
        expect(await susdai.unvestedGains(), `at +${at - t1} s`).to.be.greaterThanOrEqual(remaining);
      }
    });
  });

  describe("#16.12c the redemption request minimum is in USDai, not shares", () => {
    it("a request worth more than the minimum is accepted after the share price has risen", async () => {
      const { susdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      // The share price doubles (a gain as large as the vault, fully vested).
      await gain(usd(1_000));
      await time.increase(3 * DAY);
      expect(await susdai.convertToAssets(usd(1))).to.be.closeTo(usd(2), 10n ** 6n);
      // 6 shares are worth about 12 USDai, above the 10 USDai minimum.
      await susdai.connect(lender1).requestRedeem(usd(6), lender1.address, lender1.address);
      expect(await susdai.pendingRedeemRequest(0n, lender1.address)).to.equal(usd(6));
    });

    it("a request worth less than the minimum is refused after a loss, with shares, value and minimum", async () => {
      const { susdai, loans, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await loans.fund(actors.borrower1.address, usd(600));
      await loans.writeOff(usd(500));
      // NAV 500 over 1,000 shares: 15 shares are worth 7.5 USDai, below the 10 USDai minimum.
      const value = await susdai.convertToAssets(usd(15));
      expect(value).to.be.closeTo(usd(7.5), 10n ** 6n);
      const before = await snapshot(reads());
      await expect(susdai.connect(lender1).requestRedeem(usd(15), lender1.address, lender1.address))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiRequestTooSmall")
        .withArgs(usd(15), value, usd(10));
      await expectUnchanged(before, reads());
    });
  });

  describe("#16.12d donated USDai and gains booked into an empty vault reach NAV through governance", () => {
    it("a gain booked before the first 1e18 shares and a later donation vest into NAV", async () => {
      const { susdai, usdai, actors } = f;
      // A gain into an empty vault is not credited (inflation guard): it stays an untracked balance.
      await gain(usd(100));
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await usdai.connect(lender2).transfer(susdai.target, usd(50));
      expect(await susdai.totalAssets()).to.equal(usd(1_000));
      await expect(susdai.connect(actors.deployer).vestSurplus())
        .to.emit(susdai, "SurplusVested")
        .withArgs(actors.deployer.address, usd(150))
        .and.to.emit(susdai, "GainVesting");
      expect(await susdai.idleAssets()).to.equal(usd(1_150));
      await time.increase(3 * DAY);
      expect(await susdai.totalAssets()).to.equal(usd(1_150));
      // Nothing left over, and nothing left the vault.
      expect(await usdai.balanceOf(susdai.target)).to.equal(usd(1_150));
    });
  });

  describe("#24.4 no deposit can capture a gain booked before it", () => {
    it("a deposit right after a lump gain, claimed at the earliest time, gets back no more than it paid", async () => {
      const { susdai, usdai } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await gain(usd(100)); // an auction surplus or a permissionless T-bill harvest
      await susdai.connect(lender2)["deposit(uint256,address)"](usd(1_000), lender2.address);
      const shares = await susdai.balanceOf(lender2.address);
      const paid = await exitAtEarliest(f, lender2, shares, COOLDOWN);
      // No interest accrues in this book, so the round trip returns at most the deposit (rounding favours the vault).
      expect(paid).to.be.lessThanOrEqual(usd(1_000));
      // The lender who was there when the gain was booked keeps all of it.
      expect(await susdai.convertToAssets(await susdai.balanceOf(lender1.address))).to.be.closeTo(
        usd(1_100),
        10n ** 6n,
      );
    });
  });

  describe("#16.13 pause stops new money, not exits", () => {
    it("requestRedeem keeps working while deposits are paused", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await susdai.connect(actors.guardian).pause();
      await susdai.connect(lender1).requestRedeem(usd(100), lender1.address, lender1.address);
      expect(await susdai.pendingRedeemRequest(0n, lender1.address)).to.equal(usd(100));
      await time.increase(COOLDOWN);
      await susdai.serviceRedemptions(1n);
      await susdai.connect(lender1).redeem(usd(100), lender1.address, lender1.address);
      expect(await susdai.maxRedeem(lender1.address)).to.equal(0n);
    });

    it("the guardian has a separate switch for redemption requests", async () => {
      const { susdai, actors } = f;
      await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);
      await expect(susdai.connect(actors.guardian).pauseRedemptionRequests())
        .to.emit(susdai, "RedemptionRequestsPauseSet")
        .withArgs(actors.guardian.address, true);
      const before = await snapshot(reads());
      await expect(
        susdai.connect(lender1).requestRedeem(usd(100), lender1.address, lender1.address),
      ).to.be.revertedWithCustomError(susdai, "StakedUSDaiRedemptionRequestsPaused");
      await expectUnchanged(before, reads());
    });
  });
});

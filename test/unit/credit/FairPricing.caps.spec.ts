import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { mintReceipts, now, openLoan, stake } from "../../helpers/loans";
import { BPS, mulDivDown, mulDivUp } from "../../helpers/math";
import { DAY, loanTerms, type LoanTerms } from "../../../helpers/loans";
import { usd } from "../../../helpers/units";
import { at, loadLoanVault, loanVaultHelpers, NAV, type Signer, SITE, SITE_KEY, ZERO_COUPON } from "./suite";

/**
 * Issue #24, item 6: "Caps measured against a NAV one can inflate". The concentration caps are in bps of sUSDai's
 * cap base (`capBase`): NAV less the shares waiting in the redemption queue and less the recent shares, those minted
 * after the latest cap checkpoint that is at least a window old (a window is the cooldown, 7 days locally; servicing
 * and `checkpointCapBase` take checkpoints). A deposit made just before a draw cannot lift a cap, and money on its way
 * out does not hold one up.
 *
 * The house fixture stakes 10M (lender1) in the vault's genesis (before its first checkpoint), where deposits count at
 * once. Zero-coupon terms keep NAV at exactly 10M, so every cap figure below is exact.
 */
describe("#24.6 Caps measured against a NAV one can inflate", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer, affiliate: Signer;
  beforeEach(async () => {
    ({ f, b1, b2, attacker: affiliate } = await loadLoanVault());
  });
  const { expectRevert } = loanVaultHelpers(() => f);

  const BORROWER_CAP_BPS = 3_000n;
  const SITE_CAP_BPS = 5_000n;
  const WINDOW = BigInt(7 * DAY); // the local cooldown
  const MAX_UINT128 = 2n ** 128n - 1n;
  /** Zero-coupon terms whose approval outlives the waits below. */
  async function terms(borrower: Signer, principal: bigint, site = SITE): Promise<LoanTerms> {
    const t = await now();
    return loanTerms(borrower.address, principal, site, t, { ...ZERO_COUPON, approvalExpiry: t + 60 * DAY });
  }

  async function approve(borrower: Signer, principal: bigint, site = SITE): Promise<bigint> {
    const loanId = (await f.loanVault.loanCount()) + 1n;
    await f.loanVault.connect(f.actors.underwriter).approveLoan(await terms(borrower, principal, site));
    return loanId;
  }

  /**
   * Ends genesis: a cooldown on, a keeper's service takes the first cap checkpoint; later deposits are recent. (Only
   * calls that exist before this fix, so the attack specs also run against the old code.)
   */
  async function leaveGenesis(): Promise<void> {
    await time.increase(WINDOW);
    await f.susdai.connect(f.actors.keeper).serviceRedemptions(1);
  }

  /** The latest checkpoint's time. */
  const checkpointAt = async () => (await f.susdai.capCheckpoint())[0];

  /** What the caps measured before this fix: NAV at the moment of the draw. */
  const navCap = async (bps: bigint) => mulDivDown(await f.susdai.totalAssets(), bps, BPS);

  // ================================================================ the attack

  describe("an affiliate's deposit just before the draw", () => {
    it("#24.6 does not lift the borrower cap: the draw is refused with the exact cap and nothing changes", async () => {
      await leaveGenesis();
      // Two approvals of 2.5M each fit the 3M cap on their own; the first is drawn.
      const collateral = await mintReceipts(f, b1, 2, 5_000_000);
      const first = await approve(b1, usd(2_500_000));
      const second = await approve(b1, usd(2_500_000));
      await f.loanVault.connect(b1).borrow(first, [collateral[0]]);

      // The borrower's affiliate doubles NAV right before the second draw.
      await stake(f, affiliate, 10_000_000);
      expect(await f.susdai.totalAssets()).to.equal(usd(20_000_000));
      // Measured against NAV (before this fix) the draw fits: 5M <= 6M, 5,000 bps of the 10M that stays.
      expect(await navCap(BORROWER_CAP_BPS)).to.equal(usd(6_000_000));
      // Measured against the cap base it does not: the fresh 10M is not counted.
      await expectRevert(
        second,
        () => f.loanVault.connect(b1).borrow(second, [collateral[1]]),
        "LoanVaultBorrowerCap",
        [b1.address, usd(5_000_000), usd(3_000_000)],
      );
      expect(await f.susdai.capBase()).to.equal(usd(NAV));
      expect(await f.usdai.balanceOf(b1.address)).to.equal(usd(5_000_000) + usd(2_500_000));
    });

    it("#24.6 does not lift the cap at approval either", async () => {
      await leaveGenesis();
      await stake(f, affiliate, 10_000_000);
      const t = await terms(b1, usd(5_000_000));
      expect(await navCap(BORROWER_CAP_BPS)).to.be.greaterThanOrEqual(t.principal as bigint);
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(t),
        "LoanVaultBorrowerCap",
        [b1.address, usd(5_000_000), usd(3_000_000)],
      );
    });

    it("#24.6 does not lift the site cap", async () => {
      await leaveGenesis();
      await openLoan(f, b1, usd(2_500_000), 5_000_000, { overrides: ZERO_COUPON });
      const receipts = await mintReceipts(f, b2, 1, 5_000_000);
      const loanId = await approve(b2, usd(2_500_000));
      // b2 has a second approval at the same site that would take the site past 50% of the 10M base
      const over = await approve(b2, 1n);
      await f.loanVault.connect(b2).borrow(loanId, receipts);
      const more = await mintReceipts(f, b2, 1, 10);
      await stake(f, affiliate, 10_000_000);
      expect(await navCap(SITE_CAP_BPS)).to.equal(usd(10_000_000));
      await expectRevert(over, () => f.loanVault.connect(b2).borrow(over, more), "LoanVaultSiteCap", [
        SITE_KEY,
        usd(5_000_000) + 1n,
        usd(5_000_000),
      ]);
    });
  });

  // ================================================================ ordinary deposits

  describe("a lender's deposit", () => {
    it("#24.6 counts once a checkpoint taken after it is a window old, not before", async () => {
      await leaveGenesis();
      const r1 = await checkpointAt();
      const collateral = await mintReceipts(f, b1, 1, 10_000_000);
      await stake(f, f.actors.lender2, 5_000_000);
      await stake(f, f.actors.lender2, 5_000_000);
      // the next checkpoint (a window after the first) is the first one after the deposits
      await at(r1 + WINDOW);
      await f.susdai.checkpointCapBase();
      const counted = r1 + 2n * WINDOW;

      await at(counted - 1n);
      const t = loanTerms(b1.address, usd(5_000_000), SITE, Number(counted), ZERO_COUPON);
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(t),
        "LoanVaultBorrowerCap",
        [b1.address, usd(5_000_000), usd(3_000_000)],
      );
      await at(counted);
      await f.loanVault.connect(f.actors.underwriter).approveLoan(t);
      const loanId = await f.loanVault.loanCount();
      await f.loanVault.connect(b1).borrow(loanId, collateral);
      expect((await f.loanVault.exposureOf(b1.address, SITE_KEY))[0]).to.equal(usd(5_000_000));
    });

    it("#24.6 stays recent while no later checkpoint is taken (errs low)", async () => {
      await leaveGenesis();
      await stake(f, f.actors.lender2, 1_000);
      await time.increase(10n * WINDOW);
      expect(await f.susdai.capBase()).to.equal((await f.susdai.totalAssets()) - usd(1_000));
    });
  });

  // ================================================================ the queue

  describe("the redemption queue", () => {
    it("#24.6 what the queue is owed does not count, before and after servicing", async () => {
      const { lender1 } = f.actors;
      // Genesis: no deposit is recent, so only the queue is excluded.
      await f.susdai.connect(lender1).requestRedeem(usd(4_000_000), lender1.address, lender1.address);
      expect(await f.susdai.totalAssets()).to.equal(usd(NAV));
      const t = await terms(b1, usd(2_000_000));
      expect(await navCap(BORROWER_CAP_BPS)).to.be.greaterThanOrEqual(t.principal as bigint);
      await expectRevert(
        0n,
        () => f.loanVault.connect(f.actors.underwriter).approveLoan(t),
        "LoanVaultBorrowerCap",
        [b1.address, usd(2_000_000), usd(1_800_000)],
      );
      expect(await f.susdai.capBase()).to.equal(usd(6_000_000));
      // Serviced, the 4M leave NAV for the claimable reserve: the base is still 6M.
      await time.increase(WINDOW);
      await f.susdai.serviceRedemptions(10);
      expect(await f.susdai.totalAssets()).to.equal(usd(6_000_000));
      expect(await f.susdai.capBase()).to.equal(usd(6_000_000));
      await f.loanVault.connect(f.actors.underwriter).approveLoan({ ...t, principal: usd(1_800_000) });
    });
  });

  // ================================================================ the view

  describe("capBase", () => {
    it("#24.6 equals NAV in genesis, however long it lasts", async () => {
      expect(await f.susdai.capBase()).to.equal(await f.susdai.totalAssets());
      const [at0, prev, current, minted] = await f.susdai.capCheckpoint();
      expect([prev, current, minted]).to.deep.equal([MAX_UINT128, MAX_UINT128, usd(NAV)]);
      await time.increaseTo(at0 + 3n * WINDOW);
      await stake(f, f.actors.lender2, 1_000);
      expect(await f.susdai.capBase()).to.equal(await f.susdai.totalAssets());
    });

    it("#24.6 checkpoints at most once a window; the baseline is the latest one a window old", async () => {
      await leaveGenesis();
      const r1 = await checkpointAt();
      expect(await f.susdai.capCheckpoint()).to.deep.equal([r1, usd(NAV), usd(NAV), usd(NAV)]);
      await stake(f, affiliate, 1_000);
      const nav1 = await f.susdai.totalAssets();
      expect(await f.susdai.capBase()).to.equal(nav1 - usd(1_000));

      // too early: nothing changes
      await at(r1 + WINDOW - 1n);
      await f.susdai.checkpointCapBase();
      expect(await checkpointAt()).to.equal(r1);
      // a window on: the latest becomes the previous; the base does not move
      await at(r1 + WINDOW);
      await f.susdai.checkpointCapBase();
      const r2 = r1 + WINDOW;
      expect(await f.susdai.capCheckpoint()).to.deep.equal([
        r2,
        usd(NAV),
        usd(NAV + 1_000),
        usd(NAV + 1_000),
      ]);
      expect(await f.susdai.capBase()).to.equal(nav1 - usd(1_000));
      await stake(f, affiliate, 2_000);
      const nav2 = await f.susdai.totalAssets();
      expect(await f.susdai.capBase()).to.equal(nav2 - usd(3_000));
      // once the latest is a window old, the 1,000 made before it count; the 2,000 made after it do not
      await time.increaseTo(r2 + WINDOW);
      expect(await f.susdai.capBase()).to.equal(nav2 - usd(2_000));
    });

    it("#24.6 values excluded shares at today's price rounded up, so it rounds down", async () => {
      const { lender1 } = f.actors;
      // A price above 1: a loan accrues interest (house coupon) for 20 days.
      await openLoan(f, b1, usd(1_000_000), 2_000_000);
      await time.increase(20 * DAY);
      await leaveGenesis();
      await stake(f, affiliate, 333_333);
      await f.susdai.connect(lender1).requestRedeem(usd(1_234_567) + 7n, lender1.address, lender1.address);
      const nav = await f.susdai.totalAssets();
      const supply = await f.susdai.totalSupply();
      const [, prev, , minted] = await f.susdai.capCheckpoint();
      const excluded = minted - prev + (await f.susdai.totalPendingShares());
      const expected = nav - mulDivUp(excluded, nav + 1n, supply + 1n);
      expect(await f.susdai.capBase()).to.equal(expected);
      expect(expected).to.be.lessThan(nav - excluded); // the shares are worth more than 1 USDai each
    });

    it("#24.6 floors at zero when recent and queued shares cover the supply (they may overlap)", async () => {
      const { lender1 } = f.actors;
      await leaveGenesis();
      await stake(f, affiliate, 1_000_000);
      const shares = await f.susdai.balanceOf(affiliate.address);
      await f.susdai.connect(affiliate).requestRedeem(shares, affiliate.address, affiliate.address);
      await f.susdai.connect(lender1).requestRedeem(usd(9_000_000), lender1.address, lender1.address);
      // recent 1M + queued 10M > supply 11M - nothing left to count
      expect(await f.susdai.capBase()).to.equal(0n);
      await expectRevert(
        0n,
        async () => f.loanVault.connect(f.actors.underwriter).approveLoan(await terms(b1, 1n)),
        "LoanVaultBorrowerCap",
        [b1.address, 1n, 0n],
      );
    });

    it("#24.6 a window is the cooldown, at least one day", async () => {
      const D = BigInt(DAY);
      await f.susdai.connect(f.actors.deployer).setRedemptionParams(0, 0, 10);
      await time.increase(D);
      await f.susdai.checkpointCapBase();
      const r1 = await checkpointAt();
      await stake(f, affiliate, 1_000);
      const nav = await f.susdai.totalAssets();
      await at(r1 + D - 1n);
      await f.susdai.checkpointCapBase();
      expect(await checkpointAt()).to.equal(r1);
      await at(r1 + D);
      await f.susdai.checkpointCapBase();
      await time.increaseTo(r1 + 2n * D - 1n);
      expect(await f.susdai.capBase()).to.equal(nav - usd(1_000));
      await time.increaseTo(r1 + 2n * D);
      expect(await f.susdai.capBase()).to.equal(nav);
    });

    it("#24.6 is O(1): its gas does not grow with the number of deposits in the window", async () => {
      await leaveGenesis();
      await stake(f, affiliate, 1);
      const one = await f.susdai.capBase.estimateGas();
      for (let i = 0; i < 20; i++) await stake(f, affiliate, 1);
      expect(await f.susdai.capBase.estimateGas()).to.equal(one);
    });

    it("#24.6 an in-place upgrade (new fields zero) counts the shares that exist; its first checkpoint seasons deposits", async () => {
      const { lender1 } = f.actors;
      const susdai = await f.susdai.getAddress();
      // The appended fields (slots 10 and 11 of sUSDai's ERC-7201 namespace) read zero on an upgraded proxy.
      const base = BigInt("0xe7d5a01b856830e70c68efe087be9545c59d1bf17d9e8c353661749f34e0ea00");
      for (const slot of [base + 10n, base + 11n]) {
        await hre.network.provider.send("hardhat_setStorageAt", [
          susdai,
          `0x${slot.toString(16)}`,
          `0x${"00".repeat(32)}`,
        ]);
      }
      expect(await f.susdai.capCheckpoint()).to.deep.equal([0n, 0n, 0n, usd(NAV)]);
      await f.susdai.connect(lender1).requestRedeem(usd(1_000_000), lender1.address, lender1.address);
      expect(await f.susdai.capBase()).to.equal(usd(9_000_000));
      // The upgrade's call (`upgradeToAndCall(impl, checkpointCapBase())`) takes the first checkpoint at once.
      await f.susdai.checkpointCapBase();
      const r1 = await checkpointAt();
      expect(await f.susdai.capCheckpoint()).to.deep.equal([r1, usd(NAV), usd(NAV), usd(NAV)]);
      await stake(f, affiliate, 5_000_000);
      expect(await f.susdai.capBase()).to.equal(usd(9_000_000));
      await at(r1 + WINDOW);
      await f.susdai.checkpointCapBase();
      await time.increaseTo(r1 + 2n * WINDOW);
      expect(await f.susdai.capBase()).to.equal(usd(14_000_000));
    });
  });
});

import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { stakingFixture, wireLoanVaultDouble } from "../fixtures/staking";
import { fuzzParams } from "../helpers/fuzz";
import { deployBehindProxy } from "../helpers/proxy";
import type { MockERC20, MockLoanVaultForStaking, StakedUSDai } from "../../typechain-types";
import { usd } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";

const DAY = 24 * 3600;

/**
 * ERC-4626 properties (after the a16z / Trail of Bits property suites) as seeded fast-check properties, each run at a
 * random non-trivial share price: loans funded and accruing, a lump gain vested in full, then a loss written off.
 * Vesting is always complete before anything is checked, so NAV does not depend on the block's timestamp and views
 * and transactions see the same price.
 *
 * Two vaults: the deployed sUSDai over USDai (every property), and one behind a fresh proxy over a mintable 18-decimal
 * token, only to act at exactly `maxDeposit`/`maxMint` (uint128 bounds, far beyond USDai's supply cap).
 */
const propertiesFixture = createFixture(async () => {
  const f = await stakingFixture();
  const { susdai, actors } = f;
  const { deployer, lender1, lender3 } = actors;
  // No cooldown and no minimum request: the queue round trip works at any size and needs no time travel.
  await susdai.connect(deployer).setRedemptionParams(0, 0, 100);

  const token = (await hre.ethers.deployContract("MockERC20", [
    "Mock USD",
    "mUSD",
    18,
  ])) as unknown as MockERC20;
  const big = await deployBehindProxy<StakedUSDai>("StakedUSDai", [
    deployer.address,
    token.target,
    ZeroAddress,
    0,
    DAY,
    0,
    100,
  ]);
  const bigLoans = await wireLoanVaultDouble(big, deployer);
  for (const lender of [lender1, lender3]) {
    await token.mint(lender.address, 2n ** 130n);
    await token.connect(lender).approve(big.target, MaxUint256);
  }
  return { ...f, token, big, bigLoans };
});
type Fixture = Awaited<ReturnType<typeof propertiesFixture>>;

interface Market {
  vault: StakedUSDai;
  loans: MockLoanVaultForStaking;
  /** Puts `amount` of the vault's asset in the loan vault's hands, for a lump gain. */
  fundLoans: (amount: bigint) => Promise<unknown>;
}
const usdaiMarket = (f: Fixture): Market => ({
  vault: f.susdai,
  loans: f.loans,
  fundLoans: (amount) => f.usdai.connect(f.actors.lender3).transfer(f.loans.target, amount),
});
const bigMarket = (f: Fixture): Market => ({
  vault: f.big,
  loans: f.bigLoans,
  fundLoans: (amount) => f.token.mint(f.bigLoans.target, amount),
});

/** A share price: lender3's base deposit, a loan and its interest, a lump gain vested in full, then a loss. */
const priceScenario = () =>
  fc.record({
    base: fc.oneof(fc.bigInt({ min: usd(1), max: usd(100_000) }), fc.constant(usd(1))),
    lendBps: fc.integer({ min: 0, max: 9_000 }),
    interestBps: fc.integer({ min: 0, max: 30_000 }),
    gainBps: fc.integer({ min: 0, max: 50_000 }),
    lossBps: fc.integer({ min: 0, max: 10_000 }),
    dust: fc.bigInt({ min: 0n, max: 999_999n }),
  });
type PriceScenario = {
  base: bigint;
  lendBps: number;
  interestBps: number;
  gainBps: number;
  lossBps: number;
  dust: bigint;
};

async function setPrice(f: Fixture, m: Market, s: PriceScenario): Promise<void> {
  const { lender3, borrower1 } = f.actors;
  await m.vault.connect(lender3)["deposit(uint256,address)"](s.base, lender3.address);
  const lent = (s.base * BigInt(s.lendBps)) / 10_000n;
  if (lent > 0n) await m.loans.fund(borrower1.address, lent);
  const interest = (lent * BigInt(s.interestBps)) / 10_000n + s.dust;
  if (interest > 0n) await m.loans.accrue(interest);
  const gain = (s.base * BigInt(s.gainBps)) / 10_000n + s.dust;
  if (gain > 0n) {
    await m.fundLoans(gain);
    await m.loans.gain(gain);
  }
  await time.increase(DAY); // fully vested: from here NAV does not move with time
  const loss = ((await m.loans.loanAssets()) * BigInt(s.lossBps)) / 10_000n;
  if (loss > 0n) await m.loans.writeOff(loss);
  expect(await m.vault.unvestedGains()).to.equal(0n);
}

/** NAV and supply, and the contract's conversions as a bigint model (decimals offset 0: one virtual share/asset). */
async function model(vault: StakedUSDai, loans: MockLoanVaultForStaking) {
  const totalAssets = await vault.totalAssets();
  expect(totalAssets, "NAV = idle + loan assets once vested").to.equal(
    (await vault.idleAssets()) + (await loans.loanAssets()),
  );
  const a = totalAssets + 1n;
  const s = (await vault.totalSupply()) + 1n;
  return {
    toSharesDown: (x: bigint) => (x * s) / a,
    toAssetsDown: (x: bigint) => (x * a) / s,
    toAssetsUp: (x: bigint) => (x * a + s - 1n) / s,
  };
}

const amount = () =>
  fc.oneof(
    fc.bigInt({ min: 1n, max: 1_000_000n }),
    fc.bigInt({ min: 1n, max: usd(1) }),
    fc.bigInt({ min: usd(1), max: usd(200_000) }),
  );

/** Request, service and claim `shares` of `who` through the queue; returns the USDai received. */
async function exitThroughQueue(f: Fixture, who: HardhatEthersSigner, shares: bigint): Promise<bigint> {
  const { susdai, usdai } = f;
  const before = await usdai.balanceOf(who.address);
  await susdai.connect(who).requestRedeem(shares, who.address, who.address);
  await susdai.serviceRedemptions(1n);
  expect(await susdai.pendingRedeemRequest(0n, who.address), "fully serviced").to.equal(0n);
  await susdai.connect(who).redeem(await susdai.maxRedeem(who.address), who.address, who.address);
  return (await usdai.balanceOf(who.address)) - before;
}

describe("StakedUSDai: ERC-4626 properties (seeded fast-check, non-trivial prices)", () => {
  it("conversions and previews equal the model: shares round down, previewMint rounds up; view round trips never gain", async () => {
    await fc.assert(
      fc.asyncProperty(priceScenario(), amount(), amount(), async (scenario, assets, shares) => {
        const f = await propertiesFixture();
        const { susdai, loans } = f;
        await setPrice(f, usdaiMarket(f), scenario);
        const m = await model(susdai, loans);

        expect(await susdai.convertToShares(assets)).to.equal(m.toSharesDown(assets));
        expect(await susdai.previewDeposit(assets)).to.equal(m.toSharesDown(assets));
        expect(await susdai.convertToAssets(shares)).to.equal(m.toAssetsDown(shares));
        expect(await susdai.previewMint(shares)).to.equal(m.toAssetsUp(shares));

        // round trips through the views never hand the user more than it started with
        expect(await susdai.convertToAssets(await susdai.convertToShares(assets))).to.be.lessThanOrEqual(
          assets,
        );
        expect(await susdai.convertToShares(await susdai.convertToAssets(shares))).to.be.lessThanOrEqual(
          shares,
        );
        expect(await susdai.previewMint(await susdai.previewDeposit(assets))).to.be.lessThanOrEqual(assets);
        expect(await susdai.previewDeposit(await susdai.previewMint(shares))).to.be.greaterThanOrEqual(
          shares,
        );
      }),
      fuzzParams(60),
    );
  });

  it("deposit mints exactly previewDeposit, and deposit -> request -> service -> redeem returns at most the deposit", async () => {
    await fc.assert(
      fc.asyncProperty(priceScenario(), amount(), async (scenario, assets) => {
        const f = await propertiesFixture();
        const { susdai, actors } = f;
        const { lender1 } = actors;
        await setPrice(f, usdaiMarket(f), scenario);
        const expected = await susdai.previewDeposit(assets);
        if (expected === 0n) {
          await expect(
            susdai.connect(lender1)["deposit(uint256,address)"](assets, lender1.address),
          ).to.be.revertedWithCustomError(susdai, "StakedUSDaiZeroAmount");
          return;
        }
        const navBefore = await susdai.convertToAssets(usd(1));
        await expect(susdai.connect(lender1)["deposit(uint256,address)"](assets, lender1.address))
          .to.emit(susdai, "Deposit")
          .withArgs(lender1.address, lender1.address, assets, expected);
        // the deposit does not dilute the holders already in
        expect(await susdai.convertToAssets(usd(1))).to.be.greaterThanOrEqual(navBefore);
        const out = await exitThroughQueue(f, lender1, expected);
        expect(out).to.be.lessThanOrEqual(assets);
      }),
      fuzzParams(60),
    );
  });

  it("mint pulls exactly previewMint, and mint -> request -> service -> redeem returns at most what was paid", async () => {
    await fc.assert(
      fc.asyncProperty(priceScenario(), amount(), async (scenario, shares) => {
        const f = await propertiesFixture();
        const { susdai, usdai, actors } = f;
        const { lender1 } = actors;
        await setPrice(f, usdaiMarket(f), scenario);
        const cost = await susdai.previewMint(shares);
        fc.pre(cost <= usd(500_000)); // what lender1 holds
        const before = await usdai.balanceOf(lender1.address);
        await expect(susdai.connect(lender1)["mint(uint256,address)"](shares, lender1.address))
          .to.emit(susdai, "Deposit")
          .withArgs(lender1.address, lender1.address, cost, shares);
        expect(before - (await usdai.balanceOf(lender1.address))).to.equal(cost);
        const out = await exitThroughQueue(f, lender1, shares);
        expect(out).to.be.lessThanOrEqual(cost);
      }),
      fuzzParams(60),
    );
  });

  it("claims in pieces never pay more than the whole claim; withdraw burns at least pro rata", async () => {
    await fc.assert(
      fc.asyncProperty(
        priceScenario(),
        fc.bigInt({ min: usd(1), max: usd(100_000) }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 9_999 })), { minLength: 1, maxLength: 4 }),
        async (scenario, assets, pieces) => {
          const f = await propertiesFixture();
          const { susdai, usdai, actors } = f;
          const { lender1 } = actors;
          await setPrice(f, usdaiMarket(f), scenario);
          await susdai.connect(lender1)["deposit(uint256,address)"](assets, lender1.address);
          await susdai
            .connect(lender1)
            .requestRedeem(await susdai.balanceOf(lender1.address), lender1.address, lender1.address);
          await susdai.serviceRedemptions(1n);
          const whole = await susdai.controllerState(lender1.address);
          const before = await usdai.balanceOf(lender1.address);
          for (const [byShares, bps] of pieces) {
            const state = await susdai.controllerState(lender1.address);
            if (byShares) {
              const shares = (state.claimableShares * BigInt(bps)) / 10_000n;
              if (shares === 0n) continue;
              const paid = await susdai
                .connect(lender1)
                .redeem.staticCall(shares, lender1.address, lender1.address);
              expect(paid).to.equal((state.claimableAssets * shares) / state.claimableShares); // rounds down
              await susdai.connect(lender1).redeem(shares, lender1.address, lender1.address);
            } else {
              const part = (state.claimableAssets * BigInt(bps)) / 10_000n;
              if (part === 0n) continue;
              const burned = await susdai
                .connect(lender1)
                .withdraw.staticCall(part, lender1.address, lender1.address);
              const proRata = state.claimableShares * part;
              expect(burned).to.equal((proRata + state.claimableAssets - 1n) / state.claimableAssets); // rounds up
              await susdai.connect(lender1).withdraw(part, lender1.address, lender1.address);
            }
          }
          const rest = await susdai.maxRedeem(lender1.address);
          if (rest > 0n) await susdai.connect(lender1).redeem(rest, lender1.address, lender1.address);
          expect((await usdai.balanceOf(lender1.address)) - before).to.be.lessThanOrEqual(
            whole.claimableAssets,
          );
          expect(await susdai.controllerState(lender1.address)).to.deep.equal([0n, 0n, 0n, 0n]);
          // whatever rounding left behind stays in the vault for the remaining holders, not lost from the books
          expect(await susdai.totalClaimableAssets()).to.equal(0n);
        },
      ),
      fuzzParams(50),
    );
  });

  it("max* never revert; max+1 fails with the standard's error; claims at exactly max succeed", async () => {
    await fc.assert(
      fc.asyncProperty(
        priceScenario(),
        fc.bigInt({ min: usd(1), max: usd(100_000) }),
        fc.boolean(),
        fc.boolean(),
        async (scenario, assets, paused, blacklisted) => {
          const f = await propertiesFixture();
          const { susdai, actors } = f;
          const { lender1, lender2, guardian, blacklister } = actors;
          await setPrice(f, usdaiMarket(f), scenario);
          await susdai.connect(lender1)["deposit(uint256,address)"](assets, lender1.address);
          await susdai
            .connect(lender1)
            .requestRedeem(await susdai.balanceOf(lender1.address), lender1.address, lender1.address);
          await susdai.serviceRedemptions(1n);
          if (paused) await susdai.connect(guardian).pause();
          if (blacklisted) await susdai.connect(blacklister).setBlacklisted(lender2.address, true);

          for (const who of [lender1.address, lender2.address, ZeroAddress, susdai.target as string]) {
            await susdai.maxDeposit(who);
            await susdai.maxMint(who);
            await susdai.maxWithdraw(who);
            await susdai.maxRedeem(who);
          }

          const maxDeposit = await susdai.maxDeposit(lender2.address);
          const maxMint = await susdai.maxMint(lender2.address);
          if (paused || blacklisted) {
            expect(maxDeposit).to.equal(0n);
            expect(maxMint).to.equal(0n);
          } else {
            expect(maxDeposit).to.equal(2n ** 128n - 1n - (await susdai.idleAssets()));
          }
          const deposit = () =>
            susdai.connect(lender1)["deposit(uint256,address)"](maxDeposit + 1n, lender2.address);
          const mint = () => susdai.connect(lender1)["mint(uint256,address)"](maxMint + 1n, lender2.address);
          if (paused) {
            await expect(deposit()).to.be.revertedWithCustomError(susdai, "EnforcedPause");
            await expect(mint()).to.be.revertedWithCustomError(susdai, "EnforcedPause");
          } else {
            await expect(deposit())
              .to.be.revertedWithCustomError(susdai, "ERC4626ExceededMaxDeposit")
              .withArgs(lender2.address, maxDeposit + 1n, maxDeposit);
            await expect(mint())
              .to.be.revertedWithCustomError(susdai, "ERC4626ExceededMaxMint")
              .withArgs(lender2.address, maxMint + 1n, maxMint);
          }

          // claims are not stopped by the pause: max+1 fails, exactly max succeeds
          const maxRedeem = await susdai.maxRedeem(lender1.address);
          const maxWithdraw = await susdai.maxWithdraw(lender1.address);
          expect(maxRedeem).to.be.greaterThan(0n);
          await expect(susdai.connect(lender1).redeem(maxRedeem + 1n, lender1.address, lender1.address))
            .to.be.revertedWithCustomError(susdai, "StakedUSDaiExceedsClaimable")
            .withArgs(lender1.address, maxRedeem + 1n, maxRedeem);
          await expect(susdai.connect(lender1).withdraw(maxWithdraw + 1n, lender1.address, lender1.address))
            .to.be.revertedWithCustomError(susdai, "StakedUSDaiExceedsClaimable")
            .withArgs(lender1.address, maxWithdraw + 1n, maxWithdraw);
          if (maxRedeem % 2n === 0n) {
            await susdai.connect(lender1).redeem(maxRedeem, lender1.address, lender1.address);
          } else {
            await susdai.connect(lender1).withdraw(maxWithdraw, lender1.address, lender1.address);
          }
          expect(await susdai.maxRedeem(lender1.address)).to.equal(0n);
          expect(await susdai.maxWithdraw(lender1.address)).to.equal(0n);
          // nothing left to claim: the smallest claim now fails
          await expect(susdai.connect(lender1).redeem(1n, lender1.address, lender1.address))
            .to.be.revertedWithCustomError(susdai, "StakedUSDaiExceedsClaimable")
            .withArgs(lender1.address, 1n, 0n);
        },
      ),
      fuzzParams(50),
    );
  });

  it("deposit or mint at exactly maxDeposit / maxMint succeeds and leaves nothing more (uint128 idle bound)", async () => {
    await fc.assert(
      fc.asyncProperty(priceScenario(), fc.constantFrom("deposit", "mint"), async (scenario, how) => {
        const f = await propertiesFixture();
        const { big, bigLoans, actors } = f;
        const { lender1 } = actors;
        await setPrice(f, bigMarket(f), scenario);
        const m = await model(big, bigLoans);
        const maxDeposit = await big.maxDeposit(lender1.address);
        const maxMint = await big.maxMint(lender1.address);
        expect(maxDeposit).to.equal(2n ** 128n - 1n - (await big.idleAssets()));
        expect(maxMint).to.equal(m.toSharesDown(maxDeposit));
        if (how === "deposit") {
          await big.connect(lender1)["deposit(uint256,address)"](maxDeposit, lender1.address);
          expect(await big.balanceOf(lender1.address)).to.equal(m.toSharesDown(maxDeposit));
        } else {
          const cost = await big.previewMint(maxMint);
          expect(cost).to.be.lessThanOrEqual(maxDeposit);
          await big.connect(lender1)["mint(uint256,address)"](maxMint, lender1.address);
          expect(await big.balanceOf(lender1.address)).to.equal(maxMint);
        }
        const left = await big.maxDeposit(lender1.address);
        expect(left).to.be.lessThanOrEqual(maxDeposit);
        if (how === "deposit") expect(left).to.equal(0n);
        await expect(big.connect(lender1)["deposit(uint256,address)"](left + 1n, lender1.address))
          .to.be.revertedWithCustomError(big, "ERC4626ExceededMaxDeposit")
          .withArgs(lender1.address, left + 1n, left);
      }),
      fuzzParams(50),
    );
  });
});

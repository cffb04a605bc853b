import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256 } from "ethers";

import { deployProtocol } from "../fixtures/protocol";
import { fuzzParams } from "../helpers/fuzz";
import type { NaiveVault4626 } from "../../typechain-types";
import { usd, usdc } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";

const DAY = 24 * 3600;
const COOLDOWN = 7 * DAY;
const VICTIM_DEPOSIT = usd(10_000);
/** USDC -> USDai scale of the local reserve token (6 decimals). */
const SCALE = 10n ** 12n;

/**
 * First-depositor inflation: the attacker is first into an empty vault with a tiny deposit, then donates to move the
 * share price so that the 10,000 USDai victim's deposit rounds away. Donations take every path that reaches the vault:
 * a plain USDai transfer, and USDC sent to USDai's reserves and harvested (USDai mints the surplus to sUSDai and calls
 * its harvest hook, which is the one permissionless path that credits NAV).
 */
const attackFixture = createFixture(async () => {
  const f = await deployProtocol();
  const { usdai, susdai, reserve, actors } = f;
  const { attacker, lender1: victim } = actors;
  for (const who of [attacker, victim]) {
    await reserve.mint(who.address, usdc(30_000_000));
    await reserve.connect(who).approve(usdai.target, MaxUint256);
  }
  await usdai.connect(victim).deposit(usdc(10_000), 0n, victim.address);
  await usdai.connect(attacker).deposit(usdc(20_000_000), 0n, attacker.address);
  const naive = (await hre.ethers.deployContract("NaiveVault4626", [
    usdai.target,
  ])) as unknown as NaiveVault4626;
  for (const who of [attacker, victim]) {
    await usdai.connect(who).approve(susdai.target, MaxUint256);
    await usdai.connect(who).approve(naive.target, MaxUint256);
  }
  return { ...f, naive, attacker, victim };
});

type Fixture = Awaited<ReturnType<typeof attackFixture>>;
type Path = "transfer" | "harvest" | "both";

/** Tiny first deposits, from 1 wei to just under 1 USDai (below which sUSDai credits no lump gain). */
const attackerDeposit = () =>
  fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: 1n, max: usd(1) - 1n }), fc.constant(1n));
/** First deposits large enough that a harvest is credited and vests into the price. */
const creditedDeposit = () => fc.oneof(fc.constant(usd(1)), fc.bigInt({ min: usd(1), max: usd(1_000) }));
/** Donations in whole USDC units (the harvest path cannot move less), 1 micro-USDC to 10M USDC, denser around the
 * victim's size where the rounding bites hardest. */
const donationUsdc = () =>
  fc.oneof(
    fc.bigInt({ min: 1n, max: usdc(10_000_000) }),
    fc.bigInt({ min: usdc(5_000), max: usdc(40_000) }),
    fc.constantFrom(usdc(10_000), usdc(20_000), usdc(10_000) - 1n, usdc(20_000) + 1n),
  );
const path = () => fc.constantFrom<Path>("transfer", "harvest", "both");

interface Outcome {
  /** USDai the victim got back through the queue, or its whole deposit if the deposit reverted and nothing moved. */
  victimOut: bigint;
  /** USDai-equivalent the attacker put in (deposit + donations). */
  attackerIn: bigint;
  /** What the attacker's shares are worth once the victim has left. */
  attackerValue: bigint;
}

async function attackStakedUSDai(f: Fixture, deposit: bigint, donation: bigint, via: Path): Promise<Outcome> {
  const { susdai, usdai, reserve, attacker, victim } = f;
  await susdai.connect(attacker)["deposit(uint256,address)"](deposit, attacker.address);
  let attackerIn = deposit;
  if (via === "transfer" || via === "both") {
    await usdai.connect(attacker).transfer(susdai.target, donation * SCALE);
    attackerIn += donation * SCALE;
  }
  if (via === "harvest" || via === "both") {
    await reserve.connect(attacker).transfer(usdai.target, donation);
    await usdai.connect(attacker).harvest();
    attackerIn += donation * SCALE;
    await time.increase(DAY); // let whatever was credited vest fully
  }

  const shares = await susdai
    .connect(victim)
    ["deposit(uint256,address)"].staticCall(VICTIM_DEPOSIT, victim.address);
  await susdai.connect(victim)["deposit(uint256,address)"](VICTIM_DEPOSIT, victim.address);
  // The victim leaves through the queue: request, cooldown, service, claim.
  const before = await usdai.balanceOf(victim.address);
  await susdai.connect(victim).requestRedeem(shares, victim.address, victim.address);
  await time.increase(COOLDOWN);
  await susdai.serviceRedemptions(1n);
  await susdai.connect(victim).redeem(await susdai.maxRedeem(victim.address), victim.address, victim.address);
  const victimOut = (await usdai.balanceOf(victim.address)) - before;

  const attackerValue = await susdai.convertToAssets(await susdai.balanceOf(attacker.address));
  return { victimOut, attackerIn, attackerValue };
}

async function attackNaive(f: Fixture, deposit: bigint, donation: bigint): Promise<Outcome> {
  const { naive, usdai, attacker, victim } = f;
  await naive.connect(attacker).deposit(deposit, attacker.address);
  await usdai.connect(attacker).transfer(naive.target, donation * SCALE);
  const before = await usdai.balanceOf(victim.address);
  await naive.connect(victim).deposit(VICTIM_DEPOSIT, victim.address);
  await naive.connect(victim).redeem(await naive.balanceOf(victim.address), victim.address, victim.address);
  const victimOut = (await usdai.balanceOf(victim.address)) - (before - VICTIM_DEPOSIT);
  const attackerValue = await naive.previewRedeem(await naive.balanceOf(attacker.address));
  return { victimOut, attackerIn: deposit + donation * SCALE, attackerValue };
}

/** The victim keeps at least 99.9% of its deposit. */
const victimIsSafe = (o: Outcome) => o.victimOut * 1000n >= VICTIM_DEPOSIT * 999n;

describe("Attack: first-depositor inflation", () => {
  describe("against StakedUSDai", () => {
    it("a donation by transfer or through a USDai harvest never costs the victim 0.1%, and the attacker loses", async () => {
      await fc.assert(
        fc.asyncProperty(attackerDeposit(), donationUsdc(), path(), async (deposit, donation, via) => {
          const f = await attackFixture();
          const o = await attackStakedUSDai(f, deposit, donation, via);
          expect(victimIsSafe(o), `victim got ${o.victimOut} of ${VICTIM_DEPOSIT}`).to.equal(true);
          expect(o.attackerValue, "attacker must end with a loss").to.be.lessThan(o.attackerIn);
        }),
        fuzzParams(60),
      );
    });

    it("when the first deposit is large enough for a harvest to be credited, the victim still keeps 99.9% of its value", async () => {
      // The harvest vests into the price (up to 1,000,000x here), so the victim's shares are few, but each is worth so
      // little next to the attacker's capital that rounding costs the victim wei. Its value is what the queue would
      // pay when it is serviced first: convertToAssets at that NAV.
      await fc.assert(
        fc.asyncProperty(creditedDeposit(), donationUsdc(), async (deposit, donation) => {
          const { susdai, usdai, reserve, attacker, victim } = await attackFixture();
          await susdai.connect(attacker)["deposit(uint256,address)"](deposit, attacker.address);
          await reserve.connect(attacker).transfer(usdai.target, donation);
          await usdai.connect(attacker).harvest();
          await time.increase(DAY);
          await susdai.connect(victim)["deposit(uint256,address)"](VICTIM_DEPOSIT, victim.address);
          const victimValue = await susdai.convertToAssets(await susdai.balanceOf(victim.address));
          expect(victimValue * 1000n).to.be.greaterThanOrEqual(VICTIM_DEPOSIT * 999n);
          expect(
            VICTIM_DEPOSIT - victimValue,
            "rounding costs the victim at most one share",
          ).to.be.lessThanOrEqual((await susdai.convertToAssets(1n)) + 1n);
          const attackerValue = await susdai.convertToAssets(await susdai.balanceOf(attacker.address));
          // A staker this size who pays for a harvest is just a staker: it can at best break even, never profit.
          expect(attackerValue, "attacker never profits").to.be.lessThanOrEqual(deposit + donation * SCALE);
        }),
        fuzzParams(30),
      );
    });

    it("a harvest into an empty vault does not reprice the first real deposit", async () => {
      const f = await attackFixture();
      const { susdai, usdai, reserve, attacker, victim } = f;
      // Nobody has staked yet; the reserve surplus (here a USDC donation) is harvested into sUSDai.
      await reserve.connect(attacker).transfer(usdai.target, usdc(1));
      await usdai.connect(attacker).harvest();
      await time.increase(DAY);
      expect(await susdai.totalAssets()).to.equal(0n);
      // The first depositor still gets shares 1:1, so share-denominated request minimums keep their meaning.
      await susdai.connect(victim)["deposit(uint256,address)"](VICTIM_DEPOSIT, victim.address);
      expect(await susdai.balanceOf(victim.address)).to.equal(VICTIM_DEPOSIT);
      expect(await susdai.convertToAssets(VICTIM_DEPOSIT)).to.equal(VICTIM_DEPOSIT);
    });
  });

  describe("against a naive ERC-4626 (balance-based NAV, no decimals offset)", () => {
    it("the same attack succeeds: fast-check finds a donation that costs the victim more than 0.1%", async () => {
      const result = await fc.check(
        fc.asyncProperty(attackerDeposit(), donationUsdc(), async (deposit, donation) => {
          const o = await attackNaive(await attackFixture(), deposit, donation);
          return victimIsSafe(o);
        }),
        fuzzParams(40),
      );
      expect(result.failed, "the naive vault should be breakable").to.equal(true);
    });

    it("a donation of twice the victim's deposit after a 1 wei deposit takes the whole deposit", async () => {
      const f = await attackFixture();
      const { naive, victim } = f;
      const o = await attackNaive(f, 1n, (2n * VICTIM_DEPOSIT) / SCALE);
      expect(await naive.balanceOf(victim.address)).to.equal(0n);
      expect(o.victimOut).to.equal(0n);
    });
  });
});

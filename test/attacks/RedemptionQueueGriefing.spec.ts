import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { getAddress, MaxUint256, toBeHex } from "ethers";

import { usd } from "../../helpers/units";
import type { NaivePushQueue, RevertingReceiver } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, stake } from "../helpers/loans";
import { underCoverage } from "../helpers/coverage";
import { createFixture } from "../helpers/fixture";

/**
 * Griefing the redemption queue: flood it with dust requests so that servicing costs more than a block, or put a
 * controller that reverts (or gets blacklisted) in front of honest requests so that nobody behind it is ever paid.
 * Both work against `NaivePushQueue` (unbounded service that pushes to each controller). Against sUSDai, a request
 * below `minRedeemShares` or beyond a controller's `maxActiveRequests` is refused, service is paged
 * (`serviceRedemptions(maxRequests)`, constant work per request whatever the queue's length) and never calls a
 * controller: claims are pulled later, so a hostile controller only ever blocks itself.
 */
const COOLDOWN = 7 * 24 * 3600;
const MIN_SHARES = usd(10);
const MAX_ACTIVE = 10n;

/** A distinct controller address per request, so each one is a fresh controller. */
const controllerAt = (i: number) => getAddress(toBeHex(0xc0de0000 + i, 20));

describe("Attack: redemption-queue griefing", () => {
  describe("against NaivePushQueue (unbounded, pushes to controllers)", () => {
    async function naive() {
      const f = await deployProtocol();
      const { actors, usdai } = f;
      const queue = (await hre.ethers.deployContract("NaivePushQueue", [
        usdai.target,
      ])) as unknown as NaivePushQueue;
      for (const who of [actors.attacker, actors.lender1]) {
        await fundUsdai(f, who, 10_000);
        await usdai.connect(who).approve(queue.target, MaxUint256);
      }
      return { ...f, queue };
    }

    it("one reverting controller at the head blocks every request behind it", async () => {
      const { queue, actors } = await naive();
      const evil = (await hre.ethers.deployContract(
        "RevertingReceiver",
        [],
        actors.attacker,
      )) as unknown as RevertingReceiver;
      await queue.connect(actors.attacker).request(1n, evil.target);
      await queue.connect(actors.lender1).request(usd(1_000), actors.lender1.address);
      await expect(queue.service()).to.be.revertedWithCustomError(evil, "RevertingReceiverRefused");
      expect(await queue.queueLength()).to.equal(2n);
    });

    it("dust requests make one service cost grow with the queue: 20x the requests, over 10x the gas", async () => {
      const { queue, actors } = await naive();
      const serviceGas = async (n: number) => {
        for (let i = 0; i < n; i++) await queue.connect(actors.attacker).request(1n, controllerAt(i));
        return (await (await queue.service()).wait())!.gasUsed;
      };
      const ten = await serviceGas(10);
      const many = await serviceGas(200);
      expect(many).to.be.greaterThan(ten * 10n);
    });
  });

  describe("against StakedUSDai", () => {
    const fixture = createFixture(async () => {
      const f = await deployProtocol();
      const { actors, susdai } = f;
      await stake(f, actors.lender1, 100_000);
      await stake(f, actors.attacker, 10_000);
      const evil = (await hre.ethers.deployContract(
        "RevertingReceiver",
        [],
        actors.attacker,
      )) as unknown as RevertingReceiver;
      expect((await susdai.params()).minRedeemAssets).to.equal(MIN_SHARES);
      expect((await susdai.params()).maxActiveRequests).to.equal(MAX_ACTIVE);
      return { ...f, evil };
    });

    it("a dust request below minRedeemShares is refused (StakedUSDaiRequestTooSmall)", async () => {
      const { susdai, actors } = await fixture();
      for (const shares of [1n, MIN_SHARES - 1n]) {
        await expect(
          susdai
            .connect(actors.attacker)
            .requestRedeem(shares, actors.attacker.address, actors.attacker.address),
        )
          .to.be.revertedWithCustomError(susdai, "StakedUSDaiRequestTooSmall")
          .withArgs(shares, shares, MIN_SHARES); // the share price is 1 here, so the value equals the shares
      }
      expect((await susdai.queueBounds()).tail).to.equal(0n);
    });

    it("one controller cannot hold more than maxActiveRequests requests (StakedUSDaiTooManyRequests)", async () => {
      const { susdai, actors } = await fixture();
      const a = actors.attacker.address;
      for (let i = 0n; i < MAX_ACTIVE; i++)
        await susdai.connect(actors.attacker).requestRedeem(MIN_SHARES, a, a);
      await expect(susdai.connect(actors.attacker).requestRedeem(MIN_SHARES, a, a))
        .to.be.revertedWithCustomError(susdai, "StakedUSDaiTooManyRequests")
        .withArgs(a, MAX_ACTIVE);
    });

    for (const hostile of ["reverting contract", "blacklisted account"] as const) {
      it(`a ${hostile} as the head's controller does not stop the service of the requests behind it`, async () => {
        const { susdai, usdai, actors, evil } = await fixture();
        const controller =
          hostile === "reverting contract" ? (evil.target as string) : actors.attacker.address;
        await susdai.connect(actors.attacker).requestRedeem(MIN_SHARES, controller, actors.attacker.address);
        const honest = usd(1_000);
        await susdai
          .connect(actors.lender1)
          .requestRedeem(honest, actors.lender1.address, actors.lender1.address);
        if (hostile === "blacklisted account") {
          await susdai.connect(actors.blacklister).setBlacklisted(controller, true);
        }
        await time.increase(COOLDOWN);
        // permissionless: any account services
        const tx = susdai.connect(actors.liquidator).serviceRedemptions(10n);
        await expect(tx)
          .to.emit(susdai, "RedeemRequestServiced")
          .withArgs(0n, controller, MIN_SHARES, MIN_SHARES);
        await expect(tx)
          .to.emit(susdai, "RedeemRequestServiced")
          .withArgs(1n, actors.lender1.address, honest, honest);
        const { head, tail } = await susdai.queueBounds();
        expect(head).to.equal(tail);
        // the honest lender pulls its USDai
        const before = await usdai.balanceOf(actors.lender1.address);
        await susdai.connect(actors.lender1).redeem(honest, actors.lender1.address, actors.lender1.address);
        expect((await usdai.balanceOf(actors.lender1.address)) - before).to.equal(honest);
      });
    }

    it("a flood of minimum-size requests from many controllers: each service call does bounded, constant work", async () => {
      const { susdai, actors } = await fixture();
      const FLOOD = 200;
      for (let i = 0; i < FLOOD; i++) {
        await susdai
          .connect(actors.attacker)
          .requestRedeem(MIN_SHARES, controllerAt(i), actors.attacker.address);
      }
      await susdai
        .connect(actors.lender1)
        .requestRedeem(usd(1_000), actors.lender1.address, actors.lender1.address);
      await time.increase(COOLDOWN);
      const gasOfPage = async () => {
        const receipt = (await (await susdai.serviceRedemptions(10n)).wait())!;
        const serviced = receipt.logs.filter(
          (l) => l.topics[0] === susdai.interface.getEvent("RedeemRequestServiced").topicHash,
        );
        expect(serviced.length).to.equal(10);
        return receipt.gasUsed;
      };
      const first = await gasOfPage(); // 201 queued
      const pages: bigint[] = [];
      for (let i = 1; i < FLOOD / 10; i++) pages.push(await gasOfPage());
      const last = pages[pages.length - 1]; // 11 queued
      for (const g of [...pages, last]) {
        const spread = Number(g > first ? g - first : first - g) / Number(first);
        // within 2%: once a cap window, a page also takes sUSDai's cap checkpoint (about 4,700 gas, #24.6)
        expect(spread, `page gas ${g} vs ${first}`).to.be.lessThan(0.02);
      }
      // a 10-request page stays far below a block's gas (instrumented code costs more: not under coverage)
      if (!underCoverage()) expect(first).to.be.lessThan(500_000n);
      // the honest request is reached after the flood
      await expect(susdai.serviceRedemptions(10n))
        .to.emit(susdai, "RedeemRequestServiced")
        .withArgs(BigInt(FLOOD), actors.lender1.address, usd(1_000), usd(1_000));
    });
  });
});

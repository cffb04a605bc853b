import { expect } from "chai";
import hre, { upgrades } from "hardhat";
import { Interface } from "ethers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { zeroOf } from "../helpers/abi";
import { Cores } from "../../helpers/deploy-ids";
import { Roles } from "../../helpers/roles";
import type { NaiveUUPS, ProtocolUpgradeable } from "../../typechain-types";

/**
 * Taking over an upgradeable core: upgrade it as a non-upgrader, re-run `initialize` on the proxy to grant yourself
 * admin, or initialize the bare implementation (and then call `upgradeToAndCall` on it). All three work against
 * `NaiveUUPS` and must fail against every UUPS core (`Cores` of helpers/deploy-ids.ts).
 */

/** `initialize` arguments that make `admin` the admin (its first parameter), every other argument zero. */
function initData(iface: Interface, admin: string): string {
  const fragment = iface.getFunction("initialize")!;
  const args = fragment.inputs.map((p, i) => (i === 0 ? admin : zeroOf(p)));
  return iface.encodeFunctionData(fragment, args);
}

describe("Attack: upgrade and initializer hijack", () => {
  describe("against NaiveUUPS (open _authorizeUpgrade, re-runnable initialize, live implementation)", () => {
    async function naiveProxy() {
      const [admin, attacker] = await hre.ethers.getSigners();
      const implementation = (await hre.ethers.deployContract("NaiveUUPS")) as unknown as NaiveUUPS;
      const proxy = await hre.ethers.deployContract("TestERC1967Proxy", [
        await implementation.getAddress(),
        implementation.interface.encodeFunctionData("initialize", [admin.address]),
      ]);
      const naive = (await hre.ethers.getContractAt(
        "NaiveUUPS",
        await proxy.getAddress(),
      )) as unknown as NaiveUUPS;
      return { naive, implementation, admin, attacker };
    }

    it("the attacker re-initializes the proxy and becomes its admin", async () => {
      const { naive, attacker } = await naiveProxy();
      await naive.connect(attacker).initialize(attacker.address);
      expect(await naive.hasRole(Roles.DEFAULT_ADMIN, attacker.address)).to.equal(true);
    });

    it("the attacker upgrades the proxy to an implementation of its choice", async () => {
      const { naive, attacker } = await naiveProxy();
      const hijack = await hre.ethers.deployContract("NaiveUUPS");
      await naive.connect(attacker).upgradeToAndCall(await hijack.getAddress(), "0x");
      expect(await upgrades.erc1967.getImplementationAddress(await naive.getAddress())).to.equal(
        await hijack.getAddress(),
      );
    });

    it("the attacker initializes the bare implementation and owns it", async () => {
      const { implementation, attacker } = await naiveProxy();
      await implementation.connect(attacker).initialize(attacker.address);
      expect(await implementation.hasRole(Roles.DEFAULT_ADMIN, attacker.address)).to.equal(true);
    });
  });

  describe("against the deployed cores", () => {
    let f: ProtocolFixture;
    beforeEach(async () => {
      f = await deployProtocol();
    });

    for (const name of Cores) {
      describe(name, () => {
        async function targets() {
          const at = async (id: string) =>
            (await hre.ethers.getContractAt(
              "ProtocolUpgradeable",
              (await hre.deployments.get(id)).address,
            )) as unknown as ProtocolUpgradeable;
          const iface = new Interface((await hre.artifacts.readArtifact(name)).abi);
          return { proxy: await at(name), implementation: await at(`${name}_Implementation`), iface };
        }

        it("an upgrade by any account without UPGRADER reverts with AccessControlUnauthorizedAccount", async () => {
          const { proxy, implementation } = await targets();
          const { attacker, guardian, keeper, creditAdmin } = f.actors;
          const before = await upgrades.erc1967.getImplementationAddress(await proxy.getAddress());
          // any UUPS implementation will do as the target: the role check comes first
          for (const account of [attacker, guardian, keeper, creditAdmin]) {
            expect(await proxy.hasRole(Roles.UPGRADER, account.address)).to.equal(false);
            await expect(proxy.connect(account).upgradeToAndCall(await implementation.getAddress(), "0x"))
              .to.be.revertedWithCustomError(proxy, "AccessControlUnauthorizedAccount")
              .withArgs(account.address, Roles.UPGRADER);
          }
          expect(await upgrades.erc1967.getImplementationAddress(await proxy.getAddress())).to.equal(before);
        });

        it("re-initializing the proxy reverts with InvalidInitialization; the attacker gains no role", async () => {
          const { proxy, iface } = await targets();
          const { attacker } = f.actors;
          await expect(
            attacker.sendTransaction({
              to: await proxy.getAddress(),
              data: initData(iface, attacker.address),
            }),
          ).to.be.revertedWithCustomError(proxy, "InvalidInitialization");
          expect(await proxy.hasRole(Roles.DEFAULT_ADMIN, attacker.address)).to.equal(false);
        });

        it("the implementation cannot be initialized, nor upgraded outside the proxy", async () => {
          const { implementation, iface } = await targets();
          const { attacker } = f.actors;
          await expect(
            attacker.sendTransaction({
              to: await implementation.getAddress(),
              data: initData(iface, attacker.address),
            }),
          ).to.be.revertedWithCustomError(implementation, "InvalidInitialization");
          expect(await implementation.hasRole(Roles.DEFAULT_ADMIN, attacker.address)).to.equal(false);
          // called on the implementation itself, UUPS refuses before any role check
          await expect(
            implementation.connect(attacker).upgradeToAndCall(await implementation.getAddress(), "0x"),
          ).to.be.revertedWithCustomError(implementation, "UUPSUnauthorizedCallContext");
        });
      });
    }
  });
});

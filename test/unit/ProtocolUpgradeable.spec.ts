import { expect } from "chai";
import hre from "hardhat";

import { deployBehindProxy } from "../helpers/proxy";
import { getActors } from "../../helpers/actors";
import { Roles } from "../../helpers/roles";
import type { ProtocolUpgradeableHarness } from "../../typechain-types";

describe("ProtocolUpgradeable", () => {
  describe("__ProtocolUpgradeable_init", () => {
    it("grants DEFAULT_ADMIN to the admin inside initialize", async () => {
      const { deployer } = await getActors();
      const base = await deployBehindProxy<ProtocolUpgradeableHarness>("ProtocolUpgradeableHarness", [
        deployer.address,
      ]);
      expect(await base.hasRole(Roles.DEFAULT_ADMIN, deployer.address)).to.equal(true);
      expect(await base.paused()).to.equal(false);
    });

    it("refuses to run outside an initializer", async () => {
      const { deployer, attacker } = await getActors();
      const base = await deployBehindProxy<ProtocolUpgradeableHarness>("ProtocolUpgradeableHarness", [
        deployer.address,
      ]);
      await expect(
        base.connect(attacker).initAgainOutsideInitializer(attacker.address),
      ).to.be.revertedWithCustomError(base, "NotInitializing");
      expect(await base.hasRole(Roles.DEFAULT_ADMIN, attacker.address)).to.equal(false);
    });

    it("is disabled on a bare implementation by its constructor", async () => {
      const { attacker } = await getActors();
      const implementation = await hre.ethers.deployContract("ProtocolUpgradeableHarness");
      await expect(implementation.initialize(attacker.address)).to.be.revertedWithCustomError(
        implementation,
        "InvalidInitialization",
      );
    });
  });
});

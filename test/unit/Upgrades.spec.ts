import { expect } from "chai";
import hre, { upgrades } from "hardhat";
import { parseUnits } from "ethers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { Roles } from "../../helpers/roles";

/** Every UUPS core of the protocol (DESIGN.md, "Upgrades"). A new core joins the checks by being listed here. */
const CORES = [
  "USDai",
  "StakedUSDai",
  "GpuReceipt",
  "UtilizationOracle",
  "LoanVault",
  "CollateralAuction",
] as const;

/** Linked libraries of a core, by deployment name (the LoanVault keeps under 24 KiB with three). */
const LIBRARIES: Partial<Record<(typeof CORES)[number], string[]>> = {
  LoanVault: ["LoanLens", "LoanLockbox", "LoanRecovery"],
};

/** The core's factory, linked against the deployed libraries. */
async function factoryOf(name: (typeof CORES)[number]) {
  const names = LIBRARIES[name] ?? [];
  const libraries: Record<string, string> = {};
  for (const library of names) libraries[library] = (await hre.deployments.get(library)).address;
  return hre.ethers.getContractFactory(name, { libraries });
}

const getImplementationAddress = async (proxy: string): Promise<string> =>
  upgrades.erc1967.getImplementationAddress(proxy);

describe("Upgrades", () => {
  let f: ProtocolFixture;

  beforeEach(async () => {
    f = await deployProtocol();
  });

  for (const name of CORES) {
    describe(name, () => {
      it("passes OpenZeppelin's upgrade-safety validation (UUPS, ERC-7201, no constructor state)", async () => {
        const constructorArgs = (await hre.deployments.get(`${name}_Implementation`)).args ?? [];
        // `constructorArgs` (for the immutables) is accepted at runtime but missing from the plugin's option type.
        const options = { kind: "uups", constructorArgs } as Parameters<
          typeof upgrades.validateImplementation
        >[1];
        await upgrades.validateImplementation(await factoryOf(name), options);
      });

      it("is deployed behind an ERC1967 proxy whose implementation cannot be initialized", async () => {
        const proxy = await hre.deployments.get(name);
        const implementation = await hre.deployments.get(`${name}_Implementation`);
        expect(await getImplementationAddress(proxy.address)).to.equal(implementation.address);
      });

      it("refuses an upgrade from an account without UPGRADER", async () => {
        const { actors } = f;
        const proxy = await hre.ethers.getContractAt(
          "ProtocolUpgradeable",
          (await hre.deployments.get(name)).address,
        );
        const implementationBefore = await getImplementationAddress(await proxy.getAddress());
        const args = (await hre.deployments.get(`${name}_Implementation`)).args ?? [];
        const next = await (await factoryOf(name)).deploy(...args);
        for (const account of [actors.attacker, actors.guardian]) {
          await expect(proxy.connect(account).upgradeToAndCall(await next.getAddress(), "0x"))
            .to.be.revertedWithCustomError(proxy, "AccessControlUnauthorizedAccount")
            .withArgs(account.address, Roles.UPGRADER);
        }
        expect(await getImplementationAddress(await proxy.getAddress())).to.equal(implementationBefore);
      });
    });
  }

  describe("USDai -> USDaiV2Mock", () => {
    it("is a storage-compatible upgrade", async () => {
      await upgrades.validateUpgrade(
        await hre.ethers.getContractFactory("USDai"),
        await hre.ethers.getContractFactory("USDaiV2Mock"),
        { kind: "uups" },
      );
    });

    it("an UPGRADER upgrades in place and every balance and parameter survives", async () => {
      const { usdai, reserve, actors } = f;
      await reserve.mint(actors.lender1.address, parseUnits("500", 6));
      await reserve.connect(actors.lender1).approve(usdai.target, parseUnits("500", 6));
      await usdai.connect(actors.lender1).deposit(parseUnits("500", 6), 0n, actors.lender1.address);
      await usdai.connect(actors.deployer).setSupplyCap(parseUnits("12345", 18));

      const v2 = await hre.ethers.deployContract("USDaiV2Mock");
      const initV2 = v2.interface.encodeFunctionData("initializeV2");
      await expect(usdai.connect(actors.deployer).upgradeToAndCall(await v2.getAddress(), initV2))
        .to.emit(usdai, "Upgraded")
        .withArgs(await v2.getAddress());

      const upgraded = await hre.ethers.getContractAt("USDaiV2Mock", usdai.target);
      await expect(upgraded.initializeV2()).to.be.revertedWithCustomError(upgraded, "InvalidInitialization");
      expect(await upgraded.upgradeMarker()).to.equal("USDai v2");
      expect(await upgraded.balanceOf(actors.lender1.address)).to.equal(parseUnits("500", 18));
      expect(await upgraded.supplyCap()).to.equal(parseUnits("12345", 18));
      expect(await upgraded.reserveToken()).to.equal(reserve.target);
      expect(await upgraded.hasRole(Roles.PAUSER, actors.guardian.address)).to.equal(true);
    });

    it("refuses an upgrade to a contract that is not UUPS", async () => {
      const { usdai, reserve, actors } = f;
      await expect(usdai.connect(actors.deployer).upgradeToAndCall(reserve.target, "0x"))
        .to.be.revertedWithCustomError(usdai, "ERC1967InvalidImplementation")
        .withArgs(reserve.target);
    });
  });
});

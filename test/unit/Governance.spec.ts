import { expect } from "chai";
import hre from "hardhat";

import { GOVERNANCE_ROLES, GOVERNED_CONTRACTS, TIMELOCK_DEPLOYMENT } from "../../config/governance";
import { Roles } from "../../helpers/roles";
import governance from "../../deploy/99_governance";
import { Cores, Tags } from "../../helpers/deploy-ids";
import { captureLogs } from "../helpers/console";

/**
 * deploy/99_governance.ts on the in-process network, forced with GOVERNANCE_HANDOVER=1 (it is skipped on local
 * networks otherwise): the timelock ends up with DEFAULT_ADMIN and UPGRADER on every deployed core, the deployer
 * with neither, and a second run changes nothing.
 */
describe("Governance handover (deploy/99_governance.ts)", () => {
  const saved = process.env.GOVERNANCE_HANDOVER;

  before(() => {
    process.env.GOVERNANCE_HANDOVER = "1";
  });
  after(() => {
    if (saved === undefined) delete process.env.GOVERNANCE_HANDOVER;
    else process.env.GOVERNANCE_HANDOVER = saved;
  });

  async function governed() {
    const out = [];
    for (const name of GOVERNED_CONTRACTS) {
      const deployment = await hre.deployments.getOrNull(name);
      if (deployment)
        out.push({ name, contract: await hre.ethers.getContractAt("IAccessControl", deployment.address) });
    }
    return out;
  }

  it("is skipped on local networks unless forced", async () => {
    delete process.env.GOVERNANCE_HANDOVER;
    try {
      expect(await governance.skip!(hre)).to.equal(true);
    } finally {
      process.env.GOVERNANCE_HANDOVER = "1";
    }
    expect(await governance.skip!(hre)).to.equal(false);
  });

  it("moves DEFAULT_ADMIN and UPGRADER of every deployed core to the timelock; the deployer renounces them", async () => {
    await hre.deployments.fixture(["governance"]);
    const { deployer } = await hre.getNamedAccounts();
    const timelock = await hre.deployments.get(TIMELOCK_DEPLOYMENT);
    const cores = await governed();
    expect(cores.map((c) => c.name)).to.have.members([...Cores]);
    for (const { name, contract } of cores) {
      for (const role of GOVERNANCE_ROLES) {
        expect(await contract.hasRole(Roles[role], timelock.address), `${name} ${role} timelock`).to.equal(
          true,
        );
        expect(await contract.hasRole(Roles[role], deployer), `${name} ${role} deployer`).to.equal(false);
      }
    }
    // operational roles stay where the roles script put them
    const receipts = cores.find((c) => c.name === "GpuReceipt")!.contract;
    const { tokenizer } = await hre.getNamedAccounts();
    expect(await receipts.hasRole(Roles.TOKENIZER, tokenizer)).to.equal(true);
  });

  it("configures the timelock: the deployer proposes, anyone executes, no external admin", async () => {
    await hre.deployments.fixture(["governance"]);
    const { deployer } = await hre.getNamedAccounts();
    const { address, abi } = await hre.deployments.get(TIMELOCK_DEPLOYMENT);
    const timelock = await hre.ethers.getContractAt(abi, address);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), deployer)).to.equal(true);
    expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), hre.ethers.ZeroAddress)).to.equal(true);
    expect(await timelock.hasRole(Roles.DEFAULT_ADMIN, deployer)).to.equal(false);
    expect(await timelock.hasRole(Roles.DEFAULT_ADMIN, address)).to.equal(true);
  });

  it("is idempotent: a re-run of the script sends no transaction", async () => {
    await hre.deployments.fixture(["governance"]);
    const before = await hre.ethers.provider.getBlockNumber();
    // The script alone (the next test re-runs every script).
    await governance(hre);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(before);
  });

  it("a second run of every deploy script after the handover succeeds and sends no transaction", async () => {
    await hre.deployments.fixture(["governance"]);
    const before = await hre.ethers.provider.getBlockNumber();
    // What `npx hardhat deploy --network sepolia` does a second time: every script, in order, on the same chain.
    const logged = await captureLogs(() =>
      hre.deployments.run([Tags.Protocol], { resetMemory: false, writeDeploymentsToFiles: false }),
    );
    expect(await hre.ethers.provider.getBlockNumber(), "no transaction").to.equal(before);
    expect(logged).to.not.include("NOT DONE");
  });

  it("after the handover a missing grant is left to governance: logged with the timelock call, nothing sent", async () => {
    await hre.deployments.fixture(["governance"]);
    const { keeper } = await hre.getNamedAccounts();
    const oracle = await hre.ethers.getContractAt(
      "IAccessControl",
      (await hre.deployments.get("UtilizationOracle")).address,
      await hre.ethers.getSigner(keeper),
    );
    // The keeper gives up its role; config/roles.ts still lists it, and only the timelock can grant it back.
    await oracle.renounceRole(Roles.KEEPER, keeper);
    const before = await hre.ethers.provider.getBlockNumber();
    const logged = await captureLogs(() =>
      hre.deployments.run([Tags.Protocol], { resetMemory: false, writeDeploymentsToFiles: false }),
    );
    expect(await hre.ethers.provider.getBlockNumber(), "no transaction").to.equal(before);
    expect(await oracle.hasRole(Roles.KEEPER, keeper)).to.equal(false);
    const data = oracle.interface.encodeFunctionData("grantRole", [Roles.KEEPER, keeper]);
    const timelock = (await hre.deployments.get(TIMELOCK_DEPLOYMENT)).address;
    expect(logged).to.include(`UtilizationOracle: NOT DONE, governance must: grant KEEPER to ${keeper}`);
    expect(logged).to.include(
      `timelock ${timelock}: target ${await oracle.getAddress()}, value 0, data ${data}`,
    );
  });

  it("the deployer can no longer administer or upgrade", async () => {
    await hre.deployments.fixture(["governance"]);
    const { deployer, guardian } = await hre.getNamedAccounts();
    const usdai = await hre.ethers.getContractAt(
      "USDai",
      (await hre.deployments.get("USDai")).address,
      await hre.ethers.getSigner(deployer),
    );
    await expect(usdai.grantRole(Roles.PAUSER, guardian))
      .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
      .withArgs(deployer, Roles.DEFAULT_ADMIN);
    await expect(usdai.upgradeToAndCall(hre.ethers.ZeroAddress, "0x"))
      .to.be.revertedWithCustomError(usdai, "AccessControlUnauthorizedAccount")
      .withArgs(deployer, Roles.UPGRADER);
  });
});

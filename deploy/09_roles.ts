import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { DeployIds, Tags } from "../helpers/deploy-ids";
import { Roles, type RoleName } from "../helpers/roles";

type Grant = { contract: string; role: RoleName; account: string };

/**
 * Role wiring, one concern: grants every role in DESIGN.md to its named account or contract. Idempotent: a role
 * already held is skipped, so a re-run sends no transaction.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, ethers } = hre;
  const { deployer, guardian, reserveManager } = await getNamedAccounts();

  const grants: Grant[] = [
    { contract: DeployIds.USDai, role: "UPGRADER", account: deployer },
    { contract: DeployIds.USDai, role: "PAUSER", account: guardian },
    { contract: DeployIds.USDai, role: "RESERVE_MANAGER", account: reserveManager },
  ];

  const signer = await ethers.getSigner(deployer);
  for (const { contract, role, account } of grants) {
    const deployment = await deployments.get(contract);
    const target = await ethers.getContractAt("IAccessControl", deployment.address, signer);
    if (await target.hasRole(Roles[role], account)) continue;
    const tx = await target.grantRole(Roles[role], account);
    await tx.wait();
    deployments.log(`${contract}: granted ${role} to ${account}`);
  }
};

func.id = "09_roles";
func.tags = [Tags.Roles, Tags.Protocol];
func.dependencies = [Tags.USDai];
export default func;

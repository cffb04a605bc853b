import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { ROLE_GRANTS, type RoleHolder } from "../config/roles";
import { Tags } from "../helpers/deploy-ids";
import { Roles } from "../helpers/roles";

/**
 * Role wiring, one concern: grants every role in `config/roles.ts`. Idempotent: a role already held is skipped, so
 * a re-run sends no transaction. Contracts or holders not deployed (a partial deploy by tag) are skipped.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, ethers } = hre;
  const named = await getNamedAccounts();
  const signer = await ethers.getSigner(named.deployer);

  const resolve = async (holder: RoleHolder): Promise<string | undefined> =>
    "account" in holder ? named[holder.account] : (await deployments.getOrNull(holder.deployment))?.address;

  for (const { contract, role, holders } of ROLE_GRANTS) {
    const deployment = await deployments.getOrNull(contract);
    if (!deployment) continue;
    const target = await ethers.getContractAt("IAccessControl", deployment.address, signer);
    for (const holder of holders) {
      const account = await resolve(holder);
      if (!account || (await target.hasRole(Roles[role], account))) continue;
      await (await target.grantRole(Roles[role], account)).wait();
      deployments.log(`${contract}: granted ${role} to ${account}`);
    }
  }
};

func.id = "09_roles";
func.tags = [Tags.Roles, Tags.Protocol];
func.dependencies = [Tags.USDai, Tags.Oracle];
export default func;

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import {
  getGovernanceConfig,
  GOVERNANCE_ROLES,
  GOVERNED_CONTRACTS,
  TIMELOCK_DEPLOYMENT,
} from "../config/governance";
import { Tags } from "../helpers/deploy-ids";
import { Roles } from "../helpers/roles";

// OpenZeppelin's own build of TimelockController (same version as the contracts the cores use), so no Solidity
// file is needed for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TIMELOCK_ARTIFACT = require("@openzeppelin/contracts/build/contracts/TimelockController.json");

/**
 * Governance handover, public networks only (config/governance.ts; `GOVERNANCE_HANDOVER=1` forces it locally):
 * deploys a TimelockController (self-administered, proposers from config, the deployer by default), grants it
 * DEFAULT_ADMIN and UPGRADER on every core contract that is deployed, then the deployer renounces those roles, the
 * admin role last and only once the timelock is known to hold it. Idempotent: an existing timelock is reused, a
 * role already held is not granted again, a role already renounced is skipped.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, ethers, network } = hre;
  const { deployer } = await getNamedAccounts();
  const config = getGovernanceConfig(network.name);
  const signer = await ethers.getSigner(deployer);

  const timelock = await deployments.deploy(TIMELOCK_DEPLOYMENT, {
    contract: { abi: TIMELOCK_ARTIFACT.abi, bytecode: TIMELOCK_ARTIFACT.bytecode },
    from: deployer,
    args: [
      config.minDelaySeconds,
      config.proposers.length > 0 ? config.proposers : [deployer],
      config.executors,
      ethers.ZeroAddress, // no extra admin: the timelock administers itself
    ],
    skipIfAlreadyDeployed: true,
    log: true,
  });

  for (const name of GOVERNED_CONTRACTS) {
    const deployment = await deployments.getOrNull(name);
    if (!deployment) continue;
    const contract = await ethers.getContractAt("IAccessControl", deployment.address, signer);
    for (const role of GOVERNANCE_ROLES) {
      if (!(await contract.hasRole(Roles[role], timelock.address))) {
        await (await contract.grantRole(Roles[role], timelock.address)).wait();
        deployments.log(`${name}: granted ${role} to the timelock ${timelock.address}`);
      }
    }
    // The admin role goes last: renouncing it first would leave nobody able to fix a failed step.
    for (const role of [...GOVERNANCE_ROLES].reverse()) {
      if (!(await contract.hasRole(Roles[role], deployer))) continue;
      if (!(await contract.hasRole(Roles[role], timelock.address))) {
        throw new Error(`${name}: the timelock does not hold ${role}; refusing to renounce it`);
      }
      await (await contract.renounceRole(Roles[role], deployer)).wait();
      deployments.log(`${name}: deployer renounced ${role}`);
    }
  }
};

func.id = "99_governance";
func.tags = ["governance", Tags.Protocol];
func.dependencies = [Tags.Roles];
func.skip = async (hre: HardhatRuntimeEnvironment) => !getGovernanceConfig(hre.network.name).handover;
export default func;

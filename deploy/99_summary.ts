import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { Tags } from "../helpers/deploy-ids";
import { summarizeDeployRun } from "../helpers/deploy-run";

/**
 * Runs last under every tag: prints what the deploy sent (transactions, gas, cost, and the cost at the current gas
 * price) and exits non-zero when a governance call was left `NOT DONE` (helpers/deploy-run.ts).
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  await summarizeDeployRun(hre);
};

func.id = "99_summary";
func.tags = [...Object.values(Tags), "governance"];
func.skip = async (hre: HardhatRuntimeEnvironment) => hre.network.name === "hardhat";
export default func;

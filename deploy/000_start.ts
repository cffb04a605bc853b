import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { Tags } from "../helpers/deploy-ids";
import { startDeployRun } from "../helpers/deploy-run";

/** Runs first under every tag: notes the block and nonce a deploy starts from, for deploy/99_summary.ts. */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  await startDeployRun(hre);
};

func.id = "000_start";
func.tags = [...Object.values(Tags), "governance"];
// The in-process network (tests, the demo) deploys many fixtures; its summaries would be noise.
func.skip = async (hre: HardhatRuntimeEnvironment) => hre.network.name === "hardhat";
export default func;

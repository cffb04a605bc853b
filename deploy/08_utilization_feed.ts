import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { isLocalNetwork } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";

/**
 * Local networks only: a Chainlink-style utilization feed (MockAggregator, 8 decimals, 1.0 = 100%) publishing 92%, so
 * that a loan's monitoring can name a feed source (`oracle:configure --sources ...,feed:UtilizationFeed`) and
 * `oracle:poke` can be tried on a local node. On a public network the monitoring providers' own feeds are named by
 * address.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts } = hre;
  const { deployer } = await getNamedAccounts();
  const feed = await deployments.deploy(DeployIds.UtilizationFeed, {
    contract: "MockAggregator",
    from: deployer,
    args: [8],
    log: true,
  });
  if (feed.newlyDeployed) {
    await deployments.execute(DeployIds.UtilizationFeed, { from: deployer }, "pushAnswer", 92_000_000n);
  }
};

func.id = "08_utilization_feed";
func.tags = [Tags.Mocks, Tags.Protocol];
func.skip = async (hre: HardhatRuntimeEnvironment) => !isLocalNetwork(hre.network.name);
export default func;

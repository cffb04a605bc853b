import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";
import { ZeroAddress } from "ethers";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * StakedUSDai (sUSDai) behind a UUPS proxy over USDai. The loan vault is linked once it exists (roles script); until
 * then NAV is idle USDai less unvested gains.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer } = await getNamedAccounts();
  const { susdai } = getProtocolConfig(network.name);
  const usdai = await deployments.get(DeployIds.USDai);
  const loanVault = await deployments.getOrNull("LoanVault");

  await deployments.deploy(DeployIds.StakedUSDai, {
    contract: "StakedUSDai",
    from: deployer,
    log: true,
    proxy: uupsProxy([
      deployer,
      usdai.address,
      loanVault?.address ?? ZeroAddress,
      susdai.cooldownSeconds,
      susdai.vestingPeriodSeconds,
      susdai.minRedeemAssets,
      susdai.maxActiveRequests,
    ]),
  });
};

func.id = "02_susdai";
func.tags = [Tags.StakedUSDai, Tags.Protocol];
func.dependencies = [Tags.USDai];
export default func;

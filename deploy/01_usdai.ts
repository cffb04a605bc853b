import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * USDai behind a UUPS proxy. The deployer is the initial admin (the roles script hands governance over on live
 * networks); the yield recipient starts as the treasury and the roles script points it at sUSDai.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer, treasury } = await getNamedAccounts();
  const config = getProtocolConfig(network.name);
  const reserve = await deployments.get(DeployIds.ReserveToken);
  const tbill = await deployments.get(DeployIds.TBillVault);

  await deployments.deploy(DeployIds.USDai, {
    contract: "USDai",
    from: deployer,
    log: true,
    proxy: uupsProxy([deployer, reserve.address, tbill.address, treasury, config.usdai.supplyCap]),
  });
};

func.id = "01_usdai";
func.tags = [Tags.USDai, Tags.Protocol];
func.dependencies = [Tags.Mocks];
export default func;

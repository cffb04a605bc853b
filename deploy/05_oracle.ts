import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, ORACLE_LIBRARIES, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * UtilizationOracle behind a UUPS proxy, with the default coupon rules from config. The deployer is the initial admin.
 * The LoanVault is wired in when it is already deployed; otherwise the oracle starts without one and governance calls
 * `setLoanVault` once it exists (pushes revert until then; observations are recorded regardless). Its linked libraries
 * (the rule engine and the feed reads, contracts/oracle/) deploy first.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network, ethers } = hre;
  const { deployer } = await getNamedAccounts();
  const config = getProtocolConfig(network.name);
  const loanVault = await deployments.getOrNull("LoanVault");

  const libraries: Record<string, string> = {};
  for (const id of ORACLE_LIBRARIES) {
    libraries[id] = (await deployments.deploy(id, { from: deployer, log: true })).address;
  }

  await deployments.deploy(DeployIds.UtilizationOracle, {
    contract: "UtilizationOracle",
    from: deployer,
    log: true,
    libraries,
    proxy: uupsProxy([deployer, loanVault?.address ?? ethers.ZeroAddress, config.oracle.rules]),
  });
};

func.id = "05_oracle";
func.tags = [Tags.Oracle, Tags.Protocol];
export default func;

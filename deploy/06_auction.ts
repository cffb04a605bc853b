import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * CollateralAuction behind a UUPS proxy: Dutch auctions of defaulted loans' receipts. Unsold receipts go to the
 * credit admin's custody. The LoanVault learns of it in the roles script (`setAuction`).
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer, creditAdmin } = await getNamedAccounts();
  const { auction } = getProtocolConfig(network.name);
  const loanVault = await deployments.get(DeployIds.LoanVault);
  const usdai = await deployments.get(DeployIds.USDai);
  const receipts = await deployments.get(DeployIds.GpuReceipt);

  await deployments.deploy(DeployIds.CollateralAuction, {
    contract: "CollateralAuction",
    from: deployer,
    log: true,
    args: [loanVault.address, usdai.address, receipts.address],
    proxy: uupsProxy([deployer, creditAdmin, auction]),
  });
};

func.id = "06_auction";
func.tags = [Tags.Auction, Tags.Protocol];
func.dependencies = [Tags.Loans];
export default func;

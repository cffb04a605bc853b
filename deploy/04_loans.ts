import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * LoanVault behind a UUPS proxy. Its three linked libraries (read side, lockbox, default and recovery) deploy first;
 * they keep the vault under EIP-170's 24 KiB. The vault's immutables are sUSDai and GpuReceipt; the auction and the
 * sUSDai/oracle links are wired in the roles script.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer } = await getNamedAccounts();
  const { loans } = getProtocolConfig(network.name);
  const susdai = await deployments.get(DeployIds.StakedUSDai);
  const receipts = await deployments.get(DeployIds.GpuReceipt);

  const libraries: Record<string, string> = {};
  for (const id of [DeployIds.LoanLens, DeployIds.LoanLockbox, DeployIds.LoanRecovery]) {
    libraries[id] = (await deployments.deploy(id, { from: deployer, log: true })).address;
  }

  await deployments.deploy(DeployIds.LoanVault, {
    contract: "LoanVault",
    from: deployer,
    log: true,
    args: [susdai.address, receipts.address],
    libraries,
    proxy: uupsProxy([
      deployer,
      {
        borrowerCapBps: loans.borrowerCapBps,
        siteCapBps: loans.siteCapBps,
        recoveryHaircutBps: loans.recoveryHaircutBps,
        referenceFeedMaxStalenessSeconds: loans.referenceFeedMaxStalenessSeconds,
      },
    ]),
  });
};

func.id = "04_loans";
func.tags = [Tags.Loans, Tags.Protocol];
func.dependencies = [Tags.StakedUSDai, Tags.Receipts];
export default func;

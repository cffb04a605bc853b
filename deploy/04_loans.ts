import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, LOAN_VAULT_LIBRARIES, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * LoanVault behind a UUPS proxy. The vault is a router over logic libraries named by concern (origination, payments,
 * covenants, recovery, and the lens for computed views); the linked ones deploy first. The vault's immutables are
 * sUSDai and GpuReceipt; the auction and the sUSDai/oracle links are wired in the roles script.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer } = await getNamedAccounts();
  const { loans } = getProtocolConfig(network.name);
  const susdai = await deployments.get(DeployIds.StakedUSDai);
  const receipts = await deployments.get(DeployIds.GpuReceipt);

  const libraries: Record<string, string> = {};
  for (const id of LOAN_VAULT_LIBRARIES) {
    // Each library is linked against those deployed before it (hardhat-deploy links only the ones it references).
    libraries[id] = (
      await deployments.deploy(id, { from: deployer, log: true, libraries: { ...libraries } })
    ).address;
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
        materialityThreshold: loans.materialityThreshold,
        stepInWindowSeconds: loans.stepInWindowSeconds,
      },
    ]),
  });
};

func.id = "04_loans";
func.tags = [Tags.Loans, Tags.Protocol];
func.dependencies = [Tags.StakedUSDai, Tags.Receipts];
export default func;

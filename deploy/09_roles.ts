import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { ROLE_GRANTS, type RoleHolder } from "../config/roles";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { Roles } from "../helpers/roles";

/**
 * Role wiring, one concern: grants every role in `config/roles.ts`, then links the contracts to each other (USDai's
 * yield goes to sUSDai). Idempotent: a role already held or a link already set is skipped, so a re-run sends no
 * transaction. Contracts or holders not deployed (a partial deploy by tag) are skipped.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, ethers } = hre;
  const named = await getNamedAccounts();
  const signer = await ethers.getSigner(named.deployer);

  const resolve = async (holder: RoleHolder): Promise<string | undefined> =>
    "account" in holder ? named[holder.account] : (await deployments.getOrNull(holder.deployment))?.address;

  for (const { contract, role, holders } of ROLE_GRANTS) {
    const deployment = await deployments.getOrNull(contract);
    if (!deployment) continue;
    const target = await ethers.getContractAt("IAccessControl", deployment.address, signer);
    for (const holder of holders) {
      const account = await resolve(holder);
      if (!account || (await target.hasRole(Roles[role], account))) continue;
      await (await target.grantRole(Roles[role], account)).wait();
      deployments.log(`${contract}: granted ${role} to ${account}`);
    }
  }

  // Links between contracts, each set only when it differs.
  const usdai = await deployments.getOrNull(DeployIds.USDai);
  const susdai = await deployments.getOrNull(DeployIds.StakedUSDai);
  if (usdai && susdai) {
    const token = await ethers.getContractAt("USDai", usdai.address, signer);
    if ((await token.yieldRecipient()) !== susdai.address) {
      await (await token.setYieldRecipient(susdai.address)).wait();
      deployments.log(`USDai: yield recipient set to StakedUSDai ${susdai.address}`);
    }
  }

  // The credit engine: sUSDai funds the LoanVault, the oracle pushes into it, the auction settles into it.
  const loanVault = await deployments.getOrNull(DeployIds.LoanVault);
  if (loanVault && susdai) {
    const staked = await ethers.getContractAt("StakedUSDai", susdai.address, signer);
    if ((await staked.loanVault()) !== loanVault.address) {
      await (await staked.setLoanVault(loanVault.address)).wait();
      deployments.log(`StakedUSDai: loan vault set to LoanVault ${loanVault.address}`);
    }
  }
  const oracle = await deployments.getOrNull(DeployIds.UtilizationOracle);
  if (loanVault && oracle) {
    const adapter = await ethers.getContractAt("UtilizationOracle", oracle.address, signer);
    if ((await adapter.loanVault()) !== loanVault.address) {
      await (await adapter.setLoanVault(loanVault.address)).wait();
      deployments.log(`UtilizationOracle: loan vault set to LoanVault ${loanVault.address}`);
    }
  }
  const auction = await deployments.getOrNull(DeployIds.CollateralAuction);
  if (loanVault && auction) {
    const vault = await ethers.getContractAt("LoanVault", loanVault.address, signer);
    if ((await vault.auction()) !== auction.address) {
      await (await vault.setAuction(auction.address)).wait();
      deployments.log(`LoanVault: auction set to CollateralAuction ${auction.address}`);
    }
  }
};

func.id = "09_roles";
func.tags = [Tags.Roles, Tags.Protocol];
func.dependencies = [Tags.USDai, Tags.StakedUSDai, Tags.Receipts, Tags.Loans, Tags.Oracle, Tags.Auction];
export default func;

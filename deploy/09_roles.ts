import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";
import type { BaseContract } from "ethers";

import { GOVERNANCE_ROLES, TIMELOCK_DEPLOYMENT } from "../config/governance";
import { ROLE_GRANTS, type RoleHolder } from "../config/roles";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { markRolesChecked, recordNotDone } from "../helpers/deploy-run";
import { Roles } from "../helpers/roles";

/**
 * Role wiring, one concern: grants every role in `config/roles.ts`, then links the contracts to each other (USDai's
 * yield goes to sUSDai). Idempotent: a role already held or a link already set is skipped, so a re-run sends no
 * transaction. Contracts or holders not deployed (a partial deploy by tag) are skipped.
 *
 * After the governance handover (deploy/99_governance.ts) the deployer holds no admin role, so a re-run cannot grant
 * or link anything itself. The script then sends nothing for that step: a governance role (`GOVERNANCE_ROLES`) the
 * timelock already holds counts as granted (the deployer gave it up on purpose), and any other missing grant or link
 * is logged with the call governance has to schedule on the timelock (target and calldata).
 */

/** A deployed contract with AccessControl's `hasRole`. */
type AccessControlled = BaseContract & { hasRole(role: string, account: string): Promise<boolean> };

const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, ethers } = hre;
  const named = await getNamedAccounts();
  const signer = await ethers.getSigner(named.deployer);
  const timelock = (await deployments.getOrNull(TIMELOCK_DEPLOYMENT))?.address;

  const resolve = async (holder: RoleHolder): Promise<string | undefined> =>
    "account" in holder ? named[holder.account] : (await deployments.getOrNull(holder.deployment))?.address;

  /**
   * Sends `method(args)` when the deployer holds `adminRole` on `target`; otherwise sends nothing and logs the call for
   * governance (the timelock schedules it: target, value 0, calldata).
   */
  const callOrDefer = async (
    target: AccessControlled,
    name: string,
    adminRole: string,
    what: string,
    method: string,
    args: unknown[],
  ): Promise<void> => {
    if (await target.hasRole(adminRole, named.deployer)) {
      await (await target.getFunction(method)(...args)).wait();
      deployments.log(`${name}: done: ${what}`);
      return;
    }
    const data = target.interface.encodeFunctionData(method, args);
    recordNotDone({ what: `${name}: ${what}`, target: await target.getAddress(), data });
    // Printed whatever the log setting: it is an action item for governance, not progress chatter.
    console.log(
      `${name}: NOT DONE, governance must: ${what}. The deployer no longer holds the admin role ` +
        `(${adminRole === Roles.DEFAULT_ADMIN ? "DEFAULT_ADMIN" : adminRole}); schedule this call on the timelock` +
        `${timelock ? ` ${timelock}` : ""}: target ${await target.getAddress()}, value 0, data ${data}`,
    );
  };

  for (const { contract, role, holders } of ROLE_GRANTS) {
    const deployment = await deployments.getOrNull(contract);
    if (!deployment) continue;
    const target = await ethers.getContractAt("IAccessControl", deployment.address, signer);
    for (const holder of holders) {
      const account = await resolve(holder);
      if (!account || (await target.hasRole(Roles[role], account))) continue;
      // A governance role that the timelock holds was handed over: the deployer renounced it on purpose.
      const handedOver =
        timelock !== undefined &&
        (GOVERNANCE_ROLES as readonly string[]).includes(role) &&
        "account" in holder &&
        holder.account === "deployer" &&
        (await target.hasRole(Roles[role], timelock));
      if (handedOver) continue;
      await callOrDefer(
        target,
        contract,
        await target.getRoleAdmin(Roles[role]),
        `grant ${role} to ${account}`,
        "grantRole",
        [Roles[role], account],
      );
    }
  }

  /** Points `getter()` of deployment `name` at `value` through `setter` (DEFAULT_ADMIN), when it differs. */
  const link = async (name: string, artifact: string, getter: string, setter: string, value: string) => {
    const deployment = await deployments.getOrNull(name);
    if (!deployment) return;
    const target = (await ethers.getContractAt(
      artifact,
      deployment.address,
      signer,
    )) as unknown as AccessControlled;
    if ((await target.getFunction(getter)()) === value) return;
    await callOrDefer(target, name, Roles.DEFAULT_ADMIN, `${setter}(${value})`, setter, [value]);
  };

  // USDai's yield goes to sUSDai. The credit engine: sUSDai funds the LoanVault, the oracle pushes into it, the
  // auction settles into it. Each link only when both ends are deployed.
  const address = async (id: string) => (await deployments.getOrNull(id))?.address;
  const [usdai, susdai, loanVault, oracle, auction] = await Promise.all(
    [
      DeployIds.USDai,
      DeployIds.StakedUSDai,
      DeployIds.LoanVault,
      DeployIds.UtilizationOracle,
      DeployIds.CollateralAuction,
    ].map(address),
  );
  if (usdai && susdai) await link(DeployIds.USDai, "USDai", "yieldRecipient", "setYieldRecipient", susdai);
  if (susdai && loanVault) {
    await link(DeployIds.StakedUSDai, "StakedUSDai", "loanVault", "setLoanVault", loanVault);
  }
  if (oracle && loanVault) {
    await link(DeployIds.UtilizationOracle, "UtilizationOracle", "loanVault", "setLoanVault", loanVault);
  }
  if (loanVault && auction) await link(DeployIds.LoanVault, "LoanVault", "auction", "setAuction", auction);
  // The vault tells the oracle of a step-in, so the old operator's streaks and unpushed steps are dropped.
  if (loanVault && oracle) {
    await link(DeployIds.LoanVault, "LoanVault", "utilizationOracle", "setUtilizationOracle", oracle);
  }
  markRolesChecked();
};

func.id = "09_roles";
func.tags = [Tags.Roles, Tags.Protocol];
func.dependencies = [Tags.USDai, Tags.StakedUSDai, Tags.Receipts, Tags.Loans, Tags.Oracle, Tags.Auction];
export default func;

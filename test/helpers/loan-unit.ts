import hre from "hardhat";
import { encodeBytes32String } from "ethers";

import { LOAN_VAULT_LIBRARIES } from "../../helpers/deploy-ids";
import type { ILoanVault, LoanVault } from "../../typechain-types";
import type { ProtocolFixture } from "../fixtures/protocol";

/** A `LoanVaultInvalidTerms` / `LoanVaultInvalidParam` field name as the contract encodes it. */
export const field = (name: string): string => encodeBytes32String(name);

/** Deploys a fresh LoanVault implementation linked to the deployed libraries, over the fixture's sUSDai and receipts. */
export async function deployLoanVaultImplementation(fx: ProtocolFixture): Promise<LoanVault> {
  const libraries: Record<string, string> = {};
  for (const id of LOAN_VAULT_LIBRARIES) {
    libraries[id] = (await hre.deployments.get(id)).address;
  }
  const factory = await hre.ethers.getContractFactory("LoanVault", { libraries });
  const impl = await factory.deploy(await fx.susdai.getAddress(), await fx.receipts.getAddress());
  return impl as unknown as LoanVault;
}

/** Deploys a fresh LoanVault proxy initialized with `(admin, risk)` (reverts bubble up). */
export async function deployLoanVaultProxy(
  fx: ProtocolFixture,
  admin: string,
  risk: ILoanVault.RiskParamsStruct,
): Promise<LoanVault> {
  const impl = await deployLoanVaultImplementation(fx);
  const data = impl.interface.encodeFunctionData("initialize", [admin, risk]);
  const proxy = await hre.ethers.deployContract("TestERC1967Proxy", [await impl.getAddress(), data]);
  return (await hre.ethers.getContractAt("LoanVault", await proxy.getAddress())) as unknown as LoanVault;
}

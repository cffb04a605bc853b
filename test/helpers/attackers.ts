import hre from "hardhat";

import { Roles } from "../../helpers/roles";
import type { ProtocolFixture } from "../fixtures/protocol";

/**
 * Deploys the contract `name` from the attacker's account and lets it into the protocol as the attack needs: it may
 * hold receipts (RECEIPT_HOLDER), and with `borrower` it is also an allowlisted BORROWER on the vault.
 */
export async function deployAttackerContract<T>(
  f: ProtocolFixture,
  name: string,
  { borrower = true }: { borrower?: boolean } = {},
): Promise<T> {
  const { actors, receipts, loanVault } = f;
  const contract = await hre.ethers.deployContract(name, [], actors.attacker);
  await receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, contract.target);
  if (borrower) await loanVault.connect(actors.deployer).grantRole(Roles.BORROWER, contract.target);
  return contract as unknown as T;
}

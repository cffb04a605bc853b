import hre from "hardhat";

import { CORE_LIBRARIES, type CoreId } from "../../helpers/deploy-ids";

/** `contractName`'s factory, linked against the deployed libraries when it is a core that has some. */
export async function linkedFactory(contractName: string) {
  const names = CORE_LIBRARIES[contractName as CoreId] ?? [];
  const libraries: Record<string, string> = {};
  for (const library of names) libraries[library] = (await hre.deployments.get(library)).address;
  return hre.ethers.getContractFactory(contractName, { libraries });
}

/**
 * Deploys `contractName` behind a fresh ERC1967 proxy initialized with `initArgs`, as the deploy scripts do, and
 * returns it typed. For tests that need a core over non-default dependencies (weird tokens, other decimals).
 */
export async function deployBehindProxy<T>(contractName: string, initArgs: unknown[]): Promise<T> {
  const implementation = await (await linkedFactory(contractName)).deploy();
  const data = implementation.interface.encodeFunctionData("initialize", initArgs);
  const proxy = await hre.ethers.deployContract("TestERC1967Proxy", [
    await implementation.getAddress(),
    data,
  ]);
  return (await hre.ethers.getContractAt(contractName, await proxy.getAddress())) as unknown as T;
}

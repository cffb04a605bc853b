import hre from "hardhat";

/**
 * Deploys `contractName` behind a fresh ERC1967 proxy initialized with `initArgs`, as the deploy scripts do, and
 * returns it typed. For tests that need a core over non-default dependencies (weird tokens, other decimals).
 */
export async function deployBehindProxy<T>(contractName: string, initArgs: unknown[]): Promise<T> {
  const implementation = await hre.ethers.deployContract(contractName);
  const data = implementation.interface.encodeFunctionData("initialize", initArgs);
  const proxy = await hre.ethers.deployContract("TestERC1967Proxy", [
    await implementation.getAddress(),
    data,
  ]);
  return (await hre.ethers.getContractAt(contractName, await proxy.getAddress())) as unknown as T;
}

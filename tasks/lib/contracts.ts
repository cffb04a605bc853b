import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";

import type {
  CollateralAuction,
  GpuReceipt,
  LoanVault,
  MockERC20,
  StakedUSDai,
  USDai,
  UtilizationOracle,
} from "../../typechain-types";
import { DeployIds } from "../../helpers/deploy-ids";
import { deploymentAddress } from "./runtime";

/**
 * Typed contracts for tasks, by deployment name. Like helpers/contracts.ts, but a missing deployment is a clear
 * task error (and the in-process network deploys first). The reserve token is typed as the mock; tasks use only its
 * ERC-20 surface except for the local faucet.
 */
async function at<T>(
  hre: HardhatRuntimeEnvironment,
  id: string,
  artifact: string,
  signer?: Signer,
): Promise<T> {
  const address = await deploymentAddress(hre, id);
  return (await hre.ethers.getContractAt(artifact, address, signer)) as unknown as T;
}

export const usdaiAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<USDai>(hre, DeployIds.USDai, "USDai", signer);
export const stakedUsdaiAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<StakedUSDai>(hre, DeployIds.StakedUSDai, "StakedUSDai", signer);
export const reserveTokenAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<MockERC20>(hre, DeployIds.ReserveToken, "MockERC20", signer);
export const gpuReceiptAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<GpuReceipt>(hre, DeployIds.GpuReceipt, "GpuReceipt", signer);
export const oracleAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<UtilizationOracle>(hre, DeployIds.UtilizationOracle, "UtilizationOracle", signer);
export const loanVaultAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<LoanVault>(hre, DeployIds.LoanVault, "LoanVault", signer);
export const auctionAt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<CollateralAuction>(hre, DeployIds.CollateralAuction, "CollateralAuction", signer);

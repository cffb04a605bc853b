import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";

import type {
  CollateralAuction,
  GpuReceipt,
  LoanVault,
  MockAggregator,
  MockERC20,
  MockTBillVault,
  StakedUSDai,
  USDai,
  UtilizationOracle,
} from "../typechain-types";
import { DeployIds } from "./deploy-ids";

/**
 * Typed getters for deployed contracts, by deployment name, so that scripts, tasks and tests never hard-code
 * addresses. The reserve token and T-bill vault are typed as the local mocks; on a live network only their
 * ERC-20 / ERC-4626 surface is used.
 */
async function at<T>(
  hre: HardhatRuntimeEnvironment,
  id: string,
  contract: string,
  signer?: Signer,
): Promise<T> {
  const { address } = await hre.deployments.get(id);
  return (await hre.ethers.getContractAt(contract, address, signer)) as unknown as T;
}

export const getUSDai = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<USDai>(hre, DeployIds.USDai, "USDai", signer);

export const getGpuReceipt = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<GpuReceipt>(hre, DeployIds.GpuReceipt, "GpuReceipt", signer);

export const getReserveToken = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<MockERC20>(hre, DeployIds.ReserveToken, "MockERC20", signer);

export const getTBillVault = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<MockTBillVault>(hre, DeployIds.TBillVault, "MockTBillVault", signer);

export const getStakedUSDai = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<StakedUSDai>(hre, DeployIds.StakedUSDai, "StakedUSDai", signer);
export const getUtilizationOracle = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<UtilizationOracle>(hre, DeployIds.UtilizationOracle, "UtilizationOracle", signer);

export const getLoanVault = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<LoanVault>(hre, DeployIds.LoanVault, "LoanVault", signer);

export const getCollateralAuction = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<CollateralAuction>(hre, DeployIds.CollateralAuction, "CollateralAuction", signer);

/** The local mock reference-rate feed (on a live network: the configured feed, used through its AggregatorV3 ABI). */
export const getReferenceRateFeed = (hre: HardhatRuntimeEnvironment, signer?: Signer) =>
  at<MockAggregator>(hre, DeployIds.ReferenceRateFeed, "MockAggregator", signer);

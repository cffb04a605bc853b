import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig, isLocalNetwork } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";

/**
 * Local-network doubles: the 6-decimal reserve stablecoin, the T-bill ERC-4626 and the reference-rate feed. On a public network a mock is
 * deployed only where the config gives no address; given addresses are saved under the same deployment names so
 * every later script and task reads one place.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deploy, save, getArtifact, log } = deployments;
  const { deployer } = await getNamedAccounts();
  const config = getProtocolConfig(network.name);
  const local = isLocalNetwork(network.name);

  if (!local && config.external.reserveToken) {
    const { abi } = await getArtifact("IERC20Metadata");
    await save(DeployIds.ReserveToken, { address: config.external.reserveToken, abi });
    log(`ReserveToken: using ${config.external.reserveToken}`);
  } else {
    const mock = await deploy(DeployIds.ReserveToken, {
      contract: "MockERC20",
      from: deployer,
      args: ["USD Coin (mock)", "USDC", config.mocks.reserveDecimals],
      log: true,
    });
    if (!local) {
      // On a public network a mock reserve is a choice someone must see: anyone can mint it, so USDai on this
      // deployment is backed by nothing.
      const line = "!".repeat(100);
      console.warn(
        `\n${line}\n!! MOCK RESERVE TOKEN on ${network.name}: ${mock.address} (MockERC20 "USDC", anyone can mint it).\n` +
          `!! SEPOLIA_RESERVE_TOKEN is empty, so USDai here is backed by a test token. Lenders get it with\n` +
          `!! \`npx hardhat usdai:mint --amount <n> --faucet --network ${network.name}\`.\n${line}\n`,
      );
    }
  }

  if (!local && config.external.tbillVault) {
    const { abi } = await getArtifact("IERC4626");
    await save(DeployIds.TBillVault, { address: config.external.tbillVault, abi });
    log(`TBillVault: using ${config.external.tbillVault}`);
  } else {
    if (!local && config.external.reserveToken) {
      throw new Error("The mock T-bill vault needs the mock reserve token: set SEPOLIA_TBILL_VAULT as well");
    }
    const reserve = await deployments.get(DeployIds.ReserveToken);
    await deploy(DeployIds.TBillVault, {
      contract: "MockTBillVault",
      from: deployer,
      args: [reserve.address, config.mocks.tbillApyBps],
      log: true,
    });
  }

  if (!local && config.loans.referenceRateFeed) {
    const { abi } = await getArtifact("AggregatorV3Interface");
    await save(DeployIds.ReferenceRateFeed, { address: config.loans.referenceRateFeed, abi });
    log(`ReferenceRateFeed: using ${config.loans.referenceRateFeed}`);
  } else {
    // A SOFR-like reference rate: 8 decimals, 1.0 = 100%, published at 4.30%.
    const feed = await deploy(DeployIds.ReferenceRateFeed, {
      contract: "MockAggregator",
      from: deployer,
      args: [8],
      log: true,
    });
    if (feed.newlyDeployed) {
      await deployments.execute(DeployIds.ReferenceRateFeed, { from: deployer }, "pushAnswer", 4_300_000n);
    }
  }
};

func.id = "00_mocks";
func.tags = [Tags.Mocks, Tags.Protocol];
export default func;

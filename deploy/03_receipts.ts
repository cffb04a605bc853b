import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { DeployFunction } from "hardhat-deploy/types";

import { getProtocolConfig } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { uupsProxy } from "../helpers/proxy";

/**
 * GpuReceipt behind a UUPS proxy, with its stateless `tokenURI` renderer. The deployer is the initial admin (the
 * roles script grants TOKENIZER, ATTESTOR, APPRAISER, INSURER and RECEIPT_HOLDER); the attestation threshold comes
 * from the network config.
 */
const func: DeployFunction = async (hre: HardhatRuntimeEnvironment) => {
  const { deployments, getNamedAccounts, network } = hre;
  const { deployer } = await getNamedAccounts();
  const config = getProtocolConfig(network.name);

  const renderer = await deployments.deploy(DeployIds.GpuReceiptRenderer, {
    contract: "GpuReceiptRenderer",
    from: deployer,
    log: true,
  });

  await deployments.deploy(DeployIds.GpuReceipt, {
    contract: "GpuReceipt",
    from: deployer,
    log: true,
    proxy: uupsProxy([deployer, config.receipts.attestationThreshold, renderer.address]),
  });
};

func.id = "03_receipts";
func.tags = [Tags.Receipts, Tags.Protocol];
export default func;

import path from "node:path";
import hre from "hardhat";

import { isLocalNetwork } from "../config/protocol";
import { DeployIds, Tags } from "../helpers/deploy-ids";
import { writeExports } from "../helpers/exports";

/**
 * `npx hardhat run scripts/export-deployments.ts --network <network>`: writes `exports/<network>.json` (addresses
 * and ABIs of every deployment, hardhat-deploy's export format) and `exports/abi/*.json`. hardhat-deploy itself
 * keeps `deployments/<network>/*.json` for every network but the in-process one; on that one the protocol is
 * deployed through the deploy scripts first.
 */
async function main(): Promise<void> {
  if (hre.network.name === "hardhat" && !(await hre.deployments.getOrNull(DeployIds.USDai))) {
    await hre.deployments.fixture([Tags.Protocol]);
  }
  if (!isLocalNetwork(hre.network.name) && !(await hre.deployments.getOrNull(DeployIds.USDai))) {
    throw new Error(
      `Nothing deployed on "${hre.network.name}": run \`npx hardhat deploy --network ${hre.network.name}\``,
    );
  }
  const files = await writeExports(hre);
  console.log(`Exported ${hre.network.name}:`);
  for (const file of files) console.log(`  ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

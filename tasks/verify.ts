import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { isLocalNetwork } from "../config/protocol";
import { formatTable } from "../helpers/format";
import { viewTask } from "./lib/define";
import { out, TaskError } from "./lib/runtime";
import { ensure } from "./lib/validate";

/**
 * `deployments:verify`: submits the source of every deployment of a network to Etherscan through hardhat-verify,
 * which speaks Etherscan's current (V2, multichain) API when `etherscan.apiKey` is one key, as hardhat.config.ts sets
 * it. (hardhat-deploy 0.12.4's own `etherscan-verify` still calls the retired V1 endpoint.)
 */

interface Planned {
  name: string;
  address: string;
  /** `path:Contract` of this project's artifact, when the deployment was compiled here. */
  contract?: string;
  args: unknown[];
  libraries: Record<string, string>;
  skip?: string;
}

/** What would be verified, deployment by deployment (proxies' merged views and foreign builds are skipped). */
async function plan(hre: HardhatRuntimeEnvironment): Promise<Planned[]> {
  const all = await hre.deployments.all();
  const planned: Planned[] = [];
  for (const name of Object.keys(all).sort()) {
    const d = all[name] as (typeof all)[string] & { implementation?: string };
    const entry: Planned = { name, address: d.address, args: d.args ?? [], libraries: d.libraries ?? {} };
    if (d.implementation) {
      entry.skip = `the proxy's merged view: verified as ${name}_Proxy and ${name}_Implementation`;
    } else if (!d.metadata) {
      entry.skip = "an existing contract named by address (not deployed by this project)";
    } else {
      const target = Object.entries(
        (JSON.parse(d.metadata) as { settings: { compilationTarget: Record<string, string> } }).settings
          .compilationTarget,
      )[0];
      const fqn = target && `${target[0]}:${target[1]}`;
      if (fqn && (await hre.artifacts.artifactExists(fqn))) entry.contract = fqn;
      else {
        entry.skip =
          `${fqn ?? "its contract"} is a prebuilt artifact (hardhat-deploy's proxy, OpenZeppelin's timelock); ` +
          "Etherscan matches such bytecode to already verified sources, or verify it from its own package";
      }
    }
    planned.push(entry);
  }
  return planned;
}

viewTask(
  "deployments:verify",
  "Verify every deployment of the network on Etherscan (API V2, one ETHERSCAN_API_KEY)",
)
  .addFlag("dryRun", "print what would be verified, send nothing (works on local networks)")
  .setAction(async (args: { dryRun: boolean }, hre) => {
    const planned = await plan(hre);
    ensure(planned.length > 0, `nothing is deployed on "${hre.network.name}"`);
    if (!args.dryRun) {
      ensure(
        !isLocalNetwork(hre.network.name),
        "Etherscan knows no local network; use --dry-run to see the plan",
      );
      ensure(
        process.env.ETHERSCAN_API_KEY,
        "set ETHERSCAN_API_KEY (one Etherscan.io key serves every chain in V2)",
      );
    }
    const rows: string[][] = [];
    let failed = 0;
    for (const p of planned) {
      let result = p.skip ? `skipped: ${p.skip}` : args.dryRun ? `would verify ${p.contract}` : "";
      if (!p.skip && !args.dryRun) {
        try {
          await hre.run("verify:verify", {
            address: p.address,
            constructorArguments: p.args,
            contract: p.contract,
            libraries: p.libraries,
          });
          result = "verified";
        } catch (err) {
          const message = (err as Error).message.split("\n")[0];
          if (/already verified/i.test(message)) result = "already verified";
          else {
            failed++;
            result = `FAILED: ${message}`;
          }
        }
      }
      rows.push([p.name, p.address, result]);
    }
    out(`\nEtherscan verification on ${hre.network.name}${args.dryRun ? " (dry run)" : ""}`);
    out(formatTable(["deployment", "address", "result"], rows));
    if (failed > 0) throw new TaskError(`${failed} deployment(s) failed to verify (see the table)`);
  });

import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";

import { Tags } from "../helpers/deploy-ids";
import { createContext, type DemoContext } from "./demo/context";
import { fleetChapter } from "./demo/fleet";
import { loansChapter } from "./demo/loans";
import { stakingChapter } from "./demo/staking";
import { reservesChapter } from "./demo/reserves";

/**
 * `npm run demo`: the protocol's lifecycle on Hardhat's in-process network, deployed through the real deploy
 * scripts. Prints readable tables as it goes and writes reports/demo.json.
 */
const CHAPTERS: { name: string; run(ctx: DemoContext): Promise<void> }[] = [
  { name: "reserves", run: reservesChapter },
  { name: "fleet", run: fleetChapter },
  { name: "loans", run: loansChapter },
  { name: "staking", run: stakingChapter },
];

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Deploying the protocol on "${hre.network.name}" through the deploy scripts...`);
  await hre.deployments.fixture([Tags.Protocol]);
  const ctx = await createContext(hre);

  for (const [index, chapter] of CHAPTERS.entries()) {
    console.log(`\n[${index + 1}/${CHAPTERS.length}] ${chapter.name}`);
    await chapter.run(ctx);
  }

  const outDir = path.join(__dirname, "..", "reports");
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, "demo.json");
  fs.writeFileSync(outFile, `${JSON.stringify(ctx.report, null, 2)}\n`);
  console.log(
    `\nWrote ${path.relative(process.cwd(), outFile)} in ${((Date.now() - started) / 1000).toFixed(1)}s.`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

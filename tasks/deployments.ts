import path from "node:path";

import { EXPORTS_DIR, writeExports } from "../helpers/exports";
import { ensureProtocol, out } from "./lib/runtime";
import { viewTask } from "./lib/define";

viewTask(
  "deployments:export",
  "Write exports/<network>.json (every deployment's address and ABI) and exports/abi/*.json",
)
  .addOptionalParam("dir", "output directory", EXPORTS_DIR)
  .setAction(async (args: { dir: string }, hre) => {
    await ensureProtocol(hre);
    const files = await writeExports(hre, path.resolve(args.dir));
    out(`Wrote ${files.length} files:`);
    for (const file of files) out(`  ${path.relative(process.cwd(), file)}`);
  });

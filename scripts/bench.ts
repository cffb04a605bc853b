import hre from "hardhat";

import { formatTable, runBench } from "./bench/runner";

/**
 * `npm run bench`: deploys through the real deploy scripts, measures each operation warm, prints the table and
 * exits non-zero if any operation is over its ceiling in gas/ceilings.json (or has none).
 */
async function main(): Promise<void> {
  const rows = await runBench(hre, (suite, i, n) => console.log(`[${i + 1}/${n}] ${suite}...`));
  console.log(`\n${formatTable(rows)}\n`);
  const over = rows.filter((r) => !r.ok);
  if (over.length > 0) {
    console.error(
      `${over.length} operation(s) over ceiling or without one: ${over.map((r) => r.key).join(", ")}`,
    );
    process.exitCode = 1;
  } else {
    console.log(`All ${rows.length} operations within their ceilings.`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

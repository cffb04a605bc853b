/**
 * `npm run stack` (root or indexer/): a local node with the protocol deployed, the demo story played against it,
 * and the indexer serving the result, in one command. Ctrl-C stops all three.
 * Environment: STACK_NODE_PORT (default 8545), PORT (indexer, default 42069). Logs go to indexer/.stack/.
 */
import fs from "node:fs";
import path from "node:path";

import { INDEXER_DIR, runHardhatScript, startIndexer, startNode, waitForHead, type Child } from "./local";

const nodePort = Number(process.env.STACK_NODE_PORT ?? 8545);
const indexerPort = Number(process.env.PORT ?? 42069);
const logDir = path.join(INDEXER_DIR, ".stack");

async function main(): Promise<void> {
  fs.mkdirSync(logDir, { recursive: true });
  const children: Child[] = [];
  const stopAll = async () => {
    for (const child of children.reverse()) await child.stop();
  };
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      // npm forwards the terminal's Ctrl-C too: stop once.
      if (stopping) return;
      stopping = true;
      console.log("\nstopping the indexer and the node...");
      void stopAll().then(() => process.exit(0));
    });
  }
  try {
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
    console.log(
      `starting hardhat node on 127.0.0.1:${nodePort} (log: ${path.join(logDir, "hardhat-node.log")})`,
    );
    const node = await startNode(nodePort, logDir);
    children.push(node);
    console.log(
      `protocol deployed (${elapsed()}); playing the demo story (log: ${path.join(logDir, "demo.log")})...`,
    );
    await runHardhatScript("scripts/demo.ts", node.url, path.join(logDir, "demo.log"));
    console.log(
      `demo story played (${elapsed()}); starting the indexer (log: ${path.join(logDir, "indexer.log")})...`,
    );
    const indexer = await startIndexer({
      rpcUrl: node.url,
      port: indexerPort,
      pgliteDir: path.join(INDEXER_DIR, ".ponder", "pglite"),
      log: path.join(logDir, "indexer.log"),
    });
    children.push(indexer);
    const head = await waitForHead(indexer.url, node.url, indexer);
    const u = indexer.url;
    console.log(`
indexed to block ${head} (${elapsed()}). The stack is up; Ctrl-C stops it.

  node      ${node.url}
  GraphQL   ${u}/graphql
  SQL       ${u}/sql/*
  REST      curl ${u}/loans
            curl ${u}/loans/1/tape
            curl '${u}/susdai/history?order=desc&limit=5'
            curl ${u}/queue
`);
    await new Promise(() => undefined);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

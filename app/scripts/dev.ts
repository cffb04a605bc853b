/**
 * `npm run app` (root) / `npm run dev` (app/): everything the app needs, locally, in one command. A hardhat node on
 * loopback (its deploy scripts deploy the protocol), a story played on it, the indexer following it, and Vite's dev
 * server with `/rpc` and `/indexer` proxied to them; prints the URL. Ctrl-C stops all of it.
 *
 * Environment: APP_STORY = `short` (default: scripts/app/story.ts, about a minute: lenders, fleet, two loans, a
 * month of readings and payments), `demo` (the full 18-month demo, several minutes) or `none` (a fresh deployment);
 * APP_NODE_PORT (8545), APP_INDEXER_PORT (42069), APP_PORT (5173). Logs go to app/.dev/.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import {
  runHardhatScript,
  startIndexer,
  startNode,
  waitForHead,
  type Child,
} from "../../indexer/scripts/local";

const APP_DIR = path.resolve(import.meta.dirname, "..");
const LOG_DIR = path.join(APP_DIR, ".dev");
const STORIES = { short: "scripts/app/story.ts", demo: "scripts/demo.ts", none: undefined } as const;

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value <= 0 || value > 65_535) throw new Error(`${name} must be a TCP port`);
  return value;
}

async function main(): Promise<void> {
  const story = (process.env.APP_STORY || "short") as keyof typeof STORIES;
  if (!(story in STORIES)) throw new Error(`APP_STORY must be one of ${Object.keys(STORIES).join(", ")}`);
  const nodePort = port("APP_NODE_PORT", 8545);
  const indexerPort = port("APP_INDEXER_PORT", 42069);
  const appPort = port("APP_PORT", 5173);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const children: Child[] = [];
  let stopping = false;
  const stopAll = async () => {
    for (const child of children.reverse()) await child.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log("\nstopping the dev server, the indexer and the node...");
      void stopAll().then(() => process.exit(0));
    });
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  try {
    console.log(`starting a hardhat node on 127.0.0.1:${nodePort} (logs in ${LOG_DIR})`);
    const node = await startNode(nodePort, LOG_DIR);
    children.push(node);
    const script = STORIES[story];
    if (script) {
      console.log(`protocol deployed (${elapsed()}); playing the "${story}" story (${script})...`);
      await runHardhatScript(script, node.url, path.join(LOG_DIR, "story.log"));
    }
    await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/contracts.ts"], {
      cwd: APP_DIR,
    });
    console.log(`${script ? "story played" : "protocol deployed"} (${elapsed()}); starting the indexer...`);
    const indexer = await startIndexer({
      rpcUrl: node.url,
      port: indexerPort,
      pgliteDir: path.join(LOG_DIR, "pglite"),
      log: path.join(LOG_DIR, "indexer.log"),
    });
    children.push(indexer);
    const head = await waitForHead(indexer.url, node.url, indexer);
    console.log(`indexed to block ${head} (${elapsed()}); starting Vite...`);
    const vite = spawn(
      path.join(APP_DIR, "node_modules", ".bin", "vite"),
      ["--port", String(appPort), "--strictPort"],
      {
        cwd: APP_DIR,
        env: { ...process.env, APP_RPC_URL: node.url, APP_INDEXER_URL: indexer.url },
        stdio: ["ignore", "inherit", "inherit"],
        detached: true,
      },
    );
    const exited = new Promise<void>((resolve) => vite.once("exit", () => resolve()));
    children.push({
      process: vite,
      log: "(terminal)",
      async stop() {
        if (vite.exitCode !== null || vite.pid === undefined) return;
        process.kill(-vite.pid, "SIGTERM");
        await exited;
      },
    });
    console.log(`
The app is up (${elapsed()}); Ctrl-C stops everything.

  app       http://127.0.0.1:${appPort}/   (pick a "Local account": lender1, borrower1, keeper, ...)
  node      ${node.url}
  indexer   ${indexer.url}   (GraphQL at /graphql, REST at /loans, /queue, /susdai/history)
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

/**
 * The indexer's configuration: every knob in one place, each from an environment variable with a default that works
 * against `npm run node` in the repository root. Documented in the root `.env.example` and the README.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** indexer/ (Ponder's vite-node loader has `import.meta.url` but not `import.meta.dirname`). */
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const ROOT = path.resolve(PACKAGE, "..");

export type IndexerNetwork = "localhost" | "sepolia";

function network(): IndexerNetwork {
  const value = process.env.INDEXER_NETWORK ?? "localhost";
  if (value !== "localhost" && value !== "sepolia") {
    throw new Error(`INDEXER_NETWORK must be "localhost" or "sepolia", not "${value}"`);
  }
  return value;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return value;
}

function rpcUrl(net: IndexerNetwork): string {
  if (net === "localhost") return process.env.LOCALHOST_RPC_URL || "http://127.0.0.1:8545";
  const url = process.env.SEPOLIA_RPC_URL;
  if (!url) throw new Error("SEPOLIA_RPC_URL is required to index sepolia");
  return url;
}

const net = network();

export const env = {
  /** Which deployment to index: `localhost` (a `hardhat node`) or `sepolia`. `INDEXER_NETWORK`. */
  network: net,
  /** JSON-RPC endpoint: `LOCALHOST_RPC_URL` (shared with the hardhat config) or `SEPOLIA_RPC_URL`. */
  rpcUrl: rpcUrl(net),
  /** hardhat-deploy output to read addresses, ABIs and start blocks from. `INDEXER_DEPLOYMENTS_DIR`. */
  deploymentsDir: process.env.INDEXER_DEPLOYMENTS_DIR || path.join(ROOT, "deployments", net),
  /** Postgres connection string; when unset the indexer uses an embedded PGlite database. `DATABASE_URL`. */
  databaseUrl: process.env.DATABASE_URL || undefined,
  /** Directory of the embedded PGlite database. `INDEXER_PGLITE_DIR`. */
  pgliteDir: process.env.INDEXER_PGLITE_DIR || path.join(PACKAGE, ".ponder", "pglite"),
  /**
   * sUSDai price snapshot every this many blocks, counted from the block the protocol finished deploying in (5 on a
   * local node, where the demo story's blocks are hours apart; 300, about an hour, on sepolia; 1 for every block).
   * Each snapshot costs four contract reads. `SUSDAI_SNAPSHOT_INTERVAL`.
   */
  snapshotInterval: positiveInt("SUSDAI_SNAPSHOT_INTERVAL", net === "localhost" ? 5 : 300),
  /** Trailing window of the sUSDai APY, in days. `SUSDAI_APY_WINDOW_DAYS`. */
  apyWindowDays: positiveInt("SUSDAI_APY_WINDOW_DAYS", 30),
  /** RPC polling interval in milliseconds. `INDEXER_POLLING_MS`. */
  pollingMs: positiveInt("INDEXER_POLLING_MS", net === "localhost" ? 250 : 4_000),
} as const;

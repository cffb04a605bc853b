/**
 * `npm start` in indexer/ (`npm run indexer` in the root): `ponder start` for the configured network. A local node's
 * chain is new on every start, so against `localhost` with the embedded database the database starts empty too;
 * Postgres (DATABASE_URL) and sepolia keep theirs. Extra arguments go to `ponder start` (e.g. `--port 42070`).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { env } from "../src/env";

const dir = fileURLToPath(new URL("..", import.meta.url));
if (env.network === "localhost" && !env.databaseUrl) {
  fs.rmSync(env.pgliteDir, { recursive: true, force: true });
  console.log(`indexing localhost at ${env.rpcUrl} into a fresh embedded database (${env.pgliteDir})`);
}
const args = ["start", "--schema", process.env.DATABASE_SCHEMA || "public", ...process.argv.slice(2)];
const child = spawn(path.join(dir, "node_modules", ".bin", "ponder"), args, { cwd: dir, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

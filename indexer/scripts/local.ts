/**
 * Local-chain plumbing shared by `npm run stack` and the integration test: a `hardhat node` from the repository
 * root on a loopback port (its deploy scripts write deployments/localhost), the demo story against it, and the
 * indexer (`ponder start`) against that node. Every child runs in its own process group so that stopping it stops
 * its children too, and nothing else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const INDEXER_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT = path.resolve(INDEXER_DIR, "..");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");
const PONDER = path.join(INDEXER_DIR, "node_modules", ".bin", "ponder");
const DEPLOYMENTS = path.join(ROOT, "deployments", "localhost");

export interface Child {
  process: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

/**
 * How long a node's deploy or the indexer's start-up may take (`STACK_STARTUP_TIMEOUT_MS`, default 5 minutes: on a
 * busy 2-core machine each has been seen to take over two).
 */
const STARTUP_TIMEOUT_MS = Number(process.env.STACK_STARTUP_TIMEOUT_MS ?? 300_000);

/** Runs `wait`; if it fails, stops `child` (so a failed start leaves nothing running) and rethrows. */
async function stopOnFailure<T>(child: Child, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (err) {
    await child.stop();
    throw err;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function start(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: string,
): Child {
  const out = fs.openSync(log, "w");
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const group = -child.pid;
      try {
        process.kill(group, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group, "SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
      void name;
    },
  };
}

export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, child?: Child) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child && child.process.exitCode !== null) {
      throw new Error(`${what}: the process exited with ${child.process.exitCode}; see ${child.log}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs / 1000}s${last ? ` (last error: ${last})` : ""}`,
  );
}

/**
 * Starts `hardhat node` on `port` (its deploy scripts run on start) and waits until the protocol is deployed. The
 * node's per-call console logging is switched off afterwards: it costs more than the calls on a busy machine.
 */
export async function startNode(port: number, logDir: string): Promise<Child & { url: string }> {
  // Stale files from an earlier node would pass the readiness check; the node rewrites them on start.
  fs.rmSync(DEPLOYMENTS, { recursive: true, force: true });
  const url = `http://127.0.0.1:${port}`;
  const node = start(
    "hardhat node",
    HARDHAT,
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    ROOT,
    {},
    path.join(logDir, "hardhat-node.log"),
  );
  const marker = path.join(DEPLOYMENTS, "UtilizationOracle.json");
  await stopOnFailure(node, () =>
    until(
      "the hardhat node's deploy",
      STARTUP_TIMEOUT_MS,
      async () => {
        if (!fs.existsSync(marker)) return undefined;
        const { address } = JSON.parse(fs.readFileSync(marker, "utf8")) as { address: string };
        const code = await rpc<string>(url, "eth_getCode", [address, "latest"]);
        return code !== "0x" ? true : undefined;
      },
      node,
    ),
  );
  await rpc(url, "hardhat_setLoggingEnabled", [false]);
  return { ...node, url };
}

/** Runs a hardhat script from the repository root against the node (e.g. scripts/demo.ts). */
export async function runHardhatScript(script: string, rpcUrl: string, log: string): Promise<void> {
  const child = start(
    script,
    HARDHAT,
    ["run", script, "--network", "localhost"],
    ROOT,
    { LOCALHOST_RPC_URL: rpcUrl },
    log,
  );
  const code = await new Promise<number | null>((resolve) => child.process.once("exit", (c) => resolve(c)));
  if (code !== 0) throw new Error(`hardhat run ${script} exited with ${code}; see ${log}`);
}

export interface IndexerOptions {
  rpcUrl: string;
  port: number;
  pgliteDir: string;
  log: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts `ponder start` against the node with a fresh embedded database and waits for its HTTP server. */
export async function startIndexer(options: IndexerOptions): Promise<Child & { url: string }> {
  fs.rmSync(options.pgliteDir, { recursive: true, force: true });
  const child = start(
    "indexer",
    PONDER,
    ["start", "--schema", "public", "--port", String(options.port), "--hostname", "127.0.0.1"],
    INDEXER_DIR,
    {
      INDEXER_NETWORK: "localhost",
      LOCALHOST_RPC_URL: options.rpcUrl,
      INDEXER_PGLITE_DIR: options.pgliteDir,
      PONDER_TELEMETRY_DISABLED: "true",
      DATABASE_URL: "",
      ...options.env,
    },
    options.log,
  );
  const url = `http://127.0.0.1:${options.port}`;
  await stopOnFailure(child, () =>
    until(
      "the indexer's HTTP server",
      STARTUP_TIMEOUT_MS,
      async () => ((await fetch(`${url}/health`)).ok ? true : undefined),
      child,
    ),
  );
  return { ...child, url };
}

/** The block the indexer has indexed up to (Ponder's `/status`). */
export async function indexedBlock(indexerUrl: string): Promise<number> {
  const res = await fetch(`${indexerUrl}/status`);
  const status = (await res.json()) as Record<string, { block: { number: number } }>;
  return Object.values(status)[0]?.block.number ?? -1;
}

/** Waits until the indexer has finished its backfill and indexed the chain's current head. */
export async function waitForHead(
  indexerUrl: string,
  rpcUrl: string,
  child: Child,
  timeoutMs = 600_000,
): Promise<number> {
  return until(
    "the indexer reaching the chain head",
    timeoutMs,
    async () => {
      if ((await fetch(`${indexerUrl}/ready`)).status !== 200) return undefined;
      const head = Number(BigInt(await rpc<string>(rpcUrl, "eth_blockNumber")));
      return (await indexedBlock(indexerUrl)) >= head ? head : undefined;
    },
    child,
  );
}

import type { RunnerMessage, WorkerMessage, WorkerPlan } from "./messages";
import { generateBook, generatePath } from "./model";

/**
 * One worker of the stress run: its own Hardhat runtime and in-process network, one deployment and set-up of the book
 * (scripts/stress/chain.ts) with its snapshot, then the paths the runner sends it, one at a time, each from that
 * snapshot (scripts/stress/path.ts). Started by scripts/stress/workers.ts with `fork` (messages go over the IPC
 * channel; see messages.ts), after the runner has compiled; not meant to be run alone.
 */

const plan = JSON.parse(process.env.STRESS_WORKER_PLAN ?? "null") as WorkerPlan | null;
if (plan === null || typeof process.send !== "function") {
  console.error("scripts/stress/worker.ts is started by the stress runner (npm run stress), not on its own.");
  process.exit(2);
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())),
  );
}

const errorText = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

// The runner decides when to stop: Ctrl-C reaches the whole process group, and the runner ends its workers itself
// (SIGTERM, by pid). A worker whose runner is gone exits.
process.on("SIGINT", () => {});
process.on("disconnect", () => process.exit(1));

async function main(p: WorkerPlan): Promise<void> {
  const { config } = p;
  const hre = (await import("hardhat")).default;
  if (hre.network.name !== "hardhat")
    throw new Error("the stress run uses Hardhat's in-process network only");
  const { setUpChain } = await import("./chain");
  const { runPath } = await import("./path");
  const book = generateBook(config);
  const started = Date.now();
  const chain = await setUpChain(
    hre,
    config,
    book,
    (line) => void send({ type: "log", line }).catch(() => {}),
  );
  const block = (await hre.network.provider.request({
    method: "eth_getBlockByNumber",
    params: ["latest", false],
  })) as { number: string; hash: string; stateRoot: string };

  // One job at a time, in the order they arrive (the runner sends the next one when a result is in).
  let queue = Promise.resolve();
  process.on("message", (m: RunnerMessage) => {
    queue = queue.then(async () => {
      if (m.type === "stop") process.exit(0);
      const { job } = m;
      try {
        const market = generatePath(config, book, job.scenario, job.index);
        const result = await runPath(chain, config, book, market, job.couponRules);
        await send({ type: "result", jobId: job.id, result });
      } catch (err) {
        await send({ type: "failed", jobId: job.id, error: errorText(err) }).catch(() => {});
        process.exit(1);
      }
    });
  });
  await send({
    type: "ready",
    setupMs: Date.now() - started,
    snapshot: {
      t0: chain.t0,
      block: Number(block.number),
      blockHash: block.hash,
      stateRoot: block.stateRoot,
    },
  });
}

main(plan).catch(async (err: unknown) => {
  await send({ type: "failed", jobId: null, error: errorText(err) }).catch(() => {});
  process.exit(1);
});

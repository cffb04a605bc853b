import { runCampaign } from "../../test/invariant/protocol/campaign";
import { counters, stats } from "../../test/invariant/protocol/counters";
import { profileReport, PROFILING } from "../../test/invariant/protocol/profile";
import { buildSetup } from "../../test/invariant/protocol/setup";
import { chunkSeed, type Snapshot, type WorkerMessage, type WorkerPlan } from "./protocol";

/**
 * One worker of the sharded fuzz runner: its own Hardhat runtime and in-process network (loaded by the suite's
 * modules), one deployment and setup, then
 * fast-check campaigns over its chunks of seeds until the run's sequences, its share of the calls or the deadline is
 * reached. Started by scripts/fuzz.ts with `fork` (its messages go over the IPC channel); not meant to be run alone.
 */

const plan = JSON.parse(process.env.FUZZ_WORKER_PLAN ?? "null") as WorkerPlan | null;
if (plan === null || typeof process.send !== "function") {
  console.error("scripts/fuzz/worker.ts is started by scripts/fuzz.ts (npm run fuzz:long), not on its own.");
  process.exit(2);
}
const cpuAtStart = process.cpuUsage();

function snapshot(): Snapshot {
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    calls: counters.calls,
    sequences: counters.sequences,
    fullChecks: counters.fullChecks,
    stepChecks: counters.stepChecks,
    stats: Object.fromEntries(
      [...stats].map(([name, s]) => [name, { ok: s.ok, reverts: Object.fromEntries(s.reverts) }]),
    ),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())),
  );
}

async function main(p: WorkerPlan): Promise<void> {
  const started = Date.now();
  const setup = await buildSetup(p.checkEvery);
  await send({ type: "ready", setupMs: Date.now() - started });
  let lastProgress = 0;
  const onSequence = () => {
    if (Date.now() - lastProgress < p.progressMs) return;
    lastProgress = Date.now();
    void send({ type: "progress", snapshot: snapshot() });
  };
  for (let i = p.firstChunk; ; i += p.workers) {
    const remainingRuns = p.runs === null ? p.chunk : Math.min(p.chunk, p.runs - i * p.chunk);
    if (remainingRuns <= 0) break;
    if (p.callsQuota !== null && counters.calls >= p.callsQuota) break;
    if (p.deadline !== null && Date.now() >= p.deadline) break;
    if (i !== p.firstChunk && process.memoryUsage().rss / 2 ** 20 > p.maxRssMb) {
      await send({ type: "recycle", nextChunk: i, snapshot: snapshot() });
      return;
    }
    const seed = chunkSeed(p.baseSeed, i);
    const result = await runCampaign(setup, {
      seed,
      runs: remainingRuns,
      depth: p.depth,
      endOnFailure: false,
      ...(p.deadline !== null ? { timeLimitMs: Math.max(1, p.deadline - Date.now()) } : {}),
      onSequence,
    });
    if (result.failed) {
      await send({
        type: "failure",
        chunk: i,
        seed,
        runs: remainingRuns,
        path: result.path,
        replayPath: result.replayPath,
        counterexample: result.counterexample,
        message: result.message,
        snapshot: snapshot(),
      });
      return;
    }
    await send({
      type: "chunk",
      chunk: i,
      seed,
      runs: result.numRuns,
      interrupted: result.interrupted,
      snapshot: snapshot(),
    });
    if (result.interrupted) break;
  }
  if (PROFILING) console.log(`fuzz worker ${p.slot}:\n${profileReport(counters.calls)}`);
  await send({ type: "done", snapshot: snapshot() });
}

// The in-process network keeps the event loop alive: exit once the last message is delivered.
main(plan).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`fuzz worker ${plan.slot} crashed:`, err);
    process.exit(1);
  },
);

import { fork, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { env } from "../config/env";
import { formatTable } from "../helpers/format";
import {
  emptySnapshot,
  merge,
  revertsByReason,
  type Snapshot,
  type WorkerMessage,
  type WorkerPlan,
} from "./fuzz/protocol";

/**
 * `npm run fuzz:long` / `npm run fuzz:million`: the protocol-wide invariant suite (test/invariant/Protocol.spec.ts)
 * sharded across worker processes, each with its own in-process Hardhat network, deployment and derived seeds.
 *
 * The run is cut into chunks of FUZZ_CHUNK sequences; chunk i is one fast-check campaign with seed
 * `chunkSeed(FUZZ_SEED, i)` (chunk 0 is FUZZ_SEED itself), and worker k runs chunks k, k + W, k + 2W, ... So the
 * chunks, and what each replays, depend on FUZZ_SEED only. The run ends when FUZZ_RUNS sequences or FUZZ_CALLS
 * protocol calls are reached, or FUZZ_MINUTES have passed (a sequence in progress finishes). A progress line is printed
 * every FUZZ_PROGRESS_SECONDS; a worker whose memory passes FUZZ_MAX_RSS_MB is replaced at a chunk boundary, so
 * memory stays bounded however long the run. At the end: the merged table of outcomes, and a JSON summary at
 * FUZZ_REPORT. A failure is shrunk and reported with its chunk seed and replay path, and stops the run.
 *
 * Environment (all optional): FUZZ_SEED (24301), FUZZ_WORKERS (one per core), FUZZ_RUNS, FUZZ_CALLS, FUZZ_MINUTES,
 * FUZZ_DEPTH (50), FUZZ_CHUNK (25), FUZZ_CHECK_EVERY (1), FUZZ_PROGRESS_SECONDS (15), FUZZ_MAX_RSS_MB (1000),
 * FUZZ_REPORT (reports/fuzz.json).
 */

const num = (value: string | undefined, fallback: number | null): number | null =>
  value === undefined ? fallback : Number(value);

interface Config {
  seed: number;
  workers: number;
  runs: number | null;
  calls: number | null;
  minutes: number | null;
  depth: number;
  chunk: number;
  checkEvery: number;
  progressSeconds: number;
  maxRssMb: number;
  report: string;
}

function config(): Config {
  const c: Config = {
    seed: num(env.fuzzSeed, 0x5eed)!,
    workers: num(env.fuzzWorkers, Math.max(1, os.availableParallelism()))!,
    runs: num(env.fuzzRuns, null),
    calls: num(env.fuzzCalls, null),
    minutes: num(env.fuzzMinutes, null),
    depth: num(env.fuzzDepth, 50)!,
    chunk: num(env.fuzzChunk, 25)!,
    checkEvery: num(env.fuzzCheckEvery, 1)!,
    progressSeconds: num(env.fuzzProgressSeconds, 15)!,
    maxRssMb: num(env.fuzzMaxRssMb, 1000)!,
    report: env.fuzzReport ?? "reports/fuzz.json",
  };
  if (c.runs === null && c.calls === null && c.minutes === null) c.runs = 200;
  for (const [key, value] of Object.entries(c))
    if (typeof value === "number" && !(Number.isInteger(value) ? value >= 0 : value > 0))
      throw new Error(`fuzz: ${key} must be a non-negative number, got ${value}`);
  if (c.workers < 1 || c.chunk < 1 || c.checkEvery < 1 || c.depth < 1)
    throw new Error("fuzz: FUZZ_WORKERS, FUZZ_CHUNK, FUZZ_CHECK_EVERY and FUZZ_DEPTH must be at least 1");
  if (c.progressSeconds > 30) throw new Error("fuzz: FUZZ_PROGRESS_SECONDS is at most 30");
  return c;
}

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
};
const int = (n: number) => n.toLocaleString("en-US");

interface Slot {
  /** Counts of this slot's finished processes (a recycled worker's totals). */
  base: Snapshot;
  /** The live process's latest counts. */
  live: Snapshot;
  process?: ChildProcess;
  seeds: { chunk: number; seed: number; runs: number }[];
  peakRssMb: number;
  restarts: number;
  done: boolean;
  /** When this slot's first process had deployed and set up (the steady-state rate is measured from the first). */
  readyAt?: number;
  setupSeconds: number[];
}

interface Failure {
  slot: number;
  chunk: number;
  seed: number;
  runs: number;
  path?: string;
  replayPath?: string;
  counterexample?: string;
  message?: string;
}

async function main(): Promise<void> {
  const c = config();
  const root = path.resolve(__dirname, "..");
  console.log("fuzz: compiling (once, before the workers start)");
  const compiled = spawnSync("npx", ["hardhat", "compile", "--quiet"], { cwd: root, stdio: "inherit" });
  if (compiled.status !== 0) throw new Error("fuzz: compile failed");

  const started = Date.now();
  const deadline = c.minutes === null ? null : started + c.minutes * 60_000;
  const targets = [
    c.runs !== null ? `${int(c.runs)} sequences` : null,
    c.calls !== null ? `${int(c.calls)} calls` : null,
    c.minutes !== null ? `${c.minutes} min` : null,
  ].filter((x) => x !== null);
  console.log(
    `fuzz: seed ${c.seed}, ${c.workers} worker(s), depth ${c.depth}, chunks of ${c.chunk}, full checks every ${c.checkEvery} command(s); until ${targets.join(" or ")}`,
  );

  const slots: Slot[] = Array.from({ length: c.workers }, () => ({
    base: emptySnapshot(),
    live: emptySnapshot(),
    seeds: [],
    peakRssMb: 0,
    restarts: 0,
    done: false,
    setupSeconds: [],
  }));
  const failures: Failure[] = [];
  const crashes: string[] = [];
  let stopping = false;

  const total = () => merge(slots.flatMap((s) => [s.base, s.live]));

  const spawn = (slot: number, firstChunk: number) => {
    const s = slots[slot];
    const used = s.base.calls;
    const plan: WorkerPlan = {
      slot,
      workers: c.workers,
      firstChunk,
      baseSeed: c.seed,
      depth: c.depth,
      chunk: c.chunk,
      runs: c.runs,
      callsQuota: c.calls === null ? null : Math.max(0, Math.ceil(c.calls / c.workers) - used),
      deadline,
      checkEvery: c.checkEvery,
      maxRssMb: c.maxRssMb,
      progressMs: 2_000,
    };
    const child = fork(path.join(__dirname, "fuzz", "worker.ts"), [], {
      cwd: root,
      execArgv: ["-r", "ts-node/register/transpile-only"],
      env: { ...process.env, HARDHAT_SKIP_TASKS: "1", FUZZ_WORKER_PLAN: JSON.stringify(plan) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    s.process = child;
    s.live = emptySnapshot();
    let finished = false;
    child.on("message", (m: WorkerMessage) => {
      if (m.type === "ready") {
        s.readyAt ??= Date.now();
        s.setupSeconds.push(Math.round(m.setupMs / 100) / 10);
        console.log(`fuzz: worker ${slot} ready (setup ${(m.setupMs / 1000).toFixed(1)} s)`);
        return;
      }
      s.live = m.snapshot;
      s.peakRssMb = Math.max(s.peakRssMb, m.snapshot.rssMb);
      if (m.type === "chunk") s.seeds.push({ chunk: m.chunk, seed: m.seed, runs: m.runs });
      if (m.type === "failure") {
        s.seeds.push({ chunk: m.chunk, seed: m.seed, runs: m.runs });
        failures.push({ slot, ...m });
        stop();
      }
      if (m.type === "recycle") {
        finished = true;
        s.base = merge([s.base, s.live]);
        s.live = emptySnapshot();
        s.restarts++;
        console.log(`fuzz: worker ${slot} at ${m.snapshot.rssMb} MB, replaced from chunk ${m.nextChunk}`);
        if (!stopping) spawn(slot, m.nextChunk);
      }
      if (m.type === "done") finished = true;
    });
    child.on("exit", (code) => {
      if (s.process !== child) return;
      if (!finished && !stopping) crashes.push(`worker ${slot} exited with code ${code} before it finished`);
      if (!finished && !stopping) stop();
      s.base = merge([s.base, s.live]);
      s.live = emptySnapshot();
      s.process = undefined;
      s.done = true;
      maybeFinish();
    });
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Ends only the worker processes this runner started, by their own pid.
    for (const s of slots) if (s.process?.pid !== undefined) s.process.kill("SIGTERM");
  };
  process.on("SIGINT", () => {
    console.log("\nfuzz: interrupted; stopping the workers");
    stop();
  });

  const progress = () => {
    const t = total();
    const elapsed = Date.now() - started;
    const rate = t.calls / Math.max(1, elapsed / 1000);
    const reasons = Object.keys(revertsByReason(t.stats)).length;
    const remaining: number[] = [];
    if (deadline !== null) remaining.push(deadline - Date.now());
    if (c.calls !== null && rate > 0) remaining.push(((c.calls - t.calls) / rate) * 1000);
    if (c.runs !== null && t.sequences > 0) remaining.push(((c.runs - t.sequences) * elapsed) / t.sequences);
    const eta = remaining.length === 0 ? "?" : clock(Math.min(...remaining));
    const rss = slots.map((s) => s.live.rssMb || s.peakRssMb).join("/");
    const heap = slots.map((s) => s.live.heapMb).join("/");
    console.log(
      `fuzz: ${clock(elapsed)} elapsed, ${int(t.sequences)} sequences, ${int(t.calls)} calls, ${rate.toFixed(1)} calls/s, ${reasons} revert reasons, ${failures.length} violations, rss ${rss} MB (heap ${heap}), ~${eta} remaining`,
    );
  };
  const ticker = setInterval(progress, c.progressSeconds * 1000);

  let resolveDone: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const maybeFinish = () => {
    if (slots.every((s) => s.done)) resolveDone();
  };
  for (let k = 0; k < c.workers; k++) spawn(k, k);
  await done;
  clearInterval(ticker);
  progress();

  const t = total();
  const ms = Date.now() - started;
  const firstReady = Math.min(...slots.map((s) => s.readyAt ?? Date.now()));
  const steadyMs = Math.max(1, Date.now() - firstReady);
  console.log(`\n${table(t)}\n`);
  const summary = {
    seed: c.seed,
    config: {
      workers: c.workers,
      runs: c.runs,
      calls: c.calls,
      minutes: c.minutes,
      depth: c.depth,
      chunk: c.chunk,
      checkEvery: c.checkEvery,
    },
    durationSeconds: Math.round(ms / 100) / 10,
    sequences: t.sequences,
    calls: t.calls,
    callsPerSecond: Math.round((t.calls / (ms / 1000)) * 10) / 10,
    /** From the first worker ready to the end: the rate without process start, compile check and deployment. */
    steadyCallsPerSecond: Math.round((t.calls / (steadyMs / 1000)) * 10) / 10,
    cpuSeconds: Math.round(t.cpuMs / 100) / 10,
    invariantChecks: { full: t.fullChecks, step: t.stepChecks, endOfSequenceReceipts: t.sequences },
    revertsByReason: revertsByReason(t.stats),
    commands: t.stats,
    workers: slots.map((s, k) => ({
      worker: k,
      chunks: s.seeds,
      sequences: s.base.sequences,
      calls: s.base.calls,
      peakRssMb: s.peakRssMb,
      restarts: s.restarts,
      setupSeconds: s.setupSeconds,
    })),
    violations: failures,
    crashes,
  };
  fs.mkdirSync(path.dirname(path.resolve(root, c.report)), { recursive: true });
  fs.writeFileSync(path.resolve(root, c.report), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `fuzz: seed ${c.seed}: ${int(t.sequences)} sequences, ${int(t.calls)} protocol calls in ${clock(ms)} (${summary.callsPerSecond} calls/s; ${summary.steadyCallsPerSecond} once deployed; ${summary.cpuSeconds} s CPU), ${Object.keys(summary.revertsByReason).length} distinct revert reasons, ${failures.length} violations; peak rss ${Math.max(...slots.map((s) => s.peakRssMb))} MB; summary in ${c.report}`,
  );
  for (const f of failures) {
    console.error(
      [
        `\nfuzz: VIOLATION in worker ${f.slot}, chunk ${f.chunk} (seed ${f.seed}, ${f.runs} sequences of up to ${c.depth}).`,
        f.message ?? "",
        "Shrunk sequence (the opening included):",
        f.counterexample ?? "(none)",
        "Replay it alone:",
        `  FUZZ_SEED=${f.seed} FUZZ_RUNS=${f.runs} FUZZ_DEPTH=${c.depth} FUZZ_CHECK_EVERY=${c.checkEvery}${f.path ? ` FUZZ_PATH=${f.path}` : ""}${f.replayPath ? ` FUZZ_REPLAY_PATH='${f.replayPath}'` : ""} npx hardhat test test/invariant/Protocol.spec.ts`,
      ].join("\n"),
    );
  }
  for (const crash of crashes) console.error(`fuzz: ${crash}`);
  if (failures.length > 0 || crashes.length > 0) process.exitCode = 1;
}

/** The same table the mocha suite prints: per command, successes and reverts by reason. */
function table(t: Snapshot): string {
  const rows = Object.entries(t.stats)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => [
      name,
      int(s.ok),
      Object.entries(s.reverts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([r, n]) => `${r} ${n}`)
        .join(", "),
    ]);
  return formatTable(["command", "ok", "reverts"], rows, ["left", "right", "left"]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

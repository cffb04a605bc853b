import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

import type { StressConfig } from "./config";
import { jobLabel, type Job } from "./jobs";
import type { RunnerMessage, SnapshotFingerprint, WorkerMessage, WorkerPlan } from "./messages";
import type { PathResult } from "./path";

/**
 * Spreads a run's paths over `config.workers` worker processes (scripts/stress/worker.ts), the way the sharded fuzz
 * runner does (scripts/fuzz.ts): each is forked with ts-node, has its own in-process Hardhat network and sets up the
 * same deployment and book, so every worker's snapshot is the same chain (checked: the snapshot block's hash and state
 * root must match across workers). Worker k starts with job k; after that each finished path earns its worker the
 * next job in the run's order, so slow paths do not hold the others up. A path's result depends only on the seed and
 * the job, not on the worker.
 *
 * The run stops at the first failure (a path or a set-up that threw, a worker that died, snapshots that differ) and
 * on Ctrl-C; either way it ends only the processes it started, by their pid, and returns what had finished.
 */

export interface WorkerStats {
  worker: number;
  /** The worker's own deployment and set-up of the book. */
  setupSeconds: number | null;
  /** Ids of the jobs it finished, in the order it ran them. */
  jobs: number[];
  transactions: number;
  /** Epoch ms: when it was ready, and when its last path finished. */
  readyAt: number | null;
  lastResultAt: number | null;
}

export interface RunFailure {
  worker: number;
  /** The job it was running, or null if it failed during its set-up. */
  job: Job | null;
  error: string;
}

export interface RunOutcome {
  workers: WorkerStats[];
  failure: RunFailure | null;
  interrupted: boolean;
}

export interface RunHandlers {
  /** A set-up progress line of one worker. */
  log(worker: number, line: string): void;
  ready(worker: number, setupSeconds: number, snapshot: SnapshotFingerprint): void;
  /** A finished path; `workers` is every worker's tally so far, this path included. */
  result(worker: number, job: Job, result: PathResult, workers: readonly WorkerStats[]): void;
  /** Ctrl-C: the workers are being stopped. */
  interrupted(): void;
}

const ROOT = path.resolve(__dirname, "..", "..");

export function runOnWorkers(config: StressConfig, jobs: Job[], on: RunHandlers): Promise<RunOutcome> {
  const count = Math.min(config.workers, jobs.length);
  const stats: WorkerStats[] = Array.from({ length: count }, (_, worker) => ({
    worker,
    setupSeconds: null,
    jobs: [],
    transactions: 0,
    readyAt: null,
    lastResultAt: null,
  }));
  const children: (ChildProcess | null)[] = [];
  const running: (Job | null)[] = Array.from({ length: count }, () => null);
  const stopped = new Set<number>();
  let reference: { worker: number; snapshot: SnapshotFingerprint } | null = null;
  let next = count;
  let failure: RunFailure | null = null;
  let interrupted = false;
  let stopping = false;

  if (count === 0) return Promise.resolve({ workers: stats, failure: null, interrupted: false });
  return new Promise<RunOutcome>((resolve) => {
    const finishIfDone = () => {
      if (children.every((c) => c === null)) {
        process.off("SIGINT", onInterrupt);
        resolve({ workers: stats, failure, interrupted });
      }
    };
    // Ends only the processes this runner forked, each by its own pid.
    const stopAll = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const child of children)
        if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const fail = (f: RunFailure) => {
      failure ??= f;
      stopAll("SIGTERM");
    };
    const onInterrupt = () => {
      if (interrupted) {
        stopAll("SIGKILL"); // a second Ctrl-C: do not wait for a busy worker
        return;
      }
      interrupted = true;
      on.interrupted();
      stopAll("SIGTERM");
    };
    process.on("SIGINT", onInterrupt);

    const dispatch = (worker: number, child: ChildProcess, job: Job | undefined) => {
      if (stopping) return;
      const message: RunnerMessage = job ? { type: "run", job } : { type: "stop" };
      running[worker] = job ?? null;
      if (!job) stopped.add(worker);
      // A worker that died meanwhile is reported by its "close" below; the failed send needs no other handling.
      child.send(message, (err) => void err);
    };

    for (let worker = 0; worker < count; worker++) {
      const plan: WorkerPlan = { slot: worker, config };
      const child = fork(path.join(__dirname, "worker.ts"), [], {
        cwd: ROOT,
        execArgv: ["-r", "ts-node/register/transpile-only"],
        env: {
          ...process.env,
          HARDHAT_SKIP_TASKS: "1",
          HARDHAT_NETWORK: "hardhat",
          STRESS_WORKER_PLAN: JSON.stringify(plan),
        },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        // Structured clone: a path's numbers arrive exactly as the worker computed them.
        serialization: "advanced",
      });
      children.push(child);
      const s = stats[worker];
      child.on("message", (m: WorkerMessage) => {
        if (m.type === "log") on.log(worker, m.line);
        else if (m.type === "ready") {
          s.setupSeconds = m.setupMs / 1000;
          s.readyAt = Date.now();
          on.ready(worker, s.setupSeconds, m.snapshot);
          if (reference === null) reference = { worker, snapshot: m.snapshot };
          else if (
            m.snapshot.blockHash !== reference.snapshot.blockHash ||
            m.snapshot.stateRoot !== reference.snapshot.stateRoot
          ) {
            const show = (f: SnapshotFingerprint) =>
              `block ${f.block} at time ${f.t0}, hash ${f.blockHash}, state root ${f.stateRoot}`;
            fail({
              worker,
              job: null,
              error:
                `worker ${worker}'s set-up ended on a different chain than worker ${reference.worker}'s ` +
                `(${show(m.snapshot)} vs ${show(reference.snapshot)}): its paths could differ from a ` +
                `single-process run's, so the run stops. Run with --workers 1 and report this.`,
            });
            return;
          }
          dispatch(worker, child, jobs[worker]);
        } else if (m.type === "result") {
          const job = jobs[m.jobId];
          s.jobs.push(job.id);
          s.transactions += m.result.transactions;
          s.lastResultAt = Date.now();
          running[worker] = null;
          on.result(worker, job, m.result, stats);
          dispatch(worker, child, jobs[next++]);
        } else if (m.type === "failed") {
          fail({ worker, job: m.jobId === null ? null : jobs[m.jobId], error: m.error });
        }
      });
      // "close" comes after the IPC channel has delivered the worker's last message (its error, if it sent one).
      child.on("close", (code, signal) => {
        children[worker] = null;
        if (!stopping && !stopped.has(worker)) {
          const job = running[worker];
          fail({
            worker,
            job,
            error: `worker ${worker} exited (${signal ?? `code ${code}`}) ${job ? `while running ${jobLabel(job)}` : "during its set-up"}`,
          });
        }
        finishIfDone();
      });
    }
  });
}

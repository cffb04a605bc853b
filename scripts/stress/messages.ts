import type { StressConfig } from "./config";
import type { Job } from "./jobs";
import type { PathResult } from "./path";

/**
 * What the stress runner (scripts/stress/index.ts, workers.ts) and its worker processes (scripts/stress/worker.ts)
 * tell each other over the IPC channel. No Hardhat here: the runner itself never loads it.
 */

/** How a worker is started (JSON in STRESS_WORKER_PLAN): its slot and the run's resolved configuration. */
export interface WorkerPlan {
  slot: number;
  config: StressConfig;
}

/** The chain a worker's paths start from. Every worker's must be the same, or results would depend on the worker. */
export interface SnapshotFingerprint {
  /** The loans' draw time: time 0 of every path. */
  t0: number;
  block: number;
  blockHash: string;
  stateRoot: string;
}

export type WorkerMessage =
  /** A set-up progress line (the runner prints worker 0's). */
  | { type: "log"; line: string }
  | { type: "ready"; setupMs: number; snapshot: SnapshotFingerprint }
  | { type: "result"; jobId: number; result: PathResult }
  /** The set-up (jobId null) or a path threw; the worker exits after sending this. */
  | { type: "failed"; jobId: number | null; error: string };

export type RunnerMessage = { type: "run"; job: Job } | { type: "stop" };

/**
 * What the sharded fuzz runner (scripts/fuzz.ts) and its workers (scripts/fuzz/worker.ts) share: the work plan, the
 * messages a worker sends, chunk seeds, and merging counters. No Hardhat here: the runner itself never loads it.
 */

/** How one worker process is told what to run (JSON in FUZZ_WORKER_CONFIG). */
export interface WorkerPlan {
  /** Worker slot, 0-based; it runs chunks slot, slot + workers, slot + 2 * workers, ... */
  slot: number;
  workers: number;
  /** The first chunk this process runs (a recycled worker resumes where its predecessor stopped). */
  firstChunk: number;
  baseSeed: number;
  depth: number;
  /** Sequences per chunk: one fast-check campaign with its own derived seed. */
  chunk: number;
  /** Total sequences of the whole run (chunks past it are not run), or null for no limit. */
  runs: number | null;
  /** Protocol calls this process may still make (its share of FUZZ_CALLS), or null for no limit. */
  callsQuota: number | null;
  /** Wall-clock end of the run (epoch ms), or null. */
  deadline: number | null;
  checkEvery: number;
  /** The worker exits (and is replaced) at a chunk boundary once its resident memory passes this. */
  maxRssMb: number;
  /** Minimum interval between the worker's progress messages. */
  progressMs: number;
}

/** Per command: successes and reverts by reason. */
export type Stats = Record<string, { ok: number; reverts: Record<string, number> }>;

export interface Snapshot {
  calls: number;
  sequences: number;
  fullChecks: number;
  stepChecks: number;
  stats: Stats;
  rssMb: number;
  /** The V8 heap in use (what the worker's JavaScript holds; the rest of the resident memory is native). */
  heapMb: number;
  cpuMs: number;
}

export type WorkerMessage =
  | { type: "ready"; setupMs: number }
  | { type: "progress"; snapshot: Snapshot }
  | { type: "chunk"; chunk: number; seed: number; runs: number; interrupted: boolean; snapshot: Snapshot }
  | {
      type: "failure";
      chunk: number;
      seed: number;
      runs: number;
      path?: string;
      replayPath?: string;
      counterexample?: string;
      message?: string;
      snapshot: Snapshot;
    }
  | { type: "recycle"; nextChunk: number; snapshot: Snapshot }
  | { type: "done"; snapshot: Snapshot };

/**
 * The seed of chunk `i`: chunk 0 runs the base seed itself (so one worker with one chunk of 200 x 50 replays the CI
 * suite exactly), every other chunk a 31-bit hash of (base, i). Deterministic: a run's chunks are a function of
 * FUZZ_SEED alone, whatever the number of workers.
 */
export function chunkSeed(base: number, i: number): number {
  if (i === 0) return base;
  let h = (base ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

export function emptySnapshot(): Snapshot {
  return { calls: 0, sequences: 0, fullChecks: 0, stepChecks: 0, stats: {}, rssMb: 0, heapMb: 0, cpuMs: 0 };
}

/** Sums snapshots (counts and stats); memory is the maximum. */
export function merge(parts: Snapshot[]): Snapshot {
  const out = emptySnapshot();
  for (const p of parts) {
    out.calls += p.calls;
    out.sequences += p.sequences;
    out.fullChecks += p.fullChecks;
    out.stepChecks += p.stepChecks;
    out.cpuMs += p.cpuMs;
    out.rssMb = Math.max(out.rssMb, p.rssMb);
    out.heapMb = Math.max(out.heapMb, p.heapMb);
    for (const [name, s] of Object.entries(p.stats)) {
      const o = (out.stats[name] ??= { ok: 0, reverts: {} });
      o.ok += s.ok;
      for (const [reason, n] of Object.entries(s.reverts)) o.reverts[reason] = (o.reverts[reason] ?? 0) + n;
    }
  }
  return out;
}

/** Reverts by reason over every command. */
export function revertsByReason(s: Stats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.values(s))
    for (const [reason, n] of Object.entries(c.reverts)) out[reason] = (out[reason] ?? 0) + n;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

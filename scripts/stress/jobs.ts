import type { ScenarioName, StressConfig } from "./config";

/**
 * The on-chain paths of a run, in the order the report lists them: scenario by scenario, each path index with the
 * coupon rules on, then (for the first `couponOffPaths` indices) the same index with them off. A job's result depends
 * on the configuration and the job only, never on which worker ran it or what ran before it there.
 */
export interface Job {
  /** Position in the run (and in the report's `paths`). */
  id: number;
  scenario: ScenarioName;
  index: number;
  couponRules: boolean;
}

export function jobsOf(config: StressConfig): Job[] {
  const jobs: Omit<Job, "id">[] = config.scenarios.flatMap((scenario) =>
    Array.from({ length: config.pathsPerScenario }, (_, index) => [
      { scenario, index, couponRules: true },
      ...(index < config.couponOffPaths ? [{ scenario, index, couponRules: false }] : []),
    ]).flat(),
  );
  return jobs.map((job, id) => ({ id, ...job }));
}

/** `base #3`, `run #0 (rules off)`. */
export function jobLabel(job: { scenario: string; index: number; couponRules: boolean }): string {
  return `${job.scenario} #${job.index}${job.couponRules ? "" : " (rules off)"}`;
}

/**
 * A command that replays one job in a single worker: the job's scenario up to its index (the job is the last path
 * with its rules setting), with every value that shapes the draws spelled out. STRESS_TRACE=1 in front prints its
 * transactions.
 */
export function jobReplayCommand(c: StressConfig, job: Omit<Job, "id">): string {
  return (
    `npm run stress -- --seed ${c.seed} --profile ${c.profile} --scenarios ${job.scenario} ` +
    `--paths ${job.index + 1} --coupon-off ${job.couponRules ? 0 : job.index + 1} --months ${c.horizonMonths} ` +
    `--operators ${c.book.operators} --workers 1`
  );
}

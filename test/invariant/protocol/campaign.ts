import fc from "fast-check";

import { OPENING, weighted } from "./commands";
import { counters } from "./counters";
import { checkEverything, checkInvariants, checkReceipts } from "./invariants";
import { phase } from "./profile";
import type { Setup } from "./setup";
import { World } from "./world";

// ==================================================================================================== campaign

/*
 * One fast-check campaign over the setup: `runs` sequences of up to `depth` commands from `seed`. Each sequence
 * restores the setup's snapshot, plays the opening and the drawn commands against a fresh world, ends with a full
 * invariant check (when the last command was not followed by one) and the receipts check. The mocha suite
 * (../Protocol.spec.ts) runs one campaign; the sharded runner (scripts/fuzz.ts) runs many, one per chunk of seeds.
 */

export interface Campaign {
  seed: number;
  runs: number;
  depth: number;
  /** Stop at the first failure without shrinking (the CI suite), or shrink it to a minimal sequence (the runner). */
  endOnFailure: boolean;
  /** fast-check's replay path of one failing case and its commands' replay path (printed with a failure). */
  path?: string;
  replayPath?: string;
  /** Stop starting sequences after this many milliseconds (a sequence in progress finishes). */
  timeLimitMs?: number;
  /** Called after each sequence that passed. */
  onSequence?: () => void;
}

/** Stands for "the end of the sequence" in a check's label. */
const END = { name: "end of sequence", toString: () => "the end of the sequence" };

/**
 * The suite's property: `depth` bounds a sequence; `replayPath` (with fast-check's `path`) replays one shrunk failing
 * sequence, as printed with a failure (`fc.commands` needs its own path to rebuild the shrunk list).
 */
export function property(setup: Setup, depth: number, replayPath?: string, onSequence?: () => void) {
  const cmds = fc.commands(weighted, {
    maxCommands: depth,
    size: "max",
    ...(replayPath !== undefined ? { replayPath } : {}),
  });
  return fc.asyncProperty(cmds, (cmds) =>
    phase("sequence", async () => {
      await phase("snapshot.restore", () => setup.snapshot.restore());
      const w = new World(setup);
      counters.sequences++;
      for (const o of OPENING) await o.run(w);
      await fc.asyncModelRun(() => ({ model: w, real: w }), cmds);
      if (w.steps % setup.checkEvery !== 0) await checkInvariants(w, END, true);
      await phase("end.everything", () => checkEverything(w));
      await phase("end.receipts", () => checkReceipts(w));
      onSequence?.();
    }),
  );
}

/** What a campaign ended with: counts for the report, and for a failure what it takes to replay it alone. */
export interface CampaignResult {
  failed: boolean;
  /** Stopped by the time limit before `runs` sequences. */
  interrupted: boolean;
  /** Sequences run (the failing one included). */
  numRuns: number;
  numShrinks: number;
  /** fast-check's replay path of the (shrunk) failing case, and the commands' own replay path. */
  path?: string;
  replayPath?: string;
  /** The shrunk failing sequence, one command per line. */
  counterexample?: string;
  /** fast-check's own report of the failure (seed, path, the error the sequence hit). */
  message?: string;
}

export async function runCampaign(setup: Setup, c: Campaign): Promise<CampaignResult> {
  const details = await fc.check(property(setup, c.depth, c.replayPath, c.onSequence), {
    seed: c.seed,
    numRuns: c.runs,
    endOnFailure: c.endOnFailure,
    ...(c.path !== undefined ? { path: c.path } : {}),
    ...(c.timeLimitMs !== undefined
      ? { interruptAfterTimeLimit: c.timeLimitMs, markInterruptAsFailure: false }
      : {}),
  });
  const result: CampaignResult = {
    failed: details.failed,
    interrupted: details.interrupted,
    numRuns: details.numRuns,
    numShrinks: details.numShrinks,
  };
  if (details.failed) {
    result.path = details.counterexamplePath ?? undefined;
    const [cmds] = details.counterexample ?? [[]];
    result.counterexample = [...OPENING, ...cmds].map((cmd) => String(cmd)).join("\n");
    result.replayPath = /replayPath="([^"]*)"/.exec(fc.stringify(cmds))?.[1];
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    result.message = `${fc.defaultReportMessage(details) ?? ""}\nError: ${error}`;
  }
  return result;
}

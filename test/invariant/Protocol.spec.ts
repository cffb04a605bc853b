import { expect } from "chai";
import fc from "fast-check";
import { takeSnapshot, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";

import { env } from "../../config/env";
import { fuzzParams } from "../helpers/fuzz";
import { property } from "./protocol/campaign";
import { COMMAND_NAMES } from "./protocol/commands";
import { report, stats } from "./protocol/counters";
import { buildSetup, type Setup } from "./protocol/setup";

/**
 * Protocol-wide stateful invariants: a seeded fast-check model-based suite (`fc.commands` + `fc.asyncModelRun`) over
 * the protocol as the deploy scripts build it. Four lenders, three borrowers with attested receipts at two sites, a
 * liquidator, a keeper, three reporters and two utilization feeds, and an attacker contract (`ReentrantBorrower`,
 * driven by the `attacker` account) act through every external user entry point. Each command predicts its outcome
 * from the bigint model in ./protocol-model.ts: success, or the exact custom error (and arguments) it must revert
 * with. After every command the chain is compared with the model and the invariants of ./protocol/invariants.ts are
 * asserted.
 *
 * Run size: FUZZ_RUNS sequences (default 200) of up to FUZZ_DEPTH commands (default 50), seed FUZZ_SEED; every
 * invariant after every command unless FUZZ_CHECK_EVERY says otherwise. FUZZ_PATH and FUZZ_REPLAY_PATH replay one
 * failing case (the runner prints both).
 * Long runs go through the sharded runner (scripts/fuzz.ts): `npm run fuzz:long`, `npm run fuzz:million`.
 *
 * Layout (test/invariant/protocol/): `setup.ts` deploys and funds the scenario once; `world.ts` is the ghost state
 * (the model); `execution.ts` runs a command against its prediction; `invariants.ts` holds the checks; `handlers/`
 * has one file of commands per actor (lender, borrower, keeper, oracle, liquidator, admin, attacker, clock);
 * `commands.ts` draws them. The bigint model of each contract is ./protocol-model.ts.
 */

const RUNS = env.fuzzRuns !== undefined ? Number(env.fuzzRuns) : 200;
const DEPTH = env.fuzzDepth !== undefined ? Number(env.fuzzDepth) : 50;
const CHECK_EVERY = env.fuzzCheckEvery !== undefined ? Number(env.fuzzCheckEvery) : 1;

// ==================================================================================================== the suite

describe("Protocol: stateful invariants (seeded model-based fuzz over the deployed protocol)", function () {
  this.timeout(0);
  let setup: Setup;
  let before_: SnapshotRestorer;

  before(async () => {
    before_ = await takeSnapshot();
    setup = await buildSetup(CHECK_EVERY);
  });

  // The suite moves the clock to GENESIS; later specs in the same process get the chain back as it was. When an
  // earlier spec created the deployments fixture, building the setup reverts to that fixture's snapshot, which
  // invalidates `before_`; every later spec then starts from a fixture revert of its own, so nothing is left to undo.
  after(async () => {
    try {
      await before_.restore();
    } catch (err) {
      if (!(err instanceof Error) || !/invalid snapshot/.test(err.message)) throw err;
    }
  });

  it(`${RUNS} sequences of up to ${DEPTH} commands keep the chain equal to the model and every invariant`, async () => {
    const started = Date.now();
    const cpu = process.cpuUsage();
    await fc.assert(property(setup, DEPTH, env.fuzzReplayPath), {
      ...fuzzParams(RUNS),
      numRuns: RUNS,
      ...(env.fuzzPath !== undefined ? { path: env.fuzzPath } : {}),
    });
    report(Date.now() - started, process.cpuUsage(cpu));
    // Every command but the attacker's (which must always fail) succeeded at least once (a one-case replay need not).
    if (env.fuzzPath !== undefined) return;
    const never = COMMAND_NAMES.filter((name) => (stats.get(name)?.ok ?? 0) === 0);
    expect(never, "commands that never succeeded").to.deep.equal([]);
  });
});

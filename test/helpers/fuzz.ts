import fc from "fast-check";

import { env } from "../../config/env";

/**
 * Seeded fast-check parameters: every property run is reproducible. Set FUZZ_SEED to replay a failure, FUZZ_RUNS to
 * run longer. The seed is printed once per process so a CI log always says how to reproduce it.
 */
export const FUZZ_SEED = env.fuzzSeed !== undefined ? Number(env.fuzzSeed) : 0x5eed;

let announced = false;
export function fuzzParams(runs: number): fc.Parameters<unknown> {
  if (!announced) {
    console.log(`      fast-check seed ${FUZZ_SEED} (set FUZZ_SEED to replay)`);
    announced = true;
  }
  return {
    seed: FUZZ_SEED,
    numRuns: env.fuzzRuns !== undefined ? Number(env.fuzzRuns) : runs,
    endOnFailure: true,
  };
}

/** Arbitrary uint256 biased towards edges (0, 1, powers of two, max). */
export const uint256 = () =>
  fc.oneof(
    fc.constantFrom(0n, 1n, 2n, 2n ** 128n, 2n ** 255n, 2n ** 256n - 1n),
    fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
  );

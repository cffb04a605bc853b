import hre from "hardhat";

/**
 * True inside `npm run coverage`. Instrumented bytecode spends more gas on every statement, so the few tests that
 * assert an absolute gas figure, or that need a transaction to run short of gas at a chosen point, adapt to it here;
 * `npm test` always runs them as written.
 */
export function underCoverage(): boolean {
  return Boolean((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING);
}

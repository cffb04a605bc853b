// solidity-coverage settings for `npm run coverage` (the CI coverage gate reads the coverage.json it writes).
// Mocks are not the protocol. Instrumented code costs more gas and runs slower, so the run leaves out what measures
// gas or exercises the chain rather than the code: the gas ceilings, the e2e suite (a separate node), and the
// protocol-wide stateful fuzz (`npm test` runs all three). FUZZ_RUNS in package.json keeps the other seeded
// properties short here.
module.exports = {
  // Every protocol file is instrumented. Instrumentation adds stack pressure under the IR pipeline: a settlement whose
  // figures all live on the stack (inlined in the vault) went past the limit, so LoanRecovery keeps them in memory.
  skipFiles: ["mocks/"],
  // Note: a mock that compiles an instrumented library into itself (a harness of the loan ledger library was tried) makes the run
  // lose hits across unrelated files (USDai read 63% branches), so none of the protocol's libraries has one.
  // The instrumented build lands in artifacts/ and cache/ (not in a temporary folder). `npm run coverage` deletes both
  // before the run, so every run compiles what it instruments (a second run that reused the first one's artifacts read
  // USDai at 81% lines: its bytecode carried the first run's hashes), and after it, so no later test, deploy or size
  // check runs instrumented bytecode.
  mocha: {
    grep: "^(Gas ceilings|e2e:|Protocol: stateful invariants)",
    invert: true,
  },
};

// solidity-coverage settings for `npm run coverage` (the CI coverage gate reads the coverage.json it writes).
// Mocks are not the protocol. Instrumented code costs more gas and runs slower, so the run leaves out what measures
// gas or exercises the chain rather than the code: the gas ceilings, the e2e suite (a separate node), and the
// protocol-wide stateful fuzz (`npm test` runs all three). FUZZ_RUNS in package.json keeps the other seeded
// properties short here.
module.exports = {
  skipFiles: ["mocks/"],
  // Everything compiles through the IR under coverage (hardhat.config.ts); irMinimum keeps the IR optimizer from
  // rewriting the instrumentation's hit markers away. (`npm run coverage` also deletes the temporary instrumented
  // cache first: one left by an interrupted run carries another run's markers, and its hits are silently lost.)
  irMinimum: true,
  mocha: {
    grep: "^(Gas ceilings|e2e:|Protocol: stateful invariants)",
    invert: true,
  },
};

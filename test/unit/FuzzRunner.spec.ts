import { expect } from "chai";

import { chunkSeed, emptySnapshot, merge, revertsByReason, type Snapshot } from "../../scripts/fuzz/protocol";

/** The sharded fuzz runner's bookkeeping (scripts/fuzz/protocol.ts): chunk seeds and merged counters. */
describe("Fuzz runner: chunk seeds and merged counters", () => {
  it("chunk 0 runs the base seed itself, so one chunk of the CI size replays the CI suite", () => {
    expect(chunkSeed(24301, 0)).to.equal(24301);
    expect(chunkSeed(8191, 0)).to.equal(8191);
  });

  it("derives distinct, deterministic, non-negative 31-bit seeds per chunk", () => {
    const seeds = Array.from({ length: 10_000 }, (_, i) => chunkSeed(24301, i));
    expect(new Set(seeds).size, "distinct").to.equal(seeds.length);
    expect(
      seeds.filter((s) => !Number.isInteger(s) || s < 0 || s > 2 ** 31 - 1),
      "31-bit non-negative",
    ).to.deep.equal([]);
    expect(
      Array.from({ length: 100 }, (_, i) => chunkSeed(24301, i)),
      "deterministic",
    ).to.deep.equal(seeds.slice(0, 100));
    // Another base seed gives other chunks.
    expect(chunkSeed(24302, 1)).to.not.equal(chunkSeed(24301, 1));
  });

  it("merges workers' counters: counts and outcomes add up, memory is the largest", () => {
    const a: Snapshot = {
      ...emptySnapshot(),
      calls: 100,
      sequences: 3,
      fullChecks: 90,
      stepChecks: 10,
      cpuMs: 1_000,
      rssMb: 500,
      heapMb: 90,
      stats: { "loanVault.repay": { ok: 5, reverts: { LoanVaultZeroAmount: 2 } } },
    };
    const b: Snapshot = {
      ...emptySnapshot(),
      calls: 50,
      sequences: 2,
      fullChecks: 40,
      stepChecks: 10,
      cpuMs: 700,
      rssMb: 650,
      heapMb: 80,
      stats: {
        "loanVault.repay": { ok: 1, reverts: { LoanVaultZeroAmount: 1, LoanVaultBadStatus: 4 } },
        "auction.buy": { ok: 0, reverts: { AuctionBadStatus: 7 } },
      },
    };
    const m = merge([a, b]);
    expect({ ...m, stats: undefined }).to.deep.equal({
      calls: 150,
      sequences: 5,
      fullChecks: 130,
      stepChecks: 20,
      cpuMs: 1_700,
      rssMb: 650,
      heapMb: 90,
      stats: undefined,
    });
    expect(m.stats).to.deep.equal({
      "loanVault.repay": { ok: 6, reverts: { LoanVaultZeroAmount: 3, LoanVaultBadStatus: 4 } },
      "auction.buy": { ok: 0, reverts: { AuctionBadStatus: 7 } },
    });
    // Merging does not alias its inputs.
    expect(a.stats["loanVault.repay"].ok).to.equal(5);
    expect(revertsByReason(m.stats)).to.deep.equal({
      AuctionBadStatus: 7,
      LoanVaultBadStatus: 4,
      LoanVaultZeroAmount: 3,
    });
    expect(Object.keys(revertsByReason(m.stats)), "sorted by reason").to.deep.equal([
      "AuctionBadStatus",
      "LoanVaultBadStatus",
      "LoanVaultZeroAmount",
    ]);
  });
});

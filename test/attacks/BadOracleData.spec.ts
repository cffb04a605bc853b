import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY, loanTerms } from "../../helpers/loans";
import { dayOf } from "../../helpers/reports";
import { usd } from "../../helpers/units";
import type { MockAggregator, NaiveFeedReader } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { approve, mintReceipts, now, openLoan, stake } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { createFixture } from "../helpers/fixture";

/**
 * Stale, zero, negative, future-dated and implausible feed data, fed to the LoanVault's reference-rate feed and to the
 * UtilizationOracle's utilization feeds. `NaiveFeedReader` takes every one of them as a rate; the LoanVault refuses
 * each with `LoanVaultBadReferenceRate(feed, answer, updatedAt)` and keeps the coupon it had, and the oracle skips the
 * bad source (`SourceSkipped` with the reason) so that it never reaches the median, or refuses the day when too few
 * good sources are left (`UtilizationOracleQuorumNotMet`).
 */
const RATE_DECIMALS = 8n;
/** 4.30% at 8 decimals (1.0 = 100%). */
const GOOD_RATE = 4_300_000n;
/** `referenceFeedMaxStalenessSeconds` of the local deployment. */
const MAX_RATE_AGE = 2 * DAY;
const UTILIZATION_MAX_STALENESS = DAY;
const Skip = {
  NonPositiveAnswer: 2n,
  AboveFullScale: 3n,
  FutureTimestamp: 4n,
  Stale: 5n,
  RoundNotNewer: 6n,
} as const;

/** A utilization in bps as an 8-decimal feed answer (1.0 = 100%). */
const ratio = (bps: bigint) => bps * 10n ** (RATE_DECIMALS - 4n);
const UPTIME_UNKNOWN = 65_535n;

/** Bad utilization rounds: name, answer, age of `updatedAt` at the reading block, the skip reason. */
const BAD_UTILIZATION = [
  ["zero", 0n, 0, Skip.NonPositiveAnswer],
  ["negative", -ratio(5_000n), 0, Skip.NonPositiveAnswer],
  ["above 100%", ratio(10_000n) + 1n, 0, Skip.AboveFullScale],
  ["future-dated", ratio(5_000n), -1, Skip.FutureTimestamp],
  ["stale by one second", ratio(5_000n), UTILIZATION_MAX_STALENESS + 1, Skip.Stale],
] as const;

interface BadRound {
  name: string;
  answer: bigint;
  /** `updatedAt` relative to the block that reads it. */
  age: number;
}

/** Bad reference-rate rounds, each read in a block at time `T`: the answer and `T - age` as `updatedAt`. */
const BAD_RATES: BadRound[] = [
  { name: "zero", answer: 0n, age: 0 },
  { name: "negative", answer: -GOOD_RATE, age: 0 },
  { name: "stale by one second", answer: GOOD_RATE, age: MAX_RATE_AGE + 1 },
  { name: "future-dated", answer: GOOD_RATE, age: -1 },
  // above the 50% plausibility bound (5,000 bps; the feed is rounded up to bps)
  { name: "implausibly high", answer: 50_000_001n, age: 0 },
];

describe("Attack: stale, zero, negative or future oracle data", () => {
  describe("against NaiveFeedReader (no checks)", () => {
    it("takes a negative answer as an astronomic rate, and stale, zero and future answers at face value", async () => {
      const feed = (await hre.ethers.deployContract("MockAggregator", [8])) as unknown as MockAggregator;
      const reader = (await hre.ethers.deployContract("NaiveFeedReader")) as unknown as NaiveFeedReader;
      const t = await now();
      await feed.setRound(1, -1n, t - 365 * DAY);
      await reader.refresh(feed);
      expect(await reader.rateBps()).to.be.greaterThan(10n ** 70n);
      for (const round of BAD_RATES.filter((r) => r.answer >= 0n)) {
        await feed.setRound(2, round.answer, (await now()) - round.age);
        await reader.refresh(feed);
        expect(await reader.rateBps(), round.name).to.equal(round.answer / 10n ** (RATE_DECIMALS - 4n));
      }
    });
  });

  describe("against the LoanVault's reference-rate feed", () => {
    const fixture = createFixture(async () => {
      const f = await deployProtocol();
      const { actors, referenceFeed } = f;
      await stake(f, actors.lender1, 1_000_000);
      await referenceFeed.pushAnswer(GOOD_RATE);
      const overrides = { referenceRateFeed: await referenceFeed.getAddress() };
      const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000, { overrides });
      const approved = await approve(f, actors.borrower1, usd(10_000), "DAL-1", overrides);
      const [receiptId] = await mintReceipts(f, actors.borrower1, 1, 50_000);
      return { ...f, loanId, approved, receiptId, overrides };
    });

    let f: Awaited<ReturnType<typeof fixture>>;
    let reads: Reads;
    beforeEach(async () => {
      f = await fixture();
      reads = {
        coupon: () => f.loanVault.couponOf(f.loanId),
        reference: async () => (await f.loanVault.stateOf(f.loanId)).referenceRateBps,
        aggregates: async () => [...(await f.loanVault.accrualState())],
        approved: async () => (await f.loanVault.stateOf(f.approved)).status,
        count: () => f.loanVault.loanCount(),
      };
    });

    it("the loan was priced from the feed: 4.30% plus its 6.00% premium", async () => {
      expect(await f.loanVault.couponOf(f.loanId)).to.equal(430n + 600n);
    });

    for (const round of BAD_RATES) {
      it(`${round.name} answer: refused by refresh, approval and borrow (LoanVaultBadReferenceRate)`, async () => {
        const { loanVault, referenceFeed, actors } = f;
        const feed = await referenceFeed.getAddress();
        const before = await snapshot(reads);
        const calls: [string, (at: number) => Promise<unknown>][] = [
          ["refreshReferenceRate", () => loanVault.refreshReferenceRate(f.loanId)],
          [
            "approveLoan",
            (at) =>
              loanVault
                .connect(actors.underwriter)
                .approveLoan(loanTerms(actors.borrower1.address, usd(10_000), "DAL-1", at, f.overrides)),
          ],
          ["borrow", () => loanVault.connect(actors.borrower1).borrow(f.approved, [f.receiptId])],
        ];
        for (const [name, call] of calls) {
          // the round is read in the block at `at`
          const at = (await now()) + 10;
          const updatedAt = at - round.age;
          await referenceFeed.setRound((await referenceFeed.roundId()) + 1n, round.answer, updatedAt);
          await time.setNextBlockTimestamp(at);
          await expect(call(at), name)
            .to.be.revertedWithCustomError(loanVault, "LoanVaultBadReferenceRate")
            .withArgs(feed, round.answer, updatedAt);
        }
        await expectUnchanged(before, reads);
      });
    }

    it("an answer exactly at the staleness bound is still used; one second older is not", async () => {
      const { loanVault, referenceFeed } = f;
      const at = (await now()) + 10;
      await referenceFeed.setRound((await referenceFeed.roundId()) + 1n, 5_000_000n, at - MAX_RATE_AGE);
      await time.setNextBlockTimestamp(at);
      await expect(loanVault.refreshReferenceRate(f.loanId))
        .to.emit(loanVault, "ReferenceRateUpdated")
        .withArgs(f.loanId, 500n, 1_100n);
      await time.setNextBlockTimestamp(at + 1);
      await expect(loanVault.refreshReferenceRate(f.loanId)).to.be.revertedWithCustomError(
        loanVault,
        "LoanVaultBadReferenceRate",
      );
      expect(await loanVault.couponOf(f.loanId)).to.equal(1_100n);
    });

    it("a feed that reverts cannot move the coupon either: the refresh reverts and the loan keeps its rate", async () => {
      const { loanVault, referenceFeed } = f;
      await referenceFeed.setMode(1); // Revert
      const before = await snapshot(reads);
      await expect(loanVault.refreshReferenceRate(f.loanId)).to.be.revertedWithCustomError(
        referenceFeed,
        "MockAggregatorReverted",
      );
      await expectUnchanged(before, reads);
    });
  });

  describe("against the UtilizationOracle's feeds", () => {
    const fixture = createFixture(async () => {
      const f = await deployProtocol();
      const { actors, oracle } = f;
      await stake(f, actors.lender1, 1_000_000);
      const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
      const feeds: MockAggregator[] = [];
      for (let i = 0; i < 3; i++) {
        feeds.push((await hre.ethers.deployContract("MockAggregator", [8])) as unknown as MockAggregator);
      }
      await oracle
        .connect(actors.oracleAdmin)
        .configureLoan(
          loanId,
          await Promise.all(feeds.map(async (feed) => ({ kind: 0, account: await feed.getAddress() }))),
          2,
          UTILIZATION_MAX_STALENESS,
        );
      return { ...f, loanId, feeds };
    });

    let f: Awaited<ReturnType<typeof fixture>>;
    let reads: Reads;
    beforeEach(async () => {
      f = await fixture();
      reads = {
        latest: async () => [...(await f.oracle.latestUtilization(f.loanId))],
        streak: async () => [...(await f.oracle.streakOf(f.loanId, 1))],
        sources: async () => (await f.oracle.sourcesOf(f.loanId)).map((s) => s.lastRound),
      };
    });

    /** Feeds 1 and 2 publish 30% and 40% at `at`. */
    async function goodRounds(at: number) {
      for (const [i, value] of [
        [1, 3_000n],
        [2, 4_000n],
      ] as const) {
        await f.feeds[i].setRound((await f.feeds[i].roundId()) + 1n, ratio(value), at);
      }
    }

    for (const [name, answer, age, reason] of BAD_UTILIZATION) {
      it(`${name} reading from one feed of three: skipped with its reason, never in the median`, async () => {
        const { oracle, feeds, actors, loanId } = f;
        const at = (await now()) + 10;
        await feeds[0].setRound((await feeds[0].roundId()) + 1n, answer, at - age);
        await goodRounds(at);
        await time.setNextBlockTimestamp(at);
        await expect(oracle.connect(actors.keeper).poke(loanId))
          .to.emit(oracle, "SourceSkipped")
          .withArgs(loanId, await feeds[0].getAddress(), reason)
          .and.to.emit(oracle, "ObservationRecorded")
          .withArgs(loanId, dayOf(at), 1, 3_500n, UPTIME_UNKNOWN, 2n);
      });

      it(`${name} readings from a quorum of feeds refuse the day (QuorumNotMet), nothing recorded`, async () => {
        const { oracle, feeds, actors, loanId } = f;
        const at = (await now()) + 10;
        for (const feed of feeds.slice(0, 2))
          await feed.setRound((await feed.roundId()) + 1n, answer, at - age);
        await feeds[2].setRound((await feeds[2].roundId()) + 1n, ratio(4_000n), at);
        const before = await snapshot(reads);
        await time.setNextBlockTimestamp(at);
        await expect(oracle.connect(actors.keeper).poke(loanId))
          .to.be.revertedWithCustomError(oracle, "UtilizationOracleQuorumNotMet")
          .withArgs(loanId, 1n, 2n);
        await expectUnchanged(before, reads);
      });
    }

    it("a stuck feed that re-stamps its last round is skipped (RoundNotNewer)", async () => {
      const { oracle, feeds, actors, loanId } = f;
      let at = (await now()) + 10;
      await feeds[0].setRound(7n, ratio(9_000n), at);
      await goodRounds(at);
      await time.setNextBlockTimestamp(at);
      await oracle.connect(actors.keeper).poke(loanId);
      at += DAY;
      // the same round 7 with a fresh timestamp and another answer
      await feeds[0].setRound(7n, ratio(9_900n), at);
      await goodRounds(at);
      await time.setNextBlockTimestamp(at);
      await expect(oracle.connect(actors.keeper).poke(loanId))
        .to.emit(oracle, "SourceSkipped")
        .withArgs(loanId, await feeds[0].getAddress(), Skip.RoundNotNewer)
        .and.to.emit(oracle, "ObservationRecorded")
        .withArgs(loanId, dayOf(at), 1, 3_500n, UPTIME_UNKNOWN, 2n);
    });
  });
});

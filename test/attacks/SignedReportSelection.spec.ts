import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { DAY } from "../../helpers/loans";
import { dayOf, signReport, toSubmission, type SignedReport } from "../../helpers/reports";
import { usd } from "../../helpers/units";
import type { NaiveMedianOracle, UtilizationOracle } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { openLoan, stake } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { createFixture } from "../helpers/fixture";

/**
 * Choosing which signed reports make a day, without compromising any reporter:
 * - subset selection: with three reporters and a quorum of two, whoever submits first picks the two readings whose
 *   median (their mean) suits the borrower. Honest readings of 50/58/70% utilization and 90/94/99% uptime become 64%
 *   and 96.5%: under the 60% step-up threshold never, under the 95% SLA never.
 * - day skipping: reports for day d+1, submitted before day d's, make day d unrecordable, and a missing day breaks the
 *   streak the rules count.
 * Both succeed against `NaiveMedianOracle` (the first quorum of reports makes the day; any later day may be recorded at
 * once) and fail against the deployed UtilizationOracle, where a day is the median of every reporter's report,
 * collected until the day closes, and a day cannot be skipped while its window is open.
 */
const Kind = { Feed: 0, Reporter: 1 } as const;
/** Utilization and uptime of reporters 1, 2 and 3 (the example). */
const HONEST: [number, number][] = [
  [5_000, 9_000],
  [5_800, 9_400],
  [7_000, 9_900],
];
const LOW = 6_000;
/** The oracle's default report window: a day's reports are collected until 6 hours after it ends. */
const REPORT_WINDOW = 6 * 3_600;

const fixture = createFixture(async () => {
  const f = await deployProtocol();
  const { actors, oracle } = f;
  await stake(f, actors.lender1, 1_000_000);
  const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
  const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
  const sources = reporters.map((r) => ({ kind: Kind.Reporter, account: r.address }));
  await oracle.connect(actors.oracleAdmin).configureLoan(loanId, sources, 2, 2 * DAY);
  const naive = (await hre.ethers.deployContract("NaiveMedianOracle", [
    reporters.map((r) => r.address),
    2,
    LOW,
  ])) as unknown as NaiveMedianOracle;
  return { ...f, loanId, reporters, naive };
});

type Target = UtilizationOracle | NaiveMedianOracle;

describe("Attack: choosing which signed reports make a day", () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  let attacker: HardhatEthersSigner;

  beforeEach(async () => {
    f = await fixture();
    attacker = f.actors.attacker;
  });

  /** Each reporter's signed report for `day` on `target` (`values[i]` for reporter i + 1). */
  const signedEach = (target: Target, day: number, values = HONEST) =>
    Promise.all(
      f.reporters.map((r, i) =>
        signReport(r, target, {
          loanId: f.loanId,
          utilizationBps: values[i][0],
          uptimeBps: values[i][1],
          day,
          periodDays: 1,
          revenueUsd: 0n,
          deadline: BigInt((day + 3) * DAY),
        }),
      ),
    );
  const send = (target: Target, entries: SignedReport[], from = attacker) => {
    const { reports, signatures } = toSubmission(entries);
    return target.connect(from).submitReport(reports, signatures);
  };
  const lowDays = (n: number): [number, number][] => Array.from({ length: 3 }, () => [n, 9_900]);

  describe("subset selection", () => {
    it("succeeds against NaiveMedianOracle: the first two reports make the day 64% / 96.5%", async () => {
      const day = dayOf(await time.latest());
      const [r1, r2, r3] = await signedEach(f.naive, day);
      await send(f.naive, [r2, r3]);
      expect([await f.naive.utilizationBps(), await f.naive.uptimeBps()]).to.deep.equal([6_400n, 9_650n]);
      expect(await f.naive.lowStreak()).to.equal(0n);
      // The honest full set comes too late: the day is taken.
      await expect(send(f.naive, [r1, r2, r3], f.reporters[0])).to.be.revertedWithCustomError(
        f.naive,
        "NaiveMedianOracleBadReport",
      );
    });

    it("fails against the UtilizationOracle: the reporter left out adds its report, the day is 58% / 94%", async () => {
      const { oracle, loanId } = f;
      const day = dayOf(await time.latest());
      const [r1, r2, r3] = await signedEach(oracle, day);
      await expect(send(oracle, [r2, r3])).not.to.emit(oracle, "ObservationRecorded");
      await expect(send(oracle, [r1], f.reporters[0]))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(loanId, day, 1, 5_800, 9_400, 3);
      expect((await oracle.streakOf(loanId, 1)).streakDays).to.equal(1n);
      const pending = await oracle.pendingPush(loanId);
      expect([pending.flags, pending.flagsPending]).to.deep.equal([1n, true]);
    });

    it("fails against the UtilizationOracle even if nobody else submits: the day waits for its window", async () => {
      const { oracle, loanId } = f;
      const day = dayOf(await time.latest());
      const [r1, r2, r3] = await signedEach(oracle, day);
      await send(oracle, [r2, r3]);
      // Before the day closes, any reporter (or keeper) still gets its report in; the subset decided nothing.
      const closesAt = (await oracle.openReportDay(loanId)).closesAt;
      await time.setNextBlockTimestamp(closesAt - 1n);
      await send(oracle, [r1, r2, r3], f.actors.keeper);
      expect((await oracle.latestUtilization(loanId)).utilizationBps).to.equal(5_800n);
    });
  });

  describe("day skipping", () => {
    it("succeeds against NaiveMedianOracle: day d+1's reports make day d unrecordable and restart the streak", async () => {
      const first = dayOf(await time.latest());
      await send(f.naive, await signedEach(f.naive, first, lowDays(5_000)));
      await time.setNextBlockTimestamp((first + 2) * DAY + 60);
      await send(f.naive, await signedEach(f.naive, first + 2, lowDays(5_000)));
      expect(await f.naive.lowStreak()).to.equal(1n);
      await expect(
        send(f.naive, await signedEach(f.naive, first + 1, lowDays(5_000)), f.reporters[0]),
      ).to.be.revertedWithCustomError(f.naive, "NaiveMedianOracleBadReport");
    });

    it("fails against the UtilizationOracle: day d+1 waits for day d's window, and the streak counts both", async () => {
      const { oracle, loanId } = f;
      const first = dayOf(await time.latest());
      await send(oracle, await signedEach(oracle, first, lowDays(5_000)));
      await time.setNextBlockTimestamp((first + 2) * DAY + 60);
      const skipping = await signedEach(oracle, first + 2, lowDays(5_000));
      const reads: Reads = {
        latest: async () => [...(await oracle.latestUtilization(loanId))],
        streak: async () => [...(await oracle.streakOf(loanId, 1))],
      };
      const before = await snapshot(reads);
      const closesAt = (first + 2) * DAY + REPORT_WINDOW;
      await expect(send(oracle, skipping))
        .to.be.revertedWithCustomError(oracle, "UtilizationOracleReportDayOpen")
        .withArgs(loanId, first + 1, closesAt);
      await expectUnchanged(before, reads);
      await send(oracle, await signedEach(oracle, first + 1, lowDays(5_000)), f.reporters[0]);
      await send(oracle, skipping);
      expect((await oracle.streakOf(loanId, 1)).streakDays).to.equal(3n);
    });
  });
});

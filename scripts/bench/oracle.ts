import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { getUtilizationOracle } from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { signReport, toSubmission } from "../../helpers/reports";
import { getActors } from "../../helpers/actors";
import { gasOf, type BenchSuite } from "./types";

const DAY = 86_400;
const REPORT_LOAN = 1n;
const FEED_LOAN = 2n;

/**
 * UtilizationOracle, each operation measured warm: the second day's `submitReport` with three signatures (streaks
 * advancing), a `poke` of three feeds on a later day, and the extra gas of a push that applies a coupon step to the
 * MockLoanVault (a performUpkeep of one loan with a pending step, minus one with nothing pending).
 */
export const oracleSuite: BenchSuite = {
  name: "UtilizationOracle",
  async run(hre: HardhatRuntimeEnvironment) {
    const { ethers } = hre;
    await hre.deployments.fixture([Tags.Protocol]);
    const actors = await getActors();
    const oracle = await getUtilizationOracle(hre);
    const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];

    const vault = await ethers.deployContract("MockLoanVault", [await oracle.getAddress()]);
    await oracle.connect(actors.deployer).setLoanVault(vault);
    await vault.setLoan(REPORT_LOAN, 9_500, 500, 400, 0, 1_000);
    // One-day windows so that a step is pending after a single observation.
    await oracle.connect(actors.oracleAdmin).setRules([
      { comparator: 0, thresholdBps: 9_000, windowDays: 1, premiumDeltaBps: -200, topUpRequired: false },
      { comparator: 1, thresholdBps: 6_000, windowDays: 30, premiumDeltaBps: 300, topUpRequired: true },
    ]);

    const feeds = await Promise.all([8, 8, 18].map((d) => ethers.deployContract("MockAggregator", [d])));
    const admin = oracle.connect(actors.oracleAdmin);
    await admin.configureLoan(
      REPORT_LOAN,
      reporters.map((r) => ({ kind: 1, account: r.address })),
      2,
      2 * DAY,
    );
    await admin.configureLoan(
      FEED_LOAN,
      await Promise.all(feeds.map(async (f) => ({ kind: 0, account: await f.getAddress() }))),
      2,
      2 * DAY,
    );

    const latestDay = async () => Math.floor((await ethers.provider.getBlock("latest"))!.timestamp / DAY);
    const submitDay = async (day: number, utilizationBps: number) => {
      // Seven hours in: past the 6-hour report window of the day before, which a skipped day needs.
      await hre.network.provider.send("evm_setNextBlockTimestamp", [day * DAY + 7 * 3_600]);
      const signed = await Promise.all(
        reporters.map((r, i) =>
          signReport(r, oracle, {
            loanId: REPORT_LOAN,
            utilizationBps: utilizationBps + i * 50,
            uptimeBps: 9_900,
            day,
            periodDays: 1,
            revenueUsd: 0n,
            deadline: BigInt((day + 1) * DAY),
          }),
        ),
      );
      const { reports, signatures } = toSubmission(signed);
      return oracle.submitReport(reports, signatures);
    };
    const pokeDay = async (day: number) => {
      for (const [i, feed] of feeds.entries()) {
        const decimals = i === 2 ? 18n : 8n;
        await feed.pushAnswer((8_000n + BigInt(i) * 100n) * 10n ** (decimals - 4n));
      }
      await hre.network.provider.send("evm_setNextBlockTimestamp", [day * DAY + 7_200]);
      return oracle.connect(actors.keeper).poke(FEED_LOAN);
    };

    const first = (await latestDay()) + 1;
    await submitDay(first, 8_000);
    // Day two: 3 signatures, the observation, both streaks advancing, no rule firing.
    const submitReport = await gasOf(submitDay(first + 1, 8_000));

    await pokeDay(first + 2);
    const poke = await gasOf(pokeDay(first + 3));

    // Push cost with nothing pending versus with a step pending (the step-down fires at >= 90%).
    const performData = ethers.AbiCoder.defaultAbiCoder().encode(["uint256[]"], [[REPORT_LOAN]]);
    await submitDay(first + 4, 9_500);
    await oracle.performUpkeep(performData);
    const idle = await gasOf(oracle.performUpkeep(performData));
    await submitDay(first + 5, 9_500);
    const pushing = await gasOf(oracle.performUpkeep(performData));

    return [
      { key: "UtilizationOracle.submitReport", gas: submitReport, note: "3 signatures, streaks advance" },
      { key: "UtilizationOracle.poke", gas: poke, note: "3 feeds (8, 8, 18 decimals)" },
      {
        key: "UtilizationOracle.pushStep",
        gas: pushing - idle,
        note: "applyCouponStep, over an idle upkeep",
      },
    ];
  },
};

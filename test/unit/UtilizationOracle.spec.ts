import { expect } from "chai";
import { ethers, upgrades } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  AbiCoder,
  type FunctionFragment,
  Interface,
  Signature,
  toBeHex,
  TypedDataEncoder,
  verifyTypedData,
  ZeroAddress,
} from "ethers";

import { Comparator, getProtocolConfig, type CouponRuleConfig } from "../../config/protocol";
import { Roles } from "../../helpers/roles";
import { dayOf, REPORT_TYPES, reportDomain, signReport, toSubmission } from "../../helpers/reports";
import type { MockAggregator, MockLoanVault, UtilizationOracle } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { expectUnchanged, snapshot } from "../helpers/state";
import { underCoverage } from "../helpers/coverage";
import { pinClock } from "../helpers/fixture";
import { fundUsdai, openLoan, stake } from "../helpers/loans";
import { linkedFactory } from "../helpers/proxy";

const DAY = 86_400;
const MAX_STALENESS = 2 * DAY;
/** `DEFAULT_REPORT_WINDOW_SECONDS`: a day's reports are collected until 6 hours after it ends. */
const REPORT_WINDOW = 6 * 3_600;
const FEED_GAS_MIN = 100_000 + Math.floor(100_000 / 63) + 5_000;
const UPTIME_UNKNOWN = 65_535;
const SLA_BREACH = 1;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Loan ids: reporters-only, feeds-only, and an unconfigured one. */
const LOAN = 1n;
const FEED_LOAN = 2n;
const UNKNOWN_LOAN = 99n;

/** `SkipReason` in IUtilizationOracle. */
const Skip = {
  CallFailed: 0,
  MalformedResponse: 1,
  NonPositiveAnswer: 2,
  AboveFullScale: 3,
  FutureTimestamp: 4,
  Stale: 5,
  RoundNotNewer: 6,
} as const;
/** `MockAggregator.Mode`. */
const Mode = { Normal: 0, Revert: 1, GasBomb: 2, ReturnBomb: 3, Malformed: 4 } as const;
/** `IUtilizationOracle.SourceKind`. */
const Kind = { Feed: 0, Reporter: 1 } as const;

const DEFAULT_RULES = getProtocolConfig("hardhat").oracle.rules;

/** Feed answer for `bps` basis points at `decimals` decimals. */
const ratio = (bps: number, decimals: number) => (BigInt(bps) * 10n ** BigInt(decimals)) / 10_000n;

async function setup() {
  const base = await deployProtocol();
  const { actors, oracle } = base;
  const vault = await ethers.deployContract("MockLoanVault", [await oracle.getAddress()]);
  const deployedVault = await oracle.loanVault();
  await oracle.connect(actors.deployer).setLoanVault(vault);
  // SLA 95%, reference 5%, premium 4% bounded to [2%, 7%].
  await vault.setLoan(LOAN, 9_500, 500, 400, 200, 700);
  await vault.setLoan(FEED_LOAN, 9_500, 500, 400, 200, 700);

  const feed8a = await ethers.deployContract("MockAggregator", [8]);
  const feed8b = await ethers.deployContract("MockAggregator", [8]);
  const feed18 = await ethers.deployContract("MockAggregator", [18]);
  const admin = oracle.connect(actors.oracleAdmin);
  await admin.configureLoan(
    LOAN,
    [actors.reporter1, actors.reporter2, actors.reporter3].map((r) => ({
      kind: Kind.Reporter,
      account: r.address,
    })),
    2,
    MAX_STALENESS,
  );
  await admin.configureLoan(
    FEED_LOAN,
    [feed8a, feed8b, feed18].map((f) => ({ kind: Kind.Feed, account: f.target as string })),
    2,
    MAX_STALENESS,
  );
  return { ...base, vault, feeds: [feed8a, feed8b, feed18] as MockAggregator[], admin, deployedVault };
}

type Ctx = Awaited<ReturnType<typeof setup>>;

describe("UtilizationOracle", () => {
  let ctx: Ctx;
  let oracle: UtilizationOracle;
  let vault: MockLoanVault;
  let actors: Ctx["actors"];
  let reporters: HardhatEthersSigner[];

  beforeEach(async () => {
    ctx = await loadFixture(setup);
    await pinClock();
    ({ oracle, vault, actors } = ctx);
    reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
  });

  // ---------------------------------------------------------------- helpers

  const now = async () => time.latest();
  const today = async () => dayOf(await now());

  const makeReport = (
    day: number,
    utilizationBps: number,
    uptimeBps = 10_000,
    loanId = LOAN,
    deadline?: bigint,
    periodDays = 1,
    revenueUsd = 0n,
  ) => ({
    loanId,
    utilizationBps,
    uptimeBps,
    day,
    periodDays,
    revenueUsd,
    deadline: deadline ?? BigInt((day + 2) * DAY),
  });

  /** Signs one report per reporter (`values[i]` = [utilization, uptime]) and returns submitReport's arguments. */
  async function signed(day: number, values: [number, number][], signers = reporters, loanId = LOAN) {
    const entries = await Promise.all(
      values.map(([u, up], i) => signReport(signers[i], oracle, makeReport(day, u, up, loanId))),
    );
    return toSubmission(entries);
  }

  async function submit(day: number, values: [number, number][], signers = reporters, loanId = LOAN) {
    const { reports, signatures } = await signed(day, values, signers, loanId);
    return oracle.submitReport(reports, signatures);
  }

  /**
   * Records `day` at `utilizationBps` (every reporter, so the day closes at once), in a block on that day after the
   * day before has closed (so a skipped day is allowed).
   */
  async function recordDay(day: number, utilizationBps: number, uptimeBps = 10_000) {
    await time.setNextBlockTimestamp(day * DAY + REPORT_WINDOW + 3_600);
    return submit(day, [
      [utilizationBps, uptimeBps],
      [utilizationBps, uptimeBps],
      [utilizationBps, uptimeBps],
    ]);
  }

  /** Records `days` consecutive days at `utilizationBps` (two reporters each), starting the day after `from`. */
  async function recordDays(
    from: number,
    days: number,
    utilizationBps: number,
    uptimeBps = 10_000,
  ): Promise<number> {
    let day = from;
    for (let i = 0; i < days; i++) await recordDay(++day, utilizationBps, uptimeBps);
    return day;
  }

  /** Fresh answers on every feed of FEED_LOAN, each at `bps`. */
  async function freshFeeds(bps: number[] = [8_000, 8_000, 8_000]) {
    for (const [i, feed] of ctx.feeds.entries())
      await feed.pushAnswer(ratio(bps[i], Number(await feed.decimals())));
  }

  /** A call's result as a plain array, for deep equality. */
  const arr = async (result: Promise<Iterable<unknown>>) => [...(await result)];

  /** Re-configures `loanId` with the sources, quorum and staleness it has (which copies its covenant terms again). */
  async function reconfigure(loanId: bigint, admin = ctx.admin) {
    const sources = (await oracle.sourcesOf(loanId)).map((s) => ({ kind: s.kind, account: s.account }));
    const [, quorum, maxStaleness] = await oracle.loanConfig(loanId);
    return admin.configureLoan(loanId, sources, quorum, maxStaleness);
  }

  /**
   * `loanId`'s loan terms carry these covenants (the mock vault's `covenantTermsOf`, as an approval with them would),
   * and the oracle configures the loan, copying them.
   */
  async function configureWithTerms(
    loanId: bigint,
    covenants: {
      minDscrBps?: number;
      lockboxCheck?: boolean;
      shortfallToleranceBps?: number;
      maxGapDays?: number;
    },
  ) {
    await vault.setCovenantTerms(loanId, {
      minDscrBps: 0,
      lockboxCheck: false,
      shortfallToleranceBps: 0,
      maxGapDays: 0,
      ...covenants,
    });
    return reconfigure(loanId);
  }

  const stateReads = (loanId: bigint) => ({
    latest: async () => (await oracle.latestUtilization(loanId)).toString(),
    pending: async () => (await oracle.pendingPush(loanId)).toString(),
    streak0: async () => (await oracle.streakOf(loanId, 0)).toString(),
    streak1: async () => (await oracle.streakOf(loanId, 1)).toString(),
    sources: async () => (await oracle.sourcesOf(loanId)).toString(),
    open: async () => (await oracle.openReportDay(loanId)).toString(),
    vaultCalls: async () => `${await vault.applyCalls()}/${await vault.flagCalls()}`,
  });

  async function expectRevertUnchanged(
    loanId: bigint,
    tx: () => Promise<unknown>,
    error: string,
    args: unknown[],
  ): Promise<void> {
    const before = await snapshot(stateReads(loanId));
    await expect(tx())
      .to.be.revertedWithCustomError(oracle, error)
      .withArgs(...args);
    await expectUnchanged(before, stateReads(loanId));
  }

  // ---------------------------------------------------------------- deployment

  describe("initialize", () => {
    it("is deployed by the scripts with the default rules, its roles and the LoanVault", async () => {
      expect(ctx.deployedVault).to.equal(await ctx.loanVault.getAddress());
      const rules = await oracle.rules();
      expect(rules.map((r) => [...r])).to.deep.equal(
        DEFAULT_RULES.map((r) => [
          BigInt(r.comparator),
          BigInt(r.thresholdBps),
          BigInt(r.windowDays),
          BigInt(r.premiumDeltaBps),
          r.topUpRequired,
        ]),
      );
      expect(await oracle.rulesEpoch()).to.equal(1);
      expect(await oracle.decimals()).to.equal(4);
      expect(await oracle.hasRole(Roles.ORACLE_ADMIN, actors.oracleAdmin)).to.equal(true);
      expect(await oracle.hasRole(Roles.KEEPER, actors.keeper)).to.equal(true);
      for (const r of reporters) expect(await oracle.hasRole(Roles.REPORTER, r)).to.equal(true);
      const domain = await oracle.eip712Domain();
      expect([domain.name, domain.version]).to.deep.equal(["UtilizationOracle", "1"]);
    });

    it("cannot be initialized twice", async () => {
      await expect(oracle.initialize(actors.deployer, ZeroAddress, [])).to.be.revertedWithCustomError(
        oracle,
        "InvalidInitialization",
      );
    });

    it("refuses a zero admin, and takes a LoanVault when one exists", async () => {
      const factory = await linkedFactory("UtilizationOracle");
      await expect(
        upgrades.deployProxy(factory, [ZeroAddress, ZeroAddress, []], { kind: "uups" }),
      ).to.be.revertedWithCustomError(oracle, "UtilizationOracleZeroAddress");
      const proxy = await upgrades.deployProxy(
        factory,
        [actors.deployer.address, await vault.getAddress(), []],
        {
          kind: "uups",
        },
      );
      expect(await (proxy as unknown as UtilizationOracle).loanVault()).to.equal(await vault.getAddress());
    });

    it("is a valid UUPS implementation, upgradable by UPGRADER only", async () => {
      const factory = await linkedFactory("UtilizationOracle");
      await upgrades.validateImplementation(factory, { kind: "uups" });
      const next = await factory.deploy();
      await expect(oracle.connect(actors.attacker).upgradeToAndCall(next, "0x"))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.UPGRADER);
      await oracle.connect(actors.deployer).upgradeToAndCall(next, "0x");
      expect((await oracle.sourcesOf(LOAN)).length).to.equal(3);
    });
  });

  // ---------------------------------------------------------------- configureLoan

  describe("configureLoan", () => {
    it("stores sources with the feeds' decimals, the quorum and the staleness bound", async () => {
      const sources = await oracle.sourcesOf(FEED_LOAN);
      expect(sources.map((s) => [s.kind, s.account, s.decimals, s.lastRound])).to.deep.equal([
        [0n, await ctx.feeds[0].getAddress(), 8n, 0n],
        [0n, await ctx.feeds[1].getAddress(), 8n, 0n],
        [0n, await ctx.feeds[2].getAddress(), 18n, 0n],
      ]);
      expect(await arr(oracle.loanConfig(FEED_LOAN))).to.deep.equal([true, 2n, BigInt(MAX_STALENESS)]);
      expect(await oracle.configuredLoanCount()).to.equal(2);
      expect(await oracle.configuredLoanAt(1)).to.equal(FEED_LOAN);
    });

    it("emits LoanConfigured and lists a loan once across reconfigurations", async () => {
      const sources = [{ kind: Kind.Reporter, account: actors.reporter1.address }];
      await expect(ctx.admin.configureLoan(LOAN, sources, 1, DAY))
        .to.emit(oracle, "LoanConfigured")
        .withArgs(LOAN, [[Kind.Reporter, actors.reporter1.address]], 1, DAY);
      expect(await oracle.configuredLoanCount()).to.equal(2);
    });

    it("keeps history and a staying feed's last round, and restarts streaks", async () => {
      const day = await recordDays(await today(), 3, 9_500);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([3n, BigInt(day)]);
      await ctx.admin.configureLoan(
        LOAN,
        reporters.map((r) => ({ kind: Kind.Reporter, account: r.address })),
        3,
        DAY,
      );
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, 0n]);
      expect((await oracle.latestUtilization(LOAN)).day).to.equal(day);

      await freshFeeds();
      await oracle.connect(actors.keeper).poke(FEED_LOAN);
      const feeds = ctx.feeds.map((f) => ({ kind: Kind.Feed, account: f.target as string }));
      await ctx.admin.configureLoan(FEED_LOAN, [feeds[2], feeds[0]], 1, DAY);
      const sources = await oracle.sourcesOf(FEED_LOAN);
      expect(sources.map((s) => s.lastRound)).to.deep.equal([1n, 1n]);
    });

    it("is ORACLE_ADMIN only", async () => {
      await expectRevertUnchanged(
        LOAN,
        () => oracle.connect(actors.attacker).configureLoan(LOAN, [], 1, DAY),
        "AccessControlUnauthorizedAccount",
        [actors.attacker.address, Roles.ORACLE_ADMIN],
      );
    });

    it("refuses no sources or more than eight", async () => {
      const many = Array.from({ length: 9 }, (_, i) => ({
        kind: Kind.Reporter,
        account: toBeHex(i + 1, 20),
      }));
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [], 1, DAY),
        "UtilizationOracleInvalidSourceCount",
        [0, 8],
      );
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, many, 1, DAY),
        "UtilizationOracleInvalidSourceCount",
        [9, 8],
      );
    });

    it("refuses a quorum outside [1, sources]", async () => {
      const sources = reporters.map((r) => ({ kind: Kind.Reporter, account: r.address }));
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, sources, 0, DAY),
        "UtilizationOracleInvalidQuorum",
        [0, 3],
      );
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, sources, 4, DAY),
        "UtilizationOracleInvalidQuorum",
        [4, 3],
      );
    });

    it("refuses a zero staleness bound", async () => {
      const sources = [{ kind: Kind.Reporter, account: actors.reporter1.address }];
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, sources, 1, 0),
        "UtilizationOracleInvalidMaxStaleness",
        [0],
      );
    });

    it("refuses a zero or duplicated account", async () => {
      const r1 = { kind: Kind.Reporter, account: actors.reporter1.address };
      const zero = { kind: Kind.Reporter, account: ZeroAddress };
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [r1, zero], 1, DAY),
        "UtilizationOracleZeroAddress",
        [],
      );
      const asFeed = { kind: Kind.Feed, account: actors.reporter1.address };
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [r1, asFeed], 1, DAY),
        "UtilizationOracleDuplicateSource",
        [actors.reporter1.address],
      );
    });

    it("refuses a feed without code, without decimals() or with more than 18 decimals", async () => {
      const eoa = { kind: Kind.Feed, account: actors.attacker.address };
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [eoa], 1, DAY),
        "UtilizationOracleInvalidFeed",
        [actors.attacker.address],
      );
      const noDecimals = { kind: Kind.Feed, account: await vault.getAddress() };
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [noDecimals], 1, DAY),
        "UtilizationOracleInvalidFeed",
        [await vault.getAddress()],
      );
      const feed19 = await ethers.deployContract("MockAggregator", [19]);
      await expectRevertUnchanged(
        LOAN,
        () => ctx.admin.configureLoan(LOAN, [{ kind: Kind.Feed, account: feed19.target as string }], 1, DAY),
        "UtilizationOracleUnsupportedDecimals",
        [feed19.target, 19],
      );
    });
  });

  // ---------------------------------------------------------------- setRules

  describe("setRules", () => {
    const rule = (over: Partial<CouponRuleConfig> = {}): CouponRuleConfig => ({
      comparator: Comparator.GTE,
      thresholdBps: 5_000,
      windowDays: 1,
      premiumDeltaBps: 10,
      topUpRequired: false,
      ...over,
    });

    it("replaces the rules, bumps the epoch and restarts streaks lazily", async () => {
      const day = await recordDays(await today(), 2, 9_500);
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(2);
      await expect(ctx.admin.setRules([rule(), rule({ comparator: Comparator.LT })]))
        .to.emit(oracle, "RulesSet")
        .withArgs(
          [
            [0, 5_000, 1, 10, false],
            [1, 5_000, 1, 10, false],
          ],
          2,
        );
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, 0n]);
      await ctx.admin.setRules([rule({ windowDays: 5 })]);
      await recordDays(day, 1, 9_500);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([1n, BigInt(day + 1)]);
      expect((await oracle.rules()).length).to.equal(1);
    });

    it("is ORACLE_ADMIN only", async () => {
      await expect(oracle.connect(actors.attacker).setRules([]))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.ORACLE_ADMIN);
    });

    it("refuses more than four rules and any invalid field", async () => {
      const epoch = await oracle.rulesEpoch();
      await expect(ctx.admin.setRules([rule(), rule(), rule(), rule(), rule()]))
        .to.be.revertedWithCustomError(oracle, "UtilizationOracleTooManyRules")
        .withArgs(5, 4);
      for (const [index, bad] of [
        rule({ thresholdBps: 10_001 }),
        rule({ windowDays: 0 }),
        rule({ premiumDeltaBps: 0 }),
      ].entries()) {
        const rules = [rule(), rule(), bad].slice(index === 0 ? 2 : 0);
        await expect(ctx.admin.setRules(rules))
          .to.be.revertedWithCustomError(oracle, "UtilizationOracleInvalidRule")
          .withArgs(rules.length - 1);
      }
      expect(await oracle.rulesEpoch()).to.equal(epoch);
    });
  });

  // ---------------------------------------------------------------- setLoanVault

  describe("setLoanVault", () => {
    it("sets the LoanVault (DEFAULT_ADMIN) and refuses zero", async () => {
      await expect(oracle.connect(actors.deployer).setLoanVault(actors.treasury))
        .to.emit(oracle, "LoanVaultSet")
        .withArgs(actors.treasury.address);
      await expect(oracle.connect(actors.deployer).setLoanVault(ZeroAddress)).to.be.revertedWithCustomError(
        oracle,
        "UtilizationOracleZeroAddress",
      );
      await expect(oracle.connect(actors.oracleAdmin).setLoanVault(vault))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(actors.oracleAdmin.address, Roles.DEFAULT_ADMIN);
    });
  });

  // ---------------------------------------------------------------- submitReport

  describe("submitReport", () => {
    it("records the median of three signed reports", async () => {
      const day = await today();
      const tx = submit(day, [
        [8_000, 9_900],
        [8_200, 9_700],
        [7_900, 9_800],
      ]);
      await expect(tx).to.emit(oracle, "ObservationRecorded").withArgs(LOAN, day, 1, 8_000, 9_800, 3);
      const at = await now();
      expect(await arr(oracle.latestUtilization(LOAN))).to.deep.equal([
        8_000n,
        9_800n,
        BigInt(day),
        BigInt(at),
      ]);
      expect(await arr(oracle.latestRoundData(LOAN))).to.deep.equal([
        BigInt(day),
        8_000n,
        BigInt(at),
        BigInt(at),
        BigInt(day),
      ]);
    });

    it("takes the mean of the two middle values, rounded down, for an even count", async () => {
      const day = await today();
      await submit(
        day,
        [
          [7_001, 9_001],
          [8_000, 10_000],
        ],
        reporters.slice(0, 2),
      );
      await time.setNextBlockTimestamp((day + 1) * DAY + REPORT_WINDOW);
      await expect(oracle.closeReportDay(LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 7_500, 9_500, 2);
    });

    it("ignores an outlier reporter", async () => {
      const day = await today();
      await expect(
        submit(day, [
          [8_000, 9_900],
          [8_100, 9_900],
          [100, 0],
        ]),
      )
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 8_000, 9_900, 3);
    });

    it("accepts yesterday's reports while fresh, and days only move forward", async () => {
      const day = await today();
      await submit(day - 1, [
        [8_000, 9_900],
        [8_000, 9_900],
        [8_000, 9_900],
      ]);
      await submit(day, [
        [8_000, 9_900],
        [8_000, 9_900],
        [8_000, 9_900],
      ]);
      expect((await oracle.latestUtilization(LOAN)).day).to.equal(day);
    });

    it("refuses a replay of a recorded day, and an earlier day", async () => {
      const day = await today();
      const { reports, signatures } = await signed(day, [
        [8_000, 9_900],
        [8_000, 9_900],
        [8_000, 9_900],
      ]);
      await oracle.submitReport(reports, signatures);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(reports, signatures),
        "UtilizationOracleDayNotAfterLast",
        [LOAN, day, day],
      );
      const earlier = await signed(day - 1, [
        [8_000, 9_900],
        [8_000, 9_900],
        [8_000, 9_900],
      ]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(earlier.reports, earlier.signatures),
        "UtilizationOracleDayNotAfterLast",
        [LOAN, day - 1, day],
      );
    });

    it("refuses a report signed for another chain or another contract", async () => {
      const day = await today();
      const report = makeReport(day, 8_000, 9_900);
      const good = await signReport(actors.reporter2, oracle, report);
      for (const override of [{ chainId: 1n }, { verifyingContract: await vault.getAddress() }]) {
        const bad = await signReport(actors.reporter1, oracle, report, override);
        // Under this oracle's domain the foreign signature recovers an unrelated address.
        const recovered = verifyTypedData(
          await reportDomain(oracle, actors.reporter1),
          REPORT_TYPES,
          report,
          bad.signature,
        );
        expect(recovered).not.to.equal(actors.reporter1.address);
        // The foreign signature goes first so the ascending-order check cannot preempt the signer check.
        await expectRevertUnchanged(
          LOAN,
          () => oracle.submitReport([report, report], [bad.signature, good.signature]),
          "UtilizationOracleUnauthorizedSigner",
          [LOAN, recovered],
        );
      }
    });

    it("refuses an expired report", async () => {
      const day = await today();
      const deadline = BigInt((await now()) - 1);
      const expired = await signReport(
        actors.reporter1,
        oracle,
        makeReport(day, 8_000, 9_900, LOAN, deadline),
      );
      const fresh = await signReport(actors.reporter2, oracle, makeReport(day, 8_000, 9_900));
      const { reports, signatures } = toSubmission([expired, fresh]);
      const index = reports[0].deadline === deadline ? 0 : 1;
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(reports, signatures),
        "UtilizationOracleReportExpired",
        [index, deadline],
      );
    });

    it("refuses a high-s signature and one of the wrong length", async () => {
      const day = await today();
      const report = makeReport(day, 8_000, 9_900);
      const one = await signReport(actors.reporter1, oracle, report);
      const two = await signReport(actors.reporter2, oracle, report);
      const sig = Signature.from(one.signature);
      const highS = ethers.concat([
        sig.r,
        toBeHex(SECP256K1_N - BigInt(sig.s), 32),
        sig.v === 27 ? "0x1c" : "0x1b",
      ]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([report, report], [highS, two.signature]),
        "UtilizationOracleInvalidSignature",
        [0],
      );
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([report, report], [two.signature, one.signature.slice(0, 130)]),
        "UtilizationOracleInvalidSignature",
        [1],
      );
    });

    it("refuses duplicate and unordered signers", async () => {
      const day = await today();
      const { reports, signatures } = await signed(day, [
        [8_000, 9_900],
        [8_000, 9_900],
      ]);
      const domain = await reportDomain(oracle, actors.reporter1);
      const [first, second] = [0, 1].map((i) =>
        verifyTypedData(domain, REPORT_TYPES, reports[i], signatures[i]),
      );
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([reports[0], reports[0]], [signatures[0], signatures[0]]),
        "UtilizationOracleSignersNotAscending",
        [1, first, first],
      );
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([reports[1], reports[0]], [signatures[1], signatures[0]]),
        "UtilizationOracleSignersNotAscending",
        [1, first, second],
      );
    });

    it("refuses a signer without REPORTER, and a REPORTER that is not a source of the loan", async () => {
      const sources = [actors.reporter1, actors.attacker].map((r) => ({
        kind: Kind.Reporter,
        account: r.address,
      }));
      await ctx.admin.configureLoan(LOAN, sources, 2, MAX_STALENESS);
      const day = await today();
      // A signer without the REPORTER role (configured as a source or not), and a reporter that is not a source.
      for (const outsider of [actors.attacker, actors.reporter3]) {
        const batch = await signed(
          day,
          [
            [8_000, 9_900],
            [8_000, 9_900],
          ],
          [actors.reporter1, outsider],
        );
        await expectRevertUnchanged(
          LOAN,
          () => oracle.submitReport(batch.reports, batch.signatures),
          "UtilizationOracleUnauthorizedSigner",
          [LOAN, outsider.address],
        );
      }
    });

    it("refuses a loan whose reporters cannot reach its quorum, and mismatched or too many arrays", async () => {
      const day = await today();
      // One reporter and one feed with a quorum of two: the reporter completes the day's reports short of it.
      const MIXED = 7n;
      await ctx.admin.configureLoan(
        MIXED,
        [
          { kind: Kind.Reporter, account: actors.reporter1.address },
          { kind: Kind.Feed, account: ctx.feeds[0].target as string },
        ],
        2,
        MAX_STALENESS,
      );
      const alone = await signed(day, [[8_000, 9_900]], reporters, MIXED);
      await expectRevertUnchanged(
        MIXED,
        () => oracle.submitReport(alone.reports, alone.signatures),
        "UtilizationOracleQuorumNotMet",
        [MIXED, 1, 2],
      );
      const one = await signed(day, [[8_000, 9_900]]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([], []),
        "UtilizationOracleInvalidReportCount",
        [0, 0],
      );
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([one.reports[0], one.reports[0]], one.signatures),
        "UtilizationOracleInvalidReportCount",
        [2, 1],
      );
      const nine = Array.from({ length: 9 }, () => one.reports[0]);
      await expectRevertUnchanged(
        LOAN,
        () =>
          oracle.submitReport(
            nine,
            Array.from({ length: 9 }, () => one.signatures[0]),
          ),
        "UtilizationOracleInvalidReportCount",
        [9, 9],
      );
    });

    it("refuses reports for different loans or days", async () => {
      const day = await today();
      for (const [loanId, reportDay] of [
        [FEED_LOAN, day],
        [LOAN, day - 1],
      ] as const) {
        const a = await signReport(actors.reporter1, oracle, makeReport(day, 8_000, 9_900));
        const b = await signReport(actors.reporter2, oracle, makeReport(reportDay, 8_000, 9_900, loanId));
        await expectRevertUnchanged(
          LOAN,
          () => oracle.submitReport([a.report, b.report], [a.signature, b.signature]),
          "UtilizationOracleReportMismatch",
          [1],
        );
      }
    });

    it("refuses a utilization or an uptime above 100%", async () => {
      const day = await today();
      const good = await signReport(actors.reporter1, oracle, makeReport(day, 8_000, 9_900));
      for (const [utilization, uptime] of [
        [10_001, 9_900],
        [8_000, 10_001],
      ]) {
        const bad = await signReport(actors.reporter2, oracle, makeReport(day, utilization, uptime));
        const { reports, signatures } = toSubmission([good, bad]);
        await expectRevertUnchanged(
          LOAN,
          () => oracle.submitReport(reports, signatures),
          "UtilizationOracleReadingOutOfRange",
          [reports[0] === bad.report ? 0 : 1, utilization, uptime],
        );
      }
    });

    it("refuses an unconfigured loan, a future day and a stale day", async () => {
      const day = await today();
      await expectRevertUnchanged(
        UNKNOWN_LOAN,
        () => submit(day, [[8_000, 9_900]], reporters, UNKNOWN_LOAN),
        "UtilizationOracleLoanNotConfigured",
        [UNKNOWN_LOAN],
      );
      await expectRevertUnchanged(
        LOAN,
        () =>
          submit(day + 1, [
            [8_000, 9_900],
            [8_000, 9_900],
          ]),
        "UtilizationOracleFutureDay",
        [LOAN, day + 1, day],
      );
      await expectRevertUnchanged(
        LOAN,
        () =>
          submit(day - 3, [
            [8_000, 9_900],
            [8_000, 9_900],
          ]),
        "UtilizationOracleStaleReport",
        [LOAN, day - 3, MAX_STALENESS],
      );
    });

    it("is stopped by the pause", async () => {
      await oracle.connect(actors.guardian).pause();
      await expect(
        submit(await today(), [
          [8_000, 9_900],
          [8_000, 9_900],
        ]),
      ).to.be.revertedWithCustomError(oracle, "EnforcedPause");
    });

    it("sets the SLA flag when the median uptime is below the SLA and clears it on recovery", async () => {
      let day = await today();
      await expect(
        submit(day, [
          [8_000, 9_400],
          [8_000, 9_499],
          [8_000, 9_499],
        ]),
      )
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, SLA_BREACH);
      let pending = await oracle.pendingPush(LOAN);
      expect([pending.flags, pending.flagsPending]).to.deep.equal([1n, true]);
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(SLA_BREACH);

      // Still in breach: no change, nothing to push.
      day = await recordDays(day, 1, 8_000, 9_000);
      expect((await oracle.pendingPush(LOAN)).flagsPending).to.equal(false);

      await time.setNextBlockTimestamp((day + 1) * DAY + 60);
      await expect(
        submit(day + 1, [
          [8_000, 9_500],
          [8_000, 9_500],
          [8_000, 9_500],
        ]),
      )
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, 0);
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(0);
    });
  });

  // ---------------------------------------------------------------- report days

  describe("report days: every reporter's report counts", () => {
    /** Honest readings of the issue's example: utilization 50/58/70%, uptime 90/94/99% (SLA 95%). */
    const HONEST: [number, number][] = [
      [5_000, 9_000],
      [5_800, 9_400],
      [7_000, 9_900],
    ];
    const closesAt = (day: number) => (day + 1) * DAY + REPORT_WINDOW;

    /** Each reporter's signed report of `HONEST` (or `values`) for `day`. */
    async function signedEach(day: number, values = HONEST) {
      return Promise.all(reporters.map((r, i) => signReport(r, oracle, makeReport(day, ...values[i]))));
    }
    const send = (entries: Awaited<ReturnType<typeof signReport>>[]) => {
      const { reports, signatures } = toSubmission(entries);
      return oracle.submitReport(reports, signatures);
    };

    it("a subset submitted first does not make the day: the reporter left out adds its own, the day is the median of all", async () => {
      const day = await today();
      const [r1, r2, r3] = await signedEach(day);
      // Submitted alone, reporters 2 and 3 would make the day 64% and 96.5%: no step-up streak, no SLA breach.
      await expect(send([r2, r3]))
        .to.emit(oracle, "ReportsCollected")
        .withArgs(LOAN, day, 2, 2, closesAt(day))
        .and.not.to.emit(oracle, "ObservationRecorded");
      expect(await arr(oracle.openReportDay(LOAN))).to.deep.equal([BigInt(day), 2n, BigInt(closesAt(day))]);
      expect((await oracle.latestUtilization(LOAN)).day).to.equal(0n);

      await expect(send([r1]))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 5_800, 9_400, 3)
        .and.to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, SLA_BREACH);
      expect(await arr(oracle.openReportDay(LOAN))).to.deep.equal([0n, 0n, 0n]);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(1);
    });

    it("a later submission with more reports adds the new ones to a smaller set", async () => {
      const day = await today();
      const [r1, r2, r3] = await signedEach(day);
      await send([r2, r3]);
      await expect(send([r1, r2, r3]))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 5_800, 9_400, 3);
    });

    it("a reporter's first report counts: its resubmission, or a second reading it signs, changes nothing", async () => {
      const day = await today();
      const [r1, r2, r3] = await signedEach(day);
      await send([r2]);
      const second = await signReport(reporters[1], oracle, makeReport(day, 9_900, 10_000));
      await expect(send([second, r3]))
        .to.emit(oracle, "ReportsCollected")
        .withArgs(LOAN, day, 1, 2, closesAt(day));
      await expect(send([r2]))
        .to.emit(oracle, "ReportsCollected")
        .withArgs(LOAN, day, 0, 2, closesAt(day));
      await expect(send([r1]))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 5_800, 9_400, 3);
    });

    it("a day closes when its window ends and is recorded from the reports it has", async () => {
      const day = await today();
      const [, r2, r3] = await signedEach(day);
      await send([r2, r3]);
      await time.setNextBlockTimestamp(closesAt(day) - 1);
      await expectRevertUnchanged(LOAN, () => oracle.closeReportDay(LOAN), "UtilizationOracleReportDayOpen", [
        LOAN,
        day,
        closesAt(day),
      ]);
      await time.setNextBlockTimestamp(closesAt(day));
      await expect(oracle.connect(actors.attacker).closeReportDay(LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 6_400, 9_650, 2);
      expect(await arr(oracle.openReportDay(LOAN))).to.deep.equal([0n, 0n, 0n]);
    });

    it("a day that closes short of the quorum is missed, and the next day can be reported", async () => {
      const day = await today();
      const [r1] = await signedEach(day);
      await send([r1]);
      await time.setNextBlockTimestamp(closesAt(day));
      await expect(oracle.closeReportDay(LOAN))
        .to.emit(oracle, "ReportDayMissed")
        .withArgs(LOAN, day, 1, 2)
        .and.not.to.emit(oracle, "ObservationRecorded");
      expect(await arr(oracle.latestUtilization(LOAN))).to.deep.equal([0n, 0n, 0n, 0n]);
      await expect(send(await signedEach(day + 1)))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day + 1, 1, 5_800, 9_400, 3);
    });

    it("reports for the next day cannot cut an open day short; once it closes, they record both days in order", async () => {
      const day = await today();
      const [, r2, r3] = await signedEach(day);
      await send([r2, r3]);
      const next = await signedEach(day + 1);
      await time.setNextBlockTimestamp((day + 1) * DAY + 60);
      await expectRevertUnchanged(LOAN, () => send(next), "UtilizationOracleReportDayOpen", [
        LOAN,
        day,
        closesAt(day),
      ]);
      await time.setNextBlockTimestamp(closesAt(day));
      const tx = send(next);
      await expect(tx).to.emit(oracle, "ObservationRecorded").withArgs(LOAN, day, 1, 6_400, 9_650, 2);
      await expect(tx)
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day + 1, 1, 5_800, 9_400, 3);
    });

    it("reports for day d+1 cannot skip day d while d's window is open (the streak of day d stands)", async () => {
      const first = await today();
      await recordDay(first + 1, 5_000);
      const d = first + 2;
      const skipping = await signedEach(d + 1, [
        [9_000, 10_000],
        [9_000, 10_000],
        [9_000, 10_000],
      ]);
      await time.setNextBlockTimestamp((d + 1) * DAY + 60);
      await expectRevertUnchanged(LOAN, () => send(skipping), "UtilizationOracleReportDayOpen", [
        LOAN,
        d,
        closesAt(d),
      ]);
      await expect(send(await signedEach(d)))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, d, 1, 5_800, 9_400, 3);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(2);
    });

    it("a day whose window has closed is refused: fresh, already open, or earlier than the open day", async () => {
      const day = await today();
      // A fresh day after its window (but not stale: 2 days).
      await time.setNextBlockTimestamp(closesAt(day - 1) + 3_600);
      const late = await signedEach(day - 1);
      await expectRevertUnchanged(LOAN, () => send(late), "UtilizationOracleReportDayClosed", [
        LOAN,
        day - 1,
        closesAt(day - 1),
      ]);
      // The open day after its window: it must be closed, not added to.
      const [r1, r2] = await signedEach(day);
      await send([r1]);
      await time.setNextBlockTimestamp(closesAt(day));
      await expectRevertUnchanged(LOAN, () => send([r2]), "UtilizationOracleReportDayClosed", [
        LOAN,
        day,
        closesAt(day),
      ]);
      // An earlier day than the open one (the first observation may skip days).
      await oracle.closeReportDay(LOAN);
      const [, , r3] = await signedEach(day + 1);
      await send([r3]);
      await expectRevertUnchanged(LOAN, () => send([r1]), "UtilizationOracleReportDayClosed", [
        LOAN,
        day,
        closesAt(day),
      ]);
    });

    it("the window in force is the one when the day closes", async () => {
      const day = await today();
      const [r1] = await signedEach(day);
      await send([r1]);
      await ctx.admin.setReportWindow(3_600);
      expect((await oracle.openReportDay(LOAN)).closesAt).to.equal(BigInt((day + 1) * DAY + 3_600));
      await time.setNextBlockTimestamp((day + 1) * DAY + 3_600);
      await expect(oracle.closeReportDay(LOAN)).to.emit(oracle, "ReportDayMissed");
    });
  });

  describe("closeReportDay", () => {
    it("refuses a loan with no open report day, and an open one before it closes", async () => {
      await expectRevertUnchanged(
        LOAN,
        () => oracle.closeReportDay(LOAN),
        "UtilizationOracleNoOpenReportDay",
        [LOAN],
      );
      const day = await today();
      await submit(day, [[8_000, 9_900]]);
      await expectRevertUnchanged(LOAN, () => oracle.closeReportDay(LOAN), "UtilizationOracleReportDayOpen", [
        LOAN,
        day,
        (day + 1) * DAY + REPORT_WINDOW,
      ]);
    });

    it("is stopped by the pause", async () => {
      const day = await today();
      await submit(day, [[8_000, 9_900]]);
      await time.setNextBlockTimestamp((day + 1) * DAY + REPORT_WINDOW);
      await oracle.connect(actors.guardian).pause();
      await expect(oracle.closeReportDay(LOAN)).to.be.revertedWithCustomError(oracle, "EnforcedPause");
    });
  });

  describe("setReportWindow", () => {
    it("starts at the default of 6 hours; ORACLE_ADMIN sets it within [1 s, 1 day]", async () => {
      expect(await oracle.reportWindow()).to.equal(BigInt(REPORT_WINDOW));
      await expect(ctx.admin.setReportWindow(DAY)).to.emit(oracle, "ReportWindowSet").withArgs(DAY);
      expect(await oracle.reportWindow()).to.equal(BigInt(DAY));
      await expect(ctx.admin.setReportWindow(1)).to.emit(oracle, "ReportWindowSet").withArgs(1);
      expect(await oracle.reportWindow()).to.equal(1n);
    });

    it("refuses zero, more than a day and a caller without ORACLE_ADMIN", async () => {
      for (const bad of [0, DAY + 1]) {
        await expect(ctx.admin.setReportWindow(bad))
          .to.be.revertedWithCustomError(oracle, "UtilizationOracleInvalidReportWindow")
          .withArgs(bad, DAY);
      }
      await expect(oracle.connect(actors.attacker).setReportWindow(3_600))
        .to.be.revertedWithCustomError(oracle, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.ORACLE_ADMIN);
      expect(await oracle.reportWindow()).to.equal(BigInt(REPORT_WINDOW));
    });
  });

  // ---------------------------------------------------------------- poke

  describe("poke", () => {
    it("records the median of the feeds, normalising 8 and 18 decimals down to bps", async () => {
      // 0.75 at 8 decimals, 0.123456789 at 8 decimals (rounds down to 1234), 0.50000001 at 18 decimals.
      await ctx.feeds[0].pushAnswer(75_000_000n);
      await ctx.feeds[1].pushAnswer(12_345_678n);
      await ctx.feeds[2].pushAnswer(500_000_010_000_000_000n);
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(FEED_LOAN, await today(), 1, 5_000, UPTIME_UNKNOWN, 3);
      const sources = await oracle.sourcesOf(FEED_LOAN);
      expect(sources.map((s) => s.lastRound)).to.deep.equal([1n, 1n, 1n]);
      expect((await oracle.latestUtilization(FEED_LOAN)).uptimeBps).to.equal(UPTIME_UNKNOWN);
    });

    it("closes an open report day first, and waits while it is open", async () => {
      // Two reporters and the three feeds, quorum 1: reporter 1's report leaves the day open.
      const MIXED = 8n;
      await ctx.admin.configureLoan(
        MIXED,
        [
          { kind: Kind.Reporter, account: actors.reporter1.address },
          { kind: Kind.Reporter, account: actors.reporter2.address },
          ...ctx.feeds.map((f) => ({ kind: Kind.Feed, account: f.target as string })),
        ],
        1,
        MAX_STALENESS,
      );
      const day = await today();
      await submit(day, [[8_000, 9_900]], reporters, MIXED);
      await freshFeeds([6_000, 6_000, 6_000]);
      const closesAt = (day + 1) * DAY + REPORT_WINDOW;
      await expectRevertUnchanged(
        MIXED,
        () => oracle.connect(actors.keeper).poke(MIXED),
        "UtilizationOracleReportDayOpen",
        [MIXED, day, closesAt],
      );
      await time.setNextBlockTimestamp(closesAt);
      const tx = oracle.connect(actors.keeper).poke(MIXED);
      await expect(tx).to.emit(oracle, "ObservationRecorded").withArgs(MIXED, day, 1, 8_000, 9_900, 1);
      await expect(tx)
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(MIXED, day + 1, 1, 6_000, UPTIME_UNKNOWN, 3);
    });

    it("ignores an outlier feed and takes the mean of two for an even count", async () => {
      await freshFeeds([8_000, 8_100, 100]);
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(FEED_LOAN, anyValue, 1, 8_000, UPTIME_UNKNOWN, 3);
      await time.increase(DAY);
      await freshFeeds([7_001, 8_000, 9_000]);
      await ctx.feeds[2].setMode(Mode.Revert);
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(FEED_LOAN, anyValue, 1, 7_500, UPTIME_UNKNOWN, 2);
    });

    const faults: { name: string; reason: number; arrange: (feed: MockAggregator) => Promise<unknown> }[] = [
      {
        name: "stale",
        reason: Skip.Stale,
        arrange: async (f) => f.setRound(9, ratio(8_000, 8), (await now()) - MAX_STALENESS - 1),
      },
      { name: "zero", reason: Skip.NonPositiveAnswer, arrange: async (f) => void (await f.pushAnswer(0)) },
      {
        name: "negative",
        reason: Skip.NonPositiveAnswer,
        arrange: async (f) => void (await f.pushAnswer(-1)),
      },
      {
        name: "future",
        reason: Skip.FutureTimestamp,
        arrange: async (f) => f.setRound(9, ratio(8_000, 8), (await now()) + 600).then(() => undefined),
      },
      {
        name: "above 100%",
        reason: Skip.AboveFullScale,
        arrange: async (f) => void (await f.pushAnswer(ratio(10_000, 8) + 1n)),
      },
      {
        name: "reverting",
        reason: Skip.CallFailed,
        arrange: async (f) => void (await f.setMode(Mode.Revert)),
      },
      {
        name: "gas bomb",
        reason: Skip.CallFailed,
        arrange: async (f) => void (await f.setMode(Mode.GasBomb)),
      },
      {
        name: "malformed",
        reason: Skip.MalformedResponse,
        arrange: async (f) => void (await f.setMode(Mode.Malformed)),
      },
      {
        name: "repeated round",
        reason: Skip.RoundNotNewer,
        arrange: async (f) => {
          await oracle.connect(actors.keeper).poke(FEED_LOAN);
          await time.increase(DAY);
          for (const other of ctx.feeds)
            if (other !== f) await other.pushAnswer(ratio(8_000, Number(await other.decimals())));
        },
      },
    ];

    for (const fault of faults) {
      it(`skips a ${fault.name} feed while the quorum holds`, async () => {
        await freshFeeds([8_000, 8_200, 8_400]);
        const feed = ctx.feeds[0];
        await fault.arrange(feed);
        await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
          .to.emit(oracle, "SourceSkipped")
          .withArgs(FEED_LOAN, await feed.getAddress(), fault.reason)
          .and.to.emit(oracle, "ObservationRecorded")
          .withArgs(
            FEED_LOAN,
            await today(),
            1,
            fault.name === "repeated round" ? 8_000 : 8_300,
            UPTIME_UNKNOWN,
            2,
          );
      });

      it(`is blocked by a ${fault.name} feed when the quorum does not hold`, async () => {
        const feeds = ctx.feeds.map((f) => ({ kind: Kind.Feed, account: f.target as string }));
        await ctx.admin.configureLoan(FEED_LOAN, feeds, 3, MAX_STALENESS);
        await freshFeeds([8_000, 8_200, 8_400]);
        await fault.arrange(ctx.feeds[0]);
        await expectRevertUnchanged(
          FEED_LOAN,
          () => oracle.connect(actors.keeper).poke(FEED_LOAN),
          "UtilizationOracleQuorumNotMet",
          [FEED_LOAN, 2, 3],
        );
      });
    }

    it("reads a return-data bomb at a bounded cost", async () => {
      const feeds = ctx.feeds.map((f) => ({ kind: Kind.Feed, account: f.target as string }));
      await ctx.admin.configureLoan(FEED_LOAN, feeds, 3, MAX_STALENESS);
      await freshFeeds();
      const baseline = (await (await oracle.connect(actors.keeper).poke(FEED_LOAN)).wait())!.gasUsed;
      await time.increase(DAY);
      await freshFeeds();
      await ctx.feeds[1].setMode(Mode.ReturnBomb);
      const tx = await oracle.connect(actors.keeper).poke(FEED_LOAN);
      await expect(tx)
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(FEED_LOAN, anyValue, 1, 8_000, UPTIME_UNKNOWN, 3);
      // The feed's own memory expansion (~64k, inside its gas cap) is all it costs: nothing is copied back.
      expect((await tx.wait())!.gasUsed - baseline).to.be.lessThan(75_000n);
    });

    it("reverts rather than let a caller starve a feed of gas", async () => {
      await freshFeeds();
      await ctx.feeds[0].setMode(Mode.GasBomb);
      // 180k pays for the bomb's full allowance but not the second feed's. Instrumented code (coverage) spends more
      // before the second call, so there the lowest limit that reaches the check is searched for.
      let gasLimit = 180_000;
      if (underCoverage()) {
        const starves = async (limit: number) =>
          oracle
            .connect(actors.keeper)
            .poke.staticCall(FEED_LOAN, { gasLimit: limit })
            .then(
              () => false,
              (err: { data?: string }) =>
                err.data?.startsWith(
                  oracle.interface.getError("UtilizationOracleInsufficientGas")!.selector,
                ) ?? false,
            );
        while (gasLimit < 3_000_000 && !(await starves(gasLimit))) gasLimit += 10_000;
      }
      await expectRevertUnchanged(
        FEED_LOAN,
        () => oracle.connect(actors.keeper).poke(FEED_LOAN, { gasLimit }),
        "UtilizationOracleInsufficientGas",
        [anyValue, FEED_GAS_MIN],
      );
    });

    it("reads only the feed sources of a mixed loan and leaves the covenant flags alone", async () => {
      const sources = [
        { kind: Kind.Feed, account: ctx.feeds[0].target as string },
        { kind: Kind.Reporter, account: actors.reporter1.address },
        { kind: Kind.Feed, account: ctx.feeds[2].target as string },
      ];
      await ctx.admin.configureLoan(FEED_LOAN, sources, 2, MAX_STALENESS);
      await freshFeeds([6_000, 0, 7_000]);
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(FEED_LOAN, anyValue, 1, 6_500, UPTIME_UNKNOWN, 2)
        .and.not.to.emit(oracle, "CovenantFlagsChanged");
    });

    it("is KEEPER only, once a day, for configured loans, and stopped by the pause", async () => {
      await freshFeeds();
      await expectRevertUnchanged(
        FEED_LOAN,
        () => oracle.connect(actors.attacker).poke(FEED_LOAN),
        "AccessControlUnauthorizedAccount",
        [actors.attacker.address, Roles.KEEPER],
      );
      await expectRevertUnchanged(
        UNKNOWN_LOAN,
        () => oracle.connect(actors.keeper).poke(UNKNOWN_LOAN),
        "UtilizationOracleLoanNotConfigured",
        [UNKNOWN_LOAN],
      );
      await oracle.connect(actors.keeper).poke(FEED_LOAN);
      await freshFeeds();
      const day = await today();
      await expectRevertUnchanged(
        FEED_LOAN,
        () => oracle.connect(actors.keeper).poke(FEED_LOAN),
        "UtilizationOracleDayNotAfterLast",
        [FEED_LOAN, day, day],
      );
      await oracle.connect(actors.guardian).pause();
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN)).to.be.revertedWithCustomError(
        oracle,
        "EnforcedPause",
      );
    });
  });

  // ---------------------------------------------------------------- streaks and rules

  describe("streaks", () => {
    it("does not fire on 89 consecutive days at >= 90%, fires on the 90th and restarts", async () => {
      let day = await recordDays(await today(), 89, 9_000);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([89n, BigInt(day)]);
      expect((await oracle.pendingPush(LOAN)).stepPending).to.equal(false);

      day += 1;
      await expect(recordDay(day, 9_000)).to.emit(oracle, "RuleFired").withArgs(LOAN, 0, 1, -200, false);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, BigInt(day)]);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.stepId, pending.deltaBps, pending.topUpRequired, pending.stepPending]).to.deep.equal([
        1n,
        -200n,
        false,
        true,
      ]);
      await recordDays(day, 1, 9_500);
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(1);
    });

    it("restarts a streak after a missing day", async () => {
      let day = await recordDays(await today(), 50, 9_500);
      day = await recordDays(day + 1, 89, 9_500);
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(89);
      expect((await oracle.pendingPush(LOAN)).stepId).to.equal(0);
      await expect(recordDay(day + 1, 9_500))
        .to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 0, 1, -200, false);
    });

    it("missing days do not erase a step-up streak (they do not count towards it either)", async () => {
      let day = await recordDays(await today(), 20, 5_000);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(20);
      day = await recordDays(day + 3, 1, 5_000);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(21);
      day = await recordDays(day, 8, 5_000);
      await expect(recordDay(day + 1, 5_000))
        .to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 1, 1, 300, true);
    });

    it("does not fire while utilization flaps around 60%, then fires after 30 days below", async () => {
      let day = await today();
      for (let i = 0; i < 20; i++) day = await recordDays(day, 1, i % 2 === 0 ? 6_000 : 5_999);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(1);
      expect((await oracle.pendingPush(LOAN)).stepId).to.equal(0);
      day = await recordDays(day, 1, 6_000);
      day = await recordDays(day, 29, 5_999);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(29);
      await expect(recordDay(day + 1, 0))
        .to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 1, 1, 300, true);
    });

    it("steps down then up on the same loan, the vault clamping at its floor and cap", async () => {
      // Vault bounds: premium 4% in [2%, 7%]. Three step-downs: -2%, then clamped at the floor (the oracle sends
      // the change the clamp leaves, the vault applies it).
      let day = await today();
      const applied: bigint[] = [];
      for (const [i, sent] of [-200, 0].entries()) {
        day = await recordDays(day, 90, 9_500);
        const tx = oracle.push(LOAN);
        await expect(tx)
          .to.emit(oracle, "CouponStepPushed")
          .withArgs(LOAN, i + 1, sent, false);
        applied.push(await vault.premiumOf(LOAN));
      }
      expect(applied).to.deep.equal([200n, 200n]);
      day = await recordDays(day, 90, 9_500);
      await expect(oracle.push(LOAN)).to.emit(vault, "CouponStepApplied").withArgs(LOAN, 3, 0, 0, false, 0);

      // Step-ups: +3% twice; the second is clamped at the 7% cap and opens a cure window each time.
      day = await recordDays(day, 30, 5_000);
      await expect(oracle.push(LOAN))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 4, 300, 300, true, anyValue);
      day = await recordDays(day, 30, 5_000);
      await expect(oracle.push(LOAN))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 5, 200, 200, true, anyValue);
      expect(await vault.premiumOf(LOAN)).to.equal(700);
      expect(await vault.couponOf(LOAN)).to.equal(1_200);
    });

    it("several pending steps apply one by one, clamped to the floor and cap after each", async () => {
      // Premium 4% in [2%, 7%]. Day 1: -3% (4% -> 2%, the floor). Day 2: -3% (stays 2%), then +3% (5%).
      // Netted before the clamp they would be -3%: 4% -> 1% -> 2%.
      await ctx.admin.setRules([
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 1,
          premiumDeltaBps: -300,
          topUpRequired: false,
        },
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 2,
          premiumDeltaBps: 300,
          topUpRequired: false,
        },
      ]);
      await recordDays(await today(), 2, 5_000);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.stepId, pending.deltaBps]).to.deep.equal([3n, 100n]);
      await expect(oracle.push(LOAN))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 3, 100, 100, false, 0);
      expect(await vault.premiumOf(LOAN)).to.equal(500n);
    });

    it("pending steps compose across days and from the premium the vault holds when pushed", async () => {
      // Premium 4% in [2%, 7%]: +3% (7%), +3% (7%, the cap), -3% (4%); netted: +3% -> 7%.
      await ctx.admin.setRules([
        {
          comparator: Comparator.GTE,
          thresholdBps: 8_000,
          windowDays: 1,
          premiumDeltaBps: 300,
          topUpRequired: false,
        },
        {
          comparator: Comparator.LT,
          thresholdBps: 8_000,
          windowDays: 1,
          premiumDeltaBps: -300,
          topUpRequired: false,
        },
      ]);
      let day = await recordDays(await today(), 2, 9_000);
      day = await recordDays(day, 1, 5_000);
      expect((await oracle.pendingPush(LOAN)).deltaBps).to.equal(0n);
      await vault.setLoan(LOAN, 9_500, 500, 200, 200, 700);
      // From 2%: 5%, 7%, 4%.
      expect((await oracle.pendingPush(LOAN)).deltaBps).to.equal(200n);
      await oracle.push(LOAN);
      expect(await vault.premiumOf(LOAN)).to.equal(400n);
    });

    it("folds several firings into one pending step", async () => {
      await ctx.admin.setRules([
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 1,
          premiumDeltaBps: 10,
          topUpRequired: false,
        },
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 2,
          premiumDeltaBps: -25,
          topUpRequired: true,
        },
      ]);
      await recordDays(await today(), 2, 5_000);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.stepId, pending.deltaBps, pending.topUpRequired]).to.deep.equal([3n, -5n, true]);
      await expect(oracle.push(LOAN))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 3, -5, -5, true, anyValue);
    });

    it("reports an unknown rule", async () => {
      await expect(oracle.streakOf(LOAN, 2))
        .to.be.revertedWithCustomError(oracle, "UtilizationOracleUnknownRule")
        .withArgs(2, 2);
    });
  });

  // ---------------------------------------------------------------- periods

  describe("periods: a report covering N days counts as N observed days", () => {
    const MAX_PERIOD = 92;

    /** Every reporter signs `values` for the `periodDays` days ending on `day` (loan `loanId`). */
    async function signedPeriod(
      day: number,
      periodDays: number,
      values: [number, number][],
      signers = reporters,
      loanId = LOAN,
    ) {
      const entries = await Promise.all(
        values.map(([u, up], i) =>
          signReport(signers[i], oracle, makeReport(day, u, up, loanId, undefined, periodDays)),
        ),
      );
      return toSubmission(entries);
    }

    /** Records the `periodDays` days ending on `day` at `utilizationBps` (all three reporters), on `day`. */
    async function recordPeriod(
      day: number,
      periodDays: number,
      utilizationBps: number,
      loanId = LOAN,
      at?: number,
    ) {
      await time.setNextBlockTimestamp(at ?? day * DAY + REPORT_WINDOW + 3_600);
      const { reports, signatures } = await signedPeriod(
        day,
        periodDays,
        [
          [utilizationBps, 10_000],
          [utilizationBps, 10_000],
          [utilizationBps, 10_000],
        ],
        reporters,
        loanId,
      );
      return oracle.submitReport(reports, signatures);
    }

    it("the digest a reporter signs covers the period: a daily signature does not verify as a monthly report", async () => {
      const day = await today();
      const daily = makeReport(day, 5_000, 10_000);
      const monthly = makeReport(day, 5_000, 10_000, LOAN, undefined, 30);
      const domain = await reportDomain(oracle, actors.reporter1);
      expect(await oracle.hashReport(monthly)).to.equal(TypedDataEncoder.hash(domain, REPORT_TYPES, monthly));
      expect(await oracle.hashReport(monthly)).to.not.equal(await oracle.hashReport(daily));
      const { signature } = await signReport(actors.reporter1, oracle, daily);
      const forged = verifyTypedData(domain, REPORT_TYPES, monthly, signature);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport([monthly], [signature]),
        "UtilizationOracleUnauthorizedSigner",
        [LOAN, forged],
      );
    });

    it("one monthly report under 60% fires the one-month step-up rule and its top-up", async () => {
      const day = (await today()) + 30;
      await expect(recordPeriod(day, 30, 4_200))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 30, 4_200, 10_000, 3)
        .and.to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 1, 1, 300, true);
      expect(await arr(oracle.streakOf(LOAN, 1))).to.deep.equal([0n, BigInt(day)]);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, BigInt(day)]);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.stepId, pending.deltaBps, pending.topUpRequired]).to.deep.equal([1n, 300n, true]);
      await expect(oracle.push(LOAN))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 1, 300, 300, true, anyValue);
    });

    it("three consecutive monthly reports at 90%+ fire the 90-day step-down rule", async () => {
      let day = (await today()) + 30;
      await expect(recordPeriod(day, 30, 9_400)).not.to.emit(oracle, "RuleFired");
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([30n, BigInt(day)]);
      day += 30;
      await expect(recordPeriod(day, 30, 9_100)).not.to.emit(oracle, "RuleFired");
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(60);
      day += 30;
      await expect(recordPeriod(day, 30, 9_600))
        .to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 0, 1, -200, false);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, BigInt(day)]);
    });

    it("a period continues a streak of daily observations, and a missing day before it breaks a step-down streak", async () => {
      // 20 daily days under 60%, then a 10-day report under 60%: 30 days, the step-up fires.
      let day = await recordDays(await today(), 20, 5_000);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(20);
      day += 10;
      await expect(recordPeriod(day, 10, 5_500))
        .to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 1, 1, 300, true);
      // 60 days at 95% (daily then a month), a missing day, then a month: the step-down restarts at 30.
      day = await recordDays(day, 30, 9_500);
      day += 30;
      await recordPeriod(day, 30, 9_500);
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(60);
      day += 31;
      await recordPeriod(day, 30, 9_500);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([30n, BigInt(day)]);
    });

    it("a period longer than a rule's window fires it once per window, clamped after each, and carries the rest", async () => {
      // 92 days under 60%: the 30-day step-up fires on days 30, 60 and 90 (premium 4% -> 7% -> 7% -> 7%, cap 7%).
      const day = (await today()) + MAX_PERIOD;
      const tx = recordPeriod(day, MAX_PERIOD, 5_000);
      for (const stepId of [1, 2, 3])
        await expect(tx).to.emit(oracle, "RuleFired").withArgs(LOAN, 1, stepId, 300, true);
      expect(await arr(oracle.streakOf(LOAN, 1))).to.deep.equal([2n, BigInt(day)]);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.stepId, pending.deltaBps, pending.topUpRequired]).to.deep.equal([3n, 300n, true]);
    });

    it("fires exactly as the same days reported daily would: same steps, same order, same streaks", async () => {
      // Two rules on every day with different windows, so firings interleave and the clamp makes order matter.
      await ctx.admin.setRules([
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 2,
          premiumDeltaBps: -300,
          topUpRequired: false,
        },
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 3,
          premiumDeltaBps: 250,
          topUpRequired: true,
        },
      ]);
      const PERIOD_LOAN = 3n;
      await vault.setLoan(PERIOD_LOAN, 9_500, 500, 400, 200, 700);
      await ctx.admin.configureLoan(
        PERIOD_LOAN,
        reporters.map((r) => ({ kind: Kind.Reporter, account: r.address })),
        2,
        MAX_STALENESS,
      );
      let last = await today();
      for (const periodDays of [7, 5]) {
        last = await recordDays(last, periodDays, 5_000);
        await recordPeriod(last, periodDays, 5_000, PERIOD_LOAN, last * DAY + REPORT_WINDOW + 7_200);
        const daily = await oracle.pendingPush(LOAN);
        const period = await oracle.pendingPush(PERIOD_LOAN);
        expect([...period]).to.deep.equal([...daily]);
        for (const rule of [0, 1]) {
          expect(await arr(oracle.streakOf(PERIOD_LOAN, rule))).to.deep.equal(
            await arr(oracle.streakOf(LOAN, rule)),
          );
        }
      }
      // 12 days: 6 firings of the 2-day rule and 4 of the 3-day rule.
      expect((await oracle.pendingPush(LOAN)).stepId).to.equal(10n);
    });

    it("a partial monthly collection closes with its period: the day is the median of the month's reports", async () => {
      const day = (await today()) + 30;
      await time.setNextBlockTimestamp(day * DAY + 3_600);
      const { reports, signatures } = await signedPeriod(day, 30, [
        [4_000, 9_900],
        [7_000, 9_900],
      ]);
      await oracle.submitReport(reports, signatures);
      await time.increaseTo((day + 1) * DAY + REPORT_WINDOW);
      await expect(oracle.closeReportDay(LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 30, 5_500, 9_900, 2)
        .and.to.emit(oracle, "RuleFired")
        .withArgs(LOAN, 1, 1, 300, true);
    });

    it("refuses a period of 0 or above MAX_REPORT_PERIOD_DAYS", async () => {
      const day = (await today()) + 100;
      await time.setNextBlockTimestamp(day * DAY + 3_600);
      for (const periodDays of [0, MAX_PERIOD + 1]) {
        const { reports, signatures } = await signedPeriod(day, periodDays, [[5_000, 10_000]]);
        await expectRevertUnchanged(
          LOAN,
          () => oracle.submitReport(reports, signatures),
          "UtilizationOracleInvalidPeriod",
          [0, periodDays, MAX_PERIOD],
        );
      }
    });

    it("refuses reports of one submission that cover different periods", async () => {
      const day = (await today()) + 30;
      await time.setNextBlockTimestamp(day * DAY + 3_600);
      const entries = await Promise.all(
        reporters.map((r, i) =>
          signReport(r, oracle, makeReport(day, 5_000, 10_000, LOAN, undefined, i === 1 ? 1 : 30)),
        ),
      );
      const { reports, signatures } = toSubmission(entries);
      const odd = reports.findIndex((r) => r.periodDays === 1);
      const first = reports[0].periodDays === 1 ? 1 : odd;
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(reports, signatures),
        "UtilizationOracleReportMismatch",
        [first],
      );
    });

    it("refuses a report whose period does not match the reports already collected for the day", async () => {
      const day = (await today()) + 30;
      await time.setNextBlockTimestamp(day * DAY + 3_600);
      const monthly = await signedPeriod(day, 30, [
        [5_000, 10_000],
        [5_000, 10_000],
      ]);
      await oracle.submitReport(monthly.reports, monthly.signatures);
      const daily = await signedPeriod(day, 1, [[5_000, 10_000]], [actors.reporter3]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(daily.reports, daily.signatures),
        "UtilizationOracleReportPeriodMismatch",
        [LOAN, day, 1, 30],
      );
    });

    it("refuses a period that reaches back over a recorded day, or over an open day its closing records", async () => {
      const recorded = await recordDays(await today(), 1, 8_000);
      await time.setNextBlockTimestamp((recorded + 10) * DAY + REPORT_WINDOW + 3_600);
      const over = await signedPeriod(recorded + 10, 11, [[5_000, 10_000]]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(over.reports, over.signatures),
        "UtilizationOraclePeriodOverlaps",
        [LOAN, recorded + 10, 11, recorded],
      );
      // A day opened with a quorum, closed and not yet recorded: its closing would record it, so it counts.
      const open = recorded + 11;
      await time.setNextBlockTimestamp(open * DAY + REPORT_WINDOW + 3_600);
      const two = await signedPeriod(open, 1, [
        [8_000, 10_000],
        [8_000, 10_000],
      ]);
      await oracle.submitReport(two.reports, two.signatures);
      const end = open + 20;
      await time.setNextBlockTimestamp(end * DAY + REPORT_WINDOW + 3_600);
      const month = await signedPeriod(end, 21, [[5_000, 10_000]]);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.submitReport(month.reports, month.signatures),
        "UtilizationOraclePeriodOverlaps",
        [LOAN, end, 21, open],
      );
      // The 20 days after it are free.
      const fits = await signedPeriod(end, 20, [[5_000, 10_000]]);
      await expect(oracle.submitReport(fits.reports, fits.signatures))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, open, 1, 8_000, 10_000, 2);
    });
  });

  // ---------------------------------------------------------------- missing data

  describe("missing data: a long gap is a covenant event", () => {
    const DATA_GAP = 2;
    const pageAll = AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [0, 10]);

    /** A block at the moment day `day`'s report window has closed (the day is then missing if unrecorded). */
    const closeOf = (day: number) => (day + 1) * DAY + REPORT_WINDOW;

    it("more than maxGapDays closed days without an observation set COVENANT_DATA_GAP, pushed to the vault; the next observation clears it", async () => {
      await expect(configureWithTerms(LOAN, { maxGapDays: 3 }))
        .to.emit(oracle, "MaxGapDaysSet")
        .withArgs(LOAN, 3);
      const last = await recordDays(await today(), 1, 8_000);
      // Three days missing: not more than three.
      await time.increaseTo(closeOf(last + 3));
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([3n, 3n]);
      expect((await oracle.checkUpkeep(pageAll))[0]).to.equal(false);
      await expectRevertUnchanged(LOAN, () => oracle.flagDataGap(LOAN), "UtilizationOracleNoDataGap", [
        LOAN,
        3,
        3,
      ]);
      // The fourth day closes: a covenant event.
      await time.increaseTo(closeOf(last + 4));
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([4n, 3n]);
      expect((await oracle.checkUpkeep(pageAll))[0]).to.equal(true);
      await expect(oracle.connect(actors.attacker).flagDataGap(LOAN))
        .to.emit(oracle, "DataGapFlagged")
        .withArgs(LOAN, last, 4, 3)
        .and.to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, DATA_GAP);
      const pending = await oracle.pendingPush(LOAN);
      expect([pending.flags, pending.flagsPending]).to.deep.equal([BigInt(DATA_GAP), true]);
      await expectRevertUnchanged(LOAN, () => oracle.flagDataGap(LOAN), "UtilizationOracleNoDataGap", [
        LOAN,
        4,
        3,
      ]);
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(DATA_GAP);
      // Data resumes: the flag clears with the next observation, and the push clears it in the vault.
      await expect(recordDay(last + 6, 8_000))
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, 0);
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(0);
    });

    it("the upkeep flags and pushes a data gap in one performUpkeep, beside the SLA flag", async () => {
      await configureWithTerms(LOAN, { maxGapDays: 2 });
      const last = await recordDays(await today(), 1, 8_000, 9_000); // uptime below the 95% SLA
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(SLA_BREACH);
      await time.increaseTo(closeOf(last + 3));
      const [needed, performData] = await oracle.checkUpkeep(pageAll);
      expect(needed).to.equal(true);
      await expect(oracle.performUpkeep(performData))
        .to.emit(oracle, "DataGapFlagged")
        .withArgs(LOAN, last, 3, 2)
        .and.to.emit(vault, "CovenantFlagsSet")
        .withArgs(LOAN, SLA_BREACH, SLA_BREACH | DATA_GAP);
      expect((await oracle.checkUpkeep(pageAll))[0]).to.equal(false);
    });

    it("an open report day that reaches the quorum is recorded before the gap is measured", async () => {
      await configureWithTerms(LOAN, { maxGapDays: 1 });
      const last = await recordDays(await today(), 1, 8_000);
      await time.setNextBlockTimestamp((last + 1) * DAY + 3_600);
      await submit(last + 1, [
        [8_000, 10_000],
        [8_000, 10_000],
      ]);
      await time.increaseTo(closeOf(last + 2));
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([2n, 1n]);
      // Closing day last + 1 records it: one day missing, not a covenant event.
      await expect(oracle.flagDataGap(LOAN)).to.be.revertedWithCustomError(
        oracle,
        "UtilizationOracleNoDataGap",
      );
      await oracle.closeReportDay(LOAN);
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([1n, 1n]);
    });

    it("a monthly reporter on time is never a data gap for maxGapDays above its period", async () => {
      await configureWithTerms(LOAN, { maxGapDays: 33 });
      let day = (await today()) + 30;
      for (let month = 0; month < 3; month++) {
        await time.setNextBlockTimestamp(day * DAY + REPORT_WINDOW + 3_600);
        const entries = await Promise.all(
          reporters.map((r) => signReport(r, oracle, makeReport(day, 8_000, 10_000, LOAN, undefined, 30))),
        );
        const { reports, signatures } = toSubmission(entries);
        await oracle.submitReport(reports, signatures);
        await time.increaseTo(closeOf(day + 29));
        expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([29n, 33n]);
        expect((await oracle.checkUpkeep(pageAll))[0]).to.equal(false);
        day += 30;
      }
      // A month late: flagged.
      await time.increaseTo(closeOf(day + 4));
      await expect(oracle.flagDataGap(LOAN))
        .to.emit(oracle, "DataGapFlagged")
        .withArgs(LOAN, day - 30, 34, 33);
    });

    it("is off for terms without it (maxGapDays 0), and there is no gap before the first observation", async () => {
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([0n, 0n]);
      const last = await recordDays(await today(), 1, 8_000);
      // Recorded before its own report window closed: nothing is missing yet.
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([0n, 0n]);
      await time.increaseTo(closeOf(last + 100));
      await expectRevertUnchanged(LOAN, () => oracle.flagDataGap(LOAN), "UtilizationOracleNoDataGap", [
        LOAN,
        100,
        0,
      ]);
      expect((await oracle.checkUpkeep(pageAll))[0]).to.equal(false);
      // The same history under a loan whose terms tolerate 99 days: flagged.
      await configureWithTerms(LOAN, { maxGapDays: 99 });
      await expect(oracle.flagDataGap(LOAN)).to.emit(oracle, "DataGapFlagged").withArgs(LOAN, last, 100, 99);
    });

    it("flagDataGap is stopped by the pause", async () => {
      await oracle.connect(actors.guardian).pause();
      await expect(oracle.flagDataGap(LOAN)).to.be.revertedWithCustomError(oracle, "EnforcedPause");
    });

    it("gaps count against a step-down streak and do not erase a step-up streak, in one history", async () => {
      // A step-down streak (>= 90%) and a step-up one (< 60%) cannot run at once: one after the other, across the
      // same two-day gap.
      let day = await recordDays(await today(), 40, 9_500);
      day = await recordDays(day + 2, 1, 9_500); // two missing days: the step-down restarts
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(1);
      day = await recordDays(day, 20, 5_000);
      day = await recordDays(day + 2, 1, 5_000); // two missing days: the step-up goes on (they do not count)
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(21);
    });
  });

  // ---------------------------------------------------------------- push

  describe("revenue: debt-service coverage and lockbox covenants", () => {
    const DSCR_BREACH = 4;
    const REVENUE_SHORTFALL = 8;
    const usd = (n: number) => BigInt(n) * 10n ** 18n;

    /** Submits `day` with one report per reporter, `revenues[i]` its revenue, in a block after the day before closed. */
    async function submitRevenue(day: number, revenues: bigint[], signers = reporters, setTime = true) {
      if (setTime) await time.setNextBlockTimestamp(day * DAY + REPORT_WINDOW + 3_600);
      const entries = await Promise.all(
        revenues.map((r, i) =>
          signReport(signers[i], oracle, makeReport(day, 8_000, 10_000, LOAN, undefined, 1, r)),
        ),
      );
      const { reports, signatures } = toSubmission(entries);
      return oracle.submitReport(reports, signatures);
    }

    it("a day's revenue is the median of its reports, also when collected over submissions and closed later", async () => {
      const day = (await today()) + 1;
      await expect(submitRevenue(day, [usd(900), usd(1_300), usd(1_000)]))
        .to.emit(oracle, "RevenueRecorded")
        .withArgs(LOAN, day, 1, usd(1_000));
      // Two reports, then the day closes: their stored revenues make the median (rounded down).
      await submitRevenue(day + 1, [usd(700), usd(800)]);
      await time.increaseTo((day + 2) * DAY + REPORT_WINDOW);
      await expect(oracle.closeReportDay(LOAN))
        .to.emit(oracle, "RevenueRecorded")
        .withArgs(LOAN, day + 1, 1, usd(750));
      // A third reporter completing a day collected over two submissions.
      await submitRevenue(day + 3, [usd(100)], [reporters[2]]);
      await expect(submitRevenue(day + 3, [usd(300), usd(200)], reporters, false))
        .to.emit(oracle, "RevenueRecorded")
        .withArgs(LOAN, day + 3, 1, usd(200));
    });

    it("revenue below minDscrBps of the period's debt service sets COVENANT_DSCR_BREACH, pushed; a period at the floor clears it", async () => {
      await vault.setDebtServicePerDay(LOAN, usd(1_000));
      await expect(configureWithTerms(LOAN, { minDscrBps: 12_500 }))
        .to.emit(oracle, "RevenueCovenantsSet")
        .withArgs(LOAN, 12_500, false, 0);
      const day = (await today()) + 1;
      await expect(submitRevenue(day, [usd(1_240), usd(1_240), usd(1_240)]))
        .to.emit(oracle, "DscrBreached")
        .withArgs(LOAN, day, usd(1_240), usd(1_000), 12_500)
        .and.to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, DSCR_BREACH);
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(DSCR_BREACH);
      await expect(submitRevenue(day + 1, [usd(1_250), usd(1_250), usd(1_250)]))
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, 0)
        .and.not.to.emit(oracle, "DscrBreached");
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(0);
    });

    it("the coverage is over the report's period: a monthly report is compared with 30 days of debt service", async () => {
      await vault.setDebtServicePerDay(LOAN, usd(1_000));
      await configureWithTerms(LOAN, { minDscrBps: 10_000 });
      const day = (await today()) + 30;
      await time.setNextBlockTimestamp(day * DAY + REPORT_WINDOW + 3_600);
      const entries = await Promise.all(
        reporters.map((r) =>
          signReport(r, oracle, makeReport(day, 8_000, 10_000, LOAN, undefined, 30, usd(29_999))),
        ),
      );
      const { reports, signatures } = toSubmission(entries);
      await expect(oracle.submitReport(reports, signatures))
        .to.emit(oracle, "DscrBreached")
        .withArgs(LOAN, day, usd(29_999), usd(30_000), 10_000);
    });

    it("lockbox deposits short of the reported revenue beyond the tolerance set COVENANT_REVENUE_SHORTFALL; a compliant period clears it", async () => {
      // Deposits before the loan is configured with the comparison do not count.
      await vault.depositRevenue(LOAN, usd(5_000));
      await expect(configureWithTerms(LOAN, { lockboxCheck: true, shortfallToleranceBps: 500 }))
        .to.emit(oracle, "RevenueCovenantsSet")
        .withArgs(LOAN, 0, true, 500);
      const [covenants, depositsAtCheck] = await oracle.revenueCovenants(LOAN);
      expect([...covenants, depositsAtCheck]).to.deep.equal([0n, true, 500n, usd(5_000)]);
      const day = (await today()) + 1;
      await vault.depositRevenue(LOAN, usd(949));
      await expect(submitRevenue(day, [usd(1_000), usd(1_000), usd(1_000)]))
        .to.emit(oracle, "RevenueShortfall")
        .withArgs(LOAN, day, usd(1_000), usd(949), 500)
        .and.to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, REVENUE_SHORTFALL);
      expect((await oracle.revenueCovenants(LOAN)).depositsAtCheckUsd).to.equal(usd(5_949));
      await oracle.push(LOAN);
      expect(await vault.covenantFlags(LOAN)).to.equal(REVENUE_SHORTFALL);
      // Within the tolerance (950 of 1,000 with 5%): compliant.
      await vault.depositRevenue(LOAN, usd(950));
      await expect(submitRevenue(day + 1, [usd(1_000), usd(1_000), usd(1_000)]))
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, 0)
        .and.not.to.emit(oracle, "RevenueShortfall");
    });

    it("feed days carry no revenue and leave the revenue flags as they are", async () => {
      await configureWithTerms(FEED_LOAN, { minDscrBps: 10_000, lockboxCheck: true });
      await vault.setDebtServicePerDay(FEED_LOAN, usd(1_000));
      await freshFeeds();
      await expect(oracle.connect(actors.keeper).poke(FEED_LOAN))
        .to.emit(oracle, "ObservationRecorded")
        .and.not.to.emit(oracle, "RevenueRecorded")
        .and.not.to.emit(oracle, "CovenantFlagsChanged");
    });

    it("a re-configuration to terms without a covenant clears its flag (a loan configured before covenants were terms)", async () => {
      await vault.setDebtServicePerDay(LOAN, usd(1_000));
      await configureWithTerms(LOAN, { minDscrBps: 12_500, lockboxCheck: true });
      await submitRevenue((await today()) + 1, [usd(1_000), usd(1_000), usd(1_000)]);
      expect((await oracle.pendingPush(LOAN)).flags).to.equal(DSCR_BREACH | REVENUE_SHORTFALL);
      await expect(configureWithTerms(LOAN, { lockboxCheck: true }))
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, REVENUE_SHORTFALL);
      await expect(configureWithTerms(LOAN, {})).to.emit(oracle, "CovenantFlagsChanged").withArgs(LOAN, 0);
      const [covenants, depositsAtCheck] = await oracle.revenueCovenants(LOAN);
      expect([...covenants, depositsAtCheck]).to.deep.equal([0n, false, 0n, 0n]);
    });

    // -------------------------------------------------------------- covenants are loan terms

    it("configureLoan copies the covenants from the loan's terms and emits them; the oracle has no setter for them", async () => {
      await vault.setCovenantTerms(LOAN, {
        minDscrBps: 12_500,
        lockboxCheck: true,
        shortfallToleranceBps: 500,
        maxGapDays: 35,
      });
      await vault.depositRevenue(LOAN, usd(3_000));
      await expect(reconfigure(LOAN))
        .to.emit(oracle, "RevenueCovenantsSet")
        .withArgs(LOAN, 12_500, true, 500)
        .and.to.emit(oracle, "MaxGapDaysSet")
        .withArgs(LOAN, 35)
        .and.not.to.emit(oracle, "CovenantFlagsChanged");
      const [covenants, depositsAtCheck] = await oracle.revenueCovenants(LOAN);
      expect([...covenants, depositsAtCheck]).to.deep.equal([12_500n, true, 500n, usd(3_000)]);
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([0n, 35n]);
      // No function of the oracle sets a covenant: the two setters are gone from its ABI and its bytecode.
      const names = oracle.interface.fragments
        .filter((fragment) => fragment.type === "function")
        .map((fragment) => (fragment as FunctionFragment).name);
      expect(names).to.include("configureLoan");
      expect(names).not.to.include.members(["setRevenueCovenants"]);
      expect(names).not.to.include.members(["setMaxGapDays"]);
      const removed = new Interface([
        "function setRevenueCovenants(uint256,(uint16,bool,uint16))",
        "function setMaxGapDays(uint256,uint16)",
      ]);
      for (const data of [
        removed.encodeFunctionData("setRevenueCovenants", [LOAN, [0, false, 0]]),
        removed.encodeFunctionData("setMaxGapDays", [LOAN, 0]),
      ]) {
        await expect(actors.oracleAdmin.sendTransaction({ to: oracle.target, data })).to.be.reverted;
      }
      expect([...(await oracle.revenueCovenants(LOAN)).covenants]).to.deep.equal([12_500n, true, 500n]);
      expect(await arr(oracle.dataGap(LOAN))).to.deep.equal([0n, 35n]);
    });

    it("with the LoanVault: the covenants are fixed at approval, and a re-configuration copies the same values and keeps the lockbox baseline", async () => {
      const { loanVault } = ctx;
      await oracle.connect(actors.deployer).setLoanVault(loanVault);
      await stake(ctx, actors.lender1, 3_000_000);
      const covenants = {
        minDscrBps: 12_500,
        lockboxCheck: true,
        shortfallToleranceBps: 500,
        maxGapDays: 35,
      };
      const { loanId } = await openLoan(ctx, actors.borrower1, usd(200_000), 400_000, {
        overrides: covenants,
      });
      expect(loanId).to.equal(LOAN);
      await fundUsdai(ctx, actors.borrower1, 10_000);
      await loanVault.connect(actors.borrower1).depositRevenue(LOAN, usd(2_000));
      const read = async () => {
        const [terms, depositsAtCheck] = await oracle.revenueCovenants(LOAN);
        return [...terms, depositsAtCheck, ...(await arr(oracle.dataGap(LOAN)))];
      };
      await expect(reconfigure(LOAN))
        .to.emit(oracle, "RevenueCovenantsSet")
        .withArgs(LOAN, 12_500, true, 500)
        .and.to.emit(oracle, "MaxGapDaysSet")
        .withArgs(LOAN, 35);
      const configured = await read();
      expect(configured).to.deep.equal([12_500n, true, 500n, usd(2_000), 0n, 35n]);
      // More deposits, then a re-configuration: the same terms, and the comparison still counts from its start.
      await loanVault.connect(actors.borrower1).depositRevenue(LOAN, usd(1_000));
      await expect(reconfigure(LOAN))
        .to.emit(oracle, "RevenueCovenantsSet")
        .withArgs(LOAN, 12_500, true, 500)
        .and.to.emit(oracle, "MaxGapDaysSet")
        .withArgs(LOAN, 35);
      expect(await read()).to.deep.equal(configured);
      // The vault's terms are written once: no function of the LoanVault but the approval takes them.
      const takesTerms = loanVault.interface.fragments.filter(
        (fragment) =>
          fragment.type === "function" &&
          JSON.stringify((fragment as FunctionFragment).inputs.map((input) => input.format("full"))).includes(
            "minDscrBps",
          ),
      );
      expect(takesTerms.map((fragment) => (fragment as FunctionFragment).name)).to.deep.equal([
        "approveLoan",
      ]);
      expect([...(await loanVault.covenantTermsOf(LOAN))]).to.deep.equal([12_500n, true, 500n, 35n]);
    });

    it("with the LoanVault: the DSCR floor in the terms drives COVENANT_DSCR_BREACH, below the floor flagged and pushed, at the floor passing", async () => {
      const { loanVault } = ctx;
      await oracle.connect(actors.deployer).setLoanVault(loanVault);
      await stake(ctx, actors.lender1, 3_000_000);
      await openLoan(ctx, actors.borrower1, usd(200_000), 400_000, { overrides: { minDscrBps: 12_500 } });
      await reconfigure(LOAN);
      // One day of scheduled debt service (interest at the coupon plus the installment's principal, pro-rated).
      const [debtService] = await loanVault.revenueCovenantInputs(LOAN, 1);
      expect(debtService).to.be.greaterThan(0n);
      // The floor: the least revenue with revenue * BPS >= debtService * 12_500.
      const floor = (debtService * 12_500n + 9_999n) / 10_000n;
      const day = (await today()) + 1;
      await expect(submitRevenue(day, [floor - 1n, floor - 1n, floor - 1n]))
        .to.emit(oracle, "DscrBreached")
        .withArgs(LOAN, day, floor - 1n, debtService, 12_500)
        .and.to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, DSCR_BREACH);
      await expect(oracle.push(LOAN)).to.emit(loanVault, "CovenantFlagsSet").withArgs(LOAN, 0, DSCR_BREACH);
      expect(await loanVault.covenantFlags(LOAN)).to.equal(DSCR_BREACH);
      expect(await loanVault.inGoodStanding(LOAN)).to.equal(false);
      await expect(submitRevenue(day + 1, [floor, floor, floor]))
        .to.emit(oracle, "CovenantFlagsChanged")
        .withArgs(LOAN, 0)
        .and.not.to.emit(oracle, "DscrBreached");
      await oracle.push(LOAN);
      expect(await loanVault.covenantFlags(LOAN)).to.equal(0);
    });
  });

  describe("push", () => {
    async function fireStepDown(): Promise<number> {
      return recordDays(await today(), 90, 9_500);
    }

    it("applies the pending step once; the vault ignores a replayed step id", async () => {
      await fireStepDown();
      await expect(oracle.connect(actors.attacker).push(LOAN))
        .to.emit(oracle, "CouponStepPushed")
        .withArgs(LOAN, 1, -200, false)
        .and.to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 1, -200, -200, false, 0);
      expect(await vault.lastCouponStepId(LOAN)).to.equal(1);
      await expectRevertUnchanged(LOAN, () => oracle.push(LOAN), "UtilizationOracleNothingToPush", [LOAN]);
    });

    it("keeps the push pending while the loan is not performing", async () => {
      await fireStepDown();
      await vault.setPerforming(LOAN, false);
      await expectRevertUnchanged(LOAN, () => oracle.push(LOAN), "UtilizationOracleLoanNotPerforming", [
        LOAN,
      ]);
      await vault.setPerforming(LOAN, true);
      await expect(oracle.push(LOAN)).to.emit(vault, "CouponStepApplied");
    });

    it("is stopped by the pause", async () => {
      await fireStepDown();
      await oracle.connect(actors.guardian).pause();
      await expect(oracle.push(LOAN)).to.be.revertedWithCustomError(oracle, "EnforcedPause");
    });
  });

  describe("onStepIn", () => {
    it("restarts the streaks and drops the old operator's unpushed step, top-up and flags", async () => {
      // Under 60% for 30 days fires +300 with a top-up; the day's uptime under the SLA flags a breach.
      const fired = await recordDays(await today(), 30, 5_000, 9_000);
      const last = await recordDays(fired, 10, 5_000, 9_000); // the streak runs on after the rule fired
      const before = await oracle.pendingPush(LOAN);
      expect([before.stepPending, before.topUpRequired, before.flagsPending]).to.deep.equal([
        true,
        true,
        true,
      ]);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(10n);
      await vault.setPerforming(LOAN, false); // defaulted: the push waits
      await vault.stepIn(LOAN, 400);
      await vault.setPerforming(LOAN, true);
      const after = await oracle.pendingPush(LOAN);
      expect(after.stepId).to.equal(before.stepId); // step ids still only move forward
      expect([after.stepPending, after.deltaBps, after.topUpRequired]).to.deep.equal([false, 0n, false]);
      expect([after.flags, after.flagsPending]).to.deep.equal([0n, false]);
      expect((await oracle.streakOf(LOAN, 1)).streakDays).to.equal(0n);
      await expectRevertUnchanged(LOAN, () => oracle.push(LOAN), "UtilizationOracleNothingToPush", [LOAN]);
      // The latest observation stays: its day cannot be recorded again.
      expect((await oracle.latestUtilization(LOAN))[2]).to.equal(BigInt(last));
      // The new operator's own readings count from zero.
      await recordDays(last, 29, 5_000);
      expect((await oracle.pendingPush(LOAN)).stepPending).to.equal(false);
      await recordDays(last + 29, 1, 5_000);
      await expect(oracle.push(LOAN)).to.emit(vault, "CouponStepApplied");
      expect(await vault.premiumOf(LOAN)).to.equal(700n);
    });

    it("emits LoanRestarted with the dropped step (zero when nothing was pending), and works while paused", async () => {
      await recordDays(await today(), 30, 5_000);
      await oracle.connect(actors.guardian).pause();
      await expect(vault.stepIn(LOAN, 400)).to.emit(oracle, "LoanRestarted").withArgs(LOAN, 300);
      await expect(vault.stepIn(LOAN, 400)).to.emit(oracle, "LoanRestarted").withArgs(LOAN, 0);
    });

    it("reverts for any caller but the LoanVault, state unchanged", async () => {
      await recordDays(await today(), 30, 5_000);
      await expectRevertUnchanged(
        LOAN,
        () => oracle.connect(actors.oracleAdmin).onStepIn(LOAN),
        "UtilizationOracleNotLoanVault",
        [actors.oracleAdmin.address],
      );
    });
  });

  // ---------------------------------------------------------------- automation

  describe("checkUpkeep / performUpkeep", () => {
    const page = (start: number, size: number) =>
      AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [start, size]);
    const ids = (data: string) => AbiCoder.defaultAbiCoder().decode(["uint256[]"], data)[0] as bigint[];

    async function breachBoth(): Promise<void> {
      const day = await today();
      await submit(day, [
        [8_000, 9_000],
        [8_000, 9_000],
        [8_000, 9_000],
      ]);
      await ctx.admin.configureLoan(
        FEED_LOAN,
        [{ kind: Kind.Reporter, account: actors.reporter1.address }],
        1,
        MAX_STALENESS,
      );
      await submit(day, [[8_000, 9_000]], reporters, FEED_LOAN);
    }

    it("round trip: finds the pending loans, pushes them, then finds none; stale performData is harmless", async () => {
      expect(await arr(oracle.checkUpkeep(page(0, 10)))).to.deep.equal([false, "0x"]);
      await breachBoth();
      const [needed, performData] = await oracle.checkUpkeep(page(0, 10));
      expect(needed).to.equal(true);
      expect(ids(performData)).to.deep.equal([LOAN, FEED_LOAN]);

      await expect(oracle.connect(actors.keeper).performUpkeep(performData))
        .to.emit(oracle, "CovenantFlagsPushed")
        .withArgs(LOAN, SLA_BREACH)
        .and.to.emit(vault, "CovenantFlagsSet")
        .withArgs(FEED_LOAN, 0, SLA_BREACH);
      expect(await arr(oracle.checkUpkeep(page(0, 10)))).to.deep.equal([false, "0x"]);

      const calls = await vault.flagCalls();
      await expect(oracle.connect(actors.attacker).performUpkeep(performData)).not.to.emit(
        oracle,
        "CovenantFlagsPushed",
      );
      expect(await vault.flagCalls()).to.equal(calls);
    });

    it("pages over the configured loans and skips loans that are not performing", async () => {
      await breachBoth();
      expect(ids((await oracle.checkUpkeep(page(1, 1)))[1])).to.deep.equal([FEED_LOAN]);
      expect(ids((await oracle.checkUpkeep(page(0, 1)))[1])).to.deep.equal([LOAN]);
      expect(ids((await oracle.checkUpkeep("0x"))[1])).to.deep.equal([LOAN, FEED_LOAN]);
      expect(await arr(oracle.checkUpkeep(page(2, 10)))).to.deep.equal([false, "0x"]);
      await vault.setPerforming(LOAN, false);
      expect(ids((await oracle.checkUpkeep(page(0, 10)))[1])).to.deep.equal([FEED_LOAN]);

      // A not-performing loan listed anyway is skipped, not reverted on.
      await oracle.performUpkeep(AbiCoder.defaultAbiCoder().encode(["uint256[]"], [[LOAN, FEED_LOAN]]));
      expect((await oracle.pendingPush(LOAN)).flagsPending).to.equal(true);
      expect((await oracle.pendingPush(FEED_LOAN)).flagsPending).to.equal(false);
    });

    it("finds a loan whose report day has closed, and performUpkeep records it", async () => {
      const day = await today();
      await submit(day, [
        [8_000, 9_900],
        [8_200, 9_900],
      ]);
      expect(await arr(oracle.checkUpkeep(page(0, 10)))).to.deep.equal([false, "0x"]);
      await time.increaseTo((day + 1) * DAY + REPORT_WINDOW);
      const [needed, performData] = await oracle.checkUpkeep(page(0, 10));
      expect([needed, ids(performData)]).to.deep.equal([true, [LOAN]]);
      await expect(oracle.connect(actors.attacker).performUpkeep(performData))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(LOAN, day, 1, 8_100, 9_900, 2);
      expect(await arr(oracle.checkUpkeep(page(0, 10)))).to.deep.equal([false, "0x"]);
    });

    it("finds and pushes a loan with a pending coupon step", async () => {
      await ctx.admin.setRules([
        {
          comparator: Comparator.GTE,
          thresholdBps: 0,
          windowDays: 1,
          premiumDeltaBps: 10,
          topUpRequired: false,
        },
      ]);
      await recordDays(await today(), 1, 9_000);
      const [needed, performData] = await oracle.checkUpkeep(page(0, 10));
      expect([needed, ids(performData)]).to.deep.equal([true, [LOAN]]);
      await expect(oracle.performUpkeep(performData))
        .to.emit(vault, "CouponStepApplied")
        .withArgs(LOAN, 1, 10, 10, false, 0);
    });

    it("needs nothing while paused; performUpkeep is stopped by the pause", async () => {
      await breachBoth();
      await oracle.connect(actors.guardian).pause();
      expect(await arr(oracle.checkUpkeep(page(0, 10)))).to.deep.equal([false, "0x"]);
      await expect(oracle.performUpkeep("0x")).to.be.revertedWithCustomError(oracle, "EnforcedPause");
    });
  });

  // ---------------------------------------------------------------- without a LoanVault

  describe("without a LoanVault", () => {
    it("records observations but neither evaluates the SLA nor pushes", async () => {
      const factory = await linkedFactory("UtilizationOracle");
      const proxy = await upgrades.deployProxy(
        factory,
        [actors.deployer.address, ZeroAddress, DEFAULT_RULES],
        {
          kind: "uups",
        },
      );
      const bare = proxy as unknown as UtilizationOracle;
      await bare.connect(actors.deployer).grantRole(Roles.ORACLE_ADMIN, actors.oracleAdmin);
      for (const r of reporters) await bare.connect(actors.deployer).grantRole(Roles.REPORTER, r);
      const sources = reporters.slice(0, 2).map((r) => ({ kind: Kind.Reporter, account: r.address }));
      // Without a LoanVault there are no terms to copy: the covenants stay as they are (off).
      await expect(bare.connect(actors.oracleAdmin).configureLoan(LOAN, sources, 2, DAY))
        .to.emit(bare, "LoanConfigured")
        .and.not.to.emit(bare, "RevenueCovenantsSet")
        .and.not.to.emit(bare, "MaxGapDaysSet");
      expect(await arr(bare.dataGap(LOAN))).to.deep.equal([0n, 0n]);
      const day = await today();
      const { reports, signatures } = toSubmission(
        await Promise.all(reporters.slice(0, 2).map((r) => signReport(r, bare, makeReport(day, 5_000, 0)))),
      );
      await expect(bare.submitReport(reports, signatures)).not.to.emit(bare, "CovenantFlagsChanged");
      expect((await bare.pendingPush(LOAN)).flags).to.equal(0);
      expect(await arr(bare.checkUpkeep("0x"))).to.deep.equal([false, "0x"]);
      await expect(bare.push(LOAN)).to.be.revertedWithCustomError(bare, "UtilizationOracleNoLoanVault");
      await expect(bare.performUpkeep("0x")).to.be.revertedWithCustomError(
        bare,
        "UtilizationOracleNoLoanVault",
      );
    });
  });

  // ---------------------------------------------------------------- views

  describe("views", () => {
    it("latestRoundData reverts before the first observation; latestUtilization reads zero", async () => {
      await expect(oracle.latestRoundData(LOAN))
        .to.be.revertedWithCustomError(oracle, "UtilizationOracleNoObservation")
        .withArgs(LOAN);
      expect(await arr(oracle.latestUtilization(LOAN))).to.deep.equal([0n, 0n, 0n, 0n]);
    });

    it("hashReport is the EIP-712 digest the reporters sign", async () => {
      const report = makeReport(await today(), 8_000, 9_900);
      const domain = await reportDomain(oracle, actors.reporter1);
      expect(await oracle.hashReport(report)).to.equal(TypedDataEncoder.hash(domain, REPORT_TYPES, report));
    });

    it("streakOf reads zero under an older rules epoch", async () => {
      await recordDays(await today(), 1, 9_500);
      expect((await oracle.streakOf(LOAN, 0)).streakDays).to.equal(1);
      await ctx.admin.setRules(DEFAULT_RULES);
      expect(await arr(oracle.streakOf(LOAN, 0))).to.deep.equal([0n, 0n]);
    });
  });
});

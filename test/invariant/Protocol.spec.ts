import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { takeSnapshot, time, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";
import {
  encodeBytes32String,
  id,
  MaxUint256,
  ZeroAddress,
  type BaseContract,
  type TransactionReceipt,
  type TransactionResponse,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { env } from "../../config/env";
import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { FUZZ_SEED, fuzzParams } from "../helpers/fuzz";
import { expectAggregates, expectLoanState } from "../helpers/loan-check";
import { aggregateOf, LoanModel, ModelRevert, modelTerms } from "../helpers/loan-model";
import { DAY, loanTerms, siteKey } from "../../helpers/loans";
import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { signReport, toSubmission, type Report, type SignedReport } from "../../helpers/reports";
import { Roles } from "../../helpers/roles";
import { usd, usdc } from "../../helpers/units";
import type { MockAggregator, ReentrantBorrower } from "../../typechain-types";
import {
  AuctionStatus,
  auctionPrice,
  BPS,
  ceilDiv,
  collateralOf,
  curveFor,
  Expected,
  exposure,
  fail,
  Ledger,
  medianDown,
  OracleLoan,
  PLEDGED,
  settle,
  ShareModel,
  Status,
  UPTIME_UNKNOWN,
  type AuctionRecord,
  type ErrorSource,
  type FeedState,
  type LoanRecord,
  type ReceiptRecord,
  type Rule,
} from "./protocol-model";

/**
 * Protocol-wide stateful invariants: a seeded fast-check model-based suite (`fc.commands` + `fc.asyncModelRun`) over
 * the protocol as the deploy scripts build it. Four lenders, three borrowers with attested receipts at two sites, a
 * liquidator, a keeper, three reporters and two utilization feeds, and an attacker contract (`ReentrantBorrower`,
 * driven by the `attacker` account) act through every external user entry point. Each command predicts its outcome
 * from the bigint model in ./protocol-model.ts: success, or the exact custom error (and arguments) it must revert
 * with. After every command the chain is compared with the model and the invariants below are asserted.
 *
 * Run size: FUZZ_RUNS sequences (default 200) of up to FUZZ_DEPTH commands (default 50), seed FUZZ_SEED.
 * `npm run fuzz:long` runs 2,000 x 100.
 */

const RUNS = env.fuzzRuns !== undefined ? Number(env.fuzzRuns) : 200;
const DEPTH = env.fuzzDepth !== undefined ? Number(env.fuzzDepth) : 50;

/** The run's clock starts at a fixed day boundary (+1 h), so a seed replays the same days in any process. */
const GENESIS = 4_000_000_000n - (4_000_000_000n % 86_400n) + 3_600n;
const SITES = ["DAL-1", "NYC-1"];
/** Receipts per borrower and site, each appraised at RECEIPT_USD. */
const RECEIPTS_PER_SITE = [
  [3, 2],
  [2, 2],
  [2, 3],
];
const RECEIPT_USD = 400_000;
const CONFIGURED_LOANS = 8;
const ORACLE_STALENESS = 2n * 86_400n;
const PRINCIPALS_USD = [100_000, 250_000, 450_000, 800_000, 3_000_000];
/** Short schedules so default, cure and liquidation paths are reachable within a sequence. */
const TEMPLATES = [
  {
    paymentIntervalSeconds: 7 * DAY,
    numPayments: 6,
    amortizationBps: 1_000,
    gracePeriodSeconds: DAY,
    defaultWindowSeconds: 2 * DAY,
    curePeriodSeconds: 2 * DAY,
    latePenaltyBps: 500,
  },
  {
    paymentIntervalSeconds: 7 * DAY,
    numPayments: 2,
    amortizationBps: 0,
    gracePeriodSeconds: 2 * DAY,
    defaultWindowSeconds: 3 * DAY,
    curePeriodSeconds: 3 * DAY,
    latePenaltyBps: 0,
    debtServiceReserveBps: 0,
  },
  {
    paymentIntervalSeconds: 3 * DAY,
    numPayments: 10,
    amortizationBps: 500,
    gracePeriodSeconds: DAY,
    defaultWindowSeconds: DAY,
    curePeriodSeconds: DAY,
    latePenaltyBps: 2_500,
    maxLtvBps: 5_000,
    maintenanceLtvBps: 6_000,
  },
];
/** Coupon rules with short windows so streaks fire within a sequence. */
const RULES: Rule[] = [
  { gte: true, thresholdBps: 9_000n, windowDays: 2n, premiumDeltaBps: -200n, topUpRequired: false },
  { gte: false, thresholdBps: 6_000n, windowDays: 3n, premiumDeltaBps: 300n, topUpRequired: true },
];

// ==================================================================================================== setup

interface Setup {
  fx: ProtocolFixture;
  lenders: HardhatEthersSigner[];
  borrowers: HardhatEthersSigner[];
  attacker: ReentrantBorrower;
  attackerAddress: string;
  feeds: MockAggregator[];
  feedInit: FeedState[];
  addr: Record<ErrorSource | "custodian", string>;
  contracts: Record<ErrorSource, BaseContract>;
  receipts: ReceiptRecord[];
  tracked: string[];
  usdaiInit: Record<string, bigint>;
  usdaiSupply: bigint;
  reserveInit: Record<string, bigint>;
  sharesInit: Record<string, bigint>;
  shareSupply: bigint;
  idle: bigint;
  params: { cooldown: bigint; minRedeem: bigint; maxActive: bigint; vesting: bigint };
  haircutBps: bigint;
  borrowerCapBps: bigint;
  siteCapBps: bigint;
  auctionParams: { premium: bigint; floor: bigint; duration: bigint };
  supplyCap: bigint;
  fingerprint: string;
  snapshot: SnapshotRestorer;
}

async function buildSetup(): Promise<Setup> {
  const fx = await deployProtocol();
  const { actors, reserve, usdai, susdai, receipts, oracle, loanVault, auction } = fx;
  if (BigInt(await time.latest()) < GENESIS) await time.increaseTo(GENESIS);
  const signers = await hre.ethers.getSigners();
  const lenders = [actors.lender1, actors.lender2, actors.lender3, signers[27]];
  const borrowers = [actors.borrower1, actors.borrower2, actors.borrower3];
  const addr = {
    usdai: await usdai.getAddress(),
    susdai: await susdai.getAddress(),
    receipts: await receipts.getAddress(),
    loanVault: await loanVault.getAddress(),
    auction: await auction.getAddress(),
    oracle: await oracle.getAddress(),
    reserve: await reserve.getAddress(),
    custodian: await auction.recoveryCustodian(),
  };

  // Money: every actor mints USDai through the reserve and approves every spender once.
  const fund = async (who: HardhatEthersSigner, reserveUsd: number, usdaiUsd: number) => {
    await reserve.mint(who.address, usdc(reserveUsd + usdaiUsd));
    await reserve.connect(who).approve(addr.usdai, MaxUint256);
    await usdai.connect(who).deposit(usdc(usdaiUsd), 0n, who.address);
    for (const spender of [addr.susdai, addr.loanVault, addr.auction])
      await usdai.connect(who).approve(spender, MaxUint256);
  };
  for (const l of lenders) {
    await fund(l, 30_000_000, 8_000_000);
    await susdai.connect(l)["deposit(uint256,address)"](usd(2_500_000), l.address);
  }
  for (const b of borrowers) await fund(b, 0, 20_000_000);
  await fund(actors.liquidator, 0, 40_000_000);
  // A two-day cooldown, so queued redemptions are serviced within a sequence.
  await susdai.connect(actors.deployer).setRedemptionParams(2n * 86_400n, usd(10), 10);
  // Part of the reserves earns T-bill yield, so `harvest` has something to vest.
  await usdai.connect(actors.reserveManager).allocate(usdc(10_000_000));

  // Receipts: attested and appraised, each borrower at both sites.
  const issuers = receiptIssuers(actors);
  const records: ReceiptRecord[] = [];
  const deadline = Number(await time.latest()) + DAY;
  for (const [b, counts] of RECEIPTS_PER_SITE.entries()) {
    for (const [s, count] of counts.entries()) {
      for (let i = 0; i < count; i++) {
        const tag = `protocol-invariant-${b}-${s}-${i}`;
        const rid = await mintAppraisedReceipt(
          receipts,
          issuers,
          borrowers[b].address,
          SITES[s],
          RECEIPT_USD,
          tag,
          deadline,
        );
        const r = await receipts.assetOf(rid);
        records.push({
          id: rid,
          owner: borrowers[b].address,
          site: siteKey(SITES[s]),
          value: usd(RECEIPT_USD),
          appraisedAt: BigInt(r.appraisal.appraisedAt),
          markdownBpsPerQuarter: 0n,
          floorBps: 10_000n,
          serials: Array.from({ length: 8 }, (_, gpu) => id(`serial/${tag}/${gpu}`)),
        });
      }
    }
    await receipts.connect(borrowers[b]).setApprovalForAll(addr.loanVault, true);
  }

  // (3) The serial registry: every serial of every receipt backs that receipt and no other.
  const serials = records.flatMap((r) => r.serials);
  expect(new Set(serials).size, "serials are distinct").to.equal(serials.length);
  for (const r of records)
    for (const serial of r.serials) expect(await receipts.receiptOfSerial(serial)).to.equal(r.id);

  // Oracle: short rules, two feeds (8 and 18 decimals) and three reporters per loan, quorum 2.
  await oracle.connect(actors.oracleAdmin).setRules(
    RULES.map((r) => ({
      comparator: r.gte ? 0 : 1,
      thresholdBps: r.thresholdBps,
      windowDays: r.windowDays,
      premiumDeltaBps: r.premiumDeltaBps,
      topUpRequired: r.topUpRequired,
    })),
  );
  const feeds: MockAggregator[] = [];
  for (const decimals of [8, 18])
    feeds.push((await hre.ethers.deployContract("MockAggregator", [decimals])) as unknown as MockAggregator);
  const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
  const sources = [
    ...reporters.map((r) => ({ kind: 1, account: r.address })),
    ...(await Promise.all(feeds.map(async (f) => ({ kind: 0, account: await f.getAddress() })))),
  ];
  for (let loanId = 1; loanId <= CONFIGURED_LOANS; loanId++)
    await oracle.connect(actors.oracleAdmin).configureLoan(loanId, sources, 2, ORACLE_STALENESS);

  const attacker = (await hre.ethers.deployContract(
    "ReentrantBorrower",
    [],
    actors.attacker,
  )) as unknown as ReentrantBorrower;
  const attackerAddress = await attacker.getAddress();

  const tracked = [
    ...lenders.map((l) => l.address),
    ...borrowers.map((b) => b.address),
    actors.liquidator.address,
    attackerAddress,
    addr.susdai,
    addr.loanVault,
  ];
  const read = async (f: (a: string) => Promise<bigint>, who: string[]) =>
    Object.fromEntries(await Promise.all(who.map(async (a) => [a, await f(a)] as const)));
  const [cooldown, minRedeem, maxActive, vesting] = await susdai.params();
  const risk = await loanVault.riskParams();
  const ap = await auction.auctionParams();
  expect(await susdai.unvestedGains(), "no gain vests at genesis").to.equal(0n);
  const setup: Setup = {
    fx,
    lenders,
    borrowers,
    attacker,
    attackerAddress,
    feeds,
    feedInit: await Promise.all(
      feeds.map(async (f) => ({
        address: await f.getAddress(),
        decimals: BigInt(await f.decimals()),
        roundId: 0n,
        answer: 0n,
        updatedAt: 0n,
      })),
    ),
    addr,
    contracts: { usdai, susdai, receipts, loanVault, auction, oracle, reserve },
    receipts: records,
    tracked,
    usdaiInit: await read((a) => usdai.balanceOf(a), tracked),
    usdaiSupply: await usdai.totalSupply(),
    reserveInit: await read(
      (a) => reserve.balanceOf(a),
      lenders.map((l) => l.address),
    ),
    sharesInit: await read((a) => susdai.balanceOf(a), [...lenders.map((l) => l.address), addr.susdai]),
    shareSupply: await susdai.totalSupply(),
    idle: await susdai.idleAssets(),
    params: { cooldown, minRedeem, maxActive, vesting },
    haircutBps: BigInt(risk.recoveryHaircutBps),
    borrowerCapBps: BigInt(risk.borrowerCapBps),
    siteCapBps: BigInt(risk.siteCapBps),
    auctionParams: {
      premium: BigInt(ap.startPremiumBps),
      floor: BigInt(ap.floorBps),
      duration: BigInt(ap.durationSeconds),
    },
    supplyCap: await usdai.supplyCap(),
    fingerprint: "",
    snapshot: undefined as unknown as SnapshotRestorer,
  };
  setup.fingerprint = await paramsFingerprint(setup);
  setup.snapshot = await takeSnapshot();
  return setup;
}

/** Every governance parameter an attacker must not move, as one string. */
async function paramsFingerprint(s: Setup): Promise<string> {
  const { fx } = s;
  const values = await Promise.all([
    fx.loanVault.riskParams(),
    fx.susdai.params(),
    fx.auction.auctionParams(),
    fx.oracle.rulesEpoch(),
    fx.usdai.supplyCap(),
    fx.receipts.attestationThreshold(),
    fx.loanVault.auction(),
    fx.susdai.loanVault(),
    fx.oracle.loanVault(),
  ]);
  return JSON.stringify(values, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

// ==================================================================================================== the world

/** The model of one run, rebuilt from the setup's genesis reads (no chain reads) before each sequence. */
class World {
  usdai: Ledger;
  reserve: Ledger;
  staked: ShareModel;
  /** USDai held by sUSDai outside idle and claimable: donations and gains credited below the minimum supply. */
  untracked = 0n;
  receipts = new Map<bigint, ReceiptRecord>();
  loans: LoanRecord[] = [];
  auctions: AuctionRecord[] = [];
  oracle = new Map<bigint, OracleLoan>();
  feeds: FeedState[];
  /** Ghost totals (invariant 2). */
  ghost = { inflow: 0n, funded: 0n, principalBack: 0n };
  now = GENESIS;
  lastPrice: [bigint, bigint] = [0n, 0n];
  touched = new Set<bigint>();

  constructor(readonly s: Setup) {
    this.usdai = new Ledger("usdai", s.usdaiInit, s.usdaiSupply);
    this.reserve = new Ledger("reserve", s.reserveInit);
    this.staked = new ShareModel(
      s.idle,
      s.params.vesting,
      s.addr.susdai,
      s.params.cooldown,
      s.params.minRedeem,
      s.params.maxActive,
      new Ledger("susdai", s.sharesInit, s.shareSupply),
    );
    this.ghost.inflow = s.idle;
    for (const r of s.receipts) this.receipts.set(r.id, { ...r });
    this.feeds = s.feedInit.map((f) => ({ ...f }));
    const reporters = [s.fx.actors.reporter1, s.fx.actors.reporter2, s.fx.actors.reporter3].map(
      (r) => r.address,
    );
    for (let i = 1n; i <= BigInt(CONFIGURED_LOANS); i++)
      this.oracle.set(
        i,
        new OracleLoan(
          i,
          2n,
          ORACLE_STALENESS,
          reporters,
          this.feeds.map((f) => f.address),
          RULES.length,
        ),
      );
  }

  loanAssets(now: bigint): bigint {
    return aggregateOf(
      this.loans.map((l) => l.m),
      now,
    ).loanAssets;
  }

  nav(now: bigint): bigint {
    return this.staked.totalAssets(now, this.loanAssets(now));
  }

  collateral(ids: bigint[], now: bigint): bigint {
    return ids.reduce((sum, rid) => sum + collateralOf(this.receipts.get(rid)!, now), 0n);
  }

  loan(idx: number): LoanRecord | undefined {
    return this.loans.length === 0 ? undefined : this.loans[idx % this.loans.length];
  }

  /** The id a command aims at: an existing loan, or the next (unapproved, status None) one. */
  loanId(idx: number): bigint {
    return this.loan(idx)?.m.id ?? BigInt(this.loans.length + 1);
  }

  freeReceipts(owner: string, site?: string): ReceiptRecord[] {
    return [...this.receipts.values()].filter(
      (r) => r.owner === owner && (site === undefined || r.site === site),
    );
  }

  payStaked(
    now: bigint,
    a: { interest: bigint; scheduledPrincipal: bigint; prepayment: bigint; lateFees: bigint },
  ) {
    const total = a.interest + a.scheduledPrincipal + a.prepayment + a.lateFees;
    if (total === 0n) return;
    this.usdai.move(this.s.addr.loanVault, this.s.addr.susdai, total);
    this.ghost.inflow += total;
    this.ghost.principalBack += a.scheduledPrincipal + a.prepayment;
    if (a.lateFees !== 0n && this.staked.supply < 10n ** 18n) this.untracked += a.lateFees;
    this.staked.receive(now, a);
  }
}

// ==================================================================================================== execution

type Apply = (receipt: TransactionReceipt) => void | Promise<void>;

const stats = new Map<string, { ok: number; reverts: Map<string, number> }>();
let calls = 0;
let sequences = 0;

function count(command: string, outcome: string | null) {
  let s = stats.get(command);
  if (!s) {
    s = { ok: 0, reverts: new Map() };
    stats.set(command, s);
  }
  if (outcome === null) s.ok++;
  else s.reverts.set(outcome, (s.reverts.get(outcome) ?? 0) + 1);
}

/** Converts a `LoanModel` revert into the LoanVault custom error the chain must raise. */
function lv<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelRevert) throw new Expected("loanVault", e.errorName, e.args);
    throw e;
  }
}

/**
 * Runs one transaction at the pinned timestamp `t`: `predict` (pure, on the model) either throws the `Expected`
 * revert, which the chain must produce exactly, or returns the model update to apply once the transaction succeeded.
 * A revert the model did not predict fails the run.
 */
async function act(
  w: World,
  command: string,
  t: bigint,
  predict: () => Apply,
  send: () => Promise<TransactionResponse>,
): Promise<TransactionReceipt | undefined> {
  calls++;
  let apply: Apply;
  try {
    apply = predict();
  } catch (e) {
    if (!(e instanceof Expected)) throw e;
    await time.setNextBlockTimestamp(t);
    await expect(send(), `${command}: expected ${e.message}`)
      .to.be.revertedWithCustomError(w.s.contracts[e.at], e.error)
      .withArgs(...e.args);
    count(command, e.error);
    // Hardhat mines a reverted transaction in its own block.
    w.now = BigInt(await time.latest());
    return undefined;
  }
  await time.setNextBlockTimestamp(t);
  const receipt = (await (await send()).wait())!;
  w.now = t;
  await apply(receipt);
  count(command, null);
  return receipt;
}

/** Sends a transaction outside the protocol (mock feeds) at `t`. */
async function environment(w: World, t: bigint, send: () => Promise<TransactionResponse>) {
  await time.setNextBlockTimestamp(t);
  await (await send()).wait();
  w.now = t;
}

function eventArgs(w: World, receipt: TransactionReceipt, at: ErrorSource, name: string) {
  const contract = w.s.contracts[at];
  return receipt.logs
    .filter((log) => log.address === w.s.addr[at])
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args);
}

const unauthorized = (at: ErrorSource, who: string, role: string) =>
  fail(at, "AccessControlUnauthorizedAccount", who, role);

// ==================================================================================================== commands

type Params = Record<string, number | string | boolean | number[]>;

class Op implements fc.AsyncCommand<World, World> {
  constructor(
    readonly name: string,
    readonly p: Params,
    readonly body: (w: World, p: Params, t: bigint) => Promise<void>,
  ) {}

  check(): boolean {
    return true;
  }

  async run(w: World): Promise<void> {
    w.now = BigInt(await time.latest());
    w.touched.clear();
    await this.body(w, this.p, w.now + 1n);
    await checkInvariants(w, this);
  }

  toString(): string {
    return `${this.name}${JSON.stringify(this.p)}`;
  }
}

const lenderOf = (w: World, i: number) => w.s.lenders[i % w.s.lenders.length];
const bps = (x: bigint, b: number) => (x * BigInt(b)) / 10_000n;

// ---------------------------------------------------------------------------------------------------- USDai

async function usdaiMint(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const amount = variant === "zero" ? 0n : variant === "cap" ? usdc(2_000_000_000) : usdc(p.usd as number);
  const minted = amount * 10n ** 12n;
  const minOut = variant === "slippage" ? minted + 1n : minted;
  await act(
    w,
    "usdai.deposit",
    t,
    () => {
      if (amount === 0n) fail("usdai", "USDaiZeroAmount");
      if (minted < minOut) fail("usdai", "USDaiSlippage", minted, minOut);
      const supply = w.usdai.supply + minted;
      if (supply > w.s.supplyCap) fail("usdai", "USDaiSupplyCapExceeded", supply, w.s.supplyCap);
      w.reserve.require(lender.address, amount);
      return () => {
        w.usdai.mint(lender.address, minted);
        w.reserve.burn(lender.address, amount);
      };
    },
    () => w.s.fx.usdai.connect(lender).deposit(amount, minOut, lender.address),
  );
}

async function usdaiRedeem(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const balance = w.usdai.of(lender.address);
  const variant = p.variant as string;
  const scale = 10n ** 12n;
  const amount =
    variant === "zero"
      ? 0n
      : variant === "dust"
        ? scale / 2n
        : variant === "over"
          ? balance + scale
          : bps(balance, p.bps as number);
  const out = amount / scale;
  const minOut = variant === "slippage" ? out + 1n : out;
  await act(
    w,
    "usdai.redeem",
    t,
    () => {
      if (amount === 0n) fail("usdai", "USDaiZeroAmount");
      if (out === 0n) fail("usdai", "USDaiBelowReserveUnit", amount, scale);
      if (out < minOut) fail("usdai", "USDaiSlippage", out, minOut);
      w.usdai.require(lender.address, out * scale);
      return () => {
        w.usdai.burn(lender.address, out * scale);
        w.reserve.mint(lender.address, out);
      };
    },
    () => w.s.fx.usdai.connect(lender).redeem(amount, minOut, lender.address),
  );
}

async function harvest(w: World, _p: Params, t: bigint) {
  const { usdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  // Preview at the transaction's own timestamp (the pending block): what the harvest must mint.
  const preview = await usdai.harvest.staticCall({ blockTag: "pending" });
  await act(
    w,
    "usdai.harvest",
    t,
    () => (receipt) => {
      const minted = eventArgs(w, receipt, "usdai", "YieldHarvested").reduce(
        (s, a) => s + (a.amount as bigint),
        0n,
      );
      expect(minted, "harvest mints its preview").to.equal(preview);
      if (minted === 0n) return;
      w.usdai.mint(w.s.addr.susdai, minted);
      w.ghost.inflow += minted;
      if (!w.staked.gain(t, minted)) w.untracked += minted;
    },
    () => usdai.harvest(),
  );
}

async function donate(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const amount = usd(p.usd as number);
  await act(
    w,
    "donate",
    t,
    () => {
      w.usdai.require(lender.address, amount);
      return () => {
        w.usdai.move(lender.address, w.s.addr.susdai, amount);
        w.untracked += amount;
      };
    },
    () => w.s.fx.usdai.connect(lender).transfer(w.s.addr.susdai, amount),
  );
}

// ---------------------------------------------------------------------------------------------------- sUSDai

async function deposit(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const assets =
    variant === "zero" ? 0n : variant === "over" ? w.usdai.of(lender.address) + 1n : usd(p.usd as number);
  const ta = w.nav(t);
  const shares = w.staked.previewDeposit(ta, assets);
  const minShares = variant === "slippage" ? shares + 1n : shares;
  const { susdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  expect(
    await susdai.previewDeposit(assets, { blockTag: "pending" }),
    "previewDeposit at the deposit's block",
  ).to.equal(shares);
  await act(
    w,
    "susdai.deposit",
    t,
    () => {
      if (assets === 0n || shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      w.usdai.require(lender.address, assets);
      if (shares < minShares) fail("susdai", "StakedUSDaiSlippageShares", shares, minShares);
      return (receipt) => {
        const [event] = eventArgs(w, receipt, "susdai", "Deposit");
        expect(event.shares, "minted shares equal the preview").to.equal(shares);
        w.staked.idle += assets;
        w.staked.shares.mint(lender.address, shares);
        w.usdai.move(lender.address, w.s.addr.susdai, assets);
        w.ghost.inflow += assets;
        // (5) no free money: the new shares are worth at most what was paid, at once.
        const worth = (shares * (w.nav(t) + 1n)) / (w.staked.supply + 1n);
        expect(worth, "deposit-then-redeem value").to.be.lessThanOrEqual(assets);
      };
    },
    () =>
      p.threeArg || variant === "slippage"
        ? susdai.connect(lender)["deposit(uint256,address,uint256)"](assets, lender.address, minShares)
        : susdai.connect(lender)["deposit(uint256,address)"](assets, lender.address),
  );
}

async function mint(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const shares = variant === "zero" ? 0n : usd(p.usd as number);
  const ta = w.nav(t);
  const assets = w.staked.previewMint(ta, shares);
  const maxAssets = variant === "slippage" ? assets - 1n : assets;
  const { susdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  expect(
    await susdai.previewMint(shares, { blockTag: "pending" }),
    "previewMint at the mint's block",
  ).to.equal(assets);
  await act(
    w,
    "susdai.mint",
    t,
    () => {
      if (assets === 0n || shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      w.usdai.require(lender.address, assets);
      if (assets > maxAssets) fail("susdai", "StakedUSDaiSlippageAssets", assets, maxAssets);
      return () => {
        w.staked.idle += assets;
        w.staked.shares.mint(lender.address, shares);
        w.usdai.move(lender.address, w.s.addr.susdai, assets);
        w.ghost.inflow += assets;
        const worth = (shares * (w.nav(t) + 1n)) / (w.staked.supply + 1n);
        expect(worth, "mint-then-redeem value").to.be.lessThanOrEqual(assets);
      };
    },
    () => susdai.connect(lender)["mint(uint256,address,uint256)"](shares, lender.address, maxAssets),
  );
}

async function requestRedeem(w: World, p: Params, t: bigint) {
  const owner = lenderOf(w, p.owner as number);
  const controller = lenderOf(w, p.controller as number).address;
  const balance = w.staked.shares.of(owner.address);
  const variant = p.variant as string;
  const m = w.staked;
  const shares =
    variant === "zero"
      ? 0n
      : variant === "tooSmall"
        ? m.minRedeemShares - 1n
        : variant === "over"
          ? balance + 1n
          : bps(balance, p.bps as number);
  await act(
    w,
    "susdai.requestRedeem",
    t,
    () => {
      if (shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      if (shares < m.minRedeemShares) fail("susdai", "StakedUSDaiRequestTooSmall", shares, m.minRedeemShares);
      const c = m.controller(controller);
      if (c.active >= m.maxActiveRequests) fail("susdai", "StakedUSDaiTooManyRequests", controller, c.active);
      m.shares.require(owner.address, shares);
      return () => {
        c.pending += shares;
        c.active += 1n;
        m.queue.push({ controller, claimableAt: t + m.cooldown, shares });
        m.totalPending += shares;
        m.shares.move(owner.address, m.self, shares);
      };
    },
    () => w.s.fx.susdai.connect(owner).requestRedeem(shares, controller, owner.address),
  );
}

async function service(w: World, p: Params, t: bigint) {
  const max = BigInt(p.max as number);
  const headBefore = w.staked.head;
  await act(
    w,
    "susdai.serviceRedemptions",
    t,
    () => (receipt) => {
      const ta = w.nav(t);
      const { touched, shares, assets } = w.staked.service(t, ta, max);
      const events = eventArgs(w, receipt, "susdai", "RedeemRequestServiced");
      // (12) queue work per call is bounded by its argument.
      expect(events.length, "entries serviced").to.equal(touched);
      expect(BigInt(events.length), "serviced <= maxRequests").to.be.lessThanOrEqual(max);
      expect(BigInt(w.staked.head - headBefore), "head advance <= maxRequests").to.be.lessThanOrEqual(max);
      expect(
        events.reduce((s, e) => s + (e.shares as bigint), 0n),
        "shares serviced",
      ).to.equal(shares);
      expect(
        events.reduce((s, e) => s + (e.assets as bigint), 0n),
        "assets serviced",
      ).to.equal(assets);
    },
    () => w.s.fx.susdai.connect(w.s.fx.actors.keeper).serviceRedemptions(max),
  );
}

async function claim(w: World, p: Params, t: bigint) {
  const owed = w.s.lenders.findIndex((l) => w.staked.controller(l.address).claimableShares !== 0n);
  const controller = lenderOf(w, p.aim && owed >= 0 ? owed : (p.controller as number));
  const c = w.staked.controller(controller.address);
  const redeem = p.kind === "redeem";
  const have = redeem ? c.claimableShares : c.claimableAssets;
  const mode = p.mode as string;
  const amount = mode === "max" ? have : mode === "part" ? have / 3n : mode === "over" ? have + 1n : 0n;
  const viaAttacker = p.attacker as boolean;
  const sender = viaAttacker ? w.s.attackerAddress : controller.address;
  const { susdai } = w.s.fx;
  // (11) max views never revert and name exactly what can be claimed.
  expect(await susdai.maxRedeem(controller.address)).to.equal(c.claimableShares);
  expect(await susdai.maxWithdraw(controller.address)).to.equal(c.claimableAssets);
  const data = redeem
    ? susdai.interface.encodeFunctionData("redeem", [amount, sender, controller.address])
    : susdai.interface.encodeFunctionData("withdraw", [amount, sender, controller.address]);
  await act(
    w,
    redeem ? "susdai.redeem" : "susdai.withdraw",
    t,
    () => {
      if (amount === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      if (viaAttacker) fail("susdai", "StakedUSDaiNotOperator", sender, controller.address);
      if (amount > have) fail("susdai", "StakedUSDaiExceedsClaimable", controller.address, amount, have);
      const assets = redeem
        ? amount === c.claimableShares
          ? c.claimableAssets
          : (c.claimableAssets * amount) / c.claimableShares
        : amount;
      const shares = redeem
        ? amount
        : amount === c.claimableAssets
          ? c.claimableShares
          : ceilDiv(c.claimableShares * amount, c.claimableAssets);
      return () => {
        c.claimableShares -= shares;
        c.claimableAssets -= assets;
        w.staked.totalClaimable -= assets;
        w.usdai.move(w.s.addr.susdai, controller.address, assets);
      };
    },
    () =>
      viaAttacker
        ? w.s.attacker.connect(w.s.fx.actors.attacker).execute(w.s.addr.susdai, data)
        : controller.sendTransaction({ to: w.s.addr.susdai, data }),
  );
}

// ---------------------------------------------------------------------------------------------------- LoanVault

async function approveLoan(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const borrower = w.s.borrowers[p.borrower as number];
  const variant = p.variant as string;
  const who = variant === "notAllowlisted" ? lenderOf(w, 0).address : borrower.address;
  const principal = usd(PRINCIPALS_USD[p.principal as number]);
  const site = SITES[p.site as number];
  const template = TEMPLATES[p.template as number];
  const terms = loanTerms(who, principal, site, Number(t), {
    ...template,
    approvalExpiry: Number(t) + 5 * DAY,
    ...(variant === "badTerms" ? { maintenanceLtvBps: (template.maxLtvBps ?? 6_000) - 1 } : {}),
  });
  const data = fx.loanVault.interface.encodeFunctionData("approveLoan", [terms]);
  await act(
    w,
    "loanVault.approveLoan",
    t,
    () => {
      if (variant === "attacker") unauthorized("loanVault", w.s.attackerAddress, Roles.UNDERWRITER);
      if (variant === "notAllowlisted") fail("loanVault", "LoanVaultNotAllowlisted", who);
      if (variant === "badTerms")
        fail(
          "loanVault",
          "LoanVaultInvalidTerms",
          encodeBytes32String("maintenanceLtvBps"),
          terms.maintenanceLtvBps,
        );
      checkCaps(w, t, who, siteKey(site), principal);
      return () => {
        const loanId = BigInt(w.loans.length + 1);
        const rec: LoanRecord = {
          m: undefined as unknown as LoanModel,
          borrower: who,
          site: siteKey(site),
          receipts: [],
          slaUptimeBps: BigInt(terms.slaUptimeBps),
          approvalExpiry: BigInt(terms.approvalExpiry),
          drawn: 0n,
          netPaid: 0n,
        };
        rec.m = new LoanModel(loanId, modelTerms(terms as unknown as Record<string, unknown>), (now) =>
          w.collateral(rec.receipts, now),
        );
        w.loans.push(rec);
        w.touched.add(loanId);
      };
    },
    () =>
      variant === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : fx.loanVault.connect(fx.actors.underwriter).approveLoan(terms),
  );
}

/** `_checkCaps`: the borrower's and the site's principal, plus `principal`, within their share of NAV at `t`. */
function checkCaps(w: World, t: bigint, borrower: string, site: string, principal: bigint) {
  const nav = w.nav(t);
  const borrowerExposure = exposure(w.loans, (l) => l.borrower === borrower) + principal;
  const borrowerCap = (nav * w.s.borrowerCapBps) / BPS;
  if (borrowerExposure > borrowerCap)
    fail("loanVault", "LoanVaultBorrowerCap", borrower, borrowerExposure, borrowerCap);
  const siteExposure = exposure(w.loans, (l) => l.site === site) + principal;
  const siteCap = (nav * w.s.siteCapBps) / BPS;
  if (siteExposure > siteCap) fail("loanVault", "LoanVaultSiteCap", site, siteExposure, siteCap);
}

/** `_pledgeValue`: count, site and value of each receipt, in order. */
function pledgeValue(w: World, t: bigint, site: string, ids: bigint[], existing: number): bigint {
  if (ids.length === 0 || existing + ids.length > 64)
    fail("loanVault", "LoanVaultReceiptCount", BigInt(existing + ids.length), 64n);
  let value = 0n;
  for (const rid of ids) {
    const r = w.receipts.get(rid)!;
    if (r.site !== site) fail("loanVault", "LoanVaultWrongSite", rid, r.site, site);
    const v = collateralOf(r, t);
    if (v === 0n) fail("loanVault", "LoanVaultWorthlessReceipt", rid);
    value += v;
  }
  return value;
}

/** `transferFrom(from, vault, id)` by the vault: the owner must be `from` (the vault is approved for all). */
function pullReceipts(w: World, from: string, ids: bigint[]) {
  for (const rid of ids) {
    const owner = w.receipts.get(rid)!.owner;
    if (owner === w.s.addr.loanVault) fail("receipts", "ERC721IncorrectOwner", from, rid, owner);
    if (owner !== from) fail("receipts", "ERC721InsufficientApproval", w.s.addr.loanVault, rid);
  }
}

/** Receipts a borrow or top-up pledges, by variant. */
function pickReceipts(w: World, rec: LoanRecord, variant: string, principal: bigint, t: bigint): bigint[] {
  const free = w.freeReceipts(rec.borrower, rec.site);
  if (variant === "none") return [];
  if (variant === "wrongSite") {
    const other = w.freeReceipts(rec.borrower).find((r) => r.site !== rec.site);
    if (other) return [other.id];
  }
  if (variant === "pledged") {
    const pledged = [...w.receipts.values()].find(
      (r) => r.owner === w.s.addr.loanVault && r.site === rec.site,
    );
    if (pledged) return [pledged.id];
  }
  if (variant === "one") return free.slice(0, 1).map((r) => r.id);
  // "fit": the fewest free receipts that carry the principal at the origination LTV.
  const picked: bigint[] = [];
  let value = 0n;
  for (const r of free) {
    if ((value * rec.m.t.maxLtvBps) / BPS >= principal && picked.length > 0) break;
    picked.push(r.id);
    value += collateralOf(r, t);
  }
  return picked;
}

async function borrow(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const variant = p.variant as string;
  const ids = rec ? pickReceipts(w, rec, variant, rec.m.t.principal, t) : [1n];
  const caller = variant === "attacker" || !rec ? w.s.attackerAddress : rec.borrower;
  const data = fx.loanVault.interface.encodeFunctionData("borrow", [loanId, ids]);
  await act(
    w,
    "loanVault.borrow",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const m = rec!.m;
      if (m.s.status !== Status.Approved) fail("loanVault", "LoanVaultBadStatus", loanId, m.s.status);
      if (caller !== rec!.borrower) fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      if (t > rec!.approvalExpiry) fail("loanVault", "LoanVaultApprovalExpired", loanId, rec!.approvalExpiry);
      const value = pledgeValue(w, t, rec!.site, ids, 0);
      if (m.t.principal > (value * m.t.maxLtvBps) / BPS)
        fail("loanVault", "LoanVaultLtvExceeded", m.t.principal, value, m.t.maxLtvBps);
      checkCaps(w, t, rec!.borrower, rec!.site, m.t.principal);
      const available = w.staked.lendable(w.nav(t));
      if (m.t.principal > available) fail("susdai", "StakedUSDaiInsufficientIdle", m.t.principal, available);
      pullReceipts(w, rec!.borrower, ids);
      return () => {
        m.borrow(t);
        rec!.receipts = ids;
        rec!.drawn = m.t.principal;
        w.staked.fund(m.t.principal);
        w.usdai.move(w.s.addr.susdai, rec!.borrower, m.t.principal);
        w.ghost.funded += m.t.principal;
        for (const rid of ids) w.receipts.get(rid)!.owner = w.s.addr.loanVault;
        w.touched.add(loanId);
      };
    },
    async () =>
      caller === w.s.attackerAddress
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : (await hre.ethers.getSigner(caller)).sendTransaction({ to: w.s.addr.loanVault, data }),
  );
}

/** A payer for the loan: its borrower, or a lender paying on its behalf. */
async function payerOf(w: World, rec: LoanRecord | undefined, lender: boolean) {
  return lender || !rec ? lenderOf(w, 1) : await hre.ethers.getSigner(rec.borrower);
}

async function repay(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const payer = await payerOf(w, rec, p.lender as boolean);
  const mode = p.mode as string;
  const m = rec?.m;
  let amount: bigint;
  if (mode === "max") amount = MaxUint256;
  else if (mode === "zero") amount = 0n;
  else if (!m || !m.active) amount = 1n;
  else if (mode === "quote") amount = m.nextPayment(t)[1] || 1n;
  else if (mode === "over") amount = m.owed(t) + 1n;
  else amount = ceilDiv(m.owed(t) * BigInt(p.bps as number), 10_000n);
  await act(
    w,
    "loanVault.repay",
    t,
    () => {
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      if (!m) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = m!.clone();
      const owedBefore = m!.active ? m!.owed(t) : 0n;
      const a = lv(() => probe.repay(t, amount === MaxUint256 ? "max" : amount));
      const paid = amount === MaxUint256 ? owedBefore : amount;
      w.usdai.require(payer.address, paid);
      return () => {
        m!.s = probe.s;
        w.usdai.move(payer.address, w.s.addr.loanVault, paid);
        w.payStaked(t, a);
        rec!.netPaid += paid;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(payer).repay(loanId, amount),
  );
}

async function revenue(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const payer = await payerOf(w, rec, false);
  const amount = p.zero ? 0n : usd(p.usd as number);
  await act(
    w,
    "loanVault.depositRevenue",
    t,
    () => {
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      lv(() => probe.depositRevenue(amount));
      w.usdai.require(payer.address, amount);
      return () => {
        rec!.m.s = probe.s;
        w.usdai.move(payer.address, w.s.addr.loanVault, amount);
        rec!.netPaid += amount;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(payer).depositRevenue(loanId, amount),
  );
  if (p.sweep) await sweep(w, p, w.now + 1n);
}

async function sweep(w: World, p: Params, t: bigint) {
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  await act(
    w,
    "loanVault.sweep",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      const { a } = lv(() => probe.sweep(t));
      return () => {
        rec!.m.s = probe.s;
        w.payStaked(t, a);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).sweep(loanId),
  );
}

async function releaseExcess(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const idx = p.aim
    ? aim(w, p.loan as number, (l) => l.m.s.lockbox + l.m.s.reserve !== 0n && PLEDGED.has(l.m.s.status))
    : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  const viaAttacker = (p.attacker as boolean) || !rec;
  const caller = viaAttacker ? w.s.attackerAddress : rec!.borrower;
  let available = 0n;
  if (rec) {
    const probe = rec.m.clone();
    try {
      if (probe.active) probe.sweep(t);
    } catch {
      // a bad status: the release reverts on it below
    }
    available = probe.s.lockbox;
  }
  const mode = p.mode as string;
  const amount =
    mode === "all" ? available : mode === "half" ? available / 2n : mode === "over" ? available + 1n : 0n;
  const data = fx.loanVault.interface.encodeFunctionData("releaseExcess", [loanId, caller, amount]);
  await act(
    w,
    "loanVault.releaseExcess",
    t,
    () => {
      if (caller !== (rec?.borrower ?? ZeroAddress))
        fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      if (amount === 0n) fail("loanVault", "LoanVaultZeroAmount");
      const probe = rec!.m.clone();
      const a = lv(() => probe.releaseExcess(t, amount));
      return () => {
        rec!.m.s = probe.s;
        w.payStaked(t, a);
        w.usdai.move(w.s.addr.loanVault, rec!.borrower, amount);
        rec!.netPaid -= amount;
        w.touched.add(loanId);
      };
    },
    async () =>
      viaAttacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : (await hre.ethers.getSigner(caller)).sendTransaction({ to: w.s.addr.loanVault, data }),
  );
}

async function topUp(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const rec = w.loan(p.loan as number);
  const loanId = w.loanId(p.loan as number);
  const variant = p.variant as string;
  const ids = rec ? pickReceipts(w, rec, variant === "ok" ? "one" : variant, 0n, t) : [1n];
  const viaAttacker = variant === "attacker" || !rec;
  const caller = viaAttacker ? w.s.attackerAddress : rec!.borrower;
  const data = fx.loanVault.interface.encodeFunctionData("topUp", [loanId, ids]);
  await act(
    w,
    "loanVault.topUp",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const m = rec!.m;
      if (m.s.status !== Status.Active) fail("loanVault", "LoanVaultBadStatus", loanId, m.s.status);
      if (caller !== rec!.borrower) fail("loanVault", "LoanVaultNotBorrower", loanId, caller);
      pledgeValue(w, t, rec!.site, ids, rec!.receipts.length);
      const all = [...rec!.receipts, ...ids];
      const probe = new LoanModel(m.id, m.t, (now) => w.collateral(all, now));
      probe.s = { ...m.s };
      probe.topUp(t);
      pullReceipts(w, rec!.borrower, ids);
      return () => {
        m.s = probe.s;
        rec!.receipts = all;
        for (const rid of ids) w.receipts.get(rid)!.owner = w.s.addr.loanVault;
        w.touched.add(loanId);
      };
    },
    async () =>
      viaAttacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : (await hre.ethers.getSigner(caller)).sendTransaction({ to: w.s.addr.loanVault, data }),
  );
}

async function close(w: World, p: Params, t: bigint) {
  const idx = p.aim ? aim(w, p.loan as number, (l) => l.m.s.status === Status.Repaid) : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.close",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      const refund = lv(() => probe.close());
      return () => {
        rec!.m.s = probe.s;
        w.usdai.move(w.s.addr.loanVault, rec!.borrower, refund);
        rec!.netPaid -= refund;
        for (const rid of rec!.receipts) w.receipts.get(rid)!.owner = rec!.borrower;
        // (5) borrow-then-repay-all never profits: the loan took in at least what it lent.
        expect(rec!.netPaid, `loan ${loanId} net repaid vs drawn`).to.be.greaterThanOrEqual(rec!.drawn);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).close(loanId),
  );
}

/** Aims at the first loan in `status` (and due, for a default) when there is one, else at the index. */
function aim(w: World, idx: number, pick: (l: LoanRecord) => boolean): number {
  const found = w.loans.findIndex(pick);
  return found >= 0 ? found : idx;
}

async function declareDefault(w: World, p: Params, t: bigint) {
  const idx = p.aim
    ? aim(w, p.loan as number, (l) => l.m.active && l.m.defaultableAt() !== 0n && l.m.defaultableAt() <= t)
    : (p.loan as number);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.declareDefault",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      lv(() => probe.declareDefault(t, w.s.haircutBps));
      // (8) a loan in good standing never defaults, so never loses its collateral.
      expect(rec!.m.inGoodStanding(t), `loan ${loanId} in good standing at default`).to.equal(false);
      return () => {
        rec!.m.s = probe.s;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(lenderOf(w, 2)).declareDefault(loanId),
  );
}

async function liquidate(w: World, p: Params, t: bigint) {
  const idx = aim(w, p.loan as number, (l) => l.m.s.status === Status.Defaulted);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  await act(
    w,
    "loanVault.liquidate",
    t,
    () => {
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      if (rec!.m.s.status !== Status.Defaulted)
        fail("loanVault", "LoanVaultBadStatus", loanId, rec!.m.s.status);
      const collateral = w.collateral(rec!.receipts, t);
      if (collateral === 0n) fail("auction", "AuctionEmptyLot", loanId);
      const ap = w.s.auctionParams;
      return () => {
        rec!.m.s.status = Status.Liquidating;
        w.auctions.push({
          id: loanId, // an auction is keyed by its loan
          loanId,
          curve: curveFor(collateral, ap.premium, ap.floor, ap.duration),
          startedAt: t,
          status: AuctionStatus.Live,
        });
        for (const rid of rec!.receipts) w.receipts.get(rid)!.owner = w.s.addr.auction;
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.loanVault.connect(w.s.fx.actors.keeper).liquidate(loanId),
  );
}

async function stepIn(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const idx = aim(w, p.loan as number, (l) => l.m.s.status === Status.Defaulted);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  const target = p.to === 3 ? lenderOf(w, 0).address : w.s.borrowers[p.to as number].address;
  const data = fx.loanVault.interface.encodeFunctionData("stepIn", [loanId, target]);
  await act(
    w,
    "loanVault.stepIn",
    t,
    () => {
      if (p.attacker) unauthorized("loanVault", w.s.attackerAddress, Roles.CREDIT_ADMIN);
      if (p.to === 3) fail("loanVault", "LoanVaultNotAllowlisted", target);
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      lv(() => probe.stepIn(t));
      return () => {
        rec!.m.s = probe.s;
        rec!.borrower = target;
        w.touched.add(loanId);
      };
    },
    () =>
      p.attacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : fx.loanVault.connect(fx.actors.creditAdmin).stepIn(loanId, target),
  );
}

/** Settles `a`'s loan for `proceeds` (`onAuctionSettled`): debt first, late fees next, surplus to the borrower. */
function settleModel(w: World, a: AuctionRecord, t: bigint, proceeds: bigint, to: string) {
  const rec = w.loans[Number(a.loanId) - 1];
  const s = rec.m.s;
  const out = settle(
    proceeds,
    { principal: s.principal, interest: s.interest, lateFees: s.lateFees },
    s.impairedValue,
    s.lockbox,
    s.reserve,
  );
  const debt = s.principal + s.interest;
  // (8) a sale never leaves more bad debt than writing the loan off with its cash would.
  expect(out.loss, "auction loss <= debt - lockbox - reserve").to.be.lessThanOrEqual(
    debt - (debt < s.lockbox + s.reserve ? debt : s.lockbox + s.reserve),
  );
  const vault = w.s.addr.loanVault;
  if (proceeds !== 0n) w.usdai.move(to, vault, proceeds);
  w.ghost.inflow += out.booked + out.gain;
  if (out.booked !== 0n) {
    w.usdai.move(vault, w.s.addr.susdai, out.booked);
    w.staked.idle += out.booked;
    w.ghost.principalBack += out.booked < s.principal ? out.booked : s.principal;
  }
  if (out.gain !== 0n) {
    w.usdai.move(vault, w.s.addr.susdai, out.gain);
    if (!w.staked.gain(t, out.gain)) w.untracked += out.gain;
  }
  w.staked.cumulativeLosses += out.loss;
  if (out.surplus !== 0n) w.usdai.move(vault, rec.borrower, out.surplus);
  // the vault clears the settled loan's accrual and schedule slots whole
  Object.assign(s, {
    principal: 0n,
    interest: 0n,
    accruedAt: 0n,
    couponBps: 0n,
    nextPaymentIndex: 0n,
    lateFees: 0n,
    lockbox: 0n,
    reserve: 0n,
    schedulePrincipal: 0n,
    scheduleStart: 0n,
    schedulePayments: 0n,
    impairedValue: 0n,
  });
  s.status = proceeds === 0n ? Status.WrittenOff : Status.Recovered;
  for (const rid of rec.receipts) w.receipts.get(rid)!.owner = to;
  w.touched.add(a.loanId);
  return out;
}

function auctionOf(w: World, idx: number): { a?: AuctionRecord; auctionId: bigint } {
  const live = w.auctions.findIndex((x) => x.status === AuctionStatus.Live);
  const i = live >= 0 && idx % 4 !== 3 ? live : idx;
  const a = w.auctions.length === 0 ? undefined : w.auctions[i % w.auctions.length];
  // With no auction yet, aim at an id no loan has (auction ids are loan ids).
  return { a, auctionId: a?.id ?? 10_000n + BigInt(idx) };
}

async function buy(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const { a, auctionId } = auctionOf(w, p.auction as number);
  const buyerKind = p.buyer as string;
  // "borrower": the loan's own borrower, a RECEIPT_HOLDER that the vault refuses as the buyer of its own lot.
  const buyers: Record<string, () => string> = {
    attacker: () => w.s.attackerAddress,
    lender: () => lenderOf(w, 0).address,
    borrower: () => (a ? w.loans[Number(a.loanId) - 1].borrower : w.s.borrowers[0].address),
    liquidator: () => fx.actors.liquidator.address,
  };
  const buyer = buyers[buyerKind]();
  const live = a !== undefined && a.status === AuctionStatus.Live;
  const endsAt = a ? a.startedAt + a.curve.duration : 0n;
  const price = live && t <= endsAt ? auctionPrice(a!, t) : 0n;
  const maxPrice = p.max === "low" ? price - 1n : p.max === "max" ? MaxUint256 : price;
  const data = fx.auction.interface.encodeFunctionData("buy", [auctionId, maxPrice < 0n ? 0n : maxPrice]);
  await act(
    w,
    "auction.buy",
    t,
    () => {
      if (!live) fail("auction", "AuctionBadStatus", auctionId, a?.status ?? AuctionStatus.None);
      if (t > endsAt) fail("auction", "AuctionEnded", auctionId, endsAt);
      if (buyerKind !== "liquidator" && buyerKind !== "borrower")
        fail("auction", "AuctionBuyerNotAllowed", buyer);
      if (price > maxPrice) fail("auction", "AuctionPriceAboveMax", price, maxPrice);
      w.usdai.require(buyer, price);
      if (buyerKind === "borrower") fail("loanVault", "LoanVaultBuyerIsBorrower", a!.loanId, buyer);
      return (receipt) => {
        const [bought] = eventArgs(w, receipt, "auction", "AuctionBought");
        expect(bought.price, "auction price").to.equal(price);
        a!.status = AuctionStatus.Sold;
        settleModel(w, a!, t, price, buyer);
      };
    },
    async () =>
      buyerKind === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.auction, data)
        : (await hre.ethers.getSigner(buyer)).sendTransaction({ to: w.s.addr.auction, data }),
  );
}

async function expire(w: World, p: Params, t: bigint) {
  const { a, auctionId } = auctionOf(w, p.auction as number);
  await act(
    w,
    "auction.expire",
    t,
    () => {
      if (!a || a.status !== AuctionStatus.Live)
        fail("auction", "AuctionBadStatus", auctionId, a?.status ?? AuctionStatus.None);
      const endsAt = a!.startedAt + a!.curve.duration;
      if (t <= endsAt) fail("auction", "AuctionNotEnded", auctionId, endsAt);
      return () => {
        a!.status = AuctionStatus.Expired;
        settleModel(w, a!, t, 0n, w.s.addr.custodian);
      };
    },
    () => w.s.fx.auction.connect(lenderOf(w, 3)).expire(auctionId),
  );
}

// ---------------------------------------------------------------------------------------------------- oracle

const today = (t: bigint) => t / 86_400n;

/**
 * The loan an oracle command reads for: with `aim`, an active loan (for a push, one with something pending), else any
 * id in 1..CONFIGURED_LOANS + 1 (the last is not configured).
 */
function oracleLoanId(w: World, p: Params, pick: (l: LoanRecord) => boolean = (l) => l.m.active): bigint {
  const fallback = BigInt(1 + ((p.loan as number) % (CONFIGURED_LOANS + 1)));
  if (!p.aim) return fallback;
  const found = w.loans.filter((l) => l.m.id <= BigInt(CONFIGURED_LOANS) && pick(l));
  return found.length === 0 ? fallback : found[(p.loan as number) % found.length].m.id;
}

/** `submitReport`'s checks in the contract's order, over the final (sorted or not) arrays. */
function predictReports(w: World, t: bigint, reports: Report[], signers: (string | null)[]): OracleLoan {
  const count = reports.length;
  if (count === 0 || count > 8)
    fail("oracle", "UtilizationOracleInvalidReportCount", BigInt(count), BigInt(count));
  const loanId = reports[0].loanId;
  const o = w.oracle.get(loanId);
  if (!o) fail("oracle", "UtilizationOracleLoanNotConfigured", loanId);
  const day = BigInt(reports[0].day);
  if (day <= o!.lastDay) fail("oracle", "UtilizationOracleDayNotAfterLast", loanId, day, o!.lastDay);
  if (day > today(t)) fail("oracle", "UtilizationOracleFutureDay", loanId, day, today(t));
  if ((day + 1n) * 86_400n + o!.maxStaleness < t)
    fail("oracle", "UtilizationOracleStaleReport", loanId, day, o!.maxStaleness);
  if (BigInt(count) < o!.quorum)
    fail("oracle", "UtilizationOracleQuorumNotMet", loanId, BigInt(count), o!.quorum);
  let previous = ZeroAddress;
  reports.forEach((r, i) => {
    if (r.loanId !== loanId || BigInt(r.day) !== day)
      fail("oracle", "UtilizationOracleReportMismatch", BigInt(i));
    if (r.deadline < t) fail("oracle", "UtilizationOracleReportExpired", BigInt(i), r.deadline);
    if (r.utilizationBps > 10_000 || r.uptimeBps > 10_000)
      fail("oracle", "UtilizationOracleReadingOutOfRange", BigInt(i), r.utilizationBps, r.uptimeBps);
    const signer = signers[i];
    if (signer === null) fail("oracle", "UtilizationOracleInvalidSignature", BigInt(i));
    if (BigInt(signer!) <= BigInt(previous))
      fail("oracle", "UtilizationOracleSignersNotAscending", BigInt(i), signer, previous);
    if (!o!.reporters.includes(signer!))
      fail("oracle", "UtilizationOracleUnauthorizedSigner", loanId, signer);
    previous = signer!;
  });
  const probe = o!.clone();
  const rec = w.loans[Number(loanId) - 1];
  probe.record(
    RULES,
    t,
    day,
    medianDown(reports.map((r) => BigInt(r.utilizationBps))),
    medianDown(reports.map((r) => BigInt(r.uptimeBps))),
    rec?.slaUptimeBps ?? 0n,
  );
  return probe;
}

async function submitReport(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const loanId = oracleLoanId(w, p);
  const variant = p.variant as string;
  const o = w.oracle.get(loanId);
  const reporters = [fx.actors.reporter1, fx.actors.reporter2, fx.actors.reporter3];
  const n = variant === "short" ? 1 : (p.signers as number);
  let day = Number(today(t));
  if (variant === "old") day -= 3;
  if (variant === "replay") day = Number(o?.lastDay ?? 0n);
  if (variant === "future") day += 1;
  const utils = p.utils as number[];
  const ups = p.uptimes as number[];
  const entries = reporters.slice(0, n).map((signer, i) => ({
    signer: variant === "badSigner" && i === 0 ? fx.actors.attacker : signer,
    report: {
      loanId,
      utilizationBps: variant === "range" && i === 0 ? 10_001 : utils[i],
      uptimeBps: ups[i],
      day,
      deadline: variant === "expired" && i === n - 1 ? t - 1n : t + 3_600n,
    } as Report,
  }));
  const signed: SignedReport[] = await Promise.all(
    entries.map((e) => signReport(e.signer, fx.oracle, e.report)),
  );
  // `toSubmission` orders the reports by signer, as `submitReport` requires; "unsorted" reverses that order.
  const { reports, signatures } = toSubmission(signed);
  const signers: (string | null)[] = signed
    .map((x) => x.signer)
    .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  if (variant === "unsorted") [reports, signatures, signers].forEach((list) => list.reverse());
  if (variant === "corrupt") {
    signatures[0] = signatures[0].slice(0, 130);
    signers[0] = null;
  }
  await act(
    w,
    "oracle.submitReport",
    t,
    () => {
      const probe = predictReports(w, t, reports, signers);
      return () => {
        w.oracle.set(loanId, probe);
        w.touched.add(loanId);
      };
    },
    () => fx.oracle.connect(lenderOf(w, 2)).submitReport(reports, signatures),
  );
}

async function poke(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const loanId = oracleLoanId(w, p);
  const variant = p.variant as string;
  const utils = p.utils as number[];
  // The environment: the feeds publish (or not) before the keeper pokes.
  let at = t;
  if (variant !== "same" && variant !== "attacker") {
    const tPoke = t + BigInt(w.s.feeds.length);
    for (const [i, feed] of w.s.feeds.entries()) {
      const f = w.feeds[i];
      const scale = 10n ** f.decimals;
      const stale = variant === "stale" || (variant === "oneStale" && i === 1);
      const next = {
        roundId: f.roundId + 1n,
        answer: variant === "above" && i === 0 ? scale + 1n : (BigInt(utils[i]) * scale) / 10_000n,
        updatedAt:
          variant === "future" && i === 0
            ? tPoke + 100n
            : stale
              ? tPoke - ORACLE_STALENESS - 1n
              : tPoke - 60n,
      };
      await environment(w, at, () => feed.setRound(next.roundId, next.answer, next.updatedAt));
      Object.assign(f, next);
      at += 1n;
    }
  }
  const caller = variant === "attacker" ? w.s.attackerAddress : fx.actors.keeper.address;
  const data = fx.oracle.interface.encodeFunctionData("poke", [loanId]);
  await act(
    w,
    "oracle.poke",
    at,
    () => {
      if (variant === "attacker") unauthorized("oracle", caller, Roles.KEEPER);
      const o = w.oracle.get(loanId);
      if (!o) fail("oracle", "UtilizationOracleLoanNotConfigured", loanId);
      const day = today(at);
      if (day <= o!.lastDay) fail("oracle", "UtilizationOracleDayNotAfterLast", loanId, day, o!.lastDay);
      const good: bigint[] = [];
      const rounds = new Map<string, bigint>();
      for (const f of w.feeds) {
        const scale = 10n ** f.decimals;
        if (f.answer <= 0n || f.answer > scale || f.updatedAt > at || at - f.updatedAt > o!.maxStaleness)
          continue;
        if (f.roundId <= (o!.lastRound.get(f.address) ?? 0n)) continue;
        good.push((f.answer * 10_000n) / scale);
        rounds.set(f.address, f.roundId);
      }
      if (BigInt(good.length) < o!.quorum)
        fail("oracle", "UtilizationOracleQuorumNotMet", loanId, BigInt(good.length), o!.quorum);
      const probe = o!.clone();
      for (const [feed, round] of rounds) probe.lastRound.set(feed, round);
      probe.record(RULES, at, day, medianDown(good), UPTIME_UNKNOWN, 0n);
      return () => {
        w.oracle.set(loanId, probe);
        w.touched.add(loanId);
      };
    },
    () =>
      variant === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.oracle, data)
        : fx.oracle.connect(fx.actors.keeper).poke(loanId),
  );
}

async function push(w: World, p: Params, t: bigint) {
  const loanId = oracleLoanId(w, p, (l) => {
    const o = w.oracle.get(l.m.id)!;
    return l.m.active && (o.stepPending || o.flagsPending);
  });
  const couponBefore = await w.s.fx.loanVault.couponOf(loanId);
  await act(
    w,
    "oracle.push",
    t,
    () => {
      const o = w.oracle.get(loanId);
      if (!o || (!o.stepPending && !o.flagsPending)) fail("oracle", "UtilizationOracleNothingToPush", loanId);
      const rec = w.loans[Number(loanId) - 1];
      if (!rec || !rec.m.active) fail("oracle", "UtilizationOracleLoanNotPerforming", loanId);
      const probe = rec.m.clone();
      const delta = o!.pendingDeltaBps;
      if (o!.stepPending) probe.applyCouponStep(t, o!.lastStepId, delta, o!.pendingTopUp);
      if (o!.flagsPending) probe.setCovenantBreach(o!.flags);
      return async () => {
        rec.m.s = probe.s;
        Object.assign(o!, {
          pushedStepId: o!.lastStepId,
          pendingDeltaBps: 0n,
          pendingTopUp: false,
          pushedFlags: o!.flags,
        });
        // (10) a push moves the coupon by at most the pending delta, within the terms' floor and cap.
        const after = await w.s.fx.loanVault.couponOf(loanId);
        const moved = after > couponBefore ? after - couponBefore : couponBefore - after;
        expect(moved, "coupon move <= pending delta").to.be.lessThanOrEqual(delta < 0n ? -delta : delta);
        expect(after - probe.s.referenceRateBps).to.be.within(probe.t.premiumFloorBps, probe.t.premiumCapBps);
        w.touched.add(loanId);
      };
    },
    () => w.s.fx.oracle.connect(lenderOf(w, 3)).push(loanId),
  );
}

// ---------------------------------------------------------------------------------------------------- environment

async function appraise(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const all = [...w.receipts.values()];
  const r = all[(p.receipt as number) % all.length];
  const value = (r.value * BigInt(p.factor as number)) / 100n;
  const markdown = p.markdown === 3 ? 10_001n : [0n, 1_000n, 2_500n][p.markdown as number];
  const floorBps = markdown === 0n ? 10_000n : 4_000n;
  const data = fx.receipts.interface.encodeFunctionData("appraise", [r.id, value, markdown, floorBps]);
  await act(
    w,
    "receipts.appraise",
    t,
    () => {
      if (p.attacker) unauthorized("receipts", w.s.attackerAddress, Roles.APPRAISER);
      if (markdown > 10_000n) fail("receipts", "GpuReceiptBpsOutOfRange", markdown);
      return () => {
        Object.assign(r, { value, appraisedAt: t, markdownBpsPerQuarter: markdown, floorBps });
        for (const l of w.loans) if (l.receipts.includes(r.id)) w.touched.add(l.m.id);
      };
    },
    () =>
      p.attacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.receipts, data)
        : fx.receipts.connect(fx.actors.appraiser).appraise(r.id, value, markdown, floorBps),
  );
}

async function warp(w: World, p: Params) {
  await time.increase(p.seconds as number);
  w.now += BigInt(p.seconds as number);
  count("warp", null);
}

/** (9) Unauthorized calls by the attacker contract: each reverts with the exact access error and moves nothing. */
async function attack(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const C = w.s.attackerAddress;
  const lender = lenderOf(w, 0).address;
  const someReceipt = [...w.receipts.values()][(p.kind as number) % w.receipts.size];
  const loanId = w.loanId(0);
  const attacks: [ErrorSource, string, () => never][] = [
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("setRiskParams", [
        {
          borrowerCapBps: 10_000,
          siteCapBps: 10_000,
          recoveryHaircutBps: 0,
          referenceFeedMaxStalenessSeconds: 1,
        },
      ]),
      () => unauthorized("loanVault", C, Roles.CREDIT_ADMIN),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("applyCouponStep", [loanId, 2n ** 31n, -10_000, false]),
      () => unauthorized("loanVault", C, Roles.ORACLE),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("setCovenantBreach", [loanId, 0]),
      () => unauthorized("loanVault", C, Roles.ORACLE),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("onAuctionSettled", [loanId, 0, C]),
      () => fail("loanVault", "LoanVaultNotAuction", C),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("upgradeToAndCall", [C, "0x"]),
      () => unauthorized("loanVault", C, Roles.UPGRADER),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("fundLoan", [C, 1n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("receiveLoanCashflow", [0n, 0n, 0n, 1n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("receiveLoanCashflow", [0n, 0n, 1n, 0n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("setRedemptionParams", [0, 0, 100]),
      () => unauthorized("susdai", C, Roles.DEFAULT_ADMIN),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("transferFrom", [lender, C, 1n]),
      () => fail("susdai", "ERC20InsufficientAllowance", C, 0n, 1n),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("requestRedeem", [usd(10), C, lender]),
      () => fail("susdai", "ERC20InsufficientAllowance", C, 0n, usd(10)),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("redeem", [1n, C, lender]),
      () => fail("susdai", "StakedUSDaiNotOperator", C, lender),
    ],
    [
      "usdai",
      fx.usdai.interface.encodeFunctionData("transferFrom", [lender, C, 1n]),
      () => fail("usdai", "ERC20InsufficientAllowance", C, 0n, 1n),
    ],
    [
      "usdai",
      fx.usdai.interface.encodeFunctionData("allocate", [1n]),
      () => unauthorized("usdai", C, Roles.RESERVE_MANAGER),
    ],
    [
      "receipts",
      fx.receipts.interface.encodeFunctionData("transferFrom", [
        someReceipt.owner,
        fx.actors.liquidator.address,
        someReceipt.id,
      ]),
      () => fail("receipts", "ERC721InsufficientApproval", C, someReceipt.id),
    ],
    [
      "receipts",
      fx.receipts.interface.encodeFunctionData("transferFrom", [someReceipt.owner, C, someReceipt.id]),
      () => fail("receipts", "GpuReceiptNotReceiptHolder", C),
    ],
    [
      "auction",
      fx.auction.interface.encodeFunctionData("start", [loanId, [someReceipt.id], 1n]),
      () => unauthorized("auction", C, Roles.LOAN_VAULT),
    ],
    [
      "auction",
      fx.auction.interface.encodeFunctionData("setAuctionParams", [
        { startPremiumBps: 0, floorBps: 1, durationSeconds: 3600 },
      ]),
      () => unauthorized("auction", C, Roles.CREDIT_ADMIN),
    ],
    [
      "oracle",
      fx.oracle.interface.encodeFunctionData("setRules", [[]]),
      () => unauthorized("oracle", C, Roles.ORACLE_ADMIN),
    ],
    [
      "oracle",
      fx.oracle.interface.encodeFunctionData("configureLoan", [loanId, [{ kind: 1, account: C }], 1, 1]),
      () => unauthorized("oracle", C, Roles.ORACLE_ADMIN),
    ],
  ];
  const [at, data, predict] = attacks[(p.kind as number) % attacks.length];
  await act(w, "attacker", t, predict, () =>
    w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr[at], data),
  );
  expect(await paramsFingerprint(w.s), "governance parameters after an unauthorized call").to.equal(
    w.s.fingerprint,
  );
}

// ==================================================================================================== invariants

async function checkInvariants(w: World, cmd: Op): Promise<void> {
  const label = `after ${cmd.toString()}`;
  const { fx, addr } = w.s;
  const { susdai, usdai, loanVault, receipts } = fx;
  const now = w.now;
  expect(BigInt(await time.latest()), `${label}: clock`).to.equal(now);
  const m = w.staked;

  // (7) loanAssets() and the aggregates are the model's sums over loans, to the wei; each loan's state by field.
  const loanModels = w.loans.map((l) => l.m);
  const loanAssets = await expectAggregates(fx, loanModels, label);
  for (const l of w.loans) {
    await expectLoanState(fx, l.m, label);
    // An Active loan always has a next payment (the one settling the last installment repays it): the vault's
    // default and late-fee arithmetic relies on it.
    if (l.m.s.status === Status.Active) {
      expect(l.m.s.nextPaymentIndex, `${label}: loan ${l.m.id} next payment`).to.be.lessThanOrEqual(
        l.m.s.schedulePayments,
      );
    }
  }

  const [
    supply,
    idle,
    ta,
    unvested,
    pending,
    claimable,
    losses,
    bounds,
    custody,
    heldUsdai,
    vaultUsdai,
    usdaiSupply,
    reserves,
    inVault,
    inAuction,
  ] = await Promise.all([
    susdai.totalSupply(),
    susdai.idleAssets(),
    susdai.totalAssets(),
    susdai.unvestedGains(),
    susdai.totalPendingShares(),
    susdai.totalClaimableAssets(),
    susdai.cumulativeLosses(),
    susdai.queueBounds(),
    susdai.balanceOf(addr.susdai),
    usdai.balanceOf(addr.susdai),
    usdai.balanceOf(addr.loanVault),
    usdai.totalSupply(),
    usdai.totalReserves(),
    receipts.balanceOf(addr.loanVault),
    receipts.balanceOf(addr.auction),
  ]);
  expect(
    { supply, idle, ta, unvested, pending, claimable, losses, head: bounds[0], tail: bounds[1], custody },
    `${label}: sUSDai`,
  ).to.deep.equal({
    supply: m.supply,
    idle: m.idle,
    ta: m.totalAssets(now, loanAssets),
    unvested: m.unvested(now),
    pending: m.totalPending,
    claimable: m.totalClaimable,
    losses: m.cumulativeLosses,
    head: BigInt(m.head),
    tail: BigInt(m.queue.length),
    custody: m.totalPending,
  });

  // (1) sum of balances, including the shares queued in custody, is the total supply.
  const holders = [...w.s.lenders.map((l) => l.address), addr.susdai, w.s.attackerAddress];
  const balances = await Promise.all(holders.map((h) => susdai.balanceOf(h)));
  balances.forEach((b, i) =>
    expect(b, `${label}: shares of ${holders[i]}`).to.equal(m.shares.of(holders[i])),
  );
  expect(
    balances.reduce((a, b) => a + b, 0n),
    `${label}: sum of share balances`,
  ).to.equal(supply);

  // USDai: every tracked balance and the supply match; reserves back the supply.
  const usdaiBalances = await Promise.all(w.s.tracked.map((a) => usdai.balanceOf(a)));
  usdaiBalances.forEach((b, i) =>
    expect(b, `${label}: USDai of ${w.s.tracked[i]}`).to.equal(w.usdai.of(w.s.tracked[i])),
  );
  expect(usdaiSupply, `${label}: USDai supply`).to.equal(w.usdai.supply);
  expect(reserves * 10n ** 12n, `${label}: reserves back USDai`).to.be.greaterThanOrEqual(usdaiSupply);

  // (2) solvency: sUSDai holds idle plus what serviced redemptions are owed; the vault holds every lockbox and
  // reserve; NAV claims no more than idle plus loan assets; borrowed never exceeds supplied.
  expect(heldUsdai, `${label}: sUSDai USDai`).to.equal(idle + claimable + w.untracked);
  let cash = 0n;
  let debts = 0n;
  for (const l of w.loans) {
    const st = l.m.s.status;
    if (st === Status.Active || st === Status.Repaid || st === Status.Defaulted || st === Status.Liquidating)
      cash += l.m.s.lockbox + l.m.s.reserve;
    if (st === Status.Active) debts += l.m.s.principal + l.m.interestNow(now);
    if (st === Status.Defaulted || st === Status.Liquidating) debts += l.m.s.impairedValue;
  }
  expect(vaultUsdai, `${label}: LoanVault USDai = lockboxes + reserves`).to.equal(cash);
  expect(ta, `${label}: NAV <= idle + loan assets`).to.be.lessThanOrEqual(idle + loanAssets);
  expect(loanAssets, `${label}: loan assets <= debts`).to.be.lessThanOrEqual(debts);
  const agg = await loanVault.accrualState();
  expect(w.ghost.funded, `${label}: funded <= USDai that ever entered sUSDai`).to.be.lessThanOrEqual(
    w.ghost.inflow,
  );
  expect(agg.totalPrincipal, `${label}: borrowed <= funded - repaid`).to.be.lessThanOrEqual(
    w.ghost.funded - w.ghost.principalBack,
  );

  // (3) pledged receipts: every open loan's receipts are in the vault, each backs exactly one loan.
  const pledged = new Map<bigint, bigint>();
  for (const l of w.loans) {
    if (!PLEDGED.has(l.m.s.status)) continue;
    for (const rid of l.receipts) {
      expect(pledged.has(rid), `${label}: receipt ${rid} backs two loans`).to.equal(false);
      pledged.set(rid, l.m.id);
    }
  }
  expect(inVault, `${label}: receipts in the vault`).to.equal(BigInt(pledged.size));
  const auctioned = w.loans
    .filter((l) => l.m.s.status === Status.Liquidating)
    .reduce((s, l) => s + l.receipts.length, 0);
  expect(inAuction, `${label}: receipts at auction`).to.equal(BigInt(auctioned));
  for (const loanId of w.touched) {
    const l = w.loans[Number(loanId) - 1];
    if (!l) continue;
    const owners = await Promise.all(l.receipts.map((rid) => receipts.ownerOf(rid)));
    owners.forEach((o, i) =>
      expect(o, `${label}: owner of receipt ${l.receipts[i]}`).to.equal(w.receipts.get(l.receipts[i])!.owner),
    );
    expect([...(await loanVault.receiptsOf(loanId))], `${label}: receiptsOf(${loanId})`).to.deep.equal(
      l.receipts,
    );
    // Views of the touched loan, at this block.
    const [debt, good, defaultable, next, collateral] = await Promise.all([
      loanVault.debtOf(loanId),
      loanVault.inGoodStanding(loanId),
      loanVault.defaultableAt(loanId),
      loanVault.nextPayment(loanId),
      loanVault.collateralValueOf(loanId),
    ]);
    expect(
      { debt, good, defaultable, next: [...next], collateral },
      `${label}: views of loan ${loanId}`,
    ).to.deep.equal({
      debt: l.m.debtOf(now),
      good: l.m.inGoodStanding(now),
      defaultable: l.m.defaultableAt(),
      next: l.m.nextPayment(now),
      collateral: w.collateral(l.receipts, now),
    });
  }

  // (10) the oracle's view of the touched loans: observation, pending push and streaks.
  for (const loanId of w.touched) {
    const o = w.oracle.get(loanId);
    if (!o) continue;
    const [obs, pendingPush, ...streaks] = await Promise.all([
      fx.oracle.latestUtilization(loanId),
      fx.oracle.pendingPush(loanId),
      ...RULES.map((_, i) => fx.oracle.streakOf(loanId, i)),
    ]);
    expect(
      {
        obs: [...obs],
        push: [
          pendingPush.stepId,
          pendingPush.deltaBps,
          pendingPush.topUpRequired,
          pendingPush.flags,
          pendingPush.stepPending,
          pendingPush.flagsPending,
        ],
        streaks: streaks.map((s) => [s.streakDays, s.lastDay]),
      },
      `${label}: oracle loan ${loanId}`,
    ).to.deep.equal({
      obs: [o.utilizationBps, o.uptimeBps, o.lastDay, o.updatedAt],
      push: [o.lastStepId, o.pendingDeltaBps, o.pendingTopUp, o.flags, o.stepPending, o.flagsPending],
      streaks: o.streaks.map((s) => [s.length, s.lastDay]),
    });
    // One firing per streak: consecutive firings of a rule are a full window apart.
    RULES.forEach((rule, i) => {
      const days = o.firedDays[i];
      for (let k = 1; k < days.length; k++)
        expect(days[k] - days[k - 1]).to.be.greaterThanOrEqual(rule.windowDays);
    });
  }

  // (11) max views never revert for any lender.
  const lender = lenderOf(w, Number(now % 4n));
  const [maxDeposit, maxMint] = await Promise.all([
    susdai.maxDeposit(lender.address),
    susdai.maxMint(lender.address),
  ]);
  expect(maxDeposit, `${label}: maxDeposit`).to.equal(2n ** 128n - 1n - idle);
  expect(maxMint, `${label}: maxMint`).to.equal(w.staked.previewDeposit(ta, maxDeposit));

  // (4) the share price falls only on an impairment or a realized loss (and vested gains never jump: unvested
  // equals the model's linear schedule above).
  const price: [bigint, bigint] = [ta + 1n, supply + 1n];
  if (w.lastPrice[1] !== 0n && price[0] * w.lastPrice[1] < w.lastPrice[0] * price[1]) {
    const realized = ["loanVault.declareDefault", "auction.buy", "auction.expire"].includes(cmd.name);
    expect(realized, `${label}: share price fell`).to.equal(true);
  }
  w.lastPrice = price;
}

/** End of a sequence: every receipt's owner and serial registry entry. */
async function checkReceipts(w: World): Promise<void> {
  const { receipts } = w.s.fx;
  for (const r of w.receipts.values()) {
    expect(await receipts.ownerOf(r.id), `owner of receipt ${r.id}`).to.equal(r.owner);
    expect(await receipts.receiptOfSerial(r.serials[Number(r.id) % 8]), `serial of receipt ${r.id}`).to.equal(
      r.id,
    );
  }
}

// ==================================================================================================== arbitraries

const nat = (max: number) => fc.nat({ max });
const op = (
  name: string,
  body: (w: World, p: Params, t: bigint) => Promise<void>,
  p: fc.Arbitrary<Params>,
  weight: number,
) => ({
  weight,
  arbitrary: p.map((params) => new Op(name, params, body)),
});
const rec = <T extends Params>(r: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(r) as unknown as fc.Arbitrary<Params>;
const usdAmount = fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 1_500_000 }));
const utilization = fc.constantFrom(0, 3_000, 5_999, 6_000, 8_999, 9_000, 9_500, 10_000);
const uptime = fc.constantFrom(9_000, 9_499, 9_500, 9_999, 10_000);

const commands = [
  op(
    "usdai.deposit",
    usdaiMint,
    rec({ lender: nat(3), usd: usdAmount, variant: fc.constantFrom("ok", "ok", "zero", "slippage", "cap") }),
    2,
  ),
  op(
    "usdai.redeem",
    usdaiRedeem,
    rec({
      lender: nat(3),
      bps: fc.integer({ min: 1, max: 10_000 }),
      variant: fc.constantFrom("ok", "ok", "zero", "dust", "over", "slippage"),
    }),
    2,
  ),
  op("usdai.harvest", harvest, fc.constant({}), 1),
  op("donate", donate, rec({ lender: nat(3), usd: usdAmount }), 1),
  op(
    "susdai.deposit",
    deposit,
    rec({
      lender: nat(3),
      usd: usdAmount,
      variant: fc.constantFrom("ok", "ok", "ok", "zero", "slippage", "over"),
      threeArg: fc.boolean(),
    }),
    4,
  ),
  op(
    "susdai.mint",
    mint,
    rec({ lender: nat(3), usd: usdAmount, variant: fc.constantFrom("ok", "ok", "zero", "slippage") }),
    2,
  ),
  op(
    "susdai.requestRedeem",
    requestRedeem,
    rec({
      owner: nat(3),
      controller: nat(3),
      bps: fc.integer({ min: 1, max: 10_000 }),
      variant: fc.constantFrom("ok", "ok", "ok", "zero", "tooSmall", "over"),
    }),
    4,
  ),
  op("susdai.serviceRedemptions", service, rec({ max: nat(6) }), 3),
  op(
    "susdai.claim",
    claim,
    rec({
      aim: fc.boolean(),
      controller: nat(3),
      kind: fc.constantFrom("redeem", "withdraw"),
      mode: fc.constantFrom("max", "max", "part", "over", "zero"),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    4,
  ),
  op(
    "loanVault.approveLoan",
    approveLoan,
    rec({
      borrower: nat(2),
      principal: fc.constantFrom(0, 1, 1, 2, 2, 3, 4),
      site: nat(1),
      template: nat(2),
      variant: fc.constantFrom("ok", "ok", "ok", "ok", "notAllowlisted", "badTerms", "attacker"),
    }),
    4,
  ),
  op(
    "loanVault.borrow",
    borrow,
    rec({
      loan: nat(7),
      variant: fc.constantFrom("fit", "fit", "fit", "fit", "one", "wrongSite", "pledged", "none", "attacker"),
    }),
    5,
  ),
  op(
    "loanVault.repay",
    repay,
    rec({
      loan: nat(7),
      mode: fc.constantFrom("quote", "quote", "partial", "max", "over", "zero"),
      bps: fc.integer({ min: 1, max: 10_000 }),
      lender: fc.boolean(),
    }),
    5,
  ),
  op(
    "loanVault.depositRevenue",
    revenue,
    rec({
      loan: nat(7),
      usd: fc.integer({ min: 1, max: 300_000 }),
      sweep: fc.boolean(),
      zero: fc.constantFrom(false, false, false, false, false, false, false, true),
    }),
    3,
  ),
  op("loanVault.sweep", sweep, rec({ loan: nat(7) }), 1),
  op(
    "loanVault.releaseExcess",
    releaseExcess,
    rec({
      aim: fc.boolean(),
      loan: nat(7),
      mode: fc.constantFrom("all", "all", "half", "over", "zero"),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    2,
  ),
  op(
    "loanVault.topUp",
    topUp,
    rec({ loan: nat(7), variant: fc.constantFrom("ok", "ok", "wrongSite", "none", "pledged", "attacker") }),
    2,
  ),
  op(
    "loanVault.close",
    close,
    rec({
      aim: fc.boolean(),
      loan: nat(7),
    }),
    2,
  ),
  op(
    "loanVault.declareDefault",
    declareDefault,
    rec({ loan: nat(7), aim: fc.constantFrom(true, true, true, false) }),
    6,
  ),
  op("loanVault.liquidate", liquidate, rec({ loan: nat(7) }), 4),
  op(
    "loanVault.stepIn",
    stepIn,
    rec({ loan: nat(7), to: nat(3), attacker: fc.constantFrom(false, false, false, true) }),
    2,
  ),
  op(
    "auction.buy",
    buy,
    rec({
      auction: nat(5),
      max: fc.constantFrom("exact", "exact", "max", "low"),
      buyer: fc.constantFrom("liquidator", "liquidator", "liquidator", "attacker", "lender", "borrower"),
    }),
    4,
  ),
  op("auction.expire", expire, rec({ auction: nat(5) }), 3),
  op(
    "oracle.submitReport",
    submitReport,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
      signers: fc.integer({ min: 2, max: 3 }),
      utils: fc.array(utilization, { minLength: 3, maxLength: 3 }),
      uptimes: fc.array(uptime, { minLength: 3, maxLength: 3 }),
      variant: fc.constantFrom(
        "valid",
        "valid",
        "valid",
        "valid",
        "old",
        "replay",
        "future",
        "badSigner",
        "corrupt",
        "unsorted",
        "short",
        "range",
        "expired",
      ),
    }),
    5,
  ),
  op(
    "oracle.poke",
    poke,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
      utils: fc.array(utilization, { minLength: 2, maxLength: 2 }),
      variant: fc.constantFrom(
        "fresh",
        "fresh",
        "fresh",
        "stale",
        "oneStale",
        "same",
        "above",
        "future",
        "attacker",
      ),
    }),
    3,
  ),
  op(
    "oracle.push",
    push,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
    }),
    4,
  ),
  op(
    "receipts.appraise",
    appraise,
    rec({
      receipt: nat(30),
      factor: fc.constantFrom(0, 20, 50, 80, 100, 130),
      markdown: nat(3),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    2,
  ),
  op(
    "warp",
    (w, p) => warp(w, p),
    rec({
      seconds: fc.constantFrom(
        60,
        3_600,
        86_400,
        86_400,
        2 * 86_400,
        3 * 86_400,
        4 * 86_400,
        8 * 86_400,
        92 * 86_400,
      ),
    }),
    5,
  ),
  op("attacker", attack, rec({ kind: nat(100) }), 2),
];

/**
 * Every sequence opens with two drawn loans (one per site) and one queued redemption, so the random commands find
 * something to act on; everything else (more loans, defaults, auctions) is left to them.
 */
const OPENING = [
  new Op(
    "loanVault.approveLoan",
    { borrower: 0, principal: 1, site: 0, template: 0, variant: "ok" },
    approveLoan,
  ),
  new Op("loanVault.borrow", { loan: 0, variant: "fit" }, borrow),
  new Op(
    "loanVault.approveLoan",
    { borrower: 1, principal: 0, site: 1, template: 2, variant: "ok" },
    approveLoan,
  ),
  new Op("loanVault.borrow", { loan: 1, variant: "fit" }, borrow),
  new Op("susdai.requestRedeem", { owner: 3, controller: 3, bps: 500, variant: "ok" }, requestRedeem),
];

/** `fc.commands` picks uniformly among its arbitraries: a command of weight k is listed k times. */
const weighted = commands.flatMap((c) => Array.from({ length: c.weight }, () => c.arbitrary));

// ==================================================================================================== the suite

describe("Protocol: stateful invariants (seeded model-based fuzz over the deployed protocol)", function () {
  this.timeout(0);
  let setup: Setup;
  let before_: SnapshotRestorer;

  before(async () => {
    before_ = await takeSnapshot();
    setup = await buildSetup();
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
    await fc.assert(
      fc.asyncProperty(fc.commands(weighted, { maxCommands: DEPTH, size: "max" }), async (cmds) => {
        await setup.snapshot.restore();
        const w = new World(setup);
        sequences++;
        for (const o of OPENING) await o.run(w);
        await fc.asyncModelRun(() => ({ model: w, real: w }), cmds);
        await checkReceipts(w);
      }),
      { ...fuzzParams(RUNS), numRuns: RUNS },
    );
    report(Date.now() - started);
    // Every command but the attacker's (which must always fail) succeeded at least once.
    const never = COMMAND_NAMES.filter((name) => (stats.get(name)?.ok ?? 0) === 0);
    expect(never, "commands that never succeeded").to.deep.equal([]);
  });
});

const COMMAND_NAMES = [
  "usdai.deposit",
  "usdai.redeem",
  "usdai.harvest",
  "donate",
  "susdai.deposit",
  "susdai.mint",
  "susdai.requestRedeem",
  "susdai.serviceRedemptions",
  "susdai.redeem",
  "susdai.withdraw",
  "loanVault.approveLoan",
  "loanVault.borrow",
  "loanVault.repay",
  "loanVault.depositRevenue",
  "loanVault.sweep",
  "loanVault.releaseExcess",
  "loanVault.topUp",
  "loanVault.close",
  "loanVault.declareDefault",
  "loanVault.liquidate",
  "loanVault.stepIn",
  "auction.buy",
  "auction.expire",
  "oracle.submitReport",
  "oracle.poke",
  "oracle.push",
  "receipts.appraise",
  "warp",
];

function report(ms: number) {
  const rows: string[] = [];
  let reasons = new Set<string>();
  for (const [name, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    const reverts = [...s.reverts].sort(([a], [b]) => a.localeCompare(b));
    reverts.forEach(([r]) => (reasons = reasons.add(r)));
    rows.push(
      `      ${name.padEnd(28)} ${String(s.ok).padStart(6)}  ${reverts.map(([r, n]) => `${r} ${n}`).join(", ")}`,
    );
  }
  console.log(`      ${"command".padEnd(28)} ${"ok".padStart(6)}  reverts`);
  console.log(rows.join("\n"));
  console.log(
    `      seed ${FUZZ_SEED}: ${sequences} sequences, ${calls} protocol calls, ${reasons.size} distinct revert reasons, ${(ms / 1000).toFixed(1)} s`,
  );
}

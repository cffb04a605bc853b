import { expect } from "chai";
import hre from "hardhat";
import { takeSnapshot, time, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";
import { id, MaxUint256, type BaseContract } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployProtocol, type ProtocolFixture } from "../../fixtures/protocol";
import { DAY, siteKey } from "../../../helpers/loans";
import { mintAppraisedReceipt, receiptIssuers } from "../../../helpers/receipts";
import { usd, usdc } from "../../../helpers/units";
import type { MockAggregator, ReentrantBorrower } from "../../../typechain-types";
import { senders, watchChain } from "./rpc";
import {
  REPORT_WINDOW,
  type ErrorSource,
  type FeedState,
  type ReceiptRecord,
  type Rule,
} from "../protocol-model";

// ==================================================================================================== setup

/**
 * The scenario of the protocol-wide invariant suite and its one-time deployment: the protocol as the deploy scripts
 * build it, funded actors, attested receipts at two sites, oracle rules with short windows, two feeds and three
 * reporters per loan, and the attacker contract. `buildSetup` reads every genesis value the model starts from and
 * takes the snapshot each sequence restores.
 */

/** The run's clock starts at a fixed day boundary (+1 h), so a seed replays the same days in any process. */
export const GENESIS = 4_000_000_000n - (4_000_000_000n % 86_400n) + 3_600n;

export const SITES = ["DAL-1", "NYC-1"];

/** Receipts per borrower and site, each appraised at RECEIPT_USD. */
export const RECEIPTS_PER_SITE = [
  [3, 2],
  [2, 2],
  [2, 3],
];

export const RECEIPT_USD = 400_000;

export const CONFIGURED_LOANS = 8;

export const ORACLE_STALENESS = 2n * 86_400n;

export const PRINCIPALS_USD = [100_000, 250_000, 450_000, 800_000, 3_000_000];

/** Short schedules so default, cure and liquidation paths are reachable within a sequence. */
export const TEMPLATES = [
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
    // A narrow premium band: every coupon step the rules fire meets the floor or the cap, so the oracle's composed
    // clamp decides the delta a push sends.
    premiumFloorBps: 450,
    premiumCapBps: 750,
  },
];

/** Coupon rules with short windows so streaks fire within a sequence. */
export const RULES: Rule[] = [
  { gte: true, thresholdBps: 9_000n, windowDays: 2n, premiumDeltaBps: -200n, topUpRequired: false },
  { gte: false, thresholdBps: 6_000n, windowDays: 3n, premiumDeltaBps: 300n, topUpRequired: true },
];

export interface Setup {
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
  /** The clock at the snapshot: where every sequence starts. */
  startedAt: bigint;
  /** sUSDai's cap checkpoint at the snapshot (#24.6): time, counts at the previous and latest, shares ever minted. */
  capCheckpoint: { at: bigint; prev: bigint; current: bigint; minted: bigint };
  /** Full invariant checks every this many commands (and at the end of each sequence); 1 checks after every command. */
  checkEvery: number;
}

export async function buildSetup(checkEvery = 1): Promise<Setup> {
  await watchChain();
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
  // The model closes report days with the default window.
  expect(await oracle.reportWindow(), "report window").to.equal(REPORT_WINDOW);

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
  // The handlers send through these: `connect(signer).fn(..)` builds the raw transaction `act` sends (./rpc.ts).
  const built = {
    ...fx,
    usdai: senders(usdai, addr.usdai),
    susdai: senders(susdai, addr.susdai),
    receipts: senders(receipts, addr.receipts),
    loanVault: senders(loanVault, addr.loanVault),
    auction: senders(auction, addr.auction),
    oracle: senders(oracle, addr.oracle),
    reserve: senders(reserve, addr.reserve),
  };
  const setup: Setup = {
    fx: built,
    lenders,
    borrowers,
    attacker: senders(attacker, attackerAddress),
    attackerAddress,
    feeds: await Promise.all(feeds.map(async (f) => senders(f, await f.getAddress()))),
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
    startedAt: 0n,
    capCheckpoint: await susdai
      .capCheckpoint()
      .then(([at, prev, current, minted]) => ({ at, prev, current, minted })),
    checkEvery,
  };
  setup.fingerprint = await paramsFingerprint(setup);
  setup.snapshot = await takeSnapshot();
  setup.startedAt = BigInt(await time.latest());
  return setup;
}

/** Every governance parameter an attacker must not move, as one string. */
export async function paramsFingerprint(s: Setup): Promise<string> {
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

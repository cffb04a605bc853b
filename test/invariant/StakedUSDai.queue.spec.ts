import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { mintUsdai, stakingFixture } from "../fixtures/staking";
import { fuzzParams } from "../helpers/fuzz";
import { usd } from "../../helpers/units";
import { mulDivDown, mulDivUp } from "../helpers/math";
import { createFixture } from "../helpers/fixture";

const DAY = 24 * 3600;
const COOLDOWN = 7n * BigInt(DAY);
const MIN_REDEEM_SHARES = usd(10);
const MAX_ACTIVE_REQUESTS = 10;

interface Controller {
  pending: bigint;
  active: number;
  claimableShares: bigint;
  claimableAssets: bigint;
}
interface Request {
  controller: string;
  claimableAt: bigint;
  shares: bigint;
}

/**
 * The vault's accounting as a bigint model, written from the spec rather than the code: NAV = idle + book (no lump
 * gains here, so nothing is unvested), OpenZeppelin's virtual share and asset of 1 (decimals offset 0), shares minted
 * down, the queue's claim on idle valued up, FIFO fills priced at service time against running totals (a partial
 * fill buys what idle buys, rounded down twice), claims pro rata over what was serviced (redeem pays down, withdraw
 * burns up, the last claim clears exactly).
 */
class VaultModel {
  idle = 0n;
  book = 0n;
  supply = 0n;
  shares = new Map<string, bigint>();
  usdai = new Map<string, bigint>();
  controllers = new Map<string, Controller>();
  queue: Request[] = [];
  head = 0;
  totalPending = 0n;
  totalClaimable = 0n;

  constructor(
    readonly vault: string,
    readonly cooldown: bigint,
  ) {}

  totalAssets(): bigint {
    return this.idle + this.book;
  }
  controller(who: string): Controller {
    let c = this.controllers.get(who);
    if (!c) {
      c = { pending: 0n, active: 0, claimableShares: 0n, claimableAssets: 0n };
      this.controllers.set(who, c);
    }
    return c;
  }
  balance(who: string): bigint {
    return this.shares.get(who) ?? 0n;
  }
  private move(from: string, to: string, amount: bigint) {
    this.shares.set(from, this.balance(from) - amount);
    this.shares.set(to, this.balance(to) + amount);
  }
  private pay(who: string, amount: bigint) {
    this.usdai.set(who, (this.usdai.get(who) ?? 0n) + amount);
  }
  previewDeposit(assets: bigint): bigint {
    return mulDivDown(assets, this.supply + 1n, this.totalAssets() + 1n);
  }
  convertToAssets(shares: bigint): bigint {
    return mulDivDown(shares, this.totalAssets() + 1n, this.supply + 1n);
  }
  /** Idle USDai not owed to the queue: what a loan may take. */
  lendable(): bigint {
    const owed = mulDivUp(this.totalPending, this.totalAssets() + 1n, this.supply + 1n);
    return this.idle > owed ? this.idle - owed : 0n;
  }

  deposit(who: string, assets: bigint): bigint {
    const minted = this.previewDeposit(assets);
    this.idle += assets;
    this.supply += minted;
    this.shares.set(who, this.balance(who) + minted);
    this.pay(who, -assets);
    return minted;
  }
  request(owner: string, controller: string, shares: bigint, now: bigint) {
    const c = this.controller(controller);
    c.pending += shares;
    c.active += 1;
    this.queue.push({ controller, claimableAt: now + this.cooldown, shares });
    this.totalPending += shares;
    this.move(owner, this.vault, shares);
  }
  service(maxRequests: number, now: bigint): [bigint, bigint, bigint] {
    let navAssets = this.totalAssets() + 1n;
    let navShares = this.supply + 1n;
    let serviced = 0n;
    let shares = 0n;
    let assets = 0n;
    for (let i = 0; i < maxRequests && this.head < this.queue.length; i++) {
      const request = this.queue[this.head];
      if (request.claimableAt > now) break;
      let fillShares = request.shares;
      let fillAssets = mulDivDown(fillShares, navAssets, navShares);
      if (fillAssets > this.idle) {
        fillShares = mulDivDown(this.idle, navShares, navAssets);
        fillAssets = mulDivDown(fillShares, navAssets, navShares);
        if (fillShares === 0n) break;
      }
      const c = this.controller(request.controller);
      c.pending -= fillShares;
      c.claimableShares += fillShares;
      c.claimableAssets += fillAssets;
      this.idle -= fillAssets;
      navAssets -= fillAssets;
      navShares -= fillShares;
      shares += fillShares;
      assets += fillAssets;
      if (fillShares === request.shares) {
        request.shares = 0n;
        c.active -= 1;
        this.head += 1;
        serviced += 1n;
      } else {
        request.shares -= fillShares;
        break;
      }
    }
    this.totalPending -= shares;
    this.totalClaimable += assets;
    this.supply -= shares;
    this.shares.set(this.vault, this.balance(this.vault) - shares);
    return [serviced, shares, assets];
  }
  redeem(controller: string, receiver: string, shares: bigint): bigint {
    const c = this.controller(controller);
    const assets =
      shares === c.claimableShares
        ? c.claimableAssets
        : mulDivDown(c.claimableAssets, shares, c.claimableShares);
    this.claim(c, receiver, assets, shares);
    return assets;
  }
  withdraw(controller: string, receiver: string, assets: bigint): bigint {
    const c = this.controller(controller);
    const shares =
      assets === c.claimableAssets
        ? c.claimableShares
        : mulDivUp(c.claimableShares, assets, c.claimableAssets);
    this.claim(c, receiver, assets, shares);
    return shares;
  }
  private claim(c: Controller, receiver: string, assets: bigint, shares: bigint) {
    c.claimableShares -= shares;
    c.claimableAssets -= assets;
    this.totalClaimable -= assets;
    this.pay(receiver, assets);
  }
  fund(amount: bigint) {
    this.idle -= amount;
    this.book += amount;
  }
  repay(amount: bigint) {
    this.book -= amount;
    this.idle += amount;
  }
}

/** The staking fixture, and 2,000,000 USDai of the borrower's own to repay principal and interest with. */
const queueFixture = createFixture(async () => {
  const f = await stakingFixture();
  await mintUsdai(f, f.actors.borrower1, 2_000_000);
  return f;
});
type Fixture = Awaited<ReturnType<typeof queueFixture>>;

/** Binds a fixture, its three lenders and a model; every step runs on chain and in the model, then compares. */
class Harness {
  readonly model: VaultModel;
  readonly lenders: HardhatEthersSigner[];
  private readonly usdaiStart = new Map<string, bigint>();

  private constructor(
    readonly f: Fixture,
    cooldown: bigint,
  ) {
    this.model = new VaultModel(f.susdai.target as string, cooldown);
    this.lenders = [f.actors.lender1, f.actors.lender2, f.actors.lender3];
  }

  static async create(f: Fixture, cooldown = COOLDOWN): Promise<Harness> {
    const h = new Harness(f, cooldown);
    for (const l of h.lenders) h.usdaiStart.set(l.address, await f.usdai.balanceOf(l.address));
    await h.check("start");
    return h;
  }

  private async timestampOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
    const receipt = await (await tx).wait();
    const block = await hre.ethers.provider.getBlock(receipt!.blockNumber);
    return BigInt(block!.timestamp);
  }

  async deposit(who: HardhatEthersSigner, assets: bigint) {
    const expected = this.model.deposit(who.address, assets);
    await expect(this.f.susdai.connect(who)["deposit(uint256,address)"](assets, who.address))
      .to.emit(this.f.susdai, "Deposit")
      .withArgs(who.address, who.address, assets, expected);
  }
  async request(sender: HardhatEthersSigner, owner: string, controller: string, shares: bigint) {
    const now = await this.timestampOf(
      this.f.susdai.connect(sender).requestRedeem(shares, controller, owner),
    );
    this.model.request(owner, controller, shares, now);
  }
  async service(maxRequests: number) {
    // the model services at the transaction's own timestamp (the cooldown check depends on it)
    const now = await this.timestampOf(this.f.susdai.serviceRedemptions(maxRequests));
    this.model.service(maxRequests, now);
  }
  async redeem(sender: HardhatEthersSigner, controller: string, receiver: string, shares: bigint) {
    const expected = this.model.redeem(controller, receiver, shares);
    await expect(this.f.susdai.connect(sender).redeem(shares, receiver, controller))
      .to.emit(this.f.susdai, "Withdraw")
      .withArgs(sender.address, receiver, controller, expected, shares);
  }
  async withdraw(sender: HardhatEthersSigner, controller: string, receiver: string, assets: bigint) {
    const expected = this.model.withdraw(controller, receiver, assets);
    await expect(this.f.susdai.connect(sender).withdraw(assets, receiver, controller))
      .to.emit(this.f.susdai, "Withdraw")
      .withArgs(sender.address, receiver, controller, assets, expected);
  }
  async fund(amount: bigint) {
    this.model.fund(amount);
    await this.f.loans.fund(this.f.actors.borrower1.address, amount);
  }
  async accrue(amount: bigint) {
    this.model.book += amount;
    await this.f.loans.accrue(amount);
  }
  async writeOff(amount: bigint) {
    this.model.book -= amount;
    await this.f.loans.writeOff(amount);
  }
  /** The borrower pays `amount` of the book back (principal and accrued interest alike). */
  async repay(amount: bigint) {
    const { usdai, loans, actors } = this.f;
    await usdai.connect(actors.borrower1).transfer(loans.target, amount);
    this.model.repay(amount);
    await loans.repay(amount, 0n);
  }

  /** Every number the vault reports equals the model, to the wei. */
  async check(step: string) {
    const { susdai, usdai, loans } = this.f;
    const m = this.model;
    const actual = {
      supply: await susdai.totalSupply(),
      idle: await susdai.idleAssets(),
      book: await loans.loanAssets(),
      totalAssets: await susdai.totalAssets(),
      totalPending: await susdai.totalPendingShares(),
      totalClaimable: await susdai.totalClaimableAssets(),
      custody: await susdai.balanceOf(susdai.target),
      queue: [...(await susdai.queueBounds())],
      vaultUsdai: await usdai.balanceOf(susdai.target),
    };
    const expected = {
      supply: m.supply,
      idle: m.idle,
      book: m.book,
      totalAssets: m.totalAssets(),
      totalPending: m.totalPending,
      totalClaimable: m.totalClaimable,
      custody: m.balance(m.vault),
      queue: [BigInt(m.head), BigInt(m.queue.length)],
      // the vault holds exactly idle plus what serviced requests are owed (no gains or donations here)
      vaultUsdai: m.idle + m.totalClaimable,
    };
    expect(actual, `vault after ${step}`).to.deep.equal(expected);
    for (const l of this.lenders) {
      const c = m.controller(l.address);
      const state = await susdai.controllerState(l.address);
      expect(
        {
          shares: await susdai.balanceOf(l.address),
          pending: await susdai.pendingRedeemRequest(0n, l.address),
          claimable: await susdai.claimableRedeemRequest(0n, l.address),
          maxRedeem: await susdai.maxRedeem(l.address),
          maxWithdraw: await susdai.maxWithdraw(l.address),
          active: state.activeRequests,
          usdai: (await usdai.balanceOf(l.address)) - this.usdaiStart.get(l.address)!,
        },
        `${l.address} after ${step}`,
      ).to.deep.equal({
        shares: m.balance(l.address),
        pending: c.pending,
        claimable: c.claimableShares,
        maxRedeem: c.claimableShares,
        maxWithdraw: c.claimableAssets,
        active: BigInt(c.active),
        usdai: m.usdai.get(l.address) ?? 0n,
      });
    }
    for (let i = m.head; i < m.queue.length; i++) {
      const r = await susdai.redemptionRequest(i);
      expect([r.controller, r.claimableAt, r.shares], `queue entry ${i} after ${step}`).to.deep.equal([
        m.queue[i].controller,
        m.queue[i].claimableAt,
        m.queue[i].shares,
      ]);
    }
  }
}

describe("StakedUSDai: redemption queue against a bigint model", () => {
  it("three lenders: requests, a partial service, a loss before the rest is serviced, claims by redeem, withdraw and an operator", async () => {
    const f = await queueFixture();
    const h = await Harness.create(f);
    const [l1, l2, l3] = h.lenders;
    const step = async (name: string, action: () => Promise<unknown>) => {
      await action();
      await h.check(name);
    };

    // deposits at 1.0, then a loan and its interest move the price off 1
    await step("deposits", async () => {
      await h.deposit(l1, usd(10_000));
      await h.deposit(l2, usd(25_000));
      await h.deposit(l3, usd("7777.777777777777777777"));
    });
    await step("loan and interest", async () => {
      await h.fund(usd(30_000));
      await h.accrue(usd("1234.567890123456789"));
    });
    // l3 deposits again at the new price: shares round down
    await step("deposit at 1.0288...", () => h.deposit(l3, usd("333.333333333333333333")));

    // requests: l1 for itself, l2 in two entries, l3 through an allowance into its own controller
    await step("requests", async () => {
      await h.request(l1, l1.address, l1.address, usd(4_000));
      await h.request(l2, l2.address, l2.address, usd(9_000));
      await h.request(l2, l2.address, l2.address, usd(6_000));
      await f.susdai.connect(l3).approve(l2.address, usd(5_000));
      await h.request(l2, l3.address, l3.address, usd(5_000));
    });
    expect(await f.susdai.allowance(l3.address, l2.address)).to.equal(0n);

    // the queue's claim is reserved from lending, valued now and rounded up
    const lendable = h.model.lendable();
    await expect(f.loans.fund(f.actors.borrower1.address, lendable + 1n))
      .to.be.revertedWithCustomError(f.susdai, "StakedUSDaiInsufficientIdle")
      .withArgs(lendable + 1n, lendable);
    await h.check("refused loan");

    // before the cooldown nothing moves
    await step("early service", () => h.service(10));
    expect(h.model.head).to.equal(0);

    await time.increase(COOLDOWN);
    // idle (~13.1k) is short of the queue (~24.7k): l1 in full, l2's first entry partially
    await step("partial service", () => h.service(10));
    expect(h.model.head).to.equal(1);
    expect(h.model.queue[1].shares).to.be.greaterThan(0n);
    expect(h.model.idle, "idle is spent to the last couple of wei").to.be.lessThanOrEqual(2n);

    // a loss lands between the requests and the rest of their service: the waiting shares bear it
    const priceBefore = h.model.convertToAssets(usd(1));
    await step("loss", () => h.writeOff(usd(6_000)));
    expect(h.model.convertToAssets(usd(1))).to.be.lessThan(priceBefore);

    // whatever wei of idle are left buy what they can at the new, lower price
    await step("service on leftover idle", () => h.service(10));

    // the borrower repays part; service resumes one entry at a time, then the rest
    await step("repayment", () => h.repay(usd(12_000)));
    await step("service 1", () => h.service(1));
    await step("service rest", () => h.service(10));
    expect(h.model.head).to.equal(h.model.queue.length);
    expect(h.model.totalPending).to.equal(0n);

    // claims: l1 by redeem (part, then the rest), l2 by withdraw (part, then exact), l3 through operator l2
    await step("l1 redeem part", () => h.redeem(l1, l1.address, l1.address, usd(1_234)));
    await step("l1 redeem rest", () =>
      h.redeem(l1, l1.address, l1.address, h.model.controller(l1.address).claimableShares),
    );
    await step("l2 withdraw part", () =>
      h.withdraw(l2, l2.address, l2.address, usd("3141.592653589793238462")),
    );
    await step("l2 withdraw rest", () =>
      h.withdraw(l2, l2.address, l2.address, h.model.controller(l2.address).claimableAssets),
    );
    await expect(f.susdai.connect(l2).redeem(1n, l2.address, l3.address))
      .to.be.revertedWithCustomError(f.susdai, "StakedUSDaiNotOperator")
      .withArgs(l2.address, l3.address);
    await f.susdai.connect(l3).setOperator(l2.address, true);
    await step("operator withdraw for l3", () => h.withdraw(l2, l3.address, l2.address, usd(1_000)));
    await step("operator redeem for l3", () =>
      h.redeem(l2, l3.address, l3.address, h.model.controller(l3.address).claimableShares),
    );

    expect(h.model.totalClaimable).to.equal(0n);
    // the lenders who left bore the loss and the interest at their service price; those who stay hold the rest
    expect(await f.susdai.totalAssets()).to.equal(h.model.totalAssets());
  });

  it("random operation sequences keep the vault equal to the model (seeded)", async () => {
    type Op =
      | { kind: "deposit"; who: number; assets: bigint }
      | { kind: "request"; who: number; controller: number; bps: number }
      | { kind: "service"; max: number }
      | { kind: "fund"; bps: number }
      | { kind: "accrue"; amount: bigint }
      | { kind: "writeOff"; bps: number }
      | { kind: "repay"; bps: number }
      | { kind: "wait"; seconds: number }
      | { kind: "redeem"; who: number; viaOperator: boolean; bps: number }
      | { kind: "withdraw"; who: number; viaOperator: boolean; bps: number };
    const lender = fc.integer({ min: 0, max: 2 });
    const bps = fc.integer({ min: 1, max: 10_000 });
    const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
    const op: fc.Arbitrary<Op> = fc.oneof(
      w(
        2,
        fc.record({
          kind: fc.constant("deposit" as const),
          who: lender,
          assets: fc.bigInt({ min: usd(10), max: usd(50_000) }),
        }),
      ),
      w(4, fc.record({ kind: fc.constant("request" as const), who: lender, controller: lender, bps })),
      w(4, fc.record({ kind: fc.constant("service" as const), max: fc.integer({ min: 1, max: 5 }) })),
      w(2, fc.record({ kind: fc.constant("fund" as const), bps })),
      w(
        1,
        fc.record({ kind: fc.constant("accrue" as const), amount: fc.bigInt({ min: 1n, max: usd(5_000) }) }),
      ),
      w(1, fc.record({ kind: fc.constant("writeOff" as const), bps: fc.integer({ min: 1, max: 3_000 }) })),
      w(1, fc.record({ kind: fc.constant("repay" as const), bps })),
      w(2, fc.record({ kind: fc.constant("wait" as const), seconds: fc.integer({ min: 1, max: 2 * DAY }) })),
      w(3, fc.record({ kind: fc.constant("redeem" as const), who: lender, viaOperator: fc.boolean(), bps })),
      w(
        3,
        fc.record({ kind: fc.constant("withdraw" as const), who: lender, viaOperator: fc.boolean(), bps }),
      ),
    );
    /** Every run starts with each lender in the vault, so requests have shares to work with. */
    const opening = fc.tuple(
      fc.bigInt({ min: usd(100), max: usd(50_000) }),
      fc.bigInt({ min: usd(100), max: usd(50_000) }),
      fc.bigInt({ min: usd(100), max: usd(50_000) }),
    );

    await fc.assert(
      fc.asyncProperty(opening, fc.array(op, { minLength: 10, maxLength: 30 }), async (deposits, ops) => {
        const f = await queueFixture();
        // a one-day cooldown so that a sequence of this length sees requests serviced and claimed
        await f.susdai
          .connect(f.actors.deployer)
          .setRedemptionParams(DAY, MIN_REDEEM_SHARES, MAX_ACTIVE_REQUESTS);
        const h = await Harness.create(f, BigInt(DAY));
        const ls = h.lenders;
        for (const [i, assets] of deposits.entries()) await h.deposit(ls[i], assets);
        // each lender lets the next one operate for it
        for (let i = 0; i < 3; i++) await f.susdai.connect(ls[i]).setOperator(ls[(i + 1) % 3].address, true);
        const m = h.model;
        for (const [n, o] of ops.entries()) {
          switch (o.kind) {
            case "deposit":
              if (m.previewDeposit(o.assets) === 0n) continue;
              await h.deposit(ls[o.who], o.assets);
              break;
            case "request": {
              const shares = (m.balance(ls[o.who].address) * BigInt(o.bps)) / 10_000n;
              const controller = ls[o.controller].address;
              if (shares < MIN_REDEEM_SHARES || m.controller(controller).active >= MAX_ACTIVE_REQUESTS)
                continue;
              await h.request(ls[o.who], ls[o.who].address, controller, shares);
              break;
            }
            case "service":
              await h.service(o.max);
              break;
            case "fund": {
              const amount = (m.lendable() * BigInt(o.bps)) / 10_000n;
              if (amount === 0n) continue;
              await h.fund(amount);
              break;
            }
            case "accrue":
              if (m.book === 0n) continue; // interest needs a loan
              await h.accrue(o.amount);
              break;
            case "writeOff": {
              const amount = (m.book * BigInt(o.bps)) / 10_000n;
              if (amount === 0n) continue;
              await h.writeOff(amount);
              break;
            }
            case "repay": {
              const amount = (m.book * BigInt(o.bps)) / 10_000n;
              if (amount === 0n) continue;
              await h.repay(amount);
              break;
            }
            case "wait":
              await time.increase(o.seconds);
              break;
            case "redeem":
            case "withdraw": {
              const controller = ls[o.who].address;
              const sender = o.viaOperator ? ls[(o.who + 1) % 3] : ls[o.who];
              const c = m.controller(controller);
              if (o.kind === "redeem") {
                const shares = (c.claimableShares * BigInt(o.bps)) / 10_000n;
                if (shares === 0n) continue;
                await h.redeem(sender, controller, sender.address, shares);
              } else {
                const assets = (c.claimableAssets * BigInt(o.bps)) / 10_000n;
                if (assets === 0n) continue;
                await h.withdraw(sender, controller, sender.address, assets);
              }
              break;
            }
          }
          await h.check(`op ${n} ${o.kind}`);
        }
        // drain: the book comes back, the whole queue is serviced and every controller claims all it is owed
        if (m.book > 0n) await h.repay(m.book);
        await time.increase(DAY);
        await h.service(MAX_ACTIVE_REQUESTS * 3);
        await h.check("drain service");
        expect(m.totalPending).to.equal(0n);
        for (const [i, l] of ls.entries()) {
          const c = m.controller(l.address);
          const operator = ls[(i + 1) % 3];
          if (c.claimableShares > 1n)
            await h.redeem(i % 2 ? operator : l, l.address, l.address, c.claimableShares / 2n);
          if (c.claimableAssets > 0n)
            await h.withdraw(i % 2 ? l : operator, l.address, operator.address, c.claimableAssets);
          await h.check(`drain claims of lender ${i}`);
        }
        expect(m.totalClaimable).to.equal(0n);
      }),
      fuzzParams(30),
    );
  });
});

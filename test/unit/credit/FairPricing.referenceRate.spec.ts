import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { ProtocolFixture } from "../../fixtures/protocol";
import { approve } from "../../helpers/loans";
import { ceilDiv, INTEREST_DENOMINATOR, interestOf } from "../../helpers/math";
import { DAY, LoanStatus } from "../../../helpers/loans";
import { at, INTERVAL, loadLoanVault, loanVaultHelpers, P, type Signer } from "./suite";

/** The house premium over the reference rate. */
const PREMIUM = 600n;
/** The reference feed has 8 decimals and 1.0 = 100%: an answer of `bps x 10^4`. */
const answerOf = (bps: bigint) => bps * 10_000n;
/**
 * The keeper's latency this suite assumes in its worst case: a keeper that runs the oracle's upkeep once an hour.
 * (Under Chainlink Automation, which simulates `checkUpkeep` every block, it is a block or two.)
 */
const KEEPER_LAG_SECONDS = 3_600n;
/** `MockAggregator.Mode.GasBomb`: `latestRoundData` loops until it runs out of gas. */
const GAS_BOMB = 2;
/** Reporter sources are 1 in `IUtilizationOracle.SourceKind`. */
const REPORTER = 1;

/**
 * A month of the reference feed (issue #24 item 7): from 4.30% it dips, rises, dips and rises again. `day` is the
 * offset from the draw.
 */
const FEED_PATH: { day: bigint; bps: bigint }[] = [
  { day: 5n, bps: 330n },
  { day: 10n, bps: 630n },
  { day: 20n, bps: 480n },
  { day: 25n, bps: 580n },
];

/** Interest over coupon segments `[from, couponBps]` up to `end`, one rounded-up checkpoint per segment. */
function interestOver(segments: [bigint, bigint][], end: bigint): bigint {
  let total = 0n;
  for (const [i, [from, coupon]] of segments.entries()) {
    const to = i + 1 < segments.length ? segments[i + 1][0] : end;
    total += interestOf(P, coupon, to - from);
  }
  return total;
}

/**
 * Fair pricing of the reference rate: the rate a loan on a feed pays follows the feed up as well as down, whoever
 * refreshes it. The borrower may refresh at any time (`refreshReferenceRate` is permissionless), so the rises must be
 * applied by someone else: the UtilizationOracle's upkeep lists (`checkUpkeep`) and refreshes (`performUpkeep`) any
 * configured loan whose rate differs from its feed (`LoanVault.pendingReferenceRate`).
 */
describe("Fair pricing: the reference rate follows its feed (#24.7)", () => {
  let f: ProtocolFixture, b1: Signer, b2: Signer;
  beforeEach(async () => ({ f, b1, b2 } = await loadLoanVault()));
  const { expectRevert, houseLoan } = loanVaultHelpers(() => f);

  /** A house loan priced on the reference feed (4.30% at the draw), configured in the oracle with one reporter. */
  async function feedLoan(): Promise<{ loanId: bigint; t0: bigint }> {
    await f.referenceFeed.pushAnswer(answerOf(430n));
    const { loanId, t0 } = await houseLoan({
      overrides: { referenceRateFeed: await f.referenceFeed.getAddress() },
    });
    await configure(loanId);
    return { loanId, t0 };
  }

  async function configure(loanId: bigint): Promise<void> {
    const { oracle, actors } = f;
    await oracle
      .connect(actors.oracleAdmin)
      .configureLoan(loanId, [{ kind: REPORTER, account: actors.reporter1.address }], 1, 2 * DAY);
  }

  /** The loans `checkUpkeep("")` lists (empty when no upkeep is needed). */
  async function listed(): Promise<bigint[]> {
    const [needed, performData] = await f.oracle.checkUpkeep("0x");
    if (!needed) return [];
    const [ids] = hre.ethers.AbiCoder.defaultAbiCoder().decode(["uint256[]"], performData);
    return [...(ids as bigint[])];
  }

  const performData = (ids: bigint[]) => hre.ethers.AbiCoder.defaultAbiCoder().encode(["uint256[]"], [ids]);

  /** One keeper round, as Chainlink Automation runs it: `checkUpkeep` off-chain, `performUpkeep` when needed. */
  async function keeperRound(): Promise<bigint[]> {
    const [needed, data] = await f.oracle.checkUpkeep("0x");
    if (!needed) return [];
    await f.oracle.connect(f.actors.keeper).performUpkeep(data);
    const [ids] = hre.ethers.AbiCoder.defaultAbiCoder().decode(["uint256[]"], data);
    return [...(ids as bigint[])];
  }

  // ================================================================ the attack

  it("#24.7 a borrower who refreshes only on the feed's dips keeps no more than one keeper lag of each rise", async () => {
    const { loanVault, referenceFeed } = f;
    const { loanId, t0 } = await feedLoan();
    const due = t0 + INTERVAL;

    // What the loan should pay: the feed's rate from the moment it moves.
    const fair: [bigint, bigint][] = [[t0, 430n + PREMIUM]];
    let bound = 0n;
    for (const move of FEED_PATH) {
      const moved = t0 + move.day * BigInt(DAY);
      await at(moved);
      await referenceFeed.pushAnswer(answerOf(move.bps));
      fair.push([moved, move.bps + PREMIUM]);
      const paying = (await loanVault.stateOf(loanId)).referenceRateBps;
      if (move.bps < paying) {
        // The borrower's strategy: refresh the moment the feed falls below the rate it pays, never otherwise.
        await at(moved + 1n);
        await loanVault.connect(b1).refreshReferenceRate(loanId);
      } else {
        // What a rise applied one keeper lag late can leave the borrower at most.
        bound += ceilDiv(P * (move.bps - paying) * KEEPER_LAG_SECONDS, INTEREST_DENOMINATOR);
      }
      // The keeper's next round, a full lag after the move (the worst case).
      await time.setNextBlockTimestamp(moved + KEEPER_LAG_SECONDS);
      await keeperRound();
    }

    // The first installment, paid as quoted on its due date.
    const [dueDate, amountDue] = await loanVault.nextPayment(loanId);
    expect(dueDate).to.equal(due);
    await at(due);
    const receipt = await (await loanVault.connect(b1).repay(loanId, amountDue)).wait();
    const repaid = receipt!.logs
      .map((log) => loanVault.interface.parseLog(log))
      .find((parsed) => parsed?.name === "Repaid")!;
    const paid: bigint = repaid.args.interest;

    const fairInterest = interestOver(fair, due);
    const extracted = fairInterest - paid;
    // Before the fix the keeper never moved the rate: 5 days at 10.30% then 25 at 9.30% instead of the feed's path,
    // 1,369.9 USDai of the month's 9,150.7 (15%). Now only the lag of the two rises is left.
    expect(extracted, `interest kept by the borrower: ${hre.ethers.formatEther(extracted)} USDai`).to.be.lte(
      bound,
    );

    // The rate paid moved at each refresh, and every rise was the keeper's, one lag after the feed moved.
    const updates = await loanVault.queryFilter(loanVault.filters.ReferenceRateUpdated(loanId));
    const applied: [bigint, bigint][] = [[t0, 430n + PREMIUM]];
    const keeper = f.actors.keeper.address;
    for (const update of updates) {
      const block = await update.getBlock();
      const tx = await update.getTransaction();
      applied.push([BigInt(block.timestamp), update.args.couponBps]);
      const before = applied[applied.length - 2][1];
      if (update.args.couponBps > before) expect(tx.from, "a rise is the keeper's").to.equal(keeper);
    }
    expect(applied).to.deep.equal([
      [t0, 1_030n],
      [t0 + 5n * BigInt(DAY) + 1n, 930n], // the borrower, on the dip
      [t0 + 10n * BigInt(DAY) + KEEPER_LAG_SECONDS, 1_230n], // the keeper, on the rise
      [t0 + 20n * BigInt(DAY) + 1n, 1_080n], // the borrower, on the dip
      [t0 + 25n * BigInt(DAY) + KEEPER_LAG_SECONDS, 1_180n], // the keeper, on the rise
    ]);
    // Interest accrues at the rate in force, booked at each refresh: the books and the payment agree to the wei.
    expect(paid).to.equal(interestOver(applied, due));
    // 1M x (3.00% + 1.00%) x 1 hour = 4.57 USDai at most (a dip refreshed a second late costs the borrower a little).
    expect(bound).to.equal(
      ceilDiv(P * 300n * KEEPER_LAG_SECONDS, INTEREST_DENOMINATOR) +
        ceilDiv(P * 100n * KEEPER_LAG_SECONDS, INTEREST_DENOMINATOR),
    );
  });

  it("the keeper applies a fall too: the borrower need not watch the feed", async () => {
    const { loanVault, referenceFeed } = f;
    const { loanId } = await feedLoan();
    await referenceFeed.pushAnswer(answerOf(330n));
    expect(await listed()).to.deep.equal([loanId]);
    await expect(f.oracle.connect(f.actors.keeper).performUpkeep(performData([loanId])))
      .to.emit(loanVault, "ReferenceRateUpdated")
      .withArgs(loanId, 330n, 930n);
    expect(await loanVault.couponOf(loanId)).to.equal(930n);
    expect((await loanVault.accrualState()).rateSum).to.equal(P * 930n);
    expect(await listed()).to.deep.equal([]);
  });

  // ================================================================ the upkeep

  describe("UtilizationOracle upkeep", () => {
    it("lists a loan only while its rate differs from its feed, and never a fixed-rate loan", async () => {
      const { referenceFeed } = f;
      const fixed = (await houseLoan()).loanId;
      await configure(fixed);
      const { loanId } = await feedLoan();
      expect(await listed()).to.deep.equal([]);
      await referenceFeed.pushAnswer(answerOf(630n));
      expect(await listed()).to.deep.equal([loanId]);
      await referenceFeed.pushAnswer(answerOf(430n));
      expect(await listed()).to.deep.equal([]);
    });

    it("refreshes only the loans that need it: a fixed-rate loan and a replayed performData change nothing", async () => {
      const { loanVault, referenceFeed, oracle } = f;
      const fixed = (await houseLoan()).loanId;
      await configure(fixed);
      const { loanId } = await feedLoan();
      await referenceFeed.pushAnswer(answerOf(630n));
      const data = performData([fixed, loanId]);
      const tx = oracle.connect(f.actors.keeper).performUpkeep(data);
      await expect(tx).to.emit(loanVault, "ReferenceRateUpdated").withArgs(loanId, 630n, 1_230n);
      const updates = await loanVault.queryFilter(loanVault.filters.ReferenceRateUpdated());
      expect(updates.map((u) => u.args.loanId)).to.deep.equal([loanId]);
      expect(await loanVault.couponOf(fixed)).to.equal(1_030n);
      // Replayed: nothing left to refresh, nothing booked.
      const before = await loanVault.stateOf(loanId);
      await expect(oracle.performUpkeep(data)).not.to.emit(loanVault, "ReferenceRateUpdated");
      expect(await loanVault.stateOf(loanId)).to.deep.equal(before);
    });

    it("skips a feed the vault refuses (stale) without reverting the batch, and lists it again once fresh", async () => {
      const { loanVault, referenceFeed, oracle } = f;
      const { loanId } = await feedLoan();
      await referenceFeed.pushAnswer(answerOf(630n));
      await time.increase(2 * DAY + 1);
      await expect(loanVault.pendingReferenceRate(loanId)).to.be.revertedWithCustomError(
        loanVault,
        "LoanVaultBadReferenceRate",
      );
      expect(await listed()).to.deep.equal([]);
      const before = await loanVault.stateOf(loanId);
      await expect(oracle.performUpkeep(performData([loanId]))).not.to.emit(
        loanVault,
        "ReferenceRateUpdated",
      );
      expect(await loanVault.stateOf(loanId)).to.deep.equal(before);
      await referenceFeed.pushAnswer(answerOf(630n));
      expect(await listed()).to.deep.equal([loanId]);
    });

    it("a reference feed that burns gas fails its own loan's check only: the batch refreshes the others", async () => {
      const { loanVault, referenceFeed, oracle } = f;
      const bomb = await hre.ethers.deployContract("MockAggregator", [8]);
      await bomb.pushAnswer(answerOf(430n));
      const { loanId: bombed } = await houseLoan({
        overrides: { referenceRateFeed: await bomb.getAddress() },
      });
      await configure(bombed);
      const { loanId } = await feedLoan();
      await bomb.pushAnswer(answerOf(630n));
      await bomb.setMode(GAS_BOMB);
      await referenceFeed.pushAnswer(answerOf(630n));
      expect(await listed()).to.deep.equal([loanId]);
      // With 1M gas, an uncapped check of the first loan would leave the second 1/64 of it.
      await expect(oracle.performUpkeep(performData([bombed, loanId]), { gasLimit: 1_000_000 }))
        .to.emit(loanVault, "ReferenceRateUpdated")
        .withArgs(loanId, 630n, 1_230n);
      expect((await loanVault.stateOf(bombed)).referenceRateBps).to.equal(430n);
    });

    it("does not list a loan that is no longer Active", async () => {
      const { loanVault, referenceFeed } = f;
      const { loanId } = await feedLoan();
      await loanVault.connect(b1).repay(loanId, hre.ethers.MaxUint256);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
      await referenceFeed.pushAnswer(answerOf(630n));
      expect(await listed()).to.deep.equal([]);
      // the view agrees: a loan with a feed that is not Active has nothing pending
      const applied = (await loanVault.stateOf(loanId)).referenceRateBps;
      expect(await loanVault.pendingReferenceRate(loanId)).to.deep.equal([false, applied]);
      await expect(f.oracle.performUpkeep(performData([loanId]))).not.to.emit(
        loanVault,
        "ReferenceRateUpdated",
      );
    });
  });

  // ================================================================ the vault's view

  describe("LoanVault.pendingReferenceRate", () => {
    it("a fixed-rate loan, a loan not Active, and a feed at the applied rate: nothing pending", async () => {
      const { loanVault, referenceFeed } = f;
      const fixed = (await houseLoan()).loanId;
      expect(await loanVault.pendingReferenceRate(fixed)).to.deep.equal([false, 430n]);
      const { loanId } = await feedLoan();
      expect(await loanVault.pendingReferenceRate(loanId)).to.deep.equal([false, 430n]);
      await referenceFeed.pushAnswer(answerOf(630n));
      const approved = await approve(f, b2, P, "DAL-1", {
        referenceRateFeed: await referenceFeed.getAddress(),
      });
      const stored = (await loanVault.stateOf(approved)).referenceRateBps;
      expect(await loanVault.pendingReferenceRate(approved)).to.deep.equal([false, stored]);
    });

    it("a feed that moved: pending, at the feed's rate rounded up to a basis point", async () => {
      const { loanVault, referenceFeed } = f;
      const { loanId } = await feedLoan();
      await referenceFeed.pushAnswer(answerOf(630n) + 1n);
      expect(await loanVault.pendingReferenceRate(loanId)).to.deep.equal([true, 631n]);
      await referenceFeed.pushAnswer(answerOf(330n));
      expect(await loanVault.pendingReferenceRate(loanId)).to.deep.equal([true, 330n]);
    });

    it("reverts as a refresh would on an answer the vault refuses, changing nothing", async () => {
      const { loanVault, referenceFeed } = f;
      const feed = await referenceFeed.getAddress();
      const { loanId } = await feedLoan();
      const [, answer, , updatedAt] = await referenceFeed.latestRoundData();
      await time.increase(2 * DAY + 1);
      await expectRevert(loanId, () => loanVault.pendingReferenceRate(loanId), "LoanVaultBadReferenceRate", [
        feed,
        answer,
        updatedAt,
      ]);
      const t = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
      await referenceFeed.setRound(9, 0n, t);
      await expectRevert(loanId, () => loanVault.pendingReferenceRate(loanId), "LoanVaultBadReferenceRate", [
        feed,
        0n,
        t,
      ]);
      const tooHigh = answerOf(5_001n);
      await referenceFeed.setRound(10, tooHigh, t);
      await expectRevert(loanId, () => loanVault.pendingReferenceRate(loanId), "LoanVaultBadReferenceRate", [
        feed,
        tooHigh,
        t,
      ]);
    });
  });
});

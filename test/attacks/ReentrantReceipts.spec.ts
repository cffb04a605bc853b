import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, type Result } from "ethers";

const named = (r: unknown): Record<string, unknown> => (r as Result).toObject();

import { deployProtocol } from "../fixtures/protocol";
import { fundUsdai, mintReceipts, now, openLoan, stake } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { declareDefaultAt, fundBuyer, mintReceiptsTo } from "../helpers/recovery";
import { LoanStatus, loanTerms } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { NaiveLoanVault, ReentrantBorrower } from "../../typechain-types";
import { createFixture } from "../helpers/fixture";
import { deployAttackerContract } from "../helpers/attackers";

/**
 * Receipts move with safe transfers, so the receiver's `onERC721Received` runs inside `close` and `buy`. The attack: a
 * malicious borrower re-enters from that callback to be refunded twice. It succeeds against a deliberately naive
 * vault and must fail against the real LoanVault and CollateralAuction.
 */
const fixture = createFixture(async () => {
  const fx = await deployProtocol();
  const { actors } = fx;
  await stake(fx, actors.lender1, 1_000_000);
  const evil = await deployAttackerContract<ReentrantBorrower>(fx, "ReentrantBorrower");
  // the attacker's contract holds some USDai of its own
  await fundBuyer(fx, actors.attacker.address, usd(300_000));
  await fx.usdai.connect(actors.attacker).transfer(evil.target, usd(300_000));
  return { ...fx, evil };
});

type Fixture = Awaited<ReturnType<typeof fixture>>;

describe("Attack: re-entrancy through a receipt's onERC721Received", () => {
  let f: Fixture;
  let evil: ReentrantBorrower;

  beforeEach(async () => {
    f = await fixture();
    evil = f.evil;
  });

  /** The attacker's contract calls `target.fn(...args)`. */
  async function as(
    target: { target: unknown; interface: { encodeFunctionData: (...a: never[]) => string } },
    data: string,
  ) {
    return evil.connect(f.actors.attacker).execute(target.target as string, data);
  }

  describe("against NaiveLoanVault (deliberately unsafe)", () => {
    it("a borrower re-entering close is refunded twice, out of another borrower's lockbox", async () => {
      const { usdai, receipts, actors } = f;
      const naive = (await hre.ethers.deployContract("NaiveLoanVault", [
        usdai.target,
        receipts.target,
      ])) as unknown as NaiveLoanVault;
      await receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, naive.target);
      await fundBuyer(f, actors.lender2.address, usd(100_000));
      await fundUsdai(f, actors.borrower1, 10_000);
      await usdai.connect(actors.lender2).transfer(naive.target, usd(100_000));

      // an honest borrower: a loan and 5,000 of revenue in its lockbox
      const [honestReceipt] = await mintReceipts(f, actors.borrower1, 1, 10_000);
      await receipts.connect(actors.borrower1).setApprovalForAll(naive.target, true);
      await naive.connect(actors.borrower1).borrow([honestReceipt], usd(1_000));
      await usdai.connect(actors.borrower1).approve(naive.target, MaxUint256);
      await naive.connect(actors.borrower1).depositRevenue(1, usd(5_000));

      // the attacker: a loan, 5,000 of revenue, repaid in full
      const [evilReceipt] = await mintReceiptsTo(f, evil.target as string, 1, 10_000);
      const n = naive.interface;
      await as(
        receipts,
        receipts.interface.encodeFunctionData("setApprovalForAll", [naive.target as string, true]),
      );
      await as(naive, n.encodeFunctionData("borrow", [[evilReceipt], usd(1_000)]));
      await as(usdai, usdai.interface.encodeFunctionData("approve", [naive.target as string, MaxUint256]));
      await as(naive, n.encodeFunctionData("depositRevenue", [2, usd(5_000)]));
      await as(naive, n.encodeFunctionData("repay", [2, usd(1_000)]));

      const evilBefore = await usdai.balanceOf(evil.target);
      const vaultBefore = await usdai.balanceOf(naive.target);
      await evil.connect(actors.attacker).arm(naive.target, n.encodeFunctionData("close", [2]), false);
      await as(naive, n.encodeFunctionData("close", [2]));

      expect(await evil.reentrySuccesses()).to.equal(1n);
      // refunded 10,000 for a 5,000 lockbox
      expect((await usdai.balanceOf(evil.target)) - evilBefore).to.equal(usd(10_000));
      expect(vaultBefore - (await usdai.balanceOf(naive.target))).to.equal(usd(10_000));
      expect(await receipts.ownerOf(evilReceipt)).to.equal(evil.target);
      // 5,000 of other people's money is gone: without the attack the vault would hold 100,000 of capital - 1,000
      // lent to the honest borrower + its 5,000 lockbox = 104,000; it holds 99,000, still owing that lockbox
      expect((await naive.loanOf(1)).lockbox).to.equal(usd(5_000));
      expect(await usdai.balanceOf(naive.target)).to.equal(usd(104_000) - usd(5_000));
    });
  });

  describe("against the real LoanVault: close", () => {
    /** The attacker's contract borrows 6,000 against a 10,000 receipt, has 5,000 of revenue in its lockbox, repays. */
    async function repaidLoan(): Promise<{ loanId: bigint; receiptId: bigint }> {
      const { loanVault, usdai, receipts, actors } = f;
      const [receiptId] = await mintReceiptsTo(f, evil.target as string, 1, 10_000);
      await as(
        receipts,
        receipts.interface.encodeFunctionData("setApprovalForAll", [loanVault.target as string, true]),
      );
      const loanId = (await loanVault.loanCount()) + 1n;
      await loanVault
        .connect(actors.underwriter)
        .approveLoan(loanTerms(evil.target as string, usd(6_000), "DAL-1", await now()));
      await as(loanVault, loanVault.interface.encodeFunctionData("borrow", [loanId, [receiptId]]));
      await as(
        usdai,
        usdai.interface.encodeFunctionData("approve", [loanVault.target as string, MaxUint256]),
      );
      await as(loanVault, loanVault.interface.encodeFunctionData("depositRevenue", [loanId, usd(5_000)]));
      await time.increase(10 * 24 * 3600);
      await as(loanVault, loanVault.interface.encodeFunctionData("repay", [loanId, MaxUint256]));
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Repaid);
      return { loanId, receiptId };
    }

    it("re-entering close reverts the whole close (ReentrancyGuardReentrantCall), state unchanged", async () => {
      const { loanVault, usdai, receipts, actors } = f;
      const { loanId, receiptId } = await repaidLoan();
      const reads: Reads = {
        loan: async () => named(await loanVault.stateOf(loanId)),
        owner: () => receipts.ownerOf(receiptId),
        evil: () => usdai.balanceOf(evil.target),
        vault: () => usdai.balanceOf(loanVault.target),
      };
      const before = await snapshot(reads);
      const close = loanVault.interface.encodeFunctionData("close", [loanId]);
      await evil.connect(actors.attacker).arm(loanVault.target, close, false);
      await expect(as(loanVault, close)).to.be.revertedWithCustomError(
        loanVault,
        "ReentrancyGuardReentrantCall",
      );
      await expectUnchanged(before, reads);
    });

    for (const fn of [
      "close",
      "repay",
      "liquidate",
      "declareDefault",
      "sweep",
      "depositRevenue",
      "releaseExcess",
      "topUp",
      "checkCovenants",
      "borrow",
      "onAuctionSettled",
      "stepIn",
    ] as const) {
      it(`a swallowed re-entry of ${fn} fails; close refunds the lockbox exactly once`, async () => {
        const { loanVault, usdai, receipts, actors } = f;
        const { loanId, receiptId } = await repaidLoan();
        const refund = (await loanVault.stateOf(loanId)).lockbox + (await loanVault.stateOf(loanId)).reserve;
        expect(refund > 0n).to.equal(true);
        const vault = loanVault.interface;
        const data =
          fn === "repay" || fn === "depositRevenue"
            ? vault.encodeFunctionData(fn as "repay", [loanId, 1n])
            : fn === "releaseExcess"
              ? vault.encodeFunctionData(fn, [loanId, evil.target as string, refund])
              : fn === "topUp" || fn === "borrow"
                ? vault.encodeFunctionData(fn as "topUp", [loanId, [receiptId]])
                : fn === "onAuctionSettled"
                  ? vault.encodeFunctionData(fn, [loanId, 0n, evil.target as string])
                  : fn === "stepIn"
                    ? vault.encodeFunctionData(fn, [loanId, evil.target as string])
                    : vault.encodeFunctionData(fn as "close", [loanId]);
        await evil.connect(actors.attacker).arm(loanVault.target, data, true);
        const evilBefore = await usdai.balanceOf(evil.target);
        await expect(as(loanVault, loanVault.interface.encodeFunctionData("close", [loanId])))
          .to.emit(loanVault, "LoanClosed")
          .withArgs(loanId, evil.target, refund);
        expect(await evil.reentryAttempts()).to.equal(1n);
        expect(await evil.reentrySuccesses()).to.equal(0n);
        expect(await evil.lastRevert()).to.equal(
          loanVault.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
        );
        expect((await usdai.balanceOf(evil.target)) - evilBefore).to.equal(refund);
        expect(await receipts.ownerOf(receiptId)).to.equal(evil.target);
        expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Closed);
        // and close cannot run again
        await expect(loanVault.close(loanId))
          .to.be.revertedWithCustomError(loanVault, "LoanVaultBadStatus")
          .withArgs(loanId, LoanStatus.Closed);
      });
    }
  });

  describe("against the real CollateralAuction: buy", () => {
    async function liveAuction() {
      const { loanVault, auction, usdai, actors } = f;
      const { loanId, receiptIds } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
      await declareDefaultAt(f, loanId);
      await loanVault.connect(actors.creditAdmin).liquidate(loanId);
      const auctionId = await auction.auctionOfLoan(loanId);
      await as(usdai, usdai.interface.encodeFunctionData("approve", [auction.target as string, MaxUint256]));
      return { loanId, receiptId: receiptIds[0], auctionId };
    }

    it("re-entering buy from the buyer's callback reverts the whole purchase, state unchanged", async () => {
      const { auction, loanVault, usdai, receipts, actors } = f;
      const { loanId, receiptId, auctionId } = await liveAuction();
      const reads: Reads = {
        auction: async () => named(await auction.auctionOf(auctionId)),
        loan: async () => named(await loanVault.stateOf(loanId)),
        owner: () => receipts.ownerOf(receiptId),
        evil: () => usdai.balanceOf(evil.target),
        borrower: () => usdai.balanceOf(actors.borrower1.address),
        nav: () => f.susdai.totalAssets(),
      };
      const before = await snapshot(reads);
      const buy = auction.interface.encodeFunctionData("buy", [auctionId, usd(1_000_000)]);
      await evil.connect(actors.attacker).arm(auction.target, buy, false);
      await expect(as(auction, buy)).to.be.revertedWithCustomError(auction, "ReentrancyGuardReentrantCall");
      await expectUnchanged(before, reads);
    });

    it("every re-entry from the buyer's callback fails; the buyer pays once, the borrower's surplus is paid once", async () => {
      const { auction, loanVault, usdai, receipts, actors } = f;
      const guard = auction.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []);
      const { loanId, auctionId } = await liveAuction();
      const cases: [string, string, string][] = [
        [
          auction.target as string,
          auction.interface.encodeFunctionData("buy", [auctionId, usd(1_000_000)]),
          guard,
        ],
        [auction.target as string, auction.interface.encodeFunctionData("expire", [auctionId]), guard],
        [
          loanVault.target as string,
          loanVault.interface.encodeFunctionData("repay", [loanId, 1n]),
          loanVault.interface.encodeErrorResult("LoanVaultBadStatus", [loanId, LoanStatus.Recovered]),
        ],
        [
          loanVault.target as string,
          loanVault.interface.encodeFunctionData("liquidate", [loanId]),
          loanVault.interface.encodeErrorResult("LoanVaultBadStatus", [loanId, LoanStatus.Recovered]),
        ],
        [
          loanVault.target as string,
          loanVault.interface.encodeFunctionData("onAuctionSettled", [
            loanId,
            usd(1_000_000),
            evil.target as string,
          ]),
          loanVault.interface.encodeErrorResult("LoanVaultNotAuction", [evil.target as string]),
        ],
        // the loan is settled before the lot moves: every other path finds it Recovered
        ...(["close", "declareDefault"] as const).map((fn): [string, string, string] => [
          loanVault.target as string,
          loanVault.interface.encodeFunctionData(fn as "close", [loanId]),
          loanVault.interface.encodeErrorResult("LoanVaultBadStatus", [loanId, LoanStatus.Recovered]),
        ]),
        [
          loanVault.target as string,
          loanVault.interface.encodeFunctionData("depositRevenue", [loanId, 1n]),
          loanVault.interface.encodeErrorResult("LoanVaultBadStatus", [loanId, LoanStatus.Recovered]),
        ],
      ];
      let snap = await hre.network.provider.send("evm_snapshot");
      for (const [target, data, expected] of cases) {
        await hre.network.provider.send("evm_revert", [snap]);
        snap = await hre.network.provider.send("evm_snapshot");
        await evil.connect(actors.attacker).arm(target, data, true);
        const evilBefore = await usdai.balanceOf(evil.target);
        const borrowerBefore = await usdai.balanceOf(actors.borrower1.address);
        const tx = await as(
          auction,
          auction.interface.encodeFunctionData("buy", [auctionId, usd(1_000_000)]),
        );
        const receipt = await tx.wait();
        const bought = receipt!.logs
          .map((l) => {
            try {
              return auction.interface.parseLog(l);
            } catch {
              return null;
            }
          })
          .find((e) => e?.name === "AuctionBought");
        const price = bought!.args.price as bigint;
        const settled = receipt!.logs
          .map((l) => {
            try {
              return loanVault.interface.parseLog(l);
            } catch {
              return null;
            }
          })
          .filter((e) => e?.name === "AuctionSettled");
        expect(settled.length, data.slice(0, 10)).to.equal(1);
        expect(await evil.reentrySuccesses()).to.equal(0n);
        expect(await evil.lastRevert(), data.slice(0, 10)).to.equal(expected);
        expect(evilBefore - (await usdai.balanceOf(evil.target))).to.equal(price);
        expect((await usdai.balanceOf(actors.borrower1.address)) - borrowerBefore).to.equal(
          settled[0]!.args.surplus,
        );
        expect(await receipts.ownerOf((await loanVault.receiptsOf(loanId))[0])).to.equal(evil.target);
        expect((await auction.auctionOf(auctionId)).status).to.equal(2n);
      }
    });
  });
});

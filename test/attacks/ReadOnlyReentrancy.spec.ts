import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { type BaseContract, MaxUint256 } from "ethers";

import { LoanStatus, loanTerms } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { NaiveLoanVault, ReadOnlyReentrancyProbe } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { now, openLoan, stake } from "../helpers/loans";
import { declareDefaultAt, fundBuyer, mintReceiptsTo } from "../helpers/recovery";
import { createFixture } from "../helpers/fixture";
import { deployAttackerContract } from "../helpers/attackers";

/**
 * Read-only re-entrancy: a third party (a lending market pricing sUSDai, a dashboard) reads the protocol's views from
 * inside a receipt callback, while `close` or `buy` is still running. If a view there disagrees with the same view
 * once the transaction is over, the callback can act on a price that is about to change. `ReadOnlyReentrancyProbe` is
 * the borrower or buyer; in its callback it reads `loanAssets`, `totalAssets`, `convertToAssets`, the idle and
 * unvested balances and the loan's state, and the test compares each with the value at the end of the same block.
 * Against `NaiveLoanVault` the probe sees the loan open with its old lockbox; against the real vault and auction
 * every view already shows the final state (checks, effects, then interactions).
 */
interface View {
  name: string;
  target: BaseContract;
  data: string;
}

/** The views read mid-callback and after; the returned bytes are compared as they are. */
function protocolViews(f: Awaited<ReturnType<typeof deployProtocol>>, loanId: bigint): View[] {
  const { loanVault, susdai } = f;
  const v = (name: string, target: BaseContract, fn: string, args: unknown[] = []): View => ({
    name,
    target,
    data: target.interface.encodeFunctionData(fn, args),
  });
  return [
    v("loanAssets", loanVault, "loanAssets"),
    v("accrualState", loanVault, "accrualState"),
    v("totalAssets", susdai, "totalAssets"),
    v("convertToAssets(1e18)", susdai, "convertToAssets", [usd(1)]),
    v("convertToShares(1e18)", susdai, "convertToShares", [usd(1)]),
    v("idleAssets", susdai, "idleAssets"),
    v("unvestedGains", susdai, "unvestedGains"),
    v("totalSupply", susdai, "totalSupply"),
    v("cumulativeLosses", susdai, "cumulativeLosses"),
    v("stateOf(loan)", loanVault, "stateOf", [loanId]),
  ];
}

async function watch(probe: ReadOnlyReentrancyProbe, views: View[]): Promise<void> {
  await probe.watch(
    await Promise.all(views.map((x) => x.target.getAddress())),
    views.map((x) => x.data),
  );
}

/** Each view's return data at the end of `blockNumber`, next to what the probe saw mid-callback. */
async function compare(probe: ReadOnlyReentrancyProbe, views: View[], blockNumber: number) {
  const seen = await probe.seen();
  expect(seen.length, "the callback ran and read every view").to.equal(views.length);
  const out: { name: string; during: string; after: string }[] = [];
  for (const [i, view] of views.entries()) {
    const after = await hre.ethers.provider.call({
      to: await view.target.getAddress(),
      data: view.data,
      blockTag: blockNumber,
    });
    out.push({ name: view.name, during: seen[i], after });
  }
  return out;
}

describe("Attack: read-only re-entrancy of the views from a receipt callback", () => {
  const fixture = createFixture(async () => {
    const f = await deployProtocol();
    const { actors } = f;
    await stake(f, actors.lender1, 1_000_000);
    const probe = await deployAttackerContract<ReadOnlyReentrancyProbe>(f, "ReadOnlyReentrancyProbe");
    await fundBuyer(f, actors.attacker.address, usd(300_000));
    await f.usdai.connect(actors.attacker).transfer(probe.target, usd(300_000));
    const as = (target: BaseContract, fn: string, args: unknown[]) =>
      probe
        .connect(actors.attacker)
        .execute(target.target as string, target.interface.encodeFunctionData(fn, args));
    return { ...f, probe, as };
  });

  it("NaiveLoanVault: mid-close the probe sees the loan open with its lockbox, which the end of close zeroes", async () => {
    const f = await fixture();
    const { usdai, receipts, actors, probe, as } = f;
    const naive = (await hre.ethers.deployContract("NaiveLoanVault", [
      usdai.target,
      receipts.target,
    ])) as unknown as NaiveLoanVault;
    await receipts.connect(actors.deployer).grantRole(Roles.RECEIPT_HOLDER, naive.target);
    await fundBuyer(f, actors.lender2.address, usd(10_000));
    await usdai.connect(actors.lender2).transfer(naive.target, usd(10_000));
    const [receiptId] = await mintReceiptsTo(f, probe.target as string, 1, 10_000);
    await as(receipts, "setApprovalForAll", [naive.target, true]);
    await as(naive, "borrow", [[receiptId], usd(1_000)]);
    await as(usdai, "approve", [naive.target, MaxUint256]);
    await as(naive, "depositRevenue", [1n, usd(500)]);
    await as(naive, "repay", [1n, usd(1_000)]);
    const views: View[] = [
      { name: "loanOf(1)", target: naive, data: naive.interface.encodeFunctionData("loanOf", [1n]) },
    ];
    await watch(probe, views);
    const receipt = (await (await as(naive, "close", [1n])).wait())!;
    const [{ during, after }] = await compare(probe, views, receipt.blockNumber);
    expect(during).to.not.equal(after);
    const decode = (data: string) => naive.interface.decodeFunctionResult("loanOf", data)[0];
    expect(decode(during).lockbox).to.equal(usd(500));
    expect(decode(during).closed).to.equal(false);
    expect(decode(after).lockbox).to.equal(0n);
    expect(decode(after).closed).to.equal(true);
  });

  it("LoanVault.close: every view read mid-callback equals its value after the close", async () => {
    const f = await fixture();
    const { loanVault, receipts, usdai, actors, probe, as } = f;
    const [receiptId] = await mintReceiptsTo(f, probe.target as string, 1, 10_000);
    await as(receipts, "setApprovalForAll", [loanVault.target, true]);
    const loanId = (await loanVault.loanCount()) + 1n;
    await loanVault
      .connect(actors.underwriter)
      .approveLoan(loanTerms(probe.target as string, usd(6_000), "DAL-1", await now()));
    await as(loanVault, "borrow", [loanId, [receiptId]]);
    // another loan keeps accruing, so loanAssets is not trivially zero
    await openLoan(f, actors.borrower1, usd(60_000), 100_000);
    await as(usdai, "approve", [loanVault.target, MaxUint256]);
    await as(loanVault, "depositRevenue", [loanId, usd(2_000)]);
    await time.increase(10 * 24 * 3600);
    await as(loanVault, "repay", [loanId, MaxUint256]);
    const views = protocolViews(f, loanId);
    await watch(probe, views);
    const receipt = (await (await as(loanVault, "close", [loanId])).wait())!;
    for (const { name, during, after } of await compare(probe, views, receipt.blockNumber)) {
      expect(during, name).to.equal(after);
    }
    expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Closed);
  });

  it("CollateralAuction.buy: every view read mid-callback equals its value after the purchase (surplus and gain booked)", async () => {
    const f = await fixture();
    const { loanVault, auction, usdai, probe, as, actors } = f;
    const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
    await openLoan(f, actors.borrower2, usd(30_000), 100_000);
    await declareDefaultAt(f, loanId);
    await loanVault.connect(actors.creditAdmin).liquidate(loanId);
    const auctionId = await auction.auctionOfLoan(loanId);
    await as(usdai, "approve", [auction.target, MaxUint256]);
    const views = protocolViews(f, loanId);
    await watch(probe, views);
    const receipt = (await (await as(auction, "buy", [auctionId, usd(300_000)])).wait())!;
    const compared = await compare(probe, views, receipt.blockNumber);
    for (const { name, during, after } of compared) expect(during, name).to.equal(after);
    expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Recovered);
    // the purchase did move these views, so the equality above is about the final values
    expect(await f.susdai.unvestedGains()).to.be.greaterThan(0n);
  });
});

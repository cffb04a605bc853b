import { MaxUint256 } from "ethers";

import { getGpuReceipt, getLoanVault, getStakedUSDai } from "../../helpers/contracts";
import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { LoanStatus, loanTerms } from "../../helpers/loans";
import { usd, usdc } from "../../helpers/units";
import { advance, DAY, type DemoContext } from "./context";

const PRINCIPAL_USD = 400_000;
const PAYMENTS = 12;
const MONTHLY_REVENUE_USD = 48_000;

/**
 * Chapter 3, a loan from approval to closing: lenders stake USDai in sUSDai; the underwriter approves a 12-month loan
 * for borrower1 against its three DAL-1 receipts; each month the operator's customers pay compute revenue into the
 * loan's lockbox and a keeper runs the waterfall after the due date (interest, scheduled principal, the debt-service
 * reserve, then the excess, which the borrower releases while in good standing); the balloon is paid at maturity, the
 * loan closes and the receipts go home. sUSDai's price rises by the interest.
 */
export async function loansChapter(ctx: DemoContext): Promise<void> {
  const { hre, actors, log, contracts } = ctx;
  const { reserve, usdai } = contracts;
  const [vault, susdai, receipts] = await Promise.all([
    getLoanVault(hre),
    getStakedUSDai(hre),
    getGpuReceipt(hre),
  ]);
  log("\n== 3. A loan: approval, borrow, 12 monthly waterfalls from the lockbox, balloon, close ==");

  // Lenders stake: sUSDai's NAV is what the concentration caps are measured against.
  for (const lender of [actors.lender1, actors.lender2]) {
    await reserve.mint(lender.address, usdc(1_000_000));
    await reserve.connect(lender).approve(await usdai.getAddress(), MaxUint256);
    await usdai.connect(lender).deposit(usdc(1_000_000), usd(1_000_000), lender.address);
    await usdai.connect(lender).approve(await susdai.getAddress(), MaxUint256);
    await susdai.connect(lender)["deposit(uint256,address)"](usd(1_000_000), lender.address);
  }
  const price = async () => susdai.convertToAssets(usd(1));
  const priceBefore = await price();
  log(`  lenders staked 2,000,000 USDai; sUSDai NAV ${formatUsd(await susdai.totalAssets())}`);

  // borrower1's DAL-1 receipts from the fleet chapter.
  const borrower = actors.borrower1;
  const owned: bigint[] = [];
  for (let id = 1n; id < (await receipts.nextTokenId()); id++) {
    if ((await receipts.ownerOf(id)) === borrower.address) owned.push(id);
  }
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const loanId = (await vault.loanCount()) + 1n;
  await vault
    .connect(actors.underwriter)
    .approveLoan(loanTerms(borrower.address, usd(PRINCIPAL_USD), "DAL-1", now, { numPayments: PAYMENTS }));
  await receipts.connect(borrower).setApprovalForAll(await vault.getAddress(), true);
  await vault.connect(borrower).borrow(loanId, owned);
  const terms = await vault.termsOf(loanId);
  log(
    `  loan #${loanId}: ${formatUsd(terms.principal)} to borrower1 against receipts ${owned.join(", ")} ` +
      `(LTV ${formatBps(await vault.ltvOf(loanId))}, coupon ${formatBps(await vault.couponOf(loanId))})`,
  );

  // The operator's customers pay into the lockbox; a keeper sweeps after each due date.
  const customer = actors.custodian;
  await reserve.mint(customer.address, usdc(2_000_000));
  await reserve.connect(customer).approve(await usdai.getAddress(), MaxUint256);
  await usdai.connect(customer).deposit(usdc(2_000_000), usd(2_000_000), customer.address);
  await usdai.connect(customer).approve(await vault.getAddress(), MaxUint256);

  const rows: string[][] = [];
  const months = [];
  for (let month = 1; month <= PAYMENTS; month++) {
    const [dueDate] = await vault.nextPayment(loanId);
    const revenue = usd(month === PAYMENTS ? MONTHLY_REVENUE_USD + 300_000 : MONTHLY_REVENUE_USD);
    await vault.connect(customer).depositRevenue(loanId, revenue);
    const current = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    await advance(hre, Number(dueDate) - current + DAY);
    const principalBefore = (await vault.stateOf(loanId)).principal;
    const receipt = await (await vault.connect(actors.keeper).sweep(loanId)).wait();
    const swept = receipt!.logs.map((l) => vault.interface.parseLog(l)).find((p) => p?.name === "Swept");
    const state = await vault.stateOf(loanId);
    let released = 0n;
    // The release sweeps first, so the seconds of interest since the keeper's sweep come out of the excess.
    if (state.lockbox > usd(1) && (await vault.inGoodStanding(loanId))) {
      released = state.lockbox - usd(1);
      await vault.connect(borrower).releaseExcess(loanId, borrower.address, released);
    }
    // `Swept.applied` = late fees + interest + principal; this loan is never late.
    const principal = principalBefore - state.principal;
    const interest = (swept ? (swept.args.applied as bigint) : 0n) - principal;
    const sharePrice = await price();
    rows.push([
      String(month),
      formatUsd(revenue),
      formatUsd(interest),
      formatUsd(principal),
      formatUsd(state.reserve),
      formatUsd(released),
      formatUsd(await vault.debtOf(loanId)),
      state.status === LoanStatus.Repaid ? "repaid" : formatBps(await vault.ltvOf(loanId)),
      hre.ethers.formatUnits(sharePrice, 18).slice(0, 8),
    ]);
    months.push({
      month,
      revenue: revenue.toString(),
      interest: interest.toString(),
      principal: principal.toString(),
      reserve: state.reserve.toString(),
      released: released.toString(),
      sharePrice: sharePrice.toString(),
    });
  }
  log(
    formatTable(
      ["month", "revenue", "interest", "principal", "reserve", "released", "debt", "LTV", "sUSDai"],
      rows,
      ["right", "right", "right", "right", "right", "right", "right", "right", "right"],
    ),
  );

  const status = (await vault.stateOf(loanId)).status;
  if (status !== LoanStatus.Repaid) throw new Error(`loan #${loanId} is not repaid (status ${status})`);
  await vault.close(loanId);
  const home = await Promise.all(owned.map((id) => receipts.ownerOf(id)));
  if (home.some((owner) => owner !== borrower.address))
    throw new Error("receipts did not return to the borrower");
  const priceAfter = await price();
  log(
    `  loan #${loanId} closed; receipts ${owned.join(", ")} returned to borrower1; sUSDai price ` +
      `${hre.ethers.formatUnits(priceBefore, 18)} -> ${hre.ethers.formatUnits(priceAfter, 18)}`,
  );
  ctx.report.chapters.loans = {
    loanId: loanId.toString(),
    principal: terms.principal.toString(),
    receipts: owned.map(String),
    months,
    closed: true,
    sharePriceBefore: priceBefore.toString(),
    sharePriceAfter: priceAfter.toString(),
  };
}

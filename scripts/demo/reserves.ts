import { MaxUint256 } from "ethers";

import { formatAmount, formatTable, formatUsd } from "../../helpers/format";
import { advance, MONTH, type DemoContext } from "./context";
import { usd, usdc } from "../../helpers/units";

/**
 * Chapter 1, reserves: lenders mint USDai with USDC, the reserve manager parks 80% in tokenized T-bills, a year
 * passes, and the T-bill yield is harvested to the yield recipient. One lender then redeems more than the liquid
 * buffer, which pulls the difference back from the T-bill vault.
 */
export async function reservesChapter(ctx: DemoContext): Promise<void> {
  const { actors, contracts, hre, log } = ctx;
  const { usdai, reserve, tbill } = contracts;
  const scale = await usdai.reserveScale();

  log("\n== 1. Reserves: USDC in, USDai out, idle reserves in T-bills ==");
  const deposits = [
    { lender: actors.lender1, name: "lender1", amount: usdc(250_000) },
    { lender: actors.lender2, name: "lender2", amount: usdc(150_000) },
    { lender: actors.lender3, name: "lender3", amount: usdc(100_000) },
  ];
  for (const { lender, name, amount } of deposits) {
    await reserve.mint(lender.address, amount);
    await reserve.connect(lender).approve(await usdai.getAddress(), MaxUint256);
    await usdai.connect(lender).deposit(amount, amount * scale, lender.address);
    log(`  ${name} deposited ${formatAmount(amount, 6)} USDC -> ${formatUsd(amount * scale)} USDai`);
  }

  const toAllocate = ((await usdai.liquidReserves()) * 80n) / 100n;
  await usdai.connect(actors.reserveManager).allocate(toAllocate);
  log(`  reserve manager allocated ${formatAmount(toAllocate, 6)} USDC to the T-bill vault`);

  const rows: string[][] = [];
  const monthly: Record<string, string>[] = [];
  for (let month = 1; month <= 12; month++) {
    await advance(hre, MONTH);
    const reserves = await usdai.totalReserves();
    const surplus = await usdai.surplus();
    rows.push([
      String(month),
      formatAmount(await usdai.liquidReserves(), 6),
      formatAmount(await usdai.allocatedReserves(), 6),
      formatAmount(reserves, 6),
      formatUsd(await usdai.totalSupply()),
      formatUsd(surplus),
    ]);
    monthly.push({ month: String(month), reserves: reserves.toString(), surplus: surplus.toString() });
  }
  log(
    formatTable(["month", "liquid USDC", "T-bills USDC", "reserves USDC", "USDai supply", "surplus"], rows, [
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
    ]),
  );

  const recipient = await usdai.yieldRecipient();
  const before = await usdai.balanceOf(recipient);
  await usdai.connect(actors.keeper).harvest();
  const harvested = (await usdai.balanceOf(recipient)) - before;
  log(`  harvest: ${formatUsd(harvested)} USDai of T-bill yield minted to the yield recipient ${recipient}`);

  const redeemAmount = usd("200000");
  const liquidBefore = await usdai.liquidReserves();
  await usdai.connect(actors.lender1).redeem(redeemAmount, 0n, actors.lender1.address);
  log(
    `  lender1 redeemed ${formatUsd(redeemAmount)} USDai; the buffer held ${formatAmount(liquidBefore, 6)} USDC ` +
      `so the rest came from T-bills`,
  );

  const tbillApy = await tbill.apyBps();
  ctx.report.chapters.reserves = {
    deposits: deposits.map(({ name, amount }) => ({ lender: name, usdc: amount.toString() })),
    allocated: toAllocate.toString(),
    tbillApyBps: tbillApy.toString(),
    monthly,
    harvested: harvested.toString(),
    supplyAfter: (await usdai.totalSupply()).toString(),
    reservesAfter: (await usdai.totalReserves()).toString(),
  };
}

import { MaxUint256 } from "ethers";

import { formatAmount, formatTable, formatUsd } from "../../helpers/format";
import { usd, usdc } from "../../helpers/units";
import { samplePrice, sharePrice, type DemoContext } from "./context";
import { LENDERS, TBILL_ALLOCATION_BPS } from "./scenario";

/**
 * Chapter 1, lenders deposit: each lender mints USDai 1:1 with USDC and stakes most of it in sUSDai (ERC-4626); the
 * reserve manager parks part of the idle USDC reserves in the tokenized T-bill vault, whose yield is harvested into
 * sUSDai every quarter of the story.
 */
export async function lendersChapter(ctx: DemoContext): Promise<void> {
  const { actors, fx, log } = ctx;
  const { reserve, usdai, susdai, tbill } = fx;
  log("\n== 1. Lenders deposit: USDC -> USDai -> sUSDai; idle reserves into T-bills ==");

  const rows: string[][] = [];
  for (const { name, usdc: amount, stake } of LENDERS) {
    const lender = actors[name];
    await reserve.mint(lender.address, usdc(amount));
    await reserve.connect(lender).approve(await usdai.getAddress(), MaxUint256);
    await usdai.connect(lender).deposit(usdc(amount), usd(amount), lender.address);
    await usdai.connect(lender).approve(await susdai.getAddress(), MaxUint256);
    await susdai.connect(lender)["deposit(uint256,address,uint256)"](usd(stake), lender.address, usd(stake));
    const shares = await susdai.balanceOf(lender.address);
    rows.push([
      name,
      formatAmount(usdc(amount), 6),
      formatUsd(usd(amount)),
      formatUsd(usd(stake)),
      formatUsd(shares).slice(1),
    ]);
  }
  log(
    formatTable(["lender", "USDC in", "USDai minted", "staked", "sUSDai shares"], rows, [
      "left",
      "right",
      "right",
      "right",
      "right",
    ]),
  );

  const allocated = ((await usdai.liquidReserves()) * BigInt(TBILL_ALLOCATION_BPS)) / 10_000n;
  await usdai.connect(actors.reserveManager).allocate(allocated);
  const apy = await tbill.apyBps();
  log(
    `  reserve manager allocated ${formatAmount(allocated, 6)} USDC of ${formatAmount(await usdai.totalReserves(), 6)} ` +
      `to the T-bill vault (${(Number(apy) / 100).toFixed(2)}% APY); liquid buffer ${formatAmount(await usdai.liquidReserves(), 6)} USDC`,
  );
  log(
    `  sUSDai NAV ${formatUsd(await susdai.totalAssets())}, price ${(Number(await sharePrice(ctx)) / 1e18).toFixed(6)}`,
  );
  await samplePrice(ctx, "lenders staked");

  ctx.report.chapters.lenders = {
    deposits: LENDERS.map(({ name, usdc: amount, stake }) => ({
      lender: name,
      usdc: usdc(amount).toString(),
      staked: usd(stake).toString(),
    })),
    tbillAllocatedUsdc: allocated.toString(),
    tbillApyBps: Number(apy),
    navAfter: (await susdai.totalAssets()).toString(),
  };
}

/** A T-bill harvest: the surplus of reserves over USDai supply is minted to sUSDai, where it vests. */
export async function harvestTBills(ctx: DemoContext): Promise<bigint> {
  const { fx, actors } = ctx;
  const recipient = await fx.usdai.yieldRecipient();
  const before = await fx.usdai.balanceOf(recipient);
  await fx.usdai.connect(actors.keeper).harvest();
  return (await fx.usdai.balanceOf(recipient)) - before;
}

import { formatAmount, formatTable, formatUsd } from "../../helpers/format";
import { moveTo, now, samplePrice, sharePrice, storyDay, type DemoContext } from "./context";
import { REDEEM_BPS } from "./scenario";

/**
 * Chapter 8, a queued redemption: lender2 asks to redeem a quarter of its sUSDai (ERC-7540 `requestRedeem`; the
 * shares leave its balance and wait in the FIFO queue), a keeper services the queue once the cooldown has passed
 * (priced then, from idle USDai), and lender2 claims with the ERC-7540 `redeem`, then turns the USDai back into USDC.
 */
export async function redemptionChapter(ctx: DemoContext): Promise<void> {
  const { fx, actors, log } = ctx;
  const { susdai, usdai } = fx;
  const lender = actors.lender2;
  log("\n== 8. A queued redemption (ERC-7540) ==");

  const rows: string[][] = [];
  const row = async (event: string) =>
    rows.push([
      storyDay(ctx, await now(ctx.hre)).toFixed(1),
      event,
      (Number(await sharePrice(ctx)) / 1e18).toFixed(6),
      formatUsd(await susdai.pendingRedeemRequest(0n, lender.address)).slice(1),
      formatUsd(await susdai.claimableRedeemRequest(0n, lender.address)).slice(1),
      formatUsd(await susdai.idleAssets(), 0),
    ]);

  const shares = ((await susdai.balanceOf(lender.address)) * BigInt(REDEEM_BPS)) / 10_000n;
  await susdai.connect(lender).requestRedeem(shares, lender.address, lender.address);
  const requestDay = storyDay(ctx, await now(ctx.hre));
  await row(`lender2 requests ${formatUsd(shares).slice(1)} shares`);
  const [cooldown] = await susdai.params();
  await moveTo(ctx.hre, (await now(ctx.hre)) + Number(cooldown) + 1);
  await fx.susdai.connect(actors.keeper).serviceRedemptions(10n);
  const serviceDay = storyDay(ctx, await now(ctx.hre));
  const priceAtService = await sharePrice(ctx);
  await row(`keeper services the queue after the ${Number(cooldown) / 86_400}-day cooldown`);
  const claimable = await susdai.claimableRedeemRequest(0n, lender.address);
  const before = await usdai.balanceOf(lender.address);
  await susdai.connect(lender).redeem(claimable, lender.address, lender.address);
  const received = (await usdai.balanceOf(lender.address)) - before;
  await row(`lender2 claims ${formatUsd(received)}`);
  log(
    formatTable(["day", "event", "sUSDai price", "pending shares", "claimable shares", "idle USDai"], rows, [
      "right",
      "left",
      "right",
      "right",
      "right",
      "right",
    ]),
  );
  await samplePrice(ctx, "redemption claimed");

  const usdcBefore = await fx.reserve.balanceOf(lender.address);
  await usdai.connect(lender).redeem(received, 0n, lender.address);
  const usdcOut = (await fx.reserve.balanceOf(lender.address)) - usdcBefore;
  await ctx.progress(
    `lender2 redeems ${formatUsd(received)} USDai for ${formatAmount(usdcOut, 6)} USDC ` +
      `(liquid buffer ${formatAmount(await usdai.liquidReserves(), 6)} USDC, T-bills ${formatAmount(await usdai.allocatedReserves(), 6)} USDC)`,
  );
  if (received === 0n) throw new Error("the queued redemption paid nothing");
  ctx.report.redemption = {
    lender: "lender2",
    requestedShares: shares.toString(),
    requestDay: Number(requestDay.toFixed(2)),
    serviceDay: Number(serviceDay.toFixed(2)),
    cooldownSeconds: Number(cooldown),
    claimableShares: claimable.toString(),
    claimedAssets: received.toString(),
    sharePriceAtService: priceAtService.toString(),
  };
}

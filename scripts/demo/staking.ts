import { getStakedUSDai } from "../../helpers/contracts";
import { formatTable, formatUsd } from "../../helpers/format";
import { usd } from "../../helpers/units";
import { advance, DAY, type DemoContext } from "./context";

const sharePrice = (raw: bigint) => (Number(raw) / 1e18).toFixed(6);

/**
 * Chapter 4, the yield share: the T-bill yield accrued since the reserves chapter is harvested into sUSDai and vests
 * over a day (the price does not jump, so a harvest cannot be sandwiched); then lender2 queues a redemption, a keeper
 * services the queue after the cooldown, and lender2 claims its USDai with the ERC-7540 `redeem`.
 */
export async function stakingChapter(ctx: DemoContext): Promise<void> {
  const { hre, actors, log, contracts } = ctx;
  const { usdai } = contracts;
  const susdai = await getStakedUSDai(hre);
  log("\n== 4. sUSDai: a vested harvest, then a queued redemption ==");

  const price = () => susdai.convertToAssets(usd(1));
  const rows: string[][] = [];
  const row = async (event: string) =>
    rows.push([
      event,
      sharePrice(await price()),
      formatUsd(await susdai.totalAssets()),
      formatUsd(await susdai.unvestedGains()),
    ]);

  await advance(hre, 90 * DAY);
  await row("90 days of T-bill yield accrued");
  const surplus = await usdai.surplus();
  await usdai.connect(actors.keeper).harvest();
  await row(`harvested ${formatUsd(surplus)} (vesting)`);
  await advance(hre, DAY / 2);
  await row("half the vesting period");
  await advance(hre, DAY);
  await row("fully vested");
  const vestedPrice = await price();

  const lender = actors.lender2;
  const shares = (await susdai.balanceOf(lender.address)) / 4n;
  await susdai.connect(lender).requestRedeem(shares, lender.address, lender.address);
  await row(`lender2 requests ${formatUsd(shares).slice(1)} shares`);
  const [cooldown] = await susdai.params();
  await advance(hre, Number(cooldown) + 1);
  await susdai.connect(actors.keeper).serviceRedemptions(10n);
  const claimable = await susdai.claimableRedeemRequest(0n, lender.address);
  await row("keeper services the queue after the cooldown");
  const before = await usdai.balanceOf(lender.address);
  await susdai.connect(lender).redeem(claimable, lender.address, lender.address);
  const received = (await usdai.balanceOf(lender.address)) - before;
  await row(`lender2 claims ${formatUsd(received)}`);

  log(formatTable(["event", "sUSDai price", "NAV", "unvested"], rows, ["left", "right", "right", "right"]));
  if (received === 0n) throw new Error("the queued redemption paid nothing");
  ctx.report.chapters.staking = {
    harvested: surplus.toString(),
    priceAfterVesting: vestedPrice.toString(),
    redeemedShares: claimable.toString(),
    receivedUsdai: received.toString(),
  };
}

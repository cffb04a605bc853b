import hre from "hardhat";

import { deployProtocol } from "../../test/fixtures/protocol";
import { createContext, DAY, HOUR, MONTH_DAYS, moveTo } from "../demo/context";
import { fleetChapter } from "../demo/fleet";
import { lendersChapter } from "../demo/lenders";
import { loansChapter } from "../demo/loans";
import { dailyReadingA, setupMonitoring } from "../demo/monitoring";
import { fundCustomers, monthlyTick } from "../demo/payments";

/**
 * The web app's story (`npm run test:app` plays it on a local node before the browser tests): the opening of the demo
 * story, driven by the demo's own chapters against the deploy scripts' contracts, and cut short so that a browser
 * test of every page fits in CI's budget. Lenders deposit and stake; the fleet is tokenized (attested, appraised,
 * insured receipts); two operators borrow against it; the oracle is configured, loan A is read daily for
 * `APP_STORY_DAYS` days (default 35) and both loans make their first monthly payment through the lockbox waterfall.
 * Both loans end the story active, with history in every indexer table the app reads.
 *
 * `npx hardhat run scripts/app/story.ts --network localhost` (the full 18 months are `npm run demo`).
 */
async function main(): Promise<void> {
  const days = Number(process.env.APP_STORY_DAYS ?? 35);
  if (!Number.isInteger(days) || days < 1 || days > 120) throw new Error("APP_STORY_DAYS must be 1..120");
  const started = Date.now();
  const ctx = await createContext(hre, await deployProtocol());
  await lendersChapter(ctx);
  await fleetChapter(ctx);
  await loansChapter(ctx);
  await fundCustomers(ctx);
  await setupMonitoring(ctx);

  // The demo's timeline, cut at `days`: daily readings of loan A, and each loan's monthly payment.
  const queue: { at: number; seq: number; label: string; run: () => Promise<void> }[] = [];
  let seq = 0;
  ctx.schedule = (at, label, run) => {
    queue.push({ at, seq: seq++, label, run });
  };
  for (let day = 1; day <= days; day++) {
    ctx.schedule(ctx.t0 + day * DAY + HOUR, `oracle reading, day ${day}`, () => dailyReadingA(ctx, day));
  }
  for (let month = 1; month * MONTH_DAYS + 1 <= days; month++) {
    ctx.schedule(ctx.t0 + (month * MONTH_DAYS + 1) * DAY + 2 * HOUR, `month ${month}`, () =>
      monthlyTick(ctx, month),
    );
  }
  const horizon = ctx.t0 + days * DAY + 3 * HOUR;
  for (;;) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const action = queue[0];
    if (!action || action.at > horizon) break;
    queue.shift();
    await moveTo(ctx.hre, action.at);
    await action.run();
  }
  const block = await hre.ethers.provider.getBlockNumber();
  console.log(
    `\napp story: ${days} days played, ${ctx.loans.length} loans, block ${block}, ` +
      `${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

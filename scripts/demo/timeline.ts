import { DAY, HOUR, MONTH_DAYS, moveTo, type DemoContext } from "./context";
import { dailyReadingA } from "./monitoring";
import { monthlyTick } from "./payments";
import { DAILY_READING_DAYS, MONTHS } from "./scenario";

/**
 * Chapters 4 to 7 share one 18-month clock. Day 0 is the first loan's draw. Loan A's fleet is read every day for the
 * first 120 days (01:00 after each day mark); every 30 days, one day after the loans' due dates (02:00), both loans
 * are read and paid. Events that chapters queue on the way (a top-up inside the cure period, a default once a loan is
 * defaultable, the auction's sale) run at their own times. Time only moves forward, with Hardhat's time helpers.
 */

interface Action {
  at: number;
  seq: number;
  label: string;
  run: () => Promise<void>;
}

export async function runTimeline(ctx: DemoContext): Promise<void> {
  const queue: Action[] = [];
  let seq = 0;
  ctx.schedule = (at, label, run) => {
    queue.push({ at, seq: seq++, label, run });
  };
  for (let day = 1; day <= DAILY_READING_DAYS; day++) {
    ctx.schedule(ctx.t0 + day * DAY + HOUR, `oracle reading, day ${day}`, () => dailyReadingA(ctx, day));
  }
  for (let month = 1; month <= MONTHS; month++) {
    ctx.schedule(ctx.t0 + (month * MONTH_DAYS + 1) * DAY + 2 * HOUR, `month ${month}`, () =>
      monthlyTick(ctx, month),
    );
  }

  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const action = queue.shift()!;
    await moveTo(ctx.hre, action.at);
    try {
      await action.run();
    } catch (err) {
      throw new Error(`timeline action "${action.label}" failed: ${(err as Error).message}`, { cause: err });
    }
  }
  ctx.schedule = () => {
    throw new Error("the timeline has ended");
  };
}

import { World } from "../world";
import { type Params } from "../execution";
import { count } from "../counters";
import { request, setNextBlockTimestamp } from "../rpc";

/**
 * Handlers of time: the clock moves forward by a drawn amount, which is what makes payments late, streaks fire and
 * auctions decay.
 */

export async function warp(w: World, p: Params) {
  // `time.increase`: one empty block `seconds` after the latest (which the previous check found at `w.now`).
  w.now += BigInt(p.seconds as number);
  await setNextBlockTimestamp(w.now);
  await request("evm_mine");
  count("warp", null);
}

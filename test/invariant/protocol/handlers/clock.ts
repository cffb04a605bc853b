import { time } from "@nomicfoundation/hardhat-network-helpers";
import { World } from "../world";
import { type Params } from "../execution";
import { count } from "../counters";

/**
 * Handlers of time: the clock moves forward by a drawn amount, which is what makes payments late, streaks fire and
 * auctions decay.
 */

export async function warp(w: World, p: Params) {
  await time.increase(p.seconds as number);
  w.now += BigInt(p.seconds as number);
  count("warp", null);
}

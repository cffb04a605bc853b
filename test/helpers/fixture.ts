import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";

/**
 * `hre.deployments.createFixture` with the clock restored along with the state.
 *
 * A snapshot restores the chain's blocks but not its clock: the block after `evm_revert` is stamped with the snapshot's
 * time plus the wall-clock seconds spent since the snapshot was taken. A test that reads the latest block, adds a
 * few seconds and pins its next transaction there (`time.setNextBlockTimestamp(latest + 10)`) then passes or fails
 * by how long the suite has run so far: it failed under `hardhat coverage`, on a loaded machine and after slow
 * suites. Every fixture built here pins the block after each restore to `latest + 1`, so a test's timestamps
 * depend only on what the test does, never on the wall clock, the order of the suites or `FUZZ_RUNS`.
 */
export function createFixture<T>(build: () => Promise<T>): () => Promise<T> {
  const load = hre.deployments.createFixture(build);
  return async () => {
    const data = await load();
    await pinClock();
    return data;
  };
}

/** Stamps the next block one second after the latest one (call it after restoring any snapshot). */
export async function pinClock(): Promise<void> {
  await time.setNextBlockTimestamp((await time.latest()) + 1);
}

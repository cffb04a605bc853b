import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { getReserveToken, getTBillVault, getUSDai } from "../../helpers/contracts";
import { getActors, type Actors } from "../../helpers/actors";

/** Everything a demo chapter needs: the runtime, named actors, deployed contracts, and the report it adds to. */
export interface DemoContext {
  hre: HardhatRuntimeEnvironment;
  actors: Actors;
  contracts: {
    reserve: Awaited<ReturnType<typeof getReserveToken>>;
    tbill: Awaited<ReturnType<typeof getTBillVault>>;
    usdai: Awaited<ReturnType<typeof getUSDai>>;
  };
  report: DemoReport;
  log(message: string): void;
}

/** The machine-readable outcome written to reports/demo.json. Amounts are decimal strings in token units. */
export interface DemoReport {
  network: string;
  startedAt: string;
  chapters: Record<string, unknown>;
}

export async function createContext(hre: HardhatRuntimeEnvironment): Promise<DemoContext> {
  const startedAt = new Date((await hre.ethers.provider.getBlock("latest"))!.timestamp * 1000).toISOString();
  return {
    hre,
    actors: await getActors(),
    contracts: {
      reserve: await getReserveToken(hre),
      tbill: await getTBillVault(hre),
      usdai: await getUSDai(hre),
    },
    report: { network: hre.network.name, startedAt, chapters: {} },
    log: (message: string) => console.log(message),
  };
}

/** Moves the chain forward by `seconds` and mines a block. */
export async function advance(hre: HardhatRuntimeEnvironment, seconds: number): Promise<void> {
  await hre.network.provider.send("evm_increaseTime", [seconds]);
  await hre.network.provider.send("evm_mine", []);
}

export const DAY = 24 * 60 * 60;
export const MONTH = 30 * DAY;

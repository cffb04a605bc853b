import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ContractTransactionResponse } from "ethers";

import { printProfile } from "./profile";

/** One measured operation. `key` indexes `gas/ceilings.json`. */
export interface GasRow {
  key: string;
  gas: bigint;
  /** Free text shown in the table, e.g. the state it was measured in. */
  note?: string;
}

/** A group of measurements over a fresh deployment (the harness restores a snapshot before each suite). */
export interface BenchSuite {
  name: string;
  run(hre: HardhatRuntimeEnvironment): Promise<GasRow[]>;
}

/** Gas used by a mined transaction. */
export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction was not mined");
  if (process.env.BENCH_PROFILE) {
    const hre = (await import("hardhat")).default;
    await printProfile(hre, receipt.hash, receipt.gasUsed);
  }
  return receipt.gasUsed;
}

/** Execution gas of a view call through the GasProbe contract (cold target access included). */
export async function viewGas(
  hre: HardhatRuntimeEnvironment,
  target: {
    getAddress(): Promise<string>;
    interface: { encodeFunctionData(fn: string, args: unknown[]): string };
  },
  fn: string,
  args: unknown[] = [],
): Promise<bigint> {
  const probe = await getProbe(hre);
  const [gasUsed] = await probe.measure(
    await target.getAddress(),
    target.interface.encodeFunctionData(fn, args),
  );
  return gasUsed;
}

let probeAddress: string | undefined;
async function getProbe(hre: HardhatRuntimeEnvironment) {
  if (probeAddress && (await hre.ethers.provider.getCode(probeAddress)) !== "0x") {
    return hre.ethers.getContractAt("GasProbe", probeAddress);
  }
  const probe = await hre.ethers.deployContract("GasProbe");
  probeAddress = await probe.getAddress();
  return probe;
}

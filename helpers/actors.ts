import hre from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { NAMED_ACCOUNT_NAMES, type NamedAccount } from "../config/env";

export type Actors = Record<NamedAccount, HardhatEthersSigner>;

/** Every named account of the Hardhat config as a signer, so tests say `actors.guardian`, never an index. */
export async function getActors(): Promise<Actors> {
  const named = await hre.getNamedAccounts();
  const entries = await Promise.all(
    NAMED_ACCOUNT_NAMES.map(async (name) => [name, await hre.ethers.getSigner(named[name])] as const),
  );
  return Object.fromEntries(entries) as Actors;
}

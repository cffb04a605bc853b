import { Cores } from "../helpers/deploy-ids";
import { getProtocolConfig, isLocalNetwork } from "./protocol";

/**
 * Governance handover (deploy/99_governance.ts): on public networks a TimelockController becomes DEFAULT_ADMIN and
 * UPGRADER of every core contract and the deployer renounces both. Locally the deployer keeps them for convenience,
 * unless `GOVERNANCE_HANDOVER=1` forces the handover (tests do, to exercise the script on the in-process network).
 * Environment variables are read when the script runs, not at import, so a test can set them.
 */

/** Core contracts, by deployment name, whose governance moves to the timelock (those not deployed are skipped). */
export const GOVERNED_CONTRACTS = Cores;

/** The roles handed to the timelock and renounced by the deployer (the operational roles are not touched). */
export const GOVERNANCE_ROLES = ["DEFAULT_ADMIN", "UPGRADER"] as const;

/** The deployment name of the TimelockController. */
export const TIMELOCK_DEPLOYMENT = "Timelock";

export interface GovernanceConfig {
  /** Hand governance over on this network. */
  handover: boolean;
  /** TimelockController `minDelay`, seconds. */
  minDelaySeconds: number;
  /** Addresses that may propose (and cancel) timelock operations; empty means the deployer. */
  proposers: string[];
  /** Addresses that may execute ready operations; the zero address means anyone. */
  executors: string[];
}

function addressList(name: string): string[] | undefined {
  const value = process.env[name]?.trim();
  if (!value) return undefined;
  const list = value.split(",").map((s) => s.trim());
  for (const address of list) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`${name}: "${address}" is not an address`);
  }
  return list;
}

function seconds(name: string): number | undefined {
  const value = process.env[name]?.trim();
  if (!value) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number of seconds`);
  return Number(value);
}

export function getGovernanceConfig(networkName: string): GovernanceConfig {
  const forced = process.env.GOVERNANCE_HANDOVER === "1" || process.env.GOVERNANCE_HANDOVER === "true";
  return {
    handover: forced || !isLocalNetwork(networkName),
    minDelaySeconds:
      seconds("TIMELOCK_MIN_DELAY") ?? getProtocolConfig(networkName).governance.timelockMinDelaySeconds,
    proposers: addressList("TIMELOCK_PROPOSERS") ?? [],
    executors: addressList("TIMELOCK_EXECUTORS") ?? ["0x0000000000000000000000000000000000000000"],
  };
}

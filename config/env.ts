/**
 * Environment variables, read in one place. Every variable is optional so that the Hardhat config
 * loads without them (tests and CI never need them); `.env.example` documents each one.
 */
function optional(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function optionalPrivateKey(name: string): string | undefined {
  const value = optional(name);
  if (value === undefined) return undefined;
  const hex = value.startsWith("0x") ? value : `0x${value}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error(`${name} must be a 32-byte hex private key`);
  }
  return hex;
}

export const env = {
  sepoliaRpcUrl: optional("SEPOLIA_RPC_URL"),
  deployerPrivateKey: optionalPrivateKey("DEPLOYER_PRIVATE_KEY"),
  etherscanApiKey: optional("ETHERSCAN_API_KEY"),
  /** JSON-RPC URL of the `localhost` network (default http://127.0.0.1:8545); the e2e test points it at its node. */
  localhostRpcUrl: optional("LOCALHOST_RPC_URL"),
  /** Seed for the property-based suites; a fixed default keeps runs reproducible. */
  fuzzSeed: optional("FUZZ_SEED"),
  fuzzRuns: optional("FUZZ_RUNS"),
  fuzzDepth: optional("FUZZ_DEPTH"),
  /** Protocol invariant suite: full checks every N commands (default 1, i.e. after each) and at each sequence's end. */
  fuzzCheckEvery: optional("FUZZ_CHECK_EVERY"),
  /** fast-check replay path of one failing case, printed with the failure (replays only that case). */
  fuzzPath: optional("FUZZ_PATH"),
  fuzzReplayPath: optional("FUZZ_REPLAY_PATH"),
  /** Sharded runner (scripts/fuzz.ts): worker processes, time budget, calls target, chunk size, progress, memory. */
  fuzzWorkers: optional("FUZZ_WORKERS"),
  fuzzMinutes: optional("FUZZ_MINUTES"),
  fuzzCalls: optional("FUZZ_CALLS"),
  fuzzChunk: optional("FUZZ_CHUNK"),
  fuzzProgressSeconds: optional("FUZZ_PROGRESS_SECONDS"),
  fuzzMaxRssMb: optional("FUZZ_MAX_RSS_MB"),
  fuzzReport: optional("FUZZ_REPORT"),
  /** Protocol invariant suite: 1 prints where a call's time goes (per phase, and JSON-RPC requests by method). */
  fuzzProfile: optional("FUZZ_PROFILE"),
};

/**
 * Named accounts, one per role in docs/architecture.md. Locally each role is its own Hardhat account (by
 * index); on sepolia each defaults to the deployer (index 0) unless `<NAME>_ADDRESS` is set, e.g.
 * `GUARDIAN_ADDRESS=0x...`.
 */
const ROLE_ACCOUNTS = [
  "deployer",
  "guardian",
  "reserveManager",
  "tokenizer",
  "attestor1",
  "attestor2",
  "attestor3",
  "appraiser",
  "insurer",
  "underwriter",
  "creditAdmin",
  "oracleAdmin",
  "reporter1",
  "reporter2",
  "reporter3",
  "keeper",
  "custodian",
  "treasury",
  "blacklister",
  "lender1",
  "lender2",
  "lender3",
  "borrower1",
  "borrower2",
  "borrower3",
  "liquidator",
  "attacker",
] as const;

export type NamedAccount = (typeof ROLE_ACCOUNTS)[number];

/** `reserveManager` -> `RESERVE_MANAGER_ADDRESS`, `attestor1` -> `ATTESTOR1_ADDRESS`. */
export function accountEnvName(account: string): string {
  return `${account.replace(/([A-Z])/g, "_$1").toUpperCase()}_ADDRESS`;
}

export const NAMED_ACCOUNTS: Record<NamedAccount, { default: number; sepolia: number | string }> =
  Object.fromEntries(
    ROLE_ACCOUNTS.map((name, index) => [
      name,
      // the deployer is always the account of DEPLOYER_PRIVATE_KEY
      { default: index, sepolia: name === "deployer" ? 0 : (optional(accountEnvName(name)) ?? 0) },
    ]),
  ) as Record<NamedAccount, { default: number; sepolia: number | string }>;

export const NAMED_ACCOUNT_NAMES: readonly NamedAccount[] = ROLE_ACCOUNTS;

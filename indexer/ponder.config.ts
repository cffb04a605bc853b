/**
 * Ponder configuration: the chain, the database and the protocol contracts. Addresses and start blocks come from
 * the hardhat-deploy deployment of `INDEXER_NETWORK`; ABIs from the compiled artifacts (abis/generated.ts).
 */
import { createConfig, type ChainConfig } from "ponder";

import {
  CollateralAuctionAbi,
  GpuReceiptAbi,
  LoanVaultAbi,
  StakedUSDaiAbi,
  USDaiAbi,
  UtilizationOracleAbi,
} from "./abis/generated";
import { readDeployments } from "./src/deployments";
import { env, type IndexerNetwork } from "./src/env";

const { chainId, contracts } = readDeployments(env.deploymentsDir);
const chain = env.network;
const at = (name: keyof typeof contracts) => ({
  chain,
  address: contracts[name].address,
  startBlock: contracts[name].startBlock,
});

export default createConfig({
  database: env.databaseUrl
    ? { kind: "postgres", connectionString: env.databaseUrl }
    : { kind: "pglite", directory: env.pgliteDir },
  // One chain per run, named after the network (the cast names both so contracts may say either).
  chains: {
    [chain]: {
      id: chainId,
      rpc: env.rpcUrl,
      pollingInterval: env.pollingMs,
      // A local node's chain restarts from block 0 with the same id: never serve it from another run's RPC cache.
      disableCache: env.network === "localhost",
      // A local node answers any range in one call; probing for the largest accepted range costs it thousands.
      ...(env.network === "localhost" ? { ethGetLogsBlockRange: 100_000 } : {}),
    },
  } as Record<IndexerNetwork, ChainConfig>,
  contracts: {
    USDai: { abi: USDaiAbi, ...at("USDai") },
    StakedUSDai: { abi: StakedUSDaiAbi, ...at("StakedUSDai") },
    GpuReceipt: { abi: GpuReceiptAbi, ...at("GpuReceipt") },
    LoanVault: { abi: LoanVaultAbi, ...at("LoanVault") },
    CollateralAuction: { abi: CollateralAuctionAbi, ...at("CollateralAuction") },
    UtilizationOracle: {
      abi: UtilizationOracleAbi,
      ...at("UtilizationOracle"),
      includeTransactionReceipts: false,
    },
  },
  blocks: {
    // From the block the last core was deployed in: the snapshot also reads the LoanVault.
    SUSDaiPrice: {
      chain,
      startBlock: Math.max(...Object.values(contracts).map((c) => c.startBlock)),
      interval: env.snapshotInterval,
    },
  },
});

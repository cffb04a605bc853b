/**
 * wagmi's configuration: the protocol's chain over the app's RPC, an injected wallet (MetaMask and the like) on
 * every network, and on a local node the development connector over the node's named accounts.
 */
import { createConfig, http, type Config } from "wagmi";
import { injected } from "wagmi/connectors";

import { config } from "./config";
import { devAccounts, loadDevAccounts, type DevAccount } from "./lib/devConnector";

export interface AppWagmi {
  wagmi: Config;
  devAccounts: DevAccount[];
}

export async function createWagmi(): Promise<AppWagmi> {
  const accounts = config.isLocal ? await loadDevAccounts(config.rpcUrl).catch(() => []) : [];
  const connectors = [
    injected({ shimDisconnect: true }),
    ...(accounts.length > 0
      ? [devAccounts({ accounts, rpcUrl: config.rpcUrl, chainId: config.chain.id })]
      : []),
  ];
  const wagmi = createConfig({
    chains: [config.chain],
    connectors,
    transports: { [config.chain.id]: http(config.rpcUrl, { batch: true }) },
    pollingInterval: config.isLocal ? 500 : 4_000,
  });
  return { wagmi, devAccounts: accounts };
}

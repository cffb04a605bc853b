/**
 * The app's configuration, from Vite's build-time environment (`VITE_*`, documented in app/README.md and the root
 * .env.example). Addresses and ABIs are never configured here: they come from src/generated/contracts.ts, which
 * `npm run contracts` writes from hardhat-deploy's deployments and the compiled artifacts.
 */
import { hardhat, sepolia, type Chain } from "viem/chains";

import { deployments, type NetworkDeployment } from "./generated/contracts";

export type AppNetwork = "localhost" | "sepolia";

function network(): AppNetwork {
  const value = (import.meta.env.VITE_NETWORK as string | undefined) || "localhost";
  if (value !== "localhost" && value !== "sepolia") {
    throw new Error(`VITE_NETWORK must be "localhost" or "sepolia", not "${value}"`);
  }
  return value;
}

/** A URL the browser can fetch: absolute as given, or a same-origin path (the dev and preview servers' proxies). */
function url(raw: string): string {
  return /^https?:\/\//.test(raw) ? raw : new URL(raw, window.location.origin).toString().replace(/\/$/, "");
}

const net = network();
const deployment = deployments[net];

/** The network's JSON-RPC: the node through the dev server's `/rpc` proxy, or `VITE_SEPOLIA_RPC_URL`. */
const rpcUrl =
  net === "localhost"
    ? url((import.meta.env.VITE_LOCAL_RPC_URL as string | undefined) || "/rpc")
    : url((import.meta.env.VITE_SEPOLIA_RPC_URL as string | undefined) || sepolia.rpcUrls.default.http[0]);

const baseChain = net === "localhost" ? hardhat : sepolia;

/** The chain the protocol is deployed on, with the RPC the app reads through. */
export const chain: Chain = {
  ...baseChain,
  // A local node's chain id is whatever the deployment recorded (31337 for `hardhat node`).
  id: deployment?.chainId ?? baseChain.id,
  rpcUrls: { default: { http: [rpcUrl] } },
};

export const config = {
  network: net,
  chain,
  rpcUrl,
  /** hardhat-deploy's record of the network, or undefined when nothing was deployed when the app was built. */
  deployment: deployment as NetworkDeployment | undefined,
  /** The indexer's HTTP API (REST + GraphQL): `VITE_INDEXER_URL`, default the dev server's `/indexer` proxy. */
  indexerUrl: url((import.meta.env.VITE_INDEXER_URL as string | undefined) || "/indexer"),
  /** Local networks get the development connector (the node's named accounts) and the test-USDC faucet. */
  isLocal: net === "localhost",
  /** How often current state is re-read from the chain, in milliseconds (`VITE_POLL_MS`, default 2000). */
  pollMs: Number((import.meta.env.VITE_POLL_MS as string | undefined) || 2_000),
} as const;

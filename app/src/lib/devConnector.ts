/**
 * The development connector: on a local node, signs with the node's named accounts (the Hardhat config's
 * `namedAccounts`: deployer, lender1, borrower1, keeper, ...) so the app can be used and tested without a browser
 * extension. The node holds those accounts' keys (`hardhat node` unlocks them), so `eth_sendTransaction` goes to the
 * node as is; nothing here knows a private key. The chosen account is kept in localStorage across reloads.
 */
import { createConnector } from "wagmi";
import { getAddress, numberToHex, type Address, type EIP1193RequestFn } from "viem";

import { NAMED_ACCOUNTS } from "../generated/contracts";

export type NamedAccount = (typeof NAMED_ACCOUNTS)[number];

export interface DevAccount {
  name: NamedAccount;
  address: Address;
}

const STORAGE_KEY = "gpu-credit.dev-account";

/** The node's accounts by the config's names (on a local network the i-th name is the i-th account). */
export async function loadDevAccounts(rpcUrl: string): Promise<DevAccount[]> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_accounts", params: [] }),
  });
  const body = (await res.json()) as { result?: string[]; error?: { message: string } };
  if (!body.result) throw new Error(`eth_accounts: ${body.error?.message ?? "no answer"}`);
  const accounts = body.result;
  return NAMED_ACCOUNTS.flatMap((name, i) =>
    accounts[i] ? [{ name, address: getAddress(accounts[i]) }] : [],
  );
}

export function storedDevAccount(accounts: DevAccount[]): DevAccount | undefined {
  const name = window.localStorage.getItem(STORAGE_KEY);
  return accounts.find((a) => a.name === name);
}

type DevProperties = {
  /** Switches the connected account to another named account of the node. */
  selectAccount(name: NamedAccount): void;
  account(): DevAccount;
};

export const DEV_CONNECTOR_ID = "localNamedAccounts";

export function devAccounts(parameters: { accounts: DevAccount[]; rpcUrl: string; chainId: number }) {
  const { accounts, rpcUrl, chainId } = parameters;
  const first = accounts.find((a) => a.name === "lender1") ?? accounts[0];
  if (!first) throw new Error("the node has no accounts");
  let current: DevAccount = storedDevAccount(accounts) ?? first;
  let connected = false;
  let nextId = 1;

  const forward: EIP1193RequestFn = async ({ method, params }) => {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
    });
    const body = (await res.json()) as {
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result as never;
  };

  const provider = {
    request: (async (args) => {
      switch (args.method) {
        case "eth_accounts":
        case "eth_requestAccounts":
          return connected || args.method === "eth_requestAccounts" ? [current.address] : [];
        case "eth_chainId":
          return numberToHex(chainId);
        case "wallet_switchEthereumChain":
          throw Object.assign(new Error("the local node has one chain"), { code: 4902 });
        case "eth_sendTransaction": {
          // The node signs for the account named in `from`; only the selected one is ever sent.
          const [tx] = (args.params ?? []) as [{ from?: string }];
          return forward({
            method: "eth_sendTransaction",
            params: [{ ...tx, from: current.address }],
          } as never);
        }
        default:
          return forward(args as never);
      }
    }) as EIP1193RequestFn,
    on: () => undefined,
    removeListener: () => undefined,
  };

  return createConnector<typeof provider, DevProperties>((config) => ({
    id: DEV_CONNECTOR_ID,
    name: "Local node accounts",
    type: "devAccounts",
    async connect<withCapabilities extends boolean = false>(
      _parameters: {
        chainId?: number;
        isReconnecting?: boolean;
        withCapabilities?: withCapabilities | boolean;
      } = {},
    ) {
      connected = true;
      window.localStorage.setItem(STORAGE_KEY, current.name);
      return { accounts: [current.address] as never, chainId };
    },
    async disconnect() {
      connected = false;
      window.localStorage.removeItem(STORAGE_KEY);
    },
    async getAccounts() {
      return connected ? [current.address] : [];
    },
    async getChainId() {
      return chainId;
    },
    async getProvider() {
      return provider;
    },
    async isAuthorized() {
      // Reconnect after a reload only if an account was chosen before.
      if (!window.localStorage.getItem(STORAGE_KEY)) return false;
      connected = true;
      return true;
    },
    onAccountsChanged(list) {
      if (list.length === 0) this.onDisconnect();
      else config.emitter.emit("change", { accounts: list.map((a) => getAddress(a)) });
    },
    onChainChanged() {
      // one chain
    },
    onDisconnect() {
      connected = false;
      config.emitter.emit("disconnect");
    },
    selectAccount(name: NamedAccount) {
      const next = accounts.find((a) => a.name === name);
      if (!next) throw new Error(`the node has no account named ${name}`);
      current = next;
      window.localStorage.setItem(STORAGE_KEY, name);
      if (connected) config.emitter.emit("change", { accounts: [next.address] });
    },
    account() {
      return current;
    },
  }));
}

/**
 * The wallet bar: connect an injected wallet (MetaMask and the like), or on a local node pick one of the node's
 * named accounts (the development connector); the connected account, its network, and a warning on a wrong one.
 */
import { useAccount, useConnect, useConnectors, useDisconnect } from "wagmi";

import { config } from "../config";
import { DEV_CONNECTOR_ID, type DevAccount, type NamedAccount } from "../lib/devConnector";
import { shortAddress } from "../lib/format";

interface DevConnector {
  selectAccount(name: NamedAccount): void;
  account(): DevAccount;
}

export function Wallet({ devAccounts }: { devAccounts: DevAccount[] }) {
  const { address, chainId, connector, isConnected } = useAccount();
  const connectors = useConnectors();
  const { connect, error, isPending } = useConnect();
  const { disconnect } = useDisconnect();
  const dev = connectors.find((c) => c.id === DEV_CONNECTOR_ID);
  const injected = connectors.find((c) => c.id !== DEV_CONNECTOR_ID);
  const devName = devAccounts.find((a) => a.address === address)?.name;
  const wrongChain = isConnected && chainId !== config.chain.id;

  const pickDev = (name: NamedAccount) => {
    if (!dev) return;
    (dev as unknown as DevConnector).selectAccount(name);
    if (!isConnected || connector?.id !== DEV_CONNECTOR_ID) connect({ connector: dev });
  };

  return (
    <div className="wallet" data-testid="wallet">
      {dev && (
        <label className="dev-account">
          Local account{" "}
          <select
            data-testid="dev-account"
            value={connector?.id === DEV_CONNECTOR_ID ? (devName ?? "") : ""}
            onChange={(e) => e.target.value && pickDev(e.target.value as NamedAccount)}
          >
            <option value="">choose…</option>
            {devAccounts.map((a) => (
              <option key={a.name} value={a.name}>
                {a.name} ({shortAddress(a.address)})
              </option>
            ))}
          </select>
        </label>
      )}
      {!isConnected && injected && (
        <button
          type="button"
          data-testid="connect-injected"
          disabled={isPending}
          onClick={() => connect({ connector: injected })}
        >
          Connect browser wallet
        </button>
      )}
      {isConnected && address && (
        <span className="account" data-testid="account" data-address={address}>
          {devName ? `${devName} ` : ""}
          <span className="mono">{shortAddress(address)}</span>{" "}
          <span className={wrongChain ? "badge bad" : "badge good"} data-testid="network">
            {wrongChain ? `wrong network (chain ${chainId})` : config.chain.name}
          </span>{" "}
          <button type="button" className="link" onClick={() => disconnect()}>
            disconnect
          </button>
        </span>
      )}
      {error && <span className="error small">{error.message}</span>}
    </div>
  );
}

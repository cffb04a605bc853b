/**
 * "Now" as the chain sees it: the latest block's timestamp. Deadlines, cooldowns and freshness are measured against
 * it, not the browser's clock (a local node's clock is moved forward by stories and tests; a wallet's clock can be
 * off). Falls back to the browser's clock until the first block is read.
 */
import { useBlock } from "wagmi";

import { config } from "../config";

export function useChainNow(): number {
  const block = useBlock({ watch: true, chainId: config.chain.id });
  return block.data ? Number(block.data.timestamp) : Math.floor(Date.now() / 1000);
}

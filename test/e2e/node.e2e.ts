import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider } from "ethers";

import { createContext, E2E_STEPS, ROOT, type E2eContext } from "./steps";
// Registers the loan borrow-repay cycle after the "receipts" step.
import "./loan-steps";

/**
 * End-to-end test against a running `npx hardhat node`. Run it with `npm run e2e`: scripts/e2e.sh starts the node
 * on a free loopback port, sets E2E_RPC_URL, runs this file with mocha and always stops the node. Under `npm test`
 * (no E2E_RPC_URL) it is skipped.
 */

const READY_TIMEOUT_MS = Number(process.env.E2E_READY_TIMEOUT_MS ?? 90_000);
const POLL_MS = 250;

/** Polls the RPC until it answers and the node's deploy scripts have written USDai's deployment. */
async function waitForNode(rpcUrl: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const marker = path.join(ROOT, "deployments", "localhost", "UtilizationOracle.json");
  const provider = new JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true });
  let last = "no answer";
  try {
    while (Date.now() < deadline) {
      try {
        const block = await provider.getBlockNumber();
        if (fs.existsSync(marker)) {
          const { address } = JSON.parse(fs.readFileSync(marker, "utf8")) as { address: string };
          if ((await provider.getCode(address)) !== "0x") return;
          last = `block ${block}, deployment file present but no code yet`;
        } else {
          last = `block ${block}, deploy scripts still running`;
        }
      } catch (err) {
        last = (err as Error).message.split("\n")[0];
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    provider.destroy();
  }
  throw new Error(`the node at ${rpcUrl} was not ready after ${READY_TIMEOUT_MS / 1000}s (${last})`);
}

describe("e2e: CLI and integrator example against `hardhat node`", function () {
  const rpcUrl = process.env.E2E_RPC_URL;
  let ctx: E2eContext;
  let tmp: string;

  before(async function () {
    if (!rpcUrl) {
      this.skip();
      return;
    }
    this.timeout(READY_TIMEOUT_MS + 5_000);
    await waitForNode(rpcUrl);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-credit-e2e-"));
    ctx = createContext(rpcUrl, tmp);
  });

  after(() => {
    ctx?.provider.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  // One `it` per step, in order; a failed step stops the run (mocha --bail in scripts/e2e.sh).
  for (const step of E2E_STEPS) {
    it(step.name, async function () {
      this.timeout(120_000);
      await step.run(ctx);
    });
  }
});

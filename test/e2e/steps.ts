import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { JsonRpcProvider } from "ethers";

/**
 * The end-to-end steps, in order, against a running `npx hardhat node` (scripts/e2e.sh starts and stops it). Each
 * step drives the real CLI (`hardhat <task> --network localhost`) or the plain-ethers integrator example in a child
 * process and checks what it printed. Extend the flow by adding steps with `addE2eSteps`: test/e2e/loan-steps.ts
 * adds the loan borrow-repay cycle after "receipts".
 */

export const ROOT = path.join(__dirname, "..", "..");
const HARDHAT_BIN = path.join(ROOT, "node_modules", ".bin", "hardhat");
const TS_NODE_BIN = path.join(ROOT, "node_modules", ".bin", "ts-node");

export interface E2eContext {
  rpcUrl: string;
  provider: JsonRpcProvider;
  /** Scratch directory for exports and files. */
  tmp: string;
  /** Runs `hardhat <args> --network localhost`; fails the step on a non-zero exit unless `expectFailure`. */
  hardhat(args: string[], options?: { expectFailure?: boolean }): Promise<string>;
  /** Runs a TypeScript file with ts-node and the given extra environment. */
  tsNode(file: string, env?: Record<string, string>): Promise<string>;
  /** Values steps hand to later steps. */
  state: Record<string, unknown>;
}

export interface E2eStep {
  name: string;
  run(ctx: E2eContext): Promise<void>;
}

function run(command: string, args: string[], env: Record<string, string>, expectFailure = false): string {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: "0" },
    encoding: "utf8",
    timeout: 120_000,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const label = `${path.basename(command)} ${args.join(" ")}`;
  if (process.env.E2E_VERBOSE) console.log(`$ ${label}\n${output}`);
  else console.log(`      $ ${label} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  if (!expectFailure && result.status !== 0) {
    throw new Error(`${label} exited with ${result.status ?? result.signal}:\n${output}`);
  }
  if (expectFailure && result.status === 0) throw new Error(`${label} should have failed:\n${output}`);
  return output;
}

export function createContext(rpcUrl: string, tmp: string): E2eContext {
  const env = { LOCALHOST_RPC_URL: rpcUrl };
  return {
    rpcUrl,
    provider: new JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true }),
    tmp,
    state: {},
    hardhat: async (args, options = {}) =>
      run(HARDHAT_BIN, [...args, "--network", "localhost"], env, options.expectFailure),
    tsNode: async (file, extra = {}) =>
      run(TS_NODE_BIN, ["--transpile-only", file], { ...env, RPC_URL: rpcUrl, ...extra }),
  };
}

/** Matches `label   value` in a printed table (any spacing), e.g. `row(out, "USDai supply", "$11,000.00")`. */
export function expectRow(output: string, label: string, value: string): void {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  expect(output, `"${label}" should show ${value}`).to.match(
    new RegExp(`${escape(label)}\\s+${escape(value)}`),
  );
}

/** Runs a task that must fail with `message`, and checks that no block was mined (no transaction sent). */
export async function expectRefused(ctx: E2eContext, args: string[], message: string): Promise<void> {
  const before = await ctx.provider.getBlockNumber();
  const output = await ctx.hardhat(args, { expectFailure: true });
  expect(output).to.include(message);
  expect(await ctx.provider.getBlockNumber(), "no transaction").to.equal(before);
}

const CORE_DEPLOYMENTS = [
  "ReserveToken",
  "TBillVault",
  "USDai",
  "StakedUSDai",
  "GpuReceipt",
  "UtilizationOracle",
];

export const E2E_STEPS: E2eStep[] = [
  {
    name: "the node deployed the protocol (deployments/localhost, code at every address)",
    async run(ctx) {
      for (const name of CORE_DEPLOYMENTS) {
        const file = path.join(ROOT, "deployments", "localhost", `${name}.json`);
        expect(fs.existsSync(file), file).to.equal(true);
        const { address } = JSON.parse(fs.readFileSync(file, "utf8")) as { address: string };
        expect(await ctx.provider.getCode(address), `${name} code`).to.not.equal("0x");
      }
    },
  },
  {
    name: "deploy --network localhost is idempotent (nothing new, no transaction)",
    async run(ctx) {
      const before = await ctx.provider.getBlockNumber();
      const output = await ctx.hardhat(["deploy"]);
      expect(output).to.include("reusing");
      expect(await ctx.provider.getBlockNumber()).to.equal(before);
    },
  },
  {
    name: "deployments:export writes the combined export",
    async run(ctx) {
      await ctx.hardhat(["deployments:export", "--dir", ctx.tmp]);
      const file = path.join(ctx.tmp, "localhost.json");
      const exported = JSON.parse(fs.readFileSync(file, "utf8"));
      const usdai = JSON.parse(
        fs.readFileSync(path.join(ROOT, "deployments", "localhost", "USDai.json"), "utf8"),
      );
      expect(exported.chainId).to.equal("31337");
      expect(exported.contracts.USDai.address).to.equal(usdai.address);
      expect(exported.contracts.USDai.abi.length).to.be.greaterThan(10);
      expect(fs.existsSync(path.join(ctx.tmp, "abi", "IStakedUSDai.json"))).to.equal(true);
      ctx.state.exportFile = file;
    },
  },
  {
    name: "lender: a bad amount is refused with no transaction",
    async run(ctx) {
      await expectRefused(
        ctx,
        ["usdai:mint", "--amount", "-1"],
        "--amount must be a non-negative decimal number",
      );
    },
  },
  {
    name: "lender: mint USDai, stake, position",
    async run(ctx) {
      expectRow(
        await ctx.hardhat(["usdai:mint", "--amount", "10000", "--faucet"]),
        "minted USDai",
        "$10,000.00",
      );
      expectRow(await ctx.hardhat(["susdai:stake", "--amount", "4000"]), "staked USDai", "$4,000.00");
      const position = await ctx.hardhat(["lender:position", "--account", "lender1"]);
      expectRow(position, "USDai", "$6,000.00");
      expectRow(position, "sUSDai value (USDai)", "$4,000.00");
    },
  },
  {
    name: "receipts: tokenize examples/server.json, appraise, insure",
    async run(ctx) {
      const minted = await ctx.hardhat(["receipt:tokenize", "--file", "examples/server.json"]);
      expect(minted).to.include("GpuReceipt #1");
      expectRow(minted, "GPUs", "8");
      await ctx.hardhat(["receipt:appraise", "--id", "1", "--value", "250000"]);
      const insured = await ctx.hardhat([
        "receipt:insure",
        "--id",
        "1",
        "--policy",
        "POL-E2E-1",
        "--value",
        "150000",
      ]);
      expectRow(insured, "appraised value", "$250,000.00");
      expectRow(insured, "collateral value", "$250,000.00");
    },
  },
  {
    name: "oracle: configure three reporters, sign and submit today's report",
    async run(ctx) {
      await ctx.hardhat([
        "oracle:configure",
        "--loan",
        "1",
        "--sources",
        "reporter:reporter1,reporter:reporter2,reporter:reporter3",
      ]);
      expectRow(
        await ctx.hardhat(["oracle:report", "--loan", "1", "--utilization", "9150", "--uptime", "9920"]),
        "utilization",
        "91.50%",
      );
    },
  },
  {
    name: "integrator example (plain ethers): deposit 1,000 USDC, stake, read the position",
    async run(ctx) {
      const output = await ctx.tsNode("scripts/integrator/example.ts", {
        EXPORT_FILE: ctx.state.exportFile as string,
        AMOUNT: "1000",
      });
      const line = output.split("\n").find((l) => l.startsWith("POSITION_JSON "));
      expect(line, output).to.not.equal(undefined);
      const position = JSON.parse(line!.slice("POSITION_JSON ".length));
      // The loan steps paid sUSDai a few seconds of interest, so a share is worth a hair over 1 USDai and the
      // deposit's shares are worth 1,000 USDai less at most a wei of rounding.
      expect(Number(position.susdaiValueUsdai)).to.be.closeTo(1000, 1e-9);
      expect(Number(position.sharePrice)).to.be.within(1, 1.0001);
    },
  },
  {
    name: "status shows the figures the steps produced",
    async run(ctx) {
      const status = await ctx.hardhat(["status"]);
      // lender1 10,000 + borrower1 400 (to repay its loan) + the integrator's 1,000
      expectRow(status, "USDai supply", "$11,400.00");
      expectRow(status, "reserves", "11,400.00 USDC");
      expectRow(status, "backing", "100.00%");
      expectRow(status, "total assets (NAV)", "$5,000.00");
      expectRow(status, "share price", "1.000000 USDai");
      expectRow(status, "waiting requests", "0");
      expect(status).to.match(/\n\s*1\s+2\/3\s+\d+\s+91\.50%\s+99\.20%/);
      expect(status).to.match(/\n\s*1\s+borrower1\s+Closed\s+\$0\.00\s+\$0\.00/);
      expectRow(status, "loan assets (in sUSDai NAV)", "$0.00");
    },
  },
];

/** Inserts steps after the step named `after` (or at the end). */
export function addE2eSteps(steps: E2eStep[], where: { after?: string } = {}): void {
  const anchor = where.after === undefined ? -1 : E2E_STEPS.findIndex((s) => s.name === where.after);
  E2E_STEPS.splice(anchor >= 0 ? anchor + 1 : E2E_STEPS.length, 0, ...steps);
}

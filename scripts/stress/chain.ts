import {
  HDNodeWallet,
  Interface,
  MaxUint256,
  id,
  keccak256,
  toUtf8Bytes,
  getAddress,
  type Signer,
} from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { takeSnapshot, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";

import { getProtocolConfig } from "../../config/protocol";
import { attest, type ReceiptAsset } from "../../helpers/attestations";
import { DAY, loanTerms } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd, usdc } from "../../helpers/units";
import { deployProtocol, type ProtocolFixture } from "../../test/fixtures/protocol";
import type { StressConfig } from "./config";
import type { Book } from "./model";

/**
 * The protocol the simulator drives: deployed once by the real deploy scripts (hardhat-deploy fixture, tag
 * `protocol`), then set up with the synthetic book (lenders staked, receipts minted and appraised, one loan drawn per
 * operator, monitoring configured) and snapshotted. Every path starts from that snapshot.
 *
 * Transactions go straight to the in-process node (`eth_sendTransaction` with a fixed gas limit): ethers' estimate,
 * nonce and receipt round trips would triple the cost of the ~10,000 transactions of a path. Reverts are caught,
 * decoded by the contracts' ABIs and counted, never hidden.
 */

export const REPORTERS = ["reporter1", "reporter2", "reporter3"] as const;
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const GAS = "0xf42400"; // 16M, under the 2^24 per-transaction cap (EIP-7825); the gas used is what the call needs

/** One operator's loan as the chain has it after set-up. */
export interface ChainLoan {
  operator: number;
  loanId: bigint;
  borrower: string;
  receiptIds: bigint[];
  spareIds: bigint[];
  /** The allowlisted replacement operator a step-in would novate the loan to. */
  replacement: string;
}

export interface Chain {
  hre: HardhatRuntimeEnvironment;
  fx: ProtocolFixture;
  loans: ChainLoan[];
  lenders: string[];
  customers: string;
  buyer: string;
  keeper: string;
  creditAdmin: string;
  appraiser: string;
  oracleAdmin: string;
  /** The reporters' keys (local Hardhat accounts), to sign EIP-712 reports without a round trip. */
  reporterKeys: HDNodeWallet[];
  /** The draw time of the loans: time 0 of every path. */
  t0: number;
  snapshot: SnapshotRestorer;
  iface: Interface;
  addresses: Record<"usdai" | "susdai" | "receipts" | "loanVault" | "oracle" | "auction", string>;
  reportDomain: { name: string; version: string; chainId: bigint; verifyingContract: string };
}

/** A deterministic address for a simulated actor (operator, lender...): impersonated on the in-process node. */
export function actorAddress(label: string): string {
  return getAddress(`0x${keccak256(toUtf8Bytes(`gpu-credit/stress/${label}`)).slice(26)}`);
}

async function impersonate(hre: HardhatRuntimeEnvironment, address: string): Promise<void> {
  await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [address] });
  await hre.network.provider.request({
    method: "hardhat_setBalance",
    params: [address, "0x3635C9ADC5DEA00000"],
  });
}

/** The revert's custom error or reason, from Hardhat's message or the revert data. */
export function revertName(err: unknown, iface: Interface): string {
  const e = err as { message?: string; data?: unknown; error?: { data?: unknown } };
  const data =
    typeof e.data === "string" ? e.data : typeof e.error?.data === "string" ? e.error.data : undefined;
  if (data && data.length >= 10) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return parsed.name;
    } catch {
      /* not one of ours */
    }
  }
  const message = e.message ?? String(err);
  const custom =
    /custom error '([A-Za-z0-9_]+)/.exec(message) ??
    /reverted with custom error ([A-Za-z0-9_]+)/.exec(message);
  if (custom) return custom[1];
  const reason = /reverted with reason string '([^']*)'/.exec(message);
  if (reason) return `Error(${reason[1]})`;
  if (/panic code/.test(message)) return "Panic";
  throw err instanceof Error ? err : new Error(message);
}

/** Sends `data` to `to` from `from`, mined at once; throws on revert (the caller decodes it with `revertName`). */
export async function send(chain: Chain, from: string, to: string, data: string): Promise<string> {
  return (await chain.hre.network.provider.request({
    method: "eth_sendTransaction",
    params: [{ from, to, data, gas: GAS }],
  })) as string;
}

export async function setNextTimestamp(chain: Chain, timestamp: number): Promise<void> {
  await chain.hre.network.provider.request({ method: "evm_setNextBlockTimestamp", params: [timestamp] });
}

/** Mines an empty block at `timestamp` and returns its number (reads at it are exact, whatever the wall clock). */
export async function mineAt(chain: Chain, timestamp: number): Promise<number> {
  await chain.hre.network.provider.request({ method: "evm_mine", params: [timestamp] });
  return Number(await chain.hre.network.provider.request({ method: "eth_blockNumber", params: [] }));
}

export async function latestTimestamp(chain: Chain): Promise<number> {
  const block = (await chain.hre.network.provider.request({
    method: "eth_getBlockByNumber",
    params: ["latest", false],
  })) as { timestamp: string };
  return Number(block.timestamp);
}

/** The combined ABI of the contracts a path calls, for encoding calls and decoding events and errors. */
function combinedInterface(fx: ProtocolFixture): Interface {
  const seen = new Set<string>();
  const fragments = [];
  for (const c of [fx.loanVault, fx.susdai, fx.usdai, fx.oracle, fx.auction, fx.receipts]) {
    for (const f of c.interface.fragments) {
      if (f.type === "constructor" || f.type === "fallback") continue;
      const key = `${f.type}:${f.format("sighash")}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fragments.push(f);
    }
  }
  return new Interface(fragments);
}

/** JSON-RPC methods that mine a block on the in-process node (automine). */
const MINING = new Set(["eth_sendTransaction", "eth_sendRawTransaction", "evm_mine"]);

/**
 * Stamps every block mined through `hre.network.provider` one second after the latest one until the returned function
 * is called. Hardhat stamps a block with the wall clock when that is later than the last block plus a second, so
 * without this a set-up slowed down for a second (a busy machine, another worker deploying beside it) ends at another
 * time, and each worker's snapshot (and every path played from it) would differ. With it, a set-up's chain depends
 * only on the configuration. Mining calls are serialized so each gets its own stamp; every other call passes through.
 */
function pinBlockTimestamps(hre: HardhatRuntimeEnvironment): () => void {
  type Send = (method: string, params?: unknown[]) => Promise<unknown>;
  type Request = (args: { method: string; params?: unknown[] }) => Promise<unknown>;
  const provider = hre.network.provider as unknown as { send: Send; request: Request };
  const original = { send: provider.send, request: provider.request };
  const request: Request = (args) => original.request.call(provider, args);
  let queue: Promise<unknown> = Promise.resolve();
  const mined = <T>(method: string, params: unknown[] | undefined, run: () => Promise<T>): Promise<T> => {
    const explicit = method === "evm_mine" && params !== undefined && params.length > 0;
    if (!MINING.has(method) || explicit) return run();
    const next = queue.then(async () => {
      const latest = (await request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
        timestamp: string;
      };
      await request({ method: "evm_setNextBlockTimestamp", params: [Number(latest.timestamp) + 1] });
      return run();
    });
    queue = next.catch(() => undefined);
    return next;
  };
  provider.send = (method, params) =>
    mined(method, params, () => original.send.call(provider, method, params));
  provider.request = (args) => mined(args.method, args.params, () => request(args));
  return () => {
    provider.send = original.send;
    provider.request = original.request;
  };
}

/**
 * Deploys the protocol and sets up the book. `log` receives progress lines. Throws with the contract's reason when a
 * part of the set-up is refused (a loan over a concentration cap, say), since no path could run without it.
 */
export async function setUpChain(
  hre: HardhatRuntimeEnvironment,
  config: StressConfig,
  book: Book,
  log: (line: string) => void,
): Promise<Chain> {
  const unpin = pinBlockTimestamps(hre);
  try {
    return await setUp(hre, config, book, log);
  } finally {
    unpin();
  }
}

async function setUp(
  hre: HardhatRuntimeEnvironment,
  config: StressConfig,
  book: Book,
  log: (line: string) => void,
): Promise<Chain> {
  const fx = await deployProtocol();
  const { actors } = fx;
  const admin = actors.deployer;
  const protocol = getProtocolConfig(hre.network.name);
  log(`deployed the protocol through the deploy scripts (tag protocol) on "${hre.network.name}"`);

  // Simulated actors: lenders, operators, replacements, the fleets' customers.
  const lenders = Array.from({ length: config.book.lenders }, (_, i) => actorAddress(`lender/${i}`));
  const operators = book.operators.map((o) => actorAddress(`operator/${o.index}`));
  const replacements = book.operators.map((o) => actorAddress(`replacement/${o.index}`));
  const customers = actorAddress("customers");
  for (const a of [...lenders, ...operators, ...replacements, customers]) await impersonate(hre, a);
  for (const a of [...operators, ...replacements]) {
    await fx.loanVault.connect(admin).grantRole(Roles.BORROWER, a);
    await fx.receipts.connect(admin).grantRole(Roles.RECEIPT_HOLDER, a);
  }

  // Lenders: USDC -> USDai -> sUSDai, equal stakes.
  const stake = book.stakePerLenderUsd;
  for (const lender of lenders) {
    const signer = await hre.ethers.getSigner(lender);
    await fx.reserve.mint(lender, usdc(stake));
    await fx.reserve.connect(signer).approve(await fx.usdai.getAddress(), MaxUint256);
    await fx.usdai.connect(signer).deposit(usdc(stake), usd(stake), lender);
    await fx.usdai.connect(signer).approve(await fx.susdai.getAddress(), MaxUint256);
    await fx.susdai.connect(signer)["deposit(uint256,address,uint256)"](usd(stake), lender, 0n);
  }
  const allocation = ((await fx.usdai.liquidReserves()) * BigInt(config.book.tbillAllocationBps)) / 10_000n;
  if (allocation > 0n) await fx.usdai.connect(actors.reserveManager).allocate(allocation);
  log(`${lenders.length} lenders staked $${(book.stakedUsd / 1e6).toFixed(2)}M in sUSDai`);

  // Customers' USDai for the fleets' revenue and the auction buyer's USDai (minted 1:1 from mock USDC).
  const fund = async (account: string, signer: Signer, amountUsd: number, spender: string) => {
    await fx.reserve.mint(account, usdc(amountUsd));
    await fx.reserve.connect(signer).approve(await fx.usdai.getAddress(), MaxUint256);
    await fx.usdai.connect(signer).deposit(usdc(amountUsd), usd(amountUsd), account);
    await fx.usdai.connect(signer).approve(spender, MaxUint256);
  };
  await fund(
    customers,
    await hre.ethers.getSigner(customers),
    book.stakedUsd * 4,
    await fx.loanVault.getAddress(),
  );
  // Operators pay shortfalls from their own cash (`repay`); the simulator tracks how much of it they have, the wallets
  // only need enough USDai. Replacement operators start with the same.
  for (const a of [...operators, ...replacements]) {
    await fund(a, await hre.ethers.getSigner(a), book.stakedUsd, await fx.loanVault.getAddress());
  }
  await fund(actors.liquidator.address, actors.liquidator, book.stakedUsd * 2, await fx.auction.getAddress());

  // Receipts: pledged servers and spares per operator, attested, appraised on the model's schedule.
  const now = async () => (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const loans: ChainLoan[] = [];
  const pending: { operator: number; receiptIds: bigint[]; spareIds: bigint[] }[] = [];
  for (const o of book.operators) {
    const model = config.book.models[o.model];
    const owner = operators[o.index];
    const ids: bigint[] = [];
    for (let s = 0; s < o.servers + o.spares; s++) {
      const tag = `op${o.index}/server${s}`;
      const asset: ReceiptAsset = {
        model: model.name,
        gpuCount: config.book.gpusPerServer,
        site: config.book.sites[o.site],
        custodian: actors.custodian.address,
        credentialsHash: id(`stress/credentials/${tag}`),
      };
      const serials = Array.from({ length: config.book.gpusPerServer }, (_, g) =>
        id(`stress/serial/${tag}/${g}`),
      );
      const attestation = await attest(
        [actors.attestor1, actors.attestor2],
        fx.receipts,
        asset,
        serials,
        id(`stress/nonce/${tag}`),
        (await now()) + DAY,
      );
      const tokenId = await fx.receipts.nextTokenId();
      await fx.receipts.connect(actors.tokenizer).mint(owner, asset, serials, attestation);
      await fx.receipts
        .connect(actors.appraiser)
        .appraise(tokenId, usd(model.serverValueUsd), model.markdownBpsPerQuarter, model.residualFloorBps);
      ids.push(tokenId);
    }
    await fx.receipts
      .connect(await hre.ethers.getSigner(owner))
      .setApprovalForAll(await fx.loanVault.getAddress(), true);
    pending.push({ operator: o.index, receiptIds: ids.slice(0, o.servers), spareIds: ids.slice(o.servers) });
  }

  // One loan per operator on the house terms, fully amortizing over 36 months, drawn against the pledged servers.
  const amortizationBps = Math.floor(10_000 / 36);
  for (const p of pending) {
    const o = book.operators[p.operator];
    const borrower = operators[o.index];
    const loanId = (await fx.loanVault.loanCount()) + 1n;
    await fx.loanVault
      .connect(actors.underwriter)
      .approveLoan(
        loanTerms(borrower, usd(o.principalUsd), config.book.sites[o.site], await now(), { amortizationBps }),
      );
    try {
      await fx.loanVault.connect(await hre.ethers.getSigner(borrower)).borrow(loanId, p.receiptIds);
    } catch (err) {
      throw new Error(
        `operator ${o.index}: the draw of $${o.principalUsd} was refused (${revertName(err, fx.loanVault.interface)}); ` +
          `the book breaks a protocol limit (concentration caps: ${protocol.loans.borrowerCapBps} bps per borrower, ` +
          `${protocol.loans.siteCapBps} bps per site). Change book.* in scripts/stress/config.ts.`,
      );
    }
    await fx.oracle.connect(actors.oracleAdmin).configureLoan(
      loanId,
      REPORTERS.map((name) => ({ kind: 1, account: actors[name].address })),
      protocol.oracle.quorum,
      protocol.oracle.maxStalenessSeconds,
    );
    loans.push({
      operator: o.index,
      loanId,
      borrower,
      receiptIds: p.receiptIds,
      spareIds: p.spareIds,
      replacement: replacements[o.index],
    });
  }
  const t0 = await now();
  log(
    `${loans.length} loans drawn ($${(book.operators.reduce((s, o) => s + o.principalUsd, 0) / 1e6).toFixed(2)}M), ` +
      `monitored by ${REPORTERS.length} reporters each (quorum ${protocol.oracle.quorum})`,
  );

  const reporterKeys = REPORTERS.map((name) => {
    const index = Object.keys(actors).indexOf(name);
    const wallet = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
    if (wallet.address !== actors[name].address)
      throw new Error(`cannot derive ${name}'s key from Hardhat's accounts`);
    return wallet;
  });
  const { chainId } = await hre.ethers.provider.getNetwork();
  const addresses = {
    usdai: await fx.usdai.getAddress(),
    susdai: await fx.susdai.getAddress(),
    receipts: await fx.receipts.getAddress(),
    loanVault: await fx.loanVault.getAddress(),
    oracle: await fx.oracle.getAddress(),
    auction: await fx.auction.getAddress(),
  };
  const snapshot = await takeSnapshot();
  return {
    hre,
    fx,
    loans,
    lenders,
    customers,
    buyer: actors.liquidator.address,
    keeper: actors.keeper.address,
    creditAdmin: actors.creditAdmin.address,
    appraiser: actors.appraiser.address,
    oracleAdmin: actors.oracleAdmin.address,
    reporterKeys,
    t0,
    snapshot,
    iface: combinedInterface(fx),
    addresses,
    reportDomain: { name: "UtilizationOracle", version: "1", chainId, verifyingContract: addresses.oracle },
  };
}

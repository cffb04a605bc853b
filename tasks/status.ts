import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { DeployIds } from "../helpers/deploy-ids";
import { formatAmount, formatBps, formatTable, formatUsd } from "../helpers/format";
import { oracleAt, reserveTokenAt, stakedUsdaiAt, usdaiAt } from "./lib/contracts";
import { chainNow, ensureProtocol, out } from "./lib/runtime";
import { parseDuration, TaskArgumentError } from "./lib/validate";
import { viewTask } from "./lib/define";

/**
 * `status`: a dashboard of the whole protocol, one section per concern. Sections are data: `STATUS_SECTIONS` lists
 * them in print order and `addStatusSection` inserts one, so the loan book (LoanVault) is added by writing its
 * section and registering it from its own task module, e.g.
 * `addStatusSection({ id: "loans", title: "Loan book", render: loanBook }, { after: "susdai" })`.
 */

export interface StatusContext {
  hre: HardhatRuntimeEnvironment;
  /** Latest block timestamp. */
  now: number;
  /** Window of the trailing APY, seconds. */
  apyWindowSeconds: number;
}

/** What a section shows: a table (or any text) and the same figures as plain data for `status --json`. */
export interface SectionOutput {
  text: string;
  data: Record<string, unknown>;
}

export interface StatusSection {
  /** Stable key (`--only` and `--json` use it). */
  id: string;
  title: string;
  /** Renders the section; `undefined` skips it (e.g. its contract is not deployed on this network). */
  render(ctx: StatusContext): Promise<SectionOutput | undefined>;
}

const SHARE = 10n ** 18n;
const YEAR = 365 * 24 * 60 * 60;

/** `[label, value]` rows as an aligned two-column block without a header. */
export function fields(rows: [string, string][]): string {
  return formatTable(["", ""], rows, ["left", "right"]).split("\n").slice(2).join("\n");
}

const pct = (num: bigint, den: bigint): string => (den === 0n ? "-" : formatBps((num * 10_000n) / den));

// ---------------------------------------------------------------- reserves

export async function reservesSection(ctx: StatusContext): Promise<SectionOutput> {
  const { hre } = ctx;
  const [usdai, reserve] = await Promise.all([usdaiAt(hre), reserveTokenAt(hre)]);
  const decimals = Number(await reserve.decimals());
  const symbol = await reserve.symbol();
  const [total, liquid, allocated, supply, surplus, cap, scale] = await Promise.all([
    usdai.totalReserves(),
    usdai.liquidReserves(),
    usdai.allocatedReserves(),
    usdai.totalSupply(),
    usdai.surplus(),
    usdai.supplyCap(),
    usdai.reserveScale(),
  ]);
  const usd = (raw: bigint) => `${formatAmount(raw, decimals)} ${symbol}`;
  return {
    text: fields([
      ["USDai supply", formatUsd(supply)],
      ["supply cap", formatUsd(cap)],
      ["reserves", usd(total)],
      ["  liquid", usd(liquid)],
      ["  T-bills", usd(allocated)],
      ["T-bill share", pct(allocated, total)],
      ["backing", pct(total * scale, supply)],
      ["surplus (harvestable)", formatUsd(surplus)],
    ]),
    data: {
      supply: supply.toString(),
      cap: cap.toString(),
      reserves: total.toString(),
      liquid: liquid.toString(),
      tbills: allocated.toString(),
      surplus: surplus.toString(),
      reserveDecimals: decimals,
    },
  };
}

// ---------------------------------------------------------------- sUSDai

/** The first block whose timestamp is at or after `timestamp`, searching `[low, high]`. */
async function blockAtOrAfter(hre: HardhatRuntimeEnvironment, timestamp: number, low: number, high: number) {
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const block = await hre.ethers.provider.getBlock(mid);
    if (block!.timestamp < timestamp) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The sUSDai share price now and `window` ago (or at its deployment, if later), annualized with compounding.
 * Undefined when there is less than a day of history or no price to compare.
 */
export async function trailingApy(
  ctx: StatusContext,
): Promise<{ apy: number; fromTimestamp: number; seconds: number } | { reason: string }> {
  const { hre, now, apyWindowSeconds } = ctx;
  const deployment = await hre.deployments.getOrNull(DeployIds.StakedUSDai);
  const latest = await hre.ethers.provider.getBlockNumber();
  const deployedAt = deployment?.receipt?.blockNumber ?? 0;
  const from = await blockAtOrAfter(hre, now - apyWindowSeconds, Math.min(deployedAt + 1, latest), latest);
  const fromBlock = await hre.ethers.provider.getBlock(from);
  const seconds = now - fromBlock!.timestamp;
  if (seconds < 86_400) return { reason: `n/a (${(seconds / 3600).toFixed(1)} h of history)` };
  const susdai = await stakedUsdaiAt(hre);
  let before: bigint;
  try {
    before = await susdai.convertToAssets(SHARE, { blockTag: from });
  } catch {
    return { reason: "n/a (the node keeps no state that old)" };
  }
  const after = await susdai.convertToAssets(SHARE);
  if (before === 0n) return { reason: "n/a" };
  const ratio = Number((after * 10n ** 12n) / before) / 1e12;
  return { apy: Math.pow(ratio, YEAR / seconds) - 1, fromTimestamp: fromBlock!.timestamp, seconds };
}

export async function stakedSection(ctx: StatusContext): Promise<SectionOutput> {
  const susdai = await stakedUsdaiAt(ctx.hre);
  const [assets, supply, idle, unvested, losses, price, loanVault] = await Promise.all([
    susdai.totalAssets(),
    susdai.totalSupply(),
    susdai.idleAssets(),
    susdai.unvestedGains(),
    susdai.cumulativeLosses(),
    susdai.convertToAssets(SHARE),
    susdai.loanVault(),
  ]);
  const loanAssets = assets + unvested - idle;
  const apy = await trailingApy(ctx);
  const apyText =
    "apy" in apy
      ? `${(apy.apy * 100).toFixed(2)}% (over ${(apy.seconds / 86_400).toFixed(1)} days)`
      : apy.reason;
  return {
    text: fields([
      ["total assets (NAV)", formatUsd(assets)],
      ["  idle USDai", formatUsd(idle)],
      ["  loans", loanVault === ctx.hre.ethers.ZeroAddress ? "no LoanVault" : formatUsd(loanAssets)],
      ["  unvested gains", formatUsd(unvested)],
      ["shares", formatAmount(supply, 18)],
      ["share price", `${formatAmount(price, 18, 6)} USDai`],
      ["trailing APY", apyText],
      ["realized losses", formatUsd(losses)],
    ]),
    data: {
      totalAssets: assets.toString(),
      totalSupply: supply.toString(),
      idle: idle.toString(),
      unvested: unvested.toString(),
      loanAssets: loanAssets.toString(),
      sharePrice: price.toString(),
      trailingApy: "apy" in apy ? apy.apy : null,
      cumulativeLosses: losses.toString(),
    },
  };
}

// ---------------------------------------------------------------- redemption queue

export async function queueSection(ctx: StatusContext): Promise<SectionOutput> {
  const susdai = await stakedUsdaiAt(ctx.hre);
  const [[head, tail], pending, claimable, [cooldown]] = await Promise.all([
    susdai.queueBounds(),
    susdai.totalPendingShares(),
    susdai.totalClaimableAssets(),
    susdai.params(),
  ]);
  let next = "-";
  if (tail > head) {
    const request = await susdai.redemptionRequest(head);
    const at = Number(request.claimableAt);
    next = at <= ctx.now ? "due now" : `in ${((at - ctx.now) / 86_400).toFixed(1)} days`;
  }
  return {
    text: fields([
      ["waiting requests", (tail - head).toString()],
      ["pending shares", formatAmount(pending, 18)],
      ["pending value", formatUsd(await susdai.convertToAssets(pending))],
      ["next serviceable", next],
      ["claimable USDai", formatUsd(claimable)],
      ["cooldown", `${Number(cooldown) / 86_400} days`],
    ]),
    data: {
      waiting: (tail - head).toString(),
      pendingShares: pending.toString(),
      claimableAssets: claimable.toString(),
    },
  };
}

// ---------------------------------------------------------------- oracle

const MAX_ORACLE_ROWS = 20;

export async function oracleSection(ctx: StatusContext): Promise<SectionOutput | undefined> {
  if (!(await ctx.hre.deployments.getOrNull(DeployIds.UtilizationOracle))) return undefined;
  const oracle = await oracleAt(ctx.hre);
  const count = Number(await oracle.configuredLoanCount());
  const rows: string[][] = [];
  const loans: Record<string, unknown>[] = [];
  for (let i = 0; i < Math.min(count, MAX_ORACLE_ROWS); i++) {
    const loanId = await oracle.configuredLoanAt(i);
    const [[utilization, uptime, day, updatedAt], [, quorum], sources, pending] = await Promise.all([
      oracle.latestUtilization(loanId),
      oracle.loanConfig(loanId),
      oracle.sourcesOf(loanId),
      oracle.pendingPush(loanId),
    ]);
    const seen = day > 0n;
    rows.push([
      loanId.toString(),
      `${quorum}/${sources.length}`,
      seen ? day.toString() : "-",
      seen ? formatBps(utilization) : "-",
      seen && uptime !== 65_535n ? formatBps(uptime) : "-",
      seen ? `${((ctx.now - Number(updatedAt)) / 3600).toFixed(1)} h ago` : "-",
      pending.stepPending ? `${pending.deltaBps > 0n ? "+" : ""}${pending.deltaBps} bps` : "-",
    ]);
    loans.push({
      loanId: loanId.toString(),
      day: Number(day),
      utilizationBps: Number(utilization),
      uptimeBps: Number(uptime),
      pendingStepBps: pending.stepPending ? Number(pending.deltaBps) : 0,
    });
  }
  const table =
    count === 0
      ? "no loans configured"
      : formatTable(["loan", "quorum", "day", "utilization", "uptime", "updated", "pending step"], rows, [
          "right",
          "right",
          "right",
          "right",
          "right",
          "right",
          "right",
        ]) + (count > MAX_ORACLE_ROWS ? `\n... and ${count - MAX_ORACLE_ROWS} more` : "");
  return { text: table, data: { configuredLoans: count, loans } };
}

// ---------------------------------------------------------------- registry

/** The dashboard's sections, in print order. Extend with `addStatusSection`. */
export const STATUS_SECTIONS: StatusSection[] = [
  { id: "reserves", title: "USDai reserves", render: reservesSection },
  { id: "susdai", title: "sUSDai", render: stakedSection },
  { id: "queue", title: "Redemption queue", render: queueSection },
  { id: "oracle", title: "Utilization oracle: latest readings", render: oracleSection },
];

/** Adds (or replaces, by id) a section, after the section `after` or at the end. */
export function addStatusSection(section: StatusSection, where: { after?: string } = {}): void {
  const existing = STATUS_SECTIONS.findIndex((s) => s.id === section.id);
  if (existing >= 0) STATUS_SECTIONS.splice(existing, 1);
  const anchor = where.after === undefined ? -1 : STATUS_SECTIONS.findIndex((s) => s.id === where.after);
  STATUS_SECTIONS.splice(anchor >= 0 ? anchor + 1 : STATUS_SECTIONS.length, 0, section);
}

/** Renders every section (or those in `only`); returns the printed text and the data by section id. */
export async function renderStatus(
  ctx: StatusContext,
  only?: string[],
): Promise<{ text: string; data: Record<string, unknown> }> {
  const parts: string[] = [];
  const data: Record<string, unknown> = {};
  for (const section of STATUS_SECTIONS) {
    if (only && !only.includes(section.id)) continue;
    const output = await section.render(ctx);
    if (!output) continue;
    parts.push(`== ${section.title} ==\n${output.text}`);
    data[section.id] = output.data;
  }
  return { text: parts.join("\n\n"), data };
}

viewTask("status", "Dashboard: reserves and T-bill share, sUSDai price and APY, queue, oracle readings")
  .addOptionalParam("window", "trailing APY window (e.g. 30d)", "30d")
  .addOptionalParam("only", "comma-separated section ids to show")
  .addFlag("json", "print the figures as JSON instead of tables")
  .setAction(async (args: { window: string; only?: string; json: boolean }, hre) => {
    const apyWindowSeconds = parseDuration(args.window, "window");
    const ids = STATUS_SECTIONS.map((s) => s.id);
    const only = args.only?.split(",").map((s) => s.trim());
    for (const id of only ?? []) {
      if (!ids.includes(id)) {
        throw new TaskArgumentError(`--only: unknown section "${id}"; sections: ${ids.join(", ")}`);
      }
    }
    await ensureProtocol(hre);
    const now = await chainNow(hre);
    const { text, data } = await renderStatus({ hre, now, apyWindowSeconds }, only);
    if (args.json) {
      out(JSON.stringify({ network: hre.network.name, timestamp: now, ...data }, null, 2));
      return;
    }
    const block = await hre.ethers.provider.getBlockNumber();
    out(
      `GPU credit protocol on "${hre.network.name}", block ${block}, ${new Date(now * 1000).toISOString()}\n`,
    );
    out(text);
  });

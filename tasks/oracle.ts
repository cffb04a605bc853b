import { AbiCoder } from "ethers";

import { NAMED_ACCOUNT_NAMES } from "../config/env";
import { getProtocolConfig } from "../config/protocol";
import { formatBps, formatTable } from "../helpers/format";
import { dayOf, MAX_REPORT_PERIOD_DAYS, signReports, type Report } from "../helpers/reports";
import type { UtilizationOracle } from "../typechain-types";
import { oracleAt } from "./lib/contracts";
import { roleTask } from "./lib/define";
import {
  chainNow,
  labelOf,
  namedAccounts,
  out,
  printFields,
  requireRole,
  send,
  signerOf,
} from "./lib/runtime";
import {
  ensure,
  parseAmount,
  parseBps,
  parseDuration,
  parseId,
  parseInteger,
  parseNamedAccountList,
  parseSources,
  SourceKind,
  TaskArgumentError,
} from "./lib/validate";

/**
 * Oracle tasks on UtilizationOracle: configure a loan's sources, sign and submit a day's reports, poke the feeds,
 * and run the Automation upkeep by hand.
 */

const UPTIME_UNKNOWN = 65_535n;
const MAX_SOURCES = 8;

async function requireConfigured(oracle: UtilizationOracle, loanId: bigint): Promise<{ quorum: number }> {
  const [configured, quorum] = await oracle.loanConfig(loanId);
  ensure(configured, `--loan ${loanId} has no oracle sources; run oracle:configure first`);
  return { quorum: Number(quorum) };
}

/** Prints a loan's latest observation. */
async function printLatest(oracle: UtilizationOracle, loanId: bigint): Promise<void> {
  const [utilization, uptime, day, updatedAt] = await oracle.latestUtilization(loanId);
  printFields(`Oracle, loan ${loanId}`, [
    [
      "day",
      day === 0n ? "none yet" : `${day} (${new Date(Number(day) * 86_400_000).toISOString().slice(0, 10)})`,
    ],
    ["utilization", day === 0n ? "-" : formatBps(utilization)],
    ["uptime", day === 0n || uptime === UPTIME_UNKNOWN ? "-" : formatBps(uptime)],
    ["updated at", updatedAt === 0n ? "-" : new Date(Number(updatedAt) * 1000).toISOString()],
  ]);
}

/** Prints the day still collecting reports, if any: a day is recorded once every reporter reports or it closes. */
async function printOpenDay(oracle: UtilizationOracle, loanId: bigint, reporters: number): Promise<void> {
  const [day, collected, closesAt] = await oracle.openReportDay(loanId);
  if (day === 0n) return;
  printFields(`Open report day, loan ${loanId}`, [
    ["day", day.toString()],
    ["reports", `${collected} of ${reporters}`],
    ["closes at", `${new Date(Number(closesAt) * 1000).toISOString()} (then oracle:close-day)`],
  ]);
}

roleTask("oracle:configure", "Set a loan's monitoring sources, quorum and staleness limit", "oracleAdmin")
  .addParam("loan", "loan id")
  .addParam(
    "sources",
    "comma-separated sources: reporter:<account> or feed:<address or feed deployment>, e.g. reporter:reporter1,feed:UtilizationFeed",
  )
  .addOptionalParam("quorum", "fresh readings a day needs (default: config, at most the number of sources)")
  .addOptionalParam("maxStaleness", "how old a reading may be (e.g. 2d; default: config)")
  .setAction(
    async (
      args: { loan: string; sources: string; quorum?: string; maxStaleness?: string; as: string },
      hre,
    ) => {
      const loanId = parseId(args.loan, "loan");
      // A feed may be named by its deployment (`feed:UtilizationFeed` on a local node) as well as by address.
      const feeds = Object.entries(await hre.deployments.all())
        .filter(([name]) => name.endsWith("Feed"))
        .map(([name, d]) => [name, d.address]);
      const sources = parseSources(
        args.sources,
        { ...(await namedAccounts(hre)), ...Object.fromEntries(feeds) },
        MAX_SOURCES,
      );
      const defaults = getProtocolConfig(hre.network.name).oracle;
      const quorum =
        args.quorum === undefined
          ? Math.min(defaults.quorum, sources.length)
          : parseInteger(args.quorum, "quorum", 1, sources.length);
      const maxStaleness =
        args.maxStaleness === undefined
          ? defaults.maxStalenessSeconds
          : parseDuration(args.maxStaleness, "max-staleness");
      ensure(maxStaleness < 2 ** 32, "--max-staleness is too long");
      for (const source of sources) {
        if (source.kind === SourceKind.Feed) {
          const code = await hre.ethers.provider.getCode(source.account);
          ensure(code !== "0x", `--sources: feed ${source.account} has no contract code`);
        }
      }
      const signer = await signerOf(hre, args.as);
      const oracle = await oracleAt(hre, signer);
      await requireRole(oracle, "UtilizationOracle", "ORACLE_ADMIN", signer.address, args.as);
      await send(
        `UtilizationOracle.configureLoan ${loanId}`,
        () => oracle.configureLoan(loanId, sources, quorum, maxStaleness),
        oracle.interface,
      );
      const rows = await Promise.all(
        (await oracle.sourcesOf(loanId)).map(async (s) => [
          Number(s.kind) === SourceKind.Feed ? "feed" : "reporter",
          await labelOf(hre, s.account),
        ]),
      );
      out(`\nLoan ${loanId}: quorum ${quorum}, max staleness ${maxStaleness}s`);
      out(formatTable(["kind", "source"], rows));
      // The covenants are the loan's terms, copied from the vault by the configuration: shown, never set here.
      const { minDscrBps, lockboxCheck, shortfallToleranceBps } = (await oracle.revenueCovenants(loanId))
        .covenants;
      const { maxGapDays } = await oracle.dataGap(loanId);
      out(
        `Covenants from the loan's terms: DSCR floor ` +
          (minDscrBps === 0n ? "none" : `${(Number(minDscrBps) / 10_000).toFixed(2)}x`) +
          `, lockbox check ${lockboxCheck ? `on (tolerance ${formatBps(shortfallToleranceBps)})` : "off"}` +
          `, data-gap limit ${maxGapDays === 0n ? "none" : `${maxGapDays} days`}`,
      );
    },
  );

roleTask(
  "oracle:report",
  "Sign a utilization report (a day's, or a period's ending on a day) with reporter accounts and submit it",
  "reporter1",
)
  .addParam("loan", "loan id")
  .addParam("utilization", "utilization, basis points of capacity (0..10000)")
  .addParam("uptime", "uptime, basis points of capacity (0..10000)")
  .addOptionalParam("day", "observation day, unix days (default: today on the chain)")
  .addOptionalParam(
    "period",
    `days the report covers, ending on --day (1: daily, 30: monthly; at most ${MAX_REPORT_PERIOD_DAYS})`,
    "1",
  )
  .addOptionalParam("revenue", "the period's billed revenue, USDai (e.g. 125000.5)", "0")
  .addOptionalParam(
    "reporters",
    "comma-separated reporter accounts that sign (default: every reporter source of the loan this network has a key for)",
  )
  .addOptionalParam("validity", "how long the signatures stay valid (e.g. 1h)", "1h")
  .setAction(
    async (
      args: {
        loan: string;
        utilization: string;
        uptime: string;
        day?: string;
        period: string;
        revenue: string;
        reporters?: string;
        validity: string;
        as: string;
      },
      hre,
    ) => {
      const loanId = parseId(args.loan, "loan");
      const utilizationBps = parseBps(args.utilization, "utilization");
      const uptimeBps = parseBps(args.uptime, "uptime");
      const validity = parseDuration(args.validity, "validity");
      const reporterNames =
        args.reporters === undefined
          ? undefined
          : parseNamedAccountList(args.reporters, NAMED_ACCOUNT_NAMES, "reporters");
      const now = await chainNow(hre);
      const today = dayOf(now);
      const day = args.day === undefined ? today : parseInteger(args.day, "day", 1, today);
      const periodDays = parseInteger(args.period, "period", 1, MAX_REPORT_PERIOD_DAYS);

      const submitter = await signerOf(hre, args.as);
      const oracle = await oracleAt(hre, submitter);
      await requireConfigured(oracle, loanId);
      const [, , lastDay] = await oracle.latestUtilization(loanId);
      ensure(
        BigInt(day) > lastDay,
        `--day ${day}: loan ${loanId} already has an observation for day ${lastDay}`,
      );

      const named = await namedAccounts(hre);
      const reporterSources = (await oracle.sourcesOf(loanId))
        .filter((s) => Number(s.kind) === SourceKind.Reporter)
        .map((s) => s.account.toLowerCase());
      let names = reporterNames;
      if (names === undefined) {
        names = NAMED_ACCOUNT_NAMES.filter((n) => reporterSources.includes(named[n]?.toLowerCase()));
      }
      for (const name of names) {
        if (!reporterSources.includes(named[name].toLowerCase())) {
          throw new TaskArgumentError(
            `--reporters: ${name} (${named[name]}) is not a reporter source of loan ${loanId}`,
          );
        }
      }
      // Fewer reports than the quorum are collected too: the day waits for the others, or closes without them.
      ensure(names.length > 0, `loan ${loanId}: none of its reporters has a key on this network`);

      ensure(
        BigInt(day - periodDays) >= lastDay,
        `--period ${periodDays}: days ${day - periodDays + 1}..${day} reach back over day ${lastDay}, already recorded`,
      );
      const report: Report = {
        loanId,
        utilizationBps,
        uptimeBps,
        day,
        periodDays,
        revenueUsd: parseAmount(args.revenue, 18, "revenue", { allowZero: true }),
        deadline: BigInt(now + validity),
      };
      const entries = await Promise.all(
        names.map(async (name) => ({ signer: await signerOf(hre, name), report })),
      );
      const { reports, signatures } = await signReports(oracle, entries);
      await send(
        `UtilizationOracle.submitReport loan ${loanId} day ${day} (${names.join(", ")})`,
        () => oracle.submitReport(reports, signatures),
        oracle.interface,
      );
      await printLatest(oracle, loanId);
      await printOpenDay(oracle, loanId, reporterSources.length);
    },
  );

roleTask("oracle:close-day", "Record a loan's report day once its window has closed (anyone)", "keeper")
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const loanId = parseId(args.loan, "loan");
    const oracle = await oracleAt(hre, await signerOf(hre, args.as));
    const [day, , closesAt] = await oracle.openReportDay(loanId);
    ensure(day !== 0n, `loan ${loanId} has no report day collecting reports`);
    const now = await chainNow(hre);
    ensure(
      BigInt(now) >= closesAt,
      `loan ${loanId}: day ${day} collects reports until ${new Date(Number(closesAt) * 1000).toISOString()} ` +
        `(${Number(closesAt) - now}s from now)`,
    );
    await send(
      `UtilizationOracle.closeReportDay loan ${loanId} day ${day}`,
      () => oracle.closeReportDay(loanId),
      oracle.interface,
    );
    await printLatest(oracle, loanId);
  });

roleTask("oracle:poke", "Read a loan's feed sources and record today's median", "keeper")
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const loanId = parseId(args.loan, "loan");
    const signer = await signerOf(hre, args.as);
    const oracle = await oracleAt(hre, signer);
    await requireConfigured(oracle, loanId);
    const feeds = (await oracle.sourcesOf(loanId)).filter((s) => Number(s.kind) === SourceKind.Feed);
    ensure(
      feeds.length > 0,
      `loan ${loanId} has no feed sources to poke (its reporters submit with oracle:report)`,
    );
    await requireRole(oracle, "UtilizationOracle", "KEEPER", signer.address, args.as);
    const [, , lastDay] = await oracle.latestUtilization(loanId);
    const today = dayOf(await chainNow(hre));
    ensure(BigInt(today) > lastDay, `loan ${loanId} already has today's observation (day ${lastDay})`);
    await send(`UtilizationOracle.poke ${loanId}`, () => oracle.poke(loanId), oracle.interface);
    await printLatest(oracle, loanId);
  });

roleTask("oracle:upkeep", "Run the Automation upkeep: push pending coupon steps and covenant flags", "keeper")
  .addOptionalParam("start", "first index of the configured loans to check", "0")
  .addOptionalParam("pageSize", "how many configured loans to check", "50")
  .setAction(async (args: { start: string; pageSize: string; as: string }, hre) => {
    const start = parseInteger(args.start, "start", 0, 1_000_000);
    const pageSize = parseInteger(args.pageSize, "page-size", 1, 500);
    const signer = await signerOf(hre, args.as);
    const oracle = await oracleAt(hre, signer);
    const coder = AbiCoder.defaultAbiCoder();
    const checkData = coder.encode(["uint256", "uint256"], [start, pageSize]);
    if ((await oracle.loanVault()) === hre.ethers.ZeroAddress) {
      out("The oracle has no LoanVault yet: nothing can be pushed (observations are still recorded).");
      return;
    }
    const [needed, performData] = await oracle.checkUpkeep.staticCall(checkData);
    if (!needed) {
      out(`Upkeep not needed: no loan in [${start}, ${start + pageSize}) has a pending push.`);
      return;
    }
    const [loanIds] = coder.decode(["uint256[]"], performData) as unknown as [bigint[]];
    await send(
      `UtilizationOracle.performUpkeep (${loanIds.length} loans)`,
      () => oracle.performUpkeep(performData),
      oracle.interface,
    );
    out(`Pushed loans: ${loanIds.map(String).join(", ")}`);
  });

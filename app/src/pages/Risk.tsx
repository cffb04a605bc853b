/**
 * Risk: the whole loan book (status, debt, LTV, coupon, DSCR), concentration by borrower and by site against the
 * vault's caps (a share of sUSDai's NAV), utilization against coupon per loan, defaults and auctions, and each
 * loan's oracle sources with the freshness of its latest reading. Current state from the chain, history from the
 * indexer.
 */
import { useReadContracts } from "wagmi";

import { Card, ErrorNote, Facts, Loading, Table } from "../components/ui";
import { config } from "../config";
import { useChainNow } from "../lib/chainTime";
import { contracts, flagNames, LOAN_STATUSES, ORACLE_FLAGS, VAULT_FLAGS } from "../lib/contracts";
import { bytes32ToText, formatBps, formatDuration, formatTime, formatUsd, shortAddress } from "../lib/format";
import { big, graphql, useAuctions, useLoans, type IndexedLoan } from "../lib/indexer";
import { useQuery } from "@tanstack/react-query";

const SOURCE_KINDS = ["feed", "signed reporter"];
/** `IUtilizationOracle.UPTIME_UNKNOWN`: a day recorded from feeds, which report utilization only. */
const UPTIME_UNKNOWN = 0xffff;
/** "3 feeds" or "3 signed reporters": the kinds of a loan's sources (their addresses on hover). */
function sourceSummary(kinds: number[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) {
    const name = SOURCE_KINDS[k] ?? `kind ${k}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? "" : "s"}`).join(", ");
}

const LIVE = new Set(["Active", "Defaulted", "Liquidating"]);

function useDscr() {
  // Revenue into each lockbox and debt service paid, summed by the indexer's GraphQL.
  return useQuery({
    queryKey: ["indexer", "dscr"],
    refetchInterval: config.pollMs,
    queryFn: () =>
      graphql<{
        revenue: { items: { loanId: string; args: { amount?: string } }[] };
        payments: { items: { loanId: string; interest: string; scheduledPrincipal: string }[] };
      }>(`
        {
          revenue: loanEvents(where: { kind: "RevenueDeposited" }, limit: 1000) {
            items {
              loanId
              args
            }
          }
          payments(limit: 1000) {
            items {
              loanId
              interest
              scheduledPrincipal
            }
          }
        }
      `),
  });
}

export function RiskPage() {
  const loans = useLoans();
  if (loans.error) return <ErrorNote error={loans.error} />;
  if (!loans.data) return <Loading what="the loan book" />;
  return (
    <div className="grid">
      <LoanBook loans={loans.data.loans} />
      <Auctions />
    </div>
  );
}

function LoanBook({ loans }: { loans: IndexedLoan[] }) {
  const c = contracts();
  const ids = loans.map((l) => BigInt(l.id));
  const global = useReadContracts({
    allowFailure: false,
    contracts: [
      { ...c.loans, functionName: "loanCount" },
      { ...c.loans, functionName: "loanAssets" },
      { ...c.loans, functionName: "riskParams" },
      { ...c.susdai, functionName: "totalAssets" },
    ],
    query: { refetchInterval: config.pollMs },
  });
  const perLoan = useReadContracts({
    allowFailure: false,
    contracts: ids.flatMap((id) => [
      { ...c.loans, functionName: "stateOf", args: [id] } as const,
      { ...c.loans, functionName: "debtOf", args: [id] } as const,
      { ...c.loans, functionName: "ltvOf", args: [id] } as const,
      { ...c.loans, functionName: "couponOf", args: [id] } as const,
      { ...c.loans, functionName: "termsOf", args: [id] } as const,
      { ...c.oracle, functionName: "latestUtilization", args: [id] } as const,
      { ...c.oracle, functionName: "loanConfig", args: [id] } as const,
      { ...c.oracle, functionName: "sourcesOf", args: [id] } as const,
    ]),
    query: { refetchInterval: config.pollMs },
  });
  const dscr = useDscr();
  const now = useChainNow();
  if (global.error) return <ErrorNote error={global.error} />;
  if (perLoan.error) return <ErrorNote error={perLoan.error} />;
  if (!global.data || !perLoan.data) return <Loading what="on-chain loan state" />;
  const [loanCount, loanAssets, risk, nav] = global.data;

  type Row = {
    id: bigint;
    state: {
      status: number;
      principal: bigint;
      breachFlags: number;
      oracleFlags: number;
      cureDeadline: number;
    };
    debt: bigint;
    ltv: bigint;
    coupon: bigint;
    terms: { borrower: `0x${string}`; site: `0x${string}`; maintenanceLtvBps: number; maxLtvBps: number };
    util: readonly [number, number, number, bigint];
    oracleConfig: readonly [boolean, number, number];
    sources: readonly { kind: number; account: `0x${string}`; decimals: number; lastRound: bigint }[];
  };
  const rows: Row[] = ids.map((id, i) => {
    const d = perLoan.data!.slice(i * 8, i * 8 + 8) as unknown[];
    return {
      id,
      state: d[0] as Row["state"],
      debt: d[1] as bigint,
      ltv: d[2] as bigint,
      coupon: d[3] as bigint,
      terms: d[4] as Row["terms"],
      util: d[5] as Row["util"],
      oracleConfig: d[6] as Row["oracleConfig"],
      sources: d[7] as Row["sources"],
    };
  });

  const revenueBy = new Map<string, bigint>();
  const serviceBy = new Map<string, bigint>();
  for (const e of dscr.data?.revenue.items ?? []) {
    revenueBy.set(e.loanId, (revenueBy.get(e.loanId) ?? 0n) + BigInt(String(e.args.amount ?? "0")));
  }
  for (const p of dscr.data?.payments.items ?? []) {
    serviceBy.set(
      p.loanId,
      (serviceBy.get(p.loanId) ?? 0n) + BigInt(p.interest) + BigInt(p.scheduledPrincipal),
    );
  }
  const dscrOf = (id: bigint) => {
    const service = serviceBy.get(id.toString()) ?? 0n;
    const revenue = revenueBy.get(id.toString()) ?? 0n;
    if (service === 0n) return "-";
    return `${(Number((revenue * 100n) / service) / 100).toFixed(2)}×`;
  };

  // Concentration: principal outstanding of live loans by borrower and by site, against the caps (bps of NAV).
  const byBorrower = new Map<string, bigint>();
  const bySite = new Map<string, bigint>();
  for (const r of rows) {
    if (!LIVE.has(LOAN_STATUSES[r.state.status] ?? "")) continue;
    byBorrower.set(r.terms.borrower, (byBorrower.get(r.terms.borrower) ?? 0n) + BigInt(r.state.principal));
    bySite.set(r.terms.site, (bySite.get(r.terms.site) ?? 0n) + BigInt(r.state.principal));
  }
  const borrowerCap = (nav * BigInt(risk.borrowerCapBps)) / 10_000n;
  const siteCap = (nav * BigInt(risk.siteCapBps)) / 10_000n;
  const share = (v: bigint) => (nav === 0n ? "-" : formatBps(Number((v * 10_000n) / nav)));
  const capCell = (v: bigint, cap: bigint) => (
    <span className={v > cap ? "badge bad" : "badge good"}>{v > cap ? "over cap" : "within cap"}</span>
  );

  return (
    <>
      <Card title="Loan book" wide testId="loan-book">
        <Facts
          rows={[
            ["Loans", loanCount.toString(), "loan-count"],
            ["Loan assets (in sUSDai's NAV)", formatUsd(loanAssets)],
            ["sUSDai NAV", formatUsd(nav)],
            [
              "Caps",
              `${formatBps(risk.borrowerCapBps)} of NAV per borrower, ${formatBps(risk.siteCapBps)} per site`,
            ],
          ]}
        />
        <Table
          testId="loan-book-table"
          head={[
            "loan",
            "borrower",
            "site",
            "status",
            "principal",
            "debt",
            "LTV",
            "coupon",
            "DSCR",
            "covenants",
          ]}
          rows={rows.map((r) => {
            const status = LOAN_STATUSES[r.state.status] ?? String(r.state.status);
            const flags = [
              ...flagNames(r.state.breachFlags, VAULT_FLAGS),
              ...flagNames(r.state.oracleFlags, ORACLE_FLAGS),
            ];
            return {
              key: r.id.toString(),
              testId: `loan-row-${r.id}`,
              cells: [
                <a href={`#/borrower?loan=${r.id}`}>#{r.id.toString()}</a>,
                <span className="mono">{shortAddress(r.terms.borrower)}</span>,
                bytes32ToText(r.terms.site),
                <span className={`status status-${status}`} data-testid={`loan-status-${r.id}`}>
                  {status}
                </span>,
                formatUsd(BigInt(r.state.principal), 0),
                <span data-testid={`loan-debt-${r.id}`}>{formatUsd(r.debt, 0)}</span>,
                <span className={r.ltv > BigInt(r.terms.maintenanceLtvBps) ? "error" : ""}>
                  {formatBps(r.ltv)}
                </span>,
                formatBps(r.coupon),
                dscrOf(r.id),
                flags.length === 0
                  ? "ok"
                  : `${flags.join(", ")}${r.state.cureDeadline ? `; cure by ${formatTime(r.state.cureDeadline)}` : ""}`,
              ],
            };
          })}
        />
        <p className="muted small">
          DSCR: revenue deposited into the loan's lockbox over the interest and scheduled principal it has
          paid, since drawdown (indexer history).
        </p>
      </Card>

      <Card title="Concentration" testId="concentration">
        <Table
          head={["borrower", "principal", "share of NAV", `cap ${formatBps(risk.borrowerCapBps)}`]}
          rows={[...byBorrower].map(([b, v]) => ({
            key: b,
            cells: [
              <span className="mono">{shortAddress(b)}</span>,
              formatUsd(v, 0),
              share(v),
              capCell(v, borrowerCap),
            ],
          }))}
          empty="No live loans."
        />
        <Table
          head={["site", "principal", "share of NAV", `cap ${formatBps(risk.siteCapBps)}`]}
          rows={[...bySite].map(([s, v]) => ({
            key: s,
            cells: [bytes32ToText(s), formatUsd(v, 0), share(v), capCell(v, siteCap)],
          }))}
          empty="No live loans."
        />
      </Card>

      <Card title="Utilization vs coupon, and oracle sources" wide testId="oracle">
        <Table
          testId="oracle-table"
          head={["loan", "utilization", "uptime", "coupon", "sources", "latest reading", "freshness"]}
          rows={rows.map((r) => {
            const [utilizationBps, uptimeBps, , updatedAt] = r.util;
            const [configured, quorum, maxStaleness] = r.oracleConfig;
            const age = updatedAt === 0n ? undefined : now - Number(updatedAt);
            return {
              key: r.id.toString(),
              cells: [
                `#${r.id}`,
                updatedAt === 0n ? "-" : formatBps(utilizationBps),
                updatedAt === 0n
                  ? "-"
                  : uptimeBps === UPTIME_UNKNOWN
                    ? "not reported (feeds)"
                    : formatBps(uptimeBps),
                formatBps(r.coupon),
                configured ? (
                  <span
                    title={r.sources.map((s) => `${SOURCE_KINDS[s.kind] ?? s.kind} ${s.account}`).join("\n")}
                  >
                    {sourceSummary(r.sources.map((s) => s.kind))}, quorum {quorum}
                  </span>
                ) : (
                  "not configured"
                ),
                updatedAt === 0n ? "never" : formatTime(updatedAt),
                age === undefined ? (
                  "-"
                ) : (
                  <span className={age > maxStaleness ? "badge bad" : "badge good"}>
                    {formatDuration(age)} old; {age > maxStaleness ? "stale" : "fresh"} (max{" "}
                    {formatDuration(maxStaleness)})
                  </span>
                ),
              ],
            };
          })}
        />
      </Card>
    </>
  );
}

function Auctions() {
  const c = contracts();
  const auctions = useAuctions();
  const items = auctions.data?.auctions.items ?? [];
  const running = items.filter((a) => a.status === "Live");
  const prices = useReadContracts({
    allowFailure: true,
    contracts: running.map((a) => ({ ...c.auction, functionName: "price", args: [BigInt(a.id)] }) as const),
    query: { refetchInterval: config.pollMs, enabled: running.length > 0 },
  });
  if (auctions.error) return <ErrorNote error={auctions.error} />;
  if (!auctions.data) return <Loading what="auctions" />;
  return (
    <Card title="Defaults and auctions" wide testId="auctions">
      <Table
        testId="auctions-table"
        head={[
          "auction",
          "loan",
          "status",
          "start",
          "floor",
          "now / sold at",
          "repaid",
          "surplus",
          "loss",
          "ends",
        ]}
        rows={items.map((a) => {
          const live = running.findIndex((x) => x.id === a.id);
          const price = live >= 0 ? prices.data?.[live]?.result : undefined;
          return {
            key: a.id,
            cells: [
              `#${a.id}`,
              `#${a.loanId}`,
              a.status,
              formatUsd(big(a.startPrice), 0),
              formatUsd(big(a.floorPrice), 0),
              price !== undefined
                ? `${formatUsd(price as bigint, 0)} now`
                : a.price
                  ? formatUsd(big(a.price), 0)
                  : "-",
              a.repaid ? formatUsd(big(a.repaid), 0) : "-",
              a.surplus ? formatUsd(big(a.surplus), 0) : "-",
              a.loss ? formatUsd(big(a.loss), 0) : "-",
              formatTime(big(a.endsAt)),
            ],
          };
        })}
        empty="No loan has defaulted into an auction."
      />
    </Card>
  );
}

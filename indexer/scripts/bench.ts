/**
 * `npm run bench` in indexer/: latency of the REST endpoints of a running indexer over loopback, sequential
 * requests after a warm-up. Environment: INDEXER_URL (default http://127.0.0.1:42069), BENCH_REQUESTS (default
 * 1000), BENCH_LOAN_ID (default: the first loan).
 */
import { latencies, summarize } from "../test/latency";

const url = process.env.INDEXER_URL ?? "http://127.0.0.1:42069";
const requests = Number(process.env.BENCH_REQUESTS ?? 1000);

async function main(): Promise<void> {
  const loans = (await (await fetch(`${url}/loans?limit=1`)).json()) as { loans: { id: string }[] };
  const loanId = process.env.BENCH_LOAN_ID ?? loans.loans[0]?.id;
  if (loanId === undefined) throw new Error(`no loans at ${url}: run the demo story first (npm run stack)`);
  const routes = [`/loans/${loanId}/tape`, "/loans", "/susdai/history?order=desc&limit=100", "/queue"];
  const rows: string[][] = [];
  for (const route of routes) {
    await latencies(`${url}${route}`, 20); // warm-up
    const stats = summarize(await latencies(`${url}${route}`, requests));
    rows.push([
      route,
      String(requests),
      stats.p50.toFixed(2),
      stats.p95.toFixed(2),
      stats.p99.toFixed(2),
      stats.max.toFixed(2),
    ]);
    console.log(`  ${route}: done`);
  }
  const header = ["route", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(
    `\nREST latency at ${url} (sequential, loopback)\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`,
  );
  for (const row of rows) console.log(line(row));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

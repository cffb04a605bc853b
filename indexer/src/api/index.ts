/**
 * The indexer's HTTP API: Ponder's GraphQL (`/graphql`) and SQL over HTTP (`/sql/*`), plus the REST endpoints the
 * web app and risk desks use. Every REST answer is JSON with bigints as decimal strings; bad input is a 400 and an
 * unknown loan a 404, each with `{ "error": "..." }`, never a 500.
 */
import { db } from "ponder:api";
import schema, {
  auction,
  couponStep,
  covenantFlag,
  loan,
  loanEvent,
  oracleCovenantEvent,
  oracleLoan,
  oracleRevenue,
  payment,
  receipt,
  redemption,
  redemptionQueue,
  susdaiSnapshot,
} from "ponder:schema";
import { Hono, type Context } from "hono";
import { and, asc, client, count, desc, eq, gte, graphql, lte, replaceBigInts } from "ponder";

import { LOAN_STATUSES, ORACLE_COVENANT_KINDS, REDEMPTION_STATUSES } from "../constants";

const MAX_LIMIT = 1_000;

/** A request the client got wrong: answered with `status` and `{ error: message }`. */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

function json(c: Context, body: unknown, status: 200 | 400 | 404 = 200) {
  return c.json(replaceBigInts(body, (v) => v.toString()) as object, status);
}

/** A non-negative integer that fits in a uint256, from a path segment or query value. */
function uint(name: string, raw: string): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(raw)) {
    throw new BadRequest(`${name} must be a non-negative decimal integer, got "${raw}"`);
  }
  const value = BigInt(raw);
  if (value >= 2n ** 256n) throw new BadRequest(`${name} does not fit in a uint256`);
  return value;
}

function optionalUint(c: Context, name: string): bigint | undefined {
  const raw = c.req.query(name);
  return raw === undefined ? undefined : uint(name, raw);
}

function limitOf(c: Context, fallback: number): number {
  const raw = c.req.query("limit");
  if (raw === undefined) return fallback;
  const value = uint("limit", raw);
  if (value < 1n || value > BigInt(MAX_LIMIT))
    throw new BadRequest(`limit must be between 1 and ${MAX_LIMIT}`);
  return Number(value);
}

function offsetOf(c: Context): number {
  const value = optionalUint(c, "offset") ?? 0n;
  if (value > 1_000_000n) throw new BadRequest("offset must be at most 1000000");
  return Number(value);
}

function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new BadRequest(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

function address(name: string, raw: string | undefined): `0x${string}` | undefined {
  if (raw === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{40}$/.test(raw)) throw new BadRequest(`${name} must be a 0x-prefixed 20-byte address`);
  return raw.toLowerCase() as `0x${string}`;
}

const app = new Hono();

/** Wraps a route so that a `BadRequest` becomes its 4xx JSON answer; anything else is a real server error. */
function route(handler: (c: Context) => Promise<Response>) {
  return async (c: Context): Promise<Response> => {
    try {
      return await handler(c);
    } catch (err) {
      if (err instanceof BadRequest) return c.json({ error: err.message }, err.status);
      throw err;
    }
  };
}

/**
 * SQL over HTTP (`@ponder/client`): Ponder answers a query it cannot parse, refuses (anything but a read-only
 * SELECT) or the database rejects with a 500; all three are the client's query at fault, so they become a 400 with
 * the reason. The parameter must be the client's superjson envelope, `{"json":{"sql":"...","params":[]}}`.
 */
app.use("/sql/*", async (c, next) => {
  const raw = c.req.query("sql");
  if (raw !== undefined) {
    let sqlText: unknown;
    try {
      sqlText = (JSON.parse(raw) as { json?: { sql?: unknown } }).json?.sql;
    } catch {
      sqlText = undefined;
    }
    if (typeof sqlText !== "string") {
      return c.json(
        { error: 'sql must be a @ponder/client query: {"json":{"sql":"select ...","params":[]}}' },
        400,
      );
    }
  }
  await next();
  if (c.res.status === 500) {
    const reason = await c.res.clone().text();
    c.res = new Response(JSON.stringify({ error: `query refused: ${reason}` }), {
      status: 400,
      headers: { "content-type": "application/json" },
    });
  }
});
app.use("/sql/*", client({ db, schema }));
/**
 * GraphQL: a request that fails before execution (a syntax error, an unknown field: a response with errors and no
 * data) is the client's mistake, so it is answered 400 whatever media type the client asked for. GraphQL over HTTP
 * only mandates that for `application/graphql-response+json`; plain `application/json` would get a 200.
 */
app.use("/graphql", async (c, next) => {
  await next();
  if (c.res.status !== 200 || !c.res.headers.get("content-type")?.includes("json")) return;
  const body = (await c.res.clone().json()) as { data?: unknown; errors?: unknown[] };
  if (body.errors?.length && (body.data === undefined || body.data === null)) {
    c.res = new Response(JSON.stringify(body), { status: 400, headers: c.res.headers });
  }
});
app.use("/graphql", graphql({ db, schema }));

/** GET /loans?status=Active&borrower=0x..&limit=100&offset=0: loans with their current state, by id. */
app.get(
  "/loans",
  route(async (c) => {
    const status = oneOf("status", c.req.query("status"), LOAN_STATUSES);
    const borrower = address("borrower", c.req.query("borrower"));
    const limit = limitOf(c, 100);
    const offset = offsetOf(c);
    const where = and(
      status ? eq(loan.status, status) : undefined,
      borrower ? eq(loan.borrower, borrower) : undefined,
    );
    const [rows, [total]] = await Promise.all([
      db.select().from(loan).where(where).orderBy(asc(loan.id)).limit(limit).offset(offset),
      db.select({ n: count() }).from(loan).where(where),
    ]);
    return json(c, { total: total?.n ?? 0, limit, offset, loans: rows });
  }),
);

/**
 * GET /loans/:id: one loan with its receipts, auction and oracle configuration (`oracle`: sources, revenue
 * covenants, current covenant flags; null while the oracle has not configured the loan).
 */
app.get(
  "/loans/:id",
  route(async (c) => {
    const id = uint("loan id", c.req.param("id") ?? "");
    const [row] = await db.select().from(loan).where(eq(loan.id, id));
    if (!row) throw new BadRequest(`loan ${id} does not exist`, 404);
    const [receipts, auctions, [oracle]] = await Promise.all([
      db.select().from(receipt).where(eq(receipt.loanId, id)).orderBy(asc(receipt.id)),
      db.select().from(auction).where(eq(auction.loanId, id)).orderBy(asc(auction.id)),
      db.select().from(oracleLoan).where(eq(oracleLoan.loanId, id)),
    ]);
    return json(c, { loan: row, receipts, auctions, oracle: oracle ?? null });
  }),
);

/**
 * GET /loans/:id/tape?fromBlock=&toBlock=&limit=: the loan's history in chain order. `events` has one row per
 * LoanVault event with the loan's state after that block (status, principal, debt, coupon, LTV, collateral
 * value); `payments`, `couponSteps` and `covenantFlags` are the typed views of the same history.
 */
app.get(
  "/loans/:id/tape",
  route(async (c) => {
    const id = uint("loan id", c.req.param("id") ?? "");
    const fromBlock = optionalUint(c, "fromBlock");
    const toBlock = optionalUint(c, "toBlock");
    const limit = limitOf(c, MAX_LIMIT);
    const [row] = await db.select().from(loan).where(eq(loan.id, id));
    if (!row) throw new BadRequest(`loan ${id} does not exist`, 404);
    const range = <T extends typeof loanEvent | typeof payment | typeof couponStep | typeof covenantFlag>(
      t: T,
    ) =>
      and(
        eq(t.loanId, id),
        fromBlock !== undefined ? gte(t.blockNumber, fromBlock) : undefined,
        toBlock !== undefined ? lte(t.blockNumber, toBlock) : undefined,
      );
    const [events, payments, couponSteps, covenantFlags] = await Promise.all([
      db
        .select()
        .from(loanEvent)
        .where(range(loanEvent))
        .orderBy(asc(loanEvent.blockNumber), asc(loanEvent.logIndex))
        .limit(limit),
      db
        .select()
        .from(payment)
        .where(range(payment))
        .orderBy(asc(payment.blockNumber), asc(payment.id))
        .limit(limit),
      db
        .select()
        .from(couponStep)
        .where(range(couponStep))
        .orderBy(asc(couponStep.blockNumber), asc(couponStep.id))
        .limit(limit),
      db
        .select()
        .from(covenantFlag)
        .where(range(covenantFlag))
        .orderBy(asc(covenantFlag.blockNumber), asc(covenantFlag.id))
        .limit(limit),
    ]);
    return json(c, { loan: row, events, payments, couponSteps, covenantFlags });
  }),
);

/**
 * GET /loans/:id/revenue?fromBlock=&toBlock=&kind=&limit=: the loan's reported revenue and covenant events.
 * `revenue` has one row per reported period (`RevenueRecorded`), by day; `covenantEvents` the oracle's DSCR breaches,
 * revenue shortfalls and data gaps in chain order (`kind` keeps one of them); `covenants` the revenue covenants the
 * oracle holds for the loan and its current flags (null while it has not configured the loan).
 */
app.get(
  "/loans/:id/revenue",
  route(async (c) => {
    const id = uint("loan id", c.req.param("id") ?? "");
    const fromBlock = optionalUint(c, "fromBlock");
    const toBlock = optionalUint(c, "toBlock");
    const kind = oneOf("kind", c.req.query("kind"), ORACLE_COVENANT_KINDS);
    const limit = limitOf(c, MAX_LIMIT);
    const [row] = await db.select().from(loan).where(eq(loan.id, id));
    if (!row) throw new BadRequest(`loan ${id} does not exist`, 404);
    const range = <T extends typeof oracleRevenue | typeof oracleCovenantEvent>(t: T) =>
      and(
        eq(t.loanId, id),
        fromBlock !== undefined ? gte(t.blockNumber, fromBlock) : undefined,
        toBlock !== undefined ? lte(t.blockNumber, toBlock) : undefined,
      );
    const [[covenants], revenue, covenantEvents] = await Promise.all([
      db.select().from(oracleLoan).where(eq(oracleLoan.loanId, id)),
      db
        .select()
        .from(oracleRevenue)
        .where(range(oracleRevenue))
        .orderBy(asc(oracleRevenue.day))
        .limit(limit),
      db
        .select()
        .from(oracleCovenantEvent)
        .where(and(range(oracleCovenantEvent), kind ? eq(oracleCovenantEvent.kind, kind) : undefined))
        .orderBy(asc(oracleCovenantEvent.blockNumber), asc(oracleCovenantEvent.logIndex))
        .limit(limit),
    ]);
    return json(c, { loan: row, covenants: covenants ?? null, revenue, covenantEvents });
  }),
);

/**
 * GET /susdai/history?fromBlock=&toBlock=&limit=&order=asc|desc: sUSDai price snapshots (NAV, supply, USDai per
 * share, loan assets, trailing APY).
 */
app.get(
  "/susdai/history",
  route(async (c) => {
    const fromBlock = optionalUint(c, "fromBlock");
    const toBlock = optionalUint(c, "toBlock");
    const limit = limitOf(c, MAX_LIMIT);
    const order = oneOf("order", c.req.query("order"), ["asc", "desc"] as const) ?? "asc";
    const rows = await db
      .select()
      .from(susdaiSnapshot)
      .where(
        and(
          fromBlock !== undefined ? gte(susdaiSnapshot.blockNumber, fromBlock) : undefined,
          toBlock !== undefined ? lte(susdaiSnapshot.blockNumber, toBlock) : undefined,
        ),
      )
      .orderBy(order === "asc" ? asc(susdaiSnapshot.blockNumber) : desc(susdaiSnapshot.blockNumber))
      .limit(limit);
    return json(c, { snapshots: rows });
  }),
);

/** GET /queue?status=pending&controller=0x..&limit=: the redemption queue's totals and its requests, oldest first. */
app.get(
  "/queue",
  route(async (c) => {
    const status = oneOf("status", c.req.query("status"), REDEMPTION_STATUSES);
    const controller = address("controller", c.req.query("controller"));
    const limit = limitOf(c, MAX_LIMIT);
    const offset = offsetOf(c);
    const [[queue], requests] = await Promise.all([
      db.select().from(redemptionQueue),
      db
        .select()
        .from(redemption)
        .where(
          and(
            status ? eq(redemption.status, status) : undefined,
            controller ? eq(redemption.controller, controller) : undefined,
          ),
        )
        .orderBy(asc(redemption.id))
        .limit(limit)
        .offset(offset),
    ]);
    return json(c, {
      queue: queue ?? { head: 0n, tail: 0n, pendingShares: 0n, claimableShares: 0n, claimableAssets: 0n },
      requests,
    });
  }),
);

// Last: any other path under this app is a JSON 404 (Ponder's own fallback answers HTML).
app.all("*", (c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

export default app;

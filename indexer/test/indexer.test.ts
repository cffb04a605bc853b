/**
 * Integration test: a `hardhat node` on a free loopback port (its deploy scripts deploy the protocol), the demo
 * story played against it (two loans, 18 months of payments, oracle readings, coupon steps, a default sold at
 * auction, a step-in, a queued redemption), then the indexer run to the chain head on a fresh embedded database.
 * The indexed tables are checked against the chain itself, read at the blocks the rows claim; then a reorg
 * (`evm_revert` to a snapshot) must remove the orphaned rows; bad requests must get a 4xx.
 *
 * Run with `npm test` in indexer/ (or `npm run test:indexer` in the root). Environment: INDEXER_TEST_KEEP=1 keeps
 * the logs and the database directory; INDEXER_TEST_LATENCY_REQUESTS sets the latency sample (default 200).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createPublicClient,
  encodeFunctionData,
  http,
  keccak256,
  toHex,
  type Address,
  type PublicClient,
} from "viem";

import {
  CollateralAuctionAbi,
  GpuReceiptAbi,
  LoanVaultAbi,
  StakedUSDaiAbi,
  UtilizationOracleAbi,
} from "../abis/generated";
import {
  freePort,
  indexedBlock,
  ROOT,
  rpc,
  runHardhatScript,
  startIndexer,
  startNode,
  waitForHead,
  type Child,
} from "../scripts/local";
import { LOAN_STATUSES } from "../src/constants";
import { readDeployments, type Deployments } from "../src/deployments";
import { latencies, summarize } from "./latency";

const LATENCY_REQUESTS = Number(process.env.INDEXER_TEST_LATENCY_REQUESTS ?? 200);
const SNAPSHOT_INTERVAL = 5;
const ATTACH_RPC_URL = process.env.INDEXER_TEST_RPC_URL;
const ATTACH_INDEXER_URL = process.env.INDEXER_TEST_INDEXER_URL;
/** Every check after the set-up is a few seconds; a stuck one fails instead of hanging CI. */
const CHECK_TIMEOUT = { timeout: 120_000 };

type Json = Record<string, unknown>;

describe("indexer against a hardhat node playing the demo story", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-credit-indexer-"));
  const children: Child[] = [];
  let nodeUrl: string;
  let indexerUrl: string;
  let chain: PublicClient;
  let deployments: Deployments;
  let head: bigint;

  const api = async <T = Json>(route: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${indexerUrl}${route}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the assertion message
    }
    return { status: res.status, body: body as T };
  };
  const get = async <T = Json>(route: string): Promise<T> => {
    const { status, body } = await api<T>(route);
    assert.equal(status, 200, `${route} answered ${status}: ${JSON.stringify(body)}`);
    return body;
  };
  const graphql = async <T = Json>(query: string): Promise<T> => {
    const { status, body } = await api<{ data: T; errors?: unknown }>("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    assert.equal(status, 200, `graphql answered ${status}: ${JSON.stringify(body)}`);
    assert.equal(body.errors, undefined);
    return body.data;
  };
  const vault = () => ({ abi: LoanVaultAbi, address: deployments.contracts.LoanVault.address }) as const;
  const staked = () => ({ abi: StakedUSDaiAbi, address: deployments.contracts.StakedUSDai.address }) as const;

  before(
    async () => {
      const started = Date.now();
      const step = (what: string) =>
        console.log(`# ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      deployments = readDeployments(path.join(ROOT, "deployments", "localhost"));
      if (ATTACH_RPC_URL && ATTACH_INDEXER_URL) {
        // Checks against a running stack (e.g. `npm run stack`) instead of starting one.
        nodeUrl = ATTACH_RPC_URL;
        indexerUrl = ATTACH_INDEXER_URL;
        chain = createPublicClient({ transport: http(nodeUrl), cacheTime: 0 });
        head = BigInt(await indexedBlock(indexerUrl));
        step(`attached to ${nodeUrl} and ${indexerUrl} at block ${head}`);
        return;
      }
      const node = await startNode(await freePort(), tmp);
      children.push(node);
      nodeUrl = node.url;
      step(`hardhat node up at ${node.url}, protocol deployed`);
      await runHardhatScript("scripts/demo.ts", node.url, path.join(tmp, "demo.log"));
      deployments = readDeployments(path.join(ROOT, "deployments", "localhost"));
      chain = createPublicClient({ transport: http(node.url), cacheTime: 0 });
      const demoHead = await chain.getBlockNumber();
      step(`demo story played: ${demoHead} blocks`);

      const indexStarted = Date.now();
      const indexer = await startIndexer({
        rpcUrl: node.url,
        port: await freePort(),
        pgliteDir: path.join(tmp, "pglite"),
        log: path.join(tmp, "indexer.log"),
        env: { SUSDAI_SNAPSHOT_INTERVAL: String(SNAPSHOT_INTERVAL) },
      });
      children.push(indexer);
      indexerUrl = indexer.url;
      head = BigInt(await waitForHead(indexer.url, node.url, indexer));
      const seconds = (Date.now() - indexStarted) / 1000;
      const { eventLogs } = await graphql<{ eventLogs: { totalCount: number } }>(
        "{ eventLogs { totalCount } }",
      );
      step(
        `indexed ${eventLogs.totalCount} events in ${head} blocks in ${seconds.toFixed(1)}s ` +
          `(${(eventLogs.totalCount / seconds).toFixed(0)} events/s, start-up included)`,
      );
    },
    { timeout: 1_800_000 },
  );

  after(
    async () => {
      for (const child of children.reverse()) await child.stop();
      if (process.env.INDEXER_TEST_KEEP) console.log(`# logs and database kept in ${tmp}`);
      else fs.rmSync(tmp, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  it("indexes every event the protocol's contracts emitted", CHECK_TIMEOUT, async () => {
    const addresses = Object.values(deployments.contracts).map((c) => c.address);
    const fromBlock = BigInt(Math.min(...Object.values(deployments.contracts).map((c) => c.startBlock)));
    const logs = await chain.getLogs({ address: addresses, fromBlock, toBlock: head });
    const { eventLogs } = await graphql<{ eventLogs: { totalCount: number } }>(
      "{ eventLogs { totalCount } }",
    );
    assert.equal(eventLogs.totalCount, logs.length);
    assert.ok(logs.length > 500, `the demo story should emit hundreds of events, saw ${logs.length}`);
  });

  it("has every loan with the chain's status and debt", CHECK_TIMEOUT, async () => {
    const count = await chain.readContract({ ...vault(), functionName: "loanCount", blockNumber: head });
    const { total, loans } = await get<{ total: number; loans: Json[] }>("/loans");
    assert.equal(BigInt(total), count);
    assert.ok(count >= 2n);
    for (const row of loans) {
      const id = BigInt(row.id as string);
      const state = await chain.readContract({
        ...vault(),
        functionName: "stateOf",
        args: [id],
        blockNumber: head,
      });
      assert.equal(row.status, LOAN_STATUSES[state.status], `loan ${id} status`);
      // The row holds the state as of its last event's block: check it there.
      const at = BigInt(row.updatedBlock as string);
      const debt = await chain.readContract({
        ...vault(),
        functionName: "debtOf",
        args: [id],
        blockNumber: at,
      });
      assert.equal(BigInt(row.debt as string), debt, `loan ${id} debt at block ${at}`);
      const then = await chain.readContract({
        ...vault(),
        functionName: "stateOf",
        args: [id],
        blockNumber: at,
      });
      assert.equal(BigInt(row.principal as string), then.principal, `loan ${id} principal`);
      assert.equal(row.couponBps, then.couponBps, `loan ${id} coupon`);
    }
    const statuses = new Set(loans.map((l) => l.status));
    assert.ok(
      statuses.size >= 2,
      `the story ends with loans in different states, saw ${[...statuses].join(", ")}`,
    );
  });

  it(
    "has each loan's payments and coupon steps, and a tape whose states match the chain",
    CHECK_TIMEOUT,
    async () => {
      const { loans } = await get<{ loans: Json[] }>("/loans");
      let steps = 0;
      for (const row of loans) {
        const id = BigInt(row.id as string);
        const filter = {
          address: deployments.contracts.LoanVault.address,
          args: { loanId: id },
          fromBlock: 0n,
          toBlock: head,
        };
        const repaid = await chain.getContractEvents({ ...filter, abi: LoanVaultAbi, eventName: "Repaid" });
        const stepped = await chain.getContractEvents({
          ...filter,
          abi: LoanVaultAbi,
          eventName: "CouponStepApplied",
        });
        const settled = await chain.getContractEvents({
          ...filter,
          abi: LoanVaultAbi,
          eventName: "PaymentSettled",
        });
        const swept = await chain.getContractEvents({ ...filter, abi: LoanVaultAbi, eventName: "Swept" });
        const tape = await get<{ events: Json[]; payments: Json[]; couponSteps: Json[] }>(
          `/loans/${id}/tape`,
        );
        assert.equal(tape.payments.length, repaid.length, `loan ${id} payments`);
        assert.equal(row.paymentsCount, repaid.length, `loan ${id} paymentsCount`);
        assert.equal(row.installmentsSettled, settled.length, `loan ${id} installments settled`);
        assert.ok(settled.length >= 1, `loan ${id} settles installments`);
        const sweeps = await graphql<{ sweeps: { totalCount: number } }>(
          `{ sweeps(where: { loanId: "${id}" }) { totalCount } }`,
        );
        assert.equal(sweeps.sweeps.totalCount, swept.length, `loan ${id} sweeps`);
        assert.equal(tape.couponSteps.length, stepped.length, `loan ${id} coupon steps`);
        assert.equal(row.couponStepsCount, stepped.length);
        const interest = repaid.reduce((sum, log) => sum + log.args.interest!, 0n);
        assert.equal(BigInt(row.paidInterest as string), interest, `loan ${id} interest paid`);
        steps += stepped.length;

        // Tape rows are in chain order, and a sample of them carries the chain's debt at that block.
        const blocks = tape.events.map((e) => BigInt(e.blockNumber as string));
        assert.deepEqual(
          blocks,
          [...blocks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        );
        for (const event of tape.events.filter((_, i) => i % 25 === 0)) {
          const at = BigInt(event.blockNumber as string);
          const debt = await chain.readContract({
            ...vault(),
            functionName: "debtOf",
            args: [id],
            blockNumber: at,
          });
          assert.equal(BigInt(event.debt as string), debt, `loan ${id} tape debt at block ${at}`);
        }
      }
      assert.ok(steps >= 1, "the story steps a coupon");
    },
  );

  it("has the receipts, auctions and oracle days the chain emitted", CHECK_TIMEOUT, async () => {
    const all = { fromBlock: 0n, toBlock: head } as const;
    const minted = await chain.getContractEvents({
      ...all,
      abi: GpuReceiptAbi,
      address: deployments.contracts.GpuReceipt.address,
      eventName: "ReceiptMinted",
    });
    const started = await chain.getContractEvents({
      ...all,
      abi: CollateralAuctionAbi,
      address: deployments.contracts.CollateralAuction.address,
      eventName: "AuctionStarted",
    });
    const observed = await chain.getContractEvents({
      ...all,
      abi: UtilizationOracleAbi,
      address: deployments.contracts.UtilizationOracle.address,
      eventName: "ObservationRecorded",
    });
    const data = await graphql<{
      receipts: { totalCount: number };
      auctions: { totalCount: number; items: { status: string; proceeds: string | null }[] };
      oracleObservations: { totalCount: number };
      oracleReadings: { totalCount: number; items: { source: string }[] };
    }>(
      "{ receipts { totalCount } auctions { totalCount items { status proceeds } } " +
        "oracleObservations { totalCount } oracleReadings(limit: 1000) { totalCount items { source } } }",
    );
    assert.equal(data.receipts.totalCount, minted.length);
    assert.equal(data.auctions.totalCount, started.length);
    assert.ok(started.length >= 1, "the story liquidates a loan");
    assert.ok(data.auctions.items.some((a) => a.status === "Sold" && a.proceeds !== null));
    assert.equal(data.oracleObservations.totalCount, observed.length);
    // Each signed reading's recovered signer is a REPORTER.
    const reporterRole = keccak256(toHex("REPORTER_ROLE")); // contracts/libraries/Roles.sol
    const sources = new Set(data.oracleReadings.items.map((r) => r.source));
    assert.ok(sources.size >= 2, "several reporters signed");
    for (const source of sources) {
      const holds = await chain.readContract({
        abi: UtilizationOracleAbi,
        address: deployments.contracts.UtilizationOracle.address,
        functionName: "hasRole",
        args: [reporterRole, source as Address],
      });
      assert.ok(holds, `${source} is a reporter`);
    }
  });

  it(
    "has each reported period's revenue, the covenant events and covenants the oracle emitted",
    CHECK_TIMEOUT,
    async () => {
      const oracle = {
        abi: UtilizationOracleAbi,
        address: deployments.contracts.UtilizationOracle.address,
      } as const;
      const all = { ...oracle, fromBlock: 0n, toBlock: head } as const;
      const [recorded, observed, dscr, shortfalls, gaps, flagChanges, covenantsSet] = await Promise.all([
        chain.getContractEvents({ ...all, eventName: "RevenueRecorded" }),
        chain.getContractEvents({ ...all, eventName: "ObservationRecorded" }),
        chain.getContractEvents({ ...all, eventName: "DscrBreached" }),
        chain.getContractEvents({ ...all, eventName: "RevenueShortfall" }),
        chain.getContractEvents({ ...all, eventName: "DataGapFlagged" }),
        chain.getContractEvents({ ...all, eventName: "CovenantFlagsChanged" }),
        chain.getContractEvents({ ...all, eventName: "RevenueCovenantsSet" }),
      ]);
      const { oracleCovenantEvents } = await graphql<{ oracleCovenantEvents: { totalCount: number } }>(
        "{ oracleCovenantEvents { totalCount } }",
      );
      assert.equal(oracleCovenantEvents.totalCount, dscr.length + shortfalls.length + gaps.length);

      const { loans } = await get<{ loans: Json[] }>("/loans");
      const withFloor: bigint[] = [];
      for (const row of loans) {
        const id = BigInt(row.id as string);
        const body = await get<{ covenants: Json | null; revenue: Json[]; covenantEvents: Json[] }>(
          `/loans/${id}/revenue`,
        );
        // Revenue: one row per RevenueRecorded of the loan, with the chain's figures and position.
        const mine = recorded.filter((log) => log.args.loanId === id);
        assert.equal(body.revenue.length, mine.length, `loan ${id} revenue rows`);
        const byDay = new Map(body.revenue.map((r) => [r.day as number, r]));
        for (const log of mine) {
          const row = byDay.get(log.args.day!);
          assert.ok(row, `loan ${id} revenue of day ${log.args.day}`);
          assert.equal(row.periodDays, log.args.periodDays, `loan ${id} day ${log.args.day} period`);
          assert.equal(
            BigInt(row.revenueUsd as string),
            log.args.revenueUsd,
            `loan ${id} day ${log.args.day}`,
          );
          assert.equal(BigInt(row.blockNumber as string), log.blockNumber);
          assert.equal(row.transactionHash, log.transactionHash);
          assert.equal(row.logIndex, log.logIndex);
        }
        // Covenant events: the chain's, in chain order, with their figures.
        const events = [
          ...dscr.map((log) => ({
            log,
            kind: "dscr-breach",
            figures: {
              day: log.args.day!,
              revenueUsd: log.args.revenueUsd!,
              debtServiceUsd: log.args.debtServiceUsd!,
              minDscrBps: log.args.minDscrBps!,
            },
          })),
          ...shortfalls.map((log) => ({
            log,
            kind: "revenue-shortfall",
            figures: {
              day: log.args.day!,
              revenueUsd: log.args.revenueUsd!,
              depositedUsd: log.args.depositedUsd!,
              shortfallToleranceBps: log.args.shortfallToleranceBps!,
            },
          })),
          ...gaps.map((log) => ({
            log,
            kind: "data-gap",
            figures: {
              lastDay: log.args.lastDay!,
              missingDays: log.args.missingDays!,
              maxGapDays: log.args.maxGapDays!,
            },
          })),
        ]
          .filter((e) => e.log.args.loanId === id)
          .sort((a, b) =>
            a.log.blockNumber !== b.log.blockNumber
              ? Number(a.log.blockNumber - b.log.blockNumber)
              : a.log.logIndex - b.log.logIndex,
          );
        assert.equal(body.covenantEvents.length, events.length, `loan ${id} covenant events`);
        for (const [i, expected] of events.entries()) {
          const row = body.covenantEvents[i]!;
          assert.equal(row.kind, expected.kind, `loan ${id} covenant event ${i}`);
          assert.equal(row.transactionHash, expected.log.transactionHash);
          assert.equal(row.logIndex, expected.log.logIndex);
          for (const [column, value] of Object.entries(expected.figures)) {
            const got = row[column];
            assert.equal(
              typeof value === "bigint" ? BigInt(got as string) : got,
              value,
              `loan ${id} ${expected.kind} ${column}`,
            );
          }
        }
        // Covenants and flags: what the oracle holds at the head.
        const [covenants] = await chain.readContract({
          ...oracle,
          functionName: "revenueCovenants",
          args: [id],
          blockNumber: head,
        });
        const [, maxGapDays] = await chain.readContract({
          ...oracle,
          functionName: "dataGap",
          args: [id],
          blockNumber: head,
        });
        const single = await get<{ oracle: Json | null }>(`/loans/${id}`);
        assert.deepEqual(single.oracle, body.covenants);
        if (!covenantsSet.some((log) => log.args.loanId === id)) {
          // Never given covenants by the oracle: nothing to hold, nothing to check.
          assert.ok(body.covenants === null || body.covenants.minDscrBps === null, `loan ${id} covenants`);
          continue;
        }
        assert.ok(body.covenants, `loan ${id} is configured in the oracle`);
        assert.equal(body.covenants.minDscrBps, covenants.minDscrBps, `loan ${id} minDscrBps`);
        assert.equal(body.covenants.lockboxCheck, covenants.lockboxCheck, `loan ${id} lockboxCheck`);
        assert.equal(body.covenants.shortfallToleranceBps, covenants.shortfallToleranceBps);
        assert.equal(body.covenants.maxGapDays, maxGapDays, `loan ${id} maxGapDays`);
        const lastFlags = flagChanges.filter((log) => log.args.loanId === id).at(-1)?.args.flags ?? 0;
        assert.equal(body.covenants.flags, lastFlags, `loan ${id} oracle flags`);

        if (covenants.minDscrBps > 0) {
          withFloor.push(id);
          // Loan B: each monthly signed report records its billed revenue beside the period's observation.
          const reported = observed.filter((log) => log.args.loanId === id && log.args.periodDays! > 1);
          assert.ok(reported.length >= 12, `loan ${id} reports monthly for a year, saw ${reported.length}`);
          assert.ok(mine.length >= reported.length, `loan ${id} revenue for each monthly report`);
          for (const log of reported) {
            const row = byDay.get(log.args.day!);
            assert.ok(row, `loan ${id} revenue for the report of day ${log.args.day}`);
            assert.equal(row.periodDays, log.args.periodDays);
            assert.equal(row.transactionHash, log.transactionHash, "recorded beside its observation");
          }
          assert.ok(
            body.covenantEvents.some((e) => e.kind === "dscr-breach"),
            `loan ${id} breaches its DSCR floor in month 12`,
          );
          const breaches = await get<{ covenantEvents: Json[] }>(`/loans/${id}/revenue?kind=dscr-breach`);
          assert.equal(breaches.covenantEvents.length, dscr.filter((log) => log.args.loanId === id).length);
        }
      }
      assert.equal(withFloor.length, 1, "the story gives one loan (B) a DSCR floor");
      assert.ok(dscr.length >= 1, "the story breaches a DSCR floor");
    },
  );

  it(
    "has sUSDai's price every SUSDAI_SNAPSHOT_INTERVAL blocks, equal to the chain's",
    CHECK_TIMEOUT,
    async () => {
      const first = BigInt(Math.max(...Object.values(deployments.contracts).map((c) => c.startBlock)));
      const { snapshots } = await get<{ snapshots: Json[] }>(`/susdai/history?limit=1000`);
      const blocks = snapshots.map((s) => BigInt(s.blockNumber as string));
      const expected: bigint[] = [];
      for (let n = first; n <= head && expected.length < 1000; n += BigInt(SNAPSHOT_INTERVAL))
        expected.push(n);
      assert.deepEqual(blocks, expected, "one snapshot per interval from the last deploy block");
      for (let i = 0; i < 8; i++) {
        const block = blocks[Math.floor(((blocks.length - 1) * i) / 7)]!;
        const [row] = (
          await get<{ snapshots: Json[] }>(`/susdai/history?fromBlock=${block}&toBlock=${block}`)
        ).snapshots;
        assert.ok(row, `snapshot at block ${block}`);
        const price = await chain.readContract({
          ...staked(),
          functionName: "convertToAssets",
          args: [10n ** 18n],
          blockNumber: block,
        });
        const nav = await chain.readContract({
          ...staked(),
          functionName: "totalAssets",
          blockNumber: block,
        });
        const { timestamp } = await chain.getBlock({ blockNumber: block });
        assert.equal(BigInt(row.pricePerShare as string), price, `price at block ${block}`);
        assert.equal(BigInt(row.totalAssets as string), nav, `NAV at block ${block}`);
        assert.equal(BigInt(row.timestamp as string), timestamp, `timestamp of block ${block}`);
      }
      // The trailing APY of the last snapshot, recomputed from the snapshot a window earlier.
      const last = snapshots[snapshots.length - 1]!;
      const windowSeconds = BigInt(last.apyWindowSeconds as number);
      const base = [...snapshots]
        .reverse()
        .find((s) => BigInt(s.timestamp as string) <= BigInt(last.timestamp as string) - windowSeconds);
      assert.ok(base, "an 18-month story has a snapshot a window before the last one");
      const growth =
        Number((BigInt(last.pricePerShare as string) * 10n ** 12n) / BigInt(base.pricePerShare as string)) /
        1e12;
      const years =
        Number(BigInt(last.timestamp as string) - BigInt(base.timestamp as string)) / (365 * 86_400);
      assert.ok(Math.abs((last.trailingApy as number) - (growth ** (1 / years) - 1)) < 1e-9, "trailing APY");
    },
  );

  it("has the redemption queue the chain has", CHECK_TIMEOUT, async () => {
    const [queueHead, queueTail] = await chain.readContract({
      ...staked(),
      functionName: "queueBounds",
      blockNumber: head,
    });
    const { queue, requests } = await get<{ queue: Json; requests: Json[] }>("/queue");
    assert.equal(BigInt(queue.head as string), queueHead);
    assert.equal(BigInt(queue.tail as string), queueTail);
    assert.equal(BigInt(requests.length), queueTail);
    assert.ok(requests.length >= 1, "the story queues a redemption");
    const controllers = new Map<string, { pending: bigint; claimable: bigint }>();
    for (const r of requests) {
      const c = controllers.get(r.controller as string) ?? { pending: 0n, claimable: 0n };
      c.pending += BigInt(r.shares as string) - BigInt(r.servicedShares as string);
      c.claimable += BigInt(r.servicedShares as string) - BigInt(r.claimedShares as string);
      controllers.set(r.controller as string, c);
    }
    for (const [controller, expected] of controllers) {
      const state = await chain.readContract({
        ...staked(),
        functionName: "controllerState",
        args: [controller as Address],
        blockNumber: head,
      });
      assert.equal(state.pendingShares, expected.pending, `${controller} pending shares`);
      assert.equal(state.claimableShares, expected.claimable, `${controller} claimable shares`);
    }
  });

  it("answers bad requests with a 4xx and a message, never a 500", CHECK_TIMEOUT, async () => {
    const cases: [string, number, RegExp][] = [
      ["/loans/999999", 404, /loan 999999 does not exist/],
      ["/loans/999999/tape", 404, /does not exist/],
      ["/loans/999999/revenue", 404, /does not exist/],
      ["/loans/1/revenue?kind=windfall", 400, /kind must be one of dscr-breach, revenue-shortfall, data-gap/],
      ["/loans/1/revenue?toBlock=x", 400, /toBlock/],
      ["/loans/abc/tape", 400, /loan id must be a non-negative decimal integer/],
      ["/loans/-1", 400, /non-negative/],
      [`/loans/${"9".repeat(80)}`, 400, /loan id/],
      ["/loans?limit=0", 400, /limit must be between 1 and 1000/],
      ["/loans?limit=ten", 400, /limit/],
      ["/loans?status=Sleeping", 400, /status must be one of/],
      ["/loans?borrower=0x123", 400, /borrower must be a 0x-prefixed 20-byte address/],
      ["/susdai/history?fromBlock=1e3", 400, /fromBlock/],
      ["/susdai/history?order=sideways", 400, /order must be one of asc, desc/],
      ["/queue?status=lost", 400, /status must be one of/],
      ["/no/such/route", 404, /no route/],
    ];
    for (const [route, status, message] of cases) {
      const res = await api<{ error: string }>(route);
      assert.equal(res.status, status, `${route}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message, route);
    }
    const malformed = await api<{ errors: { message: string }[] }>("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ loans { items { id " }),
    });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.errors[0]!.message, /Syntax Error/);
    const sql = (text: string) =>
      `/sql/db?sql=${encodeURIComponent(JSON.stringify({ json: { sql: text, params: [] } }))}`;
    const counted = await api<{ rows: unknown[] }>(sql("select count(*) as n from loan"));
    assert.equal(counted.status, 200, JSON.stringify(counted.body));
    for (const [route, message] of [
      ["/sql/db?sql=garbage", /sql must be a @ponder\/client query/],
      [sql("select * from no_such_table"), /query refused/],
      [sql("delete from loan"), /query refused/],
    ] as const) {
      const res = await api<{ error: string }>(route);
      assert.equal(res.status, 400, `${route}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message);
    }
    const unknownField = await api("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ loans { items { nonsense } } }" }),
    });
    assert.equal(unknownField.status, 400);
  });

  it(`serves /loans/:id/tape quickly (${LATENCY_REQUESTS} requests on loopback)`, CHECK_TIMEOUT, async () => {
    const samples = await latencies(`${indexerUrl}/loans/1/tape`, LATENCY_REQUESTS);
    const stats = summarize(samples);
    console.log(
      `# /loans/1/tape over ${samples.length} requests: p50 ${stats.p50.toFixed(1)} ms, p95 ${stats.p95.toFixed(1)} ms`,
    );
    assert.equal(samples.length, LATENCY_REQUESTS);
  });

  it("drops the rows of blocks a reorg orphans", CHECK_TIMEOUT, async () => {
    const snapshot = await rpc<string>(nodeUrl, "evm_snapshot");
    const [, tailBefore] = await chain.readContract({ ...staked(), functionName: "queueBounds" });
    // A lender requests a redemption and an operator is approved: two transactions, two blocks, then one empty.
    const [holder, lender] = await findShareholder(nodeUrl, chain, deployments);
    const [, minRedeemShares] = await chain.readContract({ ...staked(), functionName: "params" });
    const shares = minRedeemShares > 0n ? minRedeemShares : 1n;
    const redeemTx = await sendTx(
      nodeUrl,
      holder,
      deployments.contracts.StakedUSDai.address,
      StakedUSDaiAbi,
      "requestRedeem",
      [shares, holder, holder],
    );
    const operatorTx = await sendTx(
      nodeUrl,
      lender,
      deployments.contracts.StakedUSDai.address,
      StakedUSDaiAbi,
      "setOperator",
      [holder, true],
    );
    await rpc(nodeUrl, "evm_mine");
    const orphanedHead = await chain.getBlockNumber();
    console.log(
      `# reorg: blocks ${head + 1n}..${orphanedHead} carry a redemption request and an operator approval`,
    );
    await waitForIndexed(indexerUrl, orphanedHead);
    const before = await get<{ queue: Json; requests: Json[] }>("/queue");
    assert.equal(BigInt(before.queue.tail as string), tailBefore + 1n);
    assert.ok(before.requests.some((r) => BigInt(r.id as string) === tailBefore));
    assert.equal(await countLogs(operatorTx), 1);
    assert.equal(await countLogs(redeemTx), 2); // the share transfer into custody and RedeemRequest

    // Back to before those blocks, an hour later, and a longer branch without them.
    assert.equal(await rpc<boolean>(nodeUrl, "evm_revert", [snapshot]), true);
    await rpc(nodeUrl, "evm_increaseTime", [3600]);
    for (let i = 0; i < 5; i++) await rpc(nodeUrl, "evm_mine");
    const newHead = await chain.getBlockNumber();
    assert.ok(newHead > orphanedHead);
    console.log(`# reorg: reverted to block ${head}, mined an empty branch to ${newHead}`);
    await waitForIndexed(indexerUrl, newHead);

    const after = await get<{ queue: Json; requests: Json[] }>("/queue");
    assert.equal(BigInt(after.queue.tail as string), tailBefore);
    assert.ok(
      !after.requests.some((r) => BigInt(r.id as string) === tailBefore),
      "the orphaned request is gone",
    );
    assert.equal(await countLogs(redeemTx), 0);
    assert.equal(await countLogs(operatorTx), 0);
    // The snapshots at the re-mined heights (one in any SNAPSHOT_INTERVAL blocks) are the new branch's blocks.
    const remined = (await get<{ snapshots: Json[] }>(`/susdai/history?fromBlock=${head + 1n}`)).snapshots;
    assert.ok(remined.length >= 1);
    for (const row of remined) {
      const block = await chain.getBlock({ blockNumber: BigInt(row.blockNumber as string) });
      assert.equal(
        BigInt(row.timestamp as string),
        block.timestamp,
        `snapshot of block ${block.number} is the new branch's`,
      );
    }
    assert.equal(await indexedBlock(indexerUrl), Number(newHead));
  });

  async function countLogs(txHash: string): Promise<number> {
    const data = await graphql<{ eventLogs: { totalCount: number } }>(
      `{ eventLogs(where: { transactionHash: "${txHash}" }) { totalCount } }`,
    );
    return data.eventLogs.totalCount;
  }
});

async function waitForIndexed(indexerUrl: string, block: bigint, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (BigInt(await indexedBlock(indexerUrl)) >= block) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the indexer did not reach block ${block} within ${timeoutMs / 1000}s`);
}

/** An unlocked node account holding sUSDai shares, and another account. */
async function findShareholder(
  url: string,
  chain: PublicClient,
  deployments: Deployments,
): Promise<[Address, Address]> {
  const accounts = await rpc<Address[]>(url, "eth_accounts");
  for (const account of accounts) {
    const balance = await chain.readContract({
      abi: StakedUSDaiAbi,
      address: deployments.contracts.StakedUSDai.address,
      functionName: "balanceOf",
      args: [account],
    });
    if (balance > 10n ** 18n) return [account, accounts.find((a) => a !== account)!];
  }
  throw new Error("no node account holds sUSDai after the demo story");
}

async function sendTx(
  url: string,
  from: Address,
  to: Address,
  abi: typeof StakedUSDaiAbi,
  functionName: "requestRedeem" | "setOperator",
  args: readonly unknown[],
): Promise<`0x${string}`> {
  const data = encodeFunctionData({ abi, functionName, args } as Parameters<typeof encodeFunctionData>[0]);
  const hash = await rpc<`0x${string}`>(url, "eth_sendTransaction", [{ from, to, data }]);
  const receipt = await rpc<{ status: string }>(url, "eth_getTransactionReceipt", [hash]);
  assert.equal(receipt.status, "0x1", `${functionName} reverted`);
  return hash;
}

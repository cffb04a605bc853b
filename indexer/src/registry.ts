/**
 * Every event of every indexed contract goes through one registration: it is written to `event_log` (the raw audit
 * trail), then handed to the typed handler for that event, if one is defined with `on`. Ponder allows one indexing
 * function per event, so the typed handlers register here rather than with `ponder.on` directly.
 */
import { ponder, type Context, type EventNames, type IndexingFunctionArgs } from "ponder:registry";
import { eventLog } from "ponder:schema";
import type { Abi } from "viem";

import * as abis from "../abis/generated";
import { INDEXED_CONTRACTS } from "./contracts";
import { toJson } from "./util";

type Handler<N extends EventNames> = (args: IndexingFunctionArgs<N>) => Promise<void>;

const handlers = new Map<string, Handler<EventNames>>();

/** Defines the typed handler of `name` ("Contract:Event"); the event is logged to `event_log` first either way. */
export function on<N extends EventNames>(name: N, handler: Handler<N>): void {
  if (handlers.has(name)) throw new Error(`two handlers for ${name}`);
  handlers.set(name, handler as unknown as Handler<EventNames>);
}

interface LoggedEvent {
  id: string;
  args?: unknown;
  log: { logIndex: number };
  block: { number: bigint; timestamp: bigint };
  transaction: { hash: `0x${string}` };
}

async function logEvent(contract: string, name: string, event: LoggedEvent, context: Context): Promise<void> {
  await context.db.insert(eventLog).values({
    id: event.id,
    contract,
    name,
    args: toJson(event.args ?? {}),
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
    logIndex: event.log.logIndex,
  });
}

/** Registers every event of every indexed contract's ABI with Ponder. Call once, after the handler modules load. */
export function registerAll(): void {
  const known = new Set<string>();
  for (const contract of INDEXED_CONTRACTS) {
    const abi = abis[`${contract}Abi`] as Abi;
    for (const item of abi) {
      if (item.type !== "event") continue;
      const name = `${contract}:${item.name}`;
      known.add(name);
      const typed = handlers.get(name);
      // The names come from the ABIs Ponder was configured with, so each is one of its EventNames.
      ponder.on(name as EventNames, async (args: IndexingFunctionArgs<EventNames>) => {
        await logEvent(contract, item.name, args.event as unknown as LoggedEvent, args.context);
        if (typed) await typed(args);
      });
    }
  }
  for (const name of handlers.keys()) {
    if (!known.has(name)) throw new Error(`handler for ${name}, which no indexed ABI declares`);
  }
}

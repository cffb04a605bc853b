/**
 * StakedUSDai: the ERC-7540 redemption queue (request, FIFO servicing with partial fills, claim) and the price
 * snapshots with the trailing APY.
 */
import { ponder, type Context } from "ponder:registry";
import { redemption, redemptionQueue, susdaiSnapshot } from "ponder:schema";
import { and, asc, desc, eq, lt, lte } from "ponder";

import { LoanVaultAbi, StakedUSDaiAbi } from "../../abis/generated";
import { env } from "../env";
import { on } from "../registry";

const QUEUE = "sUSDai";
const ONE_SHARE = 10n ** 18n;
const SECONDS_PER_YEAR = 365 * 86_400;
const APY_WINDOW_SECONDS = env.apyWindowDays * 86_400;

async function queueRow(context: Context, block: bigint) {
  const row = await context.db.find(redemptionQueue, { id: QUEUE });
  if (row) return row;
  return context.db.insert(redemptionQueue).values({
    id: QUEUE,
    head: 0n,
    tail: 0n,
    pendingShares: 0n,
    claimableShares: 0n,
    claimableAssets: 0n,
    updatedBlock: block,
  });
}

on("StakedUSDai:RedeemRequest", async ({ event, context }) => {
  const { controller, owner, sender, shares } = event.args;
  const queue = await queueRow(context, event.block.number);
  // Every request appends one entry at the queue's tail, which starts at 0 (StakedUSDai.requestRedeem).
  const index = queue.tail;
  const entry = await context.client.readContract({
    abi: StakedUSDaiAbi,
    address: context.contracts.StakedUSDai.address,
    functionName: "redemptionRequest",
    args: [index],
  });
  await context.db.insert(redemption).values({
    id: index,
    controller,
    owner,
    sender,
    shares,
    // Serviced (and deleted) within the same block, the entry reads as empty: its cooldown had passed by then.
    claimableAt: entry.claimableAt === 0n ? event.block.timestamp : entry.claimableAt,
    servicedShares: 0n,
    servicedAssets: 0n,
    claimedShares: 0n,
    claimedAssets: 0n,
    status: "pending",
    requestedBlock: event.block.number,
    requestedAt: event.block.timestamp,
  });
  await context.db.update(redemptionQueue, { id: QUEUE }).set({
    tail: index + 1n,
    pendingShares: queue.pendingShares + shares,
    updatedBlock: event.block.number,
  });
});

on("StakedUSDai:RedeemRequestServiced", async ({ event, context }) => {
  const { index, shares, assets } = event.args;
  const row = await context.db.update(redemption, { id: index }).set((r) => {
    const servicedShares = r.servicedShares + shares;
    return {
      servicedShares,
      servicedAssets: r.servicedAssets + assets,
      status: servicedShares === r.shares ? "serviced" : "partially_serviced",
      servicedAt: event.block.timestamp,
    };
  });
  const queue = await queueRow(context, event.block.number);
  await context.db.update(redemptionQueue, { id: QUEUE }).set({
    head: row.status === "serviced" ? index + 1n : index,
    pendingShares: queue.pendingShares - shares,
    claimableShares: queue.claimableShares + shares,
    claimableAssets: queue.claimableAssets + assets,
    updatedBlock: event.block.number,
  });
});

/**
 * A claim (`redeem`/`withdraw` after servicing) emits ERC-4626 `Withdraw` with the controller as owner. The vault
 * pays claims per controller, not per request, so the claimed shares are attributed to the controller's serviced
 * requests oldest first, and the assets in proportion to those shares.
 */
on("StakedUSDai:Withdraw", async ({ event, context }) => {
  const { owner: controller, assets, shares } = event.args;
  const open = await context.db.sql
    .select()
    .from(redemption)
    .where(
      and(eq(redemption.controller, controller), lt(redemption.claimedShares, redemption.servicedShares)),
    )
    .orderBy(asc(redemption.id));
  let leftShares = shares;
  let leftAssets = assets;
  for (const [i, r] of open.entries()) {
    if (leftShares === 0n) break;
    const unclaimed = r.servicedShares - r.claimedShares;
    const take = unclaimed < leftShares ? unclaimed : leftShares;
    const last = i === open.length - 1 || take === leftShares;
    const takeAssets = last ? leftAssets : (assets * take) / shares;
    leftShares -= take;
    leftAssets -= takeAssets;
    const claimedShares = r.claimedShares + take;
    await context.db.update(redemption, { id: r.id }).set({
      claimedShares,
      claimedAssets: r.claimedAssets + takeAssets,
      status: claimedShares === r.shares ? "claimed" : r.status,
      claimedAt: event.block.timestamp,
    });
  }
  const queue = await queueRow(context, event.block.number);
  await context.db.update(redemptionQueue, { id: QUEUE }).set({
    claimableShares: queue.claimableShares - shares,
    claimableAssets: queue.claimableAssets - assets,
    updatedBlock: event.block.number,
  });
});

ponder.on("SUSDaiPrice:block", async ({ event, context }) => {
  const staked = { abi: StakedUSDaiAbi, address: context.contracts.StakedUSDai.address } as const;
  const [totalAssets, totalSupply, pricePerShare, loanAssets] = await Promise.all([
    context.client.readContract({ ...staked, functionName: "totalAssets" }),
    context.client.readContract({ ...staked, functionName: "totalSupply" }),
    context.client.readContract({ ...staked, functionName: "convertToAssets", args: [ONE_SHARE] }),
    context.client.readContract({
      abi: LoanVaultAbi,
      address: context.contracts.LoanVault.address,
      functionName: "loanAssets",
    }),
  ]);
  const timestamp = event.block.timestamp;
  const [base] = await context.db.sql
    .select()
    .from(susdaiSnapshot)
    .where(lte(susdaiSnapshot.timestamp, timestamp - BigInt(APY_WINDOW_SECONDS)))
    .orderBy(desc(susdaiSnapshot.timestamp))
    .limit(1);
  let trailingApy: number | null = null;
  if (base && base.pricePerShare > 0n && timestamp > base.timestamp) {
    const growth = Number((pricePerShare * 10n ** 12n) / base.pricePerShare) / 1e12;
    trailingApy = growth ** (SECONDS_PER_YEAR / Number(timestamp - base.timestamp)) - 1;
  }
  await context.db.insert(susdaiSnapshot).values({
    blockNumber: event.block.number,
    timestamp,
    totalAssets,
    totalSupply,
    pricePerShare,
    loanAssets,
    trailingApy,
    apyWindowSeconds: APY_WINDOW_SECONDS,
  });
});

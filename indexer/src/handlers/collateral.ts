/** GpuReceipt (receipts: asset, appraisal, insurance, owner, redemption) and CollateralAuction (auctions, bids). */
import { auction, auctionBid, receipt } from "ponder:schema";
import { zeroAddress } from "viem";

import { GpuReceiptAbi } from "../../abis/generated";
import { on } from "../registry";
import { position, toJson } from "../util";

on("GpuReceipt:ReceiptMinted", async ({ event, context }) => {
  const { tokenId, to, custodian, attestationDigest, serialHashes } = event.args;
  const record = await context.client.readContract({
    abi: GpuReceiptAbi,
    address: context.contracts.GpuReceipt.address,
    functionName: "assetOf",
    args: [tokenId],
  });
  await context.db.insert(receipt).values({
    id: tokenId,
    owner: to,
    custodian,
    model: record.asset.model,
    gpuCount: record.asset.gpuCount,
    site: record.asset.site,
    serialsCount: serialHashes.length,
    attestationDigest,
    status: "Active",
    mintedBlock: event.block.number,
    mintedAt: event.block.timestamp,
    updatedBlock: event.block.number,
  });
});

on("GpuReceipt:Transfer", async ({ event, context }) => {
  const { from, to, tokenId } = event.args;
  // A mint's Transfer comes before ReceiptMinted, which creates the row with its owner; a burn is `Redeemed`.
  if (from === zeroAddress || to === zeroAddress) return;
  const leavesVault = from.toLowerCase() === context.contracts.LoanVault.address.toLowerCase();
  await context.db
    .update(receipt, { id: tokenId })
    .set(
      leavesVault
        ? { owner: to, loanId: null, updatedBlock: event.block.number }
        : { owner: to, updatedBlock: event.block.number },
    );
});

on("GpuReceipt:Appraised", async ({ event, context }) => {
  const { tokenId, appraiser, valueUsd, markdownBpsPerQuarter, residualFloorBps } = event.args;
  await context.db.update(receipt, { id: tokenId }).set({
    appraisedValue: valueUsd,
    appraisedAt: event.block.timestamp,
    markdownBpsPerQuarter: Number(markdownBpsPerQuarter),
    residualFloorBps: Number(residualFloorBps),
    appraiser,
    updatedBlock: event.block.number,
  });
});

on("GpuReceipt:InsuranceBound", async ({ event, context }) => {
  const { tokenId, insurer, policyHash, insuredValueUsd, expiry } = event.args;
  await context.db.update(receipt, { id: tokenId }).set({
    insurer,
    policyHash,
    insuredValue: insuredValueUsd,
    insuranceExpiry: expiry,
    updatedBlock: event.block.number,
  });
});

on("GpuReceipt:RedemptionRequested", async ({ event, context }) => {
  await context.db
    .update(receipt, { id: event.args.tokenId })
    .set({ status: "RedemptionRequested", updatedBlock: event.block.number });
});

on("GpuReceipt:RedemptionCancelled", async ({ event, context }) => {
  await context.db
    .update(receipt, { id: event.args.tokenId })
    .set({ status: "Active", updatedBlock: event.block.number });
});

on("GpuReceipt:Redeemed", async ({ event, context }) => {
  await context.db
    .update(receipt, { id: event.args.tokenId })
    .set({ status: "Redeemed", owner: zeroAddress, loanId: null, updatedBlock: event.block.number });
});

on("CollateralAuction:AuctionStarted", async ({ event, context }) => {
  const { auctionId, loanId, startPrice, floorPrice, endsAt, receiptIds } = event.args;
  await context.db.insert(auction).values({
    id: auctionId,
    loanId,
    startPrice,
    floorPrice,
    endsAt,
    receiptIds: toJson(receiptIds),
    status: "Live",
    startedBlock: event.block.number,
    startedAt: event.block.timestamp,
  });
});

on("CollateralAuction:AuctionBought", async ({ event, context }) => {
  const { auctionId, loanId, buyer, price } = event.args;
  await context.db
    .insert(auctionBid)
    .values({ id: event.id, auctionId, loanId, buyer, price, ...position(event) });
  await context.db
    .update(auction, { id: auctionId })
    .set({ status: "Sold", buyer, price, endedAt: event.block.timestamp });
});

on("CollateralAuction:AuctionExpired", async ({ event, context }) => {
  await context.db
    .update(auction, { id: event.args.auctionId })
    .set({ status: "Expired", endedAt: event.block.timestamp });
});

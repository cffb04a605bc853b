import { id } from "ethers";

import { attest, type ReceiptAsset } from "../../helpers/attestations";
import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { usd } from "../../helpers/units";
import { DAY, now, type DemoContext } from "./context";
import { GPUS_PER_SERVER, INSURED_BPS, RESIDUAL_FLOOR_BPS, SERVERS } from "./scenario";

/**
 * Chapter 2, the fleet is tokenized: the tokenizer mints one GpuReceipt per server with two attestors' EIP-712
 * signatures over its GPU serials, the appraiser values each with a quarterly markdown (H100s faster than H200s),
 * and the insurer binds a two-year policy. The table shows the receipts as lenders see them.
 */
export async function fleetChapter(ctx: DemoContext): Promise<void> {
  const { actors, fx, log } = ctx;
  const { receipts } = fx;
  log("\n== 2. The fleet: GPU servers tokenized as GpuReceipts ==");

  const start = await now(ctx.hre);
  for (const [index, server] of SERVERS.entries()) {
    const asset: ReceiptAsset = {
      model: server.model,
      gpuCount: GPUS_PER_SERVER,
      site: server.site,
      custodian: actors.custodian.address,
      credentialsHash: id(`bmc-credentials-escrow/${server.site}/${index}`),
    };
    const serials = Array.from({ length: GPUS_PER_SERVER }, (_, gpu) =>
      id(`${server.model}/SN-${index}-${gpu}`),
    );
    const attestation = await attest(
      [actors.attestor1, actors.attestor2],
      receipts,
      asset,
      serials,
      id(`fleet-nonce-${index}`),
      start + DAY,
    );
    const owner = actors[server.owner];
    const tokenId = await receipts.nextTokenId();
    await receipts.connect(actors.tokenizer).mint(owner.address, asset, serials, attestation);
    await receipts
      .connect(actors.appraiser)
      .appraise(tokenId, usd(server.valueUsd), server.markdownBpsPerQuarter, RESIDUAL_FLOOR_BPS);
    await receipts
      .connect(actors.insurer)
      .bindInsurance(
        tokenId,
        id(`policy/${index}`),
        usd((server.valueUsd * INSURED_BPS) / 10_000),
        start + 730 * DAY,
      );
    ctx.fleet.push({ tokenId, server });
  }
  await ctx.progress(
    `minted ${SERVERS.length} receipts (${SERVERS.length * GPUS_PER_SERVER} GPUs), each attested by 2 of 3 attestors`,
  );

  const rows: string[][] = [];
  const report = [];
  for (const { tokenId, server } of ctx.fleet) {
    const record = await receipts.assetOf(tokenId);
    const value = await receipts.collateralValue(tokenId);
    rows.push([
      `#${tokenId}`,
      server.owner,
      server.model,
      String(record.asset.gpuCount),
      server.site,
      formatUsd(record.appraisal.valueUsd, 0),
      formatBps(record.appraisal.markdownBpsPerQuarter),
      formatUsd(record.insurance.insuredValueUsd, 0),
      formatUsd(value, 0),
      server.pledged ? "loan" : "spare",
    ]);
    report.push({
      tokenId: tokenId.toString(),
      owner: server.owner,
      model: server.model,
      site: server.site,
      appraised: record.appraisal.valueUsd.toString(),
      markdownBpsPerQuarter: server.markdownBpsPerQuarter,
      insured: record.insurance.insuredValueUsd.toString(),
      collateralValue: value.toString(),
    });
  }
  log(
    formatTable(
      [
        "receipt",
        "owner",
        "model",
        "GPUs",
        "site",
        "appraised",
        "markdown/qtr",
        "insured",
        "collateral",
        "use",
      ],
      rows,
      ["left", "left", "left", "right", "left", "right", "right", "right", "right", "left"],
    ),
  );
  const serial = id(`${SERVERS[0].model}/SN-0-0`);
  log(
    `  serial registry: ${SERVERS[0].model}/SN-0-0 is held by receipt #${await receipts.receiptOfSerial(serial)}; ` +
      `it cannot back another`,
  );
  ctx.report.chapters.fleet = { receipts: report };
}

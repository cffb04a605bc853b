import { id, parseUnits } from "ethers";

import { attest, type ReceiptAsset } from "../../helpers/attestations";
import { getGpuReceipt } from "../../helpers/contracts";
import { formatBps, formatTable, formatUsd } from "../../helpers/format";
import { DAY, type DemoContext } from "./context";

/** The fleet: two operators, two sites, H100 and H200 servers of 8 GPUs each. */
const SERVERS = [
  { owner: "borrower1", model: "H100-SXM5-80GB", site: "DAL-1", valueUsd: 250_000 },
  { owner: "borrower1", model: "H100-SXM5-80GB", site: "DAL-1", valueUsd: 250_000 },
  { owner: "borrower1", model: "H100-SXM5-80GB", site: "DAL-1", valueUsd: 250_000 },
  { owner: "borrower2", model: "H200-SXM5-141GB", site: "PHX-2", valueUsd: 320_000 },
  { owner: "borrower2", model: "H200-SXM5-141GB", site: "PHX-2", valueUsd: 320_000 },
  { owner: "borrower2", model: "H200-SXM5-141GB", site: "PHX-2", valueUsd: 320_000 },
] as const;

const GPUS_PER_SERVER = 8;
const MARKDOWN_BPS_PER_QUARTER = 500n;
const RESIDUAL_FLOOR_BPS = 3_000n;

/**
 * Chapter 2, the fleet: the tokenizer mints one GpuReceipt per server with two attestors' EIP-712 signatures over
 * the serials, the appraiser values each with a depreciation schedule, the insurer binds a policy, and the table
 * shows the receipts as lenders see them.
 */
export async function fleetChapter(ctx: DemoContext): Promise<void> {
  const { hre, actors, log } = ctx;
  const receipts = await getGpuReceipt(hre);
  log("\n== 2. The fleet: GPU servers tokenized as GpuReceipts ==");

  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const minted: { tokenId: bigint; owner: string; model: string; site: string }[] = [];
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
      now + DAY,
    );
    const owner = actors[server.owner];
    const tokenId = await receipts.nextTokenId();
    await receipts.connect(actors.tokenizer).mint(owner.address, asset, serials, attestation);
    await receipts
      .connect(actors.appraiser)
      .appraise(
        tokenId,
        parseUnits(String(server.valueUsd), 18),
        MARKDOWN_BPS_PER_QUARTER,
        RESIDUAL_FLOOR_BPS,
      );
    await receipts
      .connect(actors.insurer)
      .bindInsurance(
        tokenId,
        id(`policy/${index}`),
        parseUnits(String((server.valueUsd * 6) / 10), 18),
        now + 365 * DAY,
      );
    minted.push({ tokenId, owner: server.owner, model: server.model, site: server.site });
    log(
      `  [${index + 1}/${SERVERS.length}] minted receipt #${tokenId} (${server.model} x${GPUS_PER_SERVER}) to ${server.owner}`,
    );
  }

  const rows: string[][] = [];
  const report = [];
  for (const { tokenId, owner, model, site } of minted) {
    const record = await receipts.assetOf(tokenId);
    const value = await receipts.collateralValue(tokenId);
    rows.push([
      `#${tokenId}`,
      owner,
      model,
      String(record.asset.gpuCount),
      site,
      formatUsd(record.appraisal.valueUsd, 0),
      formatBps(record.appraisal.markdownBpsPerQuarter),
      formatUsd(record.insurance.insuredValueUsd, 0),
      formatUsd(value, 0),
    ]);
    report.push({ tokenId: tokenId.toString(), owner, model, site, collateralValue: value.toString() });
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
        "collateral value",
      ],
      rows,
      ["left", "left", "left", "right", "left", "right", "right", "right", "right"],
    ),
  );
  const serialOwner = await receipts.receiptOfSerial(id(`${SERVERS[0].model}/SN-0-0`));
  log(
    `  serial registry: ${SERVERS[0].model}/SN-0-0 is held by receipt #${serialOwner}; it cannot back another`,
  );
  ctx.report.chapters.fleet = { receipts: report };
}

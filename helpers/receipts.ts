import { id } from "ethers";
import type { Signer } from "ethers";

import type { GpuReceipt } from "../typechain-types";
import type { Actors } from "./actors";
import { attest, type ReceiptAsset } from "./attestations";
import { usd } from "./units";

/** Who mints and appraises: the TOKENIZER, two ATTESTORs, the APPRAISER, and the custodian named on the asset. */
export interface ReceiptIssuers {
  tokenizer: Signer;
  attestors: Signer[];
  appraiser: Signer;
  custodian: string;
}

/** The protocol's named issuers: the tokenizer, attestors 1 and 2, the appraiser and the custodian. */
export function receiptIssuers(actors: Actors): ReceiptIssuers {
  return {
    tokenizer: actors.tokenizer,
    attestors: [actors.attestor1, actors.attestor2],
    appraiser: actors.appraiser,
    custodian: actors.custodian.address,
  };
}

/**
 * Mints one attested 8-GPU receipt to `owner` at `site` and appraises it at `valueUsd` (whole dollars). `tag` makes
 * the serials, credentials and nonce unique; it must differ for every call on a deployment. Returns the token id.
 * Shared by the bench and the test helpers.
 */
export async function mintAppraisedReceipt(
  receipts: GpuReceipt,
  issuers: ReceiptIssuers,
  owner: string,
  site: string,
  valueUsd: number,
  tag: string,
  deadline: number,
  depreciation: { markdownBpsPerQuarter: bigint; residualFloorBps: bigint } = {
    markdownBpsPerQuarter: 0n,
    residualFloorBps: 10_000n,
  },
): Promise<bigint> {
  const asset: ReceiptAsset = {
    model: "H100-SXM5-80GB",
    gpuCount: 8,
    site,
    custodian: issuers.custodian,
    credentialsHash: id(`credentials/${tag}`),
  };
  const serials = Array.from({ length: 8 }, (_, gpu) => id(`serial/${tag}/${gpu}`));
  const attestation = await attest(issuers.attestors, receipts, asset, serials, id(`nonce/${tag}`), deadline);
  const tokenId = await receipts.nextTokenId();
  await receipts.connect(issuers.tokenizer).mint(owner, asset, serials, attestation);
  await receipts
    .connect(issuers.appraiser)
    .appraise(tokenId, usd(valueUsd), depreciation.markdownBpsPerQuarter, depreciation.residualFloorBps);
  return tokenId;
}

import { id, toBeHex } from "ethers";

import { attest, type ReceiptAsset } from "../../helpers/attestations";
import { getGpuReceipt } from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { getActors } from "../../helpers/actors";
import { gasOf, viewGas, type BenchSuite } from "./types";

/**
 * GpuReceipt: mint with 8 serials and 2 attestations, the cost of one more serial (a 9-serial mint minus the
 * 8-serial one) and `collateralValue` as a call, all through the proxy and warm (a receipt was minted first).
 */
export const receiptsSuite: BenchSuite = {
  name: "GpuReceipt",
  async run(hre) {
    await hre.deployments.fixture([Tags.Protocol]);
    const { tokenizer, attestor1, attestor2, custodian, borrower1, appraiser, insurer } = await getActors();
    const receipts = await getGpuReceipt(hre, tokenizer);
    const latest = await hre.ethers.provider.getBlock("latest");
    const deadline = BigInt(latest!.timestamp) + 3600n;

    let nonce = 0;
    const mint = async (tag: string, gpus: number) => {
      const serials = Array.from({ length: gpus }, (_, i) => id(`${tag}/GPU-SN-${i}`));
      const asset: ReceiptAsset = {
        model: "H100-SXM5-80GB",
        gpuCount: gpus,
        site: "US-TX-AUS-01",
        custodian: custodian.address,
        credentialsHash: id(`${tag}/credentials`),
      };
      const attestation = await attest(
        [attestor1, attestor2],
        receipts,
        asset,
        serials,
        toBeHex(++nonce, 32),
        deadline,
      );
      return gasOf(receipts.mint(borrower1.address, asset, serials, attestation));
    };

    await mint("warm-up", 8);
    const mint8 = await mint("rack-8", 8);
    const mint9 = await mint("rack-9", 9);

    // The costliest valuation path: appraised and insured, with the policy active (two storage slots).
    await receipts.connect(appraiser).appraise(1n, 10n ** 24n, 500n, 2_000n);
    await receipts.connect(insurer).bindInsurance(1n, id("policy"), 10n ** 23n, deadline + 10n ** 6n);
    await hre.network.provider.send("evm_increaseTime", [200 * 24 * 3600]);
    await hre.network.provider.send("evm_mine", []);
    const collateralValue = await viewGas(hre, receipts, "collateralValue", [1n]);

    return [
      { key: "GpuReceipt.mint", gas: mint8, note: "8 serials, 2 attestations" },
      {
        key: "GpuReceipt.mint.perExtraSerial",
        gas: mint9 - mint8,
        note: "9-serial mint minus 8-serial mint",
      },
      { key: "GpuReceipt.collateralValue", gas: collateralValue, note: "call; appraised, policy active" },
    ];
  },
};

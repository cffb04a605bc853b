import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { hexlify, randomBytes, ZeroHash } from "ethers";

import { attest, type ReceiptAsset } from "../helpers/attestations";
import { formatBps, formatUsd } from "../helpers/format";
import { Roles } from "../helpers/roles";
import type { GpuReceipt } from "../typechain-types";
import { NAMED_ACCOUNT_NAMES } from "../config/env";
import { gpuReceiptAt } from "./lib/contracts";
import {
  chainNow,
  labelOf,
  namedAccounts,
  printFields,
  readJsonFile,
  requireRole,
  send,
  signerOf,
} from "./lib/runtime";
import { roleTask, viewTask } from "./lib/define";
import {
  ensure,
  parseAccount,
  parseAmount,
  parseBps,
  parseBytes32OrText,
  parseDuration,
  parseId,
  parseNamedAccountList,
  parseServerSpec,
  serialHash,
  TaskArgumentError,
  type ServerSpec,
} from "./lib/validate";

/**
 * Tokenizer, attestor, appraiser and insurer tasks on GpuReceipt: tokenize a server described in a JSON file
 * (attestor signatures collected from the local signers), appraise, insure, and show a receipt.
 */

const STATUS = ["None", "Active", "RedemptionRequested"];
const ATTESTOR_ACCOUNTS = ["attestor1", "attestor2", "attestor3"];

/** Reads and validates a server file. Missing files and bad JSON are argument errors. */
export function readServerFile(file: string): ServerSpec {
  return parseServerSpec(readJsonFile(file), file);
}

async function requireLiveReceipt(receipts: GpuReceipt, tokenId: bigint): Promise<void> {
  const status = Number(await receipts.statusOf(tokenId));
  ensure(
    status !== 0,
    `--id ${tokenId}: no live receipt with this id (next id is ${await receipts.nextTokenId()})`,
  );
}

/** Prints one receipt as its lenders see it. */
export async function printReceipt(hre: HardhatRuntimeEnvironment, receipts: GpuReceipt, tokenId: bigint) {
  const record = await receipts.assetOf(tokenId);
  const insured = record.insurance.insuredValueUsd > 0n;
  printFields(`GpuReceipt #${tokenId}`, [
    ["owner", await labelOf(hre, await receipts.ownerOf(tokenId))],
    ["status", STATUS[Number(record.status)] ?? String(record.status)],
    ["model", record.asset.model],
    ["GPUs", record.asset.gpuCount.toString()],
    ["site", record.asset.site],
    ["custodian", await labelOf(hre, record.asset.custodian)],
    [
      "appraised value",
      record.appraisal.appraisedAt > 0n ? formatUsd(record.appraisal.valueUsd) : "not appraised",
    ],
    ["markdown per quarter", formatBps(record.appraisal.markdownBpsPerQuarter)],
    ["residual floor", formatBps(record.appraisal.residualFloorBps)],
    ["insured value", insured ? formatUsd(record.insurance.insuredValueUsd) : "none"],
    [
      "insurance expiry",
      insured ? new Date(Number(record.insurance.expiry) * 1000).toISOString().slice(0, 10) : "-",
    ],
    ["collateral value", formatUsd(await receipts.collateralValue(tokenId))],
  ]);
}

roleTask("receipt:tokenize", "Mint a GpuReceipt for a server described in a JSON file", "tokenizer")
  .addParam(
    "file",
    "server JSON: model, site, custodian, owner, serials, credentials (see examples/server.json)",
  )
  .addOptionalParam("to", "receiver of the receipt: named account or address (default: the file's owner)")
  .addOptionalParam(
    "attestors",
    "comma-separated named accounts that sign the attestation (default: as many of attestor1..3 as the threshold)",
  )
  .addOptionalParam("nonce", "attestation nonce: text (hashed) or 0x bytes32 (default: random)")
  .addOptionalParam("validity", "how long the signatures stay valid (e.g. 1h, 30m)", "1h")
  .setAction(
    async (
      args: { file: string; to?: string; attestors?: string; nonce?: string; validity: string; as: string },
      hre,
    ) => {
      const spec = readServerFile(args.file);
      const named = await namedAccounts(hre);
      const custodian = parseAccount(spec.custodian, named, "file: custodian");
      ensure(args.to !== undefined || spec.owner !== undefined, 'give --to or an "owner" in the file');
      const to = parseAccount(args.to ?? spec.owner, named, args.to !== undefined ? "to" : "file: owner");
      const validity = parseDuration(args.validity, "validity");
      const nonce =
        args.nonce === undefined ? hexlify(randomBytes(32)) : parseBytes32OrText(args.nonce, "nonce");
      const attestorNames =
        args.attestors === undefined
          ? undefined
          : parseNamedAccountList(args.attestors, NAMED_ACCOUNT_NAMES, "attestors");

      const signer = await signerOf(hre, args.as);
      const receipts = await gpuReceiptAt(hre, signer);
      await requireRole(receipts, "GpuReceipt", "TOKENIZER", signer.address, args.as);
      if (!(await receipts.hasRole(Roles.RECEIPT_HOLDER, to))) {
        throw new TaskArgumentError(
          `receiver ${await labelOf(hre, to)} is not an allowlisted RECEIPT_HOLDER`,
        );
      }
      const serialHashes = spec.serials.map(serialHash);
      for (const [i, hash] of serialHashes.entries()) {
        const holder = await receipts.receiptOfSerial(hash);
        ensure(holder === 0n, `serial "${spec.serials[i]}" already backs live receipt #${holder}`);
      }

      // Attestors: the named ones, or the first `threshold` local attestors holding ATTESTOR_ROLE.
      const threshold = Number(await receipts.attestationThreshold());
      let names = attestorNames ?? [];
      if (attestorNames === undefined) {
        for (const name of ATTESTOR_ACCOUNTS) {
          if (names.length < threshold && (await receipts.hasRole(Roles.ATTESTOR, named[name])))
            names.push(name);
        }
      }
      for (const name of names) {
        if (!(await receipts.hasRole(Roles.ATTESTOR, named[name]))) {
          throw new TaskArgumentError(`--attestors: ${name} (${named[name]}) does not hold ATTESTOR_ROLE`);
        }
      }
      ensure(
        names.length >= threshold,
        `GpuReceipt needs ${threshold} attestor signatures; only ${names.length} attestor(s) available (${names.join(", ") || "none"})`,
      );

      const asset: ReceiptAsset = {
        model: spec.model,
        gpuCount: spec.serials.length,
        site: spec.site,
        custodian,
        credentialsHash:
          spec.credentials === undefined ? ZeroHash : parseBytes32OrText(spec.credentials, "credentials"),
      };
      const deadline = (await chainNow(hre)) + validity;
      const attestors = await Promise.all(names.map((name) => signerOf(hre, name)));
      const attestation = await attest(attestors, receipts, asset, serialHashes, nonce, deadline);

      const tokenId = await receipts.nextTokenId();
      await send(
        `GpuReceipt.mint (${names.length} attestations: ${names.join(", ")})`,
        () => receipts.mint(to, asset, serialHashes, attestation),
        receipts.interface,
      );
      await printReceipt(hre, receipts, tokenId);
    },
  );

roleTask("receipt:appraise", "Appraise a receipt: value and depreciation schedule", "appraiser")
  .addParam("id", "receipt token id")
  .addParam("value", "appraised value in USD, whole dollars (e.g. 250000)")
  .addOptionalParam("markdown", "markdown per quarter, basis points", "500")
  .addOptionalParam("floor", "residual floor, basis points of the appraisal", "3000")
  .setAction(
    async (args: { id: string; value: string; markdown: string; floor: string; as: string }, hre) => {
      const tokenId = parseId(args.id, "id");
      const value = parseAmount(args.value, 18, "value", { max: 2n ** 128n - 1n });
      const markdown = parseBps(args.markdown, "markdown");
      const floor = parseBps(args.floor, "floor");
      const signer = await signerOf(hre, args.as);
      const receipts = await gpuReceiptAt(hre, signer);
      await requireLiveReceipt(receipts, tokenId);
      await requireRole(receipts, "GpuReceipt", "APPRAISER", signer.address, args.as);
      await send(
        `GpuReceipt.appraise #${tokenId}`,
        () => receipts.appraise(tokenId, value, markdown, floor),
        receipts.interface,
      );
      await printReceipt(hre, receipts, tokenId);
    },
  );

roleTask("receipt:insure", "Bind an insurance policy to a receipt", "insurer")
  .addParam("id", "receipt token id")
  .addParam("policy", "policy reference: text (hashed) or 0x bytes32")
  .addParam("value", "insured value in USD, whole dollars")
  .addOptionalParam("term", "policy term from now (e.g. 365d)", "365d")
  .setAction(async (args: { id: string; policy: string; value: string; term: string; as: string }, hre) => {
    const tokenId = parseId(args.id, "id");
    const policyHash = parseBytes32OrText(args.policy, "policy");
    const value = parseAmount(args.value, 18, "value", { max: 2n ** 128n - 1n });
    const term = parseDuration(args.term, "term");
    const signer = await signerOf(hre, args.as);
    const receipts = await gpuReceiptAt(hre, signer);
    await requireLiveReceipt(receipts, tokenId);
    await requireRole(receipts, "GpuReceipt", "INSURER", signer.address, args.as);
    const expiry = (await chainNow(hre)) + term;
    await send(
      `GpuReceipt.bindInsurance #${tokenId}`,
      () => receipts.bindInsurance(tokenId, policyHash, value, expiry),
      receipts.interface,
    );
    await printReceipt(hre, receipts, tokenId);
  });

viewTask("receipt:show", "Show a receipt: asset, appraisal, insurance, collateral value")
  .addParam("id", "receipt token id")
  .setAction(async (args: { id: string }, hre) => {
    const tokenId = parseId(args.id, "id");
    const receipts = await gpuReceiptAt(hre);
    await requireLiveReceipt(receipts, tokenId);
    await printReceipt(hre, receipts, tokenId);
  });

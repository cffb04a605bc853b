/**
 * Receipts: every GpuReceipt with its on-chain image and metadata (`tokenURI`, rendered on-chain), the appraisal, the
 * depreciation schedule, the insurance cover, and the collateral value the vault counts today (`collateralValue`).
 */
import { useState } from "react";
import { useReadContracts } from "wagmi";

import { Card, ErrorNote, Facts, Loading } from "../components/ui";
import { config } from "../config";
import { useChainNow } from "../lib/chainTime";
import { contracts } from "../lib/contracts";
import { formatBps, formatDate, formatUsd, shortAddress } from "../lib/format";
import { big, useReceipts, type IndexedReceipt } from "../lib/indexer";

interface Metadata {
  name?: string;
  description?: string;
  image?: string;
  attributes?: { trait_type?: string; value?: unknown }[];
}

/** Decodes a `data:application/json;base64,...` (or percent-encoded / plain) token URI. */
export function parseTokenUri(uri: string): Metadata | undefined {
  try {
    const m = /^data:application\/json(;base64)?,(.*)$/s.exec(uri);
    if (!m) return undefined;
    const text = m[1]
      ? new TextDecoder().decode(Uint8Array.from(atob(m[2]!), (ch) => ch.charCodeAt(0)))
      : decodeURIComponent(m[2]!);
    return JSON.parse(text) as Metadata;
  } catch {
    return undefined;
  }
}

export function ReceiptsPage() {
  const receipts = useReceipts();
  if (receipts.error) return <ErrorNote error={receipts.error} />;
  if (!receipts.data) return <Loading what="receipts" />;
  const live = receipts.data.receipts.items.filter((r) => r.status !== "Redeemed");
  return (
    <div className="grid receipts" data-testid="receipts">
      <p className="muted wide">
        {live.length} live receipt(s) of {receipts.data.receipts.items.length} minted. Each is one server (or
        batch) held by a custodian under bailment; its image and metadata are rendered on-chain by the
        contract (`tokenURI`).
      </p>
      {live.map((r) => (
        <ReceiptCard key={r.id} receipt={r} />
      ))}
    </div>
  );
}

function ReceiptCard({ receipt: r }: { receipt: IndexedReceipt }) {
  const c = contracts();
  const id = BigInt(r.id);
  const reads = useReadContracts({
    allowFailure: true,
    contracts: [
      { ...c.receipts, functionName: "tokenURI", args: [id] },
      { ...c.receipts, functionName: "collateralValue", args: [id] },
      { ...c.receipts, functionName: "ownerOf", args: [id] },
    ],
    query: { refetchInterval: config.pollMs * 5 },
  });
  const now = useChainNow();
  const [imageBroken, setImageBroken] = useState(false);
  if (reads.error) return <ErrorNote error={reads.error} />;
  if (!reads.data) return <Loading what={`receipt ${r.id}`} />;
  const [uri, value, owner] = reads.data;
  const meta = uri.status === "success" ? parseTokenUri(uri.result) : undefined;
  const insured = r.insuredValue !== null && big(r.insuredValue) > 0n;
  const coverActive = insured && Number(r.insuranceExpiry) > now;
  return (
    <Card title={meta?.name ?? `Receipt #${r.id}`} testId={`receipt-${r.id}`}>
      <div className="receipt">
        {meta?.image && !imageBroken ? (
          <img
            src={meta.image}
            alt={`${meta.name ?? `Receipt #${r.id}`}: the card drawn by the contract`}
            width={240}
            onError={() => setImageBroken(true)}
            data-testid={`receipt-image-${r.id}`}
          />
        ) : (
          <p className="muted small no-image" data-testid={`receipt-noimage-${r.id}`}>
            {!meta
              ? "The token URI could not be decoded."
              : imageBroken
                ? "The contract's image could not be displayed."
                : "The contract's metadata carries no image."}
          </p>
        )}
        <div>
          <Facts
            rows={[
              ["Asset", `${r.gpuCount} × ${r.model} at ${r.site}`],
              ["Serials registered", String(r.serialsCount)],
              ["Custodian", <span className="mono">{shortAddress(r.custodian)}</span>],
              [
                "Owner",
                owner.status === "success" ? <span className="mono">{shortAddress(owner.result)}</span> : "-",
              ],
              [
                "Pledged to",
                r.loanId ? <a href={`#/borrower?loan=${r.loanId}`}>loan #{r.loanId}</a> : "not pledged",
              ],
              [
                "Appraisal",
                r.appraisedValue
                  ? `${formatUsd(big(r.appraisedValue), 0)} on ${formatDate(big(r.appraisedAt))}`
                  : "none",
              ],
              [
                "Depreciation",
                r.markdownBpsPerQuarter !== null
                  ? `${formatBps(r.markdownBpsPerQuarter)} per quarter, floor ${formatBps(r.residualFloorBps ?? 0)} of appraisal`
                  : "-",
              ],
              [
                "Insurance cover",
                insured
                  ? `${formatUsd(big(r.insuredValue), 0)} until ${formatDate(big(r.insuranceExpiry))}${coverActive ? "" : " (expired)"}`
                  : "none",
              ],
              [
                "Collateral value today",
                value.status === "success" ? formatUsd(value.result, 0) : "-",
                `receipt-value-${r.id}`,
              ],
              ["Status", r.status],
            ]}
          />
          {meta?.attributes && (
            <>
              <h3>On-chain metadata (tokenURI)</h3>
              <Facts
                testId={`receipt-meta-${r.id}`}
                rows={meta.attributes.map((a) => [String(a.trait_type ?? "?"), String(a.value ?? "")])}
              />
            </>
          )}
        </div>
      </div>
    </Card>
  );
}

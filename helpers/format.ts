import { formatUnits } from "ethers";

export type Align = "left" | "right";

/** A plain-text table with a header rule; numeric columns are right-aligned by the caller's `align`. */
export function formatTable(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (align[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** `1234567.891` style with thousands separators, `decimals` of the raw amount, `digits` shown. */
export function formatAmount(raw: bigint, decimals: number, digits = 2): string {
  const negative = raw < 0n;
  const [whole, fraction = ""] = formatUnits(negative ? -raw : raw, decimals).split(".");
  const grouped = BigInt(whole).toLocaleString("en-US");
  const shown = digits > 0 ? `.${fraction.padEnd(digits, "0").slice(0, digits)}` : "";
  return `${negative ? "-" : ""}${grouped}${shown}`;
}

/** An 18-decimal USD amount as `$1,234.56`. */
export function formatUsd(raw: bigint, digits = 2): string {
  const text = formatAmount(raw, 18, digits);
  return text.startsWith("-") ? `-$${text.slice(1)}` : `$${text}`;
}

/** Basis points as a percentage: 450 -> `4.50%`. */
export function formatBps(bps: bigint | number, digits = 2): string {
  return `${(Number(bps) / 100).toFixed(digits)}%`;
}

/** Gas with thousands separators. */
export function formatGas(gas: bigint): string {
  return gas.toLocaleString("en-US");
}

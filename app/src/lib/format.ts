/** Display formatting: amounts with their decimals, basis points, dates and durations. Pure functions. */
import { formatUnits } from "viem";

/** `1234567.891` -> "1,234,567.89" (rounded down to `digits`, never up: a balance shown is a balance held). */
export function formatAmount(value: bigint, decimals: number, digits = 2): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const text = formatUnits(abs, decimals);
  const [whole = "0", frac = ""] = text.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cut = frac.slice(0, digits).padEnd(digits, "0");
  return `${negative ? "-" : ""}${grouped}${digits > 0 ? `.${cut}` : ""}`;
}

/** USD amounts (18 decimals, USDai units). */
export function formatUsd(value: bigint, digits = 2): string {
  return `$${formatAmount(value, 18, digits)}`;
}

/** Basis points as a percentage: 1234 -> "12.34%". */
export function formatBps(bps: number | bigint): string {
  return `${(Number(bps) / 100).toFixed(2)}%`;
}

/** A unix time (seconds) as an ISO-like UTC date and time. */
export function formatTime(seconds: number | bigint): string {
  const n = Number(seconds);
  if (n === 0) return "-";
  return new Date(n * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function formatDate(seconds: number | bigint): string {
  const n = Number(seconds);
  if (n === 0) return "-";
  return new Date(n * 1000).toISOString().slice(0, 10);
}

/** A duration in seconds as "3d 4h", "5h 12m", "40s". */
export function formatDuration(seconds: number | bigint): string {
  let s = Math.max(0, Math.round(Number(seconds)));
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3_600);
  s -= h * 3_600;
  const m = Math.floor(s / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s - m * 60}s`;
  return `${s}s`;
}

export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/**
 * A bytes32 site id as text. Sites are OpenZeppelin `ShortString`s (the text left-aligned, its length in the last
 * byte); a plain left-aligned string also reads; anything else is shown as hex.
 */
export function bytes32ToText(value: string): string {
  const hex = value.replace(/^0x/, "");
  if (hex.length !== 64) return value;
  const bytes = hex.match(/../g)!.map((b) => parseInt(b, 16));
  const last = bytes[31]!;
  const length =
    last > 0 && last < 32 && bytes.slice(last, 31).every((b) => b === 0) ? last : bytes.indexOf(0);
  const text = bytes.slice(0, length === -1 ? 32 : length);
  if (text.length === 0 || text.some((b) => b < 0x20 || b > 0x7e)) return value;
  return String.fromCharCode(...text);
}

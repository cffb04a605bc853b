/**
 * Amount inputs: what a person types, checked before anything is sent. A form shows the reason and sends nothing
 * when the input is not a positive decimal number, has more decimals than the token, or is above what the account
 * holds (or what the contract allows).
 */
import { parseUnits } from "viem";

import { formatAmount } from "./format";

export type AmountCheck = { ok: true; value: bigint } | { ok: false; reason: string };

export interface AmountLimit {
  /** The most the account may use, in the token's units. */
  max: bigint;
  /** What that limit is, for the message: "your USDC balance". */
  label: string;
}

export function checkAmount(
  input: string,
  decimals: number,
  symbol: string,
  limit?: AmountLimit,
): AmountCheck {
  const text = input.trim().replace(/,/g, "");
  if (text === "") return { ok: false, reason: "Enter an amount." };
  if (text.startsWith("-")) return { ok: false, reason: "The amount must be positive." };
  if (!/^\d*\.?\d*$/.test(text) || text === ".") {
    return { ok: false, reason: `"${input.trim()}" is not a number.` };
  }
  const frac = text.split(".")[1] ?? "";
  if (frac.length > decimals) {
    return { ok: false, reason: `${symbol} has ${decimals} decimals; the amount has ${frac.length}.` };
  }
  const value = parseUnits(text, decimals);
  if (value === 0n) return { ok: false, reason: "The amount must be more than zero." };
  if (limit && value > limit.max) {
    return {
      ok: false,
      reason: `More than ${limit.label} (${formatAmount(limit.max, decimals, Math.min(decimals, 6))} ${symbol}).`,
    };
  }
  return { ok: true, value };
}

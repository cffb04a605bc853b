import { parseUnits } from "ethers";

/** A USD amount in USDai units (18 decimals): `usd(1_000)`, `usd("0.5")`. */
export const usd = (n: string | number): bigint => parseUnits(String(n), 18);

/** An amount of the local reserve stablecoin (the 6-decimal mock USDC). */
export const usdc = (n: string | number): bigint => parseUnits(String(n), 6);

/**
 * The fixed-point arithmetic of the contracts, in bigints, defined once for every test model and spec: basis points,
 * the interest denominator of `LoanSchedule` and OpenZeppelin-style rounding (`mulDiv` down, `ceilDiv` up).
 */

/** 100% in basis points. */
export const BPS = 10_000n;
export const SECONDS_PER_YEAR = 365n * 24n * 3600n;
export const SECONDS_PER_QUARTER = SECONDS_PER_YEAR / 4n;
/** `INTEREST_DENOMINATOR` of the vault: interest = principal x couponBps x seconds / (BPS x SECONDS_PER_YEAR). */
export const INTEREST_DENOMINATOR = BPS * SECONDS_PER_YEAR;

/** `ceil(a / b)` for `a >= 0`, as OpenZeppelin's `Math.ceilDiv`. */
export const ceilDiv = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);
/** `a x b / d` rounded down. */
export const mulDivDown = (a: bigint, b: bigint, d: bigint): bigint => (a * b) / d;
/** `a x b / d` rounded up. */
export const mulDivUp = (a: bigint, b: bigint, d: bigint): bigint => ceilDiv(a * b, d);
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
/** `a - b`, or 0 when `b > a`. */
export const subFloor = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);

/** Interest booked at one per-loan checkpoint: `ceil(principal x couponBps x seconds / INTEREST_DENOMINATOR)`. */
export const interestOf = (principal: bigint, couponBps: bigint, seconds: bigint): bigint =>
  ceilDiv(principal * couponBps * seconds, INTEREST_DENOMINATOR);

/** Interest over `seconds` of the exact aggregate (what `loanAssets()` shows between checkpoints): floored. */
export const interestFloor = (principal: bigint, couponBps: bigint, seconds: bigint): bigint =>
  (principal * couponBps * seconds) / INTEREST_DENOMINATOR;

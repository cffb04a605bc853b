/**
 * Statistics of the stress report, on plain number arrays. Quantiles interpolate linearly between order statistics
 * (Hyndman and Fan's type 7, the default of R and NumPy). Risk figures are stated as positive losses: a VaR of 0.04
 * at 95% means a 4% loss is exceeded in 5% of paths.
 */

export function mean(xs: number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function stdev(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The `q` quantile (0 <= q <= 1), type 7. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  if (q < 0 || q > 1) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Value at risk of returns at `level` (e.g. 0.95): the loss at the (1 - level) quantile, floored at 0. */
export function valueAtRisk(returns: number[], level: number): number {
  return Math.max(0, -quantile(returns, 1 - level));
}

/**
 * Expected shortfall at `level`: the mean loss over the worst ceil((1 - level) * n) paths (at least one), floored at
 * 0. With few paths this is the worst path's loss, which is what a reader should see.
 */
export function expectedShortfall(returns: number[], level: number): number {
  if (returns.length === 0) return NaN;
  const sorted = [...returns].sort((a, b) => a - b);
  // The epsilon keeps (1 - 0.95) * 20 = 1.0000000000000009 at one path, not two.
  const k = Math.max(1, Math.ceil((1 - level) * sorted.length - 1e-9));
  return Math.max(0, -mean(sorted.slice(0, k)));
}

/** Share of values strictly below zero. */
export function probabilityBelowZero(xs: number[]): number {
  if (xs.length === 0) return NaN;
  return xs.filter((x) => x < 0).length / xs.length;
}

/** Annualized return from a start and end share price over `seconds` (compounded: (end/start)^(year/t) - 1). */
export function annualize(startPrice: number, endPrice: number, seconds: number): number {
  if (!(startPrice > 0) || !(seconds > 0))
    throw new Error("annualize: start price and duration must be positive");
  return (endPrice / startPrice) ** ((365 * 86_400) / seconds) - 1;
}

export interface Summary {
  n: number;
  mean: number;
  stdev: number;
  min: number;
  p1: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(xs: number[]): Summary {
  return {
    n: xs.length,
    mean: mean(xs),
    stdev: stdev(xs),
    min: xs.length ? Math.min(...xs) : NaN,
    p1: quantile(xs, 0.01),
    p5: quantile(xs, 0.05),
    p25: quantile(xs, 0.25),
    p50: quantile(xs, 0.5),
    p75: quantile(xs, 0.75),
    p95: quantile(xs, 0.95),
    p99: quantile(xs, 0.99),
    max: xs.length ? Math.max(...xs) : NaN,
  };
}

/** Counts of `xs` in `bins` equal-width bins over [lo, hi] (values outside go to the end bins). */
export function histogram(xs: number[], bins: number, lo: number, hi: number): number[] {
  const counts = Array.from({ length: bins }, () => 0);
  const width = (hi - lo) / bins;
  for (const x of xs) {
    const i = width > 0 ? Math.floor((x - lo) / width) : 0;
    counts[Math.min(bins - 1, Math.max(0, i))] += 1;
  }
  return counts;
}

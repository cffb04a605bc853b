import { expect } from "chai";

import {
  annualize,
  expectedShortfall,
  histogram,
  mean,
  probabilityBelowZero,
  quantile,
  stdev,
  summarize,
  valueAtRisk,
} from "../../scripts/stress/stats";

/** The stress report's statistics (scripts/stress/stats.ts), against values worked out by hand or in R. */
describe("stress: statistics", () => {
  it("mean and sample standard deviation", () => {
    expect(mean([1, 2, 3, 4])).to.equal(2.5);
    expect(stdev([2, 4, 4, 4, 5, 5, 7, 9])).to.be.closeTo(2.138089935, 1e-9); // R: sd(c(2,4,4,4,5,5,7,9))
    expect(stdev([5])).to.equal(0);
    expect(Number.isNaN(mean([]))).to.equal(true);
  });

  it("quantiles interpolate like R's type 7", () => {
    const xs = [5, 1, 4, 2, 3]; // unsorted on purpose
    expect(quantile(xs, 0)).to.equal(1);
    expect(quantile(xs, 1)).to.equal(5);
    expect(quantile(xs, 0.5)).to.equal(3);
    expect(quantile(xs, 0.1)).to.be.closeTo(1.4, 1e-12); // R: quantile(1:5, .1) = 1.4
    expect(quantile([10, 20], 0.25)).to.be.closeTo(12.5, 1e-12);
    expect(() => quantile(xs, 1.5)).to.throw(/q must be/);
    expect(xs).to.deep.equal([5, 1, 4, 2, 3]); // the input is not sorted in place
  });

  it("VaR is the loss at the tail quantile and expected shortfall the mean loss beyond it", () => {
    // 20 returns: -10%, -5%, then 18 values of +5%.
    const returns = [-0.1, -0.05, ...Array(18).fill(0.05)];
    // 5% quantile (type 7): h = 19 * 0.05 = 0.95 -> -0.1 + 0.95 * 0.05 = -0.0525.
    expect(valueAtRisk(returns, 0.95)).to.be.closeTo(0.0525, 1e-12);
    // Worst ceil(0.05 * 20) = 1 path: 10%.
    expect(expectedShortfall(returns, 0.95)).to.be.closeTo(0.1, 1e-12);
    // At 90%: worst 2 paths, mean loss 7.5%.
    expect(expectedShortfall(returns, 0.9)).to.be.closeTo(0.075, 1e-12);
    expect(expectedShortfall(returns, 0.95)).to.be.at.least(valueAtRisk(returns, 0.95));
    // No losses: both are zero, never negative.
    expect(valueAtRisk([0.01, 0.02, 0.03], 0.99)).to.equal(0);
    expect(expectedShortfall([0.01, 0.02, 0.03], 0.99)).to.equal(0);
  });

  it("probability of a loss counts strictly negative values", () => {
    expect(probabilityBelowZero([-1, 0, 1, 2])).to.equal(0.25);
  });

  it("annualizes a share price change by compounding", () => {
    const halfYear = (365 * 86_400) / 2;
    expect(annualize(1, 1.1, halfYear)).to.be.closeTo(0.21, 1e-12);
    expect(annualize(1, 0.9, 365 * 86_400)).to.be.closeTo(-0.1, 1e-12);
    expect(() => annualize(0, 1, 1)).to.throw();
  });

  it("histograms put every value in a bin, out-of-range ones in the end bins", () => {
    const counts = histogram([-5, 0, 0.1, 0.5, 0.99, 1, 7], 4, 0, 1);
    expect(counts).to.deep.equal([3, 0, 1, 3]);
    expect(counts.reduce((a, b) => a + b, 0)).to.equal(7);
  });

  it("summarize reports ordered percentiles", () => {
    const xs = Array.from({ length: 101 }, (_, i) => i);
    const s = summarize(xs);
    expect(s.n).to.equal(101);
    expect([s.min, s.p1, s.p5, s.p25, s.p50, s.p75, s.p95, s.p99, s.max]).to.deep.equal([
      0, 1, 5, 25, 50, 75, 95, 99, 100,
    ]);
  });
});

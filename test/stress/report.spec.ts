import { expect } from "chai";

import { DEFAULTS, type StressConfig } from "../../scripts/stress/config";
import { generateBook } from "../../scripts/stress/model";
import type { PathResult, Recovery } from "../../scripts/stress/path";
import { REPORT_SCHEMA, buildReport, renderHtml } from "../../scripts/stress/report";

/**
 * How the report aggregates path results (scripts/stress/report.ts). The path results here are written by hand, as
 * the chain driver would return them, so every aggregate can be checked against a number worked out in the test.
 */

const config: StressConfig = {
  ...structuredClone(DEFAULTS),
  scenarios: ["base", "run"],
  pathsPerScenario: 2,
  couponOffPaths: 1,
  horizonMonths: 3,
};
const book = generateBook(config);

function recovery(how: Recovery["how"], repaid: number, loss: number, bidBps: number): Recovery {
  return {
    loanId: "1",
    operator: 0,
    month: 2,
    how,
    debtAtDefaultUsd: repaid + loss,
    impairedValueUsd: repaid,
    collateralValueUsd: repaid * 1.5,
    bidBps,
    lotsInMonth: 1,
    proceedsUsd: repaid,
    repaidUsd: repaid,
    lossUsd: loss,
    recoveryRate: repaid / (repaid + loss),
  };
}

function path(overrides: Partial<PathResult>): PathResult {
  return {
    scenario: "base",
    index: 0,
    couponRules: true,
    startPrice: 1,
    endPrice: 1.02,
    prices: [1, 1.01, 1.015, 1.02],
    seconds: 90 * 86_400,
    annualizedReturn: 0.08,
    totalReturn: 0.02,
    maxDrawdown: 0,
    startNavUsd: book.stakedUsd,
    endNavUsd: book.stakedUsd * 1.02,
    realizedLossUsd: 0,
    operatorFailures: 0,
    defaults: 0,
    recoveries: [],
    stepUps: 0,
    stepDowns: 0,
    topUps: 0,
    slaBreaches: 0,
    redemptions: null,
    reverts: {},
    transactions: 100,
    wallMs: 1_000,
    ...overrides,
  };
}

describe("stress: the report", () => {
  const results: PathResult[] = [
    path({
      index: 0,
      annualizedReturn: 0.08,
      stepUps: 2,
      reverts: { "declareDefault: LoanVaultNotDefaultable": 1 },
    }),
    path({ index: 0, couponRules: false, annualizedReturn: 0.07 }),
    path({
      index: 1,
      annualizedReturn: -0.04,
      totalReturn: -0.01,
      maxDrawdown: -0.03,
      endPrice: 0.99,
      prices: [1, 0.97, 0.98, 0.99],
      realizedLossUsd: book.stakedUsd * 0.02,
      operatorFailures: 1,
      defaults: 2,
      recoveries: [recovery("auction-sold", 300, 100, 7_000), recovery("auction-expired", 0, 100, 4_000)],
    }),
    path({
      scenario: "run",
      index: 0,
      redemptions: [
        { lender: 0, requestedAt: 0, sharesRequested: "1", waitSeconds: 7 * 86_400, servedShare: 1 },
        { lender: 1, requestedAt: 0, sharesRequested: "1", waitSeconds: null, servedShare: 0.5 },
      ],
    }),
    path({ scenario: "run", index: 0, couponRules: false }),
    path({ scenario: "run", index: 1 }),
  ];
  const report = buildReport(config, book, results, {
    setupSeconds: 10,
    runSeconds: 60,
    totalSeconds: 75,
    workers: [
      { worker: 0, jobs: [0, 2, 3, 5], setupSeconds: 9.96, runSeconds: 58, transactions: 400 },
      { worker: 1, jobs: [1, 4], setupSeconds: 11.04, runSeconds: 40, transactions: 200 },
    ],
  });
  const base = report.scenarios.find((s) => s.scenario === "base")!;
  const run = report.scenarios.find((s) => s.scenario === "run")!;

  it("summarizes each scenario over its paths with the rules on", () => {
    expect(report.schema).to.equal(REPORT_SCHEMA);
    expect(base.paths).to.equal(2);
    expect(base.annualizedReturn.mean).to.be.closeTo(0.02, 1e-12);
    expect(base.probabilityOfLoss).to.equal(0.5);
    expect(base.maxDrawdown.min).to.equal(-0.03);
    expect(base.realizedLossShare.max).to.be.closeTo(0.02, 1e-12);
    expect(base.defaultsPerPath).to.equal(1);
    expect(base.coupon.stepUpsPerPath).to.equal(1);
  });

  it("pools auction recoveries: repaid over repaid plus loss", () => {
    expect(base.recoveries).to.deep.include({
      defaults: 2,
      auctionsSold: 1,
      auctionsExpired: 1,
      stepIns: 0,
      unresolved: 0,
    });
    expect(base.recoveries.auctionRecoveryRate).to.be.closeTo(300 / 500, 1e-12);
    expect(base.recoveries.meanBidBps).to.equal(5_500);
  });

  it("pairs each rules-off path with the same path index run with the rules", () => {
    expect(base.couponRulesOff).to.deep.equal({
      paths: 1,
      meanReturnWithRules: 0.08,
      meanReturnWithoutRules: 0.07,
      meanDifference: 0.08 - 0.07,
      differences: [0.08 - 0.07],
    });
  });

  it("reports redemption waits of served requests and the share served of all", () => {
    expect(base.redemptions).to.equal(null);
    expect(run.redemptions!.requests).to.equal(2);
    expect(run.redemptions!.servedByHorizon).to.equal(1);
    expect(run.redemptions!.waitDays!.max).to.equal(7);
    expect(run.redemptions!.meanServedShare).to.equal(0.75);
  });

  it("bands the share price month by month, counts reverts and says where paths ran", () => {
    expect(base.priceBands.p50).to.have.length(config.horizonMonths + 1);
    expect(base.priceBands.p50[1]).to.be.closeTo((1.01 + 0.97) / 2, 1e-12);
    expect(report.reverts).to.deep.equal({ "declareDefault: LoanVaultNotDefaultable": 1 });
    expect(report.execution).to.deep.include({ onChainPaths: 6, modelPaths: 0, transactions: 600 });
    expect(report.execution.pathsPerSecondOnChain).to.equal(0.1);
  });

  it("records each worker's share of the run and its own rate", () => {
    expect(report.execution.workers).to.equal(2);
    expect(report.execution.perWorker).to.deep.equal([
      {
        worker: 0,
        paths: 4,
        jobs: [0, 2, 3, 5],
        setupSeconds: 10,
        runSeconds: 58,
        pathsPerSecond: 0.069,
        transactions: 400,
      },
      {
        worker: 1,
        paths: 2,
        jobs: [1, 4],
        setupSeconds: 11,
        runSeconds: 40,
        pathsPerSecond: 0.05,
        transactions: 200,
      },
    ]);
  });

  it("renders a self-contained page: SVG charts, no scripts, no remote resources", () => {
    const html = renderHtml(report);
    expect(html).to.match(/^<!doctype html>/);
    expect(html.match(/<svg /g)?.length).to.be.at.least(5);
    expect(html).to.not.match(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/);
    expect(html).to.include("Redemption waits under the run");
  });
});

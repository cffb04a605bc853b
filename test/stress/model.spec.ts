import { expect } from "chai";
import os from "node:os";

import { DEFAULTS, loadConfig, type StressConfig } from "../../scripts/stress/config";
import { jobLabel, jobReplayCommand, jobsOf } from "../../scripts/stress/jobs";
import {
  clearingBidBps,
  generateBook,
  generatePath,
  hazard,
  largestOperator,
  largestSite,
  launchFactor,
  measuredUtilizationBps,
  monthlyRevenueCents,
  nextRegime,
} from "../../scripts/stress/model";
import { Rng } from "../../scripts/stress/rng";
import { mean } from "../../scripts/stress/stats";

/**
 * The stress simulator's pure half (scripts/stress/rng.ts, model.ts, config.ts): seeded, deterministic, and shaped
 * as docs/stress.md says (correlation within a site and a model, launches, power shocks, thin auctions).
 */

function config(overrides: Partial<StressConfig> = {}): StressConfig {
  return { ...structuredClone(DEFAULTS), ...overrides };
}

function correlation(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe("stress: seeded randomness", () => {
  it("replays the same draws for the same seed and labels, and different ones otherwise", () => {
    const a = new Rng("42", "base", 3);
    const b = new Rng("42", "base", 3);
    const c = new Rng("42", "base", 4);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).to.deep.equal(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).to.not.deep.equal(xs);
  });

  it("draws uniforms in [0, 1), integers within bounds and standard normals", () => {
    const rng = new Rng("moments");
    const u = Array.from({ length: 20_000 }, () => rng.uniform());
    expect(Math.min(...u)).to.be.at.least(0);
    expect(Math.max(...u)).to.be.below(1);
    expect(mean(u)).to.be.closeTo(0.5, 0.01);
    const ints = Array.from({ length: 2_000 }, () => rng.int(2, 5));
    expect(new Set(ints)).to.deep.equal(new Set([2, 3, 4, 5]));
    const z = Array.from({ length: 20_000 }, () => rng.normal());
    expect(mean(z)).to.be.closeTo(0, 0.03);
    expect(mean(z.map((x) => x * x))).to.be.closeTo(1, 0.03);
  });
});

describe("stress: the book", () => {
  it("is deterministic in the seed and sized from the config", () => {
    const c = config();
    const book = generateBook(c);
    expect(generateBook(c)).to.deep.equal(book);
    expect(book.operators).to.have.length(c.book.operators);
    for (const o of book.operators) {
      const value = o.servers * c.book.models[o.model].serverValueUsd;
      expect(o.principalUsd).to.be.at.most((value * c.book.originationLtvBps) / 10_000);
      expect(o.principalUsd % 1_000).to.equal(0);
      expect(o.servers).to.be.within(c.book.serversPerOperator[0], c.book.serversPerOperator[1]);
    }
    const lent = book.operators.reduce((s, o) => s + o.principalUsd, 0);
    expect(book.stakedUsd).to.equal(book.stakePerLenderUsd * c.book.lenders);
    expect(lent / book.stakedUsd).to.be.at.most(c.book.deployedBps / 10_000);
    expect(lent / book.stakedUsd).to.be.above(c.book.deployedBps / 10_000 - 0.01);
    // Every site and model is used.
    expect(new Set(book.operators.map((o) => o.site)).size).to.equal(c.book.sites.length);
    expect(new Set(book.operators.map((o) => o.model)).size).to.equal(c.book.models.length);
  });
});

describe("stress: market paths", () => {
  const c = config();
  const book = generateBook(c);

  it("are deterministic in (seed, scenario, index), and every scenario shares the random world of its index", () => {
    const a = generatePath(c, book, "base", 5);
    expect(generatePath(c, book, "base", 5)).to.deep.equal(a);
    expect(generatePath(c, book, "base", 6).utilizationBps).to.not.deep.equal(a.utilizationBps);
    const run = generatePath(c, book, "run", 5);
    expect(run.utilizationBps).to.deep.equal(a.utilizationBps);
    expect(run.resaleIndex).to.deep.equal(a.resaleIndex);
    expect(run.run).to.deep.equal(c.run);
    expect(a.run).to.equal(null);
  });

  it("keep utilization and uptime in range, with one value per month from origination", () => {
    const p = generatePath(c, book, "base", 0);
    for (const series of [...p.utilizationBps, ...p.uptimeBps]) {
      expect(series).to.have.length(c.horizonMonths + 1);
      for (const v of series) expect(v).to.be.within(0, 10_000);
    }
    for (const series of [...p.resaleIndex, ...p.rentalIndex]) {
      expect(series[0]).to.equal(1);
      for (const v of series) expect(v).to.be.above(0);
    }
  });

  it("correlate utilization within a site and a GPU model more than across them", () => {
    // Operators 0 and 3 share site 0 (3 sites); operator 0 has model 0, operator 3 model (3 + 1) % 3 = 1.
    // Build a book where two operators share site and model: 0 and 9 (site 0; models 0 and (9 + 3) % 3 = 0).
    const wide = config({ book: { ...c.book, operators: 10 }, horizonMonths: 36 });
    const b = generateBook(wide);
    expect([b.operators[0].site, b.operators[0].model]).to.deep.equal([
      b.operators[9].site,
      b.operators[9].model,
    ]);
    const other = b.operators.find(
      (o) => o.site !== b.operators[0].site && o.model !== b.operators[0].model,
    )!;
    const same: [number[], number[]] = [[], []];
    const diff: [number[], number[]] = [[], []];
    for (let i = 0; i < 60; i++) {
      const p = generatePath(wide, b, "base", i);
      for (let m = 1; m <= wide.horizonMonths; m++) {
        same[0].push(p.utilizationBps[0][m]);
        same[1].push(p.utilizationBps[9][m]);
        diff[0].push(p.utilizationBps[0][m]);
        diff[1].push(p.utilizationBps[other.index][m]);
      }
    }
    const rSame = correlation(...same);
    const rDiff = correlation(...diff);
    expect(rSame).to.be.above(0.5);
    expect(rSame).to.be.above(rDiff + 0.2);
  });

  it("obsolescence halves the model's resale value within two quarters of the launch, on top of the base world", () => {
    const base = generatePath(c, book, "base", 2);
    const obs = generatePath(c, book, "obsolescence", 2);
    const k = c.book.models.findIndex((m) => m.name === c.obsolescence.model);
    const { month, months, dropBps } = c.obsolescence;
    expect(obs.resaleIndex[k][month - 1] / base.resaleIndex[k][month - 1]).to.be.closeTo(1, 1e-12);
    expect(obs.resaleIndex[k][month] / base.resaleIndex[k][month]).to.be.below(1);
    expect(obs.resaleIndex[k][month + months - 1] / base.resaleIndex[k][month + months - 1]).to.be.closeTo(
      1 - dropBps / 10_000,
      1e-12,
    );
    // Other models are untouched; the launch month is a hit for the model's fleets.
    for (let j = 0; j < c.book.models.length; j++) {
      if (j !== k) expect(obs.resaleIndex[j]).to.deep.equal(base.resaleIndex[j]);
    }
    const fleet = book.operators.find((o) => o.model === k)!;
    expect(obs.hit[fleet.index][month]).to.equal(true);
  });

  it("power-shock cuts the uptime of every fleet at the largest site for its month", () => {
    const p = generatePath(c, book, "power-shock", 1);
    const site = largestSite(book);
    for (const o of book.operators) {
      if (o.site !== site) continue;
      expect(p.uptimeBps[o.index][c.powerShock.month]).to.equal(c.powerShock.uptimeBps);
      expect(p.hit[o.index][c.powerShock.month]).to.equal(true);
    }
  });

  it("concentration fails the largest operator, oracle-outage names its months", () => {
    const p = generatePath(c, book, "concentration", 0);
    expect(p.forcedFailures).to.deep.equal([
      { operator: largestOperator(book).index, month: c.concentration.month },
    ]);
    const o = generatePath(c, book, "oracle-outage", 0);
    expect(o.outage).to.deep.equal({
      from: c.oracleOutage.month,
      to: c.oracleOutage.month + c.oracleOutage.months - 1,
      lieUtilizationBps: c.oracleOutage.lieUtilizationBps,
    });
  });
});

describe("stress: the outside world's rules", () => {
  const c = config();

  it("regimes follow the transition row", () => {
    expect(nextRegime([0.2, 0.5, 0.3], 0)).to.equal(0);
    expect(nextRegime([0.2, 0.5, 0.3], 0.2)).to.equal(1);
    expect(nextRegime([0.2, 0.5, 0.3], 0.69)).to.equal(1);
    expect(nextRegime([0.2, 0.5, 0.3], 0.7)).to.equal(2);
    expect(nextRegime([0.2, 0.5, 0.3], 0.999999)).to.equal(2);
  });

  it("a launch ramps prices down linearly over its spread, then holds", () => {
    expect(launchFactor(5_000, 6, -1)).to.equal(1);
    expect(launchFactor(5_000, 6, 0)).to.be.closeTo(1 - 0.5 / 6, 1e-12);
    expect(launchFactor(5_000, 6, 5)).to.be.closeTo(0.5, 1e-12);
    expect(launchFactor(5_000, 6, 30)).to.be.closeTo(0.5, 1e-12);
  });

  it("auction bids thin out as more lots sell in the same month, never below zero", () => {
    expect(clearingBidBps(c, 1, 0)).to.equal(c.auction.baseBidBps);
    expect(clearingBidBps(c, 3, 0)).to.equal(c.auction.baseBidBps - 2 * c.auction.crowdingBpsPerLot);
    expect(clearingBidBps(c, 1, 1)).to.equal(c.auction.baseBidBps + c.auction.bidVolBps);
    expect(clearingBidBps(c, 100, 0)).to.equal(0);
  });

  it("a hit raises the default hazard by the contagion term", () => {
    expect(hazard(c, false)).to.equal(c.credit.baseHazardPerMonth);
    expect(hazard(c, true)).to.be.closeTo(c.credit.baseHazardPerMonth + c.credit.contagionHazard, 1e-15);
  });

  it("revenue is GPU-hours x rental rate x measured utilization x net margin", () => {
    const book = generateBook(c);
    const p = generatePath(c, book, "base", 0);
    const o = book.operators[0];
    const m = 4;
    p.utilizationBps[o.index][m] = 8_000;
    p.uptimeBps[o.index][m] = 9_000;
    p.rentalIndex[o.model][m] = 0.9;
    const rate = c.book.models[o.model].rentalUsdPerGpuHour * 0.9;
    const expected = Math.floor(o.servers * 8 * 720 * rate * 0.72 * (c.market.netMarginBps / 10_000) * 100);
    expect(measuredUtilizationBps(8_000, 9_000)).to.equal(7_200);
    expect(monthlyRevenueCents(c, o, p, m)).to.equal(expected);
  });
});

describe("stress: configuration", () => {
  it("takes the profile, then environment variables, then flags", () => {
    const fromEnv = loadConfig([], { STRESS_PROFILE: "ci", STRESS_SEED: "env-seed", STRESS_PATHS: "3" });
    expect(fromEnv.profile).to.equal("ci");
    expect(fromEnv.seed).to.equal("env-seed");
    expect(fromEnv.pathsPerScenario).to.equal(3);
    const flags = loadConfig(["--seed", "7", "--paths=5", "--scenarios", "base,run"], {
      STRESS_SEED: "env-seed",
    });
    expect(flags.seed).to.equal("7");
    expect(flags.pathsPerScenario).to.equal(5);
    expect(flags.scenarios).to.deep.equal(["base", "run"]);
  });

  it("takes the worker count from --workers, then STRESS_WORKERS, then the profile, at most one per path", () => {
    // Default: one per core, capped at the 6 x (4 + 1) = 30 paths of the default profile.
    expect(loadConfig([], {}).workers).to.equal(Math.min(os.availableParallelism(), 30));
    expect(loadConfig(["--profile", "ci"], {}).workers).to.equal(1);
    expect(loadConfig(["--profile", "ci"], { STRESS_WORKERS: "2" }).workers).to.equal(2);
    expect(loadConfig(["--workers", "3"], { STRESS_WORKERS: "2" }).workers).to.equal(3);
    // Two scenarios x (1 path + 1 without the rules) = 4 paths: a fifth worker would deploy for nothing.
    const small = ["--scenarios", "base,run", "--paths", "1", "--coupon-off", "1"];
    expect(loadConfig([...small, "--workers", "8"], {}).workers).to.equal(4);
    expect(() => loadConfig(["--workers", "0"], {})).to.throw(/workers must be a positive integer/);
  });

  it("lists the jobs in the report's order: by scenario, each index with the rules, then without", () => {
    const c = loadConfig(["--scenarios", "base,run", "--paths", "2", "--coupon-off", "1"], {});
    expect(jobsOf(c).map((j) => `${j.id}:${jobLabel(j)}`)).to.deep.equal([
      "0:base #0",
      "1:base #0 (rules off)",
      "2:base #1",
      "3:run #0",
      "4:run #0 (rules off)",
      "5:run #1",
    ]);
    expect(jobReplayCommand(c, jobsOf(c)[4])).to.equal(
      "npm run stress -- --seed 1 --profile default --scenarios run --paths 1 --coupon-off 1 --months 36 " +
        "--operators 8 --workers 1",
    );
  });

  it("refuses unknown flags, scenarios and profiles, and bad numbers", () => {
    expect(() => loadConfig(["--sede", "1"], {})).to.throw(/unknown flag --sede/);
    expect(() => loadConfig(["--scenarios", "base,meteor"], {})).to.throw(/unknown scenario "meteor"/);
    expect(() => loadConfig(["--profile", "huge"], {})).to.throw(/unknown profile/);
    expect(() => loadConfig(["--paths", "0"], {})).to.throw(/positive integer/);
  });

  it("pulls scenario events inside a short horizon", () => {
    const c = loadConfig(["--months", "8"], {});
    for (const month of [
      c.obsolescence.month,
      c.powerShock.month,
      c.concentration.month,
      c.run.month,
      c.oracleOutage.month,
    ]) {
      expect(month).to.be.within(1, 4);
    }
  });
});

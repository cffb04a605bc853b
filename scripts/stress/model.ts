import type { GpuModelConfig, ScenarioName, StressConfig } from "./config";
import { Rng } from "./rng";

/**
 * The simulator's pure half: the synthetic loan book and the market paths that drive it, as plain numbers. Nothing
 * here knows about the protocol's rules: payments, coupons, covenants, defaults, auctions and share prices are
 * decided by the deployed contracts when scripts/stress/path.ts plays a path against them.
 */

export const HOURS_PER_MONTH = 30 * 24;

/** One operator of the book: a borrowing vehicle with one loan against a fleet of servers at one site. */
export interface BookOperator {
  index: number;
  site: number;
  model: number;
  /** Servers pledged at the draw, and spare servers the operator may pledge later as a top-up. */
  servers: number;
  spares: number;
  principalUsd: number;
}

export interface Book {
  operators: BookOperator[];
  /** What the lenders stake in sUSDai in total, and each lender's stake. */
  stakedUsd: number;
  stakePerLenderUsd: number;
}

/** The book of a run: deterministic in the seed; the same for every path and scenario. */
export function generateBook(config: StressConfig): Book {
  const rng = new Rng(config.seed, "book");
  const { book } = config;
  const sites = book.sites.length;
  const models = book.models.length;
  const operators: BookOperator[] = [];
  for (let i = 0; i < book.operators; i++) {
    const site = i % sites;
    const model = (i + Math.floor(i / sites)) % models;
    const servers = rng.int(book.serversPerOperator[0], book.serversPerOperator[1]);
    const value = servers * book.models[model].serverValueUsd;
    const principalUsd = Math.floor((value * book.originationLtvBps) / 10_000 / 1_000) * 1_000;
    operators.push({ index: i, site, model, servers, spares: book.spareServersPerOperator, principalUsd });
  }
  const lent = operators.reduce((sum, o) => sum + o.principalUsd, 0);
  const raw = (lent * 10_000) / book.deployedBps;
  const stakePerLenderUsd = Math.ceil(raw / book.lenders / 1_000) * 1_000;
  return { operators, stakedUsd: stakePerLenderUsd * book.lenders, stakePerLenderUsd };
}

/** The operator with the most principal (ties: the lowest index): the `concentration` scenario's casualty. */
export function largestOperator(book: Book): BookOperator {
  return book.operators.reduce((best, o) => (o.principalUsd > best.principalUsd ? o : best));
}

/** The site with the most principal: where the `power-shock` scenario cuts the power. */
export function largestSite(book: Book): number {
  const bySite = new Map<number, number>();
  for (const o of book.operators) bySite.set(o.site, (bySite.get(o.site) ?? 0) + o.principalUsd);
  return [...bySite.entries()].reduce((best, e) => (e[1] > best[1] ? e : best))[0];
}

/** One simulated world: monthly market and operations data for every fleet. Index 0 is the origination month. */
export interface MarketPath {
  scenario: ScenarioName;
  index: number;
  months: number;
  /** Demand regime of each GPU model's rental market, per month (index into config.market.regimes). */
  regime: number[][];
  /** Each fleet's utilization of capacity that is up (bps), per month. */
  utilizationBps: number[][];
  /** Each fleet's uptime (bps), per month. */
  uptimeBps: number[][];
  /** Resale and rental price indices per GPU model (1 at origination). */
  resaleIndex: number[][];
  rentalIndex: number[][];
  /** New-generation launches (model, month) and site power incidents (site, month). */
  launches: { model: number; month: number }[];
  powerShocks: { site: number; month: number }[];
  /** Whether a fleet's site or model was hit in a month (raises its operator's default hazard). */
  hit: boolean[][];
  /** Uniform draws for each operator's default decision per month. */
  defaultDraw: number[][];
  /** Standard normal draws for the clearing bid of a fleet's auction per month. */
  bidNoise: number[][];
  /** Uniform draw per operator: step-in or auction if it defaults. */
  recoveryDraw: number[];
  /** Operators forced to fail in a month (the `concentration` scenario). */
  forcedFailures: { operator: number; month: number }[];
  /** The `run` scenario's redemption wave: month and share of sUSDai shares. */
  run: { month: number; shareBps: number; days: number } | null;
  /** The `oracle-outage` scenario: months during which reporter 3 is silent and reporter 2 lies. */
  outage: { from: number; to: number; lieUtilizationBps: number } | null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Next regime from a transition row and a uniform draw. */
export function nextRegime(row: number[], u: number): number {
  let acc = 0;
  for (let j = 0; j < row.length; j++) {
    acc += row[j];
    if (u < acc) return j;
  }
  return row.length - 1;
}

/** The multiplier a launch applies `k` months after it starts, ramping linearly to `1 - drop` over `spread` months. */
export function launchFactor(dropBps: number, spreadMonths: number, k: number): number {
  if (k < 0) return 1;
  const done = Math.min(1, (k + 1) / Math.max(1, spreadMonths));
  return 1 - (dropBps / 10_000) * done;
}

/**
 * A market path for `scenario` number `index`: deterministic in (seed, scenario, index). Named scenarios are the
 * random world plus their event, so a scenario's difference from `base` is the event's effect.
 */
export function generatePath(
  config: StressConfig,
  book: Book,
  scenario: ScenarioName,
  index: number,
): MarketPath {
  // The random world depends on the path index only, not the scenario: path 3 of `obsolescence` is path 3 of `base`
  // with a launch on top, so the two are directly comparable.
  const rng = new Rng(config.seed, "world", index);
  const H = config.horizonMonths;
  const { market, power, book: b } = config;
  const models = b.models.length;
  const sites = b.sites.length;
  const ops = book.operators;
  const span = () => Array.from({ length: H + 1 }, () => 0);

  // Regimes per model: start in "normal" (index 1 when there are three regimes).
  const start = Math.min(1, market.regimes.length - 1);
  const regime = Array.from({ length: models }, () => {
    const r = span();
    r[0] = start;
    for (let m = 1; m <= H; m++) r[m] = nextRegime(market.transition[r[m - 1]], rng.uniform());
    return r;
  });

  // Launches (random) and price indices.
  const launches: { model: number; month: number }[] = [];
  for (let k = 0; k < models; k++) {
    const p = 1 - Math.exp(-b.models[k].launchRatePerYear / 12);
    for (let m = 1; m <= H; m++) if (rng.bernoulli(p)) launches.push({ model: k, month: m });
  }
  if (scenario === "obsolescence") {
    const k = b.models.findIndex((x: GpuModelConfig) => x.name === config.obsolescence.model);
    if (k < 0) throw new Error(`obsolescence.model ${config.obsolescence.model} is not in book.models`);
    launches.push({ model: k, month: config.obsolescence.month });
  }
  const resaleIndex = Array.from({ length: models }, () => span());
  const rentalIndex = Array.from({ length: models }, () => span());
  for (let k = 0; k < models; k++) {
    const gm = b.models[k];
    let logResale = 0;
    let logRental = 0;
    resaleIndex[k][0] = 1;
    rentalIndex[k][0] = 1;
    for (let m = 1; m <= H; m++) {
      logResale += gm.resaleDriftPerMonth + market.resaleVol * rng.normal();
      logRental += gm.rentalDriftPerMonth + market.rentalVol * rng.normal();
      let resale = Math.exp(logResale);
      let rental = Math.exp(logRental);
      for (const l of launches) {
        if (l.model !== k) continue;
        const forced =
          scenario === "obsolescence" && l.month === config.obsolescence.month && l === launches.at(-1);
        const drop = forced ? config.obsolescence.dropBps : market.launchResaleDropBps;
        const spread = forced ? config.obsolescence.months : market.launchSpreadMonths;
        resale *= launchFactor(drop, spread, m - l.month);
        rental *= launchFactor(market.launchRentalDropBps, spread, m - l.month);
      }
      resaleIndex[k][m] = resale;
      rentalIndex[k][m] = rental;
    }
  }

  // Power incidents per site.
  const powerShocks: { site: number; month: number }[] = [];
  const shockUptime = new Map<string, number>();
  for (let s = 0; s < sites; s++) {
    for (let m = 1; m <= H; m++) {
      if (rng.bernoulli(power.shockProbPerSiteMonth)) {
        powerShocks.push({ site: s, month: m });
        shockUptime.set(`${s}/${m}`, rng.int(power.shockUptimeBps[0], power.shockUptimeBps[1]));
      }
    }
  }
  if (scenario === "power-shock") {
    const s = largestSite(book);
    powerShocks.push({ site: s, month: config.powerShock.month });
    shockUptime.set(`${s}/${config.powerShock.month}`, config.powerShock.uptimeBps);
  }

  // Utilization: the model's regime level + a site factor + the fleet's own factor (both AR(1)).
  const siteFactor = Array.from({ length: sites }, () => span());
  for (let s = 0; s < sites; s++) {
    for (let m = 1; m <= H; m++) {
      const phi = market.persistence;
      siteFactor[s][m] = phi * siteFactor[s][m - 1] + Math.sqrt(1 - phi * phi) * rng.normal();
    }
  }
  const utilizationBps = ops.map(() => span());
  const uptimeBps = ops.map(() => span());
  const hit = ops.map(() => Array.from({ length: H + 1 }, () => false));
  const defaultDraw = ops.map(() => span());
  const bidNoise = ops.map(() => span());
  for (const o of ops) {
    let own = 0;
    for (let m = 0; m <= H; m++) {
      const phi = market.persistence;
      own = m === 0 ? 0 : phi * own + Math.sqrt(1 - phi * phi) * rng.normal();
      const level = market.regimes[regime[o.model][m]].utilizationBps;
      const util = level + market.siteVolBps * siteFactor[o.site][m] + market.fleetVolBps * own;
      utilizationBps[o.index][m] = Math.round(clamp(util, 0, 10_000));
      const shock = shockUptime.get(`${o.site}/${m}`);
      uptimeBps[o.index][m] = shock ?? power.normalUptimeBps;
      hit[o.index][m] = shock !== undefined || launches.some((l) => l.model === o.model && l.month === m);
      defaultDraw[o.index][m] = rng.uniform();
      bidNoise[o.index][m] = rng.normal();
    }
  }
  const recoveryDraw = ops.map(() => rng.uniform());

  return {
    scenario,
    index,
    months: H,
    regime,
    utilizationBps,
    uptimeBps,
    resaleIndex,
    rentalIndex,
    launches,
    powerShocks,
    hit,
    defaultDraw,
    bidNoise,
    recoveryDraw,
    forcedFailures:
      scenario === "concentration"
        ? [{ operator: largestOperator(book).index, month: config.concentration.month }]
        : [],
    run: scenario === "run" ? { ...config.run } : null,
    outage:
      scenario === "oracle-outage"
        ? {
            from: config.oracleOutage.month,
            to: config.oracleOutage.month + config.oracleOutage.months - 1,
            lieUtilizationBps: config.oracleOutage.lieUtilizationBps,
          }
        : null,
  };
}

/** A fleet's measured utilization of its whole capacity (what monitoring reports): busy share times uptime. */
export function measuredUtilizationBps(utilizationBps: number, uptimeBps: number): number {
  return Math.round((utilizationBps * uptimeBps) / 10_000);
}

/** The month's net revenue a fleet remits to its lockbox, in cents (whole, rounded down). */
export function monthlyRevenueCents(
  config: StressConfig,
  operator: BookOperator,
  path: MarketPath,
  month: number,
): number {
  const gm = config.book.models[operator.model];
  const gpuHours = operator.servers * config.book.gpusPerServer * HOURS_PER_MONTH;
  const rate = gm.rentalUsdPerGpuHour * path.rentalIndex[operator.model][month];
  const busy = measuredUtilizationBps(
    path.utilizationBps[operator.index][month],
    path.uptimeBps[operator.index][month],
  );
  return Math.floor(gpuHours * rate * (busy / 10_000) * (config.market.netMarginBps / 10_000) * 100);
}

/** Probability that an operator walks away this month, besides running out of cash. */
export function hazard(config: StressConfig, hit: boolean): number {
  return Math.min(1, config.credit.baseHazardPerMonth + (hit ? config.credit.contagionHazard : 0));
}

/**
 * The share of a lot's collateral value the marginal buyer bids (bps): thinner when `lotsThisMonth` lots are for
 * sale in the same month, with noise; never negative.
 */
export function clearingBidBps(config: StressConfig, lotsThisMonth: number, noise: number): number {
  const { baseBidBps, crowdingBpsPerLot, bidVolBps } = config.auction;
  return Math.max(
    0,
    Math.round(baseBidBps - crowdingBpsPerLot * Math.max(0, lotsThisMonth - 1) + bidVolBps * noise),
  );
}

/** What the appraiser marks a server of `model` at in `month`: origination value times the resale index. */
export function appraisedServerUsd(
  config: StressConfig,
  path: MarketPath,
  model: number,
  month: number,
): number {
  return Math.max(1, Math.round(config.book.models[model].serverValueUsd * path.resaleIndex[model][month]));
}

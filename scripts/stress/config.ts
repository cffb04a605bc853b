import os from "node:os";

/**
 * The stress simulator's parameters, in one place, with their defaults. A profile (`ci`, `default`, `long`) picks
 * the size of a run; environment variables (documented in .env.example) and command-line flags override single
 * values. Money is in whole US dollars here (the chain driver converts to 18-decimal USDai), rates and shares in
 * basis points, time in months of 30 days (the loans' payment interval).
 */

export const SCENARIOS = [
  "base",
  "obsolescence",
  "power-shock",
  "concentration",
  "run",
  "oracle-outage",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A GPU model of the synthetic book and its market. */
export interface GpuModelConfig {
  name: string;
  /** Appraised value of one 8-GPU server at origination. */
  serverValueUsd: number;
  /** The appraiser's on-chain depreciation schedule (GpuReceipt markdown per quarter, residual floor). */
  markdownBpsPerQuarter: number;
  residualFloorBps: number;
  /** What a customer pays per GPU-hour at origination. */
  rentalUsdPerGpuHour: number;
  /** Drift of the resale and rental price indices per month (negative: prices fall as the model ages). */
  resaleDriftPerMonth: number;
  rentalDriftPerMonth: number;
  /** Probability per year that a new generation launches and this model's prices jump down. */
  launchRatePerYear: number;
}

export interface StressConfig {
  /** Seed of the run: every random draw derives from it (the book, each scenario's paths). */
  seed: string;
  profile: string;
  scenarios: ScenarioName[];
  /** Paths per scenario. */
  pathsPerScenario: number;
  /** Of each scenario's paths, how many are run a second time with the oracle's coupon rules switched off. */
  couponOffPaths: number;
  horizonMonths: number;
  /** Where reports/stress.json and reports/stress.html go. */
  reportDir: string;
  /**
   * Worker processes the paths are spread over, each with its own in-process Hardhat network, deployment and snapshot
   * (scripts/stress/workers.ts). It changes how fast a run goes, never its figures. Default: one per core
   * (`os.availableParallelism()`); `loadConfig` caps it at the run's number of on-chain paths.
   */
  workers: number;

  book: {
    operators: number;
    sites: string[];
    models: GpuModelConfig[];
    gpusPerServer: number;
    /** Servers pledged per operator, drawn uniformly in [min, max]. */
    serversPerOperator: [number, number];
    /** Spare (unpledged) servers per operator, available for top-ups. */
    spareServersPerOperator: number;
    /** Principal as a share of pledged collateral value (the terms allow at most 60%). */
    originationLtvBps: number;
    /** Loans as a share of sUSDai's NAV at the start; the rest stays idle USDai. */
    deployedBps: number;
    /** Lender accounts, equal stakes. */
    lenders: number;
    /** Share of USDai's USDC reserves parked in the T-bill vault. */
    tbillAllocationBps: number;
  };

  market: {
    /** Utilization regimes of a GPU model's market (bps) and the monthly Markov transition matrix between them. */
    regimes: { name: string; utilizationBps: number }[];
    transition: number[][];
    /** Volatility (bps) of the site factor and of each fleet's own factor, and their monthly persistence (AR(1)). */
    siteVolBps: number;
    fleetVolBps: number;
    persistence: number;
    /** Monthly volatility of the resale and rental price indices (log). */
    resaleVol: number;
    rentalVol: number;
    /** A launch: resale and rental fall by these shares, spread over `launchSpreadMonths`. */
    launchResaleDropBps: number;
    launchRentalDropBps: number;
    launchSpreadMonths: number;
    /** Share of revenue left to service debt after power, colocation and staff. */
    netMarginBps: number;
    /** Months between re-appraisals of the receipts (the appraiser marks them to the resale index). */
    reappraiseEveryMonths: number;
  };

  power: {
    /** Probability per site per month of a power incident, and the fleet uptime during one (bps, drawn in range). */
    shockProbPerSiteMonth: number;
    shockUptimeBps: [number, number];
    /** Normal uptime (bps). */
    normalUptimeBps: number;
  };

  credit: {
    /**
     * An operator's own cash at the start, in months of its first installment. When revenue plus the lockbox and the
     * debt-service reserve fall short of what is due, the operator pays the gap from this cash (`repay`); released
     * excess refills it. An operator out of cash walks away.
     */
    operatorCashMonths: number;
    /** An operator whose revenue misses its debt service this many months in a row walks away. */
    failAfterDistressedMonths: number;
    /** Idiosyncratic monthly default probability. */
    baseHazardPerMonth: number;
    /** Added default probability in a month when the operator's site or GPU model is hit. */
    contagionHazard: number;
    /** Share of defaults the credit admin resolves by a step-in (a replacement operator) instead of an auction. */
    stepInShare: number;
  };

  auction: {
    /** The bid of the marginal buyer, as a share of the lot's collateral value, with one lot on sale. */
    baseBidBps: number;
    /** Each other lot sold in the same month lowers that bid by this much (thin markets). */
    crowdingBpsPerLot: number;
    /** Normal noise on the bid (bps). */
    bidVolBps: number;
  };

  oracle: {
    /** Honest reporters' measurement noise (bps). */
    reporterJitterBps: number;
  };

  /** Scenario parameters. */
  obsolescence: { model: string; month: number; dropBps: number; months: number };
  powerShock: { month: number; uptimeBps: number };
  concentration: { month: number };
  run: { month: number; shareBps: number; days: number };
  oracleOutage: { month: number; months: number; lieUtilizationBps: number };
}

const MODELS: GpuModelConfig[] = [
  {
    name: "H100-SXM5-80GB",
    serverValueUsd: 250_000,
    markdownBpsPerQuarter: 600,
    residualFloorBps: 2_500,
    rentalUsdPerGpuHour: 2.1,
    resaleDriftPerMonth: -0.012,
    rentalDriftPerMonth: -0.008,
    launchRatePerYear: 0.35,
  },
  {
    name: "H200-SXM5-141GB",
    serverValueUsd: 320_000,
    markdownBpsPerQuarter: 450,
    residualFloorBps: 3_000,
    rentalUsdPerGpuHour: 2.7,
    resaleDriftPerMonth: -0.009,
    rentalDriftPerMonth: -0.006,
    launchRatePerYear: 0.25,
  },
  {
    name: "B200-HGX-192GB",
    serverValueUsd: 420_000,
    markdownBpsPerQuarter: 350,
    residualFloorBps: 3_000,
    rentalUsdPerGpuHour: 3.6,
    resaleDriftPerMonth: -0.007,
    rentalDriftPerMonth: -0.005,
    launchRatePerYear: 0.15,
  },
];

export const DEFAULTS: StressConfig = {
  seed: "1",
  profile: "default",
  scenarios: [...SCENARIOS],
  pathsPerScenario: 4,
  couponOffPaths: 1,
  horizonMonths: 36,
  reportDir: "reports",
  workers: Math.max(1, os.availableParallelism()),
  book: {
    operators: 8,
    sites: ["DAL-1", "PHX-2", "ATL-3"],
    models: MODELS,
    gpusPerServer: 8,
    serversPerOperator: [2, 5],
    spareServersPerOperator: 1,
    originationLtvBps: 5_000,
    deployedBps: 8_000,
    lenders: 10,
    tbillAllocationBps: 4_000,
  },
  market: {
    regimes: [
      { name: "boom", utilizationBps: 9_400 },
      { name: "normal", utilizationBps: 8_200 },
      { name: "slump", utilizationBps: 5_200 },
    ],
    transition: [
      [0.85, 0.13, 0.02],
      [0.08, 0.88, 0.04],
      [0.03, 0.27, 0.7],
    ],
    siteVolBps: 300,
    fleetVolBps: 300,
    persistence: 0.6,
    resaleVol: 0.03,
    rentalVol: 0.03,
    launchResaleDropBps: 3_500,
    launchRentalDropBps: 2_000,
    launchSpreadMonths: 6,
    netMarginBps: 6_000,
    reappraiseEveryMonths: 3,
  },
  power: { shockProbPerSiteMonth: 0.01, shockUptimeBps: [2_000, 8_000], normalUptimeBps: 9_900 },
  credit: {
    operatorCashMonths: 3,
    failAfterDistressedMonths: 6,
    baseHazardPerMonth: 0.002,
    contagionHazard: 0.05,
    stepInShare: 0.4,
  },
  auction: { baseBidBps: 7_500, crowdingBpsPerLot: 800, bidVolBps: 700 },
  oracle: { reporterJitterBps: 60 },
  obsolescence: { model: "H100-SXM5-80GB", month: 6, dropBps: 5_000, months: 6 },
  powerShock: { month: 12, uptimeBps: 500 },
  concentration: { month: 9 },
  run: { month: 12, shareBps: 3_000, days: 7 },
  oracleOutage: { month: 6, months: 3, lieUtilizationBps: 9_500 },
};

/**
 * Sizes of a run. `ci` fits CI's budget; `long` is the 1,000 base paths. `ci` keeps one worker: its figures
 * are the same with any number (test/stress/workers.spec.ts), but its 12 short paths gain little from a second
 * deployment, and on a busy 2-core CI machine a second worker made the step slower (docs/stress.md, "What it costs").
 */
export type Profile = Partial<Omit<StressConfig, "book">> & { book?: Partial<StressConfig["book"]> };

export const PROFILES: Record<string, Profile> = {
  ci: {
    pathsPerScenario: 1,
    couponOffPaths: 1,
    horizonMonths: 8,
    workers: 1,
    book: { operators: 3, serversPerOperator: [2, 3] },
  },
  default: {},
  long: { pathsPerScenario: 1_000, couponOffPaths: 100 },
};

function parseFlags(argv: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}" (flags look like --seed 42)`);
    const [name, inline] = arg.slice(2).split("=", 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function nonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** How many paths a run plays on-chain: per scenario, its paths plus those re-run with the coupon rules off. */
export function onChainPathCount(c: StressConfig): number {
  return c.scenarios.length * (c.pathsPerScenario + c.couponOffPaths);
}

/**
 * The run's configuration: defaults, then the profile, then environment variables (STRESS_*), then flags
 * (`--seed`, `--profile`, `--paths`, `--scenarios`, `--months`, `--operators`, `--coupon-off`, `--out`, `--workers`).
 */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): StressConfig {
  const flags = parseFlags(argv);
  const pick = (flag: string, variable: string): string | undefined => {
    const v = flags[flag] ?? env[variable];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const known = new Set([
    "seed",
    "profile",
    "paths",
    "scenarios",
    "months",
    "operators",
    "coupon-off",
    "out",
    "workers",
  ]);
  for (const name of Object.keys(flags)) if (!known.has(name)) throw new Error(`unknown flag --${name}`);

  const profile = pick("profile", "STRESS_PROFILE") ?? "default";
  const overrides = PROFILES[profile];
  if (!overrides) throw new Error(`unknown profile "${profile}" (${Object.keys(PROFILES).join(", ")})`);
  const config: StressConfig = {
    ...structuredClone(DEFAULTS),
    ...overrides,
    book: { ...structuredClone(DEFAULTS.book), ...overrides.book },
    profile,
  };

  const seed = pick("seed", "STRESS_SEED");
  if (seed !== undefined) config.seed = seed;
  const paths = pick("paths", "STRESS_PATHS");
  if (paths !== undefined) config.pathsPerScenario = positiveInt("paths", paths);
  const months = pick("months", "STRESS_HORIZON_MONTHS");
  if (months !== undefined) config.horizonMonths = positiveInt("months", months);
  const operators = pick("operators", "STRESS_OPERATORS");
  if (operators !== undefined) config.book.operators = positiveInt("operators", operators);
  const couponOff = pick("coupon-off", "STRESS_COUPON_OFF_PATHS");
  if (couponOff !== undefined) config.couponOffPaths = nonNegativeInt("coupon-off", couponOff);
  const out = pick("out", "STRESS_REPORT_DIR");
  if (out !== undefined) config.reportDir = out;
  const scenarios = pick("scenarios", "STRESS_SCENARIOS");
  if (scenarios !== undefined) {
    const names = scenarios.split(",").map((s) => s.trim());
    for (const name of names) {
      if (!(SCENARIOS as readonly string[]).includes(name)) {
        throw new Error(`unknown scenario "${name}" (${SCENARIOS.join(", ")})`);
      }
    }
    config.scenarios = names as ScenarioName[];
  }
  const workers = pick("workers", "STRESS_WORKERS");
  if (workers !== undefined) config.workers = positiveInt("workers", workers);
  config.couponOffPaths = Math.min(config.couponOffPaths, config.pathsPerScenario);
  // More workers than paths would deploy for nothing.
  config.workers = Math.max(1, Math.min(config.workers, onChainPathCount(config)));
  validate(config);
  return config;
}

/** The command that replays a run: every value the flags can set, spelled out. */
export function replayCommand(c: StressConfig): string {
  return (
    `npm run stress -- --seed ${c.seed} --profile ${c.profile} --scenarios ${c.scenarios.join(",")} ` +
    `--paths ${c.pathsPerScenario} --coupon-off ${c.couponOffPaths} --months ${c.horizonMonths} --operators ${c.book.operators}`
  );
}

function validate(c: StressConfig): void {
  const within = (name: string, v: number, lo: number, hi: number) => {
    if (!(v >= lo && v <= hi)) throw new Error(`${name} must be in [${lo}, ${hi}], got ${v}`);
  };
  within("book.originationLtvBps", c.book.originationLtvBps, 1, 6_000);
  within("book.deployedBps", c.book.deployedBps, 1, 10_000);
  within("book.operators", c.book.operators, 1, 24);
  for (const row of c.market.transition) {
    const sum = row.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) throw new Error("market.transition rows must sum to 1");
  }
  if (c.market.transition.length !== c.market.regimes.length)
    throw new Error("one transition row per regime");
  const lastEvent = Math.max(
    c.obsolescence.month,
    c.powerShock.month,
    c.concentration.month,
    c.run.month,
    c.oracleOutage.month,
  );
  if (c.horizonMonths < 3) throw new Error("horizonMonths must be at least 3");
  // Scenario months past the horizon are pulled inside it (the ci profile runs 12 months).
  if (lastEvent > c.horizonMonths) {
    const fit = (m: number) => Math.max(1, Math.min(m, Math.floor(c.horizonMonths / 2)));
    c.obsolescence.month = fit(c.obsolescence.month);
    c.powerShock.month = fit(c.powerShock.month);
    c.concentration.month = fit(c.concentration.month);
    c.run.month = fit(c.run.month);
    c.oracleOutage.month = fit(c.oracleOutage.month);
  }
}

import { parseUnits } from "ethers";

/**
 * Per-network protocol parameters: the one place deploy scripts, tasks and the demo read them from.
 * USD amounts are 18-decimal bigints, rates and LTVs basis points, durations seconds.
 */
export interface ProtocolConfig {
  /** A public network: admin roles move to a TimelockController and the deployer renounces its roles. */
  live: boolean;
  /** Existing contracts to use instead of deploying mocks. On local networks these are always mocks. */
  external: {
    reserveToken?: string;
    tbillVault?: string;
  };
  /** Parameters of the local-network doubles. */
  mocks: {
    reserveDecimals: number;
    tbillApyBps: number;
  };
  usdai: {
    /** Supply cap in USDai units (18 decimals). */
    supplyCap: bigint;
  };
  susdai: {
    /** Seconds between a redemption request and its earliest service. */
    cooldownSeconds: number;
    /** Seconds over which a lump gain (harvest, fees) vests. */
    vestingPeriodSeconds: number;
    /** Minimum value of a redemption request, in USDai (18 decimals) at the share price when it is made. */
    minRedeemAssets: bigint;
    /** Cap on a controller's active redemption requests. */
    maxActiveRequests: number;
  };
  receipts: {
    /** Distinct ATTESTOR signatures a GpuReceipt mint needs (k of n). */
    attestationThreshold: number;
  };
  loans: LoanConfig;
  auction: AuctionConfig;
  governance: {
    /** TimelockController delay on live networks. */
    timelockMinDelaySeconds: number;
  };
  oracle: OracleConfig;
}

/** LoanVault risk parameters (`ILoanVault.RiskParams`). */
export interface LoanConfig {
  /** Highest outstanding principal of one borrower, in bps of sUSDai's NAV. */
  borrowerCapBps: number;
  /** Highest outstanding principal against one site's receipts, in bps of sUSDai's NAV. */
  siteCapBps: number;
  /** Haircut on collateral value when a defaulted loan is impaired. */
  recoveryHaircutBps: number;
  /** Oldest reference-rate feed answer the vault accepts, in seconds. */
  referenceFeedMaxStalenessSeconds: number;
  /**
   * The dust threshold, in USDai units: an installment short by no more than this is settled (the shortfall stays
   * owed), and a loan owing no more than this overdue cannot be declared in default.
   */
  materialityThreshold: bigint;
  /** After a default, seconds during which only the credit admin may liquidate (so a step-in can come first). */
  stepInWindowSeconds: number;
  /** The reference-rate feed (AggregatorV3, 1.0 = 100%) terms may name; a mock on local networks. */
  referenceRateFeed?: string;
}

/** CollateralAuction parameters (`ICollateralAuction.AuctionParams`). */
export interface AuctionConfig {
  /** Start price over collateral value, in bps. */
  startPremiumBps: number;
  /** Floor price as a share of collateral value, in bps. */
  floorBps: number;
  /** Seconds from start price to floor. */
  durationSeconds: number;
}

const DAY = 24 * 60 * 60;

const DEFAULT_LOANS: LoanConfig = {
  borrowerCapBps: 3_000,
  siteCapBps: 5_000,
  recoveryHaircutBps: 2_000,
  referenceFeedMaxStalenessSeconds: 2 * DAY,
  materialityThreshold: 10n * 10n ** 18n,
  stepInWindowSeconds: 2 * DAY,
};

const DEFAULT_AUCTION: AuctionConfig = { startPremiumBps: 2_000, floorBps: 5_000, durationSeconds: 3 * DAY };
/** `CouponRules.Comparator` in contracts/libraries/CouponRules.sol. */
export const Comparator = { GTE: 0, LT: 1 } as const;

/** A coupon rule as `UtilizationOracle.setRules` takes it (thresholds and deltas in basis points). */
export interface CouponRuleConfig {
  comparator: (typeof Comparator)[keyof typeof Comparator];
  thresholdBps: number;
  windowDays: number;
  premiumDeltaBps: number;
  topUpRequired: boolean;
}

export interface OracleConfig {
  /** Global coupon rules set at deploy (docs/architecture.md, "Coupon"). */
  rules: CouponRuleConfig[];
  /** Default `maxStaleness` for `configureLoan`, in seconds. */
  maxStalenessSeconds: number;
  /** Default `quorum` for `configureLoan`. */
  quorum: number;
}

/** The default rules (docs/architecture.md): >= 90% for 90 days steps the premium down 200 bps; < 60% for 30 days steps it up 300 bps. */
const DEFAULT_ORACLE: OracleConfig = {
  rules: [
    {
      comparator: Comparator.GTE,
      thresholdBps: 9_000,
      windowDays: 90,
      premiumDeltaBps: -200,
      topUpRequired: false,
    },
    {
      comparator: Comparator.LT,
      thresholdBps: 6_000,
      windowDays: 30,
      premiumDeltaBps: 300,
      topUpRequired: true,
    },
  ],
  maxStalenessSeconds: 2 * 24 * 60 * 60,
  quorum: 2,
};

const LOCAL: ProtocolConfig = {
  live: false,
  external: {},
  mocks: { reserveDecimals: 6, tbillApyBps: 450 },
  usdai: { supplyCap: parseUnits("1000000000", 18) },
  susdai: {
    cooldownSeconds: 7 * DAY,
    vestingPeriodSeconds: DAY,
    minRedeemAssets: parseUnits("10", 18),
    maxActiveRequests: 10,
  },
  receipts: { attestationThreshold: 2 },
  loans: DEFAULT_LOANS,
  auction: DEFAULT_AUCTION,
  governance: { timelockMinDelaySeconds: 0 },
  oracle: DEFAULT_ORACLE,
};

function optionalAddress(name: string): string | undefined {
  const value = process.env[name]?.trim();
  if (!value) return undefined;
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new Error(`${name} must be an address`);
  return value;
}

const SEPOLIA: ProtocolConfig = {
  live: true,
  external: {
    reserveToken: optionalAddress("SEPOLIA_RESERVE_TOKEN"),
    tbillVault: optionalAddress("SEPOLIA_TBILL_VAULT"),
  },
  mocks: { reserveDecimals: 6, tbillApyBps: 450 },
  usdai: { supplyCap: parseUnits("10000000", 18) },
  susdai: {
    cooldownSeconds: 7 * DAY,
    vestingPeriodSeconds: DAY,
    minRedeemAssets: parseUnits("100", 18),
    maxActiveRequests: 10,
  },
  receipts: { attestationThreshold: 2 },
  loans: { ...DEFAULT_LOANS, referenceRateFeed: optionalAddress("SEPOLIA_REFERENCE_RATE_FEED") },
  auction: DEFAULT_AUCTION,
  governance: { timelockMinDelaySeconds: 2 * 24 * 60 * 60 },
  oracle: DEFAULT_ORACLE,
};

const CONFIGS: Record<string, ProtocolConfig> = {
  hardhat: LOCAL,
  localhost: LOCAL,
  sepolia: SEPOLIA,
};

/** Networks where mocks may be deployed unconditionally and named accounts are Hardhat's own. */
export const LOCAL_NETWORKS: readonly string[] = ["hardhat", "localhost"];

export function isLocalNetwork(networkName: string): boolean {
  return LOCAL_NETWORKS.includes(networkName);
}

export function getProtocolConfig(networkName: string): ProtocolConfig {
  const config = CONFIGS[networkName];
  if (!config) {
    throw new Error(`No protocol config for network "${networkName}"; add one to config/protocol.ts`);
  }
  return config;
}

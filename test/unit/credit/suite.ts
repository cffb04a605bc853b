import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol, type ProtocolFixture } from "../../fixtures/protocol";
import { expectUnchanged, snapshot, type Reads } from "../../helpers/state";
import { approve, fundUsdai, openLoan, stake } from "../../helpers/loans";
import { BPS, interestOf, mulDivUp } from "../../helpers/math";
import { DAY, siteKey } from "../../../helpers/loans";
import { Roles } from "../../../helpers/roles";
import { usd } from "../../../helpers/units";
import { createFixture } from "../../helpers/fixture";

/**
 * What the LoanVault unit specs (test/unit/credit/*.spec.ts, one file per concern, one `describe` per entry point)
 * share: the house loan's numbers, the fixture, and the helpers every suite binds to its own fixture with
 * `loanVaultHelpers(() => f)`.
 */

export const SITE = "DAL-1";
export const SITE_KEY = siteKey(SITE);
export const P = usd(1_000_000);
export const COLLATERAL_USD = 2_000_000;
export const COLLATERAL = usd(COLLATERAL_USD);
export const COUPON = 1_030n; // 430 reference + 600 premium (house terms)
export const INTERVAL = BigInt(30 * DAY);
export const GRACE = BigInt(5 * DAY);
export const WINDOW = BigInt(25 * DAY);
export const CURE = BigInt(14 * DAY);
export const NAV = 10_000_000; // staked by lender1
export const HAIRCUT = 2_000n;
/** After a default, the time only the credit admin may liquidate (the local deployment's step-in window). */
export const STEP_IN_WINDOW = BigInt(2 * DAY);
/** The local deployment's materiality (dust) threshold. */
export const MATERIALITY = usd(10);
export const MAX_RECEIPTS = 64n;
/** Risk parameters for a second vault a test deploys beside the fixture's (no haircut; the local caps and windows). */
export const FRESH_VAULT_RISK = {
  borrowerCapBps: 3_000,
  siteCapBps: 5_000,
  recoveryHaircutBps: 0,
  referenceFeedMaxStalenessSeconds: DAY,
  materialityThreshold: MATERIALITY,
  stepInWindowSeconds: Number(STEP_IN_WINDOW),
};
/** The house late fee on `late` installments charged at once: 5% of each one's 2% principal + one interval's interest. */
export const houseLateFee = (late: bigint, principal = P, coupon = COUPON) =>
  mulDivUp(late * mulDivUp(P, 200n, BPS) + late * interestOf(principal, coupon, INTERVAL), 500n, BPS);
/** Zero-coupon terms: NAV does not move with time, so cap figures are exact in any block. */
export const ZERO_COUPON = { referenceRateBps: 0, basePremiumBps: 0, premiumFloorBps: 0 };

/**
 * The deployed protocol with 10M USDai staked in sUSDai (lender1), 5M USDai for each borrower and for lender2 (a
 * third-party payer), every one of them having approved the vault, and the ORACLE role on the vault given to
 * `oracleAdmin` so tests can push coupon steps and covenant flags directly.
 */
export const loanFixture = createFixture(async () => {
  const fx = await deployProtocol();
  const { actors, loanVault } = fx;
  await stake(fx, actors.lender1, NAV);
  for (const account of [
    actors.borrower1,
    actors.borrower2,
    actors.borrower3,
    actors.lender2,
    actors.liquidator,
  ]) {
    await fundUsdai(fx, account, 5_000_000);
  }
  await loanVault.connect(actors.deployer).grantRole(Roles.ORACLE, actors.oracleAdmin.address);
  return fx;
});

export type Signer = HardhatEthersSigner;

/** The fixture and the accounts the specs name: three borrowers, the ORACLE holder, an attacker and a payer. */
export interface LoanVaultSuite {
  f: ProtocolFixture;
  b1: Signer;
  b2: Signer;
  b3: Signer;
  oracle: Signer;
  attacker: Signer;
  payer: Signer;
}

/** Restores the fixture (call it in `beforeEach`). */
export async function loadLoanVault(): Promise<LoanVaultSuite> {
  const f = await loanFixture();
  const { borrower1, borrower2, borrower3, oracleAdmin, attacker, lender2 } = f.actors;
  return { f, b1: borrower1, b2: borrower2, b3: borrower3, oracle: oracleAdmin, attacker, payer: lender2 };
}

/** Sends the next transaction at exactly `t`. */
export const at = (t: bigint) => time.setNextBlockTimestamp(t);

/** The helpers of a LoanVault suite, over the fixture `fixture()` returns when they run. */
export function loanVaultHelpers(fixture: () => ProtocolFixture) {
  /** Stored (time-independent) state that a reverted call must not change. */
  const reads = (loanId: bigint): Reads => {
    const f = fixture();
    const { borrower1: b1, borrower2: b2, lender2: payer } = f.actors;
    return {
      state: async () => [...(await f.loanVault.stateOf(loanId))],
      terms: async () => [...(await f.loanVault.termsOf(loanId))],
      receipts: () => f.loanVault.receiptsOf(loanId),
      accrual: () => f.loanVault.accrualState(),
      exposure1: () => f.loanVault.exposureOf(b1.address, SITE_KEY),
      exposure2: () => f.loanVault.exposureOf(b2.address, SITE_KEY),
      count: () => f.loanVault.loanCount(),
      risk: () => f.loanVault.riskParams(),
      auction: () => f.loanVault.auction(),
      paused: () => f.loanVault.paused(),
      vaultUsdai: async () => f.usdai.balanceOf(await f.loanVault.getAddress()),
      b1Usdai: () => f.usdai.balanceOf(b1.address),
      payerUsdai: () => f.usdai.balanceOf(payer.address),
      idle: () => f.susdai.idleAssets(),
    };
  };

  /** Asserts that `send` reverts with `error(args)` of `contract` (the vault by default) and changed nothing. */
  async function expectRevert(
    loanId: bigint,
    send: () => Promise<unknown>,
    error: string,
    args?: unknown[],
    contract: { interface: unknown } = fixture().loanVault,
  ): Promise<void> {
    const before = await snapshot(reads(loanId));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const assertion = expect(send()).to.be.revertedWithCustomError(contract as any, error);
    if (args) await assertion.withArgs(...args);
    else await assertion;
    await expectUnchanged(before, reads(loanId));
  }

  /** Opens the house loan (1M against 2M of DAL-1 collateral) and returns its id, receipts and draw time. */
  async function houseLoan(
    options: { overrides?: Parameters<typeof approve>[4]; receipts?: number; principal?: bigint } = {},
  ): Promise<{ loanId: bigint; receiptIds: bigint[]; t0: bigint }> {
    const f = fixture();
    const { loanId, receiptIds } = await openLoan(
      f,
      f.actors.borrower1,
      options.principal ?? P,
      COLLATERAL_USD,
      {
        overrides: options.overrides,
        receipts: options.receipts,
      },
    );
    const t0 = (await f.loanVault.stateOf(loanId)).scheduleStart;
    return { loanId, receiptIds, t0 };
  }

  /** Declares a house loan in default at its exact payment default date and returns that date. */
  async function defaultHouseLoan(loanId: bigint, t0: bigint): Promise<bigint> {
    const when = t0 + INTERVAL + GRACE + WINDOW + 1n;
    await at(when);
    await fixture().loanVault.declareDefault(loanId);
    return when;
  }

  return { reads, expectRevert, houseLoan, defaultHouseLoan };
}

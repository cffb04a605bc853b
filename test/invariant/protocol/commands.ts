import fc from "fast-check";
import { World } from "./world";
import { Op, type Params } from "./execution";
import { usdaiMint, usdaiRedeem, donate, deposit, mint, requestRedeem, claim } from "./handlers/lender";
import { harvest, service, sweep, close, checkCovenants, declareDefault, liquidate } from "./handlers/keeper";
import { borrow, repay, revenue, releaseExcess, topUp } from "./handlers/borrower";
import { approveLoan, stepIn, appraise } from "./handlers/admin";
import { buy, expire } from "./handlers/liquidator";
import {
  submitReport,
  reportDays,
  closeReportDay,
  poke,
  push,
  performUpkeep,
  MAX_REPORT_DAYS,
} from "./handlers/oracle";
import { attack } from "./handlers/attacker";
import { warp } from "./handlers/clock";

// ==================================================================================================== arbitraries

/*
 * The command arbitraries, their weights and the opening every sequence starts with. The order of `commands` is part
 * of a seed's meaning: fast-check draws by position, so reordering the list changes what a seed replays.
 */

export const nat = (max: number) => fc.nat({ max });

export const op = (
  name: string,
  body: (w: World, p: Params, t: bigint) => Promise<void>,
  p: fc.Arbitrary<Params>,
  weight: number,
) => ({
  weight,
  arbitrary: p.map((params) => new Op(name, params, body)),
});

export const rec = <T extends Params>(r: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(r) as unknown as fc.Arbitrary<Params>;

export const usdAmount = fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 1_500_000 }));

export const utilization = fc.constantFrom(0, 3_000, 5_999, 6_000, 8_999, 9_000, 9_500, 10_000);

export const uptime = fc.constantFrom(9_000, 9_499, 9_500, 9_999, 10_000);

export const commands = [
  op(
    "usdai.deposit",
    usdaiMint,
    rec({ lender: nat(3), usd: usdAmount, variant: fc.constantFrom("ok", "ok", "zero", "slippage", "cap") }),
    2,
  ),
  op(
    "usdai.redeem",
    usdaiRedeem,
    rec({
      lender: nat(3),
      bps: fc.integer({ min: 1, max: 10_000 }),
      variant: fc.constantFrom("ok", "ok", "zero", "dust", "over", "slippage"),
    }),
    2,
  ),
  op("usdai.harvest", harvest, fc.constant({}), 1),
  op("donate", donate, rec({ lender: nat(3), usd: usdAmount }), 1),
  op(
    "susdai.deposit",
    deposit,
    rec({
      lender: nat(3),
      usd: usdAmount,
      variant: fc.constantFrom("ok", "ok", "ok", "zero", "slippage", "over"),
      threeArg: fc.boolean(),
    }),
    4,
  ),
  op(
    "susdai.mint",
    mint,
    rec({ lender: nat(3), usd: usdAmount, variant: fc.constantFrom("ok", "ok", "zero", "slippage") }),
    2,
  ),
  op(
    "susdai.requestRedeem",
    requestRedeem,
    rec({
      owner: nat(3),
      controller: nat(3),
      bps: fc.integer({ min: 1, max: 10_000 }),
      variant: fc.constantFrom("ok", "ok", "ok", "zero", "tooSmall", "over"),
    }),
    4,
  ),
  op("susdai.serviceRedemptions", service, rec({ max: nat(6), keeper: fc.boolean() }), 3),
  op(
    "susdai.claim",
    claim,
    rec({
      aim: fc.boolean(),
      controller: nat(3),
      kind: fc.constantFrom("redeem", "withdraw"),
      mode: fc.constantFrom("max", "max", "part", "over", "zero"),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    4,
  ),
  op(
    "loanVault.approveLoan",
    approveLoan,
    rec({
      borrower: nat(2),
      principal: fc.constantFrom(0, 1, 1, 2, 2, 3, 4),
      site: nat(1),
      template: nat(2),
      variant: fc.constantFrom("ok", "ok", "ok", "ok", "notAllowlisted", "badTerms", "attacker"),
    }),
    4,
  ),
  op(
    "loanVault.borrow",
    borrow,
    rec({
      loan: nat(7),
      variant: fc.constantFrom("fit", "fit", "fit", "fit", "one", "wrongSite", "pledged", "none", "attacker"),
    }),
    5,
  ),
  op(
    "loanVault.repay",
    repay,
    rec({
      loan: nat(7),
      mode: fc.constantFrom("quote", "quote", "partial", "max", "over", "zero"),
      bps: fc.integer({ min: 1, max: 10_000 }),
      lender: fc.boolean(),
    }),
    5,
  ),
  op(
    "loanVault.depositRevenue",
    revenue,
    rec({
      loan: nat(7),
      usd: fc.integer({ min: 1, max: 300_000 }),
      sweep: fc.boolean(),
      zero: fc.constantFrom(false, false, false, false, false, false, false, true),
    }),
    3,
  ),
  op("loanVault.sweep", sweep, rec({ loan: nat(7) }), 1),
  op(
    "loanVault.releaseExcess",
    releaseExcess,
    rec({
      aim: fc.boolean(),
      loan: nat(7),
      mode: fc.constantFrom("all", "all", "half", "over", "zero"),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    2,
  ),
  op(
    "loanVault.topUp",
    topUp,
    rec({ loan: nat(7), variant: fc.constantFrom("ok", "ok", "wrongSite", "none", "pledged", "attacker") }),
    2,
  ),
  op(
    "loanVault.close",
    close,
    rec({
      aim: fc.boolean(),
      loan: nat(7),
    }),
    2,
  ),
  op(
    "loanVault.checkCovenants",
    checkCovenants,
    rec({ loan: nat(7), aim: fc.constantFrom(true, true, true, false) }),
    3,
  ),
  op(
    "loanVault.declareDefault",
    declareDefault,
    rec({ loan: nat(7), aim: fc.constantFrom(true, true, true, false) }),
    6,
  ),
  op(
    "loanVault.liquidate",
    liquidate,
    rec({ loan: nat(7), admin: fc.constantFrom(true, true, true, false) }),
    4,
  ),
  op(
    "loanVault.stepIn",
    stepIn,
    rec({ loan: nat(7), to: nat(3), attacker: fc.constantFrom(false, false, false, true) }),
    2,
  ),
  op(
    "auction.buy",
    buy,
    rec({
      auction: nat(5),
      max: fc.constantFrom("exact", "exact", "max", "low"),
      buyer: fc.constantFrom("liquidator", "liquidator", "liquidator", "attacker", "lender", "borrower"),
    }),
    4,
  ),
  op("auction.expire", expire, rec({ auction: nat(5) }), 3),
  op(
    "oracle.submitReport",
    submitReport,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
      signers: fc.integer({ min: 2, max: 3 }),
      first: nat(2),
      utils: fc.array(utilization, { minLength: 3, maxLength: 3 }),
      uptimes: fc.array(uptime, { minLength: 3, maxLength: 3 }),
      variant: fc.constantFrom(
        "valid",
        "valid",
        "valid",
        "valid",
        "open",
        "open",
        "yesterday",
        "old",
        "replay",
        "future",
        "badSigner",
        "corrupt",
        "unsorted",
        "short",
        "range",
        "expired",
      ),
    }),
    6,
  ),
  op(
    "oracle.reportDays",
    reportDays,
    rec({
      aim: fc.constantFrom(true, true, true, false),
      loan: nat(9),
      days: fc.integer({ min: 2, max: MAX_REPORT_DAYS }),
      regime: fc.constantFrom("high", "low", "mixed"),
      gap: fc.constantFrom(false, false, true),
      partial: fc.constantFrom(false, false, true),
      picks: fc.array(nat(7), { minLength: 3 * MAX_REPORT_DAYS, maxLength: 3 * MAX_REPORT_DAYS }),
      uptimes: fc.array(uptime, { minLength: 3 * MAX_REPORT_DAYS, maxLength: 3 * MAX_REPORT_DAYS }),
    }),
    3,
  ),
  op(
    "oracle.closeReportDay",
    closeReportDay,
    rec({ aim: fc.constantFrom(true, true, true, false), loan: nat(9), caller: nat(3) }),
    2,
  ),
  op(
    "oracle.poke",
    poke,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
      utils: fc.array(utilization, { minLength: 2, maxLength: 2 }),
      variant: fc.constantFrom(
        "fresh",
        "fresh",
        "fresh",
        "stale",
        "oneStale",
        "same",
        "above",
        "future",
        "attacker",
      ),
    }),
    3,
  ),
  op(
    "oracle.push",
    push,
    rec({
      aim: fc.constantFrom(true, true, true, false),
      loan: nat(9),
    }),
    4,
  ),
  op(
    "oracle.performUpkeep",
    performUpkeep,
    rec({
      aim: fc.boolean(),
      loan: nat(9),
      variant: fc.constantFrom("check", "check", "list"),
      twice: fc.boolean(),
    }),
    2,
  ),
  op(
    "receipts.appraise",
    appraise,
    rec({
      receipt: nat(30),
      factor: fc.constantFrom(0, 20, 50, 80, 100, 130),
      markdown: nat(3),
      attacker: fc.constantFrom(false, false, false, false, false, true),
    }),
    2,
  ),
  op(
    "warp",
    (w, p) => warp(w, p),
    rec({
      seconds: fc.constantFrom(
        60,
        3_600,
        43_200,
        86_400,
        86_400,
        2 * 86_400,
        3 * 86_400,
        4 * 86_400,
        8 * 86_400,
        92 * 86_400,
      ),
    }),
    5,
  ),
  op("attacker", attack, rec({ kind: nat(100) }), 2),
];

/**
 * Every sequence opens with two drawn loans (one per site) and one queued redemption, so the random commands find
 * something to act on; everything else (more loans, defaults, auctions) is left to them.
 */
export const OPENING = [
  new Op(
    "loanVault.approveLoan",
    { borrower: 0, principal: 1, site: 0, template: 0, variant: "ok" },
    approveLoan,
  ),
  new Op("loanVault.borrow", { loan: 0, variant: "fit" }, borrow),
  new Op(
    "loanVault.approveLoan",
    { borrower: 1, principal: 0, site: 1, template: 2, variant: "ok" },
    approveLoan,
  ),
  new Op("loanVault.borrow", { loan: 1, variant: "fit" }, borrow),
  new Op("susdai.requestRedeem", { owner: 3, controller: 3, bps: 500, variant: "ok" }, requestRedeem),
];

/** `fc.commands` picks uniformly among its arbitraries: a command of weight k is listed k times. */
export const weighted = commands.flatMap((c) => Array.from({ length: c.weight }, () => c.arbitrary));

export const COMMAND_NAMES = [
  "usdai.deposit",
  "usdai.redeem",
  "usdai.harvest",
  "donate",
  "susdai.deposit",
  "susdai.mint",
  "susdai.requestRedeem",
  "susdai.serviceRedemptions",
  "susdai.redeem",
  "susdai.withdraw",
  "loanVault.approveLoan",
  "loanVault.borrow",
  "loanVault.repay",
  "loanVault.depositRevenue",
  "loanVault.sweep",
  "loanVault.releaseExcess",
  "loanVault.topUp",
  "loanVault.close",
  "loanVault.checkCovenants",
  "loanVault.declareDefault",
  "loanVault.liquidate",
  "loanVault.stepIn",
  "auction.buy",
  "auction.expire",
  "oracle.submitReport",
  "oracle.reportDays",
  "oracle.closeReportDay",
  "oracle.poke",
  "oracle.push",
  "oracle.performUpkeep",
  "receipts.appraise",
  "warp",
];

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Interface, MaxUint256 } from "ethers";

import { DeployIds } from "../helpers/deploy-ids";
import { formatBps, formatTable, formatUsd } from "../helpers/format";
import { BreachFlags, loanTerms, LoanStatus, siteName } from "../helpers/loans";
import { Roles } from "../helpers/roles";
import type { GpuReceipt, ILoanVault, LoanVault } from "../typechain-types";
import { auctionAt, gpuReceiptAt, loanVaultAt, stakedUsdaiAt, usdaiAt } from "./lib/contracts";
import { roleTask, viewTask } from "./lib/define";
import {
  chainNow,
  describeRevert,
  eventOf,
  formatTimestamp,
  labelOf,
  namedAccounts,
  out,
  printFields,
  readJsonFile,
  revertOf,
  requireRole,
  send,
  simulateAndSend,
  type SendableMethod,
  shortLabelOf,
  signerOf,
  TaskError,
} from "./lib/runtime";
import { addStatusSection, fields, type SectionOutput, type StatusContext } from "./status";
import {
  ensure,
  LOAN_TERM_FIELDS,
  MAX_GAP_DAYS,
  MAX_MIN_DSCR_BPS,
  parseAccount,
  parseAmount,
  parseId,
  parseIdList,
  parseLoanTerms,
  TaskArgumentError,
  type LoanTermsInput,
} from "./lib/validate";

/**
 * Underwriter and borrower tasks on the LoanVault: approve a loan (terms from a JSON file and/or flags over the house
 * terms), borrow against receipts, repay, deposit revenue into the lockbox, sweep, release excess, top up, close and
 * show a loan; and the loan-book section of `status`. Every task checks the loan, its status, the signer, amounts,
 * balances and receipts before it sends anything. Keeper and recovery tasks are in tasks/keeper.ts.
 */

const USDAI_DECIMALS = 18;
/** Oracle covenant flag `COVENANT_SLA_BREACH` (contracts/credit/logic/LoanConstants.sol). */
const SLA_BREACH = 1n;
/** Oracle covenant flags `COVENANT_DATA_GAP`, `COVENANT_DSCR_BREACH`, `COVENANT_REVENUE_SHORTFALL`
 * (contracts/interfaces/IUtilizationOracle.sol). */
const DATA_GAP = 2n;
const DSCR_BREACH = 4n;
const REVENUE_SHORTFALL = 8n;
/** `IGpuReceipt.Status.Active`. */
const RECEIPT_ACTIVE = 1n;

type Terms = ILoanVault.LoanTermsStructOutput;
type State = ILoanVault.LoanStateStructOutput;

// ---------------------------------------------------------------- shared checks (also used by tasks/keeper.ts)

/** The name of a `LoanStatus` value (`Active`). */
export function statusName(status: bigint | number): string {
  const entry = Object.entries(LoanStatus).find(([, value]) => value === BigInt(status));
  return entry ? entry[0] : `status ${status}`;
}

/** The terms and state of `loanId`, or a clear error when no such loan was ever approved. */
export async function requireLoan(vault: LoanVault, loanId: bigint): Promise<{ terms: Terms; state: State }> {
  const count = await vault.loanCount();
  ensure(
    loanId >= 1n && loanId <= count,
    count === 0n
      ? `--loan ${loanId}: no loan has been approved yet`
      : `--loan ${loanId}: no such loan (loans are 1 to ${count})`,
  );
  const [terms, state] = await Promise.all([vault.termsOf(loanId), vault.stateOf(loanId)]);
  return { terms, state };
}

/** Refuses unless the loan's status is one of `allowed`, naming the task that needs it. */
export function requireLoanStatus(loanId: bigint, state: State, allowed: bigint[], task: string): void {
  ensure(
    allowed.includes(state.status),
    `loan ${loanId} is ${statusName(state.status)}; ${task} needs it ${allowed.map(statusName).join(" or ")}`,
  );
}

/**
 * The common start of a task on one loan: the `--loan` id, the `--as` signer, the vault it signs on, and the loan,
 * refused unless its status is one of `allowed` (naming `task`).
 */
export async function signedLoan(
  hre: HardhatRuntimeEnvironment,
  args: { loan: string; as: string },
  allowed: bigint[],
  task: string,
): Promise<{ loanId: bigint; signer: HardhatEthersSigner; vault: LoanVault; terms: Terms; state: State }> {
  const loanId = parseId(args.loan, "loan");
  const signer = await signerOf(hre, args.as);
  const vault = await loanVaultAt(hre, signer);
  const { terms, state } = await requireLoan(vault, loanId);
  requireLoanStatus(loanId, state, allowed, task);
  return { loanId, signer, vault, terms, state };
}

async function requireBorrower(
  hre: HardhatRuntimeEnvironment,
  loanId: bigint,
  terms: Terms,
  signer: HardhatEthersSigner,
  as: string,
): Promise<void> {
  ensure(
    signer.address === terms.borrower,
    `--as ${as} (${signer.address}) is not the borrower of loan ${loanId}; its borrower is ${await labelOf(hre, terms.borrower)}`,
  );
}

async function requireNotPaused(vault: LoanVault, what: string): Promise<void> {
  ensure(
    !(await vault.paused()),
    `LoanVault is paused by the guardian: ${what} is stopped until it unpauses`,
  );
}

/** What a credit refusal is told with, and what the call needs sent first. */
interface CreditContext {
  /** The principal asked for. */
  principal: bigint;
  /** The receipts pledged (named in an LTV refusal). */
  receipts?: bigint[];
  /** Sends what the call needs beyond the vault's verdict (the receipts' approval): run only if it did not refuse. */
  prepare?: () => Promise<void>;
}

/**
 * Simulates `approveLoan` or `borrow` on the pending block and sends it. The vault alone decides the borrower and
 * site caps, the LTV and (through sUSDai) the liquidity to lend; a refusal is told in dollars from its custom error's
 * own arguments and nothing is sent, not even `context.prepare`.
 */
async function simulateCreditAndSend<A extends unknown[]>(
  hre: HardhatRuntimeEnvironment,
  vault: LoanVault,
  label: string,
  method: SendableMethod<A>,
  args: A,
  context: CreditContext,
): Promise<Awaited<ReturnType<typeof send>>> {
  const susdai = await stakedUsdaiAt(hre);
  // sUSDai's errors too: `borrow` funds the loan from sUSDai, which refuses what its idle assets cannot cover.
  const iface = new Interface([
    ...vault.interface.fragments,
    ...susdai.interface.fragments.filter((fragment) => fragment.type === "error"),
  ]);
  /** The revert of a simulation (`undefined` if it passes); a cap, LTV or liquidity refusal throws its explanation. */
  const simulate = async (): Promise<unknown> => {
    try {
      await method.staticCall(...([...args, { blockTag: "pending" }] as unknown as A));
      return undefined;
    } catch (err) {
      const revert = revertOf(err, iface);
      const explained = revert && (await explainCreditRevert(hre, vault, revert, context));
      if (explained) throw new TaskArgumentError(explained);
      return err;
    }
  };
  let err = await simulate();
  if (err !== undefined && context.prepare) {
    await context.prepare();
    err = await simulate();
  }
  if (err !== undefined) {
    throw new TaskError(
      `${label} would revert: ${describeRevert(err, iface) ?? (err as Error).message}. No transaction was sent.`,
    );
  }
  return send(label, () => method(...args), iface);
}

/** A cap, LTV or liquidity refusal in words, from the error's own arguments; `undefined` for any other error. */
async function explainCreditRevert(
  hre: HardhatRuntimeEnvironment,
  vault: LoanVault,
  revert: { name: string; args: unknown[] },
  { principal, receipts = [] }: CreditContext,
): Promise<string | undefined> {
  switch (revert.name) {
    case "LoanVaultBorrowerCap":
    case "LoanVaultSiteCap": {
      const [account, exposure, cap] = revert.args as [string, bigint, bigint];
      const borrowerCap = revert.name === "LoanVaultBorrowerCap";
      const [base, risk] = await Promise.all([(await stakedUsdaiAt(hre)).capBase(), vault.riskParams()]);
      const who = borrowerCap ? `borrower ${await shortLabelOf(hre, account)}` : `site ${siteName(account)}`;
      return (
        `principal ${formatUsd(principal)} would take the outstanding principal of ${who} to ${formatUsd(exposure)}, ` +
        `above its cap ${formatUsd(cap)} (${formatBps(borrowerCap ? risk.borrowerCapBps : risk.siteCapBps)} of ` +
        `sUSDai's cap base ${formatUsd(base)}: NAV less recent deposits and the redemption queue)`
      );
    }
    case "LoanVaultLtvExceeded": {
      const [, value, ltvBps] = revert.args as [bigint, bigint, bigint];
      return (
        `receipts ${receipts.map((id) => `#${id}`).join(", ")} are worth ${formatUsd(value)}; at the max LTV of ` +
        `${formatBps(ltvBps)} they do not support the principal ${formatUsd(principal)}`
      );
    }
    case "StakedUSDaiInsufficientIdle":
      return (
        `sUSDai has ${formatUsd(revert.args[1] as bigint)} of idle USDai free to lend (after queued redemptions), ` +
        `less than the principal ${formatUsd(principal)}`
      );
    default:
      return undefined;
  }
}

/**
 * Checks receipts about to be pledged: each live, held by `owner`, at the loan's site and worth something. Returns
 * their total collateral value (the vault alone judges whether it supports a loan).
 */
async function requirePledgeable(
  hre: HardhatRuntimeEnvironment,
  receipts: GpuReceipt,
  ids: bigint[],
  owner: string,
  as: string,
  site: string,
): Promise<bigint> {
  let value = 0n;
  for (const id of ids) {
    const status = await receipts.statusOf(id);
    ensure(status !== 0n, `--receipts: receipt #${id} does not exist (or was redeemed)`);
    ensure(
      status === RECEIPT_ACTIVE,
      `--receipts: receipt #${id} has a redemption requested; it cannot be pledged`,
    );
    const holder = await receipts.ownerOf(id);
    ensure(
      holder === owner,
      `--receipts: receipt #${id} is held by ${await labelOf(hre, holder)}, not by --as ${as}`,
    );
    const receiptSite = await receipts.siteOf(id);
    ensure(
      receiptSite === site,
      `--receipts: receipt #${id} is at site ${siteName(receiptSite)}, not at the loan's site ${siteName(site)}`,
    );
    const receiptValue = await receipts.collateralValue(id);
    ensure(receiptValue > 0n, `--receipts: receipt #${id} has no collateral value (appraise it first)`);
    value += receiptValue;
  }
  return value;
}

/** Approves each receipt to the LoanVault unless it (or all of the owner's receipts) already is. */
async function approveReceipts(receipts: GpuReceipt, vault: string, owner: string, ids: bigint[]) {
  if (await receipts.isApprovedForAll(owner, vault)) return;
  for (const id of ids) {
    if ((await receipts.getApproved(id)) === vault) continue;
    await send(
      `approve receipt #${id} to the LoanVault`,
      () => receipts.approve(vault, id),
      receipts.interface,
    );
  }
}

/** Approves USDai to `spender` (unlimited, as the lender tasks do) when the allowance is below `amount`. */
export async function approveUsdai(
  hre: HardhatRuntimeEnvironment,
  signer: HardhatEthersSigner,
  spender: string,
  amount: bigint,
  spenderName: string,
): Promise<void> {
  const usdai = await usdaiAt(hre, signer);
  if ((await usdai.allowance(signer.address, spender)) < amount) {
    await send(
      `approve USDai to the ${spenderName}`,
      () => usdai.approve(spender, MaxUint256),
      usdai.interface,
    );
  }
}

/** Refuses unless the signer holds `amount` of USDai. */
export async function requireUsdai(
  hre: HardhatRuntimeEnvironment,
  signer: HardhatEthersSigner,
  as: string,
  amount: bigint,
  what: string,
): Promise<void> {
  const balance = await (await usdaiAt(hre)).balanceOf(signer.address);
  // Cents can hide the gap (a debt grows by the second): then say by how much.
  const short =
    formatUsd(balance) === formatUsd(amount) ? ` (short by ${formatUsd(amount - balance, 18)})` : "";
  ensure(balance >= amount, `--as ${as} holds ${formatUsd(balance)} USDai, less than ${what}${short}`);
}

// ---------------------------------------------------------------- printing

const days = (seconds: bigint | number) => `${Number(seconds) / 86_400} days`;

/** Why a loan is or is not in good standing. */
function standingOf(good: boolean, state: State, overdue: boolean): string {
  if (state.status !== LoanStatus.Active && state.status !== LoanStatus.Repaid) return "-";
  if (good) return "good";
  const reasons: string[] = [];
  if ((state.breachFlags & BreachFlags.Ltv) !== 0n) reasons.push("LTV breach");
  if ((state.breachFlags & BreachFlags.TopUp) !== 0n) reasons.push("top-up required");
  if ((state.oracleFlags & SLA_BREACH) !== 0n) reasons.push("SLA breach");
  if ((state.oracleFlags & DATA_GAP) !== 0n) reasons.push("utilization data missing");
  if ((state.oracleFlags & DSCR_BREACH) !== 0n) reasons.push("debt-service coverage below its floor");
  if ((state.oracleFlags & REVENUE_SHORTFALL) !== 0n)
    reasons.push("lockbox deposits short of reported revenue");
  if (overdue) reasons.push("payment overdue");
  return reasons.length > 0 ? reasons.join(", ") : "not in good standing";
}

/** Everything `loan:show` and the loan book read about one loan, through the vault's views. */
export async function readLoan(vault: LoanVault, loanId: bigint, now: number) {
  const [terms, state, debt, ltv, [dueDate, amountDue], defaultableAt, collateral, good, receiptIds] =
    await Promise.all([
      vault.termsOf(loanId),
      vault.stateOf(loanId),
      vault.debtOf(loanId),
      vault.ltvOf(loanId),
      vault.nextPayment(loanId),
      vault.defaultableAt(loanId),
      vault.collateralValueOf(loanId),
      vault.inGoodStanding(loanId),
      vault.receiptsOf(loanId),
    ]);
  const overdue = dueDate !== 0n && BigInt(now) > dueDate + terms.gracePeriodSeconds;
  return {
    loanId,
    terms,
    state,
    debt,
    ltv,
    dueDate,
    amountDue,
    defaultableAt,
    collateral,
    good,
    receiptIds,
    standing: standingOf(good, state, overdue),
  };
}

type LoanView = Awaited<ReturnType<typeof readLoan>>;

const ltvText = (view: LoanView) =>
  view.ltv === MaxUint256 ? "no collateral" : view.receiptIds.length === 0 ? "-" : formatBps(view.ltv);

async function printTerms(hre: HardhatRuntimeEnvironment, loanId: bigint, terms: Terms): Promise<void> {
  const fixed = terms.referenceRateFeed === hre.ethers.ZeroAddress;
  printFields(`Loan #${loanId}: terms`, [
    ["borrower", await labelOf(hre, terms.borrower)],
    ["site", siteName(terms.site)],
    ["principal", formatUsd(terms.principal)],
    ["payments", `${terms.numPayments} x ${days(terms.paymentIntervalSeconds)}`],
    ["amortization per payment", formatBps(terms.amortizationBps)],
    [
      "reference rate",
      fixed ? `${formatBps(terms.referenceRateBps)} fixed` : `feed ${terms.referenceRateFeed}`,
    ],
    [
      "premium",
      `${formatBps(terms.basePremiumBps)} (floor ${formatBps(terms.premiumFloorBps)}, cap ${formatBps(terms.premiumCapBps)})`,
    ],
    ["max LTV", formatBps(terms.maxLtvBps)],
    ["maintenance LTV", formatBps(terms.maintenanceLtvBps)],
    ["late penalty", formatBps(terms.latePenaltyBps)],
    ["grace period", days(terms.gracePeriodSeconds)],
    ["default window", days(terms.defaultWindowSeconds)],
    ["cure period", days(terms.curePeriodSeconds)],
    ["uptime SLA", formatBps(terms.slaUptimeBps)],
    ["debt-service reserve", formatBps(terms.debtServiceReserveBps)],
    [
      "DSCR floor",
      terms.minDscrBps === 0n ? "none" : `${(Number(terms.minDscrBps) / 10_000).toFixed(2)}x debt service`,
    ],
    [
      "lockbox check",
      terms.lockboxCheck ? `on (shortfall tolerance ${formatBps(terms.shortfallToleranceBps)})` : "off",
    ],
    ["data-gap limit", terms.maxGapDays === 0n ? "none" : `${terms.maxGapDays} days`],
    ["approval expiry", formatTimestamp(terms.approvalExpiry)],
  ]);
}

async function printState(hre: HardhatRuntimeEnvironment, view: LoanView): Promise<void> {
  const { loanId, terms, state } = view;
  const rows: [string, string][] = [
    ["status", statusName(state.status)],
    ["borrower", await labelOf(hre, terms.borrower)],
    ["principal outstanding", formatUsd(state.principal)],
    [
      "coupon",
      `${formatBps(state.couponBps)} (reference ${formatBps(state.referenceRateBps)} + premium ${formatBps(state.premiumBps)})`,
    ],
    ["interest and fees owed", formatUsd(view.debt - state.principal)],
    ["debt", formatUsd(view.debt)],
    ["lockbox", formatUsd(state.lockbox)],
    ["debt-service reserve", formatUsd(state.reserve)],
    ["collateral value", formatUsd(view.collateral)],
    [
      "LTV",
      `${ltvText(view)} (max ${formatBps(terms.maxLtvBps)}, maintenance ${formatBps(terms.maintenanceLtvBps)})`,
    ],
    ["standing", view.standing],
    [
      "next payment",
      view.dueDate === 0n
        ? "none scheduled"
        : `#${state.nextPaymentIndex} of ${state.schedulePayments}, due ${formatTimestamp(view.dueDate)}`,
    ],
    ["next payment amount", view.dueDate === 0n ? "-" : formatUsd(view.amountDue)],
    ["defaultable from", view.defaultableAt === 0n ? "-" : formatTimestamp(view.defaultableAt)],
    ["cure deadline", state.cureDeadline === 0n ? "-" : formatTimestamp(state.cureDeadline)],
    ["receipts", view.receiptIds.length === 0 ? "-" : view.receiptIds.map((id) => `#${id}`).join(", ")],
  ];
  // While Active, `impairedValue` is the past-grace writedown (#24.2); once in default, the expected recovery.
  if (state.impairedValue > 0n && state.status === LoanStatus.Active) {
    rows.push(["written down (past grace)", formatUsd(state.impairedValue)]);
    rows.push(["carried in NAV at", formatUsd(state.principal - state.impairedValue)]);
  } else if (state.impairedValue > 0n) rows.push(["impaired to", formatUsd(state.impairedValue)]);
  printFields(`Loan #${loanId}: state`, rows);
}

/** Prints the loan's state (and, with `withTerms`, its terms first). */
export async function printLoan(
  hre: HardhatRuntimeEnvironment,
  vault: LoanVault,
  loanId: bigint,
  withTerms = false,
): Promise<void> {
  const view = await readLoan(vault, loanId, await chainNow(hre));
  if (withTerms) await printTerms(hre, loanId, view.terms);
  await printState(hre, view);
}

// ---------------------------------------------------------------- loan:approve

/** `loan:approve` flags and the term each sets. */
const TERM_FLAGS: Record<string, keyof LoanTermsInput> = {
  borrower: "borrower",
  principal: "principal",
  site: "site",
  payments: "numPayments",
  interval: "paymentIntervalSeconds",
  amortization: "amortizationBps",
  premium: "basePremiumBps",
  referenceRate: "referenceRateBps",
  maxLtv: "maxLtvBps",
  maintenanceLtv: "maintenanceLtvBps",
  minDscrBps: "minDscrBps",
  shortfallToleranceBps: "shortfallToleranceBps",
  maxGapDays: "maxGapDays",
  validity: "approvalValidity",
};

const kebab = (name: string) => name.replace(/([A-Z])/g, "-$1").toLowerCase();

/** Reads a terms file: a JSON object of `LOAN_TERM_FIELDS` (plus an optional `$comment`). */
function readTermsFile(file: string, named: Record<string, string>): LoanTermsInput {
  const json = readJsonFile(file);
  ensure(
    typeof json === "object" && json !== null && !Array.isArray(json),
    `--file ${file}: must be a JSON object`,
  );
  const { $comment: _comment, ...values } = json as Record<string, unknown>;
  const unknown = Object.keys(values).filter((key) => !(key in LOAN_TERM_FIELDS));
  ensure(
    unknown.length === 0,
    `--file ${file}: unknown field(s) ${unknown.join(", ")}; allowed: ${Object.keys(LOAN_TERM_FIELDS).join(", ")}`,
  );
  return parseLoanTerms(values, named, (field) => `file: ${field}`);
}

type ApproveArgs = { file?: string; as: string; lockboxCheck?: boolean } & Partial<
  Record<keyof typeof TERM_FLAGS, string>
>;

const approveTask = roleTask(
  "loan:approve",
  "Approve a loan: the house terms (helpers/loans.ts), overridden by a JSON file, overridden by flags",
  "underwriter",
).addOptionalParam(
  "file",
  "JSON loan terms: ILoanVault.LoanTerms field names in whole units (see examples/loan-terms.json)",
);
const TERM_FLAG_HELP: Record<string, string> = {
  borrower: "the borrower: named account or address",
  principal: "principal in whole USDai (e.g. 100000)",
  site: "the data centre of every pledged receipt (e.g. DAL-1)",
  payments: "number of payments (default 36)",
  interval: "time between payments (default 30d)",
  amortization: "principal due per payment, basis points (default 200)",
  premium: "base premium over the reference rate, basis points (default 600)",
  referenceRate: "fixed reference rate, basis points (default 430)",
  maxLtv: "origination LTV, basis points (default 6000)",
  maintenanceLtv: "maintenance LTV, basis points (default 7500)",
  minDscrBps: `debt-service coverage floor the oracle checks, basis points (12500 = 1.25x, at most ${MAX_MIN_DSCR_BPS}; default 0: off)`,
  shortfallToleranceBps:
    "with --lockbox-check: how far lockbox deposits may fall short of reported revenue, basis points (default 0)",
  maxGapDays: `missing oracle days before a data-gap covenant event (at most ${MAX_GAP_DAYS}; default 0: off)`,
  validity: "how long the borrower may draw the loan (default 7d)",
};
for (const flag of Object.keys(TERM_FLAGS)) approveTask.addOptionalParam(flag, TERM_FLAG_HELP[flag]);
approveTask.addFlag(
  "lockboxCheck",
  "the oracle compares lockbox deposits with each reported period's revenue (a covenant; default off)",
);

approveTask.setAction(async (args: ApproveArgs, hre) => {
  const named = await namedAccounts(hre);
  const fromFile = args.file === undefined ? {} : readTermsFile(args.file, named);
  const flagValues = Object.fromEntries(
    Object.entries(TERM_FLAGS).map(([flag, field]) => [field, args[flag as keyof typeof TERM_FLAGS]]),
  );
  // `--lockbox-check` only turns the covenant on (absent, the file or the default decides).
  if (args.lockboxCheck === true) flagValues.lockboxCheck = "true";
  const flagOf = (field: string) =>
    kebab(Object.keys(TERM_FLAGS).find((f) => TERM_FLAGS[f] === field) ?? field);
  const fromFlags = parseLoanTerms(flagValues, named, flagOf);
  const input: LoanTermsInput = { ...fromFile, ...fromFlags };
  const { borrower, principal, site, approvalValidity, ...overrides } = input;
  ensure(borrower !== undefined, 'give --borrower (or "borrower" in --file)');
  ensure(principal !== undefined, 'give --principal (or "principal" in --file)');
  ensure(site !== undefined, 'give --site (or "site" in --file)');

  const signer = await signerOf(hre, args.as);
  const vault = await loanVaultAt(hre, signer);
  await requireRole(vault, "LoanVault", "UNDERWRITER", signer.address, args.as);
  await requireNotPaused(vault, "approving loans");
  if (!(await vault.hasRole(Roles.BORROWER, borrower))) {
    throw new TaskArgumentError(
      `borrower ${await labelOf(hre, borrower)} is not an allowlisted BORROWER on LoanVault`,
    );
  }
  if (overrides.referenceRateFeed !== undefined) {
    const code = await hre.ethers.provider.getCode(overrides.referenceRateFeed);
    ensure(code !== "0x", `referenceRateFeed ${overrides.referenceRateFeed} has no contract code`);
  }
  const now = await chainNow(hre);
  const terms = loanTerms(borrower, principal, site, now, {
    ...overrides,
    ...(approvalValidity === undefined ? {} : { approvalExpiry: now + approvalValidity }),
  });
  // The vault's own rules on terms (floor <= base <= cap, maintenance >= max LTV, ...) and its caps are checked by
  // simulating the call: a refusal names the field (LoanVaultInvalidTerms) or the cap, and nothing is sent.
  const { receipt } = await simulateCreditAndSend(
    hre,
    vault,
    "LoanVault.approveLoan",
    vault.approveLoan,
    [terms],
    {
      principal,
    },
  );
  const loanId = eventOf(receipt, vault.interface, "LoanApproved").args.loanId as bigint;
  out(`\nApproved loan #${loanId} for ${await labelOf(hre, borrower)}: ${formatUsd(principal)} at ${site}`);
  await printTerms(hre, loanId, await vault.termsOf(loanId));
});

// ---------------------------------------------------------------- borrower

roleTask(
  "loan:borrow",
  "Draw an approved loan against receipts (approves them to the vault if needed)",
  "borrower1",
)
  .addParam("loan", "loan id")
  .addParam("receipts", "comma-separated receipt ids to pledge, e.g. 1,2")
  .setAction(async (args: { loan: string; receipts: string; as: string }, hre) => {
    const ids = parseIdList(args.receipts, "receipts");
    const { loanId, signer, vault, terms, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Approved],
      "loan:borrow",
    );
    const receipts = await gpuReceiptAt(hre, signer);
    await requireBorrower(hre, loanId, terms, signer, args.as);
    ensure(
      await vault.hasRole(Roles.BORROWER, signer.address),
      `--as ${args.as} is no longer an allowlisted BORROWER on LoanVault`,
    );
    await requireNotPaused(vault, "borrowing");
    const now = await chainNow(hre);
    ensure(
      BigInt(now) < terms.approvalExpiry,
      `the approval of loan ${loanId} expired at ${formatTimestamp(terms.approvalExpiry)}`,
    );
    await requirePledgeable(hre, receipts, ids, signer.address, args.as, terms.site);

    // Simulated before the receipts are approved, so that a refusal (caps, LTV, liquidity) sends nothing at all.
    await simulateCreditAndSend(hre, vault, `LoanVault.borrow #${loanId}`, vault.borrow, [loanId, ids], {
      principal: terms.principal,
      receipts: ids,
      prepare: () => approveReceipts(receipts, vault.target as string, signer.address, ids),
    });
    out(`\nDrew ${formatUsd(terms.principal)} to ${await labelOf(hre, signer.address)}`);
    await printLoan(hre, vault, loanId);
  });

roleTask(
  "loan:repay",
  "Repay a loan in USDai: an amount, the next payment (--due) or everything (--all)",
  "borrower1",
)
  .addParam("loan", "loan id")
  .addOptionalParam("amount", "USDai to pay, in whole tokens")
  .addFlag("due", "pay the next scheduled payment")
  .addFlag("all", "repay the whole debt")
  .setAction(async (args: { loan: string; amount?: string; due: boolean; all: boolean; as: string }, hre) => {
    if ([args.amount !== undefined, args.due, args.all].filter(Boolean).length !== 1) {
      throw new TaskArgumentError("give exactly one of --amount <USDai>, --due or --all");
    }
    const amount = args.amount === undefined ? undefined : parseAmount(args.amount, USDAI_DECIMALS, "amount");
    const { loanId, signer, vault, state } = await signedLoan(hre, args, [LoanStatus.Active], "loan:repay");
    const debt = await vault.debtOf(loanId);

    // `pay` is what the call passes: MaxUint256 tells the vault to take the debt as it stands when mined.
    let pay: bigint;
    let need: bigint;
    if (args.all) {
      [pay, need] = [MaxUint256, debt];
    } else if (args.due) {
      const [dueDate, amountDue] = await vault.nextPayment(loanId);
      ensure(dueDate !== 0n, `loan ${loanId} has no payment scheduled; use --amount or --all`);
      [pay, need] = amountDue >= debt ? [MaxUint256, debt] : [amountDue, amountDue];
    } else {
      ensure(
        amount! <= debt,
        `--amount ${args.amount} is more than the debt of loan ${loanId}, ${formatUsd(debt)}; use --all to repay in full`,
      );
      [pay, need] = [amount!, amount!];
    }
    await requireUsdai(hre, signer, args.as, need, `the ${formatUsd(need)} to pay`);

    await approveUsdai(hre, signer, await vault.getAddress(), need, "LoanVault");
    const { receipt } = await simulateAndSend(
      `LoanVault.repay #${loanId}`,
      vault.repay,
      [loanId, pay],
      vault.interface,
    );
    const paid = eventOf(receipt, vault.interface, "Repaid").args;
    printFields(`Repaid loan #${loanId}`, [
      ["late fees", formatUsd(paid.lateFees)],
      ["interest", formatUsd(paid.interest)],
      ["scheduled principal", formatUsd(paid.scheduledPrincipal)],
      ["prepayment", formatUsd(paid.prepayment)],
      ["total", formatUsd(paid.lateFees + paid.interest + paid.scheduledPrincipal + paid.prepayment)],
    ]);
    await printLoan(hre, vault, loanId);
  });

roleTask("loan:deposit-revenue", "Deposit USDai revenue into a loan's lockbox (anyone)", "borrower1")
  .addParam("loan", "loan id")
  .addParam("amount", "USDai to deposit, in whole tokens")
  .setAction(async (args: { loan: string; amount: string; as: string }, hre) => {
    const amount = parseAmount(args.amount, USDAI_DECIMALS, "amount");
    const { loanId, signer, vault, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Active, LoanStatus.Repaid, LoanStatus.Defaulted],
      "loan:deposit-revenue",
    );
    await requireUsdai(hre, signer, args.as, amount, `--amount ${args.amount}`);
    await approveUsdai(hre, signer, await vault.getAddress(), amount, "LoanVault");
    await simulateAndSend(
      `LoanVault.depositRevenue #${loanId}`,
      vault.depositRevenue,
      [loanId, amount],
      vault.interface,
    );
    printFields(`Revenue deposited into loan #${loanId}`, [
      ["deposited", formatUsd(amount)],
      ["lockbox", formatUsd((await vault.stateOf(loanId)).lockbox)],
    ]);
  });

roleTask(
  "loan:sweep",
  "Run the waterfall on a loan's lockbox: fees, interest, principal, reserve, excess (anyone)",
  "keeper",
)
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const { loanId, signer, vault, state } = await signedLoan(hre, args, [LoanStatus.Active], "loan:sweep");
    ensure(
      state.lockbox + state.reserve > 0n,
      `loan ${loanId} has nothing to sweep: its lockbox and reserve are empty (loan:deposit-revenue first)`,
    );
    const { receipt } = await simulateAndSend(
      `LoanVault.sweep #${loanId}`,
      vault.sweep,
      [loanId],
      vault.interface,
    );
    const swept = eventOf(receipt, vault.interface, "Swept").args;
    printFields(`Swept loan #${loanId}`, [
      ["applied to the debt", formatUsd(swept.applied)],
      ["debt-service reserve", formatUsd(swept.reserve)],
      ["excess in the lockbox", formatUsd(swept.excess)],
      ["cash sweep (breach)", swept.cashSweep ? "yes: the excess prepaid principal" : "no"],
    ]);
    await printLoan(hre, vault, loanId);
  });

roleTask(
  "loan:release-excess",
  "Release excess lockbox cash to the borrower (in good standing only)",
  "borrower1",
)
  .addParam("loan", "loan id")
  .addParam("amount", "USDai to release, in whole tokens")
  .addOptionalParam("to", "receiver: named account or address (default: the signer)")
  .setAction(async (args: { loan: string; amount: string; to?: string; as: string }, hre) => {
    const loanId = parseId(args.loan, "loan");
    const amount = parseAmount(args.amount, USDAI_DECIMALS, "amount");
    const signer = await signerOf(hre, args.as);
    const to = args.to === undefined ? signer.address : parseAccount(args.to, await namedAccounts(hre), "to");
    const vault = await loanVaultAt(hre, signer);
    const { terms, state } = await requireLoan(vault, loanId);
    requireLoanStatus(loanId, state, [LoanStatus.Active, LoanStatus.Repaid], "loan:release-excess");
    await requireBorrower(hre, loanId, terms, signer, args.as);
    await requireNotPaused(vault, "releasing excess");
    // The vault sweeps first and then judges standing and the excess; simulating the call gives its exact verdict.
    try {
      await vault.releaseExcess.staticCall(loanId, to, amount, { blockTag: "pending" });
    } catch (err) {
      const revert = revertOf(err, vault.interface);
      if (revert?.name === "LoanVaultNotInGoodStanding") {
        const view = await readLoan(vault, loanId, await chainNow(hre));
        throw new TaskArgumentError(
          `loan ${loanId} is not in good standing (${view.standing}): its excess stays in the lockbox`,
        );
      }
      if (revert?.name === "LoanVaultExcessUnavailable") {
        throw new TaskArgumentError(
          `--amount ${args.amount} is more than the ${formatUsd(revert.args[2] as bigint)} releasable after a sweep`,
        );
      }
      throw new TaskError(
        `LoanVault.releaseExcess would revert: ${describeRevert(err, vault.interface) ?? (err as Error).message}. No transaction was sent.`,
      );
    }
    // Checked just above: send it.
    await send(
      `LoanVault.releaseExcess #${loanId}`,
      () => vault.releaseExcess(loanId, to, amount),
      vault.interface,
    );
    printFields(`Released excess of loan #${loanId}`, [
      ["released", formatUsd(amount)],
      ["to", await labelOf(hre, to)],
      ["lockbox left", formatUsd((await vault.stateOf(loanId)).lockbox)],
    ]);
  });

roleTask(
  "loan:top-up",
  "Pledge more receipts to an active loan (cures an LTV breach or a required top-up)",
  "borrower1",
)
  .addParam("loan", "loan id")
  .addParam("receipts", "comma-separated receipt ids to add, e.g. 3,4")
  .setAction(async (args: { loan: string; receipts: string; as: string }, hre) => {
    const ids = parseIdList(args.receipts, "receipts");
    const { loanId, signer, vault, terms, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Active],
      "loan:top-up",
    );
    const receipts = await gpuReceiptAt(hre, signer);
    await requireBorrower(hre, loanId, terms, signer, args.as);
    const added = await requirePledgeable(hre, receipts, ids, signer.address, args.as, terms.site);
    await approveReceipts(receipts, await vault.getAddress(), signer.address, ids);
    await simulateAndSend(`LoanVault.topUp #${loanId}`, vault.topUp, [loanId, ids], vault.interface);
    out(`\nAdded ${formatUsd(added)} of collateral to loan #${loanId}`);
    await printLoan(hre, vault, loanId);
  });

roleTask(
  "loan:close",
  "Close a repaid loan: its receipts and lockbox go back to the borrower (anyone)",
  "borrower1",
)
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const { loanId, signer, vault, state } = await signedLoan(hre, args, [LoanStatus.Repaid], "loan:close");
    const receiptIds = await vault.receiptsOf(loanId);
    const { receipt } = await simulateAndSend(
      `LoanVault.close #${loanId}`,
      vault.close,
      [loanId],
      vault.interface,
    );
    const closed = eventOf(receipt, vault.interface, "LoanClosed").args;
    printFields(`Closed loan #${loanId}`, [
      ["borrower", await labelOf(hre, closed.borrower)],
      ["refunded (lockbox + reserve)", formatUsd(closed.refunded)],
      ["receipts returned", receiptIds.map((id) => `#${id}`).join(", ") || "-"],
    ]);
  });

viewTask("loan:show", "Show a loan: terms, state, next payment, debt, LTV and standing")
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string }, hre) => {
    const loanId = parseId(args.loan, "loan");
    const vault = await loanVaultAt(hre);
    await requireLoan(vault, loanId);
    await printLoan(hre, vault, loanId, true);
    const auction = await auctionAt(hre);
    const auctionId = await auction.auctionOfLoan(loanId);
    if (auctionId !== 0n) out(`\nAuction #${auctionId} (auction:show --auction ${auctionId})`);
  });

// ---------------------------------------------------------------- status: the loan book

const MAX_LOAN_ROWS = 100;

export async function loanBookSection(ctx: StatusContext): Promise<SectionOutput | undefined> {
  const { hre, now } = ctx;
  if (!(await hre.deployments.getOrNull(DeployIds.LoanVault))) return undefined;
  const vault = await loanVaultAt(hre);
  const count = Number(await vault.loanCount());
  const [loanAssets, [totalPrincipal, , , , impaired]] = await Promise.all([
    vault.loanAssets(),
    vault.accrualState(),
  ]);
  const rows: string[][] = [];
  const loans: Record<string, unknown>[] = [];
  for (let id = 1; id <= Math.min(count, MAX_LOAN_ROWS); id++) {
    const view = await readLoan(vault, BigInt(id), now);
    const { terms, state } = view;
    const open = state.status === LoanStatus.Active;
    rows.push([
      String(id),
      await shortLabelOf(hre, terms.borrower),
      statusName(state.status),
      formatUsd(state.principal),
      formatUsd(view.debt),
      open ? formatBps(state.couponBps) : "-",
      `${open ? ltvText(view) : "-"} / ${formatBps(terms.maxLtvBps)} / ${formatBps(terms.maintenanceLtvBps)}`,
      view.standing,
      view.dueDate === 0n ? "-" : new Date(Number(view.dueDate) * 1000).toISOString().slice(0, 10),
      view.dueDate === 0n ? "-" : formatUsd(view.amountDue),
    ]);
    loans.push({
      loanId: id,
      borrower: terms.borrower,
      status: statusName(state.status),
      principal: state.principal.toString(),
      debt: view.debt.toString(),
      couponBps: Number(state.couponBps),
      ltvBps: view.ltv === MaxUint256 ? null : view.ltv.toString(),
      maxLtvBps: Number(terms.maxLtvBps),
      maintenanceLtvBps: Number(terms.maintenanceLtvBps),
      standing: view.standing,
      inGoodStanding: view.good,
      nextPaymentDue: Number(view.dueDate),
      nextPaymentAmount: view.amountDue.toString(),
    });
  }
  const table =
    count === 0
      ? "no loans yet"
      : formatTable(
          [
            "loan",
            "borrower",
            "status",
            "principal",
            "debt",
            "coupon",
            "LTV / max / maint.",
            "standing",
            "next due",
            "amount",
          ],
          rows,
          ["right", "left", "left", "right", "right", "right", "right", "left", "left", "right"],
        ) + (count > MAX_LOAN_ROWS ? `\n... and ${count - MAX_LOAN_ROWS} more (loan:show --loan <id>)` : "");
  const totals = fields([
    ["loans", String(count)],
    ["performing principal", formatUsd(totalPrincipal)],
    ["impaired (expected recovery)", formatUsd(impaired)],
    ["loan assets (in sUSDai NAV)", formatUsd(loanAssets)],
  ]);
  return {
    text: `${table}\n\n${totals}`,
    data: {
      loanCount: count,
      performingPrincipal: totalPrincipal.toString(),
      impaired: impaired.toString(),
      loanAssets: loanAssets.toString(),
      loans,
    },
  };
}

addStatusSection({ id: "loans", title: "Loan book", render: loanBookSection }, { after: "queue" });

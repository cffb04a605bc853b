import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { formatBps, formatTable, formatUsd } from "../helpers/format";
import { LoanStatus } from "../helpers/loans";
import { Roles } from "../helpers/roles";
import type { CollateralAuction } from "../typechain-types";
import { auctionAt, gpuReceiptAt, loanVaultAt } from "./lib/contracts";
import { roleTask, viewTask } from "./lib/define";
import {
  chainNow,
  eventOf,
  formatTimestamp,
  labelOf,
  namedAccounts,
  out,
  printFields,
  requireRole,
  send,
  simulateAndSend,
  signerOf,
} from "./lib/runtime";
import { ensure, parseAccount, parseAmount, parseId, TaskArgumentError } from "./lib/validate";
import { approveUsdai, printLoan, requireLoan, requireUsdai, signedLoan, statusName } from "./loans";

/**
 * Keeper, liquidator and credit-admin tasks: declare a default once it is due, send a defaulted loan's receipts to
 * auction, buy or expire an auction, show one, and step in with a replacement operator. Each checks the loan or
 * auction, its status and dates, the signer and the buyer's USDai before it sends anything.
 */

const USDAI_DECIMALS = 18;
/** `ICollateralAuction.AuctionStatus`. */
const AUCTION_STATUS = ["None", "Live", "Sold", "Expired"];
const AuctionStatus = { Live: 1n } as const;

async function requireAuction(auction: CollateralAuction, auctionId: bigint) {
  const record = await auction.auctionOf(auctionId);
  ensure(
    record.status !== 0n,
    `--auction ${auctionId}: no such auction (an auction's id is its loan's id; keeper:liquidate starts one)`,
  );
  return { record, endsAt: record.startedAt + record.duration };
}

/**
 * The sale of a sold auction: buyer and price from its `AuctionBought` event, and how the vault settled the loan from
 * its `AuctionSettled` event in the same transaction (the contracts keep both in the logs only).
 */
async function saleOf(
  hre: HardhatRuntimeEnvironment,
  auction: CollateralAuction,
  auctionId: bigint,
  loanId: bigint,
) {
  const [bought] = await auction.queryFilter(auction.filters.AuctionBought(auctionId));
  if (!bought) return undefined;
  const vault = await loanVaultAt(hre);
  const settled = (
    await vault.queryFilter(vault.filters.AuctionSettled(loanId), bought.blockNumber, bought.blockNumber)
  ).find((e) => e.transactionHash === bought.transactionHash)?.args;
  return { buyer: bought.args.buyer, price: bought.args.price, settled };
}

/** `AuctionSettled`'s split of a recovery (proceeds plus the loan's cash held) into debt, late fees and surplus. */
interface Settlement {
  cashHeld: bigint;
  repaid: bigint;
  lateFees: bigint;
  surplus: bigint;
  loss: bigint;
}

/** The rows of a settlement. */
function settlementRows(loanId: bigint, settled: Settlement): [string, string][] {
  return [
    [`loan #${loanId} cash held (lockbox and reserve)`, formatUsd(settled.cashHeld)],
    [`loan #${loanId} debt repaid`, formatUsd(settled.repaid)],
    ["late fees paid", formatUsd(settled.lateFees)],
    ["surplus to the borrower", formatUsd(settled.surplus)],
    ["loss to sUSDai", formatUsd(settled.loss)],
  ];
}

function requireLive(auctionId: bigint, status: bigint, task: string): void {
  ensure(
    status === AuctionStatus.Live,
    `auction ${auctionId} is ${AUCTION_STATUS[Number(status)]}; ${task} needs it Live`,
  );
}

async function printAuction(
  hre: HardhatRuntimeEnvironment,
  auction: CollateralAuction,
  auctionId: bigint,
): Promise<void> {
  const { record, endsAt } = await requireAuction(auction, auctionId);
  const now = BigInt(await chainNow(hre));
  const live = record.status === AuctionStatus.Live;
  printFields(`Auction #${auctionId}`, [
    ["loan", `#${record.loanId}`],
    ["status", AUCTION_STATUS[Number(record.status)]],
    ["lot", record.receiptIds.map((id) => `#${id}`).join(", ") || "-"],
    ["start price", formatUsd(record.startPrice)],
    ["floor price", formatUsd(record.floorPrice)],
    ["started", formatTimestamp(record.startedAt)],
    ["ends", formatTimestamp(endsAt)],
    [
      "price now",
      !live
        ? "-"
        : now > endsAt
          ? "ended: expire it (auction:expire)"
          : formatUsd(await auction.price(auctionId)),
    ],
  ]);
  const sale = await saleOf(hre, auction, auctionId, record.loanId);
  if (!sale) return;
  const rows: [string, string][] = [
    ["buyer", await labelOf(hre, sale.buyer)],
    ["sold for", formatUsd(sale.price)],
  ];
  if (sale.settled) rows.push(...settlementRows(record.loanId, sale.settled));
  printFields(`Sale of auction #${auctionId}`, rows);
}

roleTask(
  "keeper:declare-default",
  "Declare a loan in default once a payment or a cure period has lapsed",
  "keeper",
)
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const { loanId, signer, vault, terms, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Active],
      "keeper:declare-default",
    );
    const at = await vault.defaultableAt(loanId);
    ensure(
      at !== 0n,
      `loan ${loanId} cannot default: no payment is left unpaid and no cure period is running`,
    );
    // The call mines in the next block, at least one second after the latest.
    const next = BigInt(await chainNow(hre)) + 1n;
    if (next < at) {
      const [dueDate] = await vault.nextPayment(loanId);
      const why =
        state.cureDeadline !== 0n && at === state.cureDeadline + 1n
          ? `the cure period runs until ${formatTimestamp(state.cureDeadline)}`
          : `payment #${state.nextPaymentIndex} is due ${formatTimestamp(dueDate)}, then ` +
            `${Number(terms.gracePeriodSeconds) / 86_400} days of grace and a ` +
            `${Number(terms.defaultWindowSeconds) / 86_400}-day default window`;
      throw new TaskArgumentError(
        `loan ${loanId} cannot be declared in default before ${formatTimestamp(at)}: ${why}`,
      );
    }
    const { receipt } = await simulateAndSend(
      `LoanVault.declareDefault #${loanId}`,
      vault.declareDefault,
      [loanId],
      vault.interface,
    );
    const defaulted = eventOf(receipt, vault.interface, "LoanDefaulted").args;
    printFields(`Loan #${loanId} defaulted`, [
      ["debt at default", formatUsd(defaulted.debt)],
      ["impaired to (expected recovery)", formatUsd(defaulted.impairedValue)],
      [
        "next",
        `keeper:liquidate --loan ${loanId}, or loan:step-in --loan ${loanId} --new-borrower <account>`,
      ],
    ]);
  });

roleTask("keeper:liquidate", "Send a defaulted loan's receipts to a Dutch auction", "keeper")
  .addParam("loan", "loan id")
  .setAction(async (args: { loan: string; as: string }, hre) => {
    const { loanId, signer, vault, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Defaulted],
      "keeper:liquidate",
    );
    ensure(
      (await vault.auction()) !== hre.ethers.ZeroAddress,
      "LoanVault has no auction contract yet (governance sets it with setAuction)",
    );
    // A Defaulted loan's accruedAt is when it defaulted; the credit admin may liquidate within the step-in window.
    const opensAt = BigInt(state.accruedAt) + BigInt((await vault.riskParams()).stepInWindowSeconds);
    const now = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
    const creditAdmin = await vault.hasRole(Roles.CREDIT_ADMIN, await signer.getAddress());
    ensure(
      now + 1n >= opensAt || creditAdmin,
      `loan ${loanId} is in its step-in window until ${formatTimestamp(opensAt)}: ` +
        "only the credit admin may liquidate it before then (or step in: loan:step-in)",
    );
    const { receipt } = await simulateAndSend(
      `LoanVault.liquidate #${loanId}`,
      vault.liquidate,
      [loanId],
      vault.interface,
    );
    const auctionId = eventOf(receipt, vault.interface, "LoanLiquidated").args.auctionId as bigint;
    out(`\nLoan #${loanId} is at auction #${auctionId}`);
    await printAuction(hre, await auctionAt(hre), auctionId);
  });

roleTask("auction:buy", "Buy a live auction's receipts at the current price, up to --max-price", "liquidator")
  .addParam("auction", "auction id")
  .addParam("maxPrice", "the most USDai to pay, in whole tokens")
  .setAction(async (args: { auction: string; maxPrice: string; as: string }, hre) => {
    const auctionId = parseId(args.auction, "auction");
    const maxPrice = parseAmount(args.maxPrice, USDAI_DECIMALS, "max-price");
    const signer = await signerOf(hre, args.as);
    const auction = await auctionAt(hre, signer);
    const vault = await loanVaultAt(hre);
    const { record, endsAt } = await requireAuction(auction, auctionId);
    requireLive(auctionId, record.status, "auction:buy");
    ensure(
      BigInt(await chainNow(hre)) < endsAt,
      `auction ${auctionId} ended at ${formatTimestamp(endsAt)}; it can only expire (auction:expire)`,
    );
    await requireRole(await gpuReceiptAt(hre), "GpuReceipt", "RECEIPT_HOLDER", signer.address, args.as);
    const { borrower } = await vault.termsOf(record.loanId);
    ensure(
      borrower !== signer.address,
      `--as ${args.as} (${signer.address}) is loan #${record.loanId}'s borrower, which may not buy its own collateral`,
    );
    // The price only falls, so the price at the latest block bounds what the next block charges.
    const price = await auction.price(auctionId);
    ensure(
      price <= maxPrice,
      `auction ${auctionId} costs ${formatUsd(price)} now, above --max-price ${args.maxPrice}`,
    );
    await requireUsdai(hre, signer, args.as, price, `the price ${formatUsd(price)}`);
    await approveUsdai(hre, signer, await auction.getAddress(), price, "CollateralAuction");
    const { receipt } = await simulateAndSend(
      `CollateralAuction.buy #${auctionId}`,
      auction.buy,
      [auctionId, maxPrice],
      auction.interface,
    );
    const bought = eventOf(receipt, auction.interface, "AuctionBought").args;
    const settled = eventOf(receipt, vault.interface, "AuctionSettled").args;
    printFields(`Bought auction #${auctionId}`, [
      ["price paid", formatUsd(bought.price)],
      ["receipts received", record.receiptIds.map((id) => `#${id}`).join(", ")],
      ...settlementRows(record.loanId, settled.toObject() as Settlement),
    ]);
  });

viewTask("auction:show", "Show an auction: lot, prices, dates, current price, buyer")
  .addOptionalParam("auction", "auction id")
  .addOptionalParam("loan", "the defaulted loan whose auction to show")
  .setAction(async (args: { auction?: string; loan?: string }, hre) => {
    if ((args.auction === undefined) === (args.loan === undefined)) {
      throw new TaskArgumentError("give either --auction <id> or --loan <id>");
    }
    const auction = await auctionAt(hre);
    let auctionId: bigint;
    if (args.auction !== undefined) {
      auctionId = parseId(args.auction, "auction");
    } else {
      const loanId = parseId(args.loan, "loan");
      await requireLoan(await loanVaultAt(hre), loanId);
      auctionId = await auction.auctionOfLoan(loanId);
      ensure(auctionId !== 0n, `loan ${loanId} has no auction`);
    }
    await printAuction(hre, auction, auctionId);
  });

roleTask(
  "auction:expire",
  "End an unsold auction after its duration: receipts to the recovery custodian",
  "keeper",
)
  .addParam("auction", "auction id")
  .setAction(async (args: { auction: string; as: string }, hre) => {
    const auctionId = parseId(args.auction, "auction");
    const signer = await signerOf(hre, args.as);
    const auction = await auctionAt(hre, signer);
    const vault = await loanVaultAt(hre);
    const { record, endsAt } = await requireAuction(auction, auctionId);
    requireLive(auctionId, record.status, "auction:expire");
    ensure(
      BigInt(await chainNow(hre)) >= endsAt,
      `auction ${auctionId} runs until ${formatTimestamp(endsAt)}; it can expire only after that`,
    );
    const { receipt } = await simulateAndSend(
      `CollateralAuction.expire #${auctionId}`,
      auction.expire,
      [auctionId],
      auction.interface,
    );
    const settled = eventOf(receipt, vault.interface, "AuctionSettled").args;
    printFields(`Auction #${auctionId} expired unsold`, [
      ["receipts to", await labelOf(hre, await auction.recoveryCustodian())],
      [`loan #${record.loanId}`, "written off"],
      ["loss to sUSDai", formatUsd(settled.loss)],
    ]);
  });

roleTask("loan:step-in", "Novate a defaulted loan to a replacement operator (credit admin)", "creditAdmin")
  .addParam("loan", "loan id")
  .addParam("newBorrower", "the replacement operator: named account or address (an allowlisted BORROWER)")
  .setAction(async (args: { loan: string; newBorrower: string; as: string }, hre) => {
    const newBorrower = parseAccount(args.newBorrower, await namedAccounts(hre), "new-borrower");
    const { loanId, signer, vault, terms, state } = await signedLoan(
      hre,
      args,
      [LoanStatus.Defaulted],
      "loan:step-in",
    );
    await requireRole(vault, "LoanVault", "CREDIT_ADMIN", signer.address, args.as);
    ensure(
      await vault.hasRole(Roles.BORROWER, newBorrower),
      `--new-borrower ${await labelOf(hre, newBorrower)} is not an allowlisted BORROWER on LoanVault`,
    );
    await simulateAndSend(
      `LoanVault.stepIn #${loanId}`,
      vault.stepIn,
      [loanId, newBorrower],
      vault.interface,
    );
    out(
      `\nLoan #${loanId} (${statusName(state.status)}) novated from ${await labelOf(hre, terms.borrower)} to ` +
        `${await labelOf(hre, newBorrower)}; coupon ${formatBps(state.couponBps)}, a fresh schedule from now`,
    );
    await printLoan(hre, vault, loanId);
  });

/**
 * The loans a keeper should mark (#24.2): Active, with the next unsettled payment past its grace period. Each is sent
 * `checkCovenants`, which puts it in non-accrual and carries it in NAV at what it would recover today, so no redemption
 * is serviced at a price that counts it at par. Returns one row per loan marked.
 */
export async function markPastGrace(
  hre: HardhatRuntimeEnvironment,
  signer: Awaited<ReturnType<typeof signerOf>>,
  only?: bigint,
): Promise<[string, string, string, string][]> {
  const vault = await loanVaultAt(hre, signer);
  const count = await vault.loanCount();
  const next = BigInt(await chainNow(hre)) + 1n;
  const rows: [string, string, string, string][] = [];
  for (let id = only ?? 1n; id <= (only ?? count); id++) {
    const [terms, state] = await Promise.all([vault.termsOf(id), vault.stateOf(id)]);
    if (state.status !== LoanStatus.Active) continue;
    const [dueDate] = await vault.nextPayment(id);
    if (dueDate === 0n || next <= dueDate + terms.gracePeriodSeconds) continue;
    await send(`LoanVault.checkCovenants #${id}`, () => vault.checkCovenants(id), vault.interface);
    // While Active, `impairedValue` is the writedown the mark left (#24.2).
    const writedown = (await vault.stateOf(id)).impairedValue;
    rows.push([
      `#${id}`,
      formatUsd(state.principal),
      formatUsd(writedown),
      formatUsd(state.principal - writedown),
    ]);
  }
  return rows;
}

roleTask(
  "keeper:mark",
  "Mark loans with a payment past grace at what they would recover (checkCovenants; permissionless)",
  "keeper",
)
  .addOptionalParam("loan", "loan id (default: every Active loan with a payment past grace)")
  .setAction(async (args: { loan?: string; as: string }, hre) => {
    const only = args.loan === undefined ? undefined : parseId(args.loan, "loan");
    const signer = await signerOf(hre, args.as);
    if (only !== undefined) await requireLoan(await loanVaultAt(hre, signer), only);
    const rows = await markPastGrace(hre, signer, only);
    if (rows.length === 0) {
      out("No Active loan has a payment past its grace period: nothing to mark.");
      return;
    }
    out("\nLoans past grace, marked (NAV carries each at its principal less the writedown)");
    out(
      formatTable(["loan", "principal", "writedown", "carried at"], rows, [
        "left",
        "right",
        "right",
        "right",
      ]),
    );
  });

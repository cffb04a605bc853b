/**
 * The web app in a real browser (headless Chromium from Debian's packages, puppeteer-core) against a real local node
 * deployed by the deploy scripts, with the app's story played on it and the indexer following it (test/harness.ts).
 * Every flow is driven through the UI with the development connector's named accounts, and each test then reads the
 * chain to check what the page claims: a lender mints, stakes, requests a redemption, a keeper services the queue
 * and the lender claims; a borrower repays exactly the quoted installment; the risk page lists every loan of the
 * book; bad input, a revert and a wrong network each say why and send nothing. Screenshots go to reports/app/.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { erc20Abi, parseUnits, type Address } from "viem";

import { formatAmount, formatUsd } from "../src/lib/format";
import {
  clickWhenReady,
  openApp,
  pageErrors,
  screenshot,
  startWorld,
  step,
  submitAmount,
  text,
  useAccount,
  waitMined,
  waitText,
  type World,
} from "./harness";

type Generated = typeof import("../src/generated/contracts");

const started = Date.now();
let world: World;
let gen: Generated;
let c: {
  usdai: Address;
  susdai: Address;
  loans: Address;
  receipts: Address;
};

const LOAN_STATUSES = [
  "None",
  "Approved",
  "Active",
  "Repaid",
  "Defaulted",
  "Liquidating",
  "Recovered",
  "WrittenOff",
  "Closed",
  "Cancelled",
];

async function read<T>(
  address: Address,
  abi: readonly unknown[],
  functionName: string,
  args: unknown[] = [],
) {
  return (await world.chain.readContract({ address, abi: abi as never, functionName, args } as never)) as T;
}

async function nonce(address: Address): Promise<number> {
  return world.chain.getTransactionCount({ address });
}

describe("web app in Chromium against a local node, the indexer and the deploy scripts' contracts", () => {
  before(async () => {
    world = await startWorld(started);
    gen = await import("../src/generated/contracts");
    const d = gen.deployments.localhost!.contracts;
    c = { usdai: d.USDai, susdai: d.StakedUSDai, loans: d.LoanVault, receipts: d.GpuReceipt };
  });

  after(async () => {
    await world?.stop();
    step("stopped the browser, preview server, indexer and node", started);
  });

  it("lender: faucet, mint, stake, request a redemption; keeper services; lender claims (on-chain checked)", async () => {
    const lender = world.accounts.lender3!;
    const keeper = world.accounts.keeper!;
    const page = await openApp(world, "lender");
    await useAccount(page, "lender3", lender);
    const reserve = await read<Address>(c.usdai, gen.USDaiAbi, "reserveToken");

    // Faucet: 10,000 test USDC (local networks only).
    const usdc0 = await read<bigint>(reserve, erc20Abi, "balanceOf", [lender]);
    await clickWhenReady(page, "action-faucet");
    await waitMined(page, '[data-testid="actionwrap-faucet"]');
    const usdc1 = await read<bigint>(reserve, erc20Abi, "balanceOf", [lender]);
    assert.equal(usdc1 - usdc0, 10_000n * 10n ** 6n, "the faucet minted 10,000 USDC");
    await waitText(page, "balance-usdc", formatAmount(usdc1, 6));

    // Mint 2,500 USDai from USDC (approve + deposit, both through the page).
    const usdai0 = await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [lender]);
    await submitAmount(page, "mint", "2500");
    await waitMined(page, '[data-testid="form-mint"]');
    const usdai1 = await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [lender]);
    assert.equal(usdai1 - usdai0, 2_500n * 10n ** 18n, "2,500 USDai minted 1:1");
    assert.equal(usdc1 - (await read<bigint>(reserve, erc20Abi, "balanceOf", [lender])), 2_500n * 10n ** 6n);
    await waitText(page, "balance-usdai", formatAmount(usdai1, 18));

    // Stake 2,000 USDai.
    const shares0 = await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "balanceOf", [lender]);
    await submitAmount(page, "stake", "2000");
    await waitMined(page, '[data-testid="form-stake"]');
    const shares1 = await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "balanceOf", [lender]);
    const staked = shares1 - shares0;
    assert.ok(staked > 0n, "sUSDai minted");
    assert.equal(
      usdai1 - (await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [lender])),
      2_000n * 10n ** 18n,
    );
    // The vault priced the shares at its NAV (>= 1 USDai each after the story's interest): fewer shares than USDai.
    const price = await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "convertToAssets", [10n ** 18n]);
    assert.ok(price >= 10n ** 18n && staked <= 2_000n * 10n ** 18n, `shares ${staked} at price ${price}`);

    // Request a redemption of exactly the staked shares (typed with all 18 decimals).
    await submitAmount(page, "request", formatAmount(staked, 18, 18).replace(/,/g, ""));
    await waitMined(page, '[data-testid="form-request"]');
    const pending = await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "pendingRedeemRequest", [0n, lender]);
    assert.equal(pending, staked, "the whole stake is pending in the queue");
    // The indexer reports the request; the page places it in the FIFO queue with an estimate.
    await page.waitForSelector('[data-testid="queue"] tr[data-testid^="queue-row-"]');
    const row = await page.$eval(
      '[data-testid="queue"] tr[data-testid^="queue-row-"]',
      (el) => el.textContent ?? "",
    );
    assert.match(row, /pending/);
    assert.match(row, /cooldown/, `the estimate names the cooldown: ${row}`);
    await screenshot(world, page, "lender");

    // Time passes beyond the cooldown (the node's clock); a keeper services the queue from the page.
    const [cooldown] = await read<readonly [bigint, bigint, bigint, bigint]>(
      c.susdai,
      gen.StakedUSDaiAbi,
      "params",
    );
    await world.chain.request({ method: "evm_increaseTime", params: [Number(cooldown) + 60] } as never);
    await world.chain.request({ method: "evm_mine", params: [] } as never);
    await useAccount(page, "keeper", keeper);
    const keeperNonce = await nonce(keeper);
    await clickWhenReady(page, "action-service");
    await waitMined(page, '[data-testid="actionwrap-service"]');
    assert.equal(await nonce(keeper), keeperNonce + 1, "the keeper sent the service transaction");
    const claimable = await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "claimableRedeemRequest", [
      0n,
      lender,
    ]);
    assert.equal(claimable, staked, "the request is claimable in full");
    assert.equal(await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "pendingRedeemRequest", [0n, lender]), 0n);

    // The lender claims from the page.
    await useAccount(page, "lender3", lender);
    const { claimableAssets } = await read<{ claimableAssets: bigint }>(
      c.susdai,
      gen.StakedUSDaiAbi,
      "controllerState",
      [lender],
    );
    await waitText(page, "action-claim", formatUsd(claimableAssets));
    const beforeClaim = await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [lender]);
    await clickWhenReady(page, "action-claim");
    await waitMined(page, '[data-testid="actionwrap-claim"]');
    const afterClaim = await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [lender]);
    assert.equal(afterClaim - beforeClaim, claimableAssets, "the claim paid the serviced assets");
    assert.ok(claimableAssets >= 2_000n * 10n ** 18n - 10n ** 15n, "about what was staked came back");
    assert.equal(
      await read<bigint>(c.susdai, gen.StakedUSDaiAbi, "claimableRedeemRequest", [0n, lender]),
      0n,
    );
    await waitText(page, "balance-usdai", formatAmount(afterClaim, 18));
    assert.deepEqual(pageErrors(page), []);
    await page.close();
  });

  it("borrower: repays exactly the installment nextPayment quotes when it falls due, and it settles", async () => {
    const borrower = world.accounts.borrower2!;
    const count = await read<bigint>(c.loans, gen.LoanVaultAbi, "loanCount");
    let loanId = 0n;
    for (let id = 1n; id <= count; id++) {
      const terms = await read<{ borrower: Address }>(c.loans, gen.LoanVaultAbi, "termsOf", [id]);
      if (terms.borrower.toLowerCase() === borrower.toLowerCase()) loanId = id;
    }
    assert.ok(loanId > 0n, "borrower2 has a loan in the story");
    const [due] = await read<readonly [bigint, bigint]>(c.loans, gen.LoanVaultAbi, "nextPayment", [loanId]);
    // An hour before the installment falls due; the quote then covers interest up to the due date.
    await world.chain.request({
      method: "evm_setNextBlockTimestamp",
      params: [Number(due) - 3_600],
    } as never);
    await world.chain.request({ method: "evm_mine", params: [] } as never);
    const before = await read<{ nextPaymentIndex: number }>(c.loans, gen.LoanVaultAbi, "stateOf", [loanId]);
    const [, quoted] = await read<readonly [bigint, bigint]>(c.loans, gen.LoanVaultAbi, "nextPayment", [
      loanId,
    ]);
    assert.ok(quoted > 0n, "an installment is due");

    const page = await openApp(world, `borrower?loan=${loanId}`);
    await useAccount(page, "borrower2", borrower);
    // The page shows the contract's quote to the wei.
    await waitText(page, "next-amount-wei", quoted.toString());
    await page.waitForSelector('[data-testid="payments-table"]');
    const paymentsBefore = await page.$$eval(
      '[data-testid="payments-table"] tbody tr',
      (rows) => rows.length,
    );
    await clickWhenReady(page, "quote-repay");
    const typed = await page.$eval('[data-testid="input-repay"]', (el) => (el as HTMLInputElement).value);
    assert.equal(parseUnits(typed, 18), quoted, "the quote button fills in the exact quote");

    // Blocks are mined by hand so the page's progress can be seen and the payment lands at the due date, as a
    // borrower paying on time would: the approval first, then the repayment in the block at the due date.
    const usdaiBefore = await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [borrower]);
    await world.chain.request({ method: "evm_setAutomine", params: [false] } as never);
    try {
      await page.click('[data-testid="submit-repay"]');
      const pendingStep = async (label: string) =>
        page.waitForFunction(
          (l) => {
            const el = document.querySelector('[data-testid="form-repay"] [data-testid="tx-status"]');
            return el?.getAttribute("data-phase") === "pending" && el.getAttribute("data-step") === l;
          },
          {},
          label,
        );
      await pendingStep("Approve USDai");
      await world.chain.request({ method: "evm_setNextBlockTimestamp", params: [Number(due) - 60] } as never);
      await world.chain.request({ method: "evm_mine", params: [] } as never);
      await pendingStep("Repay");
      await world.chain.request({ method: "evm_setNextBlockTimestamp", params: [Number(due)] } as never);
      await world.chain.request({ method: "evm_mine", params: [] } as never);
    } finally {
      await world.chain.request({ method: "evm_setAutomine", params: [true] } as never);
    }
    await waitMined(page, '[data-testid="form-repay"]');

    const after = await read<{ nextPaymentIndex: number }>(c.loans, gen.LoanVaultAbi, "stateOf", [loanId]);
    assert.equal(after.nextPaymentIndex, before.nextPaymentIndex + 1, "the installment is settled");
    assert.equal(usdaiBefore - (await read<bigint>(c.usdai, gen.USDaiAbi, "balanceOf", [borrower])), quoted);
    const [nextDue] = await read<readonly [bigint, bigint]>(c.loans, gen.LoanVaultAbi, "nextPayment", [
      loanId,
    ]);
    assert.ok(nextDue > due, "the next due date moved on");
    // The indexer's history shows the payment, and the page the next quote.
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="payments-table"] tbody tr').length === n + 1,
      {},
      paymentsBefore,
    );
    await waitText(page, "next-due", new Date(Number(nextDue) * 1000).toISOString().slice(0, 10));
    await screenshot(world, page, "borrower");
    assert.deepEqual(pageErrors(page), []);
    await page.close();
  });

  it("borrower: a revert is decoded from the custom error, and nothing is sent", async () => {
    const lender = world.accounts.lender1!;
    const page = await openApp(world, "borrower?loan=1");
    await useAccount(page, "lender1", lender);
    const n = await nonce(lender);
    await submitAmount(page, "release", "1");
    await page.waitForSelector('[data-testid="form-release"] [data-testid="tx-error"]');
    const name = await page.$eval('[data-testid="form-release"] [data-testid="tx-error"]', (el) =>
      el.getAttribute("data-error-name"),
    );
    assert.equal(name, "LoanVaultNotBorrower");
    assert.match(await text(page, "tx-error"), /Only the loan's borrower/);
    assert.equal(await nonce(lender), n, "no transaction was sent");
    await page.close();
  });

  it("risk: the book lists every loan with its on-chain status and debt", async () => {
    const page = await openApp(world, "risk");
    const count = await read<bigint>(c.loans, gen.LoanVaultAbi, "loanCount");
    assert.ok(count >= 2n);
    await waitText(page, "loan-count", count.toString());
    await page.waitForSelector('[data-testid="loan-book-table"]');
    const rows = await page.$$eval('[data-testid="loan-book-table"] tbody tr', (r) => r.length);
    assert.equal(rows, Number(count), "one row per loan");
    for (let id = 1n; id <= count; id++) {
      const state = await read<{ status: number }>(c.loans, gen.LoanVaultAbi, "stateOf", [id]);
      assert.equal(await text(page, `loan-status-${id}`), LOAN_STATUSES[state.status]);
      const debt = await read<bigint>(c.loans, gen.LoanVaultAbi, "debtOf", [id]);
      // Debt accrues per second: the page's figure is within a dollar of the chain's.
      const shown = BigInt((await text(page, `loan-debt-${id}`)).replace(/[$,]/g, "")) * 10n ** 18n;
      const diff = shown > debt ? shown - debt : debt - shown;
      assert.ok(diff <= 2n * 10n ** 18n, `loan ${id}: page ${shown}, chain ${debt}`);
    }
    await page.waitForSelector('[data-testid="oracle-table"] tbody tr');
    assert.match(
      await page.$eval('[data-testid="oracle-table"]', (el) => el.textContent ?? ""),
      /fresh|stale/,
    );
    await screenshot(world, page, "risk");
    assert.deepEqual(pageErrors(page), []);
    await page.close();
  });

  it("receipts: each receipt's on-chain image, metadata and collateral value", async () => {
    const page = await openApp(world, "receipts");
    const next = await read<bigint>(c.receipts, gen.GpuReceiptAbi, "nextTokenId");
    assert.ok(next > 1n, "the story minted receipts");
    await page.waitForSelector('[data-testid="receipt-value-1"]');
    for (let id = 1n; id < next; id++) {
      const value = await read<bigint>(c.receipts, gen.GpuReceiptAbi, "collateralValue", [id]);
      const dollars = formatUsd(value, 0); // whole dollars, rounded down, as the contract draws them
      await waitText(page, `receipt-value-${id}`, dollars);
      const meta = await page.$eval(`[data-testid="receipt-meta-${id}"]`, (el) => el.textContent ?? "");
      assert.match(meta, /Model/, `receipt ${id} shows its tokenURI attributes`);

      // The image: the contract's SVG, loaded by the browser, parsed as XML, showing today's collateral value.
      const image = `[data-testid="receipt-image-${id}"]`;
      const shown = await page.waitForFunction(
        (selector, fallback) => {
          const img = document.querySelector<HTMLImageElement>(selector);
          if (img?.complete && img.naturalWidth > 0) return "loaded";
          return document.querySelector(fallback)?.textContent ?? false; // the page says why there is none
        },
        {},
        image,
        `[data-testid="receipt-noimage-${id}"]`,
      );
      assert.equal(await shown.jsonValue(), "loaded", `receipt ${id}'s image is displayed`);
      const card = await page.$eval(image, (img) => {
        const src = img.getAttribute("src") ?? "";
        const prefix = "data:image/svg+xml;base64,";
        if (!src.startsWith(prefix)) return { src: src.slice(0, 40) };
        const bytes = Uint8Array.from(atob(src.slice(prefix.length)), (ch) => ch.charCodeAt(0));
        const doc = new DOMParser().parseFromString(
          new TextDecoder("utf-8", { fatal: true }).decode(bytes),
          "image/svg+xml",
        );
        return {
          src: prefix,
          parseError: doc.querySelector("parsererror")?.textContent ?? null,
          root: doc.documentElement.nodeName,
          headline: doc.querySelector("text.h")?.textContent ?? null,
          texts: [...doc.querySelectorAll("text")].map((t) => t.textContent ?? ""),
        };
      });
      assert.equal(card.src, "data:image/svg+xml;base64,", `receipt ${id}'s image is an SVG data URI`);
      assert.equal(card.parseError, null, `receipt ${id}'s SVG is well-formed XML`);
      assert.equal(card.root, "svg");
      assert.equal(card.headline, dollars, `receipt ${id}'s card shows its collateral value`);
      assert.ok(card.texts?.includes(`#${id}`), `receipt ${id}'s card shows its number: ${card.texts}`);
    }
    await screenshot(world, page, "receipts");
    assert.deepEqual(pageErrors(page), []);
    await page.close();
  });

  it("bad input: negative, not a number, above the balance; each says why and sends nothing", async () => {
    const lender = world.accounts.lender2!;
    const page = await openApp(world, "lender");
    await useAccount(page, "lender2", lender);
    const n = await nonce(lender);
    const usdc = await read<bigint>(
      await read<Address>(c.usdai, gen.USDaiAbi, "reserveToken"),
      erc20Abi,
      "balanceOf",
      [lender],
    );
    const cases: [string, RegExp][] = [
      ["-5", /must be positive/],
      ["abc", /is not a number/],
      ["1.2.3", /is not a number/],
      ["0", /more than zero/],
      ["1.1234567", /6 decimals/],
      [formatAmount(usdc + 10n ** 6n, 6, 6).replace(/,/g, ""), /More than your USDC balance/],
    ];
    for (const [input, reason] of cases) {
      await submitAmount(page, "mint", input);
      await page.waitForSelector('[data-testid="problem-mint"]');
      assert.match(await text(page, "problem-mint"), reason, `input "${input}"`);
      assert.equal(
        await page.$('[data-testid="form-mint"] [data-testid="tx-status"]'),
        null,
        "no transaction",
      );
    }
    assert.equal(await nonce(lender), n, "nothing was sent");
    await page.close();
  });

  it("wrong network: an injected wallet on another chain is told so, and nothing is sent", async () => {
    const account = world.accounts.lender2!;
    const page = await openApp(world, "lender", async (p) => {
      // A browser wallet (EIP-1193, as MetaMask injects it) connected to Ethereum mainnet; it records what it is asked.
      // Passed as source text: functions compiled by tsx carry helpers that do not exist in the page.
      await p.evaluateOnNewDocument(`
        (() => {
          const calls = [];
          window.__walletCalls = calls;
          window.ethereum = {
            isMetaMask: true,
            request: async ({ method }) => {
              calls.push(method);
              if (method === "eth_requestAccounts" || method === "eth_accounts") return [${JSON.stringify(account)}];
              if (method === "eth_chainId") return "0x1";
              if (method === "wallet_requestPermissions" || method === "wallet_getPermissions")
                return [{ parentCapability: "eth_accounts" }];
              throw Object.assign(new Error("unsupported " + method), { code: 4200 });
            },
            on: () => undefined,
            removeListener: () => undefined,
          };
        })();
      `);
    });
    await clickWhenReady(page, "connect-injected");
    await waitText(page, "network", /wrong network \(chain 1\)/);
    await submitAmount(page, "mint", "1");
    await page.waitForSelector('[data-testid="problem-mint"]');
    assert.match(await text(page, "problem-mint"), /Wrong network: the wallet is on chain 1/);
    const calls = await page.evaluate(() => (window as unknown as { __walletCalls: string[] }).__walletCalls);
    assert.ok(!calls.includes("eth_sendTransaction"), `the wallet was asked: ${calls.join(", ")}`);
    await page.close();
  });
});

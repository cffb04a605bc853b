/**
 * The browser tests' world: a `hardhat node` on a free loopback port (its deploy scripts deploy the protocol), the
 * app's story played on it (scripts/app/story.ts), the indexer following it, the app built against that deployment
 * and served by `vite preview` (which proxies `/rpc` and `/indexer`), and headless Chromium from Debian's packages
 * driven by puppeteer-core. Everything runs in its own process group and is stopped at the end.
 *
 * Environment: APP_TEST_CHROMIUM (default /usr/bin/chromium), APP_TEST_KEEP_LOGS=1 keeps the logs directory,
 * APP_TEST_STORY_DAYS (the story's length, default 5: the first installment falls due during the tests; longer
 * stories index for longer), APP_TEST_SCREENSHOTS (default reports/app).
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { createPublicClient, http, type Address, type PublicClient } from "viem";

import {
  freePort,
  runHardhatScript,
  startIndexer,
  startNode,
  waitForHead,
  type Child,
} from "../../indexer/scripts/local";

const run = promisify(execFile);
export const APP_DIR = path.resolve(import.meta.dirname, "..");
export const ROOT = path.resolve(APP_DIR, "..");

export interface World {
  node: Child & { url: string };
  indexer: Child & { url: string };
  preview: Child & { url: string };
  chain: PublicClient;
  browser: Browser;
  logDir: string;
  screenshots: string;
  accounts: Record<string, Address>;
  stop(): Promise<void>;
}

export function step(message: string, started: number): void {
  console.log(`  [${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}`);
}

function startPreview(port: number, env: NodeJS.ProcessEnv, log: string): Child & { url: string } {
  const out = fs.openSync(log, "w");
  const child = spawn(
    path.join(APP_DIR, "node_modules", ".bin", "vite"),
    ["preview", "--port", String(port), "--strictPort"],
    { cwd: APP_DIR, env: { ...process.env, ...env }, stdio: ["ignore", out, out], detached: true },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    log,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      await exited;
    },
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000}s`);
}

export async function startWorld(started: number): Promise<World> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "app-test-"));
  const screenshots = path.resolve(ROOT, process.env.APP_TEST_SCREENSHOTS || "reports/app");
  fs.mkdirSync(screenshots, { recursive: true });
  const children: Child[] = [];
  let browser: Browser | undefined;
  let failed = false;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    for (const c of children.reverse()) await c.stop();
    if (process.env.APP_TEST_KEEP_LOGS || failed) console.log(`  logs kept in ${logDir}`);
    else fs.rmSync(logDir, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    const node = await startNode(await freePort(), logDir);
    children.push(node);
    step(`hardhat node up at ${node.url}, protocol deployed by the deploy scripts`, started);
    // Addresses and ABIs of this deployment, for the production build the tests load.
    await run(process.execPath, ["--import", "tsx", "scripts/contracts.ts"], { cwd: APP_DIR });
    // The story's child process inherits the environment.
    process.env.APP_STORY_DAYS = process.env.APP_TEST_STORY_DAYS || "5";
    // The production build needs only the addresses (known once the node has deployed), so it runs beside the
    // story. The indexer starts after the story: polling the node while the story's many calls hit it made the
    // node drop a connection under load ("other side closed").
    await Promise.all([
      runHardhatScript("scripts/app/story.ts", node.url, path.join(logDir, "story.log")).then(() =>
        step("app story played (lenders, fleet, two loans, readings)", started),
      ),
      run(path.join(APP_DIR, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], {
        cwd: APP_DIR,
        env: { ...process.env, VITE_NETWORK: "localhost", VITE_POLL_MS: "500" },
      }).then(() => step("app built (vite build) against deployments/localhost", started)),
    ]);
    const indexer = await startIndexer({
      rpcUrl: node.url,
      port: await freePort(),
      pgliteDir: path.join(logDir, "pglite"),
      log: path.join(logDir, "indexer.log"),
    });
    children.push(indexer);
    const head = await waitForHead(indexer.url, node.url, indexer);
    step(`indexer caught up with the chain (block ${head})`, started);

    const preview = startPreview(
      await freePort(),
      { APP_RPC_URL: node.url, APP_INDEXER_URL: indexer.url },
      path.join(logDir, "preview.log"),
    );
    children.push(preview);
    await until("vite preview", async () => (await fetch(preview.url)).ok);

    const chain = createPublicClient({ transport: http(node.url) }) as PublicClient;
    const list = (await chain.request({ method: "eth_accounts" } as never)) as Address[];
    const { NAMED_ACCOUNTS } = await import("../src/generated/contracts");
    const accounts = Object.fromEntries(NAMED_ACCOUNTS.map((name, i) => [name, list[i]!]));

    browser = await puppeteer.launch({
      executablePath: process.env.APP_TEST_CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    });
    step(`Chromium ${await browser.version()} started; app at ${preview.url}`, started);
    return { node, indexer, preview, chain, browser, logDir, screenshots, accounts, stop };
  } catch (err) {
    failed = true;
    await stop().catch((stopErr: unknown) => console.error("  while stopping:", stopErr));
    throw err;
  }
}

/** A fresh tab with the app open at `hash`, failing the test on any uncaught page error. */
export async function openApp(
  world: World,
  hash: string,
  before?: (page: Page) => Promise<void>,
): Promise<Page> {
  // Each page in its own browser context: no wallet choice or cache carries over from another test.
  const context = await world.browser.createBrowserContext();
  const page = await context.newPage();
  page.once("close", () => void context.close().catch(() => undefined));
  await page.setViewport({ width: 1400, height: 1000 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push((e as Error).message));
  (page as Page & { pageErrors: string[] }).pageErrors = errors;
  page.setDefaultTimeout(60_000);
  if (before) await before(page);
  await page.goto(`${world.preview.url}/#/${hash}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(`[data-testid="page-${hash.split("?")[0]}"]`);
  return page;
}

export function pageErrors(page: Page): string[] {
  return (page as Page & { pageErrors?: string[] }).pageErrors ?? [];
}

/** Picks one of the node's named accounts in the development connector. */
export async function useAccount(page: Page, name: string, address: Address): Promise<void> {
  await page.waitForSelector('[data-testid="dev-account"]');
  await page.select('[data-testid="dev-account"]', name);
  await page.waitForFunction(
    (a) =>
      document.querySelector('[data-testid="account"]')?.getAttribute("data-address")?.toLowerCase() === a,
    {},
    address.toLowerCase(),
  );
}

/** Clicks an element once it is on the page (pages render after their first reads). */
export async function clickWhenReady(page: Page, testId: string): Promise<void> {
  const sel = `[data-testid="${testId}"]`;
  await page.waitForSelector(`${sel}:not([disabled])`);
  await page.click(sel);
}

/** Types an amount into a form and submits it. */
export async function submitAmount(page: Page, form: string, amount: string): Promise<void> {
  const input = `[data-testid="input-${form}"]`;
  await page.waitForSelector(input);
  await page.click(input, { count: 3 });
  await page.keyboard.press("Backspace");
  await page.type(input, amount);
  await page.click(`[data-testid="submit-${form}"]`);
}

/** Waits until the transaction(s) a form or action sent are all mined, or fails with the error the page shows. */
export async function waitMined(page: Page, scope: string): Promise<void> {
  const sel = `${scope} [data-testid="tx-status"]`;
  await page.waitForFunction(
    (s) => {
      const el = document.querySelector(s);
      return (
        el && (el.getAttribute("data-complete") === "true" || el.getAttribute("data-phase") === "failed")
      );
    },
    { timeout: 60_000 },
    sel,
  );
  const failed = await page.$eval(sel, (el) =>
    el.getAttribute("data-phase") === "failed" ? el.textContent : null,
  );
  if (failed) throw new Error(`the transaction failed in the page: ${failed}`);
}

export async function text(page: Page, testId: string): Promise<string> {
  return page.$eval(`[data-testid="${testId}"]`, (el) => (el.textContent ?? "").trim());
}

export async function waitText(page: Page, testId: string, predicate: string | RegExp): Promise<void> {
  const source = typeof predicate === "string" ? { s: predicate } : { r: predicate.source };
  await page.waitForFunction(
    (id, src) => {
      const t = (document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "").trim();
      return "s" in src ? t.includes(src.s as string) : new RegExp(src.r as string).test(t);
    },
    {},
    testId,
    source,
  );
}

export async function screenshot(world: World, page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(world.screenshots, `${name}.png`), fullPage: true });
}

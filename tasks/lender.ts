import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MaxUint256 } from "ethers";

import { formatAmount, formatUsd } from "../helpers/format";
import { roleTask, viewTask } from "./lib/define";
import { markPastGrace } from "./keeper";
import { reserveTokenAt, stakedUsdaiAt, usdaiAt } from "./lib/contracts";
import { getProtocolConfig, isLocalNetwork } from "../config/protocol";
import { DeployIds } from "../helpers/deploy-ids";
import {
  chainNow,
  formatTimestamp,
  labelOf,
  namedAccounts,
  out,
  printFields,
  send,
  signerOf,
  TaskError,
} from "./lib/runtime";
import { ensure, parseAccount, parseAmount, parseInteger, TaskArgumentError } from "./lib/validate";

/**
 * Lender tasks: USDC -> USDai (mint, redeem), USDai -> sUSDai (stake), the ERC-7540 redemption (request, service,
 * claim) and a position report. Amounts are typed in whole tokens (`--amount 1000`).
 */

const USDAI_DECIMALS = 18;

async function receiverOf(hre: HardhatRuntimeEnvironment, to: string | undefined, fallback: string) {
  return to === undefined ? fallback : parseAccount(to, await namedAccounts(hre), "to");
}

/**
 * `--faucet` needs the reserve token to be the protocol's own mock, which anyone may mint: always on a local network;
 * on a testnet when the deploy installed the mock because no reserve token address was configured.
 */
async function requireMockReserve(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (isLocalNetwork(hre.network.name)) return;
  const deployment = await hre.deployments.getOrNull(DeployIds.ReserveToken);
  const external = getProtocolConfig(hre.network.name).external.reserveToken;
  ensure(
    deployment?.bytecode !== undefined && external === undefined,
    `--faucet needs the mock reserve token, but on "${hre.network.name}" the reserve token is ` +
      `${external ?? deployment?.address ?? "not deployed"}, a real token: get it from its issuer's faucet`,
  );
}

roleTask("usdai:mint", "Deposit the reserve stablecoin (USDC) and mint USDai 1:1", "lender1")
  .addParam("amount", "reserve token amount, in whole tokens (e.g. 1000 or 250.5)")
  .addOptionalParam("to", "receiver of the USDai: named account or address (default: the signer)")
  .addOptionalParam("minOut", "minimum USDai to mint, in whole tokens (default: the exact 1:1 amount)")
  .addFlag(
    "faucet",
    "mint the mock USDC to the signer first (local networks, or a testnet deployed with the mock)",
  )
  .setAction(
    async (args: { amount: string; to?: string; minOut?: string; faucet: boolean; as: string }, hre) => {
      const signer = await signerOf(hre, args.as);
      const reserve = await reserveTokenAt(hre, signer);
      const usdai = await usdaiAt(hre, signer);
      const decimals = Number(await reserve.decimals());
      const amount = parseAmount(args.amount, decimals, "amount");
      const to = await receiverOf(hre, args.to, signer.address);
      const scale = await usdai.reserveScale();
      const minOut =
        args.minOut === undefined ? amount * scale : parseAmount(args.minOut, USDAI_DECIMALS, "min-out");
      if (args.faucet) await requireMockReserve(hre);

      const [supply, cap] = await Promise.all([usdai.totalSupply(), usdai.supplyCap()]);
      ensure(
        supply + amount * scale <= cap,
        `--amount ${args.amount} would take USDai's supply to ${formatUsd(supply + amount * scale)}, above its cap ${formatUsd(cap)}`,
      );
      if (args.faucet) {
        await send("faucet: mint mock USDC", () => reserve.mint(signer.address, amount), reserve.interface);
      }
      const balance = await reserve.balanceOf(signer.address);
      ensure(
        balance >= amount,
        `--as ${args.as} holds ${formatAmount(balance, decimals)} USDC, less than --amount ${args.amount}` +
          (args.faucet ? "" : " (on a local network add --faucet)"),
      );
      if ((await reserve.allowance(signer.address, await usdai.getAddress())) < amount) {
        await send("approve USDC", () => reserve.approve(usdai.getAddress(), MaxUint256), reserve.interface);
      }
      const before = await usdai.balanceOf(to);
      await send("USDai.deposit", () => usdai.deposit(amount, minOut, to), usdai.interface);
      const minted = (await usdai.balanceOf(to)) - before;
      printFields("Minted USDai", [
        ["deposited USDC", formatAmount(amount, decimals)],
        ["minted USDai", formatUsd(minted)],
        ["receiver", await labelOf(hre, to)],
        ["receiver USDai balance", formatUsd(await usdai.balanceOf(to))],
      ]);
    },
  );

roleTask("usdai:redeem", "Burn USDai and receive the reserve stablecoin (USDC)", "lender1")
  .addParam("amount", "USDai to redeem, in whole tokens")
  .addOptionalParam("to", "receiver of the USDC: named account or address (default: the signer)")
  .addOptionalParam("minOut", "minimum USDC to receive, in whole tokens (default: the exact amount)")
  .setAction(async (args: { amount: string; to?: string; minOut?: string; as: string }, hre) => {
    const signer = await signerOf(hre, args.as);
    const usdai = await usdaiAt(hre, signer);
    const reserve = await reserveTokenAt(hre);
    const decimals = Number(await reserve.decimals());
    const amount = parseAmount(args.amount, USDAI_DECIMALS, "amount");
    const to = await receiverOf(hre, args.to, signer.address);
    const scale = await usdai.reserveScale();
    ensure(amount >= scale, `--amount ${args.amount} is less than one unit of the reserve token`);
    const minOut = args.minOut === undefined ? amount / scale : parseAmount(args.minOut, decimals, "min-out");
    const balance = await usdai.balanceOf(signer.address);
    ensure(
      balance >= amount,
      `--as ${args.as} holds ${formatUsd(balance)} USDai, less than --amount ${args.amount}`,
    );
    ensure(!(await usdai.redemptionsPaused()), "USDai redemptions are paused by the guardian");

    const before = await reserve.balanceOf(to);
    await send("USDai.redeem", () => usdai.redeem(amount, minOut, to), usdai.interface);
    printFields("Redeemed USDai", [
      ["burned USDai", formatUsd(amount)],
      ["paid USDC", formatAmount((await reserve.balanceOf(to)) - before, decimals)],
      ["receiver", await labelOf(hre, to)],
    ]);
  });

roleTask("susdai:stake", "Deposit USDai into sUSDai (ERC-4626)", "lender1")
  .addParam("amount", "USDai to stake, in whole tokens")
  .addOptionalParam("to", "receiver of the shares: named account or address (default: the signer)")
  .addOptionalParam("minShares", "minimum sUSDai shares, in whole tokens (default: the preview less 0.1%)")
  .setAction(async (args: { amount: string; to?: string; minShares?: string; as: string }, hre) => {
    const signer = await signerOf(hre, args.as);
    const usdai = await usdaiAt(hre, signer);
    const susdai = await stakedUsdaiAt(hre, signer);
    const amount = parseAmount(args.amount, USDAI_DECIMALS, "amount");
    const to = await receiverOf(hre, args.to, signer.address);
    const preview = await susdai.previewDeposit(amount);
    const minShares =
      args.minShares === undefined
        ? (preview * 999n) / 1000n
        : parseAmount(args.minShares, USDAI_DECIMALS, "min-shares", { allowZero: true });
    const balance = await usdai.balanceOf(signer.address);
    ensure(
      balance >= amount,
      `--as ${args.as} holds ${formatUsd(balance)} USDai, less than --amount ${args.amount}`,
    );
    const max = await susdai.maxDeposit(to);
    ensure(amount <= max, `sUSDai accepts at most ${formatUsd(max)} from ${to} now (paused or blacklisted?)`);

    if ((await usdai.allowance(signer.address, await susdai.getAddress())) < amount) {
      await send("approve USDai", () => usdai.approve(susdai.getAddress(), MaxUint256), usdai.interface);
    }
    const before = await susdai.balanceOf(to);
    await send(
      "sUSDai.deposit",
      () => susdai["deposit(uint256,address,uint256)"](amount, to, minShares),
      susdai.interface,
    );
    const shares = (await susdai.balanceOf(to)) - before;
    printFields("Staked USDai", [
      ["staked USDai", formatUsd(amount)],
      ["sUSDai shares", formatAmount(shares, USDAI_DECIMALS, 6)],
      ["receiver", await labelOf(hre, to)],
    ]);
  });

roleTask("susdai:request-redeem", "Queue sUSDai shares for redemption (ERC-7540)", "lender1")
  .addOptionalParam("shares", "sUSDai shares to redeem, in whole tokens")
  .addFlag("all", "request all of the signer's shares")
  .addOptionalParam("controller", "who claims later: named account or address (default: the signer)")
  .setAction(async (args: { shares?: string; all: boolean; controller?: string; as: string }, hre) => {
    if (args.all === (args.shares !== undefined)) {
      throw new TaskArgumentError("give either --shares <amount> or --all");
    }
    const signer = await signerOf(hre, args.as);
    const susdai = await stakedUsdaiAt(hre, signer);
    const balance = await susdai.balanceOf(signer.address);
    const shares = args.all ? balance : parseAmount(args.shares, USDAI_DECIMALS, "shares");
    const controller =
      args.controller === undefined
        ? signer.address
        : parseAccount(args.controller, await namedAccounts(hre), "controller");
    ensure(shares > 0n, `--as ${args.as} holds no sUSDai shares`);
    ensure(
      balance >= shares,
      `--as ${args.as} holds ${formatAmount(balance, USDAI_DECIMALS, 6)} sUSDai, less than --shares ${args.shares}`,
    );
    const [cooldown, minRedeemAssets, maxActive] = await susdai.params();
    const value = await susdai.convertToAssets(shares);
    ensure(
      value >= minRedeemAssets,
      `a request must be worth at least ${formatAmount(minRedeemAssets, USDAI_DECIMALS)} USDai; --shares ${args.shares} is worth ${formatAmount(value, USDAI_DECIMALS, 6)}`,
    );
    const state = await susdai.controllerState(controller);
    ensure(
      state.activeRequests < maxActive,
      `controller ${controller} already has ${state.activeRequests} active requests, the maximum`,
    );

    await send(
      "sUSDai.requestRedeem",
      () => susdai.requestRedeem(shares, controller, signer.address),
      susdai.interface,
    );
    const [, tail] = await susdai.queueBounds();
    printFields("Redemption requested", [
      ["shares", formatAmount(shares, USDAI_DECIMALS, 6)],
      ["controller", await labelOf(hre, controller)],
      ["queue index", String(tail - 1n)],
      ["serviceable after", `${Number(cooldown) / 86_400} days (cooldown)`],
      ["controller pending shares", formatAmount(await susdai.pendingRedeemRequest(0, controller), 18, 6)],
    ]);
  });

roleTask("susdai:service", "Service due redemption requests from idle USDai (permissionless)", "keeper")
  .addOptionalParam("max", "most queue entries to service", "10")
  .setAction(async (args: { max: string; as: string }, hre) => {
    const max = parseInteger(args.max, "max", 1, 1_000);
    const signer = await signerOf(hre, args.as);
    const susdai = await stakedUsdaiAt(hre, signer);
    const [head, tail] = await susdai.queueBounds();
    if (head === tail) {
      out("The redemption queue is empty: nothing to service.");
      return;
    }
    // No exit is priced with a loan past grace still at par: mark those first (#24.2).
    const marked = await markPastGrace(hre, signer);
    if (marked.length !== 0) out(`Marked ${marked.length} loan(s) past grace first (see keeper:mark).`);
    const [serviced, shares, assets] = await susdai.serviceRedemptions.staticCall(max, {
      blockTag: "pending",
    });
    if (shares === 0n) {
      // Say which of the two conditions is missing (or both), not both by default.
      const next = await susdai.redemptionRequest(head);
      const idle = await susdai.idleAssets();
      const pendingTime = BigInt(await chainNow(hre)) + 1n;
      const missing: string[] = [];
      if (next.claimableAt > pendingTime) {
        missing.push(
          `the next request (index ${head}) is in its cooldown until ${formatTimestamp(next.claimableAt)}` +
            (isLocalNetwork(hre.network.name)
              ? " (on a local node: npx hardhat time:advance --by <duration>)"
              : ""),
        );
      }
      if (idle === 0n)
        missing.push("sUSDai holds no idle USDai (all of it is lent out); it needs repayments or deposits");
      if (missing.length === 0) {
        missing.push(
          `the next request (index ${head}) is due and ${formatUsd(idle)} is idle, yet none could be serviced`,
        );
      }
      throw new TaskError(`nothing can be serviced now: ${missing.join("; and ")}`);
    }
    await send("sUSDai.serviceRedemptions", () => susdai.serviceRedemptions(max), susdai.interface);
    printFields("Serviced redemptions", [
      ["requests fully serviced", serviced.toString()],
      ["shares burned", formatAmount(shares, USDAI_DECIMALS, 6)],
      ["USDai now claimable", formatUsd(assets)],
    ]);
  });

roleTask("susdai:claim", "Claim serviced redemptions as USDai", "lender1")
  .addOptionalParam("shares", "serviced shares to claim, in whole tokens (default: all claimable)")
  .addOptionalParam("to", "receiver of the USDai: named account or address (default: the signer)")
  .setAction(async (args: { shares?: string; to?: string; as: string }, hre) => {
    const signer = await signerOf(hre, args.as);
    const susdai = await stakedUsdaiAt(hre, signer);
    const usdai = await usdaiAt(hre);
    const to = await receiverOf(hre, args.to, signer.address);
    const claimable = await susdai.claimableRedeemRequest(0, signer.address);
    ensure(
      claimable > 0n,
      `--as ${args.as} has nothing claimable (request, wait the cooldown, then service)`,
    );
    const shares = args.shares === undefined ? claimable : parseAmount(args.shares, USDAI_DECIMALS, "shares");
    ensure(
      shares <= claimable,
      `--shares ${args.shares} is more than the ${formatAmount(claimable, USDAI_DECIMALS, 6)} claimable`,
    );
    const before = await usdai.balanceOf(to);
    await send("sUSDai.redeem", () => susdai.redeem(shares, to, signer.address), susdai.interface);
    printFields("Claimed redemption", [
      ["shares claimed", formatAmount(shares, USDAI_DECIMALS, 6)],
      ["USDai received", formatUsd((await usdai.balanceOf(to)) - before)],
      ["receiver", await labelOf(hre, to)],
    ]);
  });

viewTask("lender:position", "A lender's USDC, USDai and sUSDai position, with queued redemptions")
  .addOptionalParam("account", "named account or address", "lender1")
  .setAction(async (args: { account: string }, hre) => {
    const account = parseAccount(args.account, await namedAccounts(hre), "account");
    const [reserve, usdai, susdai] = await Promise.all([
      reserveTokenAt(hre),
      usdaiAt(hre),
      stakedUsdaiAt(hre),
    ]);
    const decimals = Number(await reserve.decimals());
    const shares = await susdai.balanceOf(account);
    const state = await susdai.controllerState(account);
    const value = await susdai.convertToAssets(shares);
    const price = await susdai.convertToAssets(10n ** 18n);
    printFields(`Position of ${await labelOf(hre, account)}`, [
      ["USDC", formatAmount(await reserve.balanceOf(account), decimals)],
      ["USDai", formatUsd(await usdai.balanceOf(account))],
      ["sUSDai shares", formatAmount(shares, USDAI_DECIMALS, 6)],
      ["sUSDai value (USDai)", formatUsd(value)],
      ["sUSDai price", formatAmount(price, USDAI_DECIMALS, 6)],
      ["pending redemption shares", formatAmount(state.pendingShares, USDAI_DECIMALS, 6)],
      ["active requests", String(state.activeRequests)],
      ["claimable shares", formatAmount(state.claimableShares, USDAI_DECIMALS, 6)],
      ["claimable USDai", formatUsd(state.claimableAssets)],
    ]);
  });

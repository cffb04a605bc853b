import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { usd, usdc } from "../../../../helpers/units";
import { ceilDiv, fail } from "../../protocol-model";
import { mulDivDown } from "../../../helpers/math";
import { World, lenderOf, bps } from "../world";
import { act, eventArgs, type Params } from "../execution";
import { RawTx } from "../rpc";

/**
 * Handlers of the lenders: USDai in and out of the reserve, donations, sUSDai deposits and mints, ERC-7540
 * redemption requests and claims (also through the attacker contract, which must be refused).
 */

/**
 * (13) no free gain (#24.4): `shares` just bought for `assets` at `t`, asked out at once and claimed at the earliest
 * service (a cooldown later), with no credit event in between, return at most what was paid plus their share of the
 * interest the book accrues meanwhile. The later NAV is the model's projection with nothing else happening: interest
 * accrues and unvested gains vest (vesting is shorter than the cooldown), so a deposit priced without a pending gain
 * would take part of it here. The model equals the chain at every step (7), so the projection is the chain's.
 */
function noFreeGain(w: World, t: bigint, shares: bigint, assets: bigint): void {
  const serviced = t + 1n + w.staked.cooldown;
  const later = w.loanAssets(serviced);
  const interest = later - w.loanAssets(t);
  const supply = w.staked.supply + 1n;
  const value = (shares * (w.staked.totalAssets(serviced, later) + 1n)) / supply;
  const bound = assets + ceilDiv(shares * (interest > 0n ? interest : 0n), supply) + 1n;
  expect(
    value,
    "(13) deposit, then claim at the earliest: at most the interest accrued",
  ).to.be.lessThanOrEqual(bound);
}

export async function usdaiMint(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const amount = variant === "zero" ? 0n : variant === "cap" ? usdc(2_000_000_000) : usdc(p.usd as number);
  const minted = amount * 10n ** 12n;
  const minOut = variant === "slippage" ? minted + 1n : minted;
  await act(
    w,
    "usdai.deposit",
    t,
    () => {
      if (amount === 0n) fail("usdai", "USDaiZeroAmount");
      if (minted < minOut) fail("usdai", "USDaiSlippage", minted, minOut);
      const supply = w.usdai.supply + minted;
      if (supply > w.s.supplyCap) fail("usdai", "USDaiSupplyCapExceeded", supply, w.s.supplyCap);
      w.reserve.require(lender.address, amount);
      return () => {
        w.usdai.mint(lender.address, minted);
        w.reserve.burn(lender.address, amount);
      };
    },
    () => w.s.fx.usdai.connect(lender).deposit(amount, minOut, lender.address),
  );
}

export async function usdaiRedeem(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const balance = w.usdai.of(lender.address);
  const variant = p.variant as string;
  const scale = 10n ** 12n;
  const amount =
    variant === "zero"
      ? 0n
      : variant === "dust"
        ? scale / 2n
        : variant === "over"
          ? balance + scale
          : bps(balance, p.bps as number);
  const out = amount / scale;
  const minOut = variant === "slippage" ? out + 1n : out;
  await act(
    w,
    "usdai.redeem",
    t,
    () => {
      if (amount === 0n) fail("usdai", "USDaiZeroAmount");
      if (out === 0n) fail("usdai", "USDaiBelowReserveUnit", amount, scale);
      if (out < minOut) fail("usdai", "USDaiSlippage", out, minOut);
      w.usdai.require(lender.address, out * scale);
      return () => {
        w.usdai.burn(lender.address, out * scale);
        w.reserve.mint(lender.address, out);
      };
    },
    () => w.s.fx.usdai.connect(lender).redeem(amount, minOut, lender.address),
  );
}

export async function donate(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const amount = usd(p.usd as number);
  await act(
    w,
    "donate",
    t,
    () => {
      w.usdai.require(lender.address, amount);
      return () => {
        w.usdai.move(lender.address, w.s.addr.susdai, amount);
        w.untracked += amount;
      };
    },
    () => w.s.fx.usdai.connect(lender).transfer(w.s.addr.susdai, amount),
  );
}

export async function deposit(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const assets =
    variant === "zero" ? 0n : variant === "over" ? w.usdai.of(lender.address) + 1n : usd(p.usd as number);
  const shares = w.staked.previewDeposit(w.entryNav(t), assets);
  const minShares = variant === "slippage" ? shares + 1n : shares;
  const { susdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  expect(
    await susdai.previewDeposit(assets, { blockTag: "pending" }),
    "previewDeposit at the deposit's block",
  ).to.equal(shares);
  await act(
    w,
    "susdai.deposit",
    t,
    () => {
      if (assets === 0n || shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      w.usdai.require(lender.address, assets);
      if (shares < minShares) fail("susdai", "StakedUSDaiSlippageShares", shares, minShares);
      return (receipt) => {
        const [event] = eventArgs(w, receipt, "susdai", "Deposit");
        expect(event.shares, "minted shares equal the preview").to.equal(shares);
        w.staked.idle += assets;
        w.staked.shares.mint(lender.address, shares);
        w.usdai.move(lender.address, w.s.addr.susdai, assets);
        w.ghost.inflow += assets;
        // (5) no free money: the new shares are worth at most what was paid, at once.
        const worth = (shares * (w.nav(t) + 1n)) / (w.staked.supply + 1n);
        expect(worth, "deposit-then-redeem value").to.be.lessThanOrEqual(assets);
        noFreeGain(w, t, shares, assets);
      };
    },
    () =>
      p.threeArg || variant === "slippage"
        ? susdai.connect(lender)["deposit(uint256,address,uint256)"](assets, lender.address, minShares)
        : susdai.connect(lender)["deposit(uint256,address)"](assets, lender.address),
  );
}

export async function mint(w: World, p: Params, t: bigint) {
  const lender = lenderOf(w, p.lender as number);
  const variant = p.variant as string;
  const shares = variant === "zero" ? 0n : usd(p.usd as number);
  const assets = w.staked.previewMint(w.entryNav(t), shares);
  const maxAssets = variant === "slippage" ? assets - 1n : assets;
  const { susdai } = w.s.fx;
  await time.setNextBlockTimestamp(t);
  expect(
    await susdai.previewMint(shares, { blockTag: "pending" }),
    "previewMint at the mint's block",
  ).to.equal(assets);
  await act(
    w,
    "susdai.mint",
    t,
    () => {
      if (assets === 0n || shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      w.usdai.require(lender.address, assets);
      if (assets > maxAssets) fail("susdai", "StakedUSDaiSlippageAssets", assets, maxAssets);
      return () => {
        w.staked.idle += assets;
        w.staked.shares.mint(lender.address, shares);
        w.usdai.move(lender.address, w.s.addr.susdai, assets);
        w.ghost.inflow += assets;
        const worth = (shares * (w.nav(t) + 1n)) / (w.staked.supply + 1n);
        expect(worth, "mint-then-redeem value").to.be.lessThanOrEqual(assets);
        noFreeGain(w, t, shares, assets);
      };
    },
    () => susdai.connect(lender)["mint(uint256,address,uint256)"](shares, lender.address, maxAssets),
  );
}

export async function requestRedeem(w: World, p: Params, t: bigint) {
  const owner = lenderOf(w, p.owner as number);
  const controller = lenderOf(w, p.controller as number).address;
  const balance = w.staked.shares.of(owner.address);
  const variant = p.variant as string;
  const m = w.staked;
  const shares =
    variant === "zero"
      ? 0n
      : variant === "tooSmall"
        ? mulDivDown(m.minRedeemAssets, m.supply + 1n, w.nav(t) + 1n) / 2n
        : variant === "over"
          ? balance + 1n
          : bps(balance, p.bps as number);
  await act(
    w,
    "susdai.requestRedeem",
    t,
    () => {
      if (shares === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      const value = mulDivDown(shares, w.nav(t) + 1n, m.supply + 1n);
      if (value < m.minRedeemAssets)
        fail("susdai", "StakedUSDaiRequestTooSmall", shares, value, m.minRedeemAssets);
      const c = m.controller(controller);
      if (c.active >= m.maxActiveRequests) fail("susdai", "StakedUSDaiTooManyRequests", controller, c.active);
      m.shares.require(owner.address, shares);
      return () => {
        c.pending += shares;
        c.active += 1n;
        m.queue.push({ controller, claimableAt: t + m.cooldown, shares });
        m.totalPending += shares;
        m.shares.move(owner.address, m.self, shares);
      };
    },
    () => w.s.fx.susdai.connect(owner).requestRedeem(shares, controller, owner.address),
  );
}

export async function claim(w: World, p: Params, t: bigint) {
  const owed = w.s.lenders.findIndex((l) => w.staked.controller(l.address).claimableShares !== 0n);
  const controller = lenderOf(w, p.aim && owed >= 0 ? owed : (p.controller as number));
  const c = w.staked.controller(controller.address);
  const redeem = p.kind === "redeem";
  const have = redeem ? c.claimableShares : c.claimableAssets;
  const mode = p.mode as string;
  const amount = mode === "max" ? have : mode === "part" ? have / 3n : mode === "over" ? have + 1n : 0n;
  const viaAttacker = p.attacker as boolean;
  const sender = viaAttacker ? w.s.attackerAddress : controller.address;
  const { susdai } = w.s.fx;
  // (11) max views never revert and name exactly what can be claimed.
  expect(await susdai.maxRedeem(controller.address)).to.equal(c.claimableShares);
  expect(await susdai.maxWithdraw(controller.address)).to.equal(c.claimableAssets);
  const data = redeem
    ? susdai.interface.encodeFunctionData("redeem", [amount, sender, controller.address])
    : susdai.interface.encodeFunctionData("withdraw", [amount, sender, controller.address]);
  await act(
    w,
    redeem ? "susdai.redeem" : "susdai.withdraw",
    t,
    () => {
      if (amount === 0n) fail("susdai", "StakedUSDaiZeroAmount");
      if (viaAttacker) fail("susdai", "StakedUSDaiNotOperator", sender, controller.address);
      if (amount > have) fail("susdai", "StakedUSDaiExceedsClaimable", controller.address, amount, have);
      const assets = redeem
        ? amount === c.claimableShares
          ? c.claimableAssets
          : (c.claimableAssets * amount) / c.claimableShares
        : amount;
      const shares = redeem
        ? amount
        : amount === c.claimableAssets
          ? c.claimableShares
          : ceilDiv(c.claimableShares * amount, c.claimableAssets);
      return () => {
        c.claimableShares -= shares;
        c.claimableAssets -= assets;
        w.staked.totalClaimable -= assets;
        w.usdai.move(w.s.addr.susdai, controller.address, assets);
      };
    },
    () =>
      viaAttacker
        ? w.s.attacker.connect(w.s.fx.actors.attacker).execute(w.s.addr.susdai, data)
        : new RawTx(controller.address, w.s.addr.susdai, data),
  );
}

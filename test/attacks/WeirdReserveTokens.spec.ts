import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { ZeroAddress } from "ethers";

import { usd, usdc } from "../../helpers/units";
import type { FalseReturnToken, FeeOnTransferToken, NaiveMinter, USDai } from "../../typechain-types";
import { fuzzParams } from "../helpers/fuzz";
import { deployBehindProxy } from "../helpers/proxy";

/**
 * A fee-on-transfer or a false-returning token as the reserve. Against `NaiveMinter` (nominal mint, return value
 * ignored) a fee-on-transfer reserve leaves the coin under-reserved by the fee on every deposit, and a false-returning
 * reserve lets an attacker with no tokens and no allowance mint for free. USDai measures what it received and uses
 * SafeERC20: the first is refused with `USDaiTransferShortfall(expected, received)`, the second with
 * `SafeERC20FailedOperation(token)`, and nothing is minted.
 */
async function signers() {
  const [admin, lender, attacker, treasury] = await hre.ethers.getSigners();
  return { admin, lender, attacker, treasury };
}

async function usdaiOver(token: string): Promise<USDai> {
  const { admin, treasury } = await signers();
  return deployBehindProxy<USDai>("USDai", [admin.address, token, ZeroAddress, treasury.address, usd(1e12)]);
}

describe("Attack: fee-on-transfer and false-returning reserve tokens", () => {
  describe("against NaiveMinter (nominal mint, unchecked transferFrom)", () => {
    it("a fee-on-transfer reserve: every deposit mints more than the reserves received", async () => {
      const { lender } = await signers();
      const token = (await hre.ethers.deployContract(
        "FeeOnTransferToken",
        [6, 100],
      )) as unknown as FeeOnTransferToken;
      const naive = (await hre.ethers.deployContract("NaiveMinter", [
        token.target,
      ])) as unknown as NaiveMinter;
      await token.mint(lender.address, usdc(1_000));
      await token.connect(lender).approve(naive.target, usdc(1_000));
      await naive.connect(lender).deposit(usdc(1_000));
      expect(await naive.totalSupply()).to.equal(usdc(1_000));
      expect(await naive.reserves()).to.equal(usdc(990));
    });

    it("a false-returning reserve: an attacker with no tokens and no allowance mints for free", async () => {
      const { attacker } = await signers();
      const token = (await hre.ethers.deployContract("FalseReturnToken", [6])) as unknown as FalseReturnToken;
      const naive = (await hre.ethers.deployContract("NaiveMinter", [
        token.target,
      ])) as unknown as NaiveMinter;
      await naive.connect(attacker).deposit(usdc(1_000_000));
      expect(await naive.balanceOf(attacker.address)).to.equal(usdc(1_000_000));
      expect(await naive.reserves()).to.equal(0n);
    });
  });

  describe("against USDai", () => {
    it("any fee-on-transfer rate and amount is refused with the exact shortfall; nothing minted, nothing moved", async () => {
      const { lender } = await signers();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 10_000 }),
          fc.bigInt({ min: 1n, max: usdc(1_000_000_000) }),
          async (feeBps, amount) => {
            const token = (await hre.ethers.deployContract("FeeOnTransferToken", [
              6,
              feeBps,
            ])) as unknown as FeeOnTransferToken;
            const usdai = await usdaiOver(await token.getAddress());
            await token.mint(lender.address, amount);
            await token.connect(lender).approve(usdai.target, amount);
            const fee = (amount * BigInt(feeBps)) / 10_000n;
            const deposit = usdai.connect(lender).deposit(amount, 0n, lender.address);
            if (fee === 0n) {
              // below one unit of fee the token is a plain token: the deposit is fully reserved
              await deposit;
              expect(await usdai.totalSupply()).to.equal(amount * 10n ** 12n);
              expect(await usdai.totalReserves()).to.equal(amount);
              return;
            }
            await expect(deposit)
              .to.be.revertedWithCustomError(usdai, "USDaiTransferShortfall")
              .withArgs(amount, amount - fee);
            expect(await usdai.totalSupply()).to.equal(0n);
            expect(await token.balanceOf(lender.address)).to.equal(amount);
          },
        ),
        fuzzParams(25),
      );
    });

    it("a false-returning reserve: no allowance, or no balance, reverts with SafeERC20FailedOperation", async () => {
      const { lender, attacker } = await signers();
      const token = (await hre.ethers.deployContract("FalseReturnToken", [6])) as unknown as FalseReturnToken;
      const usdai = await usdaiOver(await token.getAddress());
      // no tokens, no allowance
      await expect(usdai.connect(attacker).deposit(usdc(1_000_000), 0n, attacker.address))
        .to.be.revertedWithCustomError(usdai, "SafeERC20FailedOperation")
        .withArgs(token.target);
      // an allowance but no tokens
      await token.connect(attacker).approve(usdai.target, usdc(1_000_000));
      await expect(usdai.connect(attacker).deposit(usdc(1_000_000), 0n, attacker.address))
        .to.be.revertedWithCustomError(usdai, "SafeERC20FailedOperation")
        .withArgs(token.target);
      expect(await usdai.totalSupply()).to.equal(0n);
      // an honest deposit still works, and the attacker cannot redeem what it never paid for
      await token.mint(lender.address, usdc(500));
      await token.connect(lender).approve(usdai.target, usdc(500));
      await usdai.connect(lender).deposit(usdc(500), 0n, lender.address);
      expect(await usdai.totalSupply()).to.equal(usd(500));
      expect(await usdai.totalReserves()).to.equal(usdc(500));
      await expect(usdai.connect(attacker).redeem(usd(500), 0n, attacker.address))
        .to.be.revertedWithCustomError(usdai, "ERC20InsufficientBalance")
        .withArgs(attacker.address, 0n, usd(500));
    });
  });
});

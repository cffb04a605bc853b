import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";

import { fuzzParams, uint256 } from "../helpers/fuzz";
import type { FixedPointMathHarness } from "../../typechain-types";

const MAX = 2n ** 256n - 1n;

/** The bigint model: exact rational results, then the named rounding. */
const model = {
  mulDivDown: (x: bigint, y: bigint, d: bigint) => (x * y) / d,
  mulDivUp: (x: bigint, y: bigint, d: bigint) => (x * y + d - 1n) / d,
};

describe("FixedPointMath", () => {
  let math: FixedPointMathHarness;

  before(async () => {
    math = await hre.ethers.deployContract("FixedPointMathHarness");
  });

  describe("mulDivDown / mulDivUp", () => {
    it("match the bigint model, round in their named direction and differ by at most one", async () => {
      await fc.assert(
        fc.asyncProperty(uint256(), uint256(), uint256(), async (x, y, d) => {
          fc.pre(d > 0n && model.mulDivUp(x, y, d) <= MAX);
          const down = await math.mulDivDown(x, y, d);
          const up = await math.mulDivUp(x, y, d);
          expect(down).to.equal(model.mulDivDown(x, y, d));
          expect(up).to.equal(model.mulDivUp(x, y, d));
          expect(down * d <= x * y).to.equal(true);
          expect(up * d >= x * y).to.equal(true);
          expect(up - down).to.equal((x * y) % d === 0n ? 0n : 1n);
        }),
        fuzzParams(300),
      );
    });

    it("revert on a zero denominator and on a result above uint256", async () => {
      await expect(math.mulDivDown(1n, 1n, 0n)).to.be.revertedWithPanic(0x12);
      await expect(math.mulDivUp(1n, 1n, 0n)).to.be.revertedWithPanic(0x12);
      // OpenZeppelin's Math.mulDiv panics with 0x11 (arithmetic overflow) when the result exceeds uint256
      await expect(math.mulDivDown(MAX, 2n, 1n)).to.be.revertedWithPanic(0x11);
      await expect(math.mulDivUp(MAX, MAX, MAX - 1n)).to.be.revertedWithPanic(0x11);
    });
  });

  describe("divUp / min / zeroFloorSub", () => {
    it("match the bigint model", async () => {
      await fc.assert(
        fc.asyncProperty(uint256(), uint256(), async (x, y) => {
          if (y > 0n) expect(await math.divUp(x, y)).to.equal(x / y + (x % y === 0n ? 0n : 1n));
          expect(await math.min(x, y)).to.equal(x < y ? x : y);
          expect(await math.zeroFloorSub(x, y)).to.equal(x > y ? x - y : 0n);
        }),
        fuzzParams(200),
      );
    });
  });
});

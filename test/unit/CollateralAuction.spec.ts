import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String, MaxUint256, ZeroAddress, type Result } from "ethers";

import { deployProtocol } from "../fixtures/protocol";
import { fuzzParams } from "../helpers/fuzz";
import { openLoan, stake } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { declareDefaultAt, fundBuyer, liquidateAt } from "../helpers/recovery";
import { curveFor, priceAt, settle, type Curve } from "../helpers/loan-model";
import { BPS, ceilDiv } from "../helpers/math";
import { DAY, LoanStatus } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { CollateralAuction } from "../../typechain-types";
import { createFixture } from "../helpers/fixture";

/** A struct read by field name, so a reordered storage layout does not matter. */
const named = (r: unknown): Record<string, unknown> => (r as Result).toObject();

/** `ICollateralAuction.AuctionStatus`. */
const Status = { None: 0n, Live: 1n, Sold: 2n, Expired: 3n } as const;

const UINT128_MAX = 2n ** 128n - 1n;

/** config/protocol.ts defaults, as the deploy scripts set them. */
const PREMIUM = 2_000n;
const FLOOR = 5_000n;
const DURATION = BigInt(3 * DAY);

// 63,072 USDai: a multiple of 10,000 x 31,536,000 wei x 1e7, so interest is exact (no per-checkpoint rounding).
const PRINCIPAL = usd(63_072);
const COLLATERAL_USD = 105_120; // principal / 60% max LTV
const COLLATERAL = usd(COLLATERAL_USD);

/** A loan of borrower1, defaulted on its first missed payment, not yet liquidated. */
const defaultedFixture = createFixture(async () => {
  const fx = await deployProtocol();
  await stake(fx, fx.actors.lender1, 1_000_000);
  const { loanId, receiptIds } = await openLoan(fx, fx.actors.borrower1, PRINCIPAL, COLLATERAL_USD);
  const defaultedAt = await declareDefaultAt(fx, loanId);
  await fundBuyer(fx, fx.actors.liquidator.address, usd(500_000));
  return { ...fx, loanId, receiptIds, defaultedAt };
});

/** The same loan liquidated: auction 1 is live. */
const auctionFixture = createFixture(async () => {
  const fx = await defaultedFixture();
  const { auctionId, startedAt } = await liquidateAt(fx, fx.loanId);
  return { ...fx, auctionId, startedAt, endsAt: startedAt + DURATION };
});

type Fixture = Awaited<ReturnType<typeof auctionFixture>>;

describe("CollateralAuction", () => {
  let f: Fixture;

  /**
   * The live lot's curve: its floor is the highest of the floor parameter, the loan's maximum LTV (60% here) and the
   * reserve the vault set (the impaired value less the cash held; here the principal, 60% of the collateral).
   */
  async function lotCurve(): Promise<Curve> {
    const s = await f.loanVault.stateOf(f.loanId);
    const t = await f.loanVault.termsOf(f.loanId);
    const cash = s.lockbox + s.reserve;
    const reserve = s.impairedValue > cash ? s.impairedValue - cash : 0n;
    return curveFor(COLLATERAL, PREMIUM, FLOOR, DURATION, reserve, t.maxLtvBps);
  }
  let curve: Curve;

  const reads = (): Reads => ({
    auction: () => f.auction.auctionOf(f.auctionId).then(named),
    ofLoan: () => f.auction.auctionOfLoan(f.loanId),
    params: () => f.auction.auctionParams().then(named),
    custodian: () => f.auction.recoveryCustodian(),
    loan: () => f.loanVault.stateOf(f.loanId).then(named),
    receiptOwner: () => f.receipts.ownerOf(f.receiptIds[0]),
    buyerUsdai: () => f.usdai.balanceOf(f.actors.liquidator.address),
    vaultUsdai: () => f.usdai.balanceOf(f.loanVault.target),
    borrowerUsdai: () => f.usdai.balanceOf(f.actors.borrower1.address),
    stakedUsdai: () => f.usdai.balanceOf(f.susdai.target),
    idle: () => f.susdai.idleAssets(),
    nav: () => f.susdai.totalAssets(),
    losses: () => f.susdai.cumulativeLosses(),
  });

  beforeEach(async () => {
    f = await auctionFixture();
    curve = await lotCurve();
  });

  describe("initialize", () => {
    it("is wired by the deploy scripts: parameters, custodian and roles", async () => {
      const { auction, actors, loanVault } = f;
      const params = await auction.auctionParams();
      expect(params.startPremiumBps).to.equal(PREMIUM);
      expect(params.floorBps).to.equal(FLOOR);
      expect(params.durationSeconds).to.equal(DURATION);
      expect(await auction.recoveryCustodian()).to.equal(actors.creditAdmin.address);
      expect(await auction.hasRole(Roles.DEFAULT_ADMIN, actors.deployer.address)).to.equal(true);
      expect(await auction.hasRole(Roles.LOAN_VAULT, loanVault.target)).to.equal(true);
      expect(await auction.hasRole(Roles.CREDIT_ADMIN, actors.creditAdmin.address)).to.equal(true);
      expect(await loanVault.auction()).to.equal(auction.target);
    });

    it("cannot run twice on the proxy, nor on the implementation", async () => {
      const { auction, actors } = f;
      const params = { startPremiumBps: 0, floorBps: 1, durationSeconds: 3600 };
      await expect(
        auction.connect(actors.attacker).initialize(actors.attacker.address, actors.attacker.address, params),
      ).to.be.revertedWithCustomError(auction, "InvalidInitialization");
      const impl = await deployImplementation();
      await expect(
        impl.initialize(actors.attacker.address, actors.attacker.address, params),
      ).to.be.revertedWithCustomError(auction, "InvalidInitialization");
      await expectUnchanged(await snapshot(reads()), reads());
    });

    it("refuses a zero admin or custodian and out-of-range parameters", async () => {
      const { auction, actors } = f;
      const ok = { startPremiumBps: 2_000, floorBps: 5_000, durationSeconds: 3 * DAY };
      const admin = actors.deployer.address;
      await expect(deployAuctionProxy([ZeroAddress, admin, ok])).to.be.revertedWithCustomError(
        auction,
        "AuctionZeroAddress",
      );
      await expect(deployAuctionProxy([admin, ZeroAddress, ok])).to.be.revertedWithCustomError(
        auction,
        "AuctionZeroAddress",
      );
      await expect(deployAuctionProxy([admin, admin, { ...ok, durationSeconds: 59 }]))
        .to.be.revertedWithCustomError(auction, "AuctionInvalidParam")
        .withArgs(encodeBytes32String("durationSeconds"), 59);
      const fresh = (await deployAuctionProxy([admin, actors.liquidator.address, ok])) as CollateralAuction;
      expect(await fresh.recoveryCustodian()).to.equal(actors.liquidator.address);
      expect((await fresh.auctionParams()).floorBps).to.equal(5_000n);
      expect(await fresh.hasRole(Roles.DEFAULT_ADMIN, admin)).to.equal(true);
    });
  });

  describe("start", () => {
    it("is LOAN_VAULT only", async () => {
      const { auction, actors } = f;
      const before = await snapshot(reads());
      await expect(auction.connect(actors.attacker).start(9, [1], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.LOAN_VAULT);
      // the credit admin and the default admin are not the vault either
      await expect(auction.connect(actors.creditAdmin).start(9, [1], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
        .withArgs(actors.creditAdmin.address, Roles.LOAN_VAULT);
      await expectUnchanged(before, reads());
      expect(await auction.auctionOfLoan(9)).to.equal(0n);
    });

    it("refuses an empty lot or a zero collateral value", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.keeper).start(7, [], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionEmptyLot")
        .withArgs(7);
      await expect(auction.connect(actors.keeper).start(7, [1], 0, 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionEmptyLot")
        .withArgs(7);
      await expectUnchanged(before, reads());
      expect(await auction.auctionOfLoan(7)).to.equal(0n);
    });

    it("prices a lot off its collateral value, rounding start and floor up", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const at = BigInt(await time.latest()) + 100n;
      await time.setNextBlockTimestamp(at);
      // 3 wei: start = ceil(3 x 1.2) = 4, floor = ceil(4 x 0.5 / 1.2) = 2 (= ceil(3 x 0.5)); the auction id is the loan id
      expect(await auction.connect(actors.keeper).start.staticCall(77, [5, 6], 3, 0, 0)).to.equal(77n);
      await expect(auction.connect(actors.keeper).start(77, [5, 6], 3, 0, 0))
        .to.emit(auction, "AuctionStarted")
        .withArgs(77, 77, 4, 2, at + DURATION, [5, 6]);
      const a = await auction.auctionOf(77);
      expect(a.loanId).to.equal(77n);
      expect(a.startPrice).to.equal(4n);
      expect(a.floorPrice).to.equal(2n);
      expect(a.startedAt).to.equal(at);
      expect(a.duration).to.equal(DURATION);
      expect(a.status).to.equal(Status.Live);
      // the lot is read from the LoanVault, which has no loan 77: nothing is copied into the auction
      expect(a.receiptIds).to.deep.equal([]);
      expect(await auction.auctionOfLoan(77)).to.equal(77n);
      // the first auction is untouched
      expect((await auction.auctionOf(f.auctionId)).startPrice).to.equal(curve.startPrice);
    });

    it("derives the floor from the start price: 1 wei above floorBps of the collateral when the start rounded up", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      await auction
        .connect(actors.creditAdmin)
        .setAuctionParams({ startPremiumBps: 5_000, floorBps: 10_000, durationSeconds: 3_600 });
      // 1 wei at +50%: start = ceil(1.5) = 2; floor = ceil(2 x 1.0 / 1.5) = 2, where ceil(1 x 1.0) would be 1
      const c = curveFor(1n, 5_000n, 10_000n, 3_600n);
      expect(c).to.deep.equal({ startPrice: 2n, floorPrice: 2n, duration: 3_600n });
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      await expect(auction.connect(actors.keeper).start(88, [1], 1, 0, 0))
        .to.emit(auction, "AuctionStarted")
        .withArgs(88, 88, 2, 2, at + 3_600n, [1]);
      expect((await auction.auctionOf(88)).floorPrice).to.equal(2n);
      // a flat curve: the price stays at 2 to the end
      await time.increaseTo(at + 3_600n);
      expect(await auction.price(88)).to.equal(2n);
    });

    it("matches the stored-curve model for any parameters, collateral and time (seeded)", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      let loanId = 1_000n;
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 2n ** 110n }),
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 1, max: 20_000 }),
          fc.integer({ min: 3_600, max: 30 * DAY }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (collateral, premium, floorRaw, duration, share) => {
            const floor = 1 + (floorRaw % (10_000 + premium)); // 1 .. 10,000 + premium
            const id = ++loanId;
            await auction
              .connect(actors.creditAdmin)
              .setAuctionParams({ startPremiumBps: premium, floorBps: floor, durationSeconds: duration });
            const c = curveFor(collateral, BigInt(premium), BigInt(floor), BigInt(duration));
            const at = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(at);
            await expect(auction.connect(actors.keeper).start(id, [1], collateral, 0, 0))
              .to.emit(auction, "AuctionStarted")
              .withArgs(id, id, c.startPrice, c.floorPrice, at + BigInt(duration), [1]);
            const a = await auction.auctionOf(id);
            expect(a.startPrice).to.equal(c.startPrice);
            expect(a.floorPrice).to.equal(c.floorPrice);
            // floorBps of the collateral value, rounded up, plus at most 1 wei; never above the start
            const plain = ceilDiv(collateral * BigInt(floor), BPS);
            expect(c.floorPrice >= plain && c.floorPrice <= plain + 1n).to.equal(true);
            expect(c.floorPrice <= c.startPrice).to.equal(true);
            const elapsed = BigInt(Math.floor(share * duration));
            if (elapsed > 0n) await time.increaseTo(at + elapsed);
            expect(await auction.price(id)).to.equal(priceAt(c, elapsed));
          },
        ),
        fuzzParams(40),
      );
    });

    it("refuses a loan already auctioned (live, sold or expired), after the lot check, state unchanged", async () => {
      const { auction, actors, loanId, endsAt } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const keeper = auction.connect(actors.keeper);
      const before = await snapshot(reads());
      await expect(keeper.start(loanId, [1], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionAlreadyStarted")
        .withArgs(loanId);
      // an empty lot is refused first
      await expect(keeper.start(loanId, [], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionEmptyLot")
        .withArgs(loanId);
      await expectUnchanged(before, reads());

      const snap = await hre.network.provider.send("evm_snapshot");
      await auction.connect(actors.liquidator).buy(loanId, curve.startPrice);
      const { nav: _nav, ...timeless } = reads(); // the sale's gain vests, so NAV moves with time
      const sold = await snapshot(timeless);
      await expect(keeper.start(loanId, [1], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionAlreadyStarted")
        .withArgs(loanId);
      await expectUnchanged(sold, timeless);
      await hre.network.provider.send("evm_revert", [snap]);

      await time.increaseTo(endsAt + 1n);
      await auction.expire(loanId);
      const expired = await snapshot(reads());
      await expect(keeper.start(loanId, [1], usd(1), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionAlreadyStarted")
        .withArgs(loanId);
      await expectUnchanged(expired, reads());
    });

    it("refuses a second start for the same loan id, keeping the first auction", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const keeper = auction.connect(actors.keeper);
      await keeper.start(77, [5], usd(10), 0, 0);
      const first = await auction.auctionOf(77).then(named);
      await expect(keeper.start(77, [6], usd(20), 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionAlreadyStarted")
        .withArgs(77);
      expect(await auction.auctionOf(77).then(named)).to.deep.equal(first);
      expect(first.startPrice).to.equal(usd(12));
    });

    it("refuses a start price above 128 bits with its value, state unchanged", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const keeper = auction.connect(actors.keeper);
      // at +20%, the largest collateral whose start price fits is floor(max x 10,000 / 12,000)
      const fits = (UINT128_MAX * BPS) / (BPS + PREMIUM);
      const over = ceilDiv((fits + 1n) * (BPS + PREMIUM), BPS);
      expect(over).to.be.greaterThan(UINT128_MAX);
      const before = await snapshot(reads());
      await expect(keeper.start(90, [1], fits + 1n, 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionPriceOverflow")
        .withArgs(over);
      // a collateral value whose start price does not even fit 256 bits panics in the multiplication
      await expect(keeper.start(90, [1], MaxUint256, 0, 0)).to.be.revertedWithPanic(0x11);
      await expectUnchanged(before, reads());
      expect(await auction.auctionOfLoan(90)).to.equal(0n);
      // with no premium, 2^128 itself is the first value refused
      await auction
        .connect(actors.creditAdmin)
        .setAuctionParams({ startPremiumBps: 0, floorBps: 5_000, durationSeconds: 3 * DAY });
      await expect(keeper.start(91, [1], UINT128_MAX + 1n, 0, 0))
        .to.be.revertedWithCustomError(auction, "AuctionPriceOverflow")
        .withArgs(UINT128_MAX + 1n);
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      await expect(keeper.start(91, [1], UINT128_MAX, 0, 0))
        .to.emit(auction, "AuctionStarted")
        .withArgs(91, 91, UINT128_MAX, ceilDiv(UINT128_MAX, 2n), at + BigInt(3 * DAY), [1]);
      // the largest start price at +20% is taken, and its curve prices without overflow
      await auction.connect(actors.creditAdmin).setAuctionParams({
        startPremiumBps: Number(PREMIUM),
        floorBps: Number(FLOOR),
        durationSeconds: Number(DURATION),
      });
      await keeper.start(90, [1], fits, 0, 0);
      const big = curveFor(fits, PREMIUM, FLOOR, DURATION);
      expect(big.startPrice).to.be.at.most(UINT128_MAX);
      const a = await auction.auctionOf(90);
      expect(a.startPrice).to.equal(big.startPrice);
      expect(a.floorPrice).to.equal(big.floorPrice);
      await time.increaseTo(a.startedAt + DURATION / 3n);
      expect(await auction.price(90)).to.equal(priceAt(big, DURATION / 3n));
    });

    it("liquidate starts it for the loan's receipts at the collateral value (through the vault)", async () => {
      const fx = await defaultedFixture();
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      // The reserve is the impaired value (the principal: the loan was in non-accrual), 60% of the collateral, which
      // is also the loan's maximum LTV: the floor is 60%, above the 50% parameter.
      const c = curveFor(COLLATERAL, PREMIUM, FLOOR, DURATION, PRINCIPAL, 6_000n);
      await expect(fx.loanVault.connect(fx.actors.creditAdmin).liquidate(fx.loanId))
        .to.emit(fx.auction, "AuctionStarted")
        .withArgs(fx.loanId, fx.loanId, c.startPrice, c.floorPrice, at + DURATION, fx.receiptIds)
        .and.to.emit(fx.loanVault, "ReserveSet")
        .withArgs(fx.loanId, PRINCIPAL, PRINCIPAL)
        .and.to.emit(fx.loanVault, "LoanLiquidated")
        .withArgs(fx.loanId, fx.loanId, COLLATERAL);
      expect(c.startPrice).to.equal(usd(126_144));
      expect(c.floorPrice).to.equal(PRINCIPAL);
      expect(await fx.auction.minFloorOf(fx.loanId)).to.equal(PRINCIPAL);
      expect(await fx.auction.minFloorOf(fx.loanId + 1n)).to.equal(0n); // no auction
      expect(await fx.receipts.ownerOf(fx.receiptIds[0])).to.equal(fx.auction.target);
      expect((await fx.loanVault.stateOf(fx.loanId)).status).to.equal(LoanStatus.Liquidating);
    });
  });

  describe("start: reserve and minimum floor (#24.5)", () => {
    it("the floor is the highest of the parameter, the maximum LTV and the reserve (whole bps, rounded up), at most the start", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const keeper = auction.connect(actors.keeper);
      let id = 1_000n;
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 10n ** 30n }),
          fc.integer({ min: 0, max: 20_000 }),
          fc.bigInt({ min: 0n, max: 2n * 10n ** 30n }),
          async (collateral, maxLtv, reserve) => {
            id++;
            await keeper.start(id, [1], collateral, reserve, maxLtv);
            const c = curveFor(collateral, PREMIUM, FLOOR, DURATION, reserve, BigInt(maxLtv));
            const a = await auction.auctionOf(id);
            expect([a.startPrice, a.floorPrice]).to.deep.equal([c.startPrice, c.floorPrice]);
            // the floor never sells below the reserve, unless the reserve is above the start price
            expect(c.floorPrice >= reserve || c.floorPrice === c.startPrice).to.equal(true);
            const minFloor = curveFor(collateral, PREMIUM, FLOOR, DURATION, 0n, BigInt(maxLtv)).floorPrice;
            expect(await auction.minFloorOf(id)).to.equal(minFloor);
          },
        ),
        fuzzParams(30),
      );
    });
  });

  describe("lowerFloor", () => {
    /** A keeper holding LOAN_VAULT starts a lot of 100k collateral at a 90k reserve with a 60% maximum LTV. */
    async function reservedLot(): Promise<{ keeper: CollateralAuction; id: bigint; startedAt: bigint }> {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const keeper = auction.connect(actors.keeper);
      await keeper.start(500n, [1], usd(100_000), usd(90_000), 6_000n);
      return { keeper, id: 500n, startedAt: BigInt(await time.latest()) };
    }

    it("lowers the floor to the reserve accepted (whole bps, rounded up): the curve falls to it over the same duration", async () => {
      const { auction } = f;
      const { keeper, id, startedAt } = await reservedLot();
      expect((await auction.auctionOf(id)).floorPrice).to.equal(usd(90_000));
      const reserve = usd(70_000) + 1n; // not a whole bps of the collateral: the floor rounds up to 7,001 bps
      expect(await keeper.lowerFloor.staticCall(id, reserve)).to.equal(usd(70_010));
      await expect(keeper.lowerFloor(id, reserve))
        .to.emit(auction, "AuctionFloorLowered")
        .withArgs(id, reserve, usd(70_010));
      const c = { ...curveFor(usd(100_000), PREMIUM, FLOOR, DURATION), floorPrice: usd(70_010) };
      await time.increaseTo(startedAt + DURATION / 3n);
      expect(await auction.price(id)).to.equal(priceAt(c, DURATION / 3n));
      // down to the minimum floor (the 60% maximum LTV), never below
      await keeper.lowerFloor(id, usd(60_000));
      expect((await auction.auctionOf(id)).floorPrice).to.equal(usd(60_000));
    });

    it("reverts: not the vault, not live, ended, below the minimum floor, not lower; state unchanged", async () => {
      const { auction, actors, auctionId, endsAt } = f;
      const { keeper, id, startedAt } = await reservedLot();
      const lot = () => auction.auctionOf(id).then(named);
      const before = await snapshot({ ...reads(), lot });
      await expect(auction.connect(actors.creditAdmin).lowerFloor(id, usd(70_000)))
        .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
        .withArgs(actors.creditAdmin.address, Roles.LOAN_VAULT);
      await expect(keeper.lowerFloor(42n, usd(70_000)))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(42n, Status.None);
      await expect(keeper.lowerFloor(id, usd(60_000) - 1n))
        .to.be.revertedWithCustomError(auction, "AuctionReserveBelowMinFloor")
        .withArgs(id, usd(60_000) - 1n, usd(60_000));
      // the reserve rounds up to the floor in force: nothing would be lowered
      await expect(keeper.lowerFloor(id, usd(90_000) - 1n))
        .to.be.revertedWithCustomError(auction, "AuctionFloorNotLowered")
        .withArgs(id, usd(90_000) - 1n, usd(90_000));
      await expect(keeper.lowerFloor(id, usd(95_000)))
        .to.be.revertedWithCustomError(auction, "AuctionFloorNotLowered")
        .withArgs(id, usd(95_000), usd(90_000));
      await expectUnchanged(before, { ...reads(), lot });
      // after the end, and once sold
      await time.increaseTo(startedAt + DURATION + 1n);
      await expect(keeper.lowerFloor(id, usd(70_000)))
        .to.be.revertedWithCustomError(auction, "AuctionEnded")
        .withArgs(id, startedAt + DURATION);
      expect(endsAt).to.be.lessThan(startedAt + DURATION + 1n);
      await auction.expire(auctionId);
      await expect(keeper.lowerFloor(auctionId, usd(1)))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Expired);
    });
  });

  describe("price", () => {
    it("falls linearly from start to floor, rounded up, exactly at several timestamps", async () => {
      const { auction, auctionId, startedAt } = f;
      for (const elapsed of [1n, 7n, 3_600n, 86_399n, DURATION / 2n, DURATION - 1n, DURATION]) {
        await time.increaseTo(startedAt + elapsed);
        const p = await auction.price(auctionId);
        expect(p, `elapsed ${elapsed}`).to.equal(priceAt(curve, elapsed));
        // rounded up: never below the exact curve, less than 1 wei above it
        const exactTimesDuration =
          curve.startPrice * DURATION - (curve.startPrice - curve.floorPrice) * elapsed;
        expect(p * DURATION >= exactTimesDuration).to.equal(true);
        expect(p * DURATION - exactTimesDuration < DURATION).to.equal(true);
      }
      expect(await auction.price(auctionId)).to.equal(curve.floorPrice);
      // 1 second in, the exact price is not whole: the curve rounds up
      expect(priceAt(curve, 1n)).to.equal(curve.startPrice - 243_333_333_333_333_333n);
    });

    it("reverts for an unknown auction, after the end, and once sold or expired", async () => {
      const { auction, auctionId, endsAt, actors } = f;
      await expect(auction.price(42))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(42, 0);
      await time.increaseTo(endsAt + 1n);
      await expect(auction.price(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionEnded")
        .withArgs(auctionId, endsAt);
      await auction.connect(actors.attacker).expire(auctionId);
      await expect(auction.price(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Expired);
    });
  });

  describe("buy", () => {
    it("sells at the curve price: USDai to the vault, the loan settled, the lot to the buyer", async () => {
      const { auction, loanVault, auctionId, loanId, startedAt, actors, usdai, receipts, susdai } = f;
      const buyer = actors.liquidator;
      const at = startedAt + 3_600n;
      const price = priceAt(curve, 3_600n);
      const state = await loanVault.stateOf(loanId);
      const s = settle(
        price,
        { principal: state.principal, interest: state.interest, lateFees: state.lateFees },
        state.impairedValue,
      );
      // the debt is booked at its impaired value at once; the late fees (and anything above the impaired value) vest
      const bookedPrincipal = s.booked < state.principal ? s.booked : state.principal;
      expect(s.loss).to.equal(0n);
      expect(s.gain).to.be.greaterThan(0n);
      expect(s.surplus).to.be.greaterThan(0n);
      const buyerBefore = await usdai.balanceOf(buyer.address);
      const borrowerBefore = await usdai.balanceOf(actors.borrower1.address);
      const vaultBefore = await usdai.balanceOf(loanVault.target);
      const stakedBefore = await usdai.balanceOf(susdai.target);
      const idleBefore = await susdai.idleAssets();
      await time.setNextBlockTimestamp(at);
      const tx = auction.connect(buyer).buy(auctionId, price);
      await expect(tx)
        .to.emit(auction, "AuctionBought")
        .withArgs(auctionId, loanId, buyer.address, price)
        .and.to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, price, 0, s.repaid, s.fees, s.surplus, 0);
      await expect(tx)
        .to.emit(susdai, "RepaymentReceived")
        .withArgs(bookedPrincipal, s.booked - bookedPrincipal)
        .and.to.emit(susdai, "GainVesting")
        .withArgs(s.gain, s.gain, at + BigInt(DAY));
      await expect(tx).not.to.emit(susdai, "LossRecorded");
      // the price goes buyer -> vault -> sUSDai (repaid + fees, pushed) and the borrower (surplus)
      await expect(tx)
        .to.emit(usdai, "Transfer")
        .withArgs(buyer.address, loanVault.target, price)
        .and.to.emit(usdai, "Transfer")
        .withArgs(loanVault.target, susdai.target, s.booked + s.gain)
        .and.to.emit(usdai, "Transfer")
        .withArgs(loanVault.target, actors.borrower1.address, s.surplus);
      expect(await usdai.balanceOf(buyer.address)).to.equal(buyerBefore - price);
      expect(await usdai.balanceOf(actors.borrower1.address)).to.equal(borrowerBefore + s.surplus);
      expect(await usdai.balanceOf(loanVault.target)).to.equal(vaultBefore);
      expect(await usdai.balanceOf(susdai.target)).to.equal(stakedBefore + s.repaid + s.fees);
      expect(await susdai.idleAssets()).to.equal(idleBefore + s.booked + s.gain);
      expect(await susdai.unvestedGains()).to.equal(s.gain);
      expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(buyer.address);
      const a = await auction.auctionOf(auctionId);
      expect(a.status).to.equal(Status.Sold);
      // a sold auction keeps its curve and lot in the view; the buyer is only in the event
      expect(a.loanId).to.equal(loanId);
      expect(a.startPrice).to.equal(curve.startPrice);
      expect(a.floorPrice).to.equal(curve.floorPrice);
      expect(a.receiptIds).to.deep.equal(f.receiptIds);
      expect(await auction.auctionOfLoan(loanId)).to.equal(auctionId);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.Recovered);
      expect(await susdai.cumulativeLosses()).to.equal(0n);
    });

    it("sells at the floor at the last second of the auction", async () => {
      const { auction, auctionId, endsAt, actors } = f;
      await time.setNextBlockTimestamp(endsAt);
      await expect(auction.connect(actors.liquidator).buy(auctionId, curve.floorPrice))
        .to.emit(auction, "AuctionBought")
        .withArgs(auctionId, f.loanId, actors.liquidator.address, curve.floorPrice);
    });

    it("reverts above the buyer's limit (1 wei under the price), state unchanged", async () => {
      const { auction, auctionId, startedAt, actors } = f;
      const before = await snapshot(reads());
      const price = priceAt(curve, 500n);
      await time.setNextBlockTimestamp(startedAt + 500n);
      await expect(auction.connect(actors.liquidator).buy(auctionId, price - 1n))
        .to.be.revertedWithCustomError(auction, "AuctionPriceAboveMax")
        .withArgs(price, price - 1n);
      await expectUnchanged(before, reads());
    });

    it("reverts for a buyer that is not a RECEIPT_HOLDER, state unchanged", async () => {
      const { auction, auctionId, actors, receipts } = f;
      await fundBuyer(f, actors.attacker.address, usd(200_000));
      expect(await receipts.hasRole(Roles.RECEIPT_HOLDER, actors.attacker.address)).to.equal(false);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.attacker).buy(auctionId, usd(1_000_000)))
        .to.be.revertedWithCustomError(auction, "AuctionBuyerNotAllowed")
        .withArgs(actors.attacker.address);
      await expectUnchanged(before, reads());
    });

    it("reverts for the loan's own borrower (a RECEIPT_HOLDER), state unchanged", async () => {
      const { auction, auctionId, loanId, loanVault, actors, receipts } = f;
      const borrower = actors.borrower1;
      expect((await loanVault.termsOf(loanId)).borrower).to.equal(borrower.address);
      expect(await receipts.hasRole(Roles.RECEIPT_HOLDER, borrower.address)).to.equal(true);
      await fundBuyer(f, borrower.address, usd(200_000));
      const before = await snapshot(reads());
      await expect(auction.connect(borrower).buy(auctionId, usd(1_000_000)))
        .to.be.revertedWithCustomError(loanVault, "LoanVaultBuyerIsBorrower")
        .withArgs(loanId, borrower.address);
      await expectUnchanged(before, reads());
    });

    it("reverts for an unknown auction", async () => {
      const { auction, actors } = f;
      await expect(auction.connect(actors.liquidator).buy(0, usd(1_000_000)))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(0, Status.None);
      await expect(auction.connect(actors.liquidator).buy(2, usd(1_000_000)))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(2, Status.None);
    });

    it("reverts after the end (before checking the buyer), state unchanged", async () => {
      const { auction, auctionId, endsAt, actors } = f;
      await time.increaseTo(endsAt);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.liquidator).buy(auctionId, usd(1_000_000)))
        .to.be.revertedWithCustomError(auction, "AuctionEnded")
        .withArgs(auctionId, endsAt);
      await expect(auction.connect(actors.attacker).buy(auctionId, usd(1_000_000)))
        .to.be.revertedWithCustomError(auction, "AuctionEnded")
        .withArgs(auctionId, endsAt);
      await expectUnchanged(before, reads());
    });

    it("reverts once sold or expired", async () => {
      const { auction, auctionId, actors, endsAt } = f;
      const snap = await hre.network.provider.send("evm_snapshot");
      await auction.connect(actors.liquidator).buy(auctionId, curve.startPrice);
      // after a sale the gain vests, so NAV moves with time: compare the rest
      const { nav: _nav, ...sold } = reads();
      const before = await snapshot(sold);
      await expect(auction.connect(actors.liquidator).buy(auctionId, curve.startPrice))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Sold);
      await expectUnchanged(before, sold);
      await hre.network.provider.send("evm_revert", [snap]);

      await time.increaseTo(endsAt + 1n);
      await auction.connect(actors.attacker).expire(auctionId);
      await expect(auction.connect(actors.liquidator).buy(auctionId, curve.startPrice))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Expired);
    });

    it("reverts without a USDai allowance, state unchanged", async () => {
      const { auction, auctionId, actors, usdai } = f;
      await usdai.connect(actors.liquidator).approve(auction.target, 0);
      const before = await snapshot(reads());
      await expect(
        auction.connect(actors.liquidator).buy(auctionId, curve.startPrice),
      ).to.be.revertedWithCustomError(usdai, "ERC20InsufficientAllowance");
      await expectUnchanged(before, reads());
    });
  });

  describe("expire", () => {
    it("reverts until the end (inclusive), then anyone hands the lot to the custodian and writes the loan off", async () => {
      const { auction, loanVault, auctionId, loanId, endsAt, actors, receipts, susdai, usdai } = f;
      await time.increaseTo(endsAt - 1n);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.attacker).expire(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionNotEnded")
        .withArgs(auctionId, endsAt);
      await expectUnchanged(before, reads());

      const state = await loanVault.stateOf(loanId);
      const debt = state.principal + state.interest;
      const lossesBefore = await susdai.cumulativeLosses();
      const stakedBefore = await usdai.balanceOf(susdai.target);
      const idleBefore = await susdai.idleAssets();
      await time.setNextBlockTimestamp(endsAt + 1n);
      const tx = auction.connect(actors.attacker).expire(auctionId);
      await expect(tx)
        .to.emit(auction, "AuctionExpired")
        .withArgs(auctionId, loanId, actors.creditAdmin.address)
        .and.to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, 0, 0, 0, 0, 0, debt);
      // nothing to push: sUSDai only records the loss
      await expect(tx)
        .to.emit(susdai, "LossRecorded")
        .withArgs(debt, lossesBefore + debt);
      await expect(tx).not.to.emit(susdai, "RepaymentReceived");
      await expect(tx).not.to.emit(susdai, "GainVesting");
      await expect(tx).not.to.emit(auction, "AuctionBought");
      expect(await usdai.balanceOf(susdai.target)).to.equal(stakedBefore);
      expect(await susdai.idleAssets()).to.equal(idleBefore);
      expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(actors.creditAdmin.address);
      const a = await auction.auctionOf(auctionId);
      expect(a.status).to.equal(Status.Expired);
      expect(a.loanId).to.equal(loanId);
      expect(a.receiptIds).to.deep.equal(f.receiptIds);
      expect((await loanVault.stateOf(loanId)).status).to.equal(LoanStatus.WrittenOff);
      expect(await susdai.cumulativeLosses()).to.equal(lossesBefore + debt);
    });

    it("reverts exactly at the end", async () => {
      const { auction, auctionId, endsAt, actors } = f;
      await time.setNextBlockTimestamp(endsAt);
      await expect(auction.connect(actors.attacker).expire(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionNotEnded")
        .withArgs(auctionId, endsAt);
    });

    it("reverts for an unknown, a sold or an expired auction", async () => {
      const { auction, auctionId, endsAt, actors } = f;
      await expect(auction.expire(5))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(5, 0);
      const snap = await hre.network.provider.send("evm_snapshot");
      await auction.connect(actors.liquidator).buy(auctionId, curve.startPrice);
      await time.increaseTo(endsAt + 1n);
      await expect(auction.expire(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Sold);
      await hre.network.provider.send("evm_revert", [snap]);
      await time.increaseTo(endsAt + 1n);
      await auction.expire(auctionId);
      const before = await snapshot(reads());
      await expect(auction.expire(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionBadStatus")
        .withArgs(auctionId, Status.Expired);
      await expectUnchanged(before, reads());
    });

    it("sends the lot to the custodian current at expiry", async () => {
      const { auction, auctionId, endsAt, actors, receipts } = f;
      await auction.connect(actors.deployer).setRecoveryCustodian(actors.liquidator.address);
      await time.increaseTo(endsAt + 1n);
      await expect(auction.expire(auctionId))
        .to.emit(auction, "AuctionExpired")
        .withArgs(auctionId, f.loanId, actors.liquidator.address);
      expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(actors.liquidator.address);
    });
  });

  describe("setAuctionParams", () => {
    const valid = { startPremiumBps: 1_000, floorBps: 6_000, durationSeconds: 2 * DAY };

    it("is CREDIT_ADMIN only (not even the default admin)", async () => {
      const { auction, actors } = f;
      const before = await snapshot(reads());
      for (const who of [actors.attacker, actors.deployer]) {
        await expect(auction.connect(who).setAuctionParams(valid))
          .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, Roles.CREDIT_ADMIN);
      }
      await expectUnchanged(before, reads());
    });

    it("refuses each out-of-range field, naming it", async () => {
      const { auction, actors } = f;
      const admin = auction.connect(actors.creditAdmin);
      const before = await snapshot(reads());
      const cases: [Record<string, number>, string, number][] = [
        [{ startPremiumBps: 10_001 }, "startPremiumBps", 10_001],
        [{ floorBps: 0 }, "floorBps", 0],
        [{ startPremiumBps: 0, floorBps: 10_001 }, "floorBps", 10_001],
        [{ startPremiumBps: 1_000, floorBps: 11_001 }, "floorBps", 11_001],
        [{ durationSeconds: 3_599 }, "durationSeconds", 3_599],
        [{ durationSeconds: 30 * DAY + 1 }, "durationSeconds", 30 * DAY + 1],
        [{ durationSeconds: 0 }, "durationSeconds", 0],
      ];
      for (const [override, field, value] of cases) {
        await expect(admin.setAuctionParams({ ...valid, ...override }), field)
          .to.be.revertedWithCustomError(auction, "AuctionInvalidParam")
          .withArgs(encodeBytes32String(field), value);
      }
      await expectUnchanged(before, reads());
    });

    it("accepts the bounds and applies to future auctions only", async () => {
      const { auction, actors, auctionId, startedAt } = f;
      const admin = auction.connect(actors.creditAdmin);
      for (const p of [
        { startPremiumBps: 10_000, floorBps: 20_000, durationSeconds: 3_600 },
        { startPremiumBps: 0, floorBps: 10_000, durationSeconds: 30 * DAY },
        { startPremiumBps: 0, floorBps: 1, durationSeconds: 3_600 },
      ]) {
        await expect(admin.setAuctionParams(p))
          .to.emit(auction, "AuctionParamsSet")
          .withArgs([p.startPremiumBps, p.floorBps, p.durationSeconds]);
        const read = await auction.auctionParams();
        expect(read.startPremiumBps).to.equal(p.startPremiumBps);
        expect(read.floorBps).to.equal(p.floorBps);
        expect(read.durationSeconds).to.equal(p.durationSeconds);
      }
      // the live auction keeps its curve
      const a = await auction.auctionOf(auctionId);
      expect(a.startPrice).to.equal(curve.startPrice);
      expect(a.floorPrice).to.equal(curve.floorPrice);
      expect(a.duration).to.equal(DURATION);
      await time.increaseTo(startedAt + 1_000n);
      expect(await auction.price(auctionId)).to.equal(priceAt(curve, 1_000n));
    });

    it("a change after the start does not move the running auction's curve; the next auction takes it", async () => {
      const { auction, actors, auctionId, loanId, startedAt, endsAt } = f;
      // a flat curve at +100% over one hour: everything the live auction snapshotted differs
      const next = { startPremiumBps: 10_000, floorBps: 20_000, durationSeconds: 3_600 };
      await auction.connect(actors.creditAdmin).setAuctionParams(next);
      const a = await auction.auctionOf(auctionId);
      expect(a.startPrice).to.equal(curve.startPrice);
      expect(a.floorPrice).to.equal(curve.floorPrice);
      expect(a.duration).to.equal(DURATION);
      // past the new duration it is still live, priced on its own curve
      for (const elapsed of [3_600n, 3_601n, DURATION / 2n, DURATION]) {
        await time.increaseTo(startedAt + elapsed);
        expect(await auction.price(auctionId), `elapsed ${elapsed}`).to.equal(priceAt(curve, elapsed));
      }
      expect(await time.latest()).to.equal(Number(endsAt));
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expect(auction.connect(actors.liquidator).buy(auctionId, curve.startPrice))
        .to.be.revertedWithCustomError(auction, "AuctionEnded")
        .withArgs(auctionId, endsAt);
      // an auction started now takes the new parameters: start = floor = 2 x collateral, ending an hour later
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      await expect(auction.connect(actors.keeper).start(loanId + 100n, [1], usd(5), 0, 0))
        .to.emit(auction, "AuctionStarted")
        .withArgs(loanId + 100n, loanId + 100n, usd(10), usd(10), at + 3_600n, [1]);
    });
  });

  describe("setRecoveryCustodian", () => {
    it("is DEFAULT_ADMIN only (not the credit admin)", async () => {
      const { auction, actors } = f;
      const before = await snapshot(reads());
      for (const who of [actors.attacker, actors.creditAdmin]) {
        await expect(auction.connect(who).setRecoveryCustodian(actors.attacker.address))
          .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, Roles.DEFAULT_ADMIN);
      }
      await expectUnchanged(before, reads());
    });

    it("refuses the zero address", async () => {
      const { auction, actors } = f;
      const before = await snapshot(reads());
      await expect(
        auction.connect(actors.deployer).setRecoveryCustodian(ZeroAddress),
      ).to.be.revertedWithCustomError(auction, "AuctionZeroAddress");
      await expectUnchanged(before, reads());
    });

    it("sets the custodian", async () => {
      const { auction, actors } = f;
      await expect(auction.connect(actors.deployer).setRecoveryCustodian(actors.liquidator.address))
        .to.emit(auction, "RecoveryCustodianSet")
        .withArgs(actors.liquidator.address);
      expect(await auction.recoveryCustodian()).to.equal(actors.liquidator.address);
    });
  });

  describe("views", () => {
    it("auctionOf and auctionOfLoan describe the live auction, keyed by its loan id", async () => {
      const { auction, auctionId, loanId, startedAt } = f;
      expect(auctionId).to.equal(loanId);
      expect(await auction.auctionOfLoan(loanId)).to.equal(loanId);
      const a = named(await auction.auctionOf(auctionId));
      expect(Object.keys(a)).to.deep.equal([
        "loanId",
        "startPrice",
        "floorPrice",
        "startedAt",
        "duration",
        "status",
        "receiptIds",
      ]);
      expect(a.loanId).to.equal(loanId);
      expect(a.startPrice).to.equal(curve.startPrice);
      expect(a.floorPrice).to.equal(curve.floorPrice);
      expect(a.startedAt).to.equal(startedAt);
      expect(a.duration).to.equal(DURATION);
      expect(a.status).to.equal(Status.Live);
      expect([...(a.receiptIds as bigint[])]).to.deep.equal(f.receiptIds);
    });

    it("an unknown auction or loan reads as all zero with no receipts", async () => {
      const { auction } = f;
      for (const id of [0n, 2n, 99n, MaxUint256]) {
        const a = await auction.auctionOf(id);
        expect(a.loanId).to.equal(0n);
        expect(a.startPrice).to.equal(0n);
        expect(a.floorPrice).to.equal(0n);
        expect(a.startedAt).to.equal(0n);
        expect(a.duration).to.equal(0n);
        expect(a.status).to.equal(Status.None);
        expect(a.receiptIds).to.deep.equal([]);
        expect(await auction.auctionOfLoan(id)).to.equal(0n);
      }
    });

    it("a second loan's auction takes that loan's id; before it starts the loan reads empty", async () => {
      const { auction, loanVault, actors } = f;
      const second = await openLoan(f, actors.borrower2, PRINCIPAL, COLLATERAL_USD);
      expect(second.loanId).to.equal(f.loanId + 1n);
      // the loan has receipts in the vault, but no auction: the view does not read them
      expect(await loanVault.receiptsOf(second.loanId)).to.deep.equal(second.receiptIds);
      expect((await auction.auctionOf(second.loanId)).receiptIds).to.deep.equal([]);
      expect(await auction.auctionOfLoan(second.loanId)).to.equal(0n);
      await declareDefaultAt(f, second.loanId);
      const { auctionId, startedAt } = await liquidateAt(f, second.loanId);
      expect(auctionId).to.equal(second.loanId);
      const a = await auction.auctionOf(auctionId);
      expect(a.loanId).to.equal(second.loanId);
      expect(a.startedAt).to.equal(startedAt);
      expect(a.receiptIds).to.deep.equal(second.receiptIds);
      // the first auction is still its own
      const first = await auction.auctionOf(f.auctionId);
      expect(first.loanId).to.equal(f.loanId);
      expect(first.receiptIds).to.deep.equal(f.receiptIds);
    });
  });
});

async function deployImplementation(): Promise<CollateralAuction> {
  const { deployments } = hre;
  const loanVault = await deployments.get("LoanVault");
  const usdai = await deployments.get("USDai");
  const receipts = await deployments.get("GpuReceipt");
  return (await hre.ethers.deployContract("CollateralAuction", [
    loanVault.address,
    usdai.address,
    receipts.address,
  ])) as unknown as CollateralAuction;
}

async function deployAuctionProxy(initArgs: unknown[]): Promise<CollateralAuction> {
  const impl = await deployImplementation();
  const data = impl.interface.encodeFunctionData("initialize", initArgs as never);
  const proxy = await hre.ethers.deployContract("TestERC1967Proxy", [await impl.getAddress(), data]);
  return (await hre.ethers.getContractAt(
    "CollateralAuction",
    await proxy.getAddress(),
  )) as unknown as CollateralAuction;
}

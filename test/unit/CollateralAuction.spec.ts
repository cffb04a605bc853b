import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String, ZeroAddress, type Result } from "ethers";

import { deployProtocol } from "../fixtures/protocol";
import { openLoan, stake } from "../helpers/loans";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import {
  curveFor,
  declareDefaultAt,
  fundBuyer,
  liquidateAt,
  priceAt,
  settle,
  type Curve,
} from "../helpers/recovery";
import { DAY, LoanStatus } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { CollateralAuction } from "../../typechain-types";

/** A struct read by field name, so a reordered storage layout does not matter. */
const named = (r: unknown): Record<string, unknown> => (r as Result).toObject();

/** `ICollateralAuction.AuctionStatus`. */
const Status = { None: 0n, Live: 1n, Sold: 2n, Expired: 3n } as const;

/** config/protocol.ts defaults, as the deploy scripts set them. */
const PREMIUM = 2_000n;
const FLOOR = 5_000n;
const DURATION = BigInt(3 * DAY);

// 63,072 USDai: a multiple of 10,000 x 31,536,000 wei x 1e7, so interest is exact (no per-checkpoint rounding).
const PRINCIPAL = usd(63_072);
const COLLATERAL_USD = 105_120; // principal / 60% max LTV
const COLLATERAL = usd(COLLATERAL_USD);

/** A loan of borrower1, defaulted on its first missed payment, not yet liquidated. */
const defaultedFixture = hre.deployments.createFixture(async () => {
  const fx = await deployProtocol();
  await stake(fx, fx.actors.lender1, 1_000_000);
  const { loanId, receiptIds } = await openLoan(fx, fx.actors.borrower1, PRINCIPAL, COLLATERAL_USD);
  const defaultedAt = await declareDefaultAt(fx, loanId);
  await fundBuyer(fx, fx.actors.liquidator.address, usd(500_000));
  return { ...fx, loanId, receiptIds, defaultedAt };
});

/** The same loan liquidated: auction 1 is live. */
const auctionFixture = hre.deployments.createFixture(async () => {
  const fx = await defaultedFixture();
  const { auctionId, startedAt } = await liquidateAt(fx, fx.loanId);
  return { ...fx, auctionId, startedAt, endsAt: startedAt + DURATION };
});

type Fixture = Awaited<ReturnType<typeof auctionFixture>>;

describe("CollateralAuction", () => {
  let f: Fixture;
  let curve: Curve;

  const reads = (): Reads => ({
    count: () => f.auction.auctionCount(),
    auction: () => f.auction.auctionOf(f.auctionId).then(named),
    ofLoan: () => f.auction.auctionOfLoan(f.loanId),
    params: () => f.auction.auctionParams().then(named),
    custodian: () => f.auction.recoveryCustodian(),
    loan: () => f.loanVault.stateOf(f.loanId).then(named),
    receiptOwner: () => f.receipts.ownerOf(f.receiptIds[0]),
    buyerUsdai: () => f.usdai.balanceOf(f.actors.liquidator.address),
    vaultUsdai: () => f.usdai.balanceOf(f.loanVault.target),
    borrowerUsdai: () => f.usdai.balanceOf(f.actors.borrower1.address),
    nav: () => f.susdai.totalAssets(),
    losses: () => f.susdai.cumulativeLosses(),
  });

  beforeEach(async () => {
    f = await auctionFixture();
    curve = curveFor(COLLATERAL, PREMIUM, FLOOR, DURATION);
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
      await expect(auction.connect(actors.attacker).start(9, [1], usd(1)))
        .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
        .withArgs(actors.attacker.address, Roles.LOAN_VAULT);
      // the credit admin and the default admin are not the vault either
      await expect(auction.connect(actors.creditAdmin).start(9, [1], usd(1)))
        .to.be.revertedWithCustomError(auction, "AccessControlUnauthorizedAccount")
        .withArgs(actors.creditAdmin.address, Roles.LOAN_VAULT);
      await expectUnchanged(before, reads());
      expect(await auction.auctionOfLoan(9)).to.equal(0n);
    });

    it("refuses an empty lot or a zero collateral value", async () => {
      const { auction, actors } = f;
      await auction.connect(actors.deployer).grantRole(Roles.LOAN_VAULT, actors.keeper.address);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.keeper).start(7, [], usd(1)))
        .to.be.revertedWithCustomError(auction, "AuctionEmptyLot")
        .withArgs(7);
      await expect(auction.connect(actors.keeper).start(7, [1], 0))
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
      // 3 wei: start = ceil(3 x 1.2) = 4, floor = ceil(3 x 0.5) = 2
      await expect(auction.connect(actors.keeper).start(77, [5, 6], 3))
        .to.emit(auction, "AuctionStarted")
        .withArgs(2, 77, 4, 2, at + DURATION, [5, 6]);
      const a = await auction.auctionOf(2);
      expect(a.loanId).to.equal(77n);
      expect(a.startPrice).to.equal(4n);
      expect(a.floorPrice).to.equal(2n);
      expect(a.startedAt).to.equal(at);
      expect(a.duration).to.equal(DURATION);
      expect(a.status).to.equal(Status.Live);
      expect(a.buyer).to.equal(ZeroAddress);
      expect(await auction.auctionOfLoan(77)).to.equal(2n);
      expect(await auction.auctionCount()).to.equal(2n);
    });

    it("liquidate starts it for the loan's receipts at the collateral value (through the vault)", async () => {
      const fx = await defaultedFixture();
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      const c = curveFor(COLLATERAL, PREMIUM, FLOOR, DURATION);
      await expect(fx.loanVault.connect(fx.actors.attacker).liquidate(fx.loanId))
        .to.emit(fx.auction, "AuctionStarted")
        .withArgs(1, fx.loanId, c.startPrice, c.floorPrice, at + DURATION, fx.receiptIds)
        .and.to.emit(fx.loanVault, "LoanLiquidated")
        .withArgs(fx.loanId, 1, COLLATERAL);
      expect(c.startPrice).to.equal(usd(126_144));
      expect(c.floorPrice).to.equal(usd(52_560));
      expect(await fx.receipts.ownerOf(fx.receiptIds[0])).to.equal(fx.auction.target);
      expect((await fx.loanVault.stateOf(fx.loanId)).status).to.equal(LoanStatus.Liquidating);
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
      expect(priceAt(curve, 1n)).to.equal(curve.startPrice - 283_888_888_888_888_888n);
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
      const buyerBefore = await usdai.balanceOf(buyer.address);
      const borrowerBefore = await usdai.balanceOf(actors.borrower1.address);
      await time.setNextBlockTimestamp(at);
      await expect(auction.connect(buyer).buy(auctionId, price))
        .to.emit(auction, "AuctionBought")
        .withArgs(auctionId, loanId, buyer.address, price)
        .and.to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, price, s.repaid, s.surplus, 0);
      expect(await usdai.balanceOf(buyer.address)).to.equal(buyerBefore - price);
      expect(await usdai.balanceOf(actors.borrower1.address)).to.equal(borrowerBefore + s.surplus);
      expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(buyer.address);
      const a = await auction.auctionOf(auctionId);
      expect(a.status).to.equal(Status.Sold);
      expect(a.buyer).to.equal(buyer.address);
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
      const { auction, loanVault, auctionId, loanId, endsAt, actors, receipts, susdai } = f;
      await time.increaseTo(endsAt - 1n);
      const before = await snapshot(reads());
      await expect(auction.connect(actors.attacker).expire(auctionId))
        .to.be.revertedWithCustomError(auction, "AuctionNotEnded")
        .withArgs(auctionId, endsAt);
      await expectUnchanged(before, reads());

      const state = await loanVault.stateOf(loanId);
      const debt = state.principal + state.interest;
      const lossesBefore = await susdai.cumulativeLosses();
      await time.setNextBlockTimestamp(endsAt + 1n);
      await expect(auction.connect(actors.attacker).expire(auctionId))
        .to.emit(auction, "AuctionExpired")
        .withArgs(auctionId, loanId, actors.creditAdmin.address)
        .and.to.emit(loanVault, "AuctionSettled")
        .withArgs(loanId, 0, 0, 0, debt);
      expect(await receipts.ownerOf(f.receiptIds[0])).to.equal(actors.creditAdmin.address);
      expect((await auction.auctionOf(auctionId)).status).to.equal(Status.Expired);
      expect((await auction.auctionOf(auctionId)).buyer).to.equal(ZeroAddress);
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
    it("auctionOf, auctionOfLoan and auctionCount describe the live auction", async () => {
      const { auction, auctionId, loanId, startedAt } = f;
      expect(auctionId).to.equal(1n);
      expect(await auction.auctionCount()).to.equal(1n);
      expect(await auction.auctionOfLoan(loanId)).to.equal(auctionId);
      const a = await auction.auctionOf(auctionId);
      expect(a.loanId).to.equal(loanId);
      expect(a.startPrice).to.equal(curve.startPrice);
      expect(a.floorPrice).to.equal(curve.floorPrice);
      expect(a.startedAt).to.equal(startedAt);
      expect(a.duration).to.equal(DURATION);
      expect(a.status).to.equal(Status.Live);
      expect(a.buyer).to.equal(ZeroAddress);
      expect(a.receiptIds).to.deep.equal(f.receiptIds);
    });

    it("an unknown auction or loan reads as empty", async () => {
      const { auction } = f;
      const a = await auction.auctionOf(99);
      expect(a.loanId).to.equal(0n);
      expect(a.startPrice).to.equal(0n);
      expect(a.status).to.equal(Status.None);
      expect(a.buyer).to.equal(ZeroAddress);
      expect(a.receiptIds).to.deep.equal([]);
      expect(await auction.auctionOfLoan(99)).to.equal(0n);
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

import { expect } from "chai";
import hre, { upgrades } from "hardhat";
import { Contract, ContractFactory, MaxUint256, parseUnits } from "ethers";
import { mine, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  getStorageLayout,
  getStorageUpgradeReport,
  getVersion,
  withValidationDefaults,
} from "@openzeppelin/upgrades-core";
import { readValidations } from "@openzeppelin/hardhat-upgrades/dist/utils/validations";

import legacy from "../fixtures/legacy/LoanVault.v0.json";
import legacyAuction from "../fixtures/legacy/CollateralAuction.v0.json";
import legacyOracle from "../fixtures/legacy/UtilizationOracle.v0.json";
import { fundUsdai, mintReceipts, now, stake } from "../helpers/loans";
import { loanTerms } from "../../helpers/loans";
import { dayOf, signReport, toSubmission } from "../../helpers/reports";
import { usd } from "../../helpers/units";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { Cores, type CoreId } from "../../helpers/deploy-ids";
import { Roles } from "../../helpers/roles";
import { linkedFactory } from "../helpers/proxy";

/** The core's factory, linked against the deployed libraries. */
const factoryOf = async (name: CoreId) => linkedFactory(name);

/** OpenZeppelin's upgrade report from a recorded v0 storage layout to today's layout of `name` passes. */
async function expectLayoutKept(name: string, v0Layout: unknown): Promise<void> {
  const validations = await readValidations(hre);
  const artifact = await hre.artifacts.readArtifact(name);
  const updated = getStorageLayout(validations, getVersion(artifact.bytecode, artifact.deployedBytecode));
  const report = getStorageUpgradeReport(
    v0Layout as typeof updated,
    updated,
    withValidationDefaults({ kind: "uups" }),
  );
  expect(report.ok, report.explain()).to.equal(true);
}

/** The covenant terms appended to `ILoanVault.LoanTerms` after v0 (slot 4): v0's approval and terms have none. */
const COVENANT_TERMS = ["minDscrBps", "lockboxCheck", "shortfallToleranceBps", "maxGapDays"];

/** Today's LoanVault ABI with v0's `LoanTerms` (without the covenant terms) in `approveLoan` and `termsOf`. */
async function v0LoanVaultAbi(): Promise<unknown[]> {
  type Param = { name: string; components?: Param[] };
  type Fragment = { type: string; name?: string; inputs?: Param[]; outputs?: Param[] };
  const abi = structuredClone((await hre.artifacts.readArtifact("LoanVault")).abi) as Fragment[];
  const strip = (param: Param) => {
    param.components = param.components!.filter((c) => !COVENANT_TERMS.includes(c.name));
  };
  for (const fragment of abi) {
    if (fragment.name === "approveLoan") strip(fragment.inputs![0]);
    if (fragment.name === "termsOf") strip(fragment.outputs![0]);
  }
  return abi;
}

const getImplementationAddress = async (proxy: string): Promise<string> =>
  upgrades.erc1967.getImplementationAddress(proxy);

describe("Upgrades", () => {
  let f: ProtocolFixture;

  beforeEach(async () => {
    f = await deployProtocol();
  });

  for (const name of Cores) {
    describe(name, () => {
      it("passes OpenZeppelin's upgrade-safety validation (UUPS, ERC-7201, no constructor state)", async () => {
        const constructorArgs = (await hre.deployments.get(`${name}_Implementation`)).args ?? [];
        // `constructorArgs` (for the immutables) is accepted at runtime but missing from the plugin's option type.
        const options = { kind: "uups", constructorArgs } as Parameters<
          typeof upgrades.validateImplementation
        >[1];
        await upgrades.validateImplementation(await factoryOf(name), options);
      });

      it("is deployed behind an ERC1967 proxy whose implementation cannot be initialized", async () => {
        const proxy = await hre.deployments.get(name);
        const implementation = await hre.deployments.get(`${name}_Implementation`);
        expect(await getImplementationAddress(proxy.address)).to.equal(implementation.address);
      });

      it("refuses an upgrade from an account without UPGRADER", async () => {
        const { actors } = f;
        const proxy = await hre.ethers.getContractAt(
          "ProtocolUpgradeable",
          (await hre.deployments.get(name)).address,
        );
        const implementationBefore = await getImplementationAddress(await proxy.getAddress());
        const args = (await hre.deployments.get(`${name}_Implementation`)).args ?? [];
        const next = await (await factoryOf(name)).deploy(...args);
        for (const account of [actors.attacker, actors.guardian]) {
          await expect(proxy.connect(account).upgradeToAndCall(await next.getAddress(), "0x"))
            .to.be.revertedWithCustomError(proxy, "AccessControlUnauthorizedAccount")
            .withArgs(account.address, Roles.UPGRADER);
        }
        expect(await getImplementationAddress(await proxy.getAddress())).to.equal(implementationBefore);
      });
    });
  }

  describe("LoanVault v0 (before the router redesign) -> today's LoanVault", () => {
    /** v0's creation bytecode with its three libraries deployed from the fixture and linked in. */
    async function deployLegacyImplementation(): Promise<string> {
      const [deployer] = await hre.ethers.getSigners();
      let bytecode = legacy.implementation.bytecode;
      const refs = legacy.implementation.linkReferences as Record<
        string,
        Record<string, { start: number; length: number }[]>
      >;
      for (const [name, library] of Object.entries(legacy.libraries)) {
        const deployed = await new ContractFactory([], library.bytecode, deployer).deploy();
        const address = (await deployed.getAddress()).slice(2).toLowerCase();
        for (const { start, length } of refs[library.sourceName][name]) {
          const at = 2 + start * 2;
          bytecode = bytecode.slice(0, at) + address + bytecode.slice(at + length * 2);
        }
      }
      expect(bytecode).to.not.include("__$");
      const abi = (await hre.artifacts.readArtifact("LoanVault")).abi;
      const impl = await new ContractFactory(abi, bytecode, deployer).deploy(
        f.susdai.target,
        f.receipts.target,
      );
      return impl.getAddress();
    }

    it("keeps the storage layout (OpenZeppelin's upgrade report from v0's layout to today's)", async () => {
      await expectLayoutKept("LoanVault", legacy.storageLayout);
    });

    it("a proxy holding active, defaulted and auctioned loans upgrades with every debt, status and loanAssets() unchanged", async () => {
      const { actors, loanVault, auction, usdai } = f;
      const vault = loanVault.connect(actors.deployer);
      const current = (await hre.deployments.get("LoanVault_Implementation")).address;
      // v0 starts auctions with v0's `start(loanId, receiptIds, collateralValue)`: the auction runs its v0 too, and both
      // are upgraded together (a live lot from v0 has no minimum floor: its floor cannot be lowered).
      const auctionProxy = auction.connect(actors.deployer);
      const currentAuction = (await hre.deployments.get("CollateralAuction_Implementation")).address;
      const auctionV0 = await new ContractFactory(
        legacyAuction.abi,
        legacyAuction.bytecode,
        actors.deployer,
      ).deploy(loanVault.target, usdai.target, f.receipts.target);
      await auctionProxy.upgradeToAndCall(await auctionV0.getAddress(), "0x");
      // Put the proxy on v0 before any loan exists, then run the book through v0's code. (Today's sUSDai prices
      // deposits from `entryLoanAssets()`, which v0 lacks: the lender deposits first. An upgrade of a deployment
      // upgrades the vault before sUSDai.)
      await stake(f, actors.lender1, 3_000_000);
      await vault.upgradeToAndCall(await deployLegacyImplementation(), "0x");
      // v0's approval and terms are without the covenant terms: approve and read them with v0's ABI.
      const v0 = new Contract(loanVault.target, (await v0LoanVaultAbi()) as never, actors.underwriter);
      const openLoan = async (
        borrower: typeof actors.borrower1,
        principal: bigint,
        collateralUsd: number,
        site = "DAL-1",
      ) => {
        const receiptIds = await mintReceipts(f, borrower, 1, collateralUsd, site);
        const loanId = (await loanVault.loanCount()) + 1n;
        const terms: Record<string, unknown> = loanTerms(borrower.address, principal, site, await now());
        for (const name of COVENANT_TERMS) delete terms[name];
        await v0.approveLoan(terms);
        await loanVault.connect(borrower).borrow(loanId, receiptIds);
        return { loanId, receiptIds };
      };
      const active = await openLoan(actors.borrower1, usd(200_000), 400_000);
      const defaulted = await openLoan(actors.borrower2, usd(150_000), 300_000);
      const auctioned = await openLoan(actors.borrower3, usd(100_000), 200_000, "PHX-2");
      await fundUsdai(f, actors.borrower1, 100_000);
      for (let k = 0; k < 2; k++) {
        await time.increase(30 * 86_400 + 3_600);
        const [, due] = await loanVault.nextPayment(active.loanId);
        await loanVault.connect(actors.borrower1).repay(active.loanId, due + usd(1));
      }
      await loanVault.connect(actors.borrower1).depositRevenue(active.loanId, usd(5_000));
      await loanVault.sweep(active.loanId);
      await loanVault.declareDefault(defaulted.loanId);
      await loanVault.declareDefault(auctioned.loanId);
      await loanVault.liquidate(auctioned.loanId);
      const ids = [active.loanId, defaulted.loanId, auctioned.loanId];

      // The terms as v0 laid them out; today's code reads the appended covenant terms of v0's loans as zero (off).
      let upgraded = false;
      const termsOf = async (id: bigint): Promise<unknown[]> => {
        if (!upgraded) return [...(await v0.termsOf(id))];
        const terms = await loanVault.termsOf(id);
        expect(COVENANT_TERMS.map((name) => terms[name as keyof typeof terms])).to.deep.equal([
          0n,
          false,
          0n,
          0n,
        ]);
        expect([...(await loanVault.covenantTermsOf(id))]).to.deep.equal([0n, false, 0n, 0n]);
        return [...terms].slice(0, terms.length - COVENANT_TERMS.length);
      };
      const read = async () => ({
        loanAssets: await loanVault.loanAssets(),
        accrual: [...(await loanVault.accrualState())],
        loans: await Promise.all(
          ids.map(async (id) => ({
            debt: await loanVault.debtOf(id),
            state: [...(await loanVault.stateOf(id))],
            terms: await termsOf(id),
            next: [...(await loanVault.nextPayment(id))],
            defaultableAt: await loanVault.defaultableAt(id),
            receipts: await loanVault.receiptsOf(id),
            coupon: await loanVault.couponOf(id),
          })),
        ),
        exposure: await Promise.all(
          [actors.borrower1, actors.borrower2, actors.borrower3].map(async (b) => [
            ...(await loanVault.exposureOf(b.address, hre.ethers.encodeBytes32String("DAL-1"))),
          ]),
        ),
      });
      // Read v0 and today's code at the same timestamp: v0 in a block mined at `at`, then rewind and upgrade at `at`.
      const at = (await time.latest()) + 3_600;
      const snapshot = await takeSnapshot();
      await time.setNextBlockTimestamp(at);
      await mine();
      const before = await read();
      expect(before.loans.map((l) => l.state[7])).to.deep.equal([2n, 4n, 5n]); // Active, Defaulted, Liquidating
      expect(before.loanAssets).to.be.greaterThan(0n);
      await snapshot.restore();
      await time.setNextBlockTimestamp(at);
      await expect(vault.upgradeToAndCall(current, "0x")).to.emit(vault, "Upgraded").withArgs(current);
      upgraded = true;
      expect(await read()).to.deep.equal(before);
      const lotBefore = await auction.auctionOf(auctioned.loanId);
      await expect(auctionProxy.upgradeToAndCall(currentAuction, "0x"))
        .to.emit(auction, "Upgraded")
        .withArgs(currentAuction);
      expect(await auction.auctionOf(auctioned.loanId)).to.deep.equal(lotBefore);
      expect(await auction.minFloorOf(auctioned.loanId)).to.equal(lotBefore.floorPrice);

      // Today's code carries the book on: the active loan repays and closes, the lot sells, the default is liquidated.
      await loanVault.connect(actors.borrower1).repay(active.loanId, MaxUint256);
      await loanVault.close(active.loanId);
      await fundUsdai(f, actors.liquidator, 300_000);
      await usdai.connect(actors.liquidator).approve(auction.target, MaxUint256);
      const lot = await auction.auctionOfLoan(auctioned.loanId);
      await auction.connect(actors.liquidator).buy(lot, await auction.price(lot));
      await loanVault.connect(actors.creditAdmin).liquidate(defaulted.loanId);
      const statuses = await Promise.all(ids.map(async (id) => (await loanVault.stateOf(id)).status));
      expect(statuses).to.deep.equal([8n, 5n, 6n]); // Closed, Liquidating, Recovered
      const agg = await loanVault.accrualState();
      expect([agg.totalPrincipal, agg.rateSum]).to.deep.equal([0n, 0n]);
      expect(await loanVault.loanAssets()).to.equal(agg.impaired);
      // v0 kept no markdown for the loans it impaired: the sale saturated it at zero, so the entry price counts the
      // lot still in default at its impaired value (on a vault born with the markdown, at its claim).
      expect(await loanVault.entryLoanAssets()).to.equal(await loanVault.loanAssets());
    });
  });

  describe("UtilizationOracle v0 (one contract, before its linked libraries) -> today's UtilizationOracle", () => {
    it("keeps the storage layout (OpenZeppelin's upgrade report from v0's layout to today's)", async () => {
      await expectLayoutKept("UtilizationOracle", legacyOracle.storageLayout);
    });

    it("a proxy with recorded days, streaks, an open report day and a pending step upgrades with all of it unchanged", async () => {
      const { actors, oracle } = f;
      const admin = oracle.connect(actors.deployer);
      const v0 = await new ContractFactory(
        legacyOracle.implementation.abi,
        legacyOracle.implementation.bytecode,
        actors.deployer,
      ).deploy();
      await admin.upgradeToAndCall(await v0.getAddress(), "0x");
      const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
      const loanId = 7n;
      await oracle.connect(actors.oracleAdmin).setRules([
        { comparator: 0, thresholdBps: 9_000, windowDays: 2, premiumDeltaBps: -200, topUpRequired: false },
        { comparator: 1, thresholdBps: 6_000, windowDays: 30, premiumDeltaBps: 300, topUpRequired: true },
      ]);
      await oracle.connect(actors.oracleAdmin).configureLoan(
        loanId,
        reporters.map((r) => ({ kind: 1, account: r.address })),
        2,
        2 * 86_400,
      );
      // v0's reports carry no period: sign them with v0's types.
      const v0Types = {
        Report: [
          { name: "loanId", type: "uint256" },
          { name: "utilizationBps", type: "uint16" },
          { name: "uptimeBps", type: "uint16" },
          { name: "day", type: "uint32" },
          { name: "deadline", type: "uint64" },
        ],
      };
      const { chainId } = await hre.ethers.provider.getNetwork();
      const domain = {
        name: "UtilizationOracle",
        version: "1",
        chainId,
        verifyingContract: await oracle.getAddress(),
      };
      const v0Submit = async (day: number, signers: typeof reporters, bps: number) => {
        const signed = await Promise.all(
          signers.map(async (r) => {
            const report = {
              loanId,
              utilizationBps: bps,
              uptimeBps: 9_000,
              day,
              deadline: BigInt((day + 2) * 86_400),
            };
            return { signer: r.address, report, signature: await r.signTypedData(domain, v0Types, report) };
          }),
        );
        const sorted = [...signed].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
        await v0.attach(await oracle.getAddress()).getFunction("submitReport")(
          sorted.map((s) => s.report),
          sorted.map((s) => s.signature),
        );
      };
      const first = dayOf(await time.latest()) + 1;
      for (const day of [first, first + 1]) {
        await time.setNextBlockTimestamp(day * 86_400 + 7 * 3_600);
        await v0Submit(day, reporters, 9_500);
      }
      // Day three: two of three reporters, still open.
      await time.setNextBlockTimestamp((first + 2) * 86_400 + 7 * 3_600);
      await v0Submit(first + 2, reporters.slice(0, 2), 9_600);

      const read = async () => ({
        latest: [...(await oracle.latestUtilization(loanId))],
        open: [...(await oracle.openReportDay(loanId))],
        pending: [...(await oracle.pendingPush(loanId))],
        streaks: [[...(await oracle.streakOf(loanId, 0))], [...(await oracle.streakOf(loanId, 1))]],
        sources: (await oracle.sourcesOf(loanId)).map((s) => [...s]),
        config: [...(await oracle.loanConfig(loanId))],
        rules: (await oracle.rules()).map((r) => [...r]),
        epoch: await oracle.rulesEpoch(),
        window: await oracle.reportWindow(),
        vault: await oracle.loanVault(),
        loans: await oracle.configuredLoanCount(),
      });
      const before = await read();
      expect(before.pending[3]).to.equal(true); // the step-down fired on day two
      expect(before.open[1]).to.equal(2n);
      const current = (await hre.deployments.get("UtilizationOracle_Implementation")).address;
      await expect(admin.upgradeToAndCall(current, "0x")).to.emit(oracle, "Upgraded").withArgs(current);
      expect(await read()).to.deep.equal(before);

      // Today's code carries the open day on: the third reporter's report closes it with the median of all three.
      const report = {
        loanId,
        utilizationBps: 9_700,
        uptimeBps: 9_000,
        day: first + 2,
        periodDays: 1,
        revenueUsd: 0n,
        deadline: BigInt((first + 4) * 86_400),
      };
      const { reports, signatures } = toSubmission([await signReport(actors.reporter3, oracle, report)]);
      await oracle.submitReport(reports, signatures);
      const latest = await oracle.latestUtilization(loanId);
      expect([latest.day, latest.utilizationBps]).to.deep.equal([BigInt(first + 2), 9_600n]);
    });
  });

  describe("USDai -> USDaiV2Mock", () => {
    it("is a storage-compatible upgrade", async () => {
      await upgrades.validateUpgrade(
        await hre.ethers.getContractFactory("USDai"),
        await hre.ethers.getContractFactory("USDaiV2Mock"),
        { kind: "uups" },
      );
    });

    it("an UPGRADER upgrades in place and every balance and parameter survives", async () => {
      const { usdai, reserve, actors } = f;
      await reserve.mint(actors.lender1.address, parseUnits("500", 6));
      await reserve.connect(actors.lender1).approve(usdai.target, parseUnits("500", 6));
      await usdai.connect(actors.lender1).deposit(parseUnits("500", 6), 0n, actors.lender1.address);
      await usdai.connect(actors.deployer).setSupplyCap(parseUnits("12345", 18));

      const v2 = await hre.ethers.deployContract("USDaiV2Mock");
      const initV2 = v2.interface.encodeFunctionData("initializeV2");
      await expect(usdai.connect(actors.deployer).upgradeToAndCall(await v2.getAddress(), initV2))
        .to.emit(usdai, "Upgraded")
        .withArgs(await v2.getAddress());

      const upgraded = await hre.ethers.getContractAt("USDaiV2Mock", usdai.target);
      await expect(upgraded.initializeV2()).to.be.revertedWithCustomError(upgraded, "InvalidInitialization");
      expect(await upgraded.upgradeMarker()).to.equal("USDai v2");
      expect(await upgraded.balanceOf(actors.lender1.address)).to.equal(parseUnits("500", 18));
      expect(await upgraded.supplyCap()).to.equal(parseUnits("12345", 18));
      expect(await upgraded.reserveToken()).to.equal(reserve.target);
      expect(await upgraded.hasRole(Roles.PAUSER, actors.guardian.address)).to.equal(true);
    });

    it("refuses an upgrade to a contract that is not UUPS", async () => {
      const { usdai, reserve, actors } = f;
      await expect(usdai.connect(actors.deployer).upgradeToAndCall(reserve.target, "0x"))
        .to.be.revertedWithCustomError(usdai, "ERC1967InvalidImplementation")
        .withArgs(reserve.target);
    });
  });
});

import { expect } from "chai";
import hre from "hardhat";
import {
  type BaseContract,
  type FunctionFragment,
  type Interface,
  type ParamType,
  ZeroAddress,
  ZeroHash,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol } from "../fixtures/protocol";
import { revertData, zeroOf } from "../helpers/abi";
import { approve, mintReceipts, openLoan, stake } from "../helpers/loans";
import { declareDefaultAt, liquidateAt } from "../helpers/recovery";
import { Cores } from "../../helpers/deploy-ids";
import { Roles, type RoleName } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { UnguardedAdminMock } from "../../typechain-types";
import { createFixture } from "../helpers/fixture";

/**
 * Every state-changing function of every core, called by an account that holds no role, must revert with the exact
 * error its guard raises: `AccessControlUnauthorizedAccount(caller, role)` for a role, or the contract's own error for
 * an ownership check (a receipt's owner, a loan's borrower, a claim's controller). The tables are checked against the
 * compiled ABIs both ways: a new external function that is in neither the privileged table nor the permissionless
 * allowlist fails the sweep, and so does a table entry the ABI no longer has. The sweep itself is proven able to see
 * a missing guard on `UnguardedAdminMock`.
 */

/** What the unprivileged call must revert with. */
type Expected = { role: RoleName | string } | { error: string; args: unknown[] };

interface Guarded {
  args?: unknown[];
  expect: Expected;
}

interface Surface {
  privileged: Record<string, Guarded>;
  /** Functions anyone may call (their own checks are argument or state checks, tested elsewhere). */
  permissionless: string[];
}

interface Finding {
  fn: string;
  problem: string;
}

/** The external functions of `iface` that can change state, by signature. */
function stateChanging(iface: Interface): FunctionFragment[] {
  const out: FunctionFragment[] = [];
  iface.forEachFunction((f) => {
    if (!f.constant) out.push(f);
  });
  return out;
}

/**
 * Calls every privileged function of `target` as `caller` and compares the revert data byte for byte with the
 * expected error; lists functions missing from both tables and table entries missing from the ABI.
 */
async function sweep(
  target: BaseContract,
  surface: Surface,
  caller: HardhatEthersSigner,
): Promise<Finding[]> {
  const iface = target.interface;
  const findings: Finding[] = [];
  const abi = new Set(stateChanging(iface).map((f) => f.format("sighash")));
  for (const fn of abi) {
    if (!(fn in surface.privileged) && !surface.permissionless.includes(fn)) {
      findings.push({ fn, problem: "in the ABI but neither privileged nor allowlisted as permissionless" });
    }
  }
  for (const fn of [...Object.keys(surface.privileged), ...surface.permissionless]) {
    if (!abi.has(fn)) findings.push({ fn, problem: "listed but not in the ABI" });
  }
  for (const [fn, guarded] of Object.entries(surface.privileged)) {
    if (!abi.has(fn)) continue;
    const fragment = iface.getFunction(fn)!;
    const args = guarded.args ?? fragment.inputs.map(zeroOf);
    const data = iface.encodeFunctionData(fragment, args);
    const expected =
      "role" in guarded.expect
        ? iface.encodeErrorResult("AccessControlUnauthorizedAccount", [
            caller.address,
            guarded.expect.role in Roles ? Roles[guarded.expect.role as RoleName] : guarded.expect.role,
          ])
        : iface.encodeErrorResult(guarded.expect.error, guarded.expect.args);
    try {
      await caller.call({ to: await target.getAddress(), data });
      findings.push({ fn, problem: "succeeded for an unprivileged caller" });
    } catch (err) {
      const got = revertData(err);
      if (got !== expected) {
        let decoded = got;
        try {
          decoded = got === undefined ? "no revert data" : iface.parseError(got)?.signature;
        } catch {
          // keep the raw data
        }
        findings.push({ fn, problem: `reverted with ${decoded}, expected ${expected.slice(0, 10)}` });
      }
    }
  }
  return findings;
}

/** Functions every core has: AccessControl, pause, UUPS and the initializer. */
function baseSurface(f: { actors: { guardian: HardhatEthersSigner; attacker: HardhatEthersSigner } }) {
  const { guardian, attacker } = f.actors;
  return {
    "grantRole(bytes32,address)": {
      args: [Roles.PAUSER, attacker.address],
      expect: { role: "DEFAULT_ADMIN" },
    },
    "revokeRole(bytes32,address)": {
      args: [Roles.PAUSER, guardian.address],
      expect: { role: "DEFAULT_ADMIN" },
    },
    // Renouncing someone else's role is refused: only the holder renounces.
    "renounceRole(bytes32,address)": {
      args: [Roles.PAUSER, guardian.address],
      expect: { error: "AccessControlBadConfirmation", args: [] },
    },
    "pause()": { expect: { role: "PAUSER" } },
    "unpause()": { expect: { role: "DEFAULT_ADMIN" } },
    "upgradeToAndCall(address,bytes)": { expect: { role: "UPGRADER" } },
  } satisfies Record<string, Guarded>;
}

const fixture = createFixture(async () => {
  const f = await deployProtocol();
  const { actors } = f;
  await stake(f, actors.lender1, 1_000_000);
  // an active loan (1), an approved one (2), a defaulted loan in auction (3), a receipt held by borrower1
  const active = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
  const approved = await approve(f, actors.borrower1, usd(10_000));
  const defaulted = await openLoan(f, actors.borrower2, usd(60_000), 100_000);
  await declareDefaultAt(f, defaulted.loanId);
  const { auctionId } = await liquidateAt(f, defaulted.loanId);
  const [tokenId] = await mintReceipts(f, actors.borrower1, 1, 10_000);
  // borrower1 holds sUSDai and USDai so that allowance checks, not balance checks, are what stop the attacker
  await stake(f, actors.lender2, 1_000);
  return { ...f, active: active.loanId, approved, auctionId, tokenId };
});

describe("Attack: every privileged function from an account without the role", () => {
  describe("against UnguardedAdminMock (a forgotten role check)", () => {
    it("the sweep flags the unguarded setter and the unlisted function, and passes the guarded one", async () => {
      const [admin, attacker] = await hre.ethers.getSigners();
      const mock = (await hre.ethers.deployContract(
        "UnguardedAdminMock",
        [],
        admin,
      )) as unknown as UnguardedAdminMock;
      const feeRole = await mock.FEE_ROLE();
      const surface: Surface = {
        privileged: {
          "setFee(uint256)": { expect: { role: feeRole } },
          "setCap(uint256)": { expect: { role: feeRole } },
        },
        permissionless: [],
      };
      const findings = await sweep(mock, surface, attacker);
      expect(findings.map((x) => x.fn).sort()).to.deep.equal([
        "grantRole(bytes32,address)",
        "renounceRole(bytes32,address)",
        "revokeRole(bytes32,address)",
        "setFee(uint256)",
      ]);
      expect(findings.find((x) => x.fn === "setFee(uint256)")!.problem).to.equal(
        "succeeded for an unprivileged caller",
      );
      // and the forgotten check is real: the attacker sets the fee
      await mock.connect(attacker).setFee(10_000n);
      expect(await mock.fee()).to.equal(10_000n);
    });
  });

  describe("against the deployed protocol", () => {
    let f: Awaited<ReturnType<typeof fixture>>;
    before(async () => {
      f = await fixture();
    });

    function surfaces(): [string, BaseContract, Surface][] {
      const { actors, active, approved, auctionId, tokenId } = f;
      const { attacker, borrower1, borrower2, custodian, lender2 } = actors;
      const base = baseSurface(f);
      const initialize = (sig: string) => ({
        [sig]: { expect: { error: "InvalidInitialization", args: [] } },
      });
      return [
        [
          "USDai",
          f.usdai,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,address,address,address,uint256)"),
              "allocate(uint256)": { expect: { role: "RESERVE_MANAGER" } },
              "deallocate(uint256)": { expect: { role: "RESERVE_MANAGER" } },
              "setSupplyCap(uint256)": { expect: { role: "DEFAULT_ADMIN" } },
              "setYieldRecipient(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "setTBillVault(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "pauseRedemptions()": { expect: { role: "PAUSER" } },
              "unpauseRedemptions()": { expect: { role: "DEFAULT_ADMIN" } },
              "transferFrom(address,address,uint256)": {
                args: [lender2.address, attacker.address, 1n],
                expect: { error: "ERC20InsufficientAllowance", args: [attacker.address, 0n, 1n] },
              },
            },
            permissionless: [
              "approve(address,uint256)",
              "deposit(uint256,uint256,address)",
              "harvest()",
              "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
              "redeem(uint256,uint256,address)",
              "transfer(address,uint256)",
            ],
          },
        ],
        [
          "StakedUSDai",
          f.susdai,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,address,address,uint256,uint256,uint256,uint256)"),
              "fundLoan(address,uint256)": { expect: { role: "LOAN_VAULT" } },
              "receiveLoanCashflow(uint256,uint256,uint256,uint256)": { expect: { role: "LOAN_VAULT" } },
              "setBlacklisted(address,bool)": { expect: { role: "BLACKLIST" } },
              "setLoanVault(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "setRedemptionParams(uint256,uint256,uint256)": { expect: { role: "DEFAULT_ADMIN" } },
              "setVestingPeriod(uint256)": { expect: { role: "DEFAULT_ADMIN" } },
              "vestSurplus()": { expect: { role: "DEFAULT_ADMIN" } },
              "pauseRedemptionRequests()": { expect: { role: "PAUSER" } },
              "unpauseRedemptionRequests()": { expect: { role: "DEFAULT_ADMIN" } },
              "onUSDaiHarvest(uint256)": {
                expect: { error: "StakedUSDaiNotUSDai", args: [attacker.address] },
              },
              "redeem(uint256,address,address)": {
                args: [1n, attacker.address, lender2.address],
                expect: { error: "StakedUSDaiNotOperator", args: [attacker.address, lender2.address] },
              },
              "withdraw(uint256,address,address)": {
                args: [1n, attacker.address, lender2.address],
                expect: { error: "StakedUSDaiNotOperator", args: [attacker.address, lender2.address] },
              },
              "requestRedeem(uint256,address,address)": {
                args: [usd(100), attacker.address, lender2.address],
                expect: { error: "ERC20InsufficientAllowance", args: [attacker.address, 0n, usd(100)] },
              },
              "transferFrom(address,address,uint256)": {
                args: [lender2.address, attacker.address, 1n],
                expect: { error: "ERC20InsufficientAllowance", args: [attacker.address, 0n, 1n] },
              },
            },
            permissionless: [
              "approve(address,uint256)",
              // a cap checkpoint once a window has passed: anyone (it only moves the cap base's baseline forward)
              "checkpointCapBase()",
              "deposit(uint256,address,uint256)",
              "deposit(uint256,address)",
              "mint(uint256,address,uint256)",
              "mint(uint256,address)",
              "serviceRedemptions(uint256)",
              "setOperator(address,bool)",
              "transfer(address,uint256)",
            ],
          },
        ],
        [
          "GpuReceipt",
          f.receipts,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,uint256,address)"),
              "mint(address,(string,uint32,string,address,bytes32),bytes32[],(bytes32,uint256,bytes[]))": {
                expect: { role: "TOKENIZER" },
              },
              "appraise(uint256,uint256,uint256,uint256)": { expect: { role: "APPRAISER" } },
              "bindInsurance(uint256,bytes32,uint256,uint256)": { expect: { role: "INSURER" } },
              "setAttestationThreshold(uint256)": { expect: { role: "DEFAULT_ADMIN" } },
              "setRenderer(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "requestRedemption(uint256)": {
                args: [tokenId],
                expect: { error: "GpuReceiptNotOwner", args: [tokenId, attacker.address, borrower1.address] },
              },
              "cancelRedemption(uint256)": {
                args: [tokenId],
                expect: { error: "GpuReceiptNotOwner", args: [tokenId, attacker.address, borrower1.address] },
              },
              "confirmRedemption(uint256)": {
                args: [tokenId],
                expect: {
                  error: "GpuReceiptNotCustodian",
                  args: [tokenId, attacker.address, custodian.address],
                },
              },
              "approve(address,uint256)": {
                args: [attacker.address, tokenId],
                expect: { error: "ERC721InvalidApprover", args: [attacker.address] },
              },
              "transferFrom(address,address,uint256)": {
                args: [borrower1.address, borrower2.address, tokenId],
                expect: { error: "ERC721InsufficientApproval", args: [attacker.address, tokenId] },
              },
              "safeTransferFrom(address,address,uint256)": {
                args: [borrower1.address, borrower2.address, tokenId],
                expect: { error: "ERC721InsufficientApproval", args: [attacker.address, tokenId] },
              },
              "safeTransferFrom(address,address,uint256,bytes)": {
                args: [borrower1.address, borrower2.address, tokenId, "0x"],
                expect: { error: "ERC721InsufficientApproval", args: [attacker.address, tokenId] },
              },
            },
            permissionless: ["setApprovalForAll(address,bool)"],
          },
        ],
        [
          "LoanVault",
          f.loanVault,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,(uint16,uint16,uint16,uint32,uint96,uint32))"),
              "approveLoan((address,uint32,uint16,uint16,uint32,address,uint16,uint16,uint16,uint16,uint32,uint96,uint16,uint16,uint32,uint16,uint40,uint16,uint16,bytes32,uint16,bool,uint16,uint16))":
                { expect: { role: "UNDERWRITER" } },
              "cancelApproval(uint256)": { expect: { role: "UNDERWRITER" } },
              "applyCouponStep(uint256,uint256,int256,bool)": { expect: { role: "ORACLE" } },
              "setCovenantBreach(uint256,uint256)": { expect: { role: "ORACLE" } },
              "stepIn(uint256,address)": { expect: { role: "CREDIT_ADMIN" } },
              "lowerReserve(uint256,uint256)": { expect: { role: "CREDIT_ADMIN" } },
              "setRiskParams((uint16,uint16,uint16,uint32,uint96,uint32))": {
                expect: { role: "CREDIT_ADMIN" },
              },
              "recordRecovery(uint256,uint256)": { expect: { role: "CREDIT_ADMIN" } },
              "setAuction(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "setUtilizationOracle(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "setJuniorTranche(address)": { expect: { role: "DEFAULT_ADMIN" } },
              // only the junior tranche set by governance reports its USDai (FirstLoss.spec.ts)
              "syncJuniorAssets(uint256)": {
                expect: { error: "LoanVaultNotJunior", args: [attacker.address] },
              },
              "onAuctionSettled(uint256,uint256,address)": {
                expect: { error: "LoanVaultNotAuction", args: [attacker.address] },
              },
              "borrow(uint256,uint256[])": {
                args: [approved, [tokenId]],
                expect: { error: "LoanVaultNotBorrower", args: [approved, attacker.address] },
              },
              "releaseExcess(uint256,address,uint256)": {
                args: [active, attacker.address, 1n],
                expect: { error: "LoanVaultNotBorrower", args: [active, attacker.address] },
              },
              "topUp(uint256,uint256[])": {
                args: [active, [tokenId]],
                expect: { error: "LoanVaultNotBorrower", args: [active, attacker.address] },
              },
            },
            permissionless: [
              "checkCovenants(uint256)",
              // a borrower claims its own surplus: nobody else's
              "claimSurplus(address)",
              "close(uint256)",
              "declareDefault(uint256)",
              "depositRevenue(uint256,uint256)",
              // anyone after the step-in window; within it, the credit admin (StateMachine.spec.ts, #16.5)
              "liquidate(uint256)",
              "refreshReferenceRate(uint256)",
              "repay(uint256,uint256)",
              "sweep(uint256)",
              // only a defaulted loan whose collateral is worth nothing (StateMachine.spec.ts, #16.4)
              "writeOff(uint256)",
            ],
          },
        ],
        [
          "CollateralAuction",
          f.auction,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,address,(uint16,uint16,uint32))"),
              "start(uint256,uint256[],uint256,uint256,uint256)": { expect: { role: "LOAN_VAULT" } },
              "lowerFloor(uint256,uint256)": { expect: { role: "LOAN_VAULT" } },
              "setAuctionParams((uint16,uint16,uint32))": { expect: { role: "CREDIT_ADMIN" } },
              "setRecoveryCustodian(address)": { expect: { role: "DEFAULT_ADMIN" } },
              // buyers must be allowlisted receipt holders
              "buy(uint256,uint256)": {
                args: [auctionId, usd(1_000_000)],
                expect: { error: "AuctionBuyerNotAllowed", args: [attacker.address] },
              },
            },
            permissionless: ["expire(uint256)"],
          },
        ],
        [
          "UtilizationOracle",
          f.oracle,
          {
            privileged: {
              ...base,
              ...initialize("initialize(address,address,(uint8,uint16,uint16,int16,bool)[])"),
              "configureLoan(uint256,(uint8,address)[],uint8,uint32)": { expect: { role: "ORACLE_ADMIN" } },
              "setRules((uint8,uint16,uint16,int16,bool)[])": { expect: { role: "ORACLE_ADMIN" } },
              "setReportWindow(uint32)": { expect: { role: "ORACLE_ADMIN" } },
              "setLoanVault(address)": { expect: { role: "DEFAULT_ADMIN" } },
              "poke(uint256)": { expect: { role: "KEEPER" } },
              "onStepIn(uint256)": {
                expect: { error: "UtilizationOracleNotLoanVault", args: [attacker.address] },
              },
            },
            // reports are gated by their REPORTER signatures (test/attacks/SignedReportReplay.spec.ts)
            permissionless: [
              "submitReport((uint256,uint16,uint16,uint32,uint16,uint128,uint64)[],bytes[])",
              "closeReportDay(uint256)",
              "flagDataGap(uint256)",
              "push(uint256)",
              "performUpkeep(bytes)",
            ],
          },
        ],
      ];
    }

    it("the attacker holds no role anywhere", async () => {
      for (const [, target] of surfaces()) {
        const ac = await hre.ethers.getContractAt("IAccessControl", await target.getAddress());
        for (const role of Object.values(Roles)) {
          expect(await ac.hasRole(role, f.actors.attacker.address)).to.equal(false);
        }
      }
    });

    for (const name of Cores) {
      it(`${name}: every state-changing function is listed, and each privileged one refuses with its exact error`, async () => {
        const [, target, surface] = surfaces().find(([n]) => n === name)!;
        const findings = await sweep(target, surface, f.actors.attacker);
        expect(findings, JSON.stringify(findings, null, 2)).to.deep.equal([]);
      });
    }
  });
});

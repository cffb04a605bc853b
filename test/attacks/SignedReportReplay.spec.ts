import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, concat, getBytes, keccak256, Signature, toBeHex, verifyTypedData } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { getProtocolConfig } from "../../config/protocol";
import { DAY } from "../../helpers/loans";
import {
  dayOf,
  REPORT_TYPES,
  reportDomain,
  signReport,
  toSubmission,
  type Report,
} from "../../helpers/reports";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import type { NaiveReportVerifier, UtilizationOracle } from "../../typechain-types";
import { deployProtocol } from "../fixtures/protocol";
import { openLoan, stake } from "../helpers/loans";
import { deployBehindProxy } from "../helpers/proxy";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { createFixture } from "../helpers/fixture";

/**
 * Replaying a reporter's signed utilization report: on another chain, on another oracle deployment, for the same day
 * twice, after its deadline, or in its high-s twin form. Every replay is accepted by `NaiveReportVerifier` (no domain,
 * no day check, no deadline, raw `ecrecover`) and refused, with its exact error and no state change, by the deployed
 * UtilizationOracle wired to the real LoanVault.
 */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const Kind = { Feed: 0, Reporter: 1 } as const;

/** The same signature with `s` mirrored to `n - s` (and `v` flipped): a second valid ECDSA signature of one digest. */
function highS(signature: string): string {
  const sig = Signature.from(signature);
  return concat([sig.r, toBeHex(SECP256K1_N - BigInt(sig.s), 32), sig.v === 27 ? "0x1c" : "0x1b"]);
}

const fixture = createFixture(async () => {
  const f = await deployProtocol();
  const { actors, oracle, loanVault } = f;
  await stake(f, actors.lender1, 1_000_000);
  const { loanId } = await openLoan(f, actors.borrower1, usd(60_000), 100_000);
  const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
  const sources = reporters.map((r) => ({ kind: Kind.Reporter, account: r.address }));
  await oracle.connect(actors.oracleAdmin).configureLoan(loanId, sources, 2, 2 * DAY);
  // A second oracle deployment with the same reporters and the same loan id: what a report for it is worth here.
  const other = await deployBehindProxy<UtilizationOracle>("UtilizationOracle", [
    actors.deployer.address,
    await loanVault.getAddress(),
    getProtocolConfig("hardhat").oracle.rules,
  ]);
  await other.connect(actors.deployer).grantRole(Roles.ORACLE_ADMIN, actors.oracleAdmin.address);
  for (const r of reporters) await other.connect(actors.deployer).grantRole(Roles.REPORTER, r.address);
  await other.connect(actors.oracleAdmin).configureLoan(loanId, sources, 2, 2 * DAY);
  return { ...f, loanId, reporters, other };
});

describe("Attack: signed-report replay", () => {
  describe("against NaiveReportVerifier (no domain, no day or deadline check, raw ecrecover)", () => {
    async function naive() {
      const [, reporter, attacker] = await hre.ethers.getSigners();
      const deploy = async () =>
        (await hre.ethers.deployContract("NaiveReportVerifier", [
          reporter.address,
        ])) as unknown as NaiveReportVerifier;
      const one = await deploy();
      const two = await deploy();
      const report = { loanId: 1n, utilizationBps: 5_000, uptimeBps: 9_900, day: 1, deadline: 1n };
      const inner = keccak256(
        AbiCoder.defaultAbiCoder().encode(
          ["uint256", "uint16", "uint16", "uint32", "uint64"],
          [report.loanId, report.utilizationBps, report.uptimeBps, report.day, report.deadline],
        ),
      );
      const sig = Signature.from(await reporter.signMessage(getBytes(inner)));
      return { one, two, report, sig, attacker };
    }

    it("one signature is accepted twice, on a second deployment, long after its deadline", async () => {
      const { one, two, report, sig, attacker } = await naive();
      expect(BigInt(await time.latest())).to.be.greaterThan(report.deadline);
      await one.connect(attacker).submit(report, sig.v, sig.r, sig.s);
      await one.connect(attacker).submit(report, sig.v, sig.r, sig.s);
      await two.connect(attacker).submit(report, sig.v, sig.r, sig.s);
      expect(await one.accepted()).to.equal(2n);
      expect(await two.accepted()).to.equal(1n);
    });

    it("the high-s twin of the signature is accepted as well", async () => {
      const { one, report, sig, attacker } = await naive();
      const s = toBeHex(SECP256K1_N - BigInt(sig.s), 32);
      await one.connect(attacker).submit(report, sig.v === 27 ? 28 : 27, sig.r, s);
      expect(await one.accepted()).to.equal(1n);
    });
  });

  describe("against the deployed UtilizationOracle", () => {
    let f: Awaited<ReturnType<typeof fixture>>;
    let oracle: UtilizationOracle;
    let day: number;
    let reads: Reads;

    beforeEach(async () => {
      f = await fixture();
      oracle = f.oracle;
      day = dayOf(await time.latest());
      reads = {
        latest: async () => [...(await oracle.latestUtilization(f.loanId))],
        pending: async () => [...(await oracle.pendingPush(f.loanId))],
        streak0: async () => [...(await oracle.streakOf(f.loanId, 0))],
        streak1: async () => [...(await oracle.streakOf(f.loanId, 1))],
        coupon: () => f.loanVault.couponOf(f.loanId),
        flags: () => f.loanVault.covenantFlags(f.loanId),
      };
    });

    const report = (utilizationBps: number, overrides: Partial<Report> = {}): Report => ({
      loanId: f.loanId,
      utilizationBps,
      uptimeBps: 9_900,
      day,
      periodDays: 1,
      revenueUsd: 0n,
      deadline: BigInt((day + 1) * DAY),
      ...overrides,
    });

    /**
     * Every reporter signs `r` for `target` (its domain, or `domain` overrides), so a submission closes the day at once;
     * ordered as submitReport wants.
     */
    async function signedBy(
      target: UtilizationOracle,
      r: Report,
      signers?: HardhatEthersSigner[],
      domain = {},
    ) {
      const by = signers ?? f.reporters;
      return toSubmission(await Promise.all(by.map((s) => signReport(s, target, r, domain))));
    }

    async function expectRefused(
      call: () => Promise<unknown>,
      error: string,
      args: unknown[],
    ): Promise<void> {
      const before = await snapshot(reads);
      await expect(call())
        .to.be.revertedWithCustomError(oracle, error)
        .withArgs(...args);
      await expectUnchanged(before, reads);
    }

    it("a quorum signed for another chain id is refused: the signatures recover strangers (UnauthorizedSigner)", async () => {
      const r = report(5_000);
      const { reports, signatures } = await signedBy(oracle, r, undefined, { chainId: 1n });
      const recovered = verifyTypedData(
        await reportDomain(oracle, f.reporters[0]),
        REPORT_TYPES,
        r,
        signatures[0],
      );
      expect(f.reporters.map((x) => x.address)).to.not.include(recovered);
      await expectRefused(
        () => oracle.submitReport(reports, signatures),
        "UtilizationOracleUnauthorizedSigner",
        [f.loanId, recovered],
      );
    });

    it("a quorum accepted by another oracle deployment is refused here (UnauthorizedSigner)", async () => {
      const r = report(5_000);
      const { reports, signatures } = await signedBy(f.other, r);
      await expect(f.other.submitReport(reports, signatures)).to.emit(f.other, "ObservationRecorded");
      const recovered = verifyTypedData(
        await reportDomain(oracle, f.reporters[0]),
        REPORT_TYPES,
        r,
        signatures[0],
      );
      await expectRefused(
        () => oracle.submitReport(reports, signatures),
        "UtilizationOracleUnauthorizedSigner",
        [f.loanId, recovered],
      );
    });

    it("the same day cannot be recorded twice, neither the same submission nor a different one (DayNotAfterLast)", async () => {
      const first = await signedBy(oracle, report(5_000));
      await oracle.submitReport(first.reports, first.signatures);
      await expectRefused(
        () => oracle.submitReport(first.reports, first.signatures),
        "UtilizationOracleDayNotAfterLast",
        [f.loanId, day, day],
      );
      // other readings of the same day (reporters 2 and 3, other values) are no better
      const second = await signedBy(oracle, report(9_500), f.reporters.slice(1));
      await expectRefused(
        () => oracle.submitReport(second.reports, second.signatures),
        "UtilizationOracleDayNotAfterLast",
        [f.loanId, day, day],
      );
    });

    it("a submission held past its deadline is refused (ReportExpired)", async () => {
      const deadline = BigInt((await time.latest()) + 60);
      const { reports, signatures } = await signedBy(oracle, report(5_000, { deadline }));
      await time.increaseTo(deadline + 1n);
      await expectRefused(() => oracle.submitReport(reports, signatures), "UtilizationOracleReportExpired", [
        0n,
        deadline,
      ]);
    });

    it("the high-s twin of a valid signature is refused (InvalidSignature), the low-s original is accepted", async () => {
      const { reports, signatures } = await signedBy(oracle, report(5_000));
      for (const index of [0, 1]) {
        const twins = signatures.map((s, i) => (i === index ? highS(s) : s));
        await expectRefused(() => oracle.submitReport(reports, twins), "UtilizationOracleInvalidSignature", [
          BigInt(index),
        ]);
      }
      await expect(oracle.submitReport(reports, signatures))
        .to.emit(oracle, "ObservationRecorded")
        .withArgs(f.loanId, day, 1, 5_000, 9_900, 3);
    });

    it("one reporter's signature twice does not make a quorum (SignersNotAscending)", async () => {
      const one = await signReport(f.reporters[0], oracle, report(5_000));
      await expectRefused(
        () => oracle.submitReport([one.report, one.report], [one.signature, one.signature]),
        "UtilizationOracleSignersNotAscending",
        [1n, f.reporters[0].address, f.reporters[0].address],
      );
    });
  });
});

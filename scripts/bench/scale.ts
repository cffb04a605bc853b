import { getAddress, MaxUint256, toBeHex } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { getActors } from "../../helpers/actors";
import {
  getGpuReceipt,
  getLoanVault,
  getReserveToken,
  getStakedUSDai,
  getUSDai,
  getUtilizationOracle,
} from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { DAY, loanTerms } from "../../helpers/loans";
import { mintAppraisedReceipt, receiptIssuers } from "../../helpers/receipts";
import { reportableDay, signReport, toSubmission } from "../../helpers/reports";
import { usd, usdc } from "../../helpers/units";
import { gasOf, viewGas, type BenchSuite, type GasRow } from "./types";

/** Open loans at the largest scale point (`BENCH_LOANS` overrides, e.g. for a quick run). */
const SCALE_LOANS = Number(process.env.BENCH_LOANS ?? 1_000);
/** The scale points: 1 open loan, 100 (or fewer if `BENCH_LOANS` is smaller), and `SCALE_LOANS`. */
const POINTS = [1, Math.min(100, SCALE_LOANS), SCALE_LOANS] as const;
/** Requests `serviceRedemptions` services per measured call. */
const PAGE = 10;
/** Largest spread allowed between a figure at scale and the same figure with 1 open loan. */
const MAX_SPREAD = 0.01;
const COOLDOWN = 7 * DAY;

/** Row-key suffix of each scale point (the 1-loan and largest keys of loanAssets and deposit predate this suite). */
const SUFFIX = ["1loan", "100loans", "scale"] as const;

/** A fresh controller per queued request, as a crowd of distinct lenders would be. */
const controllerAt = (i: number) => getAddress(toBeHex(0x5ca1e0000 + i, 20));

/**
 * The O(1) claims, measured: with 1, 100 and `SCALE_LOANS` open loans (each also configured in the oracle), and a
 * redemption queue of max(10, loans) requests from distinct controllers, the gas of sUSDai `deposit`, `loanAssets()`
 * (a call through the GasProbe), a partial `repay` of one loan, a 3-signature `submitReport` and
 * `serviceRedemptions(10)`. Each operation runs in the same state at every point (warm, same path) and must stay
 * within 1% of its 1-loan figure, else the suite throws and the bench fails.
 */
export const scaleSuite: BenchSuite = {
  name: "Scale",
  async run(hre: HardhatRuntimeEnvironment) {
    const { ethers } = hre;
    await hre.deployments.fixture([Tags.Protocol]);
    const actors = await getActors();
    const { lender1, borrower1, creditAdmin, underwriter, oracleAdmin, keeper } = actors;
    const reporters = [actors.reporter1, actors.reporter2, actors.reporter3];
    const [reserve, usdai, susdai, receipts, vault, oracle] = await Promise.all([
      getReserveToken(hre),
      getUSDai(hre),
      getStakedUSDai(hre),
      getGpuReceipt(hre),
      getLoanVault(hre),
      getUtilizationOracle(hre),
    ]);
    const latest = async () => (await ethers.provider.getBlock("latest"))!.timestamp;
    const issuers = receiptIssuers(actors);
    let tags = 0;

    await vault.connect(creditAdmin).setRiskParams({
      borrowerCapBps: 10_000,
      siteCapBps: 10_000,
      recoveryHaircutBps: 2_000,
      referenceFeedMaxStalenessSeconds: 2 * DAY,
      materialityThreshold: 10n * 10n ** 18n,
      stepInWindowSeconds: 2 * DAY,
    });
    for (const [account, amount, spender] of [
      [lender1, 60_000_000, susdai.target],
      [borrower1, 1_000_000, vault.target],
    ] as const) {
      await reserve.mint(account.address, usdc(amount));
      await reserve.connect(account).approve(usdai.target, MaxUint256);
      await usdai.connect(account).deposit(usdc(amount), 0n, account.address);
      await usdai.connect(account).approve(spender, MaxUint256);
    }
    await susdai.connect(lender1)["deposit(uint256,address)"](usd(50_000_000), lender1.address);
    await receipts.connect(borrower1).setApprovalForAll(vault.target, true);

    const sources = reporters.map((r) => ({ kind: 1, account: r.address }));
    const openLoan = async (principal: bigint, valueUsd: number) => {
      const deadline = (await latest()) + DAY;
      const id = await mintAppraisedReceipt(
        receipts,
        issuers,
        borrower1.address,
        "DAL-1",
        valueUsd,
        `scale-${tags++}`,
        deadline,
      );
      const loanId = (await vault.loanCount()) + 1n;
      await vault
        .connect(underwriter)
        .approveLoan(loanTerms(borrower1.address, principal, "DAL-1", await latest()));
      await vault.connect(borrower1).borrow(loanId, [id]);
      await oracle.connect(oracleAdmin).configureLoan(loanId, sources, 2, 2 * DAY);
      return loanId;
    };
    let queued = 0;
    const enqueue = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await susdai.connect(lender1).requestRedeem(usd(100), controllerAt(queued++), lender1.address);
      }
    };
    const report = async (loanId: bigint) => {
      // Points are a cooldown apart, so the loan skips days: report the latest day the oracle opens after a gap.
      const day = reportableDay(await latest(), await oracle.reportWindow());
      const signed = await Promise.all(
        reporters.map((r, i) =>
          signReport(r, oracle, {
            loanId,
            utilizationBps: 8_000 + i * 50,
            uptimeBps: 9_900,
            day,
            periodDays: 1,
            revenueUsd: 0n,
            deadline: BigInt((day + 2) * DAY),
          }),
        ),
      );
      const { reports, signatures } = toSubmission(signed);
      return oracle.submitReport(reports, signatures);
    };

    // The probe loan (1): warmed up with one partial repayment and one report, so every point measures the same
    // nonzero-to-nonzero writes. Each point comes a cooldown later, so each report restarts its streaks alike.
    const probe = await openLoan(usd(100_000), 250_000);
    // a day of interest (~28 USDai) first, so that the 1 USDai repayments never clear it
    await hre.network.provider.send("evm_increaseTime", [DAY]);
    await vault.connect(borrower1).repay(probe, usd(1));
    await report(probe);
    await susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address);

    const figures: Record<string, bigint[]> = {};
    const record = (op: string, gas: bigint) => (figures[op] ??= []).push(gas);
    for (const loans of POINTS) {
      while ((await vault.loanCount()) < BigInt(loans)) await openLoan(usd(1_000), 2_500);
      const queue = Math.max(PAGE, loans);
      const { head, tail } = await susdai.queueBounds();
      await enqueue(queue - Number(tail - head));
      await hre.network.provider.send("evm_increaseTime", [COOLDOWN + 1]);
      await hre.network.provider.send("evm_mine", []);

      record("loanAssets", await viewGas(hre, vault, "loanAssets"));
      record(
        "deposit",
        await gasOf(susdai.connect(lender1)["deposit(uint256,address)"](usd(1_000), lender1.address)),
      );
      record("repay", await gasOf(vault.connect(borrower1).repay(probe, usd(1))));
      record("submitReport", await gasOf(report(probe)));
      record("serviceRedemptions", await gasOf(susdai.connect(keeper).serviceRedemptions(BigInt(PAGE))));
    }

    const keys: Record<string, readonly string[]> = {
      loanAssets: ["LoanVault.loanAssets", "LoanVault.loanAssets.100loans", "LoanVault.loanAssets.scale"],
      deposit: ["StakedUSDai.deposit.oneLoan", "StakedUSDai.deposit.100loans", "StakedUSDai.deposit.scale"],
      repay: SUFFIX.map((s) => `LoanVault.repay.partial.${s}`),
      submitReport: SUFFIX.map((s) => `UtilizationOracle.submitReport.${s}`),
      serviceRedemptions: SUFFIX.map((s) => `StakedUSDai.serviceRedemptions10.${s}`),
    };
    const what: Record<string, string> = {
      loanAssets: "view",
      deposit: "sUSDai deposit",
      repay: "partial repay of one loan",
      submitReport: "3 signatures",
      serviceRedemptions: `${PAGE} requests`,
    };
    const rows: GasRow[] = [];
    const over: string[] = [];
    for (const [op, gas] of Object.entries(figures)) {
      const base = gas[0];
      gas.forEach((g, i) => {
        const spread = Number(g > base ? g - base : base - g) / Number(base);
        if (spread > MAX_SPREAD)
          over.push(`${op}: ${base} gas at 1 loan, ${g} at ${POINTS[i]} (${(spread * 100).toFixed(2)}%)`);
        rows.push({
          key: keys[op][i],
          gas: g,
          note: `${what[op]}, ${POINTS[i]} open loan${POINTS[i] === 1 ? "" : "s"}, ${Math.max(PAGE, POINTS[i])} queued${i === 0 ? "" : `, ${((Number(g - base) / Number(base)) * 100).toFixed(2)}% vs 1`}`,
        });
      });
    }
    if (over.length > 0) throw new Error(`not O(1) within ${MAX_SPREAD * 100}%:\n  ${over.join("\n  ")}`);
    return rows;
  },
};

import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { fuzzParams } from "../helpers/fuzz";
import { fundUsdai, mintReceipts, stake } from "../helpers/loans";
import { expectLoanState, latest } from "../helpers/loan-check";
import { ceilDiv, INTEREST_DENOMINATOR as D } from "../helpers/math";
import {
  aggregateOf,
  BREACH_NON_ACCRUAL,
  LoanModel,
  ModelRevert,
  modelTerms,
  StakedModel,
  Status,
  type Allocation,
} from "../helpers/loan-model";
import { DAY, loanTerms, type LoanTerms } from "../../helpers/loans";
import { Roles } from "../../helpers/roles";
import { usd } from "../../helpers/units";
import { createFixture } from "../helpers/fixture";

/** Five approved, undrawn loans with varied schedules, each against its own receipts and site. */
const LOANS: { principalUsd: number; overrides: Partial<LoanTerms> }[] = [
  { principalUsd: 300_000, overrides: {} },
  { principalUsd: 500_000, overrides: { numPayments: 6, amortizationBps: 1_000 } },
  {
    principalUsd: 700_000,
    overrides: { paymentIntervalSeconds: 7 * DAY, numPayments: 12, gracePeriodSeconds: 2 * DAY },
  },
  { principalUsd: 400_000, overrides: { numPayments: 3, amortizationBps: 0, latePenaltyBps: 2_500 } },
  {
    principalUsd: 600_000,
    overrides: {
      amortizationBps: 3_333,
      numPayments: 4,
      defaultWindowSeconds: 5 * DAY,
      curePeriodSeconds: DAY,
    },
  },
];

const invariantFixture = createFixture(async () => {
  const fx = await deployProtocol();
  const { actors } = fx;
  await stake(fx, actors.lender1, 20_000_000);
  await fundUsdai(fx, actors.lender3, 100_000_000);
  const signers = await hre.ethers.getSigners();
  const oracle = signers[30];
  await fx.loanVault.connect(actors.deployer).grantRole(Roles.ORACLE, oracle.address);
  const borrowers = [actors.borrower1, actors.borrower2, actors.borrower3];
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const loans: { id: bigint; borrower: HardhatEthersSigner; receiptIds: bigint[]; terms: LoanTerms }[] = [];
  for (const [i, spec] of LOANS.entries()) {
    const borrower = borrowers[i % borrowers.length];
    const site = `SITE-${i}`;
    const receiptIds = await mintReceipts(fx, borrower, 1, spec.principalUsd * 2, site);
    const terms = loanTerms(borrower.address, usd(spec.principalUsd), site, now, {
      approvalExpiry: now + 3650 * DAY,
      ...spec.overrides,
    });
    await fx.loanVault.connect(actors.underwriter).approveLoan(terms);
    loans.push({ id: (await fx.loanVault.loanCount()) as bigint, borrower, receiptIds, terms });
  }
  return { fx, oracle, loans, payer: actors.lender3 };
});

type Cmd =
  | { kind: "borrow"; loan: number }
  | { kind: "repay"; loan: number; mode: "partial" | "max" | "quote"; bps: number }
  | { kind: "revenue"; loan: number; usd: number; sweep: boolean }
  | { kind: "coupon"; loan: number; delta: number; topUp: boolean }
  | { kind: "sla"; loan: number; flags: number }
  | { kind: "warp"; seconds: number }
  | { kind: "default"; loan: number }
  | { kind: "stepIn"; loan: number; to: number }
  | { kind: "check"; loan: number };

const loanIx = fc.nat({ max: 4 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("borrow" as const), loan: loanIx }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("repay" as const),
      loan: loanIx,
      mode: fc.constantFrom("partial" as const, "max" as const, "quote" as const),
      bps: fc.integer({ min: 1, max: 10_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("revenue" as const),
      loan: loanIx,
      usd: fc.integer({ min: 1, max: 150_000 }),
      sweep: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("coupon" as const),
      loan: loanIx,
      delta: fc.integer({ min: -600, max: 600 }),
      topUp: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("sla" as const), loan: loanIx, flags: fc.nat({ max: 1 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("warp" as const),
      seconds: fc.oneof(fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 3600, max: 70 * DAY })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("default" as const), loan: loanIx }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("stepIn" as const), loan: loanIx, to: fc.nat({ max: 2 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("check" as const), loan: loanIx }) },
);

const RUNS = 30;
const MIN_COMMANDS = 10;
const MAX_COMMANDS = 20;

describe("LoanVault aggregate invariant (seeded model-based fuzz)", function () {
  this.timeout(120_000);

  it("accrualState is the exact sum over loans after every random operation, and loanAssets matches", async () => {
    const haircut = BigInt((await (await deployProtocol()).loanVault.riskParams()).recoveryHaircutBps);
    let commandsRun = 0;
    const outcomes: Record<string, number> = {};
    let current = "";

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 5 }),
        fc.array(cmdArb, { minLength: MIN_COMMANDS, maxLength: MAX_COMMANDS }),
        async (nLoans, cmds) => {
          const { fx, oracle, loans, payer } = await invariantFixture();
          const borrowers = [fx.actors.borrower1, fx.actors.borrower2, fx.actors.borrower3];
          const models = loans
            .slice(0, nLoans)
            .map(
              (l) =>
                new LoanModel(l.id, modelTerms(l.terms as unknown as Record<string, unknown>), () =>
                  usd(LOANS[Number(l.id) - 1].principalUsd * 2),
                ),
            );
          const [, , , vestingPeriod] = await fx.susdai.params();
          const staked = new StakedModel(await fx.susdai.idleAssets(), vestingPeriod);
          expect(await fx.susdai.unvestedGains()).to.equal(0n);
          let stepId = 0n;

          /**
           * Runs `op` on the model at the next block's timestamp and `send` on the chain in that block; a model
           * revert must be the chain's revert, with the same custom error and arguments.
           */
          const step = async (
            op: (m: LoanModel, t: bigint) => Allocation | void,
            m: LoanModel,
            send: () => Promise<ContractTransactionResponse>,
          ) => {
            const t = (await latest()) + 1n;
            const probe = m.clone();
            let allocation: Allocation | void;
            try {
              allocation = op(probe, t);
            } catch (e) {
              if (!(e instanceof ModelRevert)) throw e;
              await time.setNextBlockTimestamp(t);
              await expect(send())
                .to.be.revertedWithCustomError(fx.loanVault, e.errorName)
                .withArgs(...e.args);
              outcomes[`${e.errorName}`] = (outcomes[e.errorName] ?? 0) + 1;
              return;
            }
            await time.setNextBlockTimestamp(t);
            const receipt = (await (await send()).wait())!;
            expect(BigInt((await hre.ethers.provider.getBlock(receipt.blockNumber))!.timestamp)).to.equal(t);
            m.s = probe.s;
            if (allocation) staked.receive(t, allocation);
            outcomes[`${current} ok`] = (outcomes[`${current} ok`] ?? 0) + 1;
          };

          // Every run starts with all loans but the last drawn, so the commands have something to act on; the last is
          // left to a random `borrow`.
          const opening: Cmd[] = models.slice(0, -1).map((_, i) => ({ kind: "borrow", loan: i }));
          for (const cmd of [...opening, ...cmds]) {
            current = cmd.kind;
            commandsRun++;
            let m = "loan" in cmd ? models[cmd.loan % nLoans] : models[0];
            // Default and step-in aim at a loan where they succeed, when there is one (otherwise they must revert).
            const now0 = (await latest()) + 1n;
            if (cmd.kind === "default") {
              m = models.find((x) => x.active && x.defaultableAt() !== 0n && x.defaultableAt() <= now0) ?? m;
            }
            if (cmd.kind === "stepIn") m = models.find((x) => x.s.status === Status.Defaulted) ?? m;
            const loan = loans[Number(m.id) - 1];
            const vault = fx.loanVault;
            switch (cmd.kind) {
              case "borrow": {
                const wasApproved = m.s.status === Status.Approved;
                await step(
                  (p, t) => {
                    if (p.s.status !== Status.Approved)
                      throw new ModelRevert("LoanVaultBadStatus", [p.id, p.s.status]);
                    p.borrow(t);
                  },
                  m,
                  () => vault.connect(loan.borrower).borrow(m.id, loan.receiptIds),
                );
                if (wasApproved) staked.fund(m.t.principal);
                break;
              }
              case "repay": {
                const t = (await latest()) + 1n;
                let amount: bigint;
                if (cmd.mode === "max") amount = MaxUint256;
                else if (cmd.mode === "quote" && m.active && m.nextPayment(t)[1] > 0n)
                  amount = m.nextPayment(t)[1];
                else amount = m.active ? ceilDiv(m.owed(t) * BigInt(cmd.bps), 10_000n) : 1n;
                await step(
                  (p, tt) => p.repay(tt, amount === MaxUint256 ? "max" : amount),
                  m,
                  () => vault.connect(payer).repay(m.id, amount),
                );
                break;
              }
              case "revenue":
                await step(
                  (p) => p.depositRevenue(usd(cmd.usd)),
                  m,
                  () => vault.connect(payer).depositRevenue(m.id, usd(cmd.usd)),
                );
                if (cmd.sweep)
                  await step(
                    (p, t) => p.sweep(t).a,
                    m,
                    () => vault.sweep(m.id),
                  );
                break;
              case "coupon": {
                const id = ++stepId;
                await step(
                  (p, t) => p.applyCouponStep(t, id, BigInt(cmd.delta), cmd.topUp),
                  m,
                  () => vault.connect(oracle).applyCouponStep(m.id, id, cmd.delta, cmd.topUp),
                );
                break;
              }
              case "sla":
                await step(
                  (p) => p.setCovenantBreach(BigInt(cmd.flags)),
                  m,
                  () => vault.connect(oracle).setCovenantBreach(m.id, cmd.flags),
                );
                break;
              case "warp":
                await time.increase(cmd.seconds);
                break;
              case "default":
                await step(
                  (p, t) => p.declareDefault(t, haircut),
                  m,
                  () => vault.declareDefault(m.id),
                );
                break;
              case "stepIn":
                await step(
                  (p, t) => p.stepIn(t),
                  m,
                  () => vault.connect(fx.actors.creditAdmin).stepIn(m.id, borrowers[cmd.to].address),
                );
                break;
              case "check":
                await step(
                  (p, t) => {
                    if (!p.active) throw new ModelRevert("LoanVaultBadStatus", [p.id, p.s.status]);
                    p.checkCovenants(t, haircut);
                  },
                  m,
                  () => vault.checkCovenants(m.id),
                );
                break;
            }

            // ---- the invariant, from the chain's own per-loan states
            const now = await latest();
            const states = await Promise.all(models.map((x) => vault.stateOf(x.id)));
            const agg = await vault.accrualState();
            let principal = 0n,
              rateSum = 0n,
              numerator = 0n,
              impaired = 0n,
              debt = 0n,
              active = 0n;
            for (const st of states) {
              if (st.status === Status.Active) {
                active++;
                principal += st.principal;
                debt += st.principal;
                // a loan in non-accrual is in the books at its principal alone (#16.10)
                if ((st.breachFlags & BREACH_NON_ACCRUAL) === 0n) {
                  rateSum += st.principal * st.couponBps;
                  // negative while interest is paid ahead (accruedAt later than now): unearned (#16.1)
                  const pending = st.principal * st.couponBps * (now - st.accruedAt);
                  numerator += st.interest * D + pending;
                  debt += st.interest + (pending >= 0n ? ceilDiv(pending, D) : -(-pending / D));
                } else {
                  // ... less its past-grace writedown, booked in the numerator (#24.2)
                  numerator -= st.impairedValue * D;
                  debt -= st.impairedValue;
                }
              }
              if (st.status === Status.Defaulted || st.status === Status.Liquidating)
                impaired += st.impairedValue;
            }
            const label = `after ${JSON.stringify(cmd)}`;
            expect(agg.totalPrincipal, `${label}: totalPrincipal`).to.equal(principal);
            expect(agg.rateSum, `${label}: rateSum`).to.equal(rateSum);
            expect(
              agg.interestNumerator + agg.rateSum * (now - agg.checkpointAt),
              `${label}: numerator`,
            ).to.equal(numerator);
            expect(agg.impaired, `${label}: impaired`).to.equal(impaired);
            const loanAssets = await vault.loanAssets();
            expect(loanAssets, `${label}: loanAssets <= sum of debts`).to.be.lessThanOrEqual(debt + impaired);
            expect(debt + impaired - loanAssets, `${label}: rounding gap`).to.be.lessThanOrEqual(active);

            // ---- and the model agrees with the chain, loan by loan, and on the NAV
            for (const x of models) await expectLoanState(fx, x, label);
            const modelAgg = aggregateOf(models, now);
            expect(loanAssets, `${label}: model loanAssets`).to.equal(modelAgg.loanAssets);
            expect(await fx.susdai.totalAssets(), `${label}: sUSDai totalAssets`).to.equal(
              staked.totalAssets(now, loanAssets),
            );
          }
        },
      ),
      fuzzParams(RUNS),
    );
    console.log(`      ${commandsRun} commands; outcomes: ${JSON.stringify(outcomes)}`);
  });
});

/**
 * Borrower: a loan's terms, schedule and the next payment exactly as `nextPayment` quotes it; the lockbox, its
 * waterfall history and the payments; utilization and coupon history (the demo's chart); covenant flags and cure
 * deadlines. Actions: repay, deposit revenue (and run the waterfall), release excess, top up collateral.
 */
import { useEffect, useState } from "react";
import { useAccount, useReadContracts } from "wagmi";
import { zeroAddress, type Address } from "viem";

import { LineChart } from "../components/LineChart";
import { ActionButton, AmountForm, Card, ErrorNote, Facts, Loading, Table } from "../components/ui";
import { config } from "../config";
import { useChainNow } from "../lib/chainTime";
import { contracts, flagNames, LOAN_STATUSES, ORACLE_FLAGS, VAULT_FLAGS } from "../lib/contracts";
import {
  bytes32ToText,
  formatBps,
  formatDate,
  formatDuration,
  formatTime,
  formatUsd,
  shortAddress,
} from "../lib/format";
import { big, useLoanHistory, useLoans, useReceipts, useTape } from "../lib/indexer";
import type { ContractCall } from "../lib/tx";

/** Scheduled payments shown after the next one. */
const SCHEDULE_AHEAD = 5;

function loanFromHash(): bigint | undefined {
  const m = /[?&]loan=(\d+)/.exec(window.location.hash);
  return m ? BigInt(m[1]!) : undefined;
}

export function BorrowerPage() {
  const { address } = useAccount();
  const loans = useLoans();
  const [selected, setSelected] = useState<bigint | undefined>(loanFromHash);
  const mine = (loans.data?.loans ?? []).filter(
    (l) => address && l.borrower.toLowerCase() === address.toLowerCase(),
  );

  useEffect(() => {
    // Default to the connected borrower's first loan; keep an explicit choice.
    if (selected === undefined && mine[0]) setSelected(BigInt(mine[0].id));
  }, [selected, mine]);

  if (loans.error) return <ErrorNote error={loans.error} />;
  if (!loans.data) return <Loading what="loans" />;
  return (
    <div className="grid">
      <Card title="Loan" wide testId="loan-picker">
        <label>
          Loan{" "}
          <select
            data-testid="select-loan"
            value={selected?.toString() ?? ""}
            onChange={(e) => {
              setSelected(e.target.value ? BigInt(e.target.value) : undefined);
              window.location.hash = e.target.value ? `#/borrower?loan=${e.target.value}` : "#/borrower";
            }}
          >
            <option value="">choose…</option>
            {loans.data.loans.map((l) => (
              <option key={l.id} value={l.id}>
                #{l.id} {l.siteName} · {shortAddress(l.borrower)} · {l.status}
                {address && l.borrower.toLowerCase() === address.toLowerCase() ? " (yours)" : ""}
              </option>
            ))}
          </select>
        </label>
        {address && mine.length === 0 && (
          <p className="muted">
            The connected account borrows nothing; any loan can be viewed (and repaid: anyone may).
          </p>
        )}
      </Card>
      {selected !== undefined && <LoanView loanId={selected} account={address} />}
    </div>
  );
}

function LoanView({ loanId, account }: { loanId: bigint; account?: Address }) {
  const c = contracts();
  const me = account ?? zeroAddress;
  const reads = useReadContracts({
    allowFailure: false,
    contracts: [
      { ...c.loans, functionName: "termsOf", args: [loanId] },
      { ...c.loans, functionName: "stateOf", args: [loanId] },
      { ...c.loans, functionName: "nextPayment", args: [loanId] },
      { ...c.loans, functionName: "debtOf", args: [loanId] },
      { ...c.loans, functionName: "ltvOf", args: [loanId] },
      { ...c.loans, functionName: "couponOf", args: [loanId] },
      { ...c.loans, functionName: "collateralValueOf", args: [loanId] },
      { ...c.loans, functionName: "receiptsOf", args: [loanId] },
      { ...c.loans, functionName: "defaultableAt", args: [loanId] },
      { ...c.usdai, functionName: "balanceOf", args: [me] },
      { ...c.usdai, functionName: "allowance", args: [me, c.loans.address] },
      { ...c.receipts, functionName: "isApprovedForAll", args: [me, c.loans.address] },
    ],
    query: { refetchInterval: config.pollMs },
  });
  const now = useChainNow();
  if (reads.error) return <ErrorNote error={reads.error} />;
  if (!reads.data) return <Loading what={`loan ${loanId}`} />;
  const [
    terms,
    state,
    [dueDate, amountDue],
    debt,
    ltv,
    coupon,
    collateral,
    receiptIds,
    defaultableAt,
    usdai,
    allowance,
    approvedAll,
  ] = reads.data;
  const refetch = () => void reads.refetch();
  const status = LOAN_STATUSES[state.status] ?? `#${state.status}`;
  const isBorrower = account !== undefined && terms.borrower.toLowerCase() === account.toLowerCase();
  const flags = [...flagNames(state.breachFlags, VAULT_FLAGS), ...flagNames(state.oracleFlags, ORACLE_FLAGS)];

  const payWithUsdai = (
    label: string,
    functionName: "repay" | "depositRevenue",
    amount: bigint,
  ): ContractCall[] => [
    ...(allowance >= amount
      ? []
      : [
          {
            label: "Approve USDai",
            ...c.usdai,
            functionName: "approve",
            args: [c.loans.address, amount],
          } as ContractCall,
        ]),
    { label, ...c.loans, functionName, args: [loanId, amount] },
  ];

  // Payment k (1-based) is due at scheduleStart + k * interval; `nextPaymentIndex` is the first unsettled one.
  const schedule = Array.from({ length: state.schedulePayments }, (_, i) => ({
    index: i,
    due: Number(state.scheduleStart) + (i + 1) * terms.paymentIntervalSeconds,
  }));

  return (
    <>
      <Card title={`Loan #${loanId}: ${bytes32ToText(terms.site)}`} testId="loan-summary">
        <Facts
          rows={[
            ["Status", <span className={`status status-${status}`}>{status}</span>, "loan-status"],
            ["Borrower", <span className="mono">{terms.borrower}</span>],
            ["Debt (principal + interest + fees)", formatUsd(debt), "loan-debt"],
            ["Principal outstanding", formatUsd(BigInt(state.principal)), "loan-principal"],
            ["Coupon", formatBps(coupon), "loan-coupon"],
            [
              "Coupon build-up",
              `${formatBps(state.referenceRateBps)} reference + ${formatBps(state.premiumBps)} premium (floor ${formatBps(terms.premiumFloorBps)}, cap ${formatBps(terms.premiumCapBps)})`,
            ],
            ["Collateral value (depreciated, insured floor)", formatUsd(collateral)],
            [
              "LTV",
              `${formatBps(ltv)} (max ${formatBps(terms.maxLtvBps)}, maintenance ${formatBps(terms.maintenanceLtvBps)})`,
              "loan-ltv",
            ],
            ["Receipts pledged", receiptIds.map((id) => `#${id}`).join(", ") || "none"],
            [
              "Covenants",
              flags.length === 0 ? (
                <span className="badge good">none breached</span>
              ) : (
                <span className="badge bad" data-testid="loan-flags">
                  {flags.join(", ")}
                </span>
              ),
            ],
            [
              "Cure deadline",
              state.cureDeadline === 0
                ? "-"
                : `${formatTime(state.cureDeadline)} (${state.cureDeadline > now ? `in ${formatDuration(state.cureDeadline - now)}` : "passed"})`,
              "loan-cure",
            ],
            ["Defaultable from", defaultableAt === 0n ? "-" : formatTime(defaultableAt)],
          ]}
        />
      </Card>

      <Card title="Next payment (the vault's quote)" testId="next-payment">
        <Facts
          rows={[
            ["Due", formatTime(dueDate), "next-due"],
            ["Amount due", formatUsd(amountDue, 6), "next-amount"],
            ["Exact (wei)", <span className="mono">{amountDue.toString()}</span>, "next-amount-wei"],
            ["Lockbox", formatUsd(BigInt(state.lockbox)), "loan-lockbox"],
            ["Debt-service reserve", formatUsd(BigInt(state.reserve))],
            ["Your USDai", formatUsd(usdai), "borrower-usdai"],
          ]}
        />
        <AmountForm
          id="repay"
          label="Repay (anyone may repay a loan)"
          symbol="USDai"
          decimals={18}
          action="Repay"
          limit={{
            max: usdai < debt ? usdai : debt,
            label: usdai < debt ? "your USDai balance" : "the loan's debt",
          }}
          quote={amountDue > 0n ? { label: "pay the quoted amount", value: amountDue } : undefined}
          calls={(amount) => payWithUsdai("Repay", "repay", amount)}
          onDone={refetch}
        />
      </Card>

      <Card title="Lockbox" testId="lockbox">
        <AmountForm
          id="revenue"
          label="Deposit compute revenue into the lockbox"
          symbol="USDai"
          decimals={18}
          action="Deposit revenue"
          limit={{ max: usdai, label: "your USDai balance" }}
          calls={(amount) => payWithUsdai("Deposit revenue", "depositRevenue", amount)}
          onDone={refetch}
        />
        <ActionButton
          id="sweep"
          label="Run the waterfall (sweep)"
          disabledReason={state.lockbox === 0n ? "The lockbox is empty." : undefined}
          calls={() => [{ label: "Sweep", ...c.loans, functionName: "sweep", args: [loanId] }]}
          onDone={refetch}
        />
        <AmountForm
          id="release"
          label="Release excess to your account (borrower only; blocked while a covenant is breached)"
          symbol="USDai"
          decimals={18}
          action="Release excess"
          calls={(amount) => [
            {
              label: "Release excess",
              ...c.loans,
              functionName: "releaseExcess",
              args: [loanId, me, amount],
            },
          ]}
          onDone={refetch}
        />
        {!isBorrower && <p className="muted small">Only the loan's borrower may release excess or top up.</p>}
      </Card>

      <TopUp loanId={loanId} account={account} approvedAll={approvedAll} onDone={refetch} />

      <Card title="Schedule" testId="schedule">
        <p className="small muted">
          {state.schedulePayments} payments every {formatDuration(terms.paymentIntervalSeconds)}; showing the
          settled ones' count, the next and the {SCHEDULE_AHEAD} after it.
        </p>
        <Table
          testId="schedule-table"
          head={["#", "due", "state"]}
          rows={schedule
            .filter(
              (p) =>
                p.index + 1 >= state.nextPaymentIndex - 1 &&
                p.index + 1 <= state.nextPaymentIndex + SCHEDULE_AHEAD,
            )
            .map((p) => ({
              key: String(p.index),
              cells: [
                p.index + 1,
                formatDate(p.due),
                p.index + 1 < state.nextPaymentIndex
                  ? "settled"
                  : p.index + 1 === state.nextPaymentIndex
                    ? `next: ${formatUsd(amountDue)} quoted`
                    : "scheduled",
              ],
            }))}
        />
      </Card>

      <LoanHistory loanId={loanId} />
    </>
  );
}

function TopUp({
  loanId,
  account,
  approvedAll,
  onDone,
}: {
  loanId: bigint;
  account?: Address;
  approvedAll: boolean;
  onDone: () => void;
}) {
  const c = contracts();
  const receipts = useReceipts();
  const [chosen, setChosen] = useState<string[]>([]);
  const free = (receipts.data?.receipts.items ?? []).filter(
    (r) =>
      account &&
      r.owner.toLowerCase() === account.toLowerCase() &&
      r.loanId === null &&
      r.status === "Active",
  );
  return (
    <Card title="Top up collateral" testId="topup">
      {free.length === 0 ? (
        <p className="muted">The connected account holds no unpledged receipts.</p>
      ) : (
        <>
          {free.map((r) => (
            <label key={r.id} className="check">
              <input
                type="checkbox"
                checked={chosen.includes(r.id)}
                onChange={(e) =>
                  setChosen(e.target.checked ? [...chosen, r.id] : chosen.filter((x) => x !== r.id))
                }
              />{" "}
              #{r.id} {r.model} × {r.gpuCount} at {r.site} (appraised {formatUsd(big(r.appraisedValue))})
            </label>
          ))}
          <ActionButton
            id="topup"
            label={`Pledge ${chosen.length} receipt(s)`}
            disabledReason={chosen.length === 0 ? "Choose receipts to pledge." : undefined}
            calls={() => [
              ...(approvedAll
                ? []
                : [
                    {
                      label: "Approve the vault for receipts",
                      ...c.receipts,
                      functionName: "setApprovalForAll",
                      args: [c.loans.address, true],
                    } as ContractCall,
                  ]),
              {
                label: "Top up",
                ...c.loans,
                functionName: "topUp",
                args: [loanId, chosen.map((id) => BigInt(id))],
              },
            ]}
            onDone={() => {
              setChosen([]);
              onDone();
            }}
          />
        </>
      )}
    </Card>
  );
}

function LoanHistory({ loanId }: { loanId: bigint }) {
  const tape = useTape(loanId);
  const history = useLoanHistory(loanId);
  if (tape.error) return <ErrorNote error={tape.error} />;
  if (history.error) return <ErrorNote error={history.error} />;
  if (!tape.data || !history.data) return <Loading what="history" />;
  const { payments, couponSteps, covenantFlags, events } = tape.data;
  const sweeps = history.data.sweeps.items;
  const observations = history.data.oracleObservations.items;
  const revenue = history.data.revenue.items.reduce(
    (sum, e) => sum + BigInt(String(e.args.amount ?? "0")),
    0n,
  );
  return (
    <>
      <Card title="Utilization and coupon" wide testId="coupon-chart">
        <LineChart
          testId="chart-utilization"
          title={`Loan #${loanId}`}
          formatX={(x) => formatDate(x)}
          left={{
            name: "utilization (daily median)",
            color: "#2563eb",
            format: (y) => `${y.toFixed(0)}%`,
            points: observations.map((o) => ({ x: o.day * 86_400, y: o.utilizationBps / 100 })),
          }}
          right={{
            name: "coupon",
            color: "#dc2626",
            step: true,
            format: (y) => `${y.toFixed(2)}%`,
            points: events.map((e) => ({ x: Number(e.timestamp), y: e.couponBps / 100 })),
          }}
        />
        <Table
          testId="coupon-steps"
          head={["when", "requested", "applied", "coupon after", "top-up required", "cure deadline"]}
          rows={couponSteps.map((s) => ({
            key: s.id,
            cells: [
              formatDate(big(s.timestamp)),
              `${s.requestedDeltaBps > 0 ? "+" : ""}${s.requestedDeltaBps} bps`,
              `${s.appliedDeltaBps > 0 ? "+" : ""}${s.appliedDeltaBps} bps`,
              formatBps(s.couponBps),
              s.topUpRequired ? "yes" : "no",
              formatTime(big(s.cureDeadline)),
            ],
          }))}
          empty="No coupon steps yet."
        />
      </Card>
      <Card title="Waterfall history (sweeps)" testId="sweeps">
        <p className="small">Revenue deposited into the lockbox so far: {formatUsd(revenue)}</p>
        <Table
          head={["when", "applied to the loan", "to reserve", "excess", "cash sweep"]}
          rows={sweeps.map((s) => ({
            key: s.id,
            cells: [
              formatDate(big(s.timestamp)),
              formatUsd(big(s.applied)),
              formatUsd(big(s.reserve)),
              formatUsd(big(s.excess)),
              s.cashSweep ? "on" : "off",
            ],
          }))}
          empty="No sweeps yet."
        />
      </Card>
      <Card title="Payments" wide testId="payments">
        <Table
          testId="payments-table"
          head={["when", "payer", "late fees", "interest", "scheduled principal", "prepayment", "total"]}
          rows={payments.map((p) => ({
            key: p.id,
            cells: [
              formatTime(big(p.timestamp)),
              shortAddress(p.payer),
              formatUsd(big(p.lateFees)),
              formatUsd(big(p.interest)),
              formatUsd(big(p.scheduledPrincipal)),
              formatUsd(big(p.prepayment)),
              formatUsd(big(p.total)),
            ],
          }))}
          empty="No payments yet."
        />
      </Card>
      <Card title="Covenant flags history" testId="covenants">
        <Table
          head={["when", "source", "flags", "cure deadline"]}
          rows={covenantFlags.map((f) => ({
            key: f.id,
            cells: [
              formatTime(big(f.timestamp)),
              f.source,
              [...flagNames(f.flags, f.source === "oracle" ? ORACLE_FLAGS : VAULT_FLAGS)].join(", ") ||
                "cleared",
              f.cureDeadline ? formatTime(big(f.cureDeadline)) : "-",
            ],
          }))}
          empty="No covenant flags have been set."
        />
      </Card>
    </>
  );
}

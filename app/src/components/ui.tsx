/** Building blocks shared by the pages: cards, key-value lists, tables and the amount form. */
import { useState, type ReactNode } from "react";

import { checkAmount, type AmountLimit } from "../lib/amount";
import { formatAmount } from "../lib/format";
import { TxStatus, useSendBlocker, useTx, type ContractCall } from "../lib/tx";

export function Card({
  title,
  children,
  testId,
  wide,
}: {
  title: string;
  children: ReactNode;
  testId?: string;
  /** Spans the whole row of the page's grid (wide tables). */
  wide?: boolean;
}) {
  return (
    <section className={wide ? "card wide" : "card"} data-testid={testId}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Facts({ rows, testId }: { rows: [string, ReactNode, string?][]; testId?: string }) {
  return (
    <dl className="facts" data-testid={testId}>
      {rows.map(([label, value, id]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd data-testid={id}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Table({
  head,
  rows,
  testId,
  empty = "Nothing yet.",
}: {
  head: string[];
  rows: { key: string; cells: ReactNode[]; testId?: string }[];
  testId?: string;
  empty?: string;
}) {
  if (rows.length === 0) {
    return (
      <p className="muted" data-testid={testId} data-empty="true">
        {empty}
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table data-testid={testId}>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={r.testId}>
              {r.cells.map((c, i) => (
                <td key={i}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

export function ErrorNote({ error }: { error: unknown }) {
  return <p className="error">{error instanceof Error ? error.message : String(error)}</p>;
}

interface AmountFormProps {
  /** Form id for tests and labels: "mint", "stake", ... */
  id: string;
  label: string;
  symbol: string;
  decimals: number;
  action: string;
  limit?: AmountLimit;
  /** What the amount will do, shown under the input (a preview). */
  preview?: (amount: bigint) => ReactNode;
  /** The calls to send for a valid amount, in order (approve first when needed). */
  calls: (amount: bigint) => ContractCall[];
  /** A value the "quote" button fills in, e.g. the contract's quoted next payment. */
  quote?: { label: string; value: bigint };
  onDone?: () => void;
}

/**
 * An amount input that checks what was typed (a number, positive, within the token's decimals and the limit) and the
 * wallet's network before sending, and shows each transaction's progress. Invalid input sends nothing.
 */
export function AmountForm(props: AmountFormProps) {
  const { id, label, symbol, decimals, action, limit, preview, calls, quote, onDone } = props;
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const blocker = useSendBlocker();
  const { state, run, busy } = useTx(() => {
    setInput("");
    setTouched(false);
    onDone?.();
  });
  const check = checkAmount(input, decimals, symbol, limit);
  // The wallet's state is only an error once the person tries to send; bad input as soon as it is typed.
  const problem = touched ? (blocker ?? (!check.ok ? check.reason : undefined)) : undefined;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (blocker || !check.ok) return; // says why (below) and sends nothing
    await run(calls(check.value));
  };

  return (
    <form className="amount-form" data-testid={`form-${id}`} onSubmit={submit} noValidate>
      <label htmlFor={`input-${id}`}>{label}</label>
      <div className="row">
        <input
          id={`input-${id}`}
          data-testid={`input-${id}`}
          inputMode="decimal"
          autoComplete="off"
          placeholder={`0.00 ${symbol}`}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onBlur={() => setTouched(input !== "")}
          aria-invalid={touched && !check.ok}
        />
        {limit && (
          <button
            type="button"
            className="link"
            onClick={() =>
              setInput(
                formatAmount(limit.max, decimals, decimals)
                  .replace(/,/g, "")
                  .replace(/\.?0+$/, ""),
              )
            }
          >
            max
          </button>
        )}
        {quote && (
          <button
            type="button"
            className="link"
            data-testid={`quote-${id}`}
            onClick={() =>
              setInput(
                formatAmount(quote.value, decimals, decimals)
                  .replace(/,/g, "")
                  .replace(/\.?0+$/, ""),
              )
            }
          >
            {quote.label}
          </button>
        )}
        <button type="submit" data-testid={`submit-${id}`} disabled={busy}>
          {action}
        </button>
      </div>
      {limit && (
        <div className="muted small">
          Available: {formatAmount(limit.max, decimals, Math.min(decimals, 6))} {symbol}
        </div>
      )}
      {check.ok && preview && <div className="small">{preview(check.value)}</div>}
      {problem && (
        <div className="error" data-testid={`problem-${id}`} role="alert">
          {problem}
        </div>
      )}
      <TxStatus state={state} />
    </form>
  );
}

/** A button that sends fixed calls (claim, service the queue, sweep), with the same progress display. */
export function ActionButton({
  id,
  label,
  calls,
  disabledReason,
  onDone,
}: {
  id: string;
  label: string;
  calls: () => ContractCall[];
  disabledReason?: string;
  onDone?: () => void;
}) {
  const blocker = useSendBlocker();
  const { state, run, busy } = useTx(onDone);
  const reason = blocker ?? disabledReason;
  return (
    <div className="action" data-testid={`actionwrap-${id}`}>
      <button
        type="button"
        data-testid={`action-${id}`}
        disabled={busy || reason !== undefined}
        onClick={() => void run(calls())}
      >
        {label}
      </button>
      {reason && (
        <span className="muted small" data-testid={`reason-${id}`}>
          {" "}
          {reason}
        </span>
      )}
      <TxStatus state={state} />
    </div>
  );
}

/**
 * Sending transactions with visible progress. Each call is simulated first (so a revert is decoded into its custom
 * error before anything is signed), then signed, then shown pending with its hash until it is mined. A multi-step
 * action (approve, then deposit) runs its steps in order and stops at the first failure.
 */
import { useCallback, useState } from "react";
import { useAccount, useConfig } from "wagmi";
import { simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";
import type { Abi, Address, Hash } from "viem";

import { config } from "../config";
import { ProtocolErrorsAbi } from "../generated/contracts";
import { describeError } from "./errors";

/** A call's ABI with every protocol error, so that a revert deep in a call (a library, a hook) still decodes. */
function withErrors(abi: Abi): Abi {
  return [...abi, ...(ProtocolErrorsAbi as Abi)];
}

export type TxPhase = "idle" | "checking" | "signing" | "pending" | "mined" | "failed";

export interface TxState {
  phase: TxPhase;
  /** The step being run, e.g. "Approve USDC" (multi-step actions). */
  step?: string;
  hash?: Hash;
  blockNumber?: bigint;
  error?: string;
  errorName?: string;
  /** Every step of the action was mined. */
  complete?: boolean;
}

export interface ContractCall {
  /** Shown while the step runs. */
  label: string;
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
}

/** Wrong network, or no account: the reason a form must not send (undefined when it may). */
export function useSendBlocker(): string | undefined {
  const { isConnected, chainId } = useAccount();
  if (!isConnected) return "Connect a wallet first.";
  if (chainId !== config.chain.id) {
    return `Wrong network: the wallet is on chain ${chainId}; the protocol is on ${config.chain.name} (chain ${config.chain.id}). Switch networks in the wallet.`;
  }
  return undefined;
}

export function useTx(onMined?: () => void) {
  const wagmi = useConfig();
  const { address } = useAccount();
  const blocker = useSendBlocker();
  const [state, setState] = useState<TxState>({ phase: "idle" });

  const run = useCallback(
    async (calls: ContractCall[]): Promise<boolean> => {
      if (blocker || !address) {
        setState({ phase: "failed", error: blocker ?? "Connect a wallet first." });
        return false;
      }
      for (const call of calls) {
        const base = { step: call.label };
        try {
          setState({ ...base, phase: "checking" });
          const { request } = await simulateContract(wagmi, {
            address: call.address,
            abi: withErrors(call.abi),
            functionName: call.functionName,
            args: call.args,
            account: address,
            chainId: config.chain.id,
          } as never);
          setState({ ...base, phase: "signing" });
          const hash = await writeContract(wagmi, request as never);
          setState({ ...base, phase: "pending", hash });
          const receipt = await waitForTransactionReceipt(wagmi, { hash, chainId: config.chain.id });
          if (receipt.status !== "success") {
            setState({ ...base, phase: "failed", hash, error: "The transaction reverted on-chain." });
            return false;
          }
          setState({ ...base, phase: "mined", hash, blockNumber: receipt.blockNumber });
        } catch (err) {
          const decoded = describeError(err, withErrors(call.abi));
          setState({ ...base, phase: "failed", error: decoded.message, errorName: decoded.name });
          return false;
        }
      }
      setState((last) => ({ ...last, complete: true }));
      onMined?.();
      return true;
    },
    [wagmi, address, blocker, onMined],
  );

  return { state, run, busy: ["checking", "signing", "pending"].includes(state.phase) };
}

const PHASE_TEXT: Record<TxPhase, string> = {
  idle: "",
  checking: "Checking the call against the chain…",
  signing: "Waiting for your signature…",
  pending: "Pending: waiting to be mined…",
  mined: "Mined",
  failed: "Failed",
};

export function TxStatus({ state }: { state: TxState }) {
  if (state.phase === "idle") return null;
  return (
    <div
      className={`tx tx-${state.phase}`}
      data-testid="tx-status"
      data-phase={state.phase}
      data-step={state.step ?? ""}
      data-complete={state.complete ? "true" : "false"}
      role="status"
    >
      <strong>
        {state.step ? `${state.step}: ` : ""}
        {PHASE_TEXT[state.phase]}
      </strong>
      {state.blockNumber !== undefined && <span> in block {state.blockNumber.toString()}</span>}
      {state.complete && <span> · done</span>}
      {state.hash && (
        <div className="mono small" data-testid="tx-hash">
          {state.hash}
        </div>
      )}
      {state.error && (
        <div className="error" data-testid="tx-error" data-error-name={state.errorName ?? ""}>
          {state.error}
        </div>
      )}
    </div>
  );
}

/**
 * Turns a failed call into a sentence a person can act on. A contract's custom error is decoded with the protocol's
 * ABIs (every call's ABI is given every protocol error, see src/lib/tx.tsx) and shown as its name in words
 * with its arguments; a wallet rejection, a wrong network and an unreachable node each get their own message.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  UserRejectedRequestError,
  type Abi,
  decodeErrorResult,
  formatUnits,
  isHex,
} from "viem";

import { ProtocolErrorsAbi } from "../generated/contracts";

/** Well-known errors whose name alone does not say what to do. */
const HINTS: Record<string, string> = {
  AccessControlUnauthorizedAccount: "The connected account does not hold the role this action needs.",
  EnforcedPause: "The contract is paused: new money in and new loans are stopped for now.",
  ERC20InsufficientBalance: "The balance is too low for this amount.",
  ERC20InsufficientAllowance: "The token allowance is too low; approve first.",
  StakedUSDaiInsufficientIdle: "The vault has no idle USDai to service redemptions right now.",
  StakedUSDaiRequestTooSmall: "The request is below the vault's minimum redemption size.",
  StakedUSDaiTooManyRequests: "This account already has the most open redemption requests allowed.",
  StakedUSDaiExceedsClaimable: "That is more than the serviced (claimable) part of your requests.",
  LoanVaultOverpayment: "The payment is more than the loan's whole debt.",
  LoanVaultNotBorrower: "Only the loan's borrower may do this.",
  LoanVaultExcessUnavailable: "There is no excess to release (or a covenant breach is blocking releases).",
  LoanVaultNotInGoodStanding: "The loan is not in good standing, so nothing can be released.",
  LoanVaultBadStatus: "The loan's status does not allow this.",
  USDaiSupplyCapExceeded: "USDai's supply cap would be exceeded.",
  USDaiInsufficientLiquidity: "USDai does not hold enough liquid reserves to redeem this now.",
  USDaiRedemptionsPaused: "USDai redemptions are paused.",
};

/** "LoanVaultNotBorrower" -> "Loan vault: not borrower". */
function words(name: string): string {
  const prefixes = ["StakedUSDai", "USDai", "LoanVault", "GpuReceipt", "UtilizationOracle", "Auction"];
  const prefix = prefixes.find((p) => name.startsWith(p) && name.length > p.length);
  const rest = prefix ? name.slice(prefix.length) : name;
  const text = rest.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  const label = prefix ? `${prefix.replace(/([a-z])([A-Z])/g, "$1 $2")}: ` : "";
  return `${label}${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function arg(value: unknown): string {
  if (typeof value === "bigint") {
    // Large integers are most likely 18-decimal amounts; show both readings.
    return value > 10n ** 15n ? `${formatUnits(value, 18)} (${value})` : value.toString();
  }
  return String(value);
}

export interface DecodedError {
  /** The custom error's name, when the failure was a contract revert with a known error. */
  name?: string;
  message: string;
}

export function describeError(err: unknown, abi: Abi = ProtocolErrorsAbi as Abi): DecodedError {
  if (err instanceof BaseError) {
    const rejected = err.walk((e) => e instanceof UserRejectedRequestError);
    if (rejected) return { message: "You rejected the request in your wallet." };
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      let name = revert.data?.errorName;
      let args = revert.data?.args;
      if (!name && revert.raw && isHex(revert.raw)) {
        try {
          const decoded = decodeErrorResult({ abi, data: revert.raw });
          name = decoded.errorName;
          args = decoded.args;
        } catch {
          // unknown selector: fall through to the reason
        }
      }
      if (name) {
        const hint = HINTS[name];
        const detail = args && args.length > 0 ? ` (${args.map(arg).join(", ")})` : "";
        return { name, message: `${hint ?? `${words(name)}.`} [${name}${detail}]` };
      }
      if (revert.reason) return { message: `The contract refused: ${revert.reason}` };
    }
    if (/fetch|network|ECONNREFUSED|HTTP request failed/i.test(err.message)) {
      return { message: "The node cannot be reached. Is it running?" };
    }
    return { message: err.shortMessage || err.message };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

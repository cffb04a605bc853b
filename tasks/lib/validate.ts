import { HardhatPluginError } from "hardhat/plugins";
import { getAddress, id, isHexString, parseUnits, ZeroAddress } from "ethers";

/**
 * Argument validation for the CLI. Every function here is pure (no network, no runtime): it parses a string the
 * user typed and either returns a typed value or throws a `TaskArgumentError` whose message says which argument was
 * wrong and what a good one looks like. Tasks call these before they build a transaction, so a bad argument never
 * costs gas.
 */

export const PLUGIN_NAME = "gpu-credit";

/** A bad task argument: the message names the argument and the expected form. */
export class TaskArgumentError extends HardhatPluginError {
  constructor(message: string) {
    super(PLUGIN_NAME, message);
    // HardhatPluginError pins its own prototype; restore the subclass so `instanceof` works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "TaskArgumentError";
  }
}

/** Throws a `TaskArgumentError` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TaskArgumentError(message);
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export interface AmountOptions {
  /** Accept `0` (default: false, a zero amount is refused). */
  allowZero?: boolean;
  /** Refuse amounts above this (raw units). */
  max?: bigint;
}

/**
 * A token amount typed in whole units (`1000`, `1_000`, `1,000.5`) as raw units of a token with `decimals`.
 * Refuses negatives, exponents, more fractional digits than the token has, and zero unless `allowZero`.
 */
export function parseAmount(
  value: string | undefined,
  decimals: number,
  name = "amount",
  options: AmountOptions = {},
): bigint {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (e.g. --${name} 1000)`);
  const text = String(value).trim().replace(/[_,]/g, "");
  const match = DECIMAL.exec(text);
  ensure(match, `--${name} must be a non-negative decimal number like 1000 or 2500.50, got "${value}"`);
  const fraction = match[2] ?? "";
  ensure(
    fraction.length <= decimals,
    `--${name} has ${fraction.length} decimals but the token has only ${decimals}, got "${value}"`,
  );
  const raw = parseUnits(text, decimals);
  ensure(options.allowZero || raw > 0n, `--${name} must be greater than zero`);
  if (options.max !== undefined) {
    ensure(raw <= options.max, `--${name} ${value} is above the maximum allowed`);
  }
  return raw;
}

/** A checksummed, non-zero address. Lower- or upper-case hex is accepted; mixed case must be a valid checksum. */
export function parseAddress(value: string | undefined, name = "address"): string {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (an 0x address)`);
  const text = String(value).trim();
  ensure(/^0x[0-9a-fA-F]{40}$/.test(text), `--${name} must be a 20-byte 0x address, got "${value}"`);
  let address: string;
  try {
    address = getAddress(text);
  } catch {
    throw new TaskArgumentError(
      `--${name} has a bad checksum: "${value}" (check the address or use lower case)`,
    );
  }
  ensure(address !== ZeroAddress, `--${name} must not be the zero address`);
  return address;
}

/**
 * A named account of the Hardhat config (`lender1`, `borrower2`, ...) or an address. Returns the address; `named`
 * maps account names to addresses (`hre.getNamedAccounts()`).
 */
export function parseAccount(
  value: string | undefined,
  named: Record<string, string>,
  name = "account",
): string {
  ensure(
    value !== undefined && String(value).trim() !== "",
    `--${name} is required (a named account or address)`,
  );
  const text = String(value).trim();
  if (text.startsWith("0x")) return parseAddress(text, name);
  const address = named[text];
  ensure(
    address !== undefined,
    `--${name} "${value}" is neither an address nor a named account; named accounts: ${Object.keys(named).join(", ")}`,
  );
  return getAddress(address);
}

/** A named account (for signing): must be one of `known`. */
export function parseNamedAccount(value: string | undefined, known: readonly string[], name = "as"): string {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (a named account)`);
  const text = String(value).trim();
  ensure(
    known.includes(text),
    `--${name} "${value}" is not a named account; use one of: ${known.join(", ")}`,
  );
  return text;
}

/** A comma-separated list of named accounts, each known and none repeated. */
export function parseNamedAccountList(
  value: string | undefined,
  known: readonly string[],
  name: string,
): string[] {
  ensure(
    value !== undefined && String(value).trim() !== "",
    `--${name} is required (comma-separated named accounts)`,
  );
  const list = String(value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  ensure(list.length > 0, `--${name} lists no accounts`);
  for (const entry of list) parseNamedAccount(entry, known, name);
  const duplicate = list.find((entry, i) => list.indexOf(entry) !== i);
  ensure(duplicate === undefined, `--${name} lists "${duplicate}" twice`);
  return list;
}

/** A non-negative integer id (a token id, a loan id) as a bigint. */
export function parseId(value: string | undefined, name = "id"): bigint {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (a whole number)`);
  const text = String(value).trim();
  ensure(/^\d+$/.test(text), `--${name} must be a whole number like 1, got "${value}"`);
  const parsed = BigInt(text);
  ensure(parsed < 2n ** 256n, `--${name} is larger than uint256`);
  return parsed;
}

/** An integer in `[min, max]`. */
export function parseInteger(value: string | undefined, name: string, min: number, max: number): number {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (a whole number)`);
  const text = String(value).trim().replace(/_/g, "");
  ensure(/^-?\d+$/.test(text), `--${name} must be a whole number, got "${value}"`);
  const parsed = Number(text);
  ensure(
    Number.isSafeInteger(parsed) && parsed >= min && parsed <= max,
    `--${name} must be between ${min} and ${max}, got ${value}`,
  );
  return parsed;
}

/** A yes/no value: a JSON boolean, or `true`/`false` (also `yes`/`no`, `1`/`0`) as text. */
export function parseBoolean(value: unknown, name: string): boolean {
  if (typeof value === "boolean") return value;
  const text =
    typeof value === "string" || typeof value === "number" ? String(value).trim().toLowerCase() : "";
  if (["true", "yes", "1"].includes(text)) return true;
  if (["false", "no", "0"].includes(text)) return false;
  throw new TaskArgumentError(`--${name} must be true or false, got ${JSON.stringify(value)}`);
}

/** Basis points in `[0, max]` (default 10_000 = 100%). */
export function parseBps(value: string | undefined, name: string, max = 10_000): number {
  return parseInteger(value, name, 0, max);
}

/**
 * A 32-byte value: a 0x-prefixed 32-byte hex string as is, any other text hashed with keccak256 (so a policy number
 * or a credentials reference can be typed as plain text).
 */
export function parseBytes32OrText(value: string | undefined, name: string): string {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required`);
  const text = String(value).trim();
  if (text.startsWith("0x")) {
    ensure(isHexString(text, 32), `--${name} starts with 0x but is not 32 bytes of hex, got "${value}"`);
    ensure(BigInt(text) !== 0n, `--${name} must not be zero`);
    return text.toLowerCase();
  }
  return id(text);
}

/** A duration like `90d`, `12h`, `30m`, `45s` or plain seconds, in seconds (> 0). */
export function parseDuration(value: string | undefined, name: string): number {
  ensure(value !== undefined && String(value).trim() !== "", `--${name} is required (e.g. 365d)`);
  const match = /^(\d+)\s*([dhms]?)$/.exec(String(value).trim());
  ensure(match, `--${name} must be a duration like 365d, 12h, 30m or 3600, got "${value}"`);
  const unit = { d: 86_400, h: 3_600, m: 60, s: 1, "": 1 }[match[2] as "d" | "h" | "m" | "s" | ""];
  const seconds = Number(match[1]) * unit;
  ensure(Number.isSafeInteger(seconds) && seconds > 0, `--${name} must be a positive duration`);
  return seconds;
}

// ---------------------------------------------------------------- oracle sources

/** `IUtilizationOracle.SourceKind`. */
export const SourceKind = { Feed: 0, Reporter: 1 } as const;

export interface SourceArg {
  kind: (typeof SourceKind)[keyof typeof SourceKind];
  account: string;
}

/**
 * `reporter:reporter1,reporter:0xabc...,feed:0xdef...`: each source is `<kind>:<named account or address>`. At most
 * `max` sources, none repeated.
 */
export function parseSources(
  value: string | undefined,
  named: Record<string, string>,
  max = 8,
  name = "sources",
): SourceArg[] {
  ensure(
    value !== undefined && String(value).trim() !== "",
    `--${name} is required, e.g. --${name} reporter:reporter1,reporter:reporter2,feed:0x...`,
  );
  const entries = String(value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  ensure(entries.length > 0 && entries.length <= max, `--${name} must list between 1 and ${max} sources`);
  const sources = entries.map((entry) => {
    const [kind, account, extra] = entry.split(":");
    ensure(
      extra === undefined && account !== undefined && (kind === "feed" || kind === "reporter"),
      `--${name}: "${entry}" must be feed:<address> or reporter:<named account or address>`,
    );
    return {
      kind: kind === "feed" ? SourceKind.Feed : SourceKind.Reporter,
      account: parseAccount(account, named, name),
    } as SourceArg;
  });
  const seen = new Set<string>();
  for (const source of sources) {
    ensure(!seen.has(source.account), `--${name} lists ${source.account} twice`);
    seen.add(source.account);
  }
  return sources;
}

// ---------------------------------------------------------------- server files (receipt:tokenize)

/** A server to tokenize, as read from a JSON file (see examples/server.json). */
export interface ServerSpec {
  /** Hardware model, e.g. `H100-SXM5-80GB`. */
  model: string;
  /** Site code, e.g. `DAL-1`. */
  site: string;
  /** Custodian holding the hardware: a named account or an address. */
  custodian: string;
  /** Receiver of the receipt: a named account or an address (the task's `--to` overrides it). */
  owner?: string;
  /** One serial per GPU; each is hashed with keccak256 on its own. */
  serials: string[];
  /** A reference to the escrowed BMC/remote-access credentials; hashed, never stored in clear. */
  credentials?: string;
}

/** Longest model and site strings (UTF-8 bytes) the receipt contract accepts: it stores them as ShortStrings. */
export const MAX_RECEIPT_STRING = 31;
/** Most serials one receipt may carry (a `uint32` gpu count; kept small so a mint stays within a block). */
export const MAX_SERIALS = 256;

/** Validates the parsed JSON of a server file; `source` names the file in messages. */
export function parseServerSpec(json: unknown, source = "server file"): ServerSpec {
  ensure(
    typeof json === "object" && json !== null && !Array.isArray(json),
    `${source}: must be a JSON object`,
  );
  const obj = json as Record<string, unknown>;
  const allowed = ["model", "site", "custodian", "owner", "serials", "credentials", "$comment"];
  const unknown = Object.keys(obj).filter((key) => !allowed.includes(key));
  ensure(
    unknown.length === 0,
    `${source}: unknown field(s) ${unknown.join(", ")}; allowed: ${allowed.join(", ")}`,
  );

  const text = (key: string, required: boolean): string | undefined => {
    const v = obj[key];
    if (v === undefined && !required) return undefined;
    ensure(typeof v === "string" && v.trim() !== "", `${source}: "${key}" must be a non-empty string`);
    return v.trim();
  };
  const model = text("model", true)!;
  const site = text("site", true)!;
  for (const [key, v] of [
    ["model", model],
    ["site", site],
  ]) {
    ensure(
      Buffer.byteLength(v) <= MAX_RECEIPT_STRING,
      `${source}: "${key}" is longer than ${MAX_RECEIPT_STRING} bytes`,
    );
  }

  const serials = obj.serials;
  ensure(
    Array.isArray(serials) && serials.length > 0,
    `${source}: "serials" must be a non-empty array of strings`,
  );
  ensure(serials.length <= MAX_SERIALS, `${source}: at most ${MAX_SERIALS} serials per receipt`);
  const cleaned = serials.map((serial, i) => {
    ensure(
      typeof serial === "string" && serial.trim() !== "",
      `${source}: serials[${i}] must be a non-empty string`,
    );
    return serial.trim();
  });
  const duplicate = cleaned.find((serial, i) => cleaned.indexOf(serial) !== i);
  ensure(duplicate === undefined, `${source}: serial "${duplicate}" is listed twice`);

  return {
    model,
    site,
    custodian: text("custodian", true)!,
    owner: text("owner", false),
    serials: cleaned,
    credentials: text("credentials", false),
  };
}

/** The on-chain serial hash of a GPU serial: keccak256 of its UTF-8 text. */
export function serialHash(serial: string): string {
  return id(serial);
}

// ---------------------------------------------------------------- id lists (receipts of a loan)

/** A comma-separated list of ids (`1,2,5`), at least one and at most `max`, none repeated. */
export function parseIdList(value: string | undefined, name: string, max = 64): bigint[] {
  ensure(
    value !== undefined && String(value).trim() !== "",
    `--${name} is required (comma-separated ids, e.g. 1,2)`,
  );
  const entries = String(value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  ensure(entries.length > 0 && entries.length <= max, `--${name} must list between 1 and ${max} ids`);
  const ids = entries.map((entry) => parseId(entry, name));
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  ensure(duplicate === undefined, `--${name} lists ${duplicate} twice`);
  return ids;
}

// ---------------------------------------------------------------- loan terms (loan:approve)

/**
 * Loan terms as typed by a user: `ILoanVault.LoanTerms` field names, in human units. `principal` in whole USDai,
 * `site` as its name (e.g. `DAL-1`), the `...Seconds` fields as durations (`30d`, or seconds; `0` allowed for grace
 * and the default window), the `...Bps` fields and `numPayments` as integers, `referenceRateFeed` an address (or
 * absent for a fixed rate), `borrower` a named account or address. `approvalValidity` (a duration from now) stands
 * for `approvalExpiry`. The covenants the oracle checks: `minDscrBps` the debt-service coverage floor in basis points
 * (12500 = 1.25x, at most `MAX_MIN_DSCR_BPS`), `lockboxCheck` a boolean (`true`/`false`), `shortfallToleranceBps` in
 * basis points, `maxGapDays` whole days (at most `MAX_GAP_DAYS`); 0 / false (the default) is off.
 */
export interface LoanTermsInput {
  borrower?: string;
  principal?: bigint;
  site?: string;
  paymentIntervalSeconds?: number;
  numPayments?: number;
  amortizationBps?: number;
  basePremiumBps?: number;
  slaUptimeBps?: number;
  referenceRateFeed?: string;
  referenceRateBps?: number;
  premiumFloorBps?: number;
  premiumCapBps?: number;
  maxLtvBps?: number;
  maintenanceLtvBps?: number;
  latePenaltyBps?: number;
  gracePeriodSeconds?: number;
  defaultWindowSeconds?: number;
  curePeriodSeconds?: number;
  debtServiceReserveBps?: number;
  minDscrBps?: number;
  lockboxCheck?: boolean;
  shortfallToleranceBps?: number;
  maxGapDays?: number;
  approvalValidity?: number;
}

type TermKind =
  | "account"
  | "usd"
  | "site"
  | "duration"
  | "durationOrZero"
  | "count"
  | "bps"
  | "dscrBps"
  | "bool"
  | "days"
  | "address";

/** `MAX_MIN_DSCR_BPS` (contracts/credit/logic/LoanConstants.sol): the highest coverage floor terms may set (5.0x). */
export const MAX_MIN_DSCR_BPS = 50_000;
/** `MAX_GAP_DAYS` (contracts/credit/logic/LoanConstants.sol): the longest data gap terms may tolerate, in days. */
export const MAX_GAP_DAYS = 365;

/** Each field a terms file may set, with how it is parsed. */
export const LOAN_TERM_FIELDS: Record<keyof LoanTermsInput, TermKind> = {
  borrower: "account",
  principal: "usd",
  site: "site",
  paymentIntervalSeconds: "duration",
  numPayments: "count",
  amortizationBps: "bps",
  basePremiumBps: "bps",
  slaUptimeBps: "bps",
  referenceRateFeed: "address",
  referenceRateBps: "bps",
  premiumFloorBps: "bps",
  premiumCapBps: "bps",
  maxLtvBps: "bps",
  maintenanceLtvBps: "bps",
  latePenaltyBps: "bps",
  gracePeriodSeconds: "durationOrZero",
  defaultWindowSeconds: "durationOrZero",
  curePeriodSeconds: "duration",
  debtServiceReserveBps: "bps",
  minDscrBps: "dscrBps",
  lockboxCheck: "bool",
  shortfallToleranceBps: "bps",
  maxGapDays: "days",
  approvalValidity: "duration",
};

const UINT32_MAX = 2 ** 32 - 1;
const UINT16_MAX = 2 ** 16 - 1;
const UINT96_MAX = 2n ** 96n - 1n;

/**
 * Parses loan term values (from a JSON file or from flags) into typed values. `values` maps field names to what was
 * typed (strings or JSON numbers); `argName(field)` names the argument in messages (`file: maxLtvBps`, `max-ltv`).
 * Only the ranges of the types are checked here; the vault's own rules (floor <= base <= cap, maintenance >= max
 * LTV, ...) are checked by simulating `approveLoan` before anything is sent.
 */
export function parseLoanTerms(
  values: Record<string, unknown>,
  named: Record<string, string>,
  argName: (field: string) => string,
): LoanTermsInput {
  const parsed: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    const kind = LOAN_TERM_FIELDS[field as keyof LoanTermsInput];
    const name = argName(field);
    ensure(
      kind !== undefined,
      `--${name}: unknown loan term; known: ${Object.keys(LOAN_TERM_FIELDS).join(", ")}`,
    );
    if (kind === "bool") {
      parsed[field] = parseBoolean(raw, name);
      continue;
    }
    ensure(
      typeof raw === "string" || (typeof raw === "number" && Number.isFinite(raw)),
      `--${name} must be a string or a number`,
    );
    const text = String(raw);
    switch (kind) {
      case "account":
        parsed[field] = parseAccount(text, named, name);
        break;
      case "usd":
        parsed[field] = parseAmount(text, 18, name, { max: UINT96_MAX });
        break;
      case "site":
        ensure(
          text.trim() !== "" && Buffer.byteLength(text.trim()) <= MAX_RECEIPT_STRING,
          `--${name} must be a site name of 1 to ${MAX_RECEIPT_STRING} bytes, got "${text}"`,
        );
        parsed[field] = text.trim();
        break;
      case "duration":
      case "durationOrZero": {
        const seconds = kind === "durationOrZero" && text.trim() === "0" ? 0 : parseDuration(text, name);
        ensure(seconds <= UINT32_MAX, `--${name} is too long (at most ${UINT32_MAX} seconds)`);
        parsed[field] = seconds;
        break;
      }
      case "count":
        parsed[field] = parseInteger(text, name, 1, UINT16_MAX);
        break;
      case "bps":
        parsed[field] = parseBps(text, name);
        break;
      case "dscrBps":
        parsed[field] = parseBps(text, name, MAX_MIN_DSCR_BPS);
        break;
      case "days":
        parsed[field] = parseInteger(text, name, 0, MAX_GAP_DAYS);
        break;
      case "address":
        parsed[field] = parseAddress(text, name);
        break;
    }
  }
  return parsed as LoanTermsInput;
}

import { chainNow, formatTimestamp, out, requireLocalNetwork } from "./lib/runtime";
import { viewTask } from "./lib/define";
import { ensure, parseDuration, TaskArgumentError } from "./lib/validate";

/**
 * `time:advance`: moves a local chain's clock (hardhat, localhost) and mines a block, so that what waits for time
 * (a redemption's cooldown, a payment's due date, grace and default windows, an auction's price) can be tried from
 * the CLI. Live networks refuse it.
 */

/** `--to`: a date (`2026-03-01`, `2026-03-01T12:00:00Z`) or unix seconds. */
function parseDate(value: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) {
    throw new TaskArgumentError(
      `--to must be a date like 2026-03-01 or 2026-03-01T12:00:00Z, got "${value}"`,
    );
  }
  return Math.floor(ms / 1000);
}

viewTask(
  "time:advance",
  "Local networks only: move the chain's clock forward by --by or to --to, and mine a block",
)
  .addOptionalParam("by", "how long: 30d, 12h, 90m, 45s or seconds")
  .addOptionalParam(
    "to",
    "a date (2026-03-01, 2026-03-01T12:00:00Z) or unix seconds, later than the chain's now",
  )
  .setAction(async (args: { by?: string; to?: string }, hre) => {
    requireLocalNetwork(hre, "time:advance");
    ensure((args.by === undefined) !== (args.to === undefined), "give either --by <duration> or --to <date>");
    const before = await chainNow(hre);
    const target = args.by !== undefined ? before + parseDuration(args.by, "by") : parseDate(args.to!);
    ensure(
      target > before,
      `--to ${args.to} is not after the chain's now (${formatTimestamp(before)}); time only moves forward`,
    );
    await hre.network.provider.send("evm_setNextBlockTimestamp", [target]);
    await hre.network.provider.send("evm_mine", []);
    const after = await chainNow(hre);
    const days = (after - before) / 86_400;
    out(
      `Chain time ${formatTimestamp(before)} -> ${formatTimestamp(after)} (+${days.toFixed(2)} days), ` +
        `block ${await hre.ethers.provider.getBlockNumber()}`,
    );
  });

import { FUZZ_SEED } from "../../helpers/fuzz";
import { profileReport, PROFILING } from "./profile";

// ==================================================================================================== counters

/*
 * What a run did: per command, its successes and its reverts by custom error, plus protocol calls, sequences and
 * invariant checks. The table the suite prints at the end is built from these.
 */

export const stats = new Map<string, { ok: number; reverts: Map<string, number> }>();

/** Protocol calls (transactions sent through `act`, whether they succeed or revert as predicted) and sequences. */
export const counters = { calls: 0, sequences: 0, fullChecks: 0, stepChecks: 0 };

/**
 * What the oracle's successful commands did: days recorded (and of those, recorded when their window closed rather
 * than by the last reporter or a poke), days missed short of the quorum, partial collections, rule firings, and coupon
 * steps pushed (and of those, steps whose composed clamp made the delta sent differ from the plain sum of the deltas).
 */
export const oracleTally = {
  recorded: 0,
  closed: 0,
  missed: 0,
  collected: 0,
  fired: 0,
  pushed: 0,
  clamped: 0,
};

export function count(command: string, outcome: string | null) {
  let s = stats.get(command);
  if (!s) {
    s = { ok: 0, reverts: new Map() };
    stats.set(command, s);
  }
  if (outcome === null) s.ok++;
  else s.reverts.set(outcome, (s.reverts.get(outcome) ?? 0) + 1);
}

export function report(ms: number, cpu?: NodeJS.CpuUsage) {
  const rows: string[] = [];
  let reasons = new Set<string>();
  for (const [name, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    const reverts = [...s.reverts].sort(([a], [b]) => a.localeCompare(b));
    reverts.forEach(([r]) => (reasons = reasons.add(r)));
    rows.push(
      `      ${name.padEnd(28)} ${String(s.ok).padStart(6)}  ${reverts.map(([r, n]) => `${r} ${n}`).join(", ")}`,
    );
  }
  console.log(`      ${"command".padEnd(28)} ${"ok".padStart(6)}  reverts`);
  console.log(rows.join("\n"));
  const o = oracleTally;
  console.log(
    `      oracle: ${o.recorded} days recorded (${o.closed} at their window's close), ${o.missed} missed, ${o.collected} partial collections, ${o.fired} rule firings, ${o.pushed} coupon steps pushed (${o.clamped} clamped)`,
  );
  console.log(
    `      seed ${FUZZ_SEED}: ${counters.sequences} sequences, ${counters.calls} protocol calls, ${reasons.size} distinct revert reasons, ${(ms / 1000).toFixed(1)} s${cpu ? `, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU` : ""}`,
  );
  if (PROFILING) console.log(profileReport(counters.calls));
}

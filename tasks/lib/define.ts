import { task } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";

import type { NamedAccount } from "../../config/env";

/** An artifact every task needs; when it is missing the project has not been compiled yet (a fresh clone). */
const MARKER_ARTIFACT = "UtilizationOracle";

/** Compiles once on a fresh clone, so that every task works right after `npm ci`. */
async function ensureCompiled(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (await hre.artifacts.artifactExists(MARKER_ARTIFACT)) return;
  console.log("No compiled contracts yet (a fresh clone): compiling once before the task runs.");
  await hre.run("compile");
}

/** `--verbose` or `--show-stack-traces` on the command line: errors keep their stack traces. */
function wantsTraces(hre: HardhatRuntimeEnvironment): boolean {
  const { verbose, showStackTraces } = hre.hardhatArguments;
  return Boolean(verbose || showStackTraces);
}

/** The error's message without Hardhat's decorations or a stack: the first line, or a plugin error's message. */
function messageOf(err: unknown): string {
  if (err instanceof HardhatPluginError) return err.message;
  const e = err as { shortMessage?: string; message?: string };
  return (e?.shortMessage ?? e?.message ?? String(err)).split("\n")[0];
}

/**
 * Wraps every action set on `definition`: compile on first use; then, when the task is the one typed on the command
 * line, an error is printed as one line (`Error: <message>`) with a non-zero exit, and the stack trace only with
 * `--verbose` or `--show-stack-traces`. (Hardhat itself prints the trace of every error on a Linux machine without a
 * display, which it takes for a CI server.) Called from code (`hre.run` in tests and scripts), errors propagate as
 * they are.
 */
function cliTask(name: string, definition: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  const setAction = definition.setAction.bind(definition);
  definition.setAction = ((action: Parameters<typeof setAction>[0]) =>
    setAction(async (args, hre, runSuper) => {
      await ensureCompiled(hre);
      try {
        return await action(args, hre, runSuper);
      } catch (err) {
        const typed = process.argv.slice(2).includes(name);
        if (!typed || wantsTraces(hre)) throw err;
        console.error(`Error: ${messageOf(err)}`);
        console.error("(run with --verbose for the stack trace)");
        process.exitCode = 1;
        return undefined;
      }
    })) as typeof definition.setAction;
  return definition;
}

/**
 * A task signed by a named account: adds `--as <namedAccount>` defaulting to the role that naturally calls it, and
 * puts the task in the CLI's role group by its `<group>:` prefix.
 */
export function roleTask(
  name: string,
  description: string,
  defaultAs: NamedAccount,
): ConfigurableTaskDefinition {
  return cliTask(name, task(name, description)).addOptionalParam(
    "as",
    `named account that signs (default ${defaultAs}; see config/env.ts)`,
    defaultAs,
  );
}

/** A read-only task (no signer). */
export function viewTask(name: string, description: string): ConfigurableTaskDefinition {
  return cliTask(name, task(name, description));
}

import { task } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";

import type { NamedAccount } from "../../config/env";
import { PLUGIN_NAME } from "./validate";

/** An artifact every task needs; when it is missing the project has not been compiled yet (a fresh clone). */
const MARKER_ARTIFACT = "UtilizationOracle";

/** Compiles once on a fresh clone, so that every task works right after `npm ci`. */
async function ensureCompiled(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (await hre.artifacts.artifactExists(MARKER_ARTIFACT)) return;
  console.log("No compiled contracts yet (a fresh clone): compiling once before the task runs.");
  await hre.run("compile");
}

/**
 * An error as the CLI prints it: the message alone. Hardhat prints its own and plugin errors (every task's argument
 * and state errors are plugin errors) as a message; anything else (an RPC failure, an unexpected revert) would come
 * with a stack trace, so it is turned into a one-line plugin error unless `--verbose` or `--show-stack-traces` asks
 * for the trace.
 */
function forCli(err: unknown, hre: HardhatRuntimeEnvironment): unknown {
  const { verbose, showStackTraces } = hre.hardhatArguments;
  if (verbose || showStackTraces) return err;
  if (err instanceof HardhatPluginError) return err;
  if ((err as { errorDescriptor?: unknown })?.errorDescriptor !== undefined) return err; // a HardhatError
  const e = err as { shortMessage?: string; message?: string };
  const message = (e?.shortMessage ?? e?.message ?? String(err)).split("\n")[0];
  return new HardhatPluginError(
    PLUGIN_NAME,
    `${message} (run with --verbose for the stack trace)`,
    err as Error,
  );
}

/** Wraps every action set on `definition`: compile on first use, then errors for the CLI (see `forCli`). */
function cliTask(definition: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  const setAction = definition.setAction.bind(definition);
  definition.setAction = ((action: Parameters<typeof setAction>[0]) =>
    setAction(async (args, hre, runSuper) => {
      await ensureCompiled(hre);
      try {
        return await action(args, hre, runSuper);
      } catch (err) {
        throw forCli(err, hre);
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
  return cliTask(task(name, description)).addOptionalParam(
    "as",
    `named account that signs (default ${defaultAs}; see config/env.ts)`,
    defaultAs,
  );
}

/** A read-only task (no signer). */
export function viewTask(name: string, description: string): ConfigurableTaskDefinition {
  return cliTask(task(name, description));
}

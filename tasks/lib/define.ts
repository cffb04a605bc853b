import { task } from "hardhat/config";
import type { ConfigurableTaskDefinition } from "hardhat/types";

import type { NamedAccount } from "../../config/env";

/**
 * A task signed by a named account: adds `--as <namedAccount>` defaulting to the role that naturally calls it, and
 * puts the task in the CLI's role group by its `<group>:` prefix.
 */
export function roleTask(
  name: string,
  description: string,
  defaultAs: NamedAccount,
): ConfigurableTaskDefinition {
  return task(name, description).addOptionalParam(
    "as",
    `named account that signs (default ${defaultAs}; see config/env.ts)`,
    defaultAs,
  );
}

/** A read-only task (no signer). */
export function viewTask(name: string, description: string): ConfigurableTaskDefinition {
  return task(name, description);
}

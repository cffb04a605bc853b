/**
 * Indexing entry point: the typed handlers register themselves with `on`, then every event of every indexed ABI is
 * registered with Ponder (see registry.ts).
 */
import "./handlers/collateral";
import "./handlers/loans";
import "./handlers/oracle";
import "./handlers/susdai";
import { registerAll } from "./registry";

registerAll();

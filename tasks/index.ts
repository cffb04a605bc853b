// Hardhat tasks, grouped by role. Each module registers its tasks on import; hardhat.config.ts loads this file
// once TypeChain types exist (HARDHAT_SKIP_TASKS=1 skips it).
import "./lender";
import "./receipts";
import "./oracle";
import "./loans";
import "./keeper";
import "./status";
import "./deployments";
import "./time";
import "./verify";
import "./governance";

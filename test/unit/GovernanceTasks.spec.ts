import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, id, keccak256, ZeroHash } from "ethers";

import { TIMELOCK_DEPLOYMENT } from "../../config/governance";
import { governancePendingPath, startDeployRun, summarizeDeployRun } from "../../helpers/deploy-run";
import { DeployIds, Tags } from "../../helpers/deploy-ids";
import { Roles } from "../../helpers/roles";
import { formatTimestamp } from "../../tasks/lib/runtime";
import { formatWait } from "../../tasks/governance";
import { captureLogs } from "../helpers/console";

/**
 * The timelock tasks (tasks/governance.ts) on the in-process network, after a forced governance handover with a
 * two-day delay: a deploy that can no longer grant a role writes the call to the pending file; the tasks show it,
 * schedule it, refuse to execute it early, execute it after the delay; the next deploy succeeds and removes the file.
 * The deploy run's start and summary scripts skip the in-process network, so the tests call them around
 * `deployments.run`, as `hardhat deploy` does on a node.
 */

const DELAY = 2 * 24 * 60 * 60;
const ENV = ["GOVERNANCE_HANDOVER", "TIMELOCK_MIN_DELAY", "TIMELOCK_EXECUTORS"] as const;

/** OpenZeppelin's `hashOperation`, computed here independently of the timelock. */
function operationId(target: string, data: string, salt = id(data), value = 0n): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["address", "uint256", "bytes", "bytes32", "bytes32"],
      [target, value, data, ZeroHash, salt],
    ),
  );
}

/** A regular expression matching exactly `text` (the whole message). */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** Runs a task with its output captured; returns the output, or throws what the task threw. */
async function run(task: string, args: Record<string, unknown>): Promise<string> {
  let error: unknown;
  const printed = await captureLogs(async () => {
    try {
      await hre.run(task, args);
    } catch (err) {
      error = err;
    }
  });
  if (error) throw error;
  return printed;
}

/** Asserts the task fails with exactly `message` and that no block was mined (nothing sent). */
async function expectRefused(task: string, args: Record<string, unknown>, message: string): Promise<void> {
  const before = await hre.ethers.provider.getBlockNumber();
  let error: Error | undefined;
  try {
    await run(task, args);
  } catch (err) {
    error = err as Error;
  }
  expect(error, `${task} should fail`).to.not.equal(undefined);
  expect(error!.message).to.match(exactly(message));
  expect(await hre.ethers.provider.getBlockNumber(), "no transaction").to.equal(before);
}

/** A deploy of every script on the same chain, with the run's start and summary as on a node. */
async function deployAgain(): Promise<{ logged: string; error?: Error }> {
  let error: Error | undefined;
  await startDeployRun(hre);
  const logged = await captureLogs(async () => {
    await hre.deployments.run([Tags.Protocol], { resetMemory: false, writeDeploymentsToFiles: false });
    await summarizeDeployRun(hre).catch((err: Error) => void (error = err));
  });
  return { logged, error };
}

/**
 * The protocol after the handover (two-day delay), with the keeper's KEEPER_ROLE on the oracle renounced. `executors`
 * restricts execution (TIMELOCK_EXECUTORS); by default anyone may execute.
 */
const handedOver = hre.deployments.createFixture(
  async ({ deployments, ethers, getNamedAccounts }, options?: { executors: string }) => {
    if (options) process.env.TIMELOCK_EXECUTORS = options.executors;
    try {
      await captureLogs(() =>
        deployments.run([Tags.Protocol], { resetMemory: true, writeDeploymentsToFiles: false }),
      );
    } finally {
      if (options) delete process.env.TIMELOCK_EXECUTORS;
    }
    const { keeper } = await getNamedAccounts();
    const oracle = await ethers.getContractAt(
      "IAccessControl",
      (await deployments.get(DeployIds.UtilizationOracle)).address,
      await ethers.getSigner(keeper),
    );
    // config/roles.ts still lists the keeper; only the timelock can grant the role back.
    await (await oracle.renounceRole(Roles.KEEPER, keeper)).wait();
  },
);

describe("Timelock tasks (tasks/governance.ts)", () => {
  const saved = ENV.map((name) => process.env[name]);
  let file: string;
  let keeper: string;
  let oracleAddress: string;
  let grantData: string;
  let opId: string;

  before(() => {
    process.env.GOVERNANCE_HANDOVER = "1";
    process.env.TIMELOCK_MIN_DELAY = String(DELAY);
    file = governancePendingPath(hre);
  });
  after(() => {
    ENV.forEach((name, i) => {
      if (saved[i] === undefined) delete process.env[name];
      else process.env[name] = saved[i];
    });
    fs.rmSync(file, { force: true });
  });

  /** The handover fixture, then a deploy that leaves the keeper's grant NOT DONE (it writes the pending file). */
  async function withPendingGrant(executors?: string): Promise<{ logged: string; error?: Error }> {
    await handedOver(executors === undefined ? undefined : { executors });
    ({ keeper } = await hre.getNamedAccounts());
    oracleAddress = (await hre.deployments.get(DeployIds.UtilizationOracle)).address;
    const oracle = await hre.ethers.getContractAt("IAccessControl", oracleAddress);
    grantData = oracle.interface.encodeFunctionData("grantRole", [Roles.KEEPER, keeper]);
    opId = operationId(oracleAddress, grantData);
    return deployAgain();
  }

  async function timelock() {
    const { address, abi } = await hre.deployments.get(TIMELOCK_DEPLOYMENT);
    return hre.ethers.getContractAt(abi, address);
  }

  async function keeperHasRole(): Promise<boolean> {
    const oracle = await hre.ethers.getContractAt("IAccessControl", oracleAddress);
    return oracle.hasRole(Roles.KEEPER, keeper);
  }

  it("a deploy after the handover that leaves a call NOT DONE writes it to the pending file and names the file", async () => {
    const { logged, error } = await withPendingGrant();
    expect(logged).to.include("UtilizationOracle: NOT DONE, governance must: grant KEEPER");
    const shown = path.relative(process.cwd(), file);
    expect(shown).to.equal(path.join("deployments", "hardhat", ".governance-pending.json"));
    expect(error?.message).to.equal(
      `1 governance call(s) NOT DONE (listed above with their timelock calldata, and written to ${shown}): ` +
        "schedule them with `npx hardhat timelock:schedule --pending --network hardhat`, wait the timelock's " +
        "delay, run `npx hardhat timelock:execute --pending --network hardhat`, then deploy again",
    );
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).to.deep.equal([
      {
        what: `UtilizationOracle: grant KEEPER to ${keeper}`,
        target: oracleAddress,
        value: "0",
        data: grantData,
      },
    ]);
  });

  it("timelock:status lists each pending call with its operation id, Unset before it is scheduled", async () => {
    await withPendingGrant();
    const printed = await run("timelock:status", { pending: true });
    const address = (await hre.deployments.get(TIMELOCK_DEPLOYMENT)).address;
    expect(printed).to.include(`Timelock ${address}: 1 operation(s), 1 Unset`);
    const row = printed.split("\n").find((line) => line.includes(opId));
    expect(row, "a row with the operation id").to.not.equal(undefined);
    expect(row).to.match(new RegExp(`^1  UtilizationOracle: grant KEEPER to ${keeper}  ${opId}  Unset$`));
    expect(printed).to.include(`minimum delay ${formatWait(DELAY)}`);
  });

  it("timelock:schedule --pending schedules each call with the minimum delay; status then shows when it is ready", async () => {
    await withPendingGrant();
    const before = await hre.ethers.provider.getBlockNumber();
    const printed = await run("timelock:schedule", { pending: true });
    expect(await hre.ethers.provider.getBlockNumber(), "one transaction").to.equal(before + 1);
    const scheduledAt = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    const tl = await timelock();
    expect(await tl.getOperationState(opId)).to.equal(1n); // Waiting
    expect(await tl.getTimestamp(opId)).to.equal(BigInt(scheduledAt + DELAY));
    expect(printed).to.include(`Scheduling 1 operation(s) on the ${TIMELOCK_DEPLOYMENT}`);
    expect(printed).to.include("scheduled, tx 0x");
    const readyAt = formatTimestamp(scheduledAt + DELAY);
    expect(printed).to.include(`Waiting until ${readyAt} (in 2d 0h 0m)`);
    expect(await keeperHasRole(), "nothing executed yet").to.equal(false);

    await time.increase(DELAY / 2);
    expect(await run("timelock:status", { pending: true })).to.include(
      `Waiting until ${readyAt} (in 1d 0h 0m)`,
    );
  });

  it("timelock:execute before the delay refuses with the ready time and sends nothing", async () => {
    await withPendingGrant();
    await run("timelock:schedule", { pending: true });
    const readyAt = (await hre.ethers.provider.getBlock("latest"))!.timestamp + DELAY;
    await expectRefused(
      "timelock:execute",
      { pending: true },
      `nothing to execute: 1 not ready yet, the first at ${formatTimestamp(readyAt)} (in 2d 0h 0m). ` +
        "No transaction was sent.",
    );
    expect(await keeperHasRole()).to.equal(false);
  });

  it("after the delay timelock:execute makes the call; the next deploy succeeds and removes the pending file", async () => {
    await withPendingGrant();
    await run("timelock:schedule", { pending: true });
    await time.increase(DELAY);
    expect(await run("timelock:status", { pending: true })).to.match(/\sReady since /);

    const before = await hre.ethers.provider.getBlockNumber();
    const printed = await run("timelock:execute", { pending: true });
    expect(await hre.ethers.provider.getBlockNumber(), "one transaction").to.equal(before + 1);
    expect(await keeperHasRole(), "the grant is in place").to.equal(true);
    expect(await (await timelock()).getOperationState(opId)).to.equal(3n); // Done
    expect(printed).to.include("executed 1 operation(s)");
    const row = printed.split("\n").find((line) => line.includes(opId));
    expect(row).to.match(/\sDone\s+executed, tx 0x[0-9a-f]{8}…$/);

    const { logged, error } = await deployAgain();
    expect(error, "the deploy succeeds").to.equal(undefined);
    expect(logged).to.not.include("NOT DONE");
    expect(logged).to.include(
      `removed ${path.relative(process.cwd(), file)}: no governance call is left undone`,
    );
    expect(fs.existsSync(file), "pending file removed").to.equal(false);
  });

  it("one call by --target (a deployment name) and --data, with its own --salt", async () => {
    await withPendingGrant();
    const salt = id("second try");
    const args = { pending: false, target: DeployIds.UtilizationOracle, data: grantData, salt: "second try" };
    const single = operationId(oracleAddress, grantData, salt);
    // The call is decoded with the target deployment's ABI.
    expect(await run("timelock:status", args)).to.match(
      new RegExp(`UtilizationOracle: grantRole\\(${Roles.KEEPER}, ${keeper}\\)  ${single}  Unset`),
    );
    await run("timelock:schedule", args);
    await time.increase(DELAY);
    await run("timelock:execute", args);
    expect(await keeperHasRole()).to.equal(true);
    // The pending file's operation (default salt) is a different one, still unset.
    expect(await (await timelock()).getOperationState(opId)).to.equal(0n);
  });

  describe("refusals (nothing is sent)", () => {
    it("no pending file", async () => {
      await withPendingGrant();
      fs.rmSync(file);
      const message =
        `no pending governance calls on network "hardhat": ${path.relative(process.cwd(), file)} does not ` +
        "exist (a deploy writes it when it leaves calls NOT DONE)";
      for (const task of ["timelock:status", "timelock:schedule", "timelock:execute"]) {
        await expectRefused(task, { pending: true }, message);
      }
    });

    it("a signer without PROPOSER_ROLE", async () => {
      await withPendingGrant();
      const { address } = await hre.deployments.get(TIMELOCK_DEPLOYMENT);
      await expectRefused(
        "timelock:schedule",
        { pending: true, as: "keeper" },
        `--as keeper (${keeper}) does not hold PROPOSER_ROLE on the ${TIMELOCK_DEPLOYMENT} (${address}); sign ` +
          "with an account that does (TIMELOCK_PROPOSERS, config/governance.ts)",
      );
    });

    it("an operation already scheduled", async () => {
      await withPendingGrant();
      await run("timelock:schedule", { pending: true });
      await expectRefused(
        "timelock:schedule",
        { pending: true },
        "nothing to schedule: the operation is already scheduled or done (1 Waiting); timelock:execute runs " +
          "them once ready",
      );
    });

    it("an operation already done", async () => {
      await withPendingGrant();
      await run("timelock:schedule", { pending: true });
      await time.increase(DELAY);
      await run("timelock:execute", { pending: true });
      await expectRefused(
        "timelock:execute",
        { pending: true },
        "nothing to execute: 1 already done. No transaction was sent.",
      );
      await expectRefused(
        "timelock:schedule",
        { pending: true },
        "nothing to schedule: the operation is already scheduled or done (1 Done); to make a call that was " +
          "done once again, give a new --salt",
      );
    });

    it("an operation never scheduled", async () => {
      await withPendingGrant();
      await expectRefused(
        "timelock:execute",
        { pending: true },
        "nothing to execute: 1 not scheduled (timelock:schedule). No transaction was sent.",
      );
    });

    it("both --pending and one call, or neither", async () => {
      await withPendingGrant();
      const message =
        "give either --pending (the calls a deploy left NOT DONE) or --target and --data (one call)";
      await expectRefused(
        "timelock:status",
        { pending: true, target: oracleAddress, data: grantData },
        message,
      );
      await expectRefused("timelock:status", { pending: false }, message);
    });

    it("a signer without EXECUTOR_ROLE when execution is not open to anyone", async () => {
      const { deployer } = await hre.getNamedAccounts();
      await withPendingGrant(deployer);
      const { address, abi } = await hre.deployments.get(TIMELOCK_DEPLOYMENT);
      const tl = await hre.ethers.getContractAt(abi, address);
      expect(await tl.hasRole(await tl.EXECUTOR_ROLE(), hre.ethers.ZeroAddress), "not open").to.equal(false);
      await run("timelock:schedule", { pending: true });
      await time.increase(DELAY);
      await expectRefused(
        "timelock:execute",
        { pending: true, as: "keeper" },
        `--as keeper (${keeper}) does not hold EXECUTOR_ROLE on the ${TIMELOCK_DEPLOYMENT} (${address}); sign ` +
          "with an account that does (TIMELOCK_EXECUTORS, config/governance.ts)",
      );
      await run("timelock:execute", { pending: true, as: "deployer" });
      expect(await keeperHasRole()).to.equal(true);
    });

    it("no timelock: before the handover the deployer makes the calls itself", async () => {
      delete process.env.GOVERNANCE_HANDOVER;
      try {
        await hre.deployments.fixture([Tags.Protocol], { fallbackToGlobal: false });
        expect(await hre.deployments.getOrNull(TIMELOCK_DEPLOYMENT)).to.equal(undefined);
      } finally {
        process.env.GOVERNANCE_HANDOVER = "1";
      }
      const oracle = (await hre.deployments.get(DeployIds.UtilizationOracle)).address;
      await expectRefused(
        "timelock:status",
        { pending: false, target: oracle, data: "0x" },
        `${TIMELOCK_DEPLOYMENT} is not deployed on network "hardhat": the governance handover ` +
          "(deploy/99_governance.ts, tag governance) deploys it; before it the deployer makes these calls itself",
      );
    });
  });
});

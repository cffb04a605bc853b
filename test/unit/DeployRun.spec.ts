import { expect } from "chai";
import hre from "hardhat";

import { recordNotDone, startDeployRun, summarizeDeployRun } from "../../helpers/deploy-run";
import { captureLogs } from "../helpers/console";

/**
 * The deploy summary (deploy/000_start.ts and deploy/99_summary.ts, helpers/deploy-run.ts): it lists each transaction
 * the deployer sent during the run with its gas and cost, and fails the run when a governance call was left undone.
 * The scripts skip the in-process network (fixtures would print it on every test); the helpers are exercised here.
 */
describe("Deploy summary (helpers/deploy-run.ts)", () => {
  it("lists the deployer's transactions of the run with gas and cost, and what the gas costs now", async () => {
    const { deployer } = await hre.getNamedAccounts();
    const signer = await hre.ethers.getSigner(deployer);
    await startDeployRun(hre);
    const tx = await signer.sendTransaction({ to: deployer, value: 1n });
    const receipt = (await tx.wait())!;
    const printed = await captureLogs(() => summarizeDeployRun(hre));
    expect(printed).to.match(/Deploy summary, hardhat \(chain 31337\): 1 transaction\(s\) from the deployer/);
    expect(printed).to.include(receipt.gasUsed.toLocaleString("en-US"));
    expect(printed).to.include(`call ${deployer}`);
    expect(printed).to.match(/at the current gas price \([\d.]+ gwei\) the same gas costs [\d.]+ ETH/);
  });

  it("says when nothing was sent", async () => {
    await startDeployRun(hre);
    expect(await captureLogs(() => summarizeDeployRun(hre))).to.match(/nothing sent/);
  });

  it("fails the run, after printing, when a governance call was left NOT DONE", async () => {
    await startDeployRun(hre);
    recordNotDone({ what: "LoanVault: grant KEEPER_ROLE", target: hre.ethers.ZeroAddress, data: "0x" });
    let error: Error | undefined;
    await captureLogs(() => summarizeDeployRun(hre).catch((err: Error) => void (error = err)));
    expect(error?.message).to.match(/^1 governance call\(s\) NOT DONE/);
    // The run is over: a later summary without a new run prints nothing and does not fail.
    expect(await captureLogs(() => summarizeDeployRun(hre))).to.equal("");
  });
});

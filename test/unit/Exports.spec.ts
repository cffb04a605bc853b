import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as prettier from "prettier";

import { addressesTable, updateReadmeAddresses, type DeploymentExport } from "../../helpers/exports";

/**
 * The README's addresses table (helpers/exports.ts): it lists public networks only, says plainly when there is none,
 * and comes out formatted the way `prettier --check` (npm run lint) wants it, so an export never breaks CI.
 */
describe("Deployment exports: the README's addresses table", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-credit-exports-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeExport(name: string, chainId: string, contracts: Record<string, string>): void {
    const exported: DeploymentExport = {
      name,
      chainId,
      contracts: Object.fromEntries(
        Object.entries(contracts).map(([n, address]) => [n, { address, abi: [] }]),
      ),
    };
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(exported));
  }

  it("says that nothing is deployed publicly when only local exports exist", () => {
    writeExport("localhost", "31337", { USDai: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
    writeExport("hardhat", "31337", { USDai: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
    expect(addressesTable(dir)).to.match(/^No public deployment yet/);
  });

  it("lists each public network's core addresses, one column per network, in prettier's table format", async () => {
    const usdai = "0x1111111111111111111111111111111111111111";
    const vault = "0x2222222222222222222222222222222222222222";
    writeExport("sepolia", "11155111", { USDai: usdai, LoanVault: vault, USDai_Implementation: vault });
    writeExport("localhost", "31337", { USDai: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
    const table = addressesTable(dir);
    const lines = table.split("\n");
    expect(lines[0]).to.match(/^\| contract\s+\| sepolia \(chain 11155111\)\s+\|$/);
    expect(lines).to.have.length(4); // header, rule, USDai, LoanVault (implementations are not listed)
    expect(lines[2]).to.include(`\`${usdai}\``);
    expect(lines[3]).to.include("`LoanVault`").and.to.include(`\`${vault}\``);
    expect(table).to.not.include("31337");
    const formatted = await prettier.format(`${table}\n`, { parser: "markdown", printWidth: 110 });
    expect(formatted).to.equal(`${table}\n`);
  });

  it("rewrites only the section between the README's markers, and is idempotent", () => {
    writeExport("sepolia", "11155111", { USDai: "0x1111111111111111111111111111111111111111" });
    const readme = path.join(dir, "README.md");
    fs.writeFileSync(
      readme,
      "# Title\n\n<!-- addresses:start -->\n\nold\n\n<!-- addresses:end -->\n\nrest\n",
    );
    expect(updateReadmeAddresses(readme, dir)).to.equal(true);
    const text = fs.readFileSync(readme, "utf8");
    expect(text).to.match(/^# Title\n\n<!-- addresses:start -->\n\n\| contract/);
    expect(text).to.match(/\|\n\n<!-- addresses:end -->\n\nrest\n$/);
    expect(text).to.not.include("old");
    expect(updateReadmeAddresses(readme, dir)).to.equal(false);
  });
});

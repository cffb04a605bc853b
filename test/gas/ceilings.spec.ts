import { expect } from "chai";
import hre from "hardhat";

import ceilings from "../../gas/ceilings.json";
import { SUITES } from "../../scripts/bench/index";
import { formatGas } from "../../helpers/format";

/**
 * The committed gas ceilings (gas/ceilings.json) as a test: the same suites `npm run bench` prints, run on a fresh
 * deployment. Gas on the Hardhat network is deterministic, so a regression fails here the day it lands.
 */
describe("Gas ceilings", () => {
  const limits: Record<string, number> = ceilings;
  const measured = new Set<string>();

  for (const suite of SUITES) {
    it(`${suite.name}: every operation is within its ceiling`, async () => {
      for (const row of await suite.run(hre)) {
        measured.add(row.key);
        const ceiling = limits[row.key];
        expect(ceiling, `no ceiling committed for ${row.key}`).to.not.equal(undefined);
        expect(row.gas, `${row.key} used ${formatGas(row.gas)} gas, ceiling ${ceiling}`).to.be.lte(
          BigInt(ceiling),
        );
      }
    });
  }

  it("every committed ceiling is measured by a suite", () => {
    expect([...measured].sort()).to.deep.equal(Object.keys(limits).sort());
  });
});

import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";

import { BOOKS_WRITER, bookWritesOutsideWriter, findBookWrites } from "../../../scripts/lint/books";

const ROOT = join(__dirname, "..", "..", "..");

describe("One writer of the books (scripts/lint/books.ts)", () => {
  it("no Solidity file but LoanAccounting writes the aggregates, the impaired total or the exposures", () => {
    expect(bookWritesOutsideWriter(ROOT)).to.deep.equal([]);
  });

  it("finds the writes LoanAccounting.applyChange makes (the lint is not vacuous)", () => {
    const writes = findBookWrites(BOOKS_WRITER, readFileSync(join(ROOT, BOOKS_WRITER), "utf8"));
    const written = writes.map((w) => w.text).join("\n");
    for (const field of [
      "interestNumerator",
      "checkpointAt",
      "totalPrincipal",
      "rateSum",
      "impaired",
      "borrowerPrincipal",
      "sitePrincipal",
    ]) {
      expect(written, field).to.match(new RegExp(`\\.${field}\\b`));
    }
  });

  it("flags every form of write: assignment, compound assignment, increment, delete, mapping entries", () => {
    const source = [
      "agg.totalPrincipal = 0;",
      "agg.rateSum += x;",
      "$.aggregates.interestNumerator -= y;",
      "agg.checkpointAt = uint40(block.timestamp);",
      "$.impaired = 1;",
      "++agg.totalPrincipal;",
      "$.impaired--;",
      "delete $.aggregates;",
      "$.borrowerPrincipal[borrower] -= paid;",
      "$.sitePrincipal[t.site] = 0;",
      "delete $.sitePrincipal;",
      "$.aggregates = Aggregates(0, 0, 0, 0);",
      "Aggregates storage agg = $.aggregates;",
      "mapping(address => uint256) storage exposure = $.borrowerPrincipal;",
    ].join("\n");
    expect(findBookWrites("X.sol", source).map((w) => w.line)).to.deep.equal([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
  });

  it("ignores reads, comparisons, comments, per-loan fields and BookChange deltas", () => {
    const source = [
      "uint256 p = agg.totalPrincipal;",
      "if ($.impaired == 0) return;",
      "// agg.rateSum = 0;",
      "/* $.borrowerPrincipal[b] -= 1; */",
      "s.impairedValue = 0;",
      "change.impairedDecrease = x;",
      "change.principalIncrease = p;",
      "Aggregates memory agg = $.aggregates;",
      "uint256 e = $.borrowerPrincipal[b] + principal;",
    ].join("\n");
    expect(findBookWrites("X.sol", source)).to.deep.equal([]);
  });
});

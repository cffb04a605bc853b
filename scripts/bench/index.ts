import { loansSuite } from "./loans";
import { receiptsSuite } from "./receipts";
import { susdaiSuite } from "./susdai";
import { oracleSuite } from "./oracle";
import { scaleSuite } from "./scale";
import type { BenchSuite } from "./types";
import { usdaiSuite } from "./usdai";

/** Every gas suite, in table order. Ceilings live in gas/ceilings.json. */
export const SUITES: BenchSuite[] = [
  usdaiSuite,
  susdaiSuite,
  receiptsSuite,
  oracleSuite,
  loansSuite,
  scaleSuite,
];

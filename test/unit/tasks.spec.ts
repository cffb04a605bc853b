import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { id, ZeroAddress, ZeroHash } from "ethers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { usd, usdc } from "../../helpers/units";
import { formatUsd } from "../../helpers/format";
import { LoanStatus, siteKey, siteName } from "../../helpers/loans";
import { stake } from "../helpers/loans";
import { captureLogs as capture } from "../helpers/console";
import { declareDefaultAt, mintReceiptsTo } from "../helpers/recovery";
import { formatTimestamp } from "../../tasks/lib/runtime";
import {
  parseAccount,
  parseAddress,
  parseAmount,
  parseBps,
  parseBytes32OrText,
  parseDuration,
  parseId,
  parseIdList,
  parseInteger,
  parseLoanTerms,
  parseNamedAccount,
  parseNamedAccountList,
  parseServerSpec,
  parseSources,
  serialHash,
  SourceKind,
  TaskArgumentError,
} from "../../tasks/lib/validate";
import { addStatusSection, STATUS_SECTIONS } from "../../tasks/status";

const ADDRESS = "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199";
const NAMED = { lender1: ADDRESS, reporter1: "0x0000000000000000000000000000000000000001" };
const SERVER = {
  model: "H100-SXM5-80GB",
  site: "DAL-1",
  custodian: "custodian",
  owner: "borrower1",
  serials: ["SN-1", "SN-2"],
};

/** Asserts the task fails with `message` and that no block was mined (no transaction sent). */
async function expectRefused(task: string, args: Record<string, unknown>, message: RegExp): Promise<void> {
  const before = await hre.ethers.provider.getBlockNumber();
  let error: Error | undefined;
  await capture(async () => {
    try {
      await hre.run(task, args);
    } catch (err) {
      error = err as Error;
    }
  });
  expect(error, `${task} should fail`).to.not.equal(undefined);
  expect(error!.message).to.match(message);
  expect(await hre.ethers.provider.getBlockNumber(), "no transaction").to.equal(before);
}

/** A regular expression matching exactly `text` (the whole message). */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

describe("Task argument validation (tasks/lib/validate.ts)", () => {
  describe("parseAmount", () => {
    it("parses whole and fractional amounts in token units", () => {
      expect(parseAmount("1000", 6)).to.equal(usdc(1000));
      expect(parseAmount("2,500.25", 6)).to.equal(usdc("2500.25"));
      expect(parseAmount("1_000", 18)).to.equal(usd(1000));
      expect(parseAmount("0.000001", 6)).to.equal(1n);
    });
    it("refuses negatives, exponents, text, empty and zero", () => {
      for (const bad of ["-1", "1e6", "abc", "", "  ", "0x10", "1.2.3"]) {
        expect(() => parseAmount(bad, 6), bad).to.throw(TaskArgumentError);
      }
      expect(() => parseAmount(undefined, 6)).to.throw(TaskArgumentError, /--amount is required/);
      expect(() => parseAmount("0", 6)).to.throw(TaskArgumentError, /greater than zero/);
      expect(parseAmount("0", 6, "min", { allowZero: true })).to.equal(0n);
    });
    it("refuses more decimals than the token has, and amounts above max", () => {
      expect(() => parseAmount("1.0000001", 6)).to.throw(
        TaskArgumentError,
        /7 decimals but the token has only 6/,
      );
      expect(() => parseAmount("11", 0, "value", { max: 10n })).to.throw(
        TaskArgumentError,
        /above the maximum/,
      );
    });
  });

  describe("addresses and accounts", () => {
    it("accepts checksummed and lower-case addresses and returns the checksum form", () => {
      expect(parseAddress(ADDRESS)).to.equal(ADDRESS);
      expect(parseAddress(ADDRESS.toLowerCase())).to.equal(ADDRESS);
    });
    it("refuses malformed, bad-checksum and zero addresses", () => {
      expect(() => parseAddress("0x1234")).to.throw(TaskArgumentError, /20-byte/);
      expect(() => parseAddress(ADDRESS.replace("8626f", "8626F"))).to.throw(TaskArgumentError, /checksum/);
      expect(() => parseAddress("0x0000000000000000000000000000000000000000")).to.throw(
        TaskArgumentError,
        /zero/,
      );
      expect(() => parseAddress(undefined, "to")).to.throw(TaskArgumentError, /--to is required/);
    });
    it("resolves named accounts and refuses unknown names", () => {
      expect(parseAccount("lender1", NAMED)).to.equal(ADDRESS);
      expect(parseAccount(ADDRESS.toLowerCase(), NAMED)).to.equal(ADDRESS);
      expect(() => parseAccount("lender9", NAMED, "to")).to.throw(
        TaskArgumentError,
        /neither an address nor/,
      );
      expect(parseNamedAccount("lender1", ["lender1"])).to.equal("lender1");
      expect(() => parseNamedAccount("root", ["lender1"])).to.throw(TaskArgumentError, /not a named account/);
      expect(parseNamedAccountList("a, b", ["a", "b"], "x")).to.deep.equal(["a", "b"]);
      expect(() => parseNamedAccountList("a,a", ["a"], "x")).to.throw(TaskArgumentError, /twice/);
    });
  });

  describe("numbers, ids, durations, bytes32", () => {
    it("parses ids and refuses negatives and fractions", () => {
      expect(parseId("42")).to.equal(42n);
      for (const bad of ["-1", "1.5", "x", ""]) expect(() => parseId(bad), bad).to.throw(TaskArgumentError);
      expect(() => parseId((2n ** 256n).toString())).to.throw(TaskArgumentError, /uint256/);
    });
    it("bounds integers and basis points", () => {
      expect(parseInteger("5", "n", 1, 10)).to.equal(5);
      expect(() => parseInteger("11", "n", 1, 10)).to.throw(TaskArgumentError, /between 1 and 10/);
      expect(parseBps("10000", "uptime")).to.equal(10_000);
      expect(() => parseBps("10001", "uptime")).to.throw(TaskArgumentError, /between 0 and 10000/);
    });
    it("parses durations", () => {
      expect(parseDuration("365d", "term")).to.equal(365 * 86_400);
      expect(parseDuration("12h", "term")).to.equal(12 * 3_600);
      expect(parseDuration("90", "term")).to.equal(90);
      expect(() => parseDuration("0", "term")).to.throw(TaskArgumentError);
      expect(() => parseDuration("1y", "term")).to.throw(TaskArgumentError, /duration like/);
    });
    it("hashes text and keeps 32-byte hex", () => {
      expect(parseBytes32OrText("POL-1", "policy")).to.equal(id("POL-1"));
      expect(parseBytes32OrText(id("x"), "policy")).to.equal(id("x"));
      expect(() => parseBytes32OrText("0x1234", "policy")).to.throw(TaskArgumentError, /32 bytes/);
      expect(() => parseBytes32OrText(ZeroHash, "policy")).to.throw(TaskArgumentError, /zero/);
    });
  });

  describe("parseSources", () => {
    it("parses reporter and feed sources", () => {
      expect(
        parseSources(`reporter:lender1,feed:${ADDRESS.toLowerCase().replace("8626", "8627")}`, NAMED),
      ).to.deep.equal([
        { kind: SourceKind.Reporter, account: ADDRESS },
        { kind: SourceKind.Feed, account: parseAddress(ADDRESS.toLowerCase().replace("8626", "8627")) },
      ]);
    });
    it("refuses unknown kinds, duplicates and too many sources", () => {
      expect(() => parseSources("oracle:lender1", NAMED)).to.throw(
        TaskArgumentError,
        /feed:<address> or reporter/,
      );
      expect(() => parseSources(`reporter:lender1,feed:${ADDRESS}`, NAMED)).to.throw(
        TaskArgumentError,
        /twice/,
      );
      expect(() => parseSources("reporter:lender1,reporter:reporter1", NAMED, 1)).to.throw(
        TaskArgumentError,
        /between 1 and 1/,
      );
      expect(() => parseSources(undefined, NAMED)).to.throw(TaskArgumentError, /required/);
    });
  });

  describe("parseServerSpec", () => {
    it("accepts examples/server.json", () => {
      const json = JSON.parse(
        fs.readFileSync(path.join(__dirname, "..", "..", "examples", "server.json"), "utf8"),
      );
      const spec = parseServerSpec(json);
      expect(spec.serials).to.have.length(8);
      expect(spec.owner).to.equal("borrower1");
    });
    it("refuses missing fields, unknown fields, duplicate serials and long strings", () => {
      expect(() => parseServerSpec([])).to.throw(TaskArgumentError, /JSON object/);
      expect(() => parseServerSpec({ ...SERVER, model: "" })).to.throw(TaskArgumentError, /"model"/);
      expect(() => parseServerSpec({ ...SERVER, serials: [] })).to.throw(TaskArgumentError, /"serials"/);
      expect(() => parseServerSpec({ ...SERVER, serials: ["A", "A"] })).to.throw(
        TaskArgumentError,
        /listed twice/,
      );
      expect(() => parseServerSpec({ ...SERVER, serials: ["A", 7] })).to.throw(
        TaskArgumentError,
        /serials\[1\]/,
      );
      expect(() => parseServerSpec({ ...SERVER, gpus: 8 })).to.throw(TaskArgumentError, /unknown field/);
      expect(() => parseServerSpec({ ...SERVER, site: "S".repeat(32) })).to.throw(
        TaskArgumentError,
        /31 bytes/,
      );
    });
    it("hashes each serial on its own", () => {
      expect(serialHash("SN-1")).to.equal(id("SN-1"));
    });
  });
});

describe("Tasks on the in-process network", () => {
  let f: ProtocolFixture;
  let tmp: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tasks-spec-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(async () => {
    f = await deployProtocol();
  });

  function serverFile(spec: unknown): string {
    const file = path.join(tmp, `server-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, typeof spec === "string" ? spec : JSON.stringify(spec));
    return file;
  }

  it("usdai:mint refuses a bad amount, an unknown signer and a short balance without sending", async () => {
    await expectRefused("usdai:mint", { amount: "-5" }, /--amount must be a non-negative decimal/);
    await expectRefused("usdai:mint", { amount: "1.0000001" }, /7 decimals but the token has only 6/);
    await expectRefused("usdai:mint", { amount: "10", as: "nobody" }, /--as "nobody" is not a named account/);
    await expectRefused("usdai:mint", { amount: "10", to: "0x1234" }, /--to must be a 20-byte 0x address/);
    await expectRefused("usdai:mint", { amount: "10" }, /holds 0\.00 USDC, less than --amount 10/);
  });

  it("usdai:mint --faucet then susdai:stake move the money and print the position", async () => {
    await capture(() => hre.run("usdai:mint", { amount: "1000", faucet: true }));
    expect(await f.usdai.balanceOf(f.actors.lender1.address)).to.equal(usd(1000));
    await capture(() => hre.run("susdai:stake", { amount: "400" }));
    expect(await f.susdai.balanceOf(f.actors.lender1.address)).to.be.greaterThan(0n);
    const printed = await capture(() => hre.run("lender:position", { account: "lender1" }));
    expect(printed).to.match(/USDai\s+\$600\.00/);
    expect(printed).to.match(/sUSDai value \(USDai\)\s+\$400\.00/);
  });

  it("susdai tasks refuse ambiguous or oversize requests without sending", async () => {
    await expectRefused("susdai:request-redeem", {}, /either --shares <amount> or --all/);
    await expectRefused("susdai:request-redeem", { shares: "5", all: true }, /either --shares/);
    await expectRefused("susdai:request-redeem", { shares: "5" }, /holds 0\.000000 sUSDai/);
    await expectRefused("susdai:claim", {}, /nothing claimable/);
    await expectRefused("susdai:service", { max: "0" }, /--max must be between 1 and 1000/);
  });

  it("susdai:service names the one missing condition; time:advance moves a local chain's clock", async () => {
    await capture(() => hre.run("usdai:mint", { amount: "1000", faucet: true }));
    await capture(() => hre.run("susdai:stake", { amount: "500" }));
    await capture(() => hre.run("susdai:request-redeem", { shares: "100" }));
    // Idle USDai is there; only the 7-day cooldown is missing, and only it is named.
    await expectRefused(
      "susdai:service",
      {},
      /^(?![\s\S]*no idle USDai)[\s\S]*in its cooldown until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(on a local node: npx hardhat time:advance/,
    );

    await expectRefused("time:advance", {}, /either --by <duration> or --to <date>/);
    await expectRefused(
      "time:advance",
      { by: "1d", to: "2030-01-01" },
      /either --by <duration> or --to <date>/,
    );
    await expectRefused("time:advance", { to: "2020-01-01" }, /is not after the chain's now/);
    await expectRefused("time:advance", { by: "soon" }, /--by must be a duration like 365d/);
    const before = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    expect(await capture(() => hre.run("time:advance", { by: "7d" }))).to.match(/\(\+7\.00 days\)/);
    expect((await hre.ethers.provider.getBlock("latest"))!.timestamp).to.equal(before + 7 * 86_400);

    expect(await capture(() => hre.run("susdai:service", {}))).to.match(/requests fully serviced\s+1/);
  });

  it("receipt:tokenize refuses a missing file, bad JSON, bad fields and a tokenized serial", async () => {
    await expectRefused("receipt:tokenize", { file: path.join(tmp, "none.json") }, /no such file/);
    await expectRefused("receipt:tokenize", { file: serverFile("{ nope") }, /not valid JSON/);
    await expectRefused("receipt:tokenize", { file: serverFile({ ...SERVER, serials: [] }) }, /"serials"/);
    await expectRefused(
      "receipt:tokenize",
      { file: serverFile({ ...SERVER, custodian: "0xdead" }) },
      /custodian must be a 20-byte 0x address/,
    );
    await expectRefused(
      "receipt:tokenize",
      { file: serverFile({ ...SERVER, owner: "lender1" }) },
      /not an allowlisted RECEIPT_HOLDER/,
    );
    await expectRefused(
      "receipt:tokenize",
      { file: serverFile(SERVER), as: "lender1" },
      /does not hold TOKENIZER_ROLE/,
    );

    await capture(() => hre.run("receipt:tokenize", { file: serverFile(SERVER) }));
    expect(await f.receipts.receiptOfSerial(serialHash("SN-1"))).to.equal(1n);
    await expectRefused(
      "receipt:tokenize",
      { file: serverFile(SERVER) },
      /serial "SN-1" already backs live receipt #1/,
    );
  });

  it("receipt:tokenize, appraise and insure the example server", async () => {
    const minted = await capture(() => hre.run("receipt:tokenize", { file: "examples/server.json" }));
    expect(minted).to.match(/GpuReceipt #1/);
    expect(minted).to.match(/2 attestations: attestor1, attestor2/);
    expect(await f.receipts.ownerOf(1)).to.equal(f.actors.borrower1.address);
    await capture(() => hre.run("receipt:appraise", { id: "1", value: "250000" }));
    const insured = await capture(() =>
      hre.run("receipt:insure", { id: "1", policy: "POL-1", value: "150000" }),
    );
    expect(insured).to.match(/appraised value\s+\$250,000\.00/);
    expect(insured).to.match(/insured value\s+\$150,000\.00/);
    expect(await f.receipts.collateralValue(1)).to.equal(usd(250_000));
  });

  it("receipt:appraise and insure refuse bad ids, values and signers without sending", async () => {
    await expectRefused("receipt:appraise", { id: "7", value: "1000" }, /--id 7: no live receipt/);
    await expectRefused("receipt:appraise", { id: "x", value: "1000" }, /--id must be a whole number/);
    await expectRefused(
      "receipt:appraise",
      { id: "1", value: "1000", markdown: "20000" },
      /--markdown must be between/,
    );
    await capture(() => hre.run("receipt:tokenize", { file: "examples/server.json" }));
    await expectRefused(
      "receipt:appraise",
      { id: "1", value: "1000", as: "insurer" },
      /does not hold APPRAISER_ROLE/,
    );
    await expectRefused(
      "receipt:insure",
      { id: "1", policy: "P", value: "0" },
      /--value must be greater than zero/,
    );
    await expectRefused(
      "receipt:insure",
      { id: "1", policy: "P", value: "5", term: "soon" },
      /--term must be a duration/,
    );
  });

  it("oracle tasks: configure, report; refuse unconfigured loans and non-reporters", async () => {
    await expectRefused(
      "oracle:report",
      { loan: "1", utilization: "9000", uptime: "9900" },
      /no oracle sources/,
    );
    await expectRefused(
      "oracle:configure",
      { loan: "1", sources: "reporter:nobody" },
      /neither an address nor/,
    );
    await expectRefused(
      "oracle:configure",
      { loan: "1", sources: "reporter:reporter1", quorum: "2" },
      /--quorum must be between 1 and 1/,
    );
    const configured = await capture(() =>
      hre.run("oracle:configure", {
        loan: "1",
        sources: "reporter:reporter1,reporter:reporter2,reporter:reporter3",
      }),
    );
    // Loan 1 is not approved: its terms carry no covenants, and the configuration copies none.
    expect(configured).to.include(
      "Covenants from the loan's terms: DSCR floor none, lockbox check off, data-gap limit none",
    );
    await expectRefused(
      "oracle:report",
      { loan: "1", utilization: "10001", uptime: "9900" },
      /--utilization must be between 0 and 10000/,
    );
    await expectRefused(
      "oracle:report",
      { loan: "1", utilization: "9000", uptime: "9900", reporters: "reporter1,lender1" },
      /lender1 .* is not a reporter source of loan 1/,
    );
    const printed = await capture(() =>
      hre.run("oracle:report", { loan: "1", utilization: "9150", uptime: "9920" }),
    );
    expect(printed).to.match(/utilization\s+91\.50%/);
    const [utilization] = await f.oracle.latestUtilization(1);
    expect(utilization).to.equal(9150n);
    await expectRefused(
      "oracle:report",
      { loan: "1", utilization: "9000", uptime: "9900" },
      /already has an observation/,
    );
    // The next day one reporter reports: the day stays open until every reporter reports or its window closes.
    await time.increase(86_400);
    const partial = await capture(() =>
      hre.run("oracle:report", { loan: "1", utilization: "5000", uptime: "9900", reporters: "reporter1" }),
    );
    expect(partial).to.match(/Open report day, loan 1/);
    expect(partial).to.match(/reports\s+1 of 3/);
    await expectRefused("oracle:close-day", { loan: "1" }, /collects reports until/);
    const [, , closesAt] = await f.oracle.openReportDay(1);
    await time.increaseTo(closesAt);
    await capture(() => hre.run("oracle:close-day", { loan: "1" }));
    // One report is short of the quorum (2): the day is missed, the latest observation stays.
    expect((await f.oracle.openReportDay(1)).day).to.equal(0n);
    expect((await f.oracle.latestUtilization(1))[0]).to.equal(9150n);
    await expectRefused("oracle:close-day", { loan: "1" }, /no report day collecting reports/);
    await expectRefused("oracle:poke", { loan: "1" }, /no feed sources/);
    const upkeep = await capture(() => hre.run("oracle:upkeep", {}));
    expect(upkeep).to.match(/no LoanVault yet|not needed/);
  });

  it("status prints every section and refuses an unknown one", async () => {
    await capture(() => hre.run("usdai:mint", { amount: "2500", faucet: true }));
    const printed = await capture(() => hre.run("status", {}));
    for (const section of STATUS_SECTIONS) expect(printed).to.include(`== ${section.title} ==`);
    expect(printed).to.match(/USDai supply\s+\$2,500\.00/);
    expect(printed).to.match(/share price\s+1\.000000 USDai/);
    const json = JSON.parse(await capture(() => hre.run("status", { json: true, only: "reserves" })));
    expect(json.reserves.supply).to.equal(usd(2500).toString());
    await expectRefused("status", { only: "loans-typo" }, /unknown section "loans-typo"/);
  });

  it("status sections are extensible: a new section prints after its anchor", async () => {
    const before = STATUS_SECTIONS.length;
    addStatusSection(
      { id: "test-section", title: "Test section", render: async () => ({ text: "hello", data: {} }) },
      { after: "susdai" },
    );
    try {
      expect(STATUS_SECTIONS.map((s) => s.id).indexOf("test-section")).to.equal(
        STATUS_SECTIONS.map((s) => s.id).indexOf("susdai") + 1,
      );
      const printed = await capture(() => hre.run("status", {}));
      expect(printed).to.include("== Test section ==\nhello");
    } finally {
      STATUS_SECTIONS.splice(STATUS_SECTIONS.map((s) => s.id).indexOf("test-section"), 1);
    }
    expect(STATUS_SECTIONS.length).to.equal(before);
  });
});

describe("Loan term and id-list parsing (tasks/lib/validate.ts)", () => {
  it("parses id lists and refuses repeats, junk and empty lists", () => {
    expect(parseIdList("1, 2,5", "receipts")).to.deep.equal([1n, 2n, 5n]);
    expect(() => parseIdList("1,1", "receipts")).to.throw(
      TaskArgumentError,
      exactly("--receipts lists 1 twice"),
    );
    expect(() => parseIdList("1,x", "receipts")).to.throw(
      TaskArgumentError,
      /--receipts must be a whole number/,
    );
    expect(() => parseIdList(",", "receipts")).to.throw(TaskArgumentError, /between 1 and 64 ids/);
    expect(() => parseIdList(undefined, "receipts")).to.throw(TaskArgumentError, /--receipts is required/);
  });

  it("parses loan terms in human units and names the argument in messages", () => {
    const terms = parseLoanTerms(
      {
        borrower: "lender1",
        principal: "1,500.5",
        site: "DAL-1",
        paymentIntervalSeconds: "30d",
        gracePeriodSeconds: "0",
        numPayments: 24,
        maxLtvBps: 6000,
        approvalValidity: "12h",
      },
      NAMED,
      (field) => `file: ${field}`,
    );
    expect(terms).to.deep.equal({
      borrower: ADDRESS,
      principal: usd("1500.5"),
      site: "DAL-1",
      paymentIntervalSeconds: 30 * 86_400,
      gracePeriodSeconds: 0,
      numPayments: 24,
      maxLtvBps: 6000,
      approvalValidity: 12 * 3_600,
    });
    const file = (field: string) => `file: ${field}`;
    expect(() => parseLoanTerms({ maxLtvBps: 10_001 }, NAMED, file)).to.throw(
      TaskArgumentError,
      exactly("--file: maxLtvBps must be between 0 and 10000, got 10001"),
    );
    expect(() => parseLoanTerms({ curePeriodSeconds: "0" }, NAMED, file)).to.throw(
      TaskArgumentError,
      /--file: curePeriodSeconds must be a positive duration/,
    );
    expect(() => parseLoanTerms({ principal: "1e6" }, NAMED, file)).to.throw(
      TaskArgumentError,
      /--file: principal must be a non-negative decimal/,
    );
    expect(() => parseLoanTerms({ site: "S".repeat(32) }, NAMED, file)).to.throw(
      TaskArgumentError,
      /1 to 31 bytes/,
    );
    expect(() => parseLoanTerms({ numPayments: true }, NAMED, file)).to.throw(
      TaskArgumentError,
      /must be a string or a number/,
    );
    expect(() => parseLoanTerms({ coupon: 5 }, NAMED, file)).to.throw(TaskArgumentError, /unknown loan term/);
  });

  it("parses the covenant terms: a DSCR floor up to 5.0x, a boolean lockbox check, a tolerance, a gap in days", () => {
    const file = (field: string) => `file: ${field}`;
    expect(
      parseLoanTerms(
        { minDscrBps: 12_500, lockboxCheck: true, shortfallToleranceBps: "500", maxGapDays: "35" },
        NAMED,
        file,
      ),
    ).to.deep.equal({ minDscrBps: 12_500, lockboxCheck: true, shortfallToleranceBps: 500, maxGapDays: 35 });
    expect(parseLoanTerms({ lockboxCheck: "false" }, NAMED, file)).to.deep.equal({ lockboxCheck: false });
    expect(() => parseLoanTerms({ minDscrBps: 50_001 }, NAMED, file)).to.throw(
      TaskArgumentError,
      exactly("--file: minDscrBps must be between 0 and 50000, got 50001"),
    );
    expect(() => parseLoanTerms({ shortfallToleranceBps: 10_001 }, NAMED, file)).to.throw(
      TaskArgumentError,
      exactly("--file: shortfallToleranceBps must be between 0 and 10000, got 10001"),
    );
    expect(() => parseLoanTerms({ maxGapDays: 366 }, NAMED, file)).to.throw(
      TaskArgumentError,
      exactly("--file: maxGapDays must be between 0 and 365, got 366"),
    );
    expect(() => parseLoanTerms({ lockboxCheck: "maybe" }, NAMED, file)).to.throw(
      TaskArgumentError,
      exactly('--file: lockboxCheck must be true or false, got "maybe"'),
    );
  });

  it("decodes a site key back to its name", () => {
    expect(siteName(siteKey("DAL-1"))).to.equal("DAL-1");
    expect(siteName(ZeroHash)).to.equal(ZeroHash);
  });
});

describe("Loan and keeper tasks on the in-process network", () => {
  let f: ProtocolFixture;
  let tmp: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "loan-tasks-spec-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(async () => {
    f = await deployProtocol();
  });

  const run = (task: string, args: Record<string, unknown> = {}) => capture(() => hre.run(task, args));
  const addr = (name: keyof ProtocolFixture["actors"]) => f.actors[name].address;

  function termsFile(terms: unknown): string {
    const file = path.join(tmp, `terms-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(terms));
    return file;
  }

  /** sUSDai funded by lender1, borrower1 holding one DAL-1 receipt worth $5,000 (not yet approved to the vault). */
  async function lendingReady(): Promise<bigint> {
    await stake(f, f.actors.lender1, 10_000);
    const [receipt] = await mintReceiptsTo(f, addr("borrower1"), 1, 5_000, "DAL-1");
    return receipt;
  }

  /** An active $1,000 loan of borrower1 against $5,000 of DAL-1 collateral, drawn through the tasks. */
  async function activeLoan(): Promise<{ loanId: bigint; receiptId: bigint }> {
    const receiptId = await lendingReady();
    await run("loan:approve", { borrower: "borrower1", principal: "1000", site: "DAL-1" });
    await run("loan:borrow", { loan: "1", receipts: receiptId.toString() });
    return { loanId: 1n, receiptId };
  }

  describe("loan:approve", () => {
    it("refuses missing terms, a non-borrower, a non-underwriter, bad values and the caps, sending nothing", async () => {
      const base = { borrower: "borrower1", principal: "1000", site: "DAL-1" };
      await expectRefused(
        "loan:approve",
        { principal: "1000", site: "DAL-1" },
        exactly('give --borrower (or "borrower" in --file)'),
      );
      await expectRefused(
        "loan:approve",
        { ...base, borrower: "lender1" },
        exactly(`borrower lender1 (${addr("lender1")}) is not an allowlisted BORROWER on LoanVault`),
      );
      await expectRefused(
        "loan:approve",
        { ...base, as: "borrower1" },
        exactly(
          `--as borrower1 (${addr("borrower1")}) does not hold UNDERWRITER_ROLE on LoanVault; sign with an account that does`,
        ),
      );
      await expectRefused(
        "loan:approve",
        { ...base, maxLtv: "20000" },
        exactly("--max-ltv must be between 0 and 10000, got 20000"),
      );
      await expectRefused(
        "loan:approve",
        { file: termsFile({ ...base, numPayments: 0 }) },
        exactly("--file: numPayments must be between 1 and 65535, got 0"),
      );
      await expectRefused(
        "loan:approve",
        { file: termsFile({ ...base, coupon: 900 }) },
        /unknown field\(s\) coupon; allowed: borrower, principal/,
      );
      await expectRefused(
        "loan:approve",
        base,
        exactly(
          "principal $1,000.00 would take the outstanding principal of borrower borrower1 to $1,000.00, above its cap " +
            "$0.00 (30.00% of sUSDai's cap base $0.00: NAV less recent deposits and the redemption queue)",
        ),
      );
      // The vault's own rule (maintenance LTV at least the max LTV), found by simulating the call.
      await stake(f, f.actors.lender1, 10_000);
      await expectRefused(
        "loan:approve",
        { ...base, maintenanceLtv: "5000" },
        exactly(
          'LoanVault.approveLoan would revert: LoanVaultInvalidTerms("maintenanceLtvBps", 5000). No transaction was sent.',
        ),
      );
      expect(await f.loanVault.loanCount()).to.equal(0n);
    });

    it("approves the house terms, a terms file, and a file overridden by flags; prints the loan id", async () => {
      await stake(f, f.actors.lender1, 10_000);
      const house = await run("loan:approve", { borrower: "borrower1", principal: "1000", site: "DAL-1" });
      expect(house).to.include("Approved loan #1 for borrower1");
      const first = await f.loanVault.termsOf(1);
      expect(first.numPayments).to.equal(36n);
      expect(first.basePremiumBps).to.equal(600n);
      expect(first.principal).to.equal(usd(1000));
      expect(first.site).to.equal(siteKey("DAL-1"));

      const fromFile = await run("loan:approve", { file: "examples/loan-terms.json" });
      expect(fromFile).to.include("Approved loan #2");
      expect(fromFile).to.match(/payments\s+24 x 30 days/);
      const second = await f.loanVault.termsOf(2);
      expect([second.numPayments, second.amortizationBps, second.basePremiumBps]).to.deep.equal([
        24n,
        300n,
        650n,
      ]);

      await run("loan:approve", { file: "examples/loan-terms.json", principal: "1500", payments: "12" });
      const third = await f.loanVault.termsOf(3);
      expect([third.principal, third.numPayments, third.basePremiumBps]).to.deep.equal([
        usd(1500),
        12n,
        650n,
      ]);
      expect((await f.loanVault.stateOf(3)).status).to.equal(LoanStatus.Approved);
    });

    it("takes the covenants the oracle checks as terms from flags, refuses them out of range, and prints them", async () => {
      await stake(f, f.actors.lender1, 10_000);
      const base = { borrower: "borrower1", principal: "1000", site: "DAL-1" };
      await expectRefused(
        "loan:approve",
        { ...base, minDscrBps: "50001" },
        exactly("--min-dscr-bps must be between 0 and 50000, got 50001"),
      );
      await expectRefused(
        "loan:approve",
        { ...base, maxGapDays: "366" },
        exactly("--max-gap-days must be between 0 and 365, got 366"),
      );
      expect(await f.loanVault.loanCount()).to.equal(0n);
      const printed = await run("loan:approve", {
        ...base,
        minDscrBps: "12500",
        lockboxCheck: true,
        shortfallToleranceBps: "500",
        maxGapDays: "35",
      });
      expect(printed).to.match(/DSCR floor\s+1\.25x debt service/);
      expect(printed).to.match(/lockbox check\s+on \(shortfall tolerance 5\.00%\)/);
      expect(printed).to.match(/data-gap limit\s+35 days/);
      expect([...(await f.loanVault.covenantTermsOf(1))]).to.deep.equal([12_500n, true, 500n, 35n]);
      // The oracle's configuration copies them from the terms.
      const configured = await run("oracle:configure", { loan: "1", sources: "reporter:reporter1" });
      expect(configured).to.include(
        "Covenants from the loan's terms: DSCR floor 1.25x, lockbox check on (tolerance 5.00%), data-gap limit 35 days",
      );
      // Without the flags: the house terms, no covenants.
      const house = await run("loan:approve", base);
      expect(house).to.match(/DSCR floor\s+none/);
      expect(house).to.match(/lockbox check\s+off/);
      expect(house).to.match(/data-gap limit\s+none/);
      expect([...(await f.loanVault.covenantTermsOf(2))]).to.deep.equal([0n, false, 0n, 0n]);
    });
  });

  describe("loan:borrow", () => {
    it("refuses unknown loans, the wrong borrower, bad receipts and too little collateral, sending nothing", async () => {
      const receiptId = await lendingReady();
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: "1" },
        exactly("--loan 1: no loan has been approved yet"),
      );
      await run("loan:approve", { borrower: "borrower1", principal: "1000", site: "DAL-1" });
      const [elsewhere] = await mintReceiptsTo(f, addr("borrower1"), 1, 5_000, "NYC-2");
      const [small] = await mintReceiptsTo(f, addr("borrower1"), 1, 1_000, "DAL-1");
      const [others] = await mintReceiptsTo(f, addr("borrower2"), 1, 5_000, "DAL-1");

      await expectRefused(
        "loan:borrow",
        { loan: "9", receipts: "1" },
        exactly("--loan 9: no such loan (loans are 1 to 1)"),
      );
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: `${others}`, as: "borrower2" },
        exactly(
          `--as borrower2 (${addr("borrower2")}) is not the borrower of loan 1; its borrower is borrower1 (${addr("borrower1")})`,
        ),
      );
      await expectRefused("loan:borrow", { loan: "1", receipts: "1,1" }, exactly("--receipts lists 1 twice"));
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: "99" },
        exactly("--receipts: receipt #99 does not exist (or was redeemed)"),
      );
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: `${others}` },
        exactly(
          `--receipts: receipt #${others} is held by borrower2 (${addr("borrower2")}), not by --as borrower1`,
        ),
      );
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: `${elsewhere}` },
        exactly(`--receipts: receipt #${elsewhere} is at site NYC-2, not at the loan's site DAL-1`),
      );
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: `${small}` },
        exactly(
          `receipts #${small} are worth $1,000.00; at the max LTV of 60.00% they do not support the principal $1,000.00`,
        ),
      );
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Approved);
      expect(await f.receipts.ownerOf(receiptId)).to.equal(addr("borrower1"));
    });

    it("refuses a draw the redemption queue leaves no room for, in the vault's own figures, before approving any receipt", async () => {
      const receiptId = await lendingReady();
      await run("loan:approve", { borrower: "borrower1", principal: "1000", site: "DAL-1" });
      // lender1 queues 9,500 of its 10,000 shares: queued shares leave the cap base (#24.6), so the borrower cap
      // (30% of the 500 left) refuses the draw before sUSDai is asked for idle USDai it no longer has free
      await f.susdai.connect(f.actors.lender1).requestRedeem(usd(9_500), addr("lender1"), addr("lender1"));
      const refusal = await f.loanVault
        .connect(f.actors.borrower1)
        .borrow.staticCall(1n, [receiptId])
        .then(
          () => null,
          (err: { data: string }) => f.loanVault.interface.parseError(err.data),
        );
      expect(refusal?.name, "the vault refuses the draw").to.equal("LoanVaultBorrowerCap");
      const cap = refusal!.args[2] as bigint;
      const base = await f.susdai.capBase();
      expect(cap).to.equal((base * 3_000n) / 10_000n);
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: receiptId.toString() },
        exactly(
          `principal $1,000.00 would take the outstanding principal of borrower borrower1 to $1,000.00, above its cap ` +
            `${formatUsd(cap)} (30.00% of sUSDai's cap base ${formatUsd(base)}: NAV less recent deposits and the ` +
            `redemption queue)`,
        ),
      );
      expect(await f.receipts.getApproved(receiptId)).to.equal(ZeroAddress);
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Approved);
    });

    it("approves the receipt to the vault, draws the loan and prints its state", async () => {
      const receiptId = await lendingReady();
      await run("loan:approve", { borrower: "borrower1", principal: "1000", site: "DAL-1" });
      const printed = await run("loan:borrow", { loan: "1", receipts: receiptId.toString() });
      expect(printed).to.include(`approve receipt #${receiptId} to the LoanVault`);
      expect(printed).to.match(/status\s+Active/);
      expect(printed).to.match(/principal outstanding\s+\$1,000\.00/);
      expect(printed).to.match(/LTV\s+20\.00% \(max 60\.00%, maintenance 75\.00%\)/);
      expect(await f.receipts.ownerOf(receiptId)).to.equal(await f.loanVault.getAddress());
      expect(await f.usdai.balanceOf(addr("borrower1"))).to.equal(usd(1000));
      await expectRefused(
        "loan:borrow",
        { loan: "1", receipts: receiptId.toString() },
        exactly("loan 1 is Active; loan:borrow needs it Approved"),
      );
    });
  });

  describe("repay, revenue, sweep, release, close", () => {
    it("refuse ambiguous or oversize amounts, empty lockboxes and wrong statuses, sending nothing", async () => {
      await activeLoan();
      await expectRefused(
        "loan:repay",
        { loan: "1" },
        exactly("give exactly one of --amount <USDai>, --due or --all"),
      );
      await expectRefused("loan:repay", { loan: "1", due: true, all: true }, /give exactly one of/);
      await expectRefused(
        "loan:repay",
        { loan: "1", amount: "5000" },
        /^--amount 5000 is more than the debt of loan 1, \$1,000\.\d\d; use --all to repay in full$/,
      );
      await expectRefused(
        "loan:repay",
        { loan: "1", amount: "10", as: "lender2" },
        exactly("--as lender2 holds $0.00 USDai, less than the $10.00 to pay"),
      );
      await expectRefused(
        "loan:deposit-revenue",
        { loan: "1", amount: "0" },
        exactly("--amount must be greater than zero"),
      );
      await expectRefused(
        "loan:deposit-revenue",
        { loan: "1", amount: "5000" },
        exactly("--as borrower1 holds $1,000.00 USDai, less than --amount 5000"),
      );
      await expectRefused(
        "loan:sweep",
        { loan: "1" },
        exactly(
          "loan 1 has nothing to sweep: its lockbox and reserve are empty (loan:deposit-revenue first)",
        ),
      );
      await expectRefused(
        "loan:close",
        { loan: "1" },
        exactly("loan 1 is Active; loan:close needs it Repaid"),
      );
      await expectRefused(
        "loan:release-excess",
        { loan: "1", amount: "1", as: "borrower2" },
        /^--as borrower2 .* is not the borrower of loan 1/,
      );
      await expectRefused(
        "loan:release-excess",
        { loan: "1", amount: "1" },
        exactly("--amount 1 is more than the $0.00 releasable after a sweep"),
      );
    });

    it("deposit revenue, sweep, release excess, repay the next payment, repay all and close", async () => {
      const { receiptId } = await activeLoan();
      const deposited = await run("loan:deposit-revenue", { loan: "1", amount: "300" });
      expect(deposited).to.include("approve USDai to the LoanVault");
      expect(deposited).to.match(/lockbox\s+\$300\.00/);
      const swept = await run("loan:sweep", { loan: "1" });
      // 3% reserve of $1,000 of principal; the rest (less a few seconds of interest) is excess.
      expect(swept).to.match(/debt-service reserve\s+\$30\.00/);
      expect(swept).to.match(/excess in the lockbox\s+\$269\.99/);
      // Every dollar of the deposit is accounted for: applied to the debt, held in reserve, or left as excess.
      const [sweptEvent] = await f.loanVault.queryFilter(f.loanVault.filters.Swept(1));
      expect(sweptEvent.args.applied + sweptEvent.args.reserve + sweptEvent.args.excess).to.equal(usd(300));
      const state = await f.loanVault.stateOf(1);
      expect([state.reserve, state.lockbox]).to.deep.equal([usd(30), sweptEvent.args.excess]);

      await run("loan:release-excess", { loan: "1", amount: "100", to: "treasury" });
      expect(await f.usdai.balanceOf(addr("treasury"))).to.equal(usd(100));

      const [, amountDue] = await f.loanVault.nextPayment(1);
      // Before the due date: the payment covers interest to the due date and the 2% instalment; what is not due yet
      // prepays principal.
      const due = await run("loan:repay", { loan: "1", due: true });
      const [paid] = await f.loanVault.queryFilter(f.loanVault.filters.Repaid(1));
      const { lateFees, interest, scheduledPrincipal, prepayment } = paid.args;
      expect(lateFees + interest + scheduledPrincipal + prepayment).to.equal(amountDue);
      expect(due).to.match(new RegExp(`total\\s+\\${formatUsd(amountDue)}`));
      expect((await f.loanVault.stateOf(1)).principal).to.equal(usd(1000) - scheduledPrincipal - prepayment);
      expect(scheduledPrincipal + prepayment).to.be.greaterThanOrEqual(usd(20));

      // Top up borrower1's USDai through the lender task, then repay in full.
      await run("usdai:mint", { amount: "400", faucet: true, as: "borrower1" });
      const all = await run("loan:repay", { loan: "1", all: true });
      expect(all).to.match(/status\s+Repaid/);
      expect(await f.loanVault.debtOf(1)).to.equal(0n);

      const lockbox = (await f.loanVault.stateOf(1)).lockbox + (await f.loanVault.stateOf(1)).reserve;
      const before = await f.usdai.balanceOf(addr("borrower1"));
      const closed = await run("loan:close", { loan: "1" });
      expect(closed).to.match(new RegExp(`receipts returned\\s+#${receiptId}`));
      expect(await f.receipts.ownerOf(receiptId)).to.equal(addr("borrower1"));
      expect(await f.usdai.balanceOf(addr("borrower1"))).to.equal(before + lockbox);
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Closed);
    });
  });

  describe("loan:top-up and loan:show", () => {
    it("top-up refuses someone else's receipt and pledges the borrower's own", async () => {
      await activeLoan();
      const [others] = await mintReceiptsTo(f, addr("borrower2"), 1, 5_000, "DAL-1");
      const [own] = await mintReceiptsTo(f, addr("borrower1"), 1, 5_000, "DAL-1");
      await expectRefused(
        "loan:top-up",
        { loan: "1", receipts: `${others}` },
        exactly(
          `--receipts: receipt #${others} is held by borrower2 (${addr("borrower2")}), not by --as borrower1`,
        ),
      );
      const printed = await run("loan:top-up", { loan: "1", receipts: `${own}` });
      expect(printed).to.include("Added $5,000.00 of collateral to loan #1");
      expect(await f.loanVault.collateralValueOf(1)).to.equal(usd(10_000));
      expect(printed).to.match(/LTV\s+10\.0\d% \(max 60\.00%/);
    });

    it("show refuses an unknown loan and prints terms, state, next payment and standing", async () => {
      await expectRefused("loan:show", { loan: "1" }, exactly("--loan 1: no loan has been approved yet"));
      await activeLoan();
      const printed = await run("loan:show", { loan: "1" });
      expect(printed).to.include("Loan #1: terms");
      expect(printed).to.match(/reference rate\s+4\.30% fixed/);
      expect(printed).to.match(/coupon\s+10\.30% \(reference 4\.30% \+ premium 6\.00%\)/);
      expect(printed).to.match(/standing\s+good/);
      const [dueDate] = await f.loanVault.nextPayment(1);
      expect(printed).to.include(`#1 of 36, due ${formatTimestamp(dueDate)}`);
      expect(printed).to.match(/next payment amount\s+\$2\d\.\d\d/);
    });
  });

  describe("status: loan book", () => {
    it("shows one row per loan and the totals, as text and JSON", async () => {
      await activeLoan();
      await run("loan:approve", { borrower: "borrower2", principal: "500", site: "DAL-1" });
      const printed = await run("status", { only: "loans" });
      expect(printed).to.include("== Loan book ==");
      expect(printed).to.match(
        /\n\s*1\s+borrower1\s+Active\s+\$1,000\.00\s+\$1,000\.\d\d\s+10\.30%\s+20\.0\d% \/ 60\.00% \/ 75\.00%\s+good/,
      );
      expect(printed).to.match(/\n\s*2\s+borrower2\s+Approved\s+\$0\.00/);
      expect(printed).to.match(/performing principal\s+\$1,000\.00/);
      const json = JSON.parse(await run("status", { only: "loans", json: true }));
      expect(json.loans.loanCount).to.equal(2);
      expect(json.loans.loans[0]).to.include({
        loanId: 1,
        status: "Active",
        principal: usd(1000).toString(),
      });
      expect(json.loans.loans[1].status).to.equal("Approved");
      expect(BigInt(json.loans.loanAssets)).to.be.greaterThanOrEqual(usd(1000));
      expect(json.loans.impaired).to.equal("0");
    });
  });

  describe("keeper, auction and step-in", () => {
    it("declare-default refuses before defaultableAt with the date, then declares it", async () => {
      await activeLoan();
      const at = await f.loanVault.defaultableAt(1);
      const [dueDate] = await f.loanVault.nextPayment(1);
      await expectRefused(
        "keeper:declare-default",
        { loan: "1" },
        exactly(
          `loan 1 cannot be declared in default before ${formatTimestamp(at)}: payment #1 is due ` +
            `${formatTimestamp(dueDate)}, then 5 days of grace and a 25-day default window`,
        ),
      );
      await time.setNextBlockTimestamp(at - 1n);
      await hre.network.provider.send("evm_mine");
      const printed = await run("keeper:declare-default", { loan: "1" });
      expect(printed).to.include("Loan #1 defaulted");
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Defaulted);
      await expectRefused(
        "keeper:declare-default",
        { loan: "1" },
        exactly("loan 1 is Defaulted; keeper:declare-default needs it Active"),
      );
    });

    it("keeper:mark marks loans past grace at their recovery, and says when there is none", async () => {
      const { receiptId } = await activeLoan();
      expect(await run("keeper:mark", {})).to.include("nothing to mark");
      await expectRefused("keeper:mark", { loan: "9" }, exactly("--loan 9: no such loan (loans are 1 to 1)"));
      // The collateral is re-appraised at the principal: it would recover 80% of it.
      await f.receipts.connect(f.actors.appraiser).appraise(receiptId, usd(1000), 0, 10_000n);
      const [dueDate] = await f.loanVault.nextPayment(1);
      await time.setNextBlockTimestamp(dueDate + 5n * 86_400n + 1n);
      await hre.network.provider.send("evm_mine");
      const printed = await run("keeper:mark", {});
      const { impairedValue } = await f.loanVault.stateOf(1);
      expect(impairedValue).to.equal(usd(200));
      expect(printed).to.match(/#1\s+\$1,000\.00\s+\$200\.00\s+\$800\.00/);
      // loan:show names the writedown of an Active loan as such, not as an impairment
      const shown = await run("loan:show", { loan: "1" });
      expect(shown).to.match(/written down \(past grace\)\s+\$200\.00/);
      expect(shown).to.match(/carried in NAV at\s+\$800\.00/);
      expect(shown).not.to.include("impaired to");
    });

    it("liquidate, auction:show and auction:buy: refusals send nothing; the buy settles the loan", async () => {
      const { loanId, receiptId } = await activeLoan();
      await expectRefused(
        "keeper:liquidate",
        { loan: "1" },
        exactly("loan 1 is Active; keeper:liquidate needs it Defaulted"),
      );
      const defaultedAt = await declareDefaultAt(f, loanId);
      await expectRefused(
        "keeper:liquidate",
        { loan: "1" },
        /loan 1 is in its step-in window until .* UTC: only the credit admin may liquidate it before then/,
      );
      await time.increaseTo(defaultedAt + 2n * 86_400n); // the local step-in window (2 days)
      const liquidated = await run("keeper:liquidate", { loan: "1" });
      expect(liquidated).to.include("Loan #1 is at auction #1");
      expect(liquidated).to.match(/start price\s+\$6,000\.00/); // 120% of $5,000

      await expectRefused("auction:show", {}, exactly("give either --auction <id> or --loan <id>"));
      expect(await run("auction:show", { loan: "1" })).to.match(/status\s+Live/);
      await expectRefused(
        "auction:buy",
        { auction: "2", maxPrice: "9000" },
        exactly(
          "--auction 2: no such auction (an auction's id is its loan's id; keeper:liquidate starts one)",
        ),
      );
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "1" },
        /^auction 1 costs \$(6,000\.00|5,99\d\.\d\d) now, above --max-price 1$/,
      );
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "9000", as: "lender2" },
        exactly(
          `--as lender2 (${addr("lender2")}) does not hold RECEIPT_HOLDER_ROLE on GpuReceipt; sign with an account that does`,
        ),
      );
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "9000", as: "borrower1" },
        exactly(
          `--as borrower1 (${addr("borrower1")}) is loan #1's borrower, which may not buy its own collateral`,
        ),
      );
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "9000" },
        /^--as liquidator holds \$0\.00 USDai, less than the price \$(6,000\.00|5,99\d\.\d\d)$/,
      );

      await run("usdai:mint", { amount: "7000", faucet: true, as: "liquidator" });
      const pre = await f.loanVault.stateOf(1);
      const bought = await run("auction:buy", { auction: "1", maxPrice: "6000" });
      // The proceeds repay the debt at default in full, then the late fees; the rest is the borrower's surplus.
      const [defaulted] = await f.loanVault.queryFilter(f.loanVault.filters.LoanDefaulted(1));
      const [settled] = await f.loanVault.queryFilter(f.loanVault.filters.AuctionSettled(1));
      expect(settled.args.repaid).to.equal(defaulted.args.debt);
      expect(pre.lateFees).to.be.greaterThan(0n);
      // The event reconciles the sale: proceeds + the loan's cash = debt repaid + late fees + surplus.
      expect([settled.args.cashHeld, settled.args.lateFees]).to.deep.equal([
        pre.lockbox + pre.reserve,
        pre.lateFees,
      ]);
      expect(settled.args.proceeds + settled.args.cashHeld).to.equal(
        settled.args.repaid + settled.args.lateFees + settled.args.surplus,
      );
      expect(bought).to.match(
        new RegExp(`cash held \\(lockbox and reserve\\)\\s+\\${formatUsd(settled.args.cashHeld)}`),
      );
      expect(bought).to.match(new RegExp(`debt repaid\\s+\\${formatUsd(settled.args.repaid)}`));
      expect(bought).to.match(new RegExp(`late fees paid\\s+\\${formatUsd(pre.lateFees)}`));
      expect(bought).to.match(new RegExp(`surplus to the borrower\\s+\\${formatUsd(settled.args.surplus)}`));
      expect(bought).to.match(/loss to sUSDai\s+\$0\.00/);
      // After the sale, auction:show shows it: buyer, price, and the same split.
      const shown = await run("auction:show", { auction: "1" });
      expect(shown).to.match(/status\s+Sold/);
      expect(shown).to.match(new RegExp(`sold for\\s+\\${formatUsd(settled.args.proceeds)}`));
      expect(shown).to.match(new RegExp(`late fees paid\\s+\\${formatUsd(pre.lateFees)}`));
      expect(shown).to.match(/buyer\s+liquidator/);
      expect(await f.receipts.ownerOf(receiptId)).to.equal(addr("liquidator"));
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Recovered);
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "9000" },
        exactly("auction 1 is Sold; auction:buy needs it Live"),
      );
    });

    it("auction:expire refuses a running auction with its end date, then writes the loan off", async () => {
      const { loanId, receiptId } = await activeLoan();
      const defaultedAt = await declareDefaultAt(f, loanId);
      await time.increaseTo(defaultedAt + 2n * 86_400n); // the local step-in window (2 days)
      await run("keeper:liquidate", { loan: "1" });
      const record = await f.auction.auctionOf(1);
      const endsAt = record.startedAt + record.duration;
      await expectRefused(
        "auction:expire",
        { auction: "1" },
        exactly(`auction 1 runs until ${formatTimestamp(endsAt)}; it can expire only after that`),
      );
      await time.increaseTo(endsAt);
      await expectRefused(
        "auction:buy",
        { auction: "1", maxPrice: "9000" },
        exactly(`auction 1 ended at ${formatTimestamp(endsAt)}; it can only expire (auction:expire)`),
      );
      const printed = await run("auction:expire", { auction: "1" });
      expect(printed).to.match(/receipts to\s+creditAdmin/);
      expect(await f.receipts.ownerOf(receiptId)).to.equal(addr("creditAdmin"));
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.WrittenOff);
    });

    it("loan:step-in refuses a non-admin and a non-borrower, then novates the loan", async () => {
      const { loanId } = await activeLoan();
      await expectRefused(
        "loan:step-in",
        { loan: "1", newBorrower: "borrower2" },
        exactly("loan 1 is Active; loan:step-in needs it Defaulted"),
      );
      await declareDefaultAt(f, loanId);
      await expectRefused(
        "loan:step-in",
        { loan: "1", newBorrower: "borrower2", as: "keeper" },
        exactly(
          `--as keeper (${addr("keeper")}) does not hold CREDIT_ADMIN_ROLE on LoanVault; sign with an account that does`,
        ),
      );
      await expectRefused(
        "loan:step-in",
        { loan: "1", newBorrower: "lender1" },
        exactly(`--new-borrower lender1 (${addr("lender1")}) is not an allowlisted BORROWER on LoanVault`),
      );
      const printed = await run("loan:step-in", { loan: "1", newBorrower: "borrower2" });
      expect(printed).to.include("novated from borrower1");
      expect((await f.loanVault.termsOf(1)).borrower).to.equal(addr("borrower2"));
      expect((await f.loanVault.stateOf(1)).status).to.equal(LoanStatus.Active);
    });
  });
});

import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { id, ZeroHash } from "ethers";

import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { usd, usdc } from "../../helpers/units";
import {
  parseAccount,
  parseAddress,
  parseAmount,
  parseBps,
  parseBytes32OrText,
  parseDuration,
  parseId,
  parseInteger,
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

/** Runs `fn` with console.log captured; returns what was printed. */
async function capture(fn: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.log = original;
  }
  return lines.join("\n");
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
    await capture(() =>
      hre.run("oracle:configure", {
        loan: "1",
        sources: "reporter:reporter1,reporter:reporter2,reporter:reporter3",
      }),
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

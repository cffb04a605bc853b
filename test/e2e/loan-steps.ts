import { expect } from "chai";

import { addE2eSteps, expectRefused, expectRow } from "./steps";

/**
 * The credit side of the end-to-end flow, driven through the loan tasks against `hardhat node`: the underwriter
 * approves a loan for borrower1 against the receipt the "receipts" step tokenized (#1, DAL-1, $250,000), borrower1
 * draws it, revenue goes into the lockbox and is swept, the loan is repaid in full and closed. Refused inputs send no
 * transaction. The lender step staked $4,000, so the borrower cap (30% of NAV) allows $1,200: the loan is $1,000.
 */

addE2eSteps(
  [
    {
      name: "loans: approve and borrow; a wrong borrower and an early default are refused with no transaction",
      async run(ctx) {
        const approved = await ctx.hardhat([
          "loan:approve",
          "--borrower",
          "borrower1",
          "--principal",
          "1000",
          "--site",
          "DAL-1",
        ]);
        expect(approved).to.include("Approved loan #1 for borrower1");
        expectRow(approved, "payments", "36 x 30 days");
        await expectRefused(
          ctx,
          ["loan:borrow", "--loan", "1", "--receipts", "1", "--as", "borrower2"],
          "is not the borrower of loan 1; its borrower is borrower1",
        );
        const drawn = await ctx.hardhat(["loan:borrow", "--loan", "1", "--receipts", "1"]);
        expect(drawn).to.include("approve receipt #1 to the LoanVault");
        expectRow(drawn, "status", "Active");
        expectRow(drawn, "principal outstanding", "$1,000.00");
        await expectRefused(
          ctx,
          ["keeper:declare-default", "--loan", "1"],
          "loan 1 cannot be declared in default before",
        );
      },
    },
    {
      name: "loans: deposit revenue, sweep, show the loan and the loan book",
      async run(ctx) {
        expectRow(
          await ctx.hardhat(["loan:deposit-revenue", "--loan", "1", "--amount", "300"]),
          "lockbox",
          "$300.00",
        );
        const swept = await ctx.hardhat(["loan:sweep", "--loan", "1"]);
        expectRow(swept, "debt-service reserve", "$30.00"); // 3% of $1,000
        expectRow(swept, "cash sweep (breach)", "no");
        const shown = await ctx.hardhat(["loan:show", "--loan", "1"]);
        expectRow(shown, "site", "DAL-1");
        expectRow(shown, "coupon", "10.30% (reference 4.30% + premium 6.00%)");
        expectRow(shown, "collateral value", "$250,000.00");
        expectRow(shown, "standing", "good");
        expect(shown).to.match(/next payment\s+#1 of 36, due \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
        const status = await ctx.hardhat(["status", "--only", "loans"]);
        expect(status).to.match(/\n\s*1\s+borrower1\s+Active\s+\$1,000\.00\s+\$1,000\.\d\d\s+10\.30%/);
        expectRow(status, "performing principal", "$1,000.00");
      },
    },
    {
      name: "loans: repay in full, close, and the receipt is back with borrower1",
      async run(ctx) {
        // borrower1 drew $1,000 and put $300 in the lockbox: it mints USDai to cover the debt.
        await ctx.hardhat(["usdai:mint", "--amount", "400", "--faucet", "--as", "borrower1"]);
        const repaid = await ctx.hardhat(["loan:repay", "--loan", "1", "--all"]);
        expectRow(repaid, "status", "Repaid");
        expectRow(repaid, "debt", "$0.00");
        const closed = await ctx.hardhat(["loan:close", "--loan", "1"]);
        expectRow(closed, "receipts returned", "#1");
        expect(closed).to.match(/refunded \(lockbox \+ reserve\)\s+\$29\d\.\d\d/);
        expectRow(await ctx.hardhat(["receipt:show", "--id", "1"]), "owner", "borrower1");
        const json = await ctx.hardhat(["status", "--only", "loans", "--json"]);
        const status = JSON.parse(json.slice(json.indexOf("{")));
        expect(status.loans.loans[0]).to.include({ loanId: 1, status: "Closed", principal: "0" });
        expect(status.loans.performingPrincipal).to.equal("0");
      },
    },
  ],
  { after: "receipts: tokenize examples/server.json, appraise, insure" },
);

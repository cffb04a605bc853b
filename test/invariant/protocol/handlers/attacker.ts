import { expect } from "chai";
import { Roles } from "../../../../helpers/roles";
import { usd } from "../../../../helpers/units";
import { fail, type ErrorSource } from "../../protocol-model";
import { paramsFingerprint } from "../setup";
import { World, lenderOf } from "../world";
import { act, unauthorized, type Params } from "../execution";

/**
 * Handlers of the attacker contract: unauthorized calls to every guarded entry point, each refused with its exact
 * error, leaving every governance parameter unmoved.
 */

/** (9) Unauthorized calls by the attacker contract: each reverts with the exact access error and moves nothing. */
export async function attack(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const C = w.s.attackerAddress;
  const lender = lenderOf(w, 0).address;
  const someReceipt = [...w.receipts.values()][(p.kind as number) % w.receipts.size];
  const loanId = w.loanId(0);
  const attacks: [ErrorSource, string, () => never][] = [
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("setRiskParams", [
        {
          borrowerCapBps: 10_000,
          siteCapBps: 10_000,
          recoveryHaircutBps: 0,
          referenceFeedMaxStalenessSeconds: 1,
          materialityThreshold: 10n * 10n ** 18n,
          stepInWindowSeconds: 0,
        },
      ]),
      () => unauthorized("loanVault", C, Roles.CREDIT_ADMIN),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("applyCouponStep", [loanId, 2n ** 31n, -10_000, false]),
      () => unauthorized("loanVault", C, Roles.ORACLE),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("setCovenantBreach", [loanId, 0]),
      () => unauthorized("loanVault", C, Roles.ORACLE),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("onAuctionSettled", [loanId, 0, C]),
      () => fail("loanVault", "LoanVaultNotAuction", C),
    ],
    [
      "loanVault",
      fx.loanVault.interface.encodeFunctionData("upgradeToAndCall", [C, "0x"]),
      () => unauthorized("loanVault", C, Roles.UPGRADER),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("fundLoan", [C, 1n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("receiveLoanCashflow", [0n, 0n, 0n, 1n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("receiveLoanCashflow", [0n, 0n, 1n, 0n]),
      () => unauthorized("susdai", C, Roles.LOAN_VAULT),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("setRedemptionParams", [0, 0, 100]),
      () => unauthorized("susdai", C, Roles.DEFAULT_ADMIN),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("transferFrom", [lender, C, 1n]),
      () => fail("susdai", "ERC20InsufficientAllowance", C, 0n, 1n),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("requestRedeem", [usd(10), C, lender]),
      () => fail("susdai", "ERC20InsufficientAllowance", C, 0n, usd(10)),
    ],
    [
      "susdai",
      fx.susdai.interface.encodeFunctionData("redeem", [1n, C, lender]),
      () => fail("susdai", "StakedUSDaiNotOperator", C, lender),
    ],
    [
      "usdai",
      fx.usdai.interface.encodeFunctionData("transferFrom", [lender, C, 1n]),
      () => fail("usdai", "ERC20InsufficientAllowance", C, 0n, 1n),
    ],
    [
      "usdai",
      fx.usdai.interface.encodeFunctionData("allocate", [1n]),
      () => unauthorized("usdai", C, Roles.RESERVE_MANAGER),
    ],
    [
      "receipts",
      fx.receipts.interface.encodeFunctionData("transferFrom", [
        someReceipt.owner,
        fx.actors.liquidator.address,
        someReceipt.id,
      ]),
      () => fail("receipts", "ERC721InsufficientApproval", C, someReceipt.id),
    ],
    [
      "receipts",
      fx.receipts.interface.encodeFunctionData("transferFrom", [someReceipt.owner, C, someReceipt.id]),
      () => fail("receipts", "GpuReceiptNotReceiptHolder", C),
    ],
    [
      "auction",
      fx.auction.interface.encodeFunctionData("start", [loanId, [someReceipt.id], 1n, 0n, 0n]),
      () => unauthorized("auction", C, Roles.LOAN_VAULT),
    ],
    [
      "auction",
      fx.auction.interface.encodeFunctionData("lowerFloor", [loanId, 1n]),
      () => unauthorized("auction", C, Roles.LOAN_VAULT),
    ],
    [
      "auction",
      fx.auction.interface.encodeFunctionData("setAuctionParams", [
        { startPremiumBps: 0, floorBps: 1, durationSeconds: 3600 },
      ]),
      () => unauthorized("auction", C, Roles.CREDIT_ADMIN),
    ],
    [
      "oracle",
      fx.oracle.interface.encodeFunctionData("setRules", [[]]),
      () => unauthorized("oracle", C, Roles.ORACLE_ADMIN),
    ],
    [
      "oracle",
      fx.oracle.interface.encodeFunctionData("configureLoan", [loanId, [{ kind: 1, account: C }], 1, 1]),
      () => unauthorized("oracle", C, Roles.ORACLE_ADMIN),
    ],
  ];
  const [at, data, predict] = attacks[(p.kind as number) % attacks.length];
  await act(w, "attacker", t, predict, () =>
    w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr[at], data),
  );
  expect(await paramsFingerprint(w.s), "governance parameters after an unauthorized call").to.equal(
    w.s.fingerprint,
  );
}

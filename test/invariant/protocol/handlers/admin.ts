import { encodeBytes32String } from "ethers";
import { LoanModel, modelTerms } from "../../../helpers/loan-model";
import { DAY, loanTerms, siteKey } from "../../../../helpers/loans";
import { Roles } from "../../../../helpers/roles";
import { usd } from "../../../../helpers/units";
import { BPS, exposure, fail, Status, type LoanRecord } from "../../protocol-model";
import { SITES, PRINCIPALS_USD, TEMPLATES } from "../setup";
import { World, lenderOf, aim } from "../world";
import { lv, act, unauthorized, type Params } from "../execution";

/**
 * Handlers of the privileged operators: the underwriter approves loans, the credit admin steps a replacement
 * operator in after a default, the appraiser re-appraises receipts.
 */

export async function approveLoan(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const borrower = w.s.borrowers[p.borrower as number];
  const variant = p.variant as string;
  const who = variant === "notAllowlisted" ? lenderOf(w, 0).address : borrower.address;
  const principal = usd(PRINCIPALS_USD[p.principal as number]);
  const site = SITES[p.site as number];
  const template = TEMPLATES[p.template as number];
  const terms = loanTerms(who, principal, site, Number(t), {
    ...template,
    approvalExpiry: Number(t) + 5 * DAY,
    ...(variant === "badTerms" ? { maintenanceLtvBps: (template.maxLtvBps ?? 6_000) - 1 } : {}),
  });
  const data = fx.loanVault.interface.encodeFunctionData("approveLoan", [terms]);
  await act(
    w,
    "loanVault.approveLoan",
    t,
    () => {
      if (variant === "attacker") unauthorized("loanVault", w.s.attackerAddress, Roles.UNDERWRITER);
      if (variant === "notAllowlisted") fail("loanVault", "LoanVaultNotAllowlisted", who);
      if (variant === "badTerms")
        fail(
          "loanVault",
          "LoanVaultInvalidTerms",
          encodeBytes32String("maintenanceLtvBps"),
          terms.maintenanceLtvBps,
        );
      checkCaps(w, t, who, siteKey(site), principal);
      return () => {
        const loanId = BigInt(w.loans.length + 1);
        const rec: LoanRecord = {
          m: undefined as unknown as LoanModel,
          borrower: who,
          site: siteKey(site),
          receipts: [],
          slaUptimeBps: BigInt(terms.slaUptimeBps),
          approvalExpiry: BigInt(terms.approvalExpiry),
          drawn: 0n,
          netPaid: 0n,
        };
        rec.m = new LoanModel(loanId, modelTerms(terms as unknown as Record<string, unknown>), (now) =>
          w.collateral(rec.receipts, now),
        );
        w.loans.push(rec);
        w.touched.add(loanId);
      };
    },
    () =>
      variant === "attacker"
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : fx.loanVault.connect(fx.actors.underwriter).approveLoan(terms),
  );
}

/** `checkCaps`: the borrower's and the site's principal, plus `principal`, within their share of the cap base at `t`. */
export function checkCaps(w: World, t: bigint, borrower: string, site: string, principal: bigint) {
  const nav = w.staked.capBase(t, w.nav(t));
  const borrowerExposure = exposure(w.loans, (l) => l.borrower === borrower) + principal;
  const borrowerCap = (nav * w.s.borrowerCapBps) / BPS;
  if (borrowerExposure > borrowerCap)
    fail("loanVault", "LoanVaultBorrowerCap", borrower, borrowerExposure, borrowerCap);
  const siteExposure = exposure(w.loans, (l) => l.site === site) + principal;
  const siteCap = (nav * w.s.siteCapBps) / BPS;
  if (siteExposure > siteCap) fail("loanVault", "LoanVaultSiteCap", site, siteExposure, siteCap);
}

export async function stepIn(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const idx = aim(w, p.loan as number, (l) => l.m.s.status === Status.Defaulted);
  const rec = w.loan(idx);
  const loanId = w.loanId(idx);
  const target = p.to === 3 ? lenderOf(w, 0).address : w.s.borrowers[p.to as number].address;
  const data = fx.loanVault.interface.encodeFunctionData("stepIn", [loanId, target]);
  await act(
    w,
    "loanVault.stepIn",
    t,
    () => {
      if (p.attacker) unauthorized("loanVault", w.s.attackerAddress, Roles.CREDIT_ADMIN);
      if (p.to === 3) fail("loanVault", "LoanVaultNotAllowlisted", target);
      if (!rec) fail("loanVault", "LoanVaultBadStatus", loanId, Status.None);
      const probe = rec!.m.clone();
      // the lockbox and reserve repay the debt first; the rest must fit the new operator's cap (#16.6)
      const applied = lv(() => probe.stepIn(t));
      const nav = w.staked.capBase(t, w.nav(t));
      const borrowerExposure = exposure(w.loans, (l) => l.borrower === target) + probe.s.principal;
      const borrowerCap = (nav * w.s.borrowerCapBps) / BPS;
      if (borrowerExposure > borrowerCap)
        fail("loanVault", "LoanVaultBorrowerCap", target, borrowerExposure, borrowerCap);
      return () => {
        rec!.m.s = probe.s;
        rec!.borrower = target;
        w.payStaked(t, applied);
        w.oracle.get(loanId)?.restart(); // the vault tells the oracle (#16.6)
        w.touched.add(loanId);
      };
    },
    () =>
      p.attacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.loanVault, data)
        : fx.loanVault.connect(fx.actors.creditAdmin).stepIn(loanId, target),
  );
}

export async function appraise(w: World, p: Params, t: bigint) {
  const { fx } = w.s;
  const all = [...w.receipts.values()];
  const r = all[(p.receipt as number) % all.length];
  const value = (r.value * BigInt(p.factor as number)) / 100n;
  const markdown = p.markdown === 3 ? 10_001n : [0n, 1_000n, 2_500n][p.markdown as number];
  const floorBps = markdown === 0n ? 10_000n : 4_000n;
  const data = fx.receipts.interface.encodeFunctionData("appraise", [r.id, value, markdown, floorBps]);
  await act(
    w,
    "receipts.appraise",
    t,
    () => {
      if (p.attacker) unauthorized("receipts", w.s.attackerAddress, Roles.APPRAISER);
      if (markdown > 10_000n) fail("receipts", "GpuReceiptBpsOutOfRange", markdown);
      return () => {
        Object.assign(r, { value, appraisedAt: t, markdownBpsPerQuarter: markdown, floorBps });
        for (const l of w.loans) if (l.receipts.includes(r.id)) w.touched.add(l.m.id);
      };
    },
    () =>
      p.attacker
        ? w.s.attacker.connect(fx.actors.attacker).execute(w.s.addr.receipts, data)
        : fx.receipts.connect(fx.actors.appraiser).appraise(r.id, value, markdown, floorBps),
  );
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILoanVaultJuniorHooks} from "./IJuniorTranche.sol";

/// @title ILoanVaultAssets
/// @notice The part of the LoanVault that sUSDai reads for its NAV.
interface ILoanVaultAssets {
    /// @notice Principal plus accrued interest of performing loans, plus the expected recovery of impaired ones, plus
    /// what the junior tranche's USDai protects of the principal at risk (`min(firstLossClaim, junior's USDai)`; see
    /// `ILoanVault.setJuniorTranche`), in USDai units. O(1): it costs the same with 1 or 10,000 loans.
    function loanAssets() external view returns (uint256);

    /// @notice The book as an entrant pays for it: `loanAssets()` plus the markdown of every impaired loan (what it
    /// could still bring back above its impaired value: principal, interest and late fees at its default), so each
    /// Defaulted or Liquidating loan counts at its whole claim. sUSDai prices deposits from it: a deposit made while a
    /// loan is impaired pays for a full recovery, so a step-in, a cure or a good sale afterwards (a write-back) gives
    /// it nothing that belonged to the lenders who carried the impairment. O(1).
    function entryLoanAssets() external view returns (uint256);
}

/// @title ILoanVaultReferenceRate
/// @notice The reference rate of a loan priced on a feed, and how it follows the feed. The rate moves only when it is
/// refreshed, so nobody can be left to choose when: `refreshReferenceRate` is permissionless and applies the feed in
/// either direction, and the UtilizationOracle's Chainlink Automation upkeep lists (`checkUpkeep`) and refreshes
/// (`performUpkeep`) every loan it monitors whose rate differs from its feed (`pendingReferenceRate`). A borrower who
/// refreshes on the feed's dips gains nothing: the rises are applied by the keeper one upkeep after the feed moves.
/// @dev Interest up to a refresh accrues at the rate in force before it; the rate applies from the refresh on.
interface ILoanVaultReferenceRate {
    /// @notice Re-reads the reference-rate feed of the Active loan `loanId` and applies it, up or down: interest and
    /// late fees due so far are booked at the old rate, then the coupon becomes the feed's rate (in bps, rounded up)
    /// plus the premium. Emits `ILoanVault.ReferenceRateUpdated`, also when the rate did not move. Anyone; never paused.
    /// Reverts with `LoanVaultBadStatus` for a loan that is not Active, `LoanVaultInvalidParam("referenceRateFeed", 0)`
    /// for a fixed-rate loan and `LoanVaultBadReferenceRate` for an answer that is non-positive, stale (older than
    /// `RiskParams.referenceFeedMaxStalenessSeconds`), from the future or above the 50% cap.
    function refreshReferenceRate(uint256 loanId) external;

    /// @notice Whether a refresh of `loanId` now would move its reference rate (`pending`), and the rate it would apply:
    /// the feed's rate in bps (rounded up) for an Active loan on a feed, else the loan's stored rate with `pending`
    /// false (a fixed-rate loan, or a loan that is not Active). This is what the oracle's upkeep checks.
    /// @dev Reverts with `LoanVaultBadReferenceRate` where `refreshReferenceRate` would (a feed answer it refuses).
    function pendingReferenceRate(
        uint256 loanId
    ) external view returns (bool pending, uint256 referenceRateBps);
}

/// @title ILoanVaultOracleHooks
/// @notice The part of the LoanVault that the UtilizationOracle pushes into (ORACLE role only).
/// @dev Both pushes are idempotent. A coupon step carries an id that increases per loan: the vault applies a step
/// once and ignores an id it has already seen, so a retried or replayed `performUpkeep` cannot step a coupon twice.
/// (DESIGN.md names the call `applyCouponStep(loanId, deltaBps, topUpRequired)`; the step id is what makes a delta
/// idempotent.)
interface ILoanVaultOracleHooks {
    /// @notice Oracle step `stepId` moved the loan's premium by `appliedDeltaBps` (after clamping to the terms' floor
    /// and cap; `requestedDeltaBps` before) and, when `topUpRequired`, opened a cure window ending at `cureDeadline`.
    event CouponStepApplied(
        uint256 indexed loanId,
        uint256 indexed stepId,
        int256 requestedDeltaBps,
        int256 appliedDeltaBps,
        bool topUpRequired,
        uint256 cureDeadline
    );

    /// @notice The oracle set the loan's covenant flags to `flags` (previously `previousFlags`).
    event CovenantFlagsSet(uint256 indexed loanId, uint256 previousFlags, uint256 flags);

    /// @notice Applies oracle coupon step `stepId` to `loanId`: the premium moves by `deltaBps`, clamped to the
    /// terms' [floor, cap]; when `topUpRequired`, a collateral top-up is due within the cure period. A `stepId` not
    /// above the last one applied to the loan is ignored (idempotent). Interest up to the step accrues at the old
    /// coupon; late fees are priced at the contract coupon, which a step does not move, so it does not charge them.
    function applyCouponStep(uint256 loanId, uint256 stepId, int256 deltaBps, bool topUpRequired) external;

    /// @notice Sets the oracle-driven covenant flags of `loanId` (bit 0: `COVENANT_SLA_BREACH`; the oracle's others in
    /// `IUtilizationOracle`). Any flag set is a covenant breach. Setting the same
    /// flags again changes nothing.
    function setCovenantBreach(uint256 loanId, uint256 flags) external;

    /// @notice Whether `loanId` is open and performing, so oracle pushes apply to it.
    function isPerforming(uint256 loanId) external view returns (bool);

    /// @notice The loan's uptime SLA in basis points of capacity.
    function slaUptimeBps(uint256 loanId) external view returns (uint256);

    /// @notice The last coupon step id applied to `loanId` (0: none).
    function lastCouponStepId(uint256 loanId) external view returns (uint256);

    /// @notice The loan's current covenant flags set by the oracle.
    function covenantFlags(uint256 loanId) external view returns (uint256);

    /// @notice The loan's current annual coupon in basis points (reference rate + premium).
    function couponOf(uint256 loanId) external view returns (uint256);

    /// @notice The loan's premium and the [floor, cap] its coupon steps are clamped to, in basis points (all zero for
    /// a loan without terms). The oracle applies several pending steps one by one with this clamp.
    function premiumBounds(
        uint256 loanId
    ) external view returns (uint256 premiumBps, uint256 floorBps, uint256 capBps);

    /// @notice What the oracle's revenue covenants compare a reported period's revenue with, in USDai units.
    /// @return debtService The loan's scheduled debt service over `periodDays` days: interest on the outstanding
    /// principal at the current coupon, plus the regular installment's principal (`amortizationBps` of the schedule
    /// principal per payment interval), both pro-rated to the period and rounded up; the balloon is not spread. Zero
    /// unless the loan is Active.
    /// @return revenueDeposited The revenue ever deposited into the loan's lockbox (`depositRevenue`), cumulative.
    function revenueCovenantInputs(
        uint256 loanId,
        uint256 periodDays
    ) external view returns (uint256 debtService, uint256 revenueDeposited);

    /// @notice The covenants in `loanId`'s terms that the oracle checks (see `ILoanVault.LoanTerms`): the
    /// debt-service coverage floor in basis points (0: off), whether the lockbox deposits are compared with the
    /// reported revenue and the shortfall tolerated in basis points of it, and the most missing days before a data-gap
    /// covenant event (0: off). All zero for a loan without terms. Fixed at approval.
    function covenantTermsOf(
        uint256 loanId
    )
        external
        view
        returns (uint16 minDscrBps, bool lockboxCheck, uint16 shortfallToleranceBps, uint16 maxGapDays);
}

/// @title ILoanVault
/// @notice The credit engine: term loans to allowlisted GPU operators against pledged GpuReceipts, with a revenue
/// lockbox and waterfall, covenants, default, and recovery by Dutch auction or step-in.
/// @dev Units: USD amounts in USDai units (18 decimals), rates and LTVs in basis points (annual for rates), times in
/// seconds. Interest is simple and per second on outstanding principal at the current coupon, rounded up per loan.
/// The vault keeps O(1) aggregates — total performing principal, the aggregate rate `sum(principal * coupon)`, and
/// an interest checkpoint kept as an exact numerator in `USD x bps x seconds` — so `loanAssets()` costs the same with
/// 1 or 10,000 loans and never drifts from the sum over loans (see `accrualState`).
interface ILoanVault is
    ILoanVaultAssets,
    ILoanVaultOracleHooks,
    ILoanVaultReferenceRate,
    ILoanVaultJuniorHooks
{
    // ---------------------------------------------------------------- types

    /// @notice Lifecycle of a loan.
    /// @dev Approved -> Active -> Repaid -> Closed is the happy path. Active -> Defaulted -> Liquidating -> Recovered
    /// (sold) or WrittenOff (unsold), or Defaulted -> Active again through `stepIn`. Approved -> Cancelled when the
    /// underwriter withdraws an approval that was not drawn.
    enum LoanStatus {
        None,
        Approved,
        Active,
        Repaid,
        Defaulted,
        Liquidating,
        Recovered,
        WrittenOff,
        Closed,
        Cancelled
    }

    /// @notice Terms recorded by the underwriter. Written once at approval, packed into five storage slots.
    /// @param borrower the allowlisted operator (BORROWER role) who may draw the loan.
    /// @param paymentIntervalSeconds seconds between scheduled payments (30 days by default).
    /// @param numPayments number of scheduled payments; the term is `numPayments * paymentIntervalSeconds`.
    /// @param amortizationBps share of the principal due at each payment; the rest is a balloon at maturity.
    /// @param gracePeriodSeconds time after a due date in which a payment is not late.
    /// @param referenceRateFeed AggregatorV3 feed of the reference rate (1.0 = 100%), or zero for a fixed rate.
    /// @param referenceRateBps the fixed reference rate when `referenceRateFeed` is zero.
    /// @param premiumFloorBps lowest premium coupon steps may reach.
    /// @param premiumCapBps highest premium coupon steps may reach.
    /// @param maintenanceLtvBps highest debt / depreciated collateral value before a covenant breach.
    /// @param curePeriodSeconds time allowed to cure an LTV breach or make a required top-up.
    /// @param principal amount lent, in USDai units.
    /// @param basePremiumBps premium over the reference rate at origination.
    /// @param slaUptimeBps uptime the operator promises, in bps of capacity; below it the oracle flags a breach.
    /// @param defaultWindowSeconds time after the grace period before an unpaid installment allows default.
    /// @param debtServiceReserveBps debt-service reserve target, in bps of the outstanding principal.
    /// @param approvalExpiry last timestamp at which the borrower may draw the loan.
    /// @param maxLtvBps highest debt / collateral value at origination and after a top-up is required.
    /// @param latePenaltyBps fee on each installment still unpaid after its grace period, charged once: this share of
    /// the installment, i.e. of its scheduled principal still owed plus one interval's interest on the principal at
    /// the contract coupon (reference rate + `basePremiumBps`). Oracle coupon steps do not move it, so a late fee does
    /// not depend on when it is charged.
    /// @param site the data centre (GpuReceipt `siteOf`) of every receipt pledged to the loan.
    /// @param minDscrBps the debt-service coverage floor the borrower agreed to, in basis points of the period's debt
    /// service (12_500 is 1.25x; at most `MAX_MIN_DSCR_BPS`, 5.0x): a reported period whose revenue covers less than
    /// this share of the period's scheduled debt service (`revenueCovenantInputs`) sets the oracle's
    /// `COVENANT_DSCR_BREACH`. 0: no coverage covenant.
    /// @param lockboxCheck whether the revenue deposited into the loan's lockbox between two reported periods is
    /// compared with the reported revenue (short of it by more than `shortfallToleranceBps`: the oracle's
    /// `COVENANT_REVENUE_SHORTFALL`). false: no lockbox covenant.
    /// @param shortfallToleranceBps how far the lockbox deposits may fall short of the reported revenue, in basis points
    /// of the reported revenue (at most `BPS`); read only with `lockboxCheck`.
    /// @param maxGapDays the most closed days in a row the loan may go without an oracle observation, in days (at most
    /// `MAX_GAP_DAYS`): one more sets the oracle's `COVENANT_DATA_GAP`. 0: no data-gap covenant. A monthly reporter
    /// needs a few days above its period.
    /// @dev The four covenant fields are terms like the others: fixed at approval, and copied by the
    /// UtilizationOracle into its loan configuration (`IUtilizationOracle.configureLoan`, through `covenantTermsOf`),
    /// so nobody can change a covenant the borrower did not agree to. A loan approved before they existed has them
    /// zero (off).
    struct LoanTerms {
        // slot 0: what every payment reads
        address borrower;
        uint32 paymentIntervalSeconds;
        uint16 numPayments;
        uint16 amortizationBps;
        uint32 gracePeriodSeconds;
        // slot 1: pricing and covenants (everything a coupon step reads)
        address referenceRateFeed;
        uint16 referenceRateBps;
        uint16 premiumFloorBps;
        uint16 premiumCapBps;
        uint16 maintenanceLtvBps;
        uint32 curePeriodSeconds;
        // slot 2: origination, default, late fees and the lockbox
        uint96 principal;
        uint16 basePremiumBps;
        uint16 slaUptimeBps;
        uint32 defaultWindowSeconds;
        uint16 debtServiceReserveBps;
        uint40 approvalExpiry;
        uint16 maxLtvBps;
        uint16 latePenaltyBps;
        // slot 3
        bytes32 site;
        // slot 4: the revenue and data-gap covenants the oracle checks (appended: a loan approved before reads zero)
        uint16 minDscrBps;
        bool lockboxCheck;
        uint16 shortfallToleranceBps;
        uint16 maxGapDays;
    }

    /// @notice Mutable state of a loan, in four slots. A payment on time reads three and writes one: slot 0 holds
    /// everything interest accrual and the schedule's progress change.
    /// @param principal outstanding principal.
    /// @param interest interest accrued up to `accruedAt` and not yet paid.
    /// @param accruedAt timestamp up to which `interest` is accrued (32 bits: good until 2106). It is later than now when
    /// the borrower paid interest ahead (up to the next due date). For a Defaulted loan: when it defaulted (interest
    /// stops accruing into the books then).
    /// @param couponBps current annual coupon: reference rate + premium.
    /// @param nextPaymentIndex the first unsettled payment (1-based); `numPayments + 1` once all are settled.
    /// @param lateFees late fees charged and not yet paid.
    /// @param lateFeeIndex the last payment charged a late fee.
    /// @param status lifecycle stage.
    /// @param breachFlags vault flags: bit 0 maintenance-LTV breach, bit 1 top-up required (the covenants, with a cure
    /// period), bit 2 non-accrual (a payment is past its grace period: the loan's interest is out of NAV).
    /// @param oracleFlags covenant flags pushed by the oracle (bit 0: SLA breach).
    /// @param premiumBps current premium (base premium moved by oracle steps, within [floor, cap]).
    /// @param referenceRateBps reference rate last read (fixed, or the feed's last valid answer).
    /// @param receiptCount number of receipts pledged.
    /// @param cureDeadline end of the running cure period (0: none).
    /// @param lastStepId last oracle coupon step applied.
    /// @param lockbox revenue deposited and not yet applied by the waterfall (after a sweep: the releasable excess).
    /// @param reserve debt-service reserve balance.
    /// @param schedulePrincipal principal the payment schedule amortizes (reset by a step-in).
    /// @param scheduleStart start of the payment schedule (the borrow time, or the step-in time).
    /// @param schedulePayments number of payments in the schedule (reset by a step-in).
    /// @param impairedValue while Defaulted or Liquidating: the expected recovery NAV carries the loan at (collateral
    /// value after the haircut, plus its cash). While Active: its writedown, what NAV holds below its principal because
    /// a payment is past grace and the last mark (`checkCovenants`, `topUp`) found it would recover less (zero for a
    /// loan accruing, or recovering its principal).
    struct LoanState {
        // slot 0: accrual and the schedule's progress
        uint96 principal;
        uint96 interest;
        uint32 accruedAt;
        uint16 couponBps;
        uint16 nextPaymentIndex;
        // slot 1: status, fees, covenants, pricing
        uint96 lateFees;
        uint16 lateFeeIndex;
        LoanStatus status;
        uint8 breachFlags;
        uint8 oracleFlags;
        uint16 premiumBps;
        uint16 referenceRateBps;
        uint16 receiptCount;
        uint40 cureDeadline;
        uint32 lastStepId;
        // slot 2: the lockbox
        uint128 lockbox;
        uint128 reserve;
        // slot 3: the schedule and recovery
        uint96 schedulePrincipal;
        uint40 scheduleStart;
        uint16 schedulePayments;
        uint96 impairedValue;
    }

    /// @notice Global risk parameters set by CREDIT_ADMIN.
    /// @param borrowerCapBps highest outstanding principal of one borrower, in bps of sUSDai's NAV.
    /// @param siteCapBps highest outstanding principal against one site's receipts, in bps of sUSDai's NAV.
    /// @param recoveryHaircutBps haircut on collateral value when a defaulted loan is impaired.
    /// @param referenceFeedMaxStalenessSeconds oldest reference-rate answer the vault accepts.
    /// @param materialityThreshold the dust threshold, in USDai units: an installment short by no more than this (in
    /// principal above schedule, or interest to its due date) is settled, and a loan owing no more than this overdue
    /// cannot be declared in default. The shortfall stays owed. The last installment settles only in full.
    /// @param stepInWindowSeconds after a default, the time during which only the credit admin may liquidate (or step
    /// in), so the protocol can choose a step-in before a buyer is let in.
    struct RiskParams {
        uint16 borrowerCapBps;
        uint16 siteCapBps;
        uint16 recoveryHaircutBps;
        uint32 referenceFeedMaxStalenessSeconds;
        uint96 materialityThreshold;
        uint32 stepInWindowSeconds;
    }

    /// @notice How a payment was applied, in waterfall order.
    struct Allocation {
        uint256 lateFees;
        uint256 interest;
        uint256 scheduledPrincipal;
        uint256 prepayment;
    }

    // ---------------------------------------------------------------- events

    /// @notice The underwriter approved `loanId` for `borrower`.
    event LoanApproved(
        uint256 indexed loanId,
        address indexed borrower,
        bytes32 indexed site,
        uint256 principal
    );

    /// @notice The underwriter withdrew an undrawn approval.
    event ApprovalCancelled(uint256 indexed loanId);

    /// @notice `borrower` drew `loanId` against `receiptIds`, at `couponBps`.
    event LoanDrawn(
        uint256 indexed loanId,
        address indexed borrower,
        uint256 principal,
        uint256 couponBps,
        uint256 collateralValue,
        uint256[] receiptIds
    );

    /// @notice `payer` paid `loanId`; the allocation follows the waterfall.
    event Repaid(
        uint256 indexed loanId,
        address indexed payer,
        uint256 lateFees,
        uint256 interest,
        uint256 scheduledPrincipal,
        uint256 prepayment
    );

    /// @notice Payments up to `paymentIndex` (inclusive) of `loanId` are settled.
    event PaymentSettled(uint256 indexed loanId, uint256 paymentIndex);

    /// @notice A late fee of `fee` was charged on `loanId` for payments up to `paymentIndex`.
    event LateFeeCharged(uint256 indexed loanId, uint256 paymentIndex, uint256 fee);

    /// @notice `payer` deposited `amount` of revenue into the lockbox of `loanId`.
    event RevenueDeposited(uint256 indexed loanId, address indexed payer, uint256 amount);

    /// @notice A sweep of `loanId` applied `applied` to the debt, moved the reserve to `reserve` and left `excess`.
    event Swept(uint256 indexed loanId, uint256 applied, uint256 reserve, uint256 excess, bool cashSweep);

    /// @notice The borrower released `amount` of excess from the lockbox of `loanId` to `to`.
    event ExcessReleased(uint256 indexed loanId, address indexed to, uint256 amount);

    /// @notice `receiptIds` were added to the collateral of `loanId`.
    event ToppedUp(uint256 indexed loanId, uint256[] receiptIds, uint256 collateralValue);

    /// @notice The vault covenant flags of `loanId` changed; a cure period runs until `cureDeadline` (0: none).
    event BreachFlagsSet(uint256 indexed loanId, uint256 flags, uint256 cureDeadline);

    /// @notice The reference rate of `loanId` moved to `referenceRateBps`, making the coupon `couponBps`.
    event ReferenceRateUpdated(uint256 indexed loanId, uint256 referenceRateBps, uint256 couponBps);

    /// @notice `loanId` defaulted and was impaired to `impairedValue` (debt at default: `debt`).
    event LoanDefaulted(uint256 indexed loanId, uint256 debt, uint256 impairedValue);

    /// @notice The receipts of `loanId` went to auction `auctionId`.
    event LoanLiquidated(uint256 indexed loanId, uint256 indexed auctionId, uint256 collateralValue);

    /// @notice `loanId`'s lot has the reserve `reservePrice` (the lowest proceeds accepted without a further credit
    /// decision) and the loan is carried at `impairedValue` (at most the reserve plus its cash): at liquidation, and
    /// at each `lowerReserve`.
    event ReserveSet(uint256 indexed loanId, uint256 reservePrice, uint256 impairedValue);

    /// @notice The auction of `loanId` settled (or the loan was written off: `proceeds` 0). The recovery, `proceeds` plus
    /// the `cashHeld` in its lockbox and reserve, paid `repaid` of the debt, then `lateFees`, and the rest, `surplus`,
    /// went to the borrower; `loss`, the debt that neither the recovery nor the junior tranche's cover (`LossAbsorbed`)
    /// repaid, was written off against sUSDai. So the sale reconciles: `proceeds + cashHeld == repaid + lateFees +
    /// surplus`, and `repaid + cover + loss` is the debt (`cover` zero without a `LossAbsorbed`).
    event AuctionSettled(
        uint256 indexed loanId,
        uint256 proceeds,
        uint256 cashHeld,
        uint256 repaid,
        uint256 lateFees,
        uint256 surplus,
        uint256 loss
    );

    /// @notice The credit admin novated `loanId` from `previousBorrower` to `newBorrower`.
    event SteppedIn(uint256 indexed loanId, address indexed previousBorrower, address indexed newBorrower);
    /// @notice `loanId` entered (`nonAccrual` true: a payment is past its grace period, its interest left NAV) or left
    /// (false: no payment is past grace any more, its interest is back in NAV) non-accrual.
    event NonAccrualSet(uint256 indexed loanId, bool nonAccrual);
    /// @notice NAV now carries the Active `loanId` (in non-accrual) at its principal less `writedown`: its principal
    /// above what it would recover today, collateral after the haircut plus its lockbox and reserve. Emitted when a mark
    /// moves it, when a payment takes the principal below it, and (with zero) when the loan leaves non-accrual.
    event WrittenDown(uint256 indexed loanId, uint256 writedown);
    /// @notice The defaulted `loanId`, whose collateral is worth nothing, was written off and its receipts sent to
    /// `custodian`. The settlement's figures follow in `AuctionSettled` (proceeds 0), as for an unsold auction.
    event LoanWrittenOff(uint256 indexed loanId, address indexed custodian);
    /// @notice `amount` recovered off-chain after `loanId` was written off was paid into sUSDai by `payer`.
    event RecoveryRecorded(uint256 indexed loanId, address indexed payer, uint256 amount);
    /// @notice The auction surplus of `loanId` could not be sent to `borrower` and was credited for it to claim.
    event SurplusCredited(uint256 indexed loanId, address indexed borrower, uint256 amount);
    /// @notice `borrower` claimed `amount` of credited surplus to `to`.
    event SurplusClaimed(address indexed borrower, address indexed to, uint256 amount);

    /// @notice `loanId` was closed; its receipts and lockbox balance went back to the borrower.
    event LoanClosed(uint256 indexed loanId, address indexed borrower, uint256 refunded);

    /// @notice The credit admin set the risk parameters.
    event RiskParamsSet(RiskParams params);

    /// @notice Governance set the auction contract.
    event AuctionSet(address indexed auction);

    /// @notice Governance set the utilization oracle told of step-ins.
    event UtilizationOracleSet(address indexed oracle);

    /// @notice Governance set the junior tranche, the first-loss capital in front of sUSDai (zero: none), which holds
    /// `assets` USDai.
    event JuniorTrancheSet(address indexed junior, uint256 assets);

    /// @notice The settlement of `loanId` left principal unpaid: the junior tranche paid `juniorPaid` of it into the
    /// settlement, and sUSDai's realized loss is `seniorLoss` (the debt, principal and interest, that neither the
    /// recovery nor the junior paid).
    event LossAbsorbed(uint256 indexed loanId, uint256 juniorPaid, uint256 seniorLoss);

    // ---------------------------------------------------------------- errors

    /// @notice A zero amount where a positive one is required.
    error LoanVaultZeroAmount();

    /// @notice A zero address where an account is required.
    error LoanVaultZeroAddress();

    /// @notice `loanId` is in `status`, which does not allow the call.
    error LoanVaultBadStatus(uint256 loanId, LoanStatus status);

    /// @notice A term is outside its allowed range: `field` names it.
    error LoanVaultInvalidTerms(bytes32 field, uint256 value);

    /// @notice `caller` is not the borrower of `loanId`.
    error LoanVaultNotBorrower(uint256 loanId, address caller);

    /// @notice `account` does not hold the BORROWER role.
    error LoanVaultNotAllowlisted(address account);

    /// @notice The approval of `loanId` expired at `expiry`.
    error LoanVaultApprovalExpired(uint256 loanId, uint256 expiry);

    /// @notice A pledge names no receipt, or more than the vault allows (`max`).
    error LoanVaultReceiptCount(uint256 count, uint256 max);

    /// @notice Receipt `receiptId` is at `site`, not the loan's site `expected`.
    error LoanVaultWrongSite(uint256 receiptId, bytes32 site, bytes32 expected);

    /// @notice Receipt `receiptId` has no collateral value.
    error LoanVaultWorthlessReceipt(uint256 receiptId);

    /// @notice Receipt id `receiptId` does not fit the vault's packed receipt list.
    error LoanVaultReceiptIdTooLarge(uint256 receiptId);

    /// @notice `debt` exceeds `ltvBps` of `collateralValue`.
    error LoanVaultLtvExceeded(uint256 debt, uint256 collateralValue, uint256 ltvBps);

    /// @notice The borrower's outstanding principal would be `exposure`, above its cap `cap`.
    error LoanVaultBorrowerCap(address borrower, uint256 exposure, uint256 cap);

    /// @notice The principal against `site` would be `exposure`, above its cap `cap`.
    error LoanVaultSiteCap(bytes32 site, uint256 exposure, uint256 cap);

    /// @notice The reference-rate feed answered `answer`, updated at `updatedAt`: non-positive or stale.
    error LoanVaultBadReferenceRate(address feed, int256 answer, uint256 updatedAt);

    /// @notice `amount` exceeds what is owed on `loanId` (`owed`).
    error LoanVaultOverpayment(uint256 loanId, uint256 amount, uint256 owed);

    /// @notice Releasing `amount` exceeds the releasable excess `available`.
    error LoanVaultExcessUnavailable(uint256 loanId, uint256 amount, uint256 available);

    /// @notice Excess cannot be released from `loanId` while it is not in good standing.
    error LoanVaultNotInGoodStanding(uint256 loanId);

    /// @notice `loanId` cannot default yet: it is not past the payment's default date or the cure deadline.
    error LoanVaultNotDefaultable(uint256 loanId, uint256 defaultableAt);

    /// @notice The caller is not the auction contract.
    error LoanVaultNotAuction(address caller);

    /// @notice `buyer` is the borrower of `loanId` and may not buy the loan's collateral at its auction.
    error LoanVaultBuyerIsBorrower(uint256 loanId, address buyer);

    /// @notice A risk parameter is out of range.
    error LoanVaultInvalidParam(bytes32 field, uint256 value);

    /// @notice A value does not fit its packed storage field.
    error LoanVaultAmountOverflow(uint256 amount);
    /// @notice `loanId` owes only `overdue` past its due dates, not above the materiality threshold `threshold`.
    error LoanVaultOverdueImmaterial(uint256 loanId, uint256 overdue, uint256 threshold);
    /// @notice The lockbox and reserve of `loanId` (`cash`) settle every overdue installment: sweep it instead.
    error LoanVaultOverdueCoveredByLockbox(uint256 loanId, uint256 cash);
    /// @notice Only the credit admin may liquidate or write off `loanId` before `opensAt` (the step-in window).
    error LoanVaultStepInWindow(uint256 loanId, uint256 opensAt);
    /// @notice `loanId` cannot be written off: its collateral is still worth `collateralValue` (auction it).
    error LoanVaultCollateralNotWorthless(uint256 loanId, uint256 collateralValue);
    /// @notice `account` does not hold RECEIPT_HOLDER on the receipt contract, so it could not take receipts back.
    error LoanVaultNotReceiptHolder(address account);
    /// @notice The lockbox and reserve of `loanId` (`cash`) cover its whole debt (`debt`): nothing to novate.
    error LoanVaultDebtCoveredByCash(uint256 loanId, uint256 cash, uint256 debt);
    /// @notice The auction cannot be replaced while `liveLots` loans are in auction.
    error LoanVaultLotsInAuction(uint256 liveLots);
    /// @notice `account` has no surplus to claim.
    error LoanVaultNoSurplus(address account);
    /// @notice The junior tranche cannot be replaced while it protects `protected` USDai of principal at risk.
    error LoanVaultJuniorInUse(uint256 protected);
    /// @notice Only the junior tranche reports its USDai; `caller` is not it.
    error LoanVaultNotJunior(address caller);
    /// @notice The junior tranche paid `paid` of the `expected` cover the vault's mirror of its USDai promised.
    error LoanVaultCoverShort(uint256 expected, uint256 paid);

    // ---------------------------------------------------------------- underwriter

    /// @notice Records `terms` for a new loan and returns its id (ids start at 1). UNDERWRITER only, not paused.
    /// @dev Reverts when the borrower would exceed its concentration cap, or the site its cap, at today's NAV.
    function approveLoan(LoanTerms calldata terms) external returns (uint256 loanId);

    /// @notice Withdraws the approval of an undrawn loan. UNDERWRITER only.
    function cancelApproval(uint256 loanId) external;

    // ---------------------------------------------------------------- borrower

    /// @notice Draws `loanId` against `receiptIds`: escrows the receipts (the borrower must have approved the
    /// vault on GpuReceipt), checks `principal <= maxLtv x collateral value` and the concentration caps, and has
    /// sUSDai send the principal to the borrower. Borrower only, before the approval expires, not paused.
    function borrow(uint256 loanId, uint256[] calldata receiptIds) external;

    /// @notice Pays `amount` of USDai towards `loanId` from the caller: late fees, then interest, then scheduled
    /// principal, then prepayment. Anyone may pay; never paused.
    function repay(uint256 loanId, uint256 amount) external returns (Allocation memory allocation);

    /// @notice Deposits `amount` of USDai revenue into the lockbox of `loanId`. Anyone; never paused.
    function depositRevenue(uint256 loanId, uint256 amount) external;

    /// @notice Runs the waterfall on the lockbox of `loanId`. Anyone; never paused.
    function sweep(uint256 loanId) external returns (Allocation memory allocation);

    /// @notice Sweeps, then sends `amount` of the excess to `to`. Borrower only, in good standing, not paused.
    function releaseExcess(uint256 loanId, address to, uint256 amount) external;

    /// @notice Pledges more receipts to `loanId`; a top-up that restores the LTV cures a breach. Borrower only.
    function topUp(uint256 loanId, uint256[] calldata receiptIds) external;

    /// @notice Tests the maintenance LTV of `loanId` on depreciated collateral value: a breach starts the cure
    /// period, a cured breach clears it. Anyone. Returns the loan's breach flags.
    function checkCovenants(uint256 loanId) external returns (uint256 breachFlags);

    /// @notice Returns the receipts and the lockbox balance of a fully repaid loan to its borrower. Anyone.
    function close(uint256 loanId) external;

    // ---------------------------------------------------------------- default and recovery

    /// @notice Declares `loanId` in default once a payment is unpaid past grace plus the default window, or a
    /// required cure has lapsed; impairs it to collateral value after the haircut plus its remaining lockbox and reserve,
    /// at most its value in the books. The lockbox and reserve first run the waterfall: a default they cure is refused
    /// (`LoanVaultOverdueCoveredByLockbox`), and so is a payment default over no more than the materiality threshold
    /// (`LoanVaultOverdueImmaterial`). Anyone; never paused.
    function declareDefault(uint256 loanId) external;

    /// @notice Sends the receipts of a defaulted loan to a Dutch auction. Anyone once the step-in window after the
    /// default (`RiskParams.stepInWindowSeconds`) has passed; the credit admin at any time. Never paused.
    function liquidate(uint256 loanId) external returns (uint256 auctionId);

    /// @notice Accepts a sale of `loanId`'s lot (Liquidating) for as little as `reservePrice`: the loan is first marked
    /// down to at most `reservePrice` plus its lockbox and reserve (the drop leaves NAV at once, so no lender exits
    /// above what the lot can now fetch), then the auction's floor is lowered to it
    /// (`ICollateralAuction.lowerFloor`, which refuses a price below the loan's maximum LTV of the collateral or one
    /// that does not lower the floor). CREDIT_ADMIN only: selling below the impaired value is a credit decision.
    function lowerReserve(uint256 loanId, uint256 reservePrice) external;

    /// @notice Novates a defaulted loan to `newBorrower` (BORROWER and RECEIPT_HOLDER, within the borrower cap) and
    /// makes it performing again with a fresh schedule over the remaining payments. The lockbox and reserve first repay
    /// the debt (the new operator takes none of the old one's cash); the new operator starts clean: base premium, no
    /// covenant or oracle flag, no late fee of the old operator. The utilization oracle (`utilizationOracle`, if set)
    /// forgets the old operator too (`IUtilizationOracle.onStepIn`): its streaks and any coupon step it fired and has
    /// not pushed. CREDIT_ADMIN only.
    function stepIn(uint256 loanId, address newBorrower) external;

    /// @notice Writes off a defaulted loan whose collateral is worth nothing (an auction cannot sell an empty lot): its
    /// lockbox and reserve repay what they can, the rest is a realized loss for sUSDai, and the receipts go to the
    /// auction's recovery custodian. Anyone once the step-in window after the default has passed; the credit admin at
    /// any time. Never paused.
    function writeOff(uint256 loanId) external;

    /// @notice Pays `amount` of USDai recovered off-chain after `loanId` was written off (the custodian sold the
    /// receipts) into sUSDai, where it vests as a gain. CREDIT_ADMIN only.
    function recordRecovery(uint256 loanId, uint256 amount) external;

    /// @notice Sends the caller's credited auction surplus to `to`. Never paused.
    function claimSurplus(address to) external returns (uint256 amount);

    /// @notice Settles the auction of `loanId` for `proceeds` of USDai already transferred to this vault, sold to
    /// `buyer` (zero for an expired auction). The loan's own borrower may not buy its lot: uncontested, it could
    /// default, wait for the floor and take its collateral back for less than it owes, at the lenders' cost.
    /// Auction contract only.
    /// @return receiptIds the lot's receipts, for the auction to deliver.
    function onAuctionSettled(
        uint256 loanId,
        uint256 proceeds,
        address buyer
    ) external returns (uint256[] memory receiptIds);

    // ---------------------------------------------------------------- governance

    /// @notice Sets the risk parameters. CREDIT_ADMIN only.
    function setRiskParams(RiskParams calldata params) external;

    /// @notice Sets the auction contract. DEFAULT_ADMIN only; refused while a loan is in auction.
    function setAuction(address auction) external;

    /// @notice Sets the junior tranche (`IJuniorTranche`), the first-loss capital in front of sUSDai, and reads its
    /// USDai. DEFAULT_ADMIN only; refused while the current junior protects principal at risk. With a junior:
    /// `loanAssets` adds back `min(firstLossClaim(), junior's USDai)`, so sUSDai's price does not fall from a writedown
    /// or an impairment while the junior has USDai; a settlement draws the principal the recovery leaves unpaid from
    /// the junior (`LossAbsorbed`); and a draw must leave the junior covering the loan book at its minimum ratio
    /// (`IJuniorTranche.checkCoverage`). Zero removes it.
    function setJuniorTranche(address junior) external;

    /// @notice The junior tranche (zero: none), its USDai as the vault mirrors it, and the principal at risk it protects
    /// now: `min(firstLossClaim(), assets)`.
    function juniorTranche() external view returns (address junior, uint256 assets, uint256 protected);

    /// @notice Sets the utilization oracle the vault tells of a step-in (`IUtilizationOracle.onStepIn`), so that the
    /// old operator's streaks and unpushed coupon steps do not reach the new one. DEFAULT_ADMIN only. The oracle must
    /// accept the call (its `loanVault` is this vault), or every step-in reverts; zero unlinks it, and step-ins then
    /// tell no oracle. (The oracle's pushes are authorised by `ORACLE_ROLE`, not by this address.)
    function setUtilizationOracle(address oracle) external;

    // ---------------------------------------------------------------- views

    /// @notice Principal + accrued interest + late fees owed on `loanId`.
    function debtOf(uint256 loanId) external view returns (uint256);

    /// @notice Debt over depreciated collateral value, in bps, rounded up (`type(uint256).max` without collateral).
    function ltvOf(uint256 loanId) external view returns (uint256);

    /// @notice The next unsettled payment: its due date and the amount that settles it (late fees, interest to the
    /// later of now and the due date, and scheduled principal). (0, 0) when nothing more is scheduled.
    function nextPayment(uint256 loanId) external view returns (uint256 dueDate, uint256 amountDue);

    /// @notice Timestamp from which `declareDefault` succeeds, if the loan stays as it is (0: not applicable).
    function defaultableAt(uint256 loanId) external view returns (uint256);

    /// @notice Sum of the depreciated collateral value of the receipts pledged to `loanId`.
    function collateralValueOf(uint256 loanId) external view returns (uint256);

    /// @notice Whether `loanId` is active with no breach flag, no oracle flag and no overdue payment.
    function inGoodStanding(uint256 loanId) external view returns (bool);

    /// @notice The terms of `loanId`.
    function termsOf(uint256 loanId) external view returns (LoanTerms memory);

    /// @notice The state of `loanId`.
    function stateOf(uint256 loanId) external view returns (LoanState memory);

    /// @notice The receipts pledged to `loanId`.
    function receiptsOf(uint256 loanId) external view returns (uint256[] memory);

    /// @notice The aggregates behind `loanAssets()`: total performing principal, `sum(principal x coupon)`, the
    /// interest numerator (USD x bps x seconds, exact) at `checkpointAt`, and the total impaired value.
    function accrualState()
        external
        view
        returns (
            uint256 totalPrincipal,
            uint256 rateSum,
            int256 interestNumerator,
            uint256 checkpointAt,
            uint256 impaired
        );

    /// @notice Outstanding principal of `borrower`'s loans and of loans against `site`.
    function exposureOf(
        address borrower,
        bytes32 site
    ) external view returns (uint256 borrowerPrincipal, uint256 sitePrincipal);

    /// @notice Number of loans ever approved.
    function loanCount() external view returns (uint256);

    /// @notice The risk parameters.
    function riskParams() external view returns (RiskParams memory);

    /// @notice The auction contract.
    function auction() external view returns (address);

    /// @notice The utilization oracle told of step-ins (zero: none).
    function utilizationOracle() external view returns (address);

    /// @notice Number of loans in `Liquidating` (in auction).
    function liquidatingCount() external view returns (uint256);

    /// @notice Auction surplus credited to `borrower` and not yet claimed.
    function surplusOf(address borrower) external view returns (uint256);

    /// @notice The sUSDai vault that funds the loans.
    function staked() external view returns (address);

    /// @notice The receipt contract.
    function receipts() external view returns (address);
}

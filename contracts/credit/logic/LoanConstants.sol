// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @dev The credit engine's constants, in one place. Each name carries its unit. Protocol-wide units (`BPS`,
/// `SECONDS_PER_YEAR`) live in `contracts/libraries/Constants.sol`; the interest denominator with the schedule math in
/// `contracts/libraries/LoanSchedule.sol`.

// ---------------------------------------------------------------- covenant flags

/// @dev Oracle covenant flag (`LoanState.oracleFlags`): the latest uptime reading is below the loan's SLA.
uint256 constant COVENANT_SLA_BREACH = 1 << 0;

/// @dev Vault covenant flag (`LoanState.breachFlags`): debt above the maintenance LTV.
uint8 constant BREACH_LTV = 1 << 0;
/// @dev Vault covenant flag (`LoanState.breachFlags`): a collateral top-up is required (an oracle step-up asked for
/// it); only a top-up or a repayment of principal that brings the LTV back within the origination LTV clears it.
uint8 constant BREACH_TOP_UP = 1 << 1;
/// @dev Vault flag (`LoanState.breachFlags`): non-accrual. A payment is past its grace period, so the loan's interest is
/// out of NAV (its rate left the aggregate and its unpaid interest was reversed); it keeps accruing in `debtOf`. Cleared
/// when no payment is past its grace period any more.
uint8 constant BREACH_NON_ACCRUAL = 1 << 2;
/// @dev The covenant flags, which run a cure period (non-accrual does not: it leads to default by the payment dates).
uint256 constant COVENANT_FLAGS = BREACH_LTV | BREACH_TOP_UP;

// ---------------------------------------------------------------- pricing

/// @dev Highest reference rate a loan may carry, fixed or read from a feed (50%).
uint256 constant MAX_REFERENCE_RATE_BPS = 5_000;
/// @dev Highest coupon (reference rate + premium cap) terms may allow (100%).
uint256 constant MAX_COUPON_BPS = 10_000;
/// @dev Highest late penalty, in bps of an installment.
uint256 constant MAX_LATE_PENALTY_BPS = 2_500;
/// @dev Oldest reference-rate answer a risk setting may accept.
uint256 constant MAX_FEED_STALENESS_SECONDS = 7 days;

// ---------------------------------------------------------------- revenue and data covenants

/// @dev Highest debt-service coverage floor terms may set (`LoanTerms.minDscrBps`), in bps of the debt service (5.0x).
uint256 constant MAX_MIN_DSCR_BPS = 50_000;
/// @dev Longest run of missing oracle days terms may tolerate (`LoanTerms.maxGapDays`), in days.
uint256 constant MAX_GAP_DAYS = 365;

// ---------------------------------------------------------------- default and recovery

/// @dev Highest materiality (dust) threshold a risk setting may set (1,000 USDai). An amount above it is material
/// without reading the threshold, which keeps that read off the paths where nothing is small.
uint256 constant MAX_MATERIALITY_THRESHOLD = 1_000e18;
/// @dev The threshold in force is never below this (1e-9 USDai), whatever the setting (zero included): a quote is one
/// rounded-up figure while the books round up each accrual between the quote and the payment (a wei each), so paying
/// exactly the quote may fall short by a few wei. That must neither leave an installment open nor make it defaultable.
uint256 constant MIN_MATERIALITY_THRESHOLD = 1e9;
/// @dev Longest step-in window a risk setting may give the credit admin after a default.
uint256 constant MAX_STEP_IN_WINDOW_SECONDS = 30 days;

// ---------------------------------------------------------------- schedule

/// @dev Most payments in a schedule.
uint256 constant MAX_PAYMENTS = 360;
/// @dev Shortest and longest payment interval.
uint256 constant MIN_PAYMENT_INTERVAL_SECONDS = 1 days;
uint256 constant MAX_PAYMENT_INTERVAL_SECONDS = 366 days;
/// @dev Longest grace period. Also what keeps `now - grace` from underflowing in the late-fee arithmetic.
uint256 constant MAX_GRACE_PERIOD_SECONDS = 365 days;

// ---------------------------------------------------------------- collateral

/// @dev Most receipts one loan may pledge.
uint256 constant MAX_RECEIPTS_PER_LOAN = 64;
/// @dev Receipt ids are packed four to a slot, 64 bits each.
uint256 constant RECEIPT_ID_BITS = 64;
uint256 constant RECEIPT_ID_MASK = (1 << RECEIPT_ID_BITS) - 1;
/// @dev What an approval writes into the first slot of a loan's receipt list, so the draw overwrites a non-zero slot
/// (2,900 gas) instead of creating one (20,000). Never read: only `receiptCount` ids are.
uint256 constant RECEIPT_SLOT_PLACEHOLDER = type(uint256).max;

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable-next-line max-line-length
import {AutomationCompatibleInterface} from "@chainlink/contracts/src/v0.8/automation/interfaces/AutomationCompatibleInterface.sol";

import {CouponRules} from "../libraries/CouponRules.sol";

/// @dev The most sources (feeds and reporters together) a loan may have; bounds every per-observation loop.
uint256 constant MAX_ORACLE_SOURCES = 8;

/// @dev Gas forwarded to each feed's `latestRoundData`. A feed that needs more is skipped as `CallFailed`.
uint256 constant ORACLE_FEED_GAS_LIMIT = 100_000;

/// @dev `uptimeBps` of an observation recorded from feeds alone: feeds carry utilization only, so uptime is unknown.
uint16 constant UPTIME_UNKNOWN = type(uint16).max;

/// @dev The report window in force until ORACLE_ADMIN sets one (`setReportWindow`): a day's signed reports are collected
/// until this long after the day ends.
uint32 constant DEFAULT_REPORT_WINDOW_SECONDS = 6 hours;

/// @dev The longest report window: a day closes at most one day after it ends, so the next day's window is open while
/// its reports are being signed.
uint32 constant MAX_REPORT_WINDOW_SECONDS = 1 days;

/// @dev The longest period a signed report may cover, in days (a quarter): a report for day d covering `periodDays` days
/// speaks for days d - periodDays + 1 to d. Bounds the rule firings one recording can cause.
uint16 constant MAX_REPORT_PERIOD_DAYS = 92;

/// @dev Oracle covenant flag (bit 1 of the flags pushed to `ILoanVaultOracleHooks.setCovenantBreach`, beside
/// `COVENANT_SLA_BREACH` at bit 0): the loan has gone more than its `maxGapDays` (a loan term) closed days without an
/// observation.
/// The LoanVault treats any oracle flag as a covenant breach (cash sweep, no releases, not in good standing).
uint8 constant COVENANT_DATA_GAP = 1 << 1;

/// @dev Oracle covenant flag (bit 2): the latest reported period's revenue covered less than the loan's `minDscrBps`
/// of its debt service for the period (a loan term, `ILoanVault.LoanTerms`). Cleared by a later reported period at or
/// above the floor.
uint8 constant COVENANT_DSCR_BREACH = 1 << 2;

/// @dev Oracle covenant flag (bit 3): the revenue deposited into the loan's lockbox since the previous reported period
/// fell short of the latest period's reported revenue by more than the loan's tolerance (loan terms, `lockboxCheck` and
/// `shortfallToleranceBps`). Cleared by a later compliant period.
uint8 constant COVENANT_REVENUE_SHORTFALL = 1 << 3;

/// @dev The revenue of an observation recorded from feeds alone: feeds carry utilization only.
uint256 constant REVENUE_UNKNOWN = type(uint256).max;

/// @dev EIP-712 type of an `IUtilizationOracle.Report` (domain "UtilizationOracle", version "1").
bytes32 constant REPORT_TYPEHASH = keccak256(
    // solhint-disable-next-line max-line-length
    "Report(uint256 loanId,uint16 utilizationBps,uint16 uptimeBps,uint32 day,uint16 periodDays,uint128 revenueUsd,uint64 deadline)"
);

/// @title IUtilizationOracle
/// @notice Turns several independent readings of a GPU fleet's utilization and uptime into one observation per day
/// per loan (the median of every valid reading, at least `quorum` of them), turns streaks of observations into coupon
/// steps and covenant flags, and pushes them into the LoanVault. Chainlink Automation compatible.
/// @dev Sources. A loan has up to `MAX_ORACLE_SOURCES` sources, each either a Chainlink `AggregatorV3Interface` feed
/// whose answer is a utilization ratio (1.0 = `10 ** decimals`), read by `poke`, or a REPORTER signer whose EIP-712
/// report arrives through `submitReport`. A day is recorded from one kind or the other, never a mix: `poke` records
/// the median of the good feed readings, and a reported day the median of every reporter's signed report for it.
///
/// Report days. A day's reports are collected, from any number of submissions by anyone, until the day closes: when
/// every reporter source of the loan has reported, or `reportWindow()` seconds after the day ends. Only then is the
/// day recorded, from the median of all the reports collected, so whoever submits first cannot choose which reports
/// make the day: a reporter left out submits its own report before the day closes. A day that closes short of the
/// quorum is missed (`ReportDayMissed`). One day is open at a time, and a later day can only be opened once every
/// earlier day the loan skips has closed: reports for day d+1 cannot cut short day d.
///
/// Periods. A signed report states the period it covers: `periodDays` days ending on its `day` (1 for a daily report,
/// about 30 for a monthly one, at most `MAX_REPORT_PERIOD_DAYS`), its readings being the period's averages. A report
/// for day d covering N days speaks for days d-N+1..d, which must all be after the last recorded day (a period never
/// reaches back over recorded days: `UtilizationOraclePeriodOverlaps`). A day's reports are aggregated only with
/// reports for the same day and the same period: the first report collected for a day fixes its period, and a report
/// for that day with another period is refused (`UtilizationOracleReportPeriodMismatch`) rather than mixed into the
/// median. The recorded observation is the day d with its period, and counts as N observed days for the coupon rules,
/// exactly as N consecutive daily observations at the period's median would (see `CouponRules.advance`): one monthly
/// report under 60% fires the 30-day step-up rule, and three consecutive monthly reports at 90% or more fire the
/// 90-day step-down rule. A `poke` of feeds covers one day.
///
/// Units: utilization and uptime are basis points of capacity (`10_000` = 100%); an observation day is
/// `timestamp / 1 days` (UTC days since the epoch).
///
/// Days. Each loan records at most one observation per day, and days only move forward: a reading for a recorded
/// day, or for any day not after the last recorded one, is refused. Only the latest observation and O(1) streak
/// counters are stored; the history is in `ObservationRecorded` events.
///
/// Missing data. Missing data never helps the borrower, and the policy is explicit: (1) a day without an observation
/// breaks a step-down streak (the rule lowering the premium starts again after it) but does not erase a step-up
/// streak (it goes on where it was, the missing days not counting towards it), see `CouponRules.advance`; (2) a run of
/// missing days longer than the loan's `maxGapDays` (a loan term, see "Covenants are terms"; 0 turns it off) is itself
/// a covenant event: once more than `maxGapDays` days after the last observed day have closed (their report window
/// ended) without an observation, anyone (`flagDataGap`) or the upkeep sets `COVENANT_DATA_GAP` (`DataGapFlagged`),
/// which is pushed to the LoanVault like the SLA flag; the next recorded observation clears it. A period report
/// covers its days, so a monthly reporter needs `maxGapDays` above its period. Before a loan's first observation there
/// is no gap.
///
/// Revenue. A signed report also states the period's billed revenue (`revenueUsd`), and the day's revenue is the
/// median of its reports' like its other readings. Two revenue covenants per loan, off unless its terms set them (see
/// "Covenants are terms"), are checked each time a reported period is recorded (feed days carry no revenue and leave
/// them as they are), against the LoanVault's `revenueCovenantInputs` (one O(1) view call):
/// (1) debt-service coverage: revenue below `minDscrBps` of the period's scheduled debt service (interest at the
/// coupon plus the regular installment's principal, pro-rated to the period) sets `COVENANT_DSCR_BREACH`
/// (`DscrBreached`); (2) lockbox: the revenue deposited into the loan's lockbox since the previous checked period
/// below the reported revenue less `shortfallToleranceBps` of it sets `COVENANT_REVENUE_SHORTFALL`
/// (`RevenueShortfall`). A compliant period clears its flag. Both are pushed like the SLA flag, and the LoanVault
/// treats any oracle flag as a covenant breach (cash sweep, no releases). The lockbox comparison counts deposits
/// between two recordings, so a loan's reporting period should match its deposit cadence (a monthly reporter, monthly
/// deposits); the tolerance absorbs the timing of collections.
///
/// Covenants are terms. The debt-service coverage floor, the lockbox comparison and its tolerance, and the data-gap
/// limit are fields of the loan's `ILoanVault.LoanTerms`, fixed when the underwriter approves the loan and agreed to by
/// the borrower who draws it. `configureLoan` copies them from the LoanVault (`covenantTermsOf`); no role can change
/// them afterwards, and a re-configuration copies the same values. A loan configured before the covenants were terms
/// keeps what was stored for it until it is re-configured, which copies its terms (none, for a loan approved before
/// they existed).
///
/// Rules and pushes. Rules are global (`setRules`). Each recorded day advances every rule's streak for the loan (see
/// `CouponRules.advance`); a rule that fires records a pending coupon step, and the day's uptime sets or clears the
/// SLA covenant flag. Nothing is pushed inline: `push`, or `performUpkeep` after `checkUpkeep`, sends pending steps
/// and flags to `ILoanVaultOracleHooks`, whose step ids make a replayed push harmless.
///
/// Reference rates. The upkeep also keeps the reference rate of every configured loan priced on a feed equal to the
/// feed's: `checkUpkeep` lists a loan whose rate differs from its feed (up or down) and `performUpkeep` refreshes it
/// through the LoanVault's permissionless `refreshReferenceRate`. So the rate a loan pays lags its feed by one upkeep
/// at most, whoever else refreshes it, and a borrower refreshing only on the feed's dips keeps nothing. A feed answer
/// the vault refuses (stale, non-positive, future) is not listed: a refresh would revert.
///
/// Trust assumptions. Feeds are chosen by ORACLE_ADMIN but are not trusted to behave: every read is gas-capped,
/// bounded in returned data and validated, and a bad feed is skipped. Reporters are trusted for their own reading
/// only: the median of all of them is what counts, and a reporter that signs two readings for one day has only the
/// first one submitted counted. Submitters are not trusted at all. The LoanVault is trusted (set by governance).
interface IUtilizationOracle is AutomationCompatibleInterface {
    // ---------------------------------------------------------------- types

    /// @notice What a source is.
    enum SourceKind {
        /// @dev A Chainlink `AggregatorV3Interface` feed of the utilization ratio, read by `poke`.
        Feed,
        /// @dev A REPORTER signer whose EIP-712 reports arrive through `submitReport`.
        Reporter
    }

    /// @notice Why a feed reading was skipped by `poke`.
    enum SkipReason {
        /// @dev `latestRoundData` reverted or ran out of its gas allowance.
        CallFailed,
        /// @dev It returned fewer than five words, or a round id that does not fit `uint80`.
        MalformedResponse,
        /// @dev The answer was zero or negative.
        NonPositiveAnswer,
        /// @dev The answer was above 1.0 (100% utilization).
        AboveFullScale,
        /// @dev `updatedAt` was after the current block.
        FutureTimestamp,
        /// @dev `updatedAt` was more than the loan's `maxStaleness` ago.
        Stale,
        /// @dev The round id was not newer than the last round used from this feed.
        RoundNotNewer
    }

    /// @notice A source as `configureLoan` takes it.
    struct SourceConfig {
        SourceKind kind;
        address account;
    }

    /// @notice A configured source. One storage slot.
    /// @param kind Feed or reporter.
    /// @param account The feed contract or the reporter's signing address.
    /// @param decimals A feed's `decimals()`, read once at configuration (0 for a reporter).
    /// @param lastRound The last feed round used in an observation (0: none yet).
    struct Source {
        SourceKind kind;
        address account;
        uint8 decimals;
        uint80 lastRound;
    }

    /// @notice A reporter's signed reading of one loan's fleet over a period ending on one day (EIP-712 struct
    /// `Report(uint256 loanId,uint16 utilizationBps,uint16 uptimeBps,uint32 day,uint16 periodDays,uint128 revenueUsd,
    /// uint64 deadline)`, domain "UtilizationOracle", version "1").
    /// @param loanId The loan.
    /// @param utilizationBps The period's average utilization, at most 10_000.
    /// @param uptimeBps The period's average uptime, at most 10_000.
    /// @param day The observation day (`timestamp / 1 days`): the last day of the period.
    /// @param periodDays The days the report covers, ending on `day`, in [1, `MAX_REPORT_PERIOD_DAYS`] (1: a daily
    /// report).
    /// @param revenueUsd The revenue billed over the period, in USDai units (18 decimals).
    /// @param deadline The last timestamp at which the report may be submitted.
    struct Report {
        uint256 loanId;
        uint16 utilizationBps;
        uint16 uptimeBps;
        uint32 day;
        uint16 periodDays;
        uint128 revenueUsd;
        uint64 deadline;
    }

    /// @notice A loan's revenue covenants (see "Revenue" above), as copied from its terms.
    /// @param minDscrBps The debt-service coverage floor: revenue / debt service, in basis points (12_500 is 1.25x);
    /// 0 turns it off.
    /// @param lockboxCheck Whether lockbox deposits are compared with the reported revenue.
    /// @param shortfallToleranceBps How far deposits may fall short of the reported revenue, at most `BPS`.
    struct RevenueCovenants {
        uint16 minDscrBps;
        bool lockboxCheck;
        uint16 shortfallToleranceBps;
    }

    /// @notice What a push of a loan would send to the LoanVault.
    /// @param stepId The newest coupon step id (increments once per rule firing; 0: none ever).
    /// @param deltaBps The premium change a push would send now: the steps fired since the last push applied one by one
    /// to the LoanVault's current premium, clamped to its floor and cap after each (their plain sum while no LoanVault
    /// is set).
    /// @param topUpRequired Whether any of those rules requires a collateral top-up.
    /// @param stepPending Whether a coupon step awaits a push.
    /// @param flags The covenant flags the latest observations call for (bit 0: `COVENANT_SLA_BREACH`, bit 1:
    /// `COVENANT_DATA_GAP`, bit 2: `COVENANT_DSCR_BREACH`, bit 3: `COVENANT_REVENUE_SHORTFALL`).
    /// @param flagsPending Whether `flags` differ from the flags last pushed.
    struct PendingPush {
        uint64 stepId;
        int64 deltaBps;
        bool topUpRequired;
        bool stepPending;
        uint8 flags;
        bool flagsPending;
    }

    // ---------------------------------------------------------------- events

    /// @notice `loanId` now reads `sources` and needs `quorum` of them per observation, none older than
    /// `maxStaleness` seconds. Its streaks restarted.
    event LoanConfigured(uint256 indexed loanId, SourceConfig[] sources, uint8 quorum, uint32 maxStaleness);

    /// @notice The coupon rules are now `rules`; streaks of every loan restart (lazily) under rules epoch `epoch`.
    event RulesSet(CouponRules.Rule[] rules, uint32 epoch);

    /// @notice Pushes now go to `loanVault`.
    event LoanVaultSet(address indexed loanVault);

    /// @notice `poke` skipped `source`'s reading for `loanId` because of `reason`.
    event SourceSkipped(uint256 indexed loanId, address indexed source, SkipReason reason);

    /// @notice Reports for `loanId`'s day `day` were collected: `added` new ones, `reports` in all so far. The day
    /// closes at `closesAt` unless every reporter reports first.
    event ReportsCollected(
        uint256 indexed loanId,
        uint32 indexed day,
        uint256 added,
        uint256 reports,
        uint64 closesAt
    );

    /// @notice `loanId`'s day `day` closed with `reports` reports, short of the quorum `quorum`: no observation.
    event ReportDayMissed(uint256 indexed loanId, uint32 indexed day, uint256 reports, uint256 quorum);

    /// @notice A day's reports are now collected until `windowSeconds` after the day ends.
    event ReportWindowSet(uint32 windowSeconds);

    /// @notice `loanId`'s observation for the `periodDays` days ending on `day` is `utilizationBps` and `uptimeBps`
    /// (`UPTIME_UNKNOWN` when recorded from feeds), the median of `readings` readings.
    event ObservationRecorded(
        uint256 indexed loanId,
        uint32 indexed day,
        uint16 periodDays,
        uint16 utilizationBps,
        uint16 uptimeBps,
        uint256 readings
    );

    /// @notice The revenue billed over `loanId`'s reported period of `periodDays` days ending on `day` is `revenueUsd`,
    /// the median of the period's reports (emitted beside `ObservationRecorded` for a reported period only: feeds carry
    /// no revenue).
    event RevenueRecorded(uint256 indexed loanId, uint32 indexed day, uint16 periodDays, uint256 revenueUsd);

    /// @notice Rule `ruleIndex` fired for `loanId`, recording coupon step `stepId` (`deltaBps`, `topUpRequired`).
    event RuleFired(
        uint256 indexed loanId,
        uint256 indexed ruleIndex,
        uint64 stepId,
        int16 deltaBps,
        bool topUpRequired
    );

    /// @notice The covenant flags `loanId`'s observations call for are now `flags` (bit 0: SLA breach, bit 1: data
    /// gap, bit 2: DSCR breach, bit 3: revenue shortfall).
    event CovenantFlagsChanged(uint256 indexed loanId, uint8 flags);

    /// @notice `loanId`'s revenue covenants are now a coverage floor of `minDscrBps` (0: off) and, when `lockboxCheck`,
    /// the lockbox comparison with a tolerance of `shortfallToleranceBps`, copied from its terms by `configureLoan`.
    event RevenueCovenantsSet(
        uint256 indexed loanId,
        uint16 minDscrBps,
        bool lockboxCheck,
        uint16 shortfallToleranceBps
    );

    /// @notice `loanId`'s period ending on `day` billed `revenueUsd`, less than `minDscrBps` of its debt service
    /// `debtServiceUsd`: `COVENANT_DSCR_BREACH` is set.
    event DscrBreached(
        uint256 indexed loanId,
        uint32 indexed day,
        uint256 revenueUsd,
        uint256 debtServiceUsd,
        uint16 minDscrBps
    );

    /// @notice `depositedUsd` was deposited into `loanId`'s lockbox since its previous checked period, short of the
    /// `revenueUsd` reported for the period ending on `day` by more than `shortfallToleranceBps`:
    /// `COVENANT_REVENUE_SHORTFALL` is set.
    event RevenueShortfall(
        uint256 indexed loanId,
        uint32 indexed day,
        uint256 revenueUsd,
        uint256 depositedUsd,
        uint16 shortfallToleranceBps
    );

    /// @notice `loanId` now raises `COVENANT_DATA_GAP` after more than `maxGapDays` missing days (0: never), copied from
    /// its terms by `configureLoan`.
    event MaxGapDaysSet(uint256 indexed loanId, uint16 maxGapDays);

    /// @notice `missingDays` closed days after `lastDay`, `loanId`'s last observed day, have no observation: more than
    /// its `maxGapDays`. `COVENANT_DATA_GAP` is set until the next observation.
    event DataGapFlagged(uint256 indexed loanId, uint32 lastDay, uint256 missingDays, uint16 maxGapDays);

    /// @notice Coupon step `stepId` of `loanId` was pushed to the LoanVault: `deltaBps` is the premium change sent (the
    /// steps fired since the last push, applied one by one with the clamp), with `topUpRequired`.
    event CouponStepPushed(uint256 indexed loanId, uint64 indexed stepId, int64 deltaBps, bool topUpRequired);

    /// @notice Covenant flags `flags` of `loanId` were pushed to the LoanVault.
    event CovenantFlagsPushed(uint256 indexed loanId, uint8 flags);

    /// @notice A replacement operator stepped in on `loanId`: its streaks restarted, and `droppedDeltaBps` of coupon
    /// step (with its top-up requirement, if any) fired on the old operator's readings was dropped unpushed.
    event LoanRestarted(uint256 indexed loanId, int64 droppedDeltaBps);

    // ---------------------------------------------------------------- errors

    /// @notice An address argument was the zero address.
    error UtilizationOracleZeroAddress();

    /// @notice `loanId` has no sources configured.
    error UtilizationOracleLoanNotConfigured(uint256 loanId);

    /// @notice `count` sources were given; a loan needs between 1 and `max`.
    error UtilizationOracleInvalidSourceCount(uint256 count, uint256 max);

    /// @notice A quorum of `quorum` was given for `count` sources; it must be in [1, count].
    error UtilizationOracleInvalidQuorum(uint256 quorum, uint256 count);

    /// @notice A staleness bound of zero seconds was given.
    error UtilizationOracleInvalidMaxStaleness(uint256 maxStaleness);

    /// @notice `account` appears twice among a loan's sources.
    error UtilizationOracleDuplicateSource(address account);

    /// @notice `feed` has no code or its `decimals()` reverted.
    error UtilizationOracleInvalidFeed(address feed);

    /// @notice `feed` reports `decimals` decimals; at most 18 are supported.
    error UtilizationOracleUnsupportedDecimals(address feed, uint8 decimals);

    /// @notice `count` rules were given; at most `max` are allowed.
    error UtilizationOracleTooManyRules(uint256 count, uint256 max);

    /// @notice Rule `index` has a threshold above 100%, a zero-day window or a zero premium change.
    error UtilizationOracleInvalidRule(uint256 index);

    /// @notice Rule `index` does not exist; `count` rules are set.
    error UtilizationOracleUnknownRule(uint256 index, uint256 count);

    /// @notice `reports` reports came with `signatures` signatures; they must match, be non-zero and at most
    /// `MAX_ORACLE_SOURCES`.
    error UtilizationOracleInvalidReportCount(uint256 reports, uint256 signatures);

    /// @notice Report `index` is for another loan, another day or another period than report 0.
    error UtilizationOracleReportMismatch(uint256 index);

    /// @notice Report `index` covers `periodDays` days; a report covers 1 to `max`.
    error UtilizationOracleInvalidPeriod(uint256 index, uint16 periodDays, uint256 max);

    /// @notice Reports for `loanId`'s day `day` covering `periodDays` days reach back over `lastDay`, the last day
    /// recorded: a period starts after it (`day - periodDays >= lastDay`).
    error UtilizationOraclePeriodOverlaps(uint256 loanId, uint32 day, uint16 periodDays, uint32 lastDay);

    /// @notice `loanId`'s day `day` collects reports covering `openPeriodDays` days; a report covering `periodDays`
    /// is not aggregated with them.
    error UtilizationOracleReportPeriodMismatch(
        uint256 loanId,
        uint32 day,
        uint16 periodDays,
        uint16 openPeriodDays
    );

    /// @notice Report `index` expired at `deadline`.
    error UtilizationOracleReportExpired(uint256 index, uint64 deadline);

    /// @notice Report `index` carries a utilization or an uptime above 100%.
    error UtilizationOracleReadingOutOfRange(uint256 index, uint16 utilizationBps, uint16 uptimeBps);

    /// @notice Signature `index` is malformed, or has a high `s` or an invalid `v` (malleable forms are refused).
    error UtilizationOracleInvalidSignature(uint256 index);

    /// @notice Signature `index` recovers `signer`, not above the previous signer `previous`: signers must be
    /// distinct, in strictly ascending address order.
    error UtilizationOracleSignersNotAscending(uint256 index, address signer, address previous);

    /// @notice `signer` does not hold REPORTER or is not a reporter source of `loanId`. (A report signed for another
    /// chain or another oracle recovers an unrelated address and lands here too.)
    error UtilizationOracleUnauthorizedSigner(uint256 loanId, address signer);

    /// @notice Only `good` acceptable readings for `loanId`; the quorum is `quorum`.
    error UtilizationOracleQuorumNotMet(uint256 loanId, uint256 good, uint256 quorum);

    /// @notice `day` is not after `lastDay`, the last day recorded for `loanId` (recorded once, in order).
    error UtilizationOracleDayNotAfterLast(uint256 loanId, uint32 day, uint32 lastDay);

    /// @notice `day` is after `today`.
    error UtilizationOracleFutureDay(uint256 loanId, uint32 day, uint32 today);

    /// @notice `day` ended more than the loan's `maxStaleness` seconds ago.
    error UtilizationOracleStaleReport(uint256 loanId, uint32 day, uint32 maxStaleness);

    /// @notice `loanId`'s day `day` closed at `closedAt`: its reports are no longer collected.
    error UtilizationOracleReportDayClosed(uint256 loanId, uint32 day, uint64 closedAt);

    /// @notice `loanId`'s day `openDay` collects reports until `closesAt`; a later day cannot be recorded before.
    error UtilizationOracleReportDayOpen(uint256 loanId, uint32 openDay, uint64 closesAt);

    /// @notice `loanId` has no day collecting reports.
    error UtilizationOracleNoOpenReportDay(uint256 loanId);

    /// @notice A report window of `windowSeconds` was given; it must be in [1, `max`].
    error UtilizationOracleInvalidReportWindow(uint256 windowSeconds, uint256 max);

    /// @notice `poke` had `gasLeft` before a feed read that needs `required` to forward the full feed gas limit.
    error UtilizationOracleInsufficientGas(uint256 gasLeft, uint256 required);

    /// @notice No LoanVault is set.
    error UtilizationOracleNoLoanVault();

    /// @notice `caller` is not the LoanVault.
    error UtilizationOracleNotLoanVault(address caller);

    /// @notice `loanId` has no pending coupon step and its covenant flags match the last pushed.
    error UtilizationOracleNothingToPush(uint256 loanId);

    /// @notice The LoanVault reports `loanId` as not performing; its pending push is kept.
    error UtilizationOracleLoanNotPerforming(uint256 loanId);

    /// @notice `loanId` has no observation yet.
    error UtilizationOracleNoObservation(uint256 loanId);

    /// @notice Nothing to flag for `loanId`: `missingDays` closed days without an observation are not more than its
    /// `maxGapDays` (0: off), or `COVENANT_DATA_GAP` is already set.
    error UtilizationOracleNoDataGap(uint256 loanId, uint256 missingDays, uint16 maxGapDays);

    // ---------------------------------------------------------------- admin

    /// @notice Sets `loanId`'s sources, quorum and staleness bound (ORACLE_ADMIN), and copies its covenants from its
    /// terms in the LoanVault (see "Covenants are terms" above): emits `RevenueCovenantsSet` and `MaxGapDaysSet`.
    /// @dev A feed's `decimals()` is read and stored here. Reconfiguring keeps the recorded observation (days still
    /// only move forward) and any pending push, keeps the last used round of a feed that stays, and restarts the
    /// loan's streaks. A quorum of 1 is accepted but defeats the point of several sources: use a majority.
    /// Configure a loan once it is approved (before, its terms read zero: no covenants until it is re-configured).
    /// The lockbox comparison starts from the LoanVault's cumulative deposits at the first configuration that turns it
    /// on (deposits before it do not count); a re-configuration keeps that baseline. A covenant off clears its flag.
    /// Without a LoanVault the covenants are left as they are.
    /// @param loanId The LoanVault loan id.
    /// @param sources 1 to `MAX_ORACLE_SOURCES` distinct non-zero feeds and reporters.
    /// @param quorum Readings an observation needs, in [1, sources.length]. The same quorum applies to a `poke`
    /// (good feed readings) and to a `submitReport` (signed reports).
    /// @param maxStaleness Seconds after which a feed answer, or a report's day (from its end), is too old.
    function configureLoan(
        uint256 loanId,
        SourceConfig[] calldata sources,
        uint8 quorum,
        uint32 maxStaleness
    ) external;

    /// @notice Replaces the global coupon rules (ORACLE_ADMIN), at most `MAX_COUPON_RULES`.
    /// @dev Bumps the rules epoch: every loan's streaks restart at its next observation (lazily, no loop over loans).
    /// Defaults (DESIGN.md): utilization >= 90% for 90 days: -200 bps; < 60% for 30 days: +300 bps and a top-up.
    function setRules(CouponRules.Rule[] calldata rules) external;

    /// @notice Sets how long after a day ends its signed reports are collected (ORACLE_ADMIN), in [1,
    /// `MAX_REPORT_WINDOW_SECONDS`]. Applies to every day not yet closed, including an open one.
    function setReportWindow(uint32 windowSeconds) external;

    /// @notice Points pushes at `loanVault` (DEFAULT_ADMIN). Intended for the one-time wiring once the LoanVault is
    /// deployed: the LoanVault is a UUPS proxy whose address never changes. Step ids continue across a change.
    function setLoanVault(address loanVault) external;

    // ---------------------------------------------------------------- readings

    /// @notice Records today's observation for `loanId` from its feed sources (KEEPER).
    /// @dev Reads every feed source with a gas cap of `ORACLE_FEED_GAS_LIMIT` and at most five words of return data,
    /// so a reverting, gas-burning or return-data-bombing feed costs a bounded amount and is skipped. A reading is
    /// skipped (event `SourceSkipped`) on any `SkipReason`; the answer, normalised to basis points rounding down,
    /// is otherwise good and the feed's round is remembered. The median of the good readings becomes today's
    /// observation if at least `quorum` remain. Feeds carry utilization only: the observation's uptime is
    /// `UPTIME_UNKNOWN` and covenant flags are left as they are.
    /// KEEPER-only because the moment of a snapshot within a day is a choice, and a borrower free to choose it could
    /// pick the most favourable one. Reverts while paused, or with `UtilizationOracleInsufficientGas` when the
    /// transaction's gas could not give a feed its full allowance (so a caller cannot starve chosen feeds). A report
    /// day still open is closed first, or the poke reverts with `UtilizationOracleReportDayOpen` until it can be.
    function poke(uint256 loanId) external;

    /// @notice Adds reporters' EIP-712 signed reports to one day's collection for a loan, and records the day when
    /// it closes (anyone may submit, any subset, in any number of submissions).
    /// @dev DESIGN.md writes `submitReport(report, signatures)`; here each reporter signs its own report and
    /// `signatures[i]` signs `reports[i]`, which is what makes a per-reporter median possible. All reports must be
    /// for the same loan, day and period (see "Periods" above): a day after the last recorded one, not in the future,
    /// not ended more than `maxStaleness` ago and not closed (see "Report days" above), a period of 1 to
    /// `MAX_REPORT_PERIOD_DAYS` days that starts after the last recorded day and matches the period of the reports
    /// already collected for the day, unexpired and in range. Signers must be distinct
    /// REPORTER holders that are reporter sources of the loan, in strictly ascending address order. A report from a
    /// reporter already collected for the day is ignored. An open earlier day that has closed is recorded (or
    /// missed) first; one still open makes a later day revert with `UtilizationOracleReportDayOpen`.
    /// When every reporter source has reported, the day is recorded in this call: the median utilization and the
    /// median uptime of all its reports (reverting with `UtilizationOracleQuorumNotMet` when the loan's reporters
    /// cannot reach its quorum). An uptime below the LoanVault's SLA for the loan sets the SLA covenant flag and a
    /// recovered uptime clears it. Replays are refused: a day is recorded once, the deadline bounds a report's life,
    /// and the EIP-712 domain binds the chain and this contract.
    function submitReport(Report[] calldata reports, bytes[] calldata signatures) external;

    /// @notice Records `loanId`'s open report day once it has closed (anyone): the median of its reports when they
    /// reach the quorum, else the day is missed (`ReportDayMissed`). `submitReport`, `poke` and `performUpkeep` do
    /// the same on their way; this is for a loan with nothing else to submit.
    function closeReportDay(uint256 loanId) external;

    /// @notice Sets `COVENANT_DATA_GAP` on `loanId` when more than its `maxGapDays` closed days after its last
    /// observed day have no observation (anyone; `performUpkeep` does the same). A closed report day is recorded (or
    /// missed) first. Reverts with `UtilizationOracleNoDataGap` when there is nothing to flag.
    function flagDataGap(uint256 loanId) external;

    // ---------------------------------------------------------------- pushes

    /// @notice Pushes `loanId`'s pending coupon step and covenant flags to the LoanVault (anyone).
    /// @dev Clears the pending state, then calls `applyCouponStep` and/or `setCovenantBreach`. Reverts with
    /// `UtilizationOracleNothingToPush` when nothing is pending and `UtilizationOracleLoanNotPerforming` when the
    /// LoanVault says the loan is not performing: its push then stays pending until the loan performs again, unless
    /// a replacement operator steps in (`onStepIn` drops it).
    function push(uint256 loanId) external;

    /// @notice The LoanVault novated `loanId` to a replacement operator: the loan's streaks restart, and the coupon
    /// step and covenant flags the old operator's readings called for are dropped unpushed, so the new operator starts
    /// from its own readings (the latest observation's day stays: days still only move forward, so a data gap still
    /// open is flagged again by the next `flagDataGap` or upkeep). LoanVault only; not paused, so a paused oracle cannot
    /// block a step-in.
    function onStepIn(uint256 loanId) external;

    // ---------------------------------------------------------------- views

    /// @notice `loanId`'s day collecting reports: `day` (0: none), the `reports` collected and when it closes unless
    /// every reporter reports first.
    function openReportDay(
        uint256 loanId
    ) external view returns (uint32 day, uint256 reports, uint64 closesAt);

    /// @notice `loanId`'s revenue covenants (copied from its terms, see `configureLoan`) and the LoanVault's cumulative
    /// lockbox deposits at its last lockbox check (`depositsAtCheckUsd`), from which the next period's deposits are
    /// counted.
    function revenueCovenants(
        uint256 loanId
    ) external view returns (RevenueCovenants memory covenants, uint256 depositsAtCheckUsd);

    /// @notice How long after a day ends its reports are collected, in seconds.
    function reportWindow() external view returns (uint32);

    /// @notice `loanId`'s missing days: closed days (their report window ended) after its last observed day without
    /// an observation (0 before the first observation), and the most it may go before `COVENANT_DATA_GAP` (0: off).
    function dataGap(uint256 loanId) external view returns (uint256 missingDays, uint16 maxGapDays);

    /// @notice `loanId`'s latest observation; all zero before the first.
    /// @return utilizationBps The day's median utilization.
    /// @return uptimeBps The day's median uptime, `UPTIME_UNKNOWN` when recorded from feeds.
    /// @return day The observation day.
    /// @return updatedAt When it was recorded.
    function latestUtilization(
        uint256 loanId
    ) external view returns (uint16 utilizationBps, uint16 uptimeBps, uint32 day, uint64 updatedAt);

    /// @notice `loanId`'s latest utilization in the shape of Chainlink's `AggregatorV3Interface.latestRoundData`, so
    /// that existing consumers can read it: `roundId` and `answeredInRound` are the observation day, `answer` the
    /// utilization in basis points (`decimals()` = 4), `startedAt` and `updatedAt` the time it was recorded.
    /// @dev Reverts with `UtilizationOracleNoObservation` before the first observation rather than answer 0%.
    function latestRoundData(
        uint256 loanId
    )
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Decimals of `latestRoundData`'s answer: 4 (basis points).
    function decimals() external pure returns (uint8);

    /// @notice `loanId`'s streak under rule `ruleIndex`: consecutive matching days (`streakDays`) and the last day
    /// evaluated.
    /// Streaks of an older rules epoch read as zero.
    function streakOf(
        uint256 loanId,
        uint256 ruleIndex
    ) external view returns (uint16 streakDays, uint32 lastDay);

    /// @notice What a push of `loanId` would send now.
    function pendingPush(uint256 loanId) external view returns (PendingPush memory);

    /// @notice The coupon rules.
    function rules() external view returns (CouponRules.Rule[] memory);

    /// @notice The rules epoch, bumped by every `setRules`.
    function rulesEpoch() external view returns (uint32);

    /// @notice `loanId`'s sources.
    function sourcesOf(uint256 loanId) external view returns (Source[] memory);

    /// @notice `loanId`'s configuration beyond its sources.
    function loanConfig(
        uint256 loanId
    ) external view returns (bool configured, uint8 quorum, uint32 maxStaleness);

    /// @notice How many loans have ever been configured (the range `checkUpkeep` pages over).
    function configuredLoanCount() external view returns (uint256);

    /// @notice The `index`-th loan configured.
    function configuredLoanAt(uint256 index) external view returns (uint256);

    /// @notice The LoanVault pushes go to (zero: none yet).
    function loanVault() external view returns (address);

    /// @notice The EIP-712 digest a reporter signs for `report`.
    function hashReport(Report calldata report) external view returns (bytes32);
}

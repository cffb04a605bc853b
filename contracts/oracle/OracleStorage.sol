// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {
    DEFAULT_REPORT_WINDOW_SECONDS,
    IUtilizationOracle,
    MAX_ORACLE_SOURCES
} from "../interfaces/IUtilizationOracle.sol";
import {ILoanVaultOracleHooks} from "../interfaces/ILoanVault.sol";
import {CouponRules, MAX_COUPON_RULES, Streak} from "../libraries/CouponRules.sol";

// keccak256(abi.encode(uint256(keccak256("gpucredit.storage.UtilizationOracle")) - 1)) & ~bytes32(uint256(0xff))
bytes32 constant UTILIZATION_ORACLE_STORAGE_LOCATION =
    0xdfe031361e45cbeb552ca9859c0f911fa67698b25323bae9c70739718affc900;

/// @title OracleStorage
/// @notice The UtilizationOracle's ERC-7201 namespaced storage: the structs, the slot and the accessor, in one place.
/// The oracle inherits this contract so that the upgrade-safety checks see the namespace; its linked libraries
/// (`OracleRecording`, `OracleFeeds`) reach the same storage through `oracleStorage()`.
/// @dev Storage is O(1) per observation: per loan, one slot of configuration and latest observation, one slot of
/// streaks, one slot of push state, and the (bounded) source list. The list of configured loans grows with loans,
/// never with time. History lives in events.
abstract contract OracleStorage {
    /// @dev Per-loan oracle state: the sources, the latest observation, the streaks and what is pending for the vault.
    struct LoanFeed {
        // slot 0: configuration and latest observation, read and written by every recording
        bool configured;
        uint8 quorum;
        uint32 maxStaleness;
        uint32 lastDay;
        uint16 utilizationBps;
        uint16 uptimeBps;
        uint64 updatedAt;
        uint32 rulesEpoch; // the rules epoch `streaks` belong to
        uint8 flags; // covenant flags the observations call for
        uint16 maxGapDays; // missing days before COVENANT_DATA_GAP (0: off), copied from the loan's terms
        // slot 1: one streak per rule
        Streak[MAX_COUPON_RULES] streaks;
        // slot 2: push state, written when a rule fires and when pushed
        uint64 lastStepId;
        uint64 pushedStepId;
        int64 pendingDeltaBps;
        bool pendingTopUp;
        uint8 pushedFlags;
        // slot 3
        IUtilizationOracle.Source[] sources;
        // slot 4: the day collecting signed reports, and the clamp of the pending coupon step
        uint32 openDay; // 0: none
        uint8 openMask; // bit i: `sources[i]` has reported for `openDay`
        // The pending steps, applied one by one with the vault's clamp, map a premium p to
        // min(stepHighBps, max(stepLowBps, p + pendingDeltaBps)); meaningful while a step is pending.
        int32 stepLowBps;
        int32 stepHighBps;
        // The period of `openDay`'s reports, in days (0, in a day opened before reports had periods, reads as 1).
        uint16 openPeriodDays;
        // slot 5: `openDay`'s readings, 32 bits per source index i at bit 32 * i: utilization << 16 | uptime. Only the
        // entries in `openMask` are meaningful; the slot is not cleared when the day closes (cheaper rewrites).
        uint256 openReadings;
        // slot 6: the revenue covenants, copied from the loan's terms (see `IUtilizationOracle.configureLoan`)
        uint16 minDscrBps; // 0: off
        bool lockboxCheck;
        uint16 shortfallToleranceBps;
        uint128 depositsAtCheck; // the LoanVault's cumulative lockbox deposits at the last lockbox check
        // slots 7-10: `openDay`'s revenues by source index; only the entries in `openMask` are meaningful (not cleared)
        uint128[MAX_ORACLE_SOURCES] openRevenues;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.UtilizationOracle
    struct UtilizationOracleStorage {
        // slot 0: read together by every recording
        ILoanVaultOracleHooks loanVault;
        uint32 rulesEpoch;
        uint32 reportWindowSeconds; // 0: DEFAULT_REPORT_WINDOW_SECONDS
        // slot 1
        CouponRules.Rule[] rules;
        // slot 2: grows with loans, not with time
        uint256[] loanIds;
        // slot 3
        mapping(uint256 loanId => LoanFeed) loans;
    }
}

/// @dev The oracle's storage.
function oracleStorage() pure returns (OracleStorage.UtilizationOracleStorage storage $) {
    assembly {
        $.slot := UTILIZATION_ORACLE_STORAGE_LOCATION
    }
}

/// @dev How long after a day ends its reports are collected, in seconds.
function reportWindowOf(OracleStorage.UtilizationOracleStorage storage $) view returns (uint32) {
    uint32 window = $.reportWindowSeconds;
    return window == 0 ? DEFAULT_REPORT_WINDOW_SECONDS : window;
}

/// @dev When `day`'s report window ends: `reportWindow()` seconds after the day ends.
function dayClosesAt(OracleStorage.UtilizationOracleStorage storage $, uint32 day) view returns (uint64) {
    return uint64((uint256(day) + 1) * 1 days + reportWindowOf($));
}

/// @dev The loan's missing days: days after its last observed day whose report window has closed (0 before the
/// first observation). Day d has closed once `(d + 1) days + window <= now`.
function missingDaysOf(
    OracleStorage.UtilizationOracleStorage storage $,
    OracleStorage.LoanFeed storage loan
) view returns (uint256) {
    uint256 lastDay = loan.lastDay;
    uint256 window = reportWindowOf($);
    if (lastDay == 0) return 0;
    // The window is at most a day (`MAX_REPORT_WINDOW_SECONDS`) and any chain's clock is decades past two days after
    // the epoch, so this cannot underflow.
    uint256 lastClosed = (block.timestamp - window) / 1 days - 1;
    return lastClosed > lastDay ? lastClosed - lastDay : 0;
}

/// @dev The number of set bits of a source mask (at most `MAX_ORACLE_SOURCES` bits).
function popcount(uint256 mask) pure returns (uint256 count) {
    for (; mask != 0; mask &= mask - 1) ++count;
}

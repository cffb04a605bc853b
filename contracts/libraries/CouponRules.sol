// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BPS} from "./Constants.sol";

/// @dev The most coupon rules the oracle evaluates; bounds the per-loan streak counters to one storage slot.
uint256 constant MAX_COUPON_RULES = 4;

/// @dev A rule's streak for one loan, packed in 48 bits: `length` (uint16, consecutive matching days) in the high
/// bits and `lastDay` (uint32, the last observation day the streak was evaluated on) in the low bits. Zero is an
/// empty streak. `MAX_COUPON_RULES` of them fit one slot.
type Streak is uint48;

using CouponRules for Streak global;

/// @title CouponRules
/// @notice Coupon rules over daily utilization observations: "utilization <comparator> threshold on each of
/// `windowDays` consecutive days moves the premium by `premiumDeltaBps`".
/// @dev Pure streak arithmetic; the oracle owns storage and decides when a day counts.
library CouponRules {
    /// @notice How a day's utilization is compared with a rule's threshold.
    enum Comparator {
        /// @dev utilization >= threshold
        GTE,
        /// @dev utilization < threshold
        LT
    }

    /// @notice One coupon rule. Packs into 8 bytes.
    /// @param comparator How the day's utilization is compared with `thresholdBps`.
    /// @param thresholdBps Threshold in basis points of capacity, at most 100%.
    /// @param windowDays Consecutive matching days that fire the rule, at least 1.
    /// @param premiumDeltaBps Signed premium change when the rule fires (negative: step-down), never zero.
    /// @param topUpRequired Whether firing also requires a collateral top-up within the cure period.
    struct Rule {
        Comparator comparator;
        uint16 thresholdBps;
        uint16 windowDays;
        int16 premiumDeltaBps;
        bool topUpRequired;
    }

    /// @dev Whether every field of `rule` is in range: a threshold of at most 100%, a window of at least one day and
    /// a non-zero premium change. (The ABI decoder already refuses an out-of-range comparator.)
    function isValid(Rule memory rule) internal pure returns (bool) {
        return rule.thresholdBps <= BPS && rule.windowDays != 0 && rule.premiumDeltaBps != 0;
    }

    /// @dev Whether a day with `utilizationBps` counts towards `rule`'s streak.
    function matches(Rule memory rule, uint256 utilizationBps) internal pure returns (bool) {
        return
            rule.comparator == Comparator.GTE
                ? utilizationBps >= rule.thresholdBps
                : utilizationBps < rule.thresholdBps;
    }

    /// @dev Evaluates an observation covering the `periodDays` days ending on `day` (utilization `utilizationBps`)
    /// against `rule` and its current `streak`, exactly as `periodDays` consecutive daily observations at
    /// `utilizationBps` would be (a daily observation has `periodDays` = 1). A non-matching observation resets the
    /// streak. A matching one extends it by `periodDays`. Missing days (no observation between the streak's `lastDay`
    /// and the period's first day, `day - periodDays + 1`) never help the borrower: they break a step-down streak (a
    /// rule that lowers the premium starts again from this observation's days) but do not erase a step-up streak (it
    /// goes on from where it was; the missing days do not count towards it). Each time the streak reaches
    /// `windowDays` the rule fires and the streak restarts at zero, so a rule fires once per full window: a period
    /// longer than the window may fire it several times (every `windowDays` days of it, from `firstFiring` on), and
    /// the days past the last firing carry over.
    /// @return next The streak after the observation, its `lastDay` set to `day`.
    /// @return firstFiring The day of the period (1 to `periodDays`) on which the rule first fires, 0 when it does not;
    /// it fires again every `windowDays` days after it within the period.
    function advance(
        Rule memory rule,
        Streak streak,
        uint32 day,
        uint256 periodDays,
        uint256 utilizationBps
    ) internal pure returns (Streak next, uint256 firstFiring) {
        if (!matches(rule, utilizationBps)) return (toStreak(0, day), 0);
        uint256 current = streak.length();
        bool unbroken = uint256(streak.lastDay()) + periodDays == day || rule.premiumDeltaBps > 0;
        // `current < windowDays`: a streak restarts when it reaches its window.
        uint256 base = current != 0 && unbroken ? current : 0;
        uint256 total = base + periodDays;
        uint256 window = rule.windowDays;
        if (total >= window) firstFiring = window - base;
        // `total % window < windowDays <= type(uint16).max`: the cast is safe.
        return (toStreak(uint16(total % window), day), firstFiring);
    }

    /// @dev Packs a streak.
    function toStreak(uint16 length_, uint32 lastDay_) internal pure returns (Streak) {
        return Streak.wrap((uint48(length_) << 32) | uint48(lastDay_));
    }

    /// @dev Consecutive matching days so far.
    function length(Streak streak) internal pure returns (uint16) {
        return uint16(Streak.unwrap(streak) >> 32);
    }

    /// @dev The last observation day the streak was evaluated on (0: never).
    function lastDay(Streak streak) internal pure returns (uint32) {
        return uint32(Streak.unwrap(streak));
    }
}

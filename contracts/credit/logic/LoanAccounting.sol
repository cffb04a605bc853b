// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {BPS} from "../../libraries/Constants.sol";
import {BREACH_NON_ACCRUAL} from "./LoanConstants.sol";
import {LoanStorage} from "./LoanStorage.sol";

/// @title LoanAccounting
/// @notice The books of the credit engine and their one writer. The books are the NAV aggregates over performing loans
/// (total principal, the aggregate rate `sum(principal x coupon)` and the exact interest numerator), the impaired
/// total of defaulted loans (and its markdown, which only the entry price reads), and the borrower and site exposures
/// the concentration caps read. An operation states what it does to them as one set of deltas and `applyChange`
/// applies it (`applyMarkdown` the markdown): nothing else writes those fields (the lint step `npm run lint:books`
/// fails the build if anything does).
/// @dev Internal functions only: they are compiled into each caller and run on the LoanVault's storage. A loan's own
/// fields (its principal, interest, coupon) are written by the operation that changes them; this library writes the
/// loan's accrual and coupon, and keeps the books equal to the sum over loans.
library LoanAccounting {
    using FixedPointMath for uint256;

    // ================================================================ the one writer

    /// @notice Applies one operation's change to the books; the only code that writes them. Each delta is signed and
    /// zero leaves its part untouched:
    /// - `principalDelta`: the performing principal (`Aggregates.totalPrincipal`);
    /// - `rateDelta`: the aggregate rate, in `USD x bps` (`principal x couponBps` of the loans moved);
    /// - `interestDelta`: the interest numerator, in `USD x bps x seconds`;
    /// - `impairedDelta`: the impaired total of defaulted loans;
    /// - `exposureDelta`: the outstanding principal (performing or defaulted) of `borrower` and of `site` (a zero
    ///   `site` leaves the sites' exposure alone: a novation moves the borrowers' exposure, not the site's).
    /// `accrued` says the operation accrued a loan: the performing book is then rolled forward to now even if no delta
    /// touches it. The performing book is rolled forward (at the aggregate rate before the change) whenever the change
    /// touches it, so the aggregates always equal the sum over loans; each slot is written at most once; checked
    /// arithmetic refuses a book that would go negative.
    /// @dev The change travels as arguments, not as a memory struct in the manner of Liquity v2's `TroveChange`: on this
    /// compiler (IR pipeline, 200 runs) building a memory struct and reading it back cost 640 to 1,300 gas per
    /// operation, more than the coupon step's and the auction sale's gas ceilings leave.
    function applyChange(
        LoanStorage.LoanVaultStorage storage $,
        bool accrued,
        int256 principalDelta,
        int256 rateDelta,
        int256 interestDelta,
        int256 impairedDelta,
        int256 exposureDelta,
        address borrower,
        bytes32 site
    ) internal {
        if (accrued || (principalDelta | rateDelta | interestDelta) != 0) {
            LoanStorage.Aggregates storage agg = $.aggregates;
            uint256 rateSum = agg.rateSum;
            // The numerator is within int216: 2^128 of principal x 10^4 bps x 2^40 seconds is 2^182.
            agg.interestNumerator = uint216(
                int216(
                    int256(int216(agg.interestNumerator)) +
                        int256(rateSum * (block.timestamp - agg.checkpointAt)) +
                        interestDelta
                )
            );
            agg.checkpointAt = uint40(block.timestamp);
            if ((principalDelta | rateDelta) != 0) {
                // Both computed (and range-checked) before either is written, so the two share one slot write.
                uint128 totalPrincipal = toUint128(_add(agg.totalPrincipal, principalDelta));
                uint128 newRateSum = toUint128(_add(rateSum, rateDelta));
                agg.totalPrincipal = totalPrincipal;
                agg.rateSum = newRateSum;
            }
        }
        if (impairedDelta != 0) $.impaired = toUint96(_add($.impaired, impairedDelta));
        // Exposures move by `-=` / `+=` (one mapping-slot hash each; `-=` reverts rather than go negative), the decrease
        // first: repayment and settlement, the hot paths, take it.
        if (exposureDelta < 0) {
            uint256 removed = uint256(-exposureDelta);
            $.borrowerPrincipal[borrower] -= removed;
            if (site != bytes32(0)) $.sitePrincipal[site] -= removed;
        } else if (exposureDelta > 0) {
            uint256 added = uint256(exposureDelta);
            $.borrowerPrincipal[borrower] += added;
            if (site != bytes32(0)) $.sitePrincipal[site] += added;
        }
    }

    /// @notice Moves the markdown of the impaired loans by `delta` (see `LoanStorage.markdown`): `+(claim - impaired
    /// value)` when a loan is impaired or marked further down, `-(claim - impaired value)` when it leaves the impaired
    /// total (a step-in, a sale, a write-off). The second writer of the books beside `applyChange`: the markdown is
    /// not part of NAV (`loanAssets`), only of the entry price (`entryLoanAssets`), so the operations that move it
    /// state it apart. A decrease saturates at zero: a vault upgraded in place while loans were impaired holds no
    /// markdown for them (the field starts at zero), and their step-in or sale must not revert for it. Everywhere
    /// else the markdown equals the sum over loans exactly (the protocol-wide invariant suite checks it).
    /// Beside it moves the principal at risk (`LoanStorage.principalAtRisk`) by `atRiskDelta`: the part of the markdown
    /// that is principal NAV no longer carries (a writedown; an impaired loan's principal above its impaired value),
    /// which first-loss capital stands in front of. It saturates at zero the same way.
    function applyMarkdown(
        LoanStorage.LoanVaultStorage storage $,
        int256 delta,
        int256 atRiskDelta
    ) internal {
        if (delta > 0) $.markdown = toUint96(uint256($.markdown) + uint256(delta));
        else if (delta < 0) $.markdown = uint96(uint256($.markdown).zeroFloorSub(uint256(-delta)));
        if (atRiskDelta > 0) $.principalAtRisk = toUint128(uint256($.principalAtRisk) + uint256(atRiskDelta));
        else if (atRiskDelta < 0)
            $.principalAtRisk = uint128(uint256($.principalAtRisk).zeroFloorSub(uint256(-atRiskDelta)));
    }

    /// @notice Records the junior tranche's USDai (`LoanStorage.juniorAssets`): as it reports it, or as this vault
    /// drew from it.
    function setJuniorAssets(LoanStorage.LoanVaultStorage storage $, uint256 assets) internal {
        $.juniorAssets = toUint128(assets);
    }

    /// @notice The principal an impaired loan's impaired value does not carry: `max(0, principal - impairedValue)`.
    function atRiskOf(ILoanVault.LoanState storage s) internal view returns (uint256) {
        return uint256(s.principal).zeroFloorSub(s.impairedValue);
    }

    /// @notice The loan book the junior's coverage ratio is taken on: performing principal plus the impaired total.
    function loanBook(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return uint256($.aggregates.totalPrincipal) + $.impaired;
    }

    /// @notice What first-loss capital protects now: the principal at risk, up to the junior's USDai.
    function protection(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return uint256($.principalAtRisk).min($.juniorAssets);
    }

    /// @notice What a loan would recover if it were sold today: `collateral` (its receipts' value) after the recovery
    /// haircut, plus the lockbox and debt-service reserve it holds. Rounded down.
    function recoveryOf(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 collateral
    ) internal view returns (uint256) {
        return collateral.mulDivDown(BPS - $.risk.recoveryHaircutBps, BPS) + s.lockbox + s.reserve;
    }

    /// @notice Sets an Active loan's writedown (`LoanState.impairedValue` while Active) to `writedown`, at most its
    /// principal: NAV carries the loan at its principal less the writedown (booked in the interest numerator, as the
    /// reversed interest of a loan in non-accrual is), and the entry price adds it back (the markdown), so a deposit
    /// pays for the loan at its principal and gains nothing if the loan cures. Only a loan in non-accrual has one.
    function setWritedown(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        uint256 writedown
    ) internal {
        int256 move = int256(writedown) - int256(uint256(s.impairedValue));
        if (move == 0) return;
        applyChange($, false, 0, 0, -move * int256(INTEREST_DENOMINATOR), 0, 0, address(0), bytes32(0));
        applyMarkdown($, move, move);
        s.impairedValue = uint96(writedown);
        emit ILoanVault.WrittenDown(loanId, writedown);
    }

    /// @notice What an impaired loan could still bring back above its impaired value: its claim (principal, interest
    /// and late fees, frozen at the default) less the impaired value.
    function markdownOf(ILoanVault.LoanState storage s) internal view returns (uint256) {
        return uint256(s.principal) + s.interest + s.lateFees - s.impairedValue;
    }

    // ================================================================ a loan's accrual and coupon

    /// @notice Books the loan's interest since `accruedAt`, rounded up. Returns what the aggregate numerator moves by
    /// (from the exact figure to the booked one: the rounding, in the protocol's favour, less than 1 wei per loan),
    /// for the caller's `interestDelta` (with `accrued` set).
    function accrueInterest(ILoanVault.LoanState storage s) internal returns (int256 rounding) {
        uint256 last = s.accruedAt;
        // Interest paid ahead covers the time up to `accruedAt`.
        if (last >= block.timestamp) return 0;
        uint256 exact = LoanSchedule.interestNumerator(s.principal, s.couponBps, block.timestamp - last);
        uint256 booked = exact.divUp(INTEREST_DENOMINATOR);
        s.interest = toUint96(uint256(s.interest) + booked);
        s.accruedAt = uint32(block.timestamp);
        return int256(booked * INTEREST_DENOMINATOR - exact);
    }

    /// @notice Sets an accrued loan's coupon to `newCouponBps` (see `couponBps`). Returns the aggregate rate's move, for
    /// the caller's `rateDelta`. The only place a loan's coupon is written.
    function setCoupon(
        ILoanVault.LoanState storage s,
        uint256 newCouponBps
    ) internal returns (int256 rateMove) {
        uint256 principal = s.principal;
        rateMove = int256(principal * newCouponBps) - int256(principal * s.couponBps);
        s.couponBps = uint16(newCouponBps);
    }

    /// @notice The interest numerator a loan paid ahead has not earned yet: `principal x couponBps x (accruedAt - now)`,
    /// 0 unless `accruedAt` is later than now. A change to a loan's principal, coupon or `accruedAt` moves the aggregate
    /// numerator by `unearned before - unearned after` (besides the interest booked or paid), so the aggregate stays
    /// equal to the sum over loans of `interest x DENOMINATOR - unearned`.
    function unearned(
        uint256 principal,
        uint256 couponBps_,
        uint256 accruedAt
    ) internal view returns (int256) {
        return
            accruedAt > block.timestamp
                ? int256(principal * couponBps_ * (accruedAt - block.timestamp))
                : int256(0);
    }

    /// @notice Whether the loan's interest is in the books (it is not while the loan is in non-accrual).
    function isAccruing(ILoanVault.LoanState storage s) internal view returns (bool) {
        return s.breachFlags & BREACH_NON_ACCRUAL == 0;
    }

    /// @notice A loan's annual coupon: reference rate plus premium, in bps.
    function couponBps(uint256 referenceRateBps, uint256 premiumBps) internal pure returns (uint256) {
        return referenceRateBps + premiumBps;
    }

    /// @notice Interest accrued up to now (booked plus pending, rounded up).
    function interestNow(ILoanVault.LoanState storage s) internal view returns (uint256) {
        uint256 last = s.accruedAt;
        if (last >= block.timestamp) return s.interest;
        return
            s.interest +
            LoanSchedule.interestNumerator(s.principal, s.couponBps, block.timestamp - last).divUp(
                INTEREST_DENOMINATOR
            );
    }

    /// @notice Principal plus accrued interest of performing loans (less interest paid ahead and not yet earned), plus
    /// the impaired total, plus the junior tranche's protection of the principal at risk (`protection`), at the
    /// current block, rounded down: sUSDai's share of the book.
    function loanAssets(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return bookValue($) + protection($);
    }

    /// @notice The book at what it carries the loans: `loanAssets` without the junior's protection.
    function bookValue(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        LoanStorage.Aggregates memory agg = $.aggregates;
        int256 numerator =
            int256(int216(agg.interestNumerator)) +
                int256(uint256(agg.rateSum) * (block.timestamp - agg.checkpointAt));
        uint256 books = uint256(agg.totalPrincipal) + $.impaired;
        if (numerator >= 0) return books + uint256(numerator) / INTEREST_DENOMINATOR;
        // Interest paid ahead and not yet earned is a liability of the book, rounded up.
        return books.zeroFloorSub(uint256(-numerator).divUp(INTEREST_DENOMINATOR));
    }

    /// @notice `loanAssets` with every impaired loan at its claim instead of its impaired value: the entry price's
    /// book (see `ILoanVaultAssets.entryLoanAssets`).
    /// The markdown is at least the principal at risk, so this is never below `loanAssets`.
    function entryLoanAssets(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return bookValue($) + $.markdown;
    }

    // ================================================================ checked narrowing

    function toUint128(uint256 value) internal pure returns (uint128) {
        if (value > type(uint128).max) revert ILoanVault.LoanVaultAmountOverflow(value);
        return uint128(value);
    }

    function toUint96(uint256 value) internal pure returns (uint96) {
        if (value > type(uint96).max) revert ILoanVault.LoanVaultAmountOverflow(value);
        return uint96(value);
    }

    /// @dev `x + delta`; checked arithmetic reverts if the result would be negative.
    function _add(uint256 x, int256 delta) private pure returns (uint256) {
        return delta < 0 ? x - uint256(-delta) : x + uint256(delta);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BPS, SECONDS_PER_YEAR} from "./Constants.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @dev Denominator of the interest numerator: `interest = principal x couponBps x seconds / INTEREST_DENOMINATOR`.
uint256 constant INTEREST_DENOMINATOR = BPS * SECONDS_PER_YEAR;

/// @title LoanSchedule
/// @notice Pure math of a term loan's payment schedule and simple interest. Closed form: no loop over time.
/// @dev Payment `k` (1-based) falls due at `start + k x interval`. By payment `k` the schedule requires
/// `cumulativePrincipalDue(k)` of the schedule principal to be repaid: `amortizationBps` of it per payment, rounded
/// up (in the protocol's favour), with the whole remainder (the balloon) due at the last payment.
library LoanSchedule {
    using FixedPointMath for uint256;

    /// @notice Principal the schedule requires repaid by payment `k`.
    function cumulativePrincipalDue(
        uint256 schedulePrincipal,
        uint256 amortizationBps,
        uint256 k,
        uint256 numPayments
    ) internal pure returns (uint256) {
        if (k >= numPayments) return schedulePrincipal;
        return schedulePrincipal.mulDivUp(amortizationBps * k, BPS).min(schedulePrincipal);
    }

    /// @notice Number of payments that have fallen due by `timestamp` (due date `<= timestamp`), at most
    /// `numPayments`.
    function paymentsDueBy(
        uint256 start,
        uint256 interval,
        uint256 numPayments,
        uint256 timestamp
    ) internal pure returns (uint256) {
        if (timestamp < start) return 0;
        return ((timestamp - start) / interval).min(numPayments);
    }

    /// @notice Interest numerator (`USD x bps x seconds`) of `principal` at `couponBps` over `elapsed` seconds.
    function interestNumerator(
        uint256 principal,
        uint256 couponBps,
        uint256 elapsed
    ) internal pure returns (uint256) {
        return principal * couponBps * elapsed;
    }
}

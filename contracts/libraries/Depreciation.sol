// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BPS} from "./Constants.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @dev A quarter of a 365-day year: the period of collateral markdowns.
uint256 constant SECONDS_PER_QUARTER = 365 days / 4;

/// @title Depreciation
/// @notice Straight-line depreciation of an appraised value, per whole quarter, down to a residual floor.
/// @dev Closed form, no loop over time. Rounds down: collateral is valued conservatively, in the protocol's
/// favour.
library Depreciation {
    using FixedPointMath for uint256;

    /// @dev `value * (BPS - min(quarters * markdownBpsPerQuarter, BPS - floorBps)) / BPS`, rounded down, where
    /// `quarters = elapsed / SECONDS_PER_QUARTER` (whole quarters only). Requires `floorBps <= BPS`.
    /// @param value The appraised value.
    /// @param elapsed Seconds since the appraisal.
    /// @param markdownBpsPerQuarter Markdown per whole quarter, in basis points of `value`.
    /// @param floorBps The residual floor, in basis points of `value`.
    function depreciatedValueDown(
        uint256 value,
        uint256 elapsed,
        uint256 markdownBpsPerQuarter,
        uint256 floorBps
    ) internal pure returns (uint256) {
        // Checked arithmetic: with the uint40 times and uint16 bps the receipts store, the product is far below
        // 2^256, so the `min` can come after the multiplication.
        uint256 markdownBps = ((elapsed / SECONDS_PER_QUARTER) * markdownBpsPerQuarter).min(BPS - floorBps);
        return value.mulDivDown(BPS - markdownBps, BPS);
    }
}

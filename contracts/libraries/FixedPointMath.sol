// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FixedPointMath
/// @notice Multiply-then-divide with the rounding direction in the name. Callers pick the direction that
/// favours the protocol: amounts paid out and shares minted round down, amounts owed and shares burned up.
/// @dev Full 512-bit intermediate precision (OpenZeppelin `Math.mulDiv`); reverts on a zero denominator or
/// a result that overflows 256 bits.
library FixedPointMath {
    /// @dev `floor(x * y / d)`.
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }

    /// @dev `ceil(x * y / d)`.
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }

    /// @dev `ceil(x / d)` for `d > 0`.
    function divUp(uint256 x, uint256 d) internal pure returns (uint256) {
        return Math.ceilDiv(x, d);
    }

    /// @dev `x` if `x < y`, else `y`.
    function min(uint256 x, uint256 y) internal pure returns (uint256) {
        return x < y ? x : y;
    }

    /// @dev The larger of `x` and `y`.
    function max(uint256 x, uint256 y) internal pure returns (uint256) {
        return x > y ? x : y;
    }

    /// @dev `x - y` floored at zero.
    function zeroFloorSub(uint256 x, uint256 y) internal pure returns (uint256) {
        unchecked {
            return x > y ? x - y : 0;
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @notice Exposes FixedPointMath for property tests against a bigint model.
/// @dev Test double. Never deployed outside the local networks.
contract FixedPointMathHarness {
    function mulDivDown(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return FixedPointMath.mulDivDown(x, y, d);
    }

    function mulDivUp(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return FixedPointMath.mulDivUp(x, y, d);
    }

    function divUp(uint256 x, uint256 d) external pure returns (uint256) {
        return FixedPointMath.divUp(x, d);
    }

    function min(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.min(x, y);
    }

    function zeroFloorSub(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.zeroFloorSub(x, y);
    }
}

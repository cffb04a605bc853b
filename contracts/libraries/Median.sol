// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Median
/// @notice The median of a handful of readings, the aggregate that one bad source cannot move on its own.
library Median {
    /// @dev Median of `values`, sorting them in place (insertion sort: callers pass at most a few readings, where it
    /// beats anything asymptotically better). An even count gives the mean of the two middle values, rounded down.
    /// The caller guarantees at least one value: an empty array reverts with an arithmetic panic.
    function medianDown(uint256[] memory values) internal pure returns (uint256) {
        uint256 n = values.length;
        for (uint256 i = 1; i < n; ++i) {
            uint256 value = values[i];
            uint256 j = i;
            while (j != 0 && values[j - 1] > value) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = value;
        }
        uint256 mid = n / 2;
        if (n % 2 == 1) return values[mid];
        // `Math.average` rounds down and cannot overflow.
        return Math.average(values[mid - 1], values[mid]);
    }
}

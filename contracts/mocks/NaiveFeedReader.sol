// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @notice A deliberately UNSAFE feed consumer: takes `latestRoundData`'s answer as a rate in basis points with no
/// check of its sign, its age or its timestamp (feeds of at least 4 decimals), the weak target of the bad-oracle-data
/// attack tests.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveFeedReader {
    uint256 public rateBps;

    /// @notice UNSAFE: stores whatever the feed says (a negative answer wraps to a huge rate).
    function refresh(AggregatorV3Interface feed) external returns (uint256) {
        (, int256 answer, , , ) = feed.latestRoundData();
        rateBps = uint256(answer) / 10 ** (feed.decimals() - 4);
        return rateBps;
    }
}

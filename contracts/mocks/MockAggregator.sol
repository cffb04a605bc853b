// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @notice A Chainlink-style feed whose every field and failure mode the tests set.
/// @dev Test double. Never deployed outside the local networks. Modes: `Revert` reverts, `GasBomb` loops until it
/// runs out of gas, `ReturnBomb` answers with the current round followed by ~160 KB of return data, `Malformed`
/// returns two words only.
contract MockAggregator is AggregatorV3Interface {
    enum Mode {
        Normal,
        Revert,
        GasBomb,
        ReturnBomb,
        Malformed
    }

    /// @notice `latestRoundData` reverted (mode `Revert`).
    error MockAggregatorReverted();

    /// @notice `getRoundData` asked for a round other than the latest.
    error MockAggregatorNoData(uint80 roundId);

    /// @dev Return data size of the `ReturnBomb` mode: its memory expansion stays within the oracle's gas cap.
    uint256 private constant BOMB_SIZE = 160_000;

    uint8 public decimals;
    Mode public mode;
    uint80 public roundId;
    int256 public answer;
    uint256 public updatedAt;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    /// @notice Publishes `answer_` as a new round updated now.
    function pushAnswer(int256 answer_) external {
        roundId += 1;
        answer = answer_;
        updatedAt = block.timestamp;
    }

    /// @notice Sets the latest round verbatim.
    function setRound(uint80 roundId_, int256 answer_, uint256 updatedAt_) external {
        roundId = roundId_;
        answer = answer_;
        updatedAt = updatedAt_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function setDecimals(uint8 decimals_) external {
        decimals = decimals_;
    }

    function description() external pure returns (string memory) {
        return "mock utilization feed";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80 roundId_) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId_ != roundId) revert MockAggregatorNoData(roundId_);
        return (roundId, answer, updatedAt, updatedAt, roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        Mode current = mode;
        if (current == Mode.Revert) revert MockAggregatorReverted();
        if (current == Mode.GasBomb) {
            uint256 spin;
            while (gasleft() != 0) ++spin;
        }
        (uint80 round, int256 latest, uint256 updated) = (roundId, answer, updatedAt);
        if (current == Mode.ReturnBomb) {
            uint256 size = BOMB_SIZE;
            assembly {
                mstore(0x00, round)
                mstore(0x20, latest)
                mstore(0x40, updated)
                mstore(0x60, updated)
                mstore(0x80, round)
                return(0x00, size)
            }
        }
        if (current == Mode.Malformed) {
            assembly {
                mstore(0x00, round)
                mstore(0x20, latest)
                return(0x00, 0x40)
            }
        }
        return (round, latest, updated, updated, round);
    }
}

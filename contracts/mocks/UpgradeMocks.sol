// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {USDai} from "../token/USDai.sol";

/// @notice A second USDai implementation used to test that upgrades keep state and stay gated by UPGRADER.
/// @dev Test double. Never deployed outside the local networks.
contract USDaiV2Mock is USDai {
    function upgradeMarker() external pure returns (string memory) {
        return "USDai v2";
    }
}

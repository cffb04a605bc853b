// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {USDai} from "../token/USDai.sol";

/// @notice A second USDai implementation used to test that upgrades keep state and stay gated by UPGRADER.
/// @dev Test double. Never deployed outside the local networks. Its parents were initialized by v1, so its only
/// initializer is the `reinitializer(2)` an upgrade runs; the validator's missing-initializer rule does not apply.
/// @custom:oz-upgrades-unsafe-allow missing-initializer
contract USDaiV2Mock is USDai {
    /// @notice The upgrade's own initializer, run once through `upgradeToAndCall`.
    function initializeV2() external reinitializer(2) {}

    function upgradeMarker() external pure returns (string memory) {
        return "USDai v2";
    }
}

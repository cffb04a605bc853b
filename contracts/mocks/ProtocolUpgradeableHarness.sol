// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";

/// @notice Exposes the base's internal initializer outside `initialize`, to prove it refuses to run there.
/// @dev Test double. Never deployed outside the local networks.
contract ProtocolUpgradeableHarness is ProtocolUpgradeable {
    function initialize(address admin) external initializer {
        __ProtocolUpgradeable_init(admin);
    }

    function initAgainOutsideInitializer(address admin) external {
        __ProtocolUpgradeable_init(admin);
    }
}

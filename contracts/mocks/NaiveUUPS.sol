// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/// @notice A deliberately UNSAFE UUPS implementation, the weak target of the upgrade attack tests: `_authorizeUpgrade`
/// checks nothing, the constructor does not disable initializers, and `initialize` is a plain function that can run
/// again, so anyone can take the admin role of the proxy or of the bare implementation and upgrade.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveUUPS is AccessControlUpgradeable, UUPSUpgradeable {
    function initialize(address admin) external {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function _authorizeUpgrade(address) internal override {}
}

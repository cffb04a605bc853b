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

/// @notice A USDai implementation that refuses transfers to one frozen account, as a token with a blacklist does: for
/// testing that a payment the protocol owes such an account cannot block anything else.
/// @dev Test double. Never deployed outside the local networks. The frozen account lives in a storage slot of its own
/// (USDai's state is namespaced, so slot 0 is free).
/// @custom:oz-upgrades-unsafe-allow missing-initializer
contract USDaiFreezableMock is USDai {
    /// @notice A transfer to `account`, which is frozen.
    error USDaiFrozenAccount(address account);

    address public frozen;

    /// @notice Freezes `account` (zero: none).
    function freeze(address account) external {
        frozen = account;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to == frozen) revert USDaiFrozenAccount(to);
        super._update(from, to, value);
    }
}

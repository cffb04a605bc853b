// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {USDai} from "../token/USDai.sol";

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

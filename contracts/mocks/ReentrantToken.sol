// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A reentrancy probe needs a raw call whose revert data it can bubble up.
// solhint-disable avoid-low-level-calls

import {MockERC20} from "./MockERC20.sol";

/// @notice A reserve token with a transfer hook (ERC-777 style) that calls back into a target mid-transfer, to prove
/// that every guarded entry point refuses re-entry. The callback's revert is bubbled up unchanged.
/// @dev Test double. Never deployed outside the local networks.
contract ReentrantToken is MockERC20 {
    address public hookTarget;
    bytes public hookData;
    bool private _inHook;

    constructor(uint8 decimals_) MockERC20("Reentrant USD", "REUSD", decimals_) {}

    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (hookTarget == address(0) || _inHook) return;
        _inHook = true;
        (bool ok, bytes memory ret) = hookTarget.call(hookData);
        _inHook = false;
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice A borrower or buyer that, inside its `onERC721Received`, reads a list of views (static calls) and records
/// what they returned, so a test can compare the protocol's state as a third party sees it mid-callback with the
/// state after the call (read-only re-entrancy).
/// @dev Test double. Never deployed outside the local networks.
contract ReadOnlyReentrancyProbe is IERC721Receiver {
    /// @notice Only the deployer may drive the double.
    error ReadOnlyReentrancyProbeNotOwner(address caller);

    address public immutable owner;
    address[] private _targets;
    bytes[] private _calls;
    /// @notice Return data of each view, from the first callback after `watch`.
    bytes[] private _seen;
    uint256 public callbacks;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Calls `target` with `data` as this contract.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        _onlyOwner();
        return Address.functionCall(target, data);
    }

    /// @notice The next callback reads `calls[i]` on `targets[i]`.
    function watch(address[] calldata targets, bytes[] calldata calls) external {
        _onlyOwner();
        _targets = targets;
        delete _calls;
        for (uint256 i; i < calls.length; ++i) _calls.push(calls[i]);
        delete _seen;
        callbacks = 0;
    }

    function seen() external view returns (bytes[] memory) {
        return _seen;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        if (callbacks++ == 0) {
            for (uint256 i; i < _targets.length; ++i) {
                _seen.push(Address.functionStaticCall(_targets[i], _calls[i]));
            }
        }
        return IERC721Receiver.onERC721Received.selector;
    }

    function _onlyOwner() private view {
        if (msg.sender != owner) revert ReadOnlyReentrancyProbeNotOwner(msg.sender);
    }
}

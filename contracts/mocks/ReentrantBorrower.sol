// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice A malicious borrower or buyer: any call it makes goes through `execute`, and its ERC-721 callback re-enters
/// `reentryTarget` with `reentryData` (once per armed call). With `swallow`, a failed re-entry is recorded instead of
/// bubbling, so the outer call can finish and a test can read what the re-entry got.
/// @dev Test double. Never deployed outside the local networks.
contract ReentrantBorrower is IERC721Receiver {
    /// @notice Only the deployer may drive the double.
    error ReentrantBorrowerNotOwner(address caller);

    address public immutable owner;
    address public reentryTarget;
    bytes public reentryData;
    bool public swallow;
    /// @notice Re-entries attempted, and those that succeeded.
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    /// @notice Revert data of the last failed re-entry (with `swallow`).
    bytes public lastRevert;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Arms the callback: the next receipt received calls `target` with `data`.
    function arm(address target, bytes calldata data, bool swallow_) external {
        _onlyOwner();
        reentryTarget = target;
        reentryData = data;
        swallow = swallow_;
    }

    /// @notice Calls `target` with `data` as this contract.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        _onlyOwner();
        return Address.functionCall(target, data);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        address target = reentryTarget;
        if (target != address(0)) {
            bytes memory data = reentryData;
            delete reentryTarget;
            delete reentryData;
            ++reentryAttempts;
            if (swallow) {
                // solhint-disable-next-line avoid-low-level-calls
                (bool ok, bytes memory result) = target.call(data);
                if (ok) ++reentrySuccesses;
                else lastRevert = result;
            } else {
                Address.functionCall(target, data);
                ++reentrySuccesses;
            }
        }
        return IERC721Receiver.onERC721Received.selector;
    }

    function _onlyOwner() private view {
        if (msg.sender != owner) revert ReentrantBorrowerNotOwner(msg.sender);
    }
}

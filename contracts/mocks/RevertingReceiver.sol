// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice An account that refuses everything sent to it: ether, ERC-721 callbacks, any unknown call. It can still act
/// (`execute`), so it can be a borrower, a buyer or a redemption controller that griefs whoever has to pay it.
/// @dev Test double. Never deployed outside the local networks.
contract RevertingReceiver {
    /// @notice Every incoming payment or callback.
    error RevertingReceiverRefused();
    /// @notice Only the deployer may drive the double.
    error RevertingReceiverNotOwner(address caller);

    address public immutable owner;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Calls `target` with `data` as this contract.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert RevertingReceiverNotOwner(msg.sender);
        return Address.functionCall(target, data);
    }

    receive() external payable {
        revert RevertingReceiverRefused();
    }

    fallback() external payable {
        revert RevertingReceiverRefused();
    }
}

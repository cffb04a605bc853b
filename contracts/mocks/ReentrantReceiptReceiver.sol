// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice A receipt holder and tokenizer whose ERC-721 callback re-enters the receipt contract with `reentry`.
/// @dev Test double. Never deployed outside the local networks.
contract ReentrantReceiptReceiver is IERC721Receiver {
    address private immutable _receipts;
    bytes private _reentry;

    constructor(address receipts) {
        _receipts = receipts;
    }

    /// @notice Calls the receipt contract with `call`; the ERC-721 callback then calls it with `reentry`.
    function callWithReentry(bytes calldata call, bytes calldata reentry) external {
        _reentry = reentry;
        Address.functionCall(_receipts, call);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        bytes memory reentry = _reentry;
        delete _reentry;
        if (reentry.length != 0) Address.functionCall(_receipts, reentry);
        return IERC721Receiver.onERC721Received.selector;
    }
}

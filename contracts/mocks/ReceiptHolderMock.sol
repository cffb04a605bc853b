// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Holder} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Holder.sol";

/// @notice A contract that accepts ERC-721 tokens, standing in for the loan vault in receipt tests.
/// @dev Test double. Never deployed outside the local networks.
contract ReceiptHolderMock is ERC721Holder {}

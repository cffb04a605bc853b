// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Compiles OpenZeppelin's ERC1967Proxy so tests can put a fresh implementation behind a proxy (e.g. USDai over a
// weird reserve token) the same way hardhat-deploy does.
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @dev Test-only alias; never deployed outside the local networks.
contract TestERC1967Proxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}

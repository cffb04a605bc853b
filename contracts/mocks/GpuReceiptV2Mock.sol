// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {GpuReceipt} from "../collateral/GpuReceipt.sol";

/// @notice A second GpuReceipt implementation used to test that upgrades keep state and stay gated by UPGRADER.
/// @dev Test double. Never deployed outside the local networks.
contract GpuReceiptV2Mock is GpuReceipt {
    function upgradeMarker() external pure returns (string memory) {
        return "GpuReceipt v2";
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IUSDaiYieldReceiver} from "../interfaces/IUSDai.sol";

/// @notice Records USDai harvest callbacks. Test double; never deployed outside the local networks.
contract MockYieldReceiver is IUSDaiYieldReceiver, ERC165 {
    uint256 public received;
    uint256 public calls;
    address public lastCaller;

    function onUSDaiHarvest(uint256 amount) external {
        received += amount;
        calls += 1;
        lastCaller = msg.sender;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IUSDaiYieldReceiver).interfaceId || super.supportsInterface(interfaceId);
    }
}

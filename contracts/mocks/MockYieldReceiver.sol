// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A reentrancy probe needs a raw call whose revert data it can bubble up.
// solhint-disable avoid-low-level-calls

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {IUSDaiYieldReceiver} from "../interfaces/IUSDai.sol";

/// @notice Records USDai harvest callbacks; optionally re-enters `harvest()`.
/// @dev Test double. Never deployed outside the local networks.
contract MockYieldReceiver is IUSDaiYieldReceiver, ERC165 {
    uint256 public received;
    uint256 public calls;
    address public lastCaller;
    /// @notice When set, the callback re-enters `harvest()` on the caller.
    bool public reenter;

    /// @notice The re-entered call reverted with `reason`.
    error MockYieldReceiverReentryFailed(bytes reason);

    function setReenter(bool reenter_) external {
        reenter = reenter_;
    }

    function onUSDaiHarvest(uint256 amount) external {
        if (reenter) {
            (bool ok, bytes memory ret) = msg.sender.call(abi.encodeWithSignature("harvest()"));
            if (!ok) {
                assembly {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
        received += amount;
        calls += 1;
        lastCaller = msg.sender;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IUSDaiYieldReceiver).interfaceId || super.supportsInterface(interfaceId);
    }
}

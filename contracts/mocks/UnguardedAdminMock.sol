// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @notice A deliberately UNSAFE admin surface, the weak target of the access-control sweep: `setFee` forgot its role
/// check, `setCap` has it. The sweep must flag the first and pass the second.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract UnguardedAdminMock is AccessControl {
    bytes32 public constant FEE_ROLE = keccak256("FEE_ROLE");

    uint256 public fee;
    uint256 public cap;

    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    /// @notice UNSAFE: no role check.
    function setFee(uint256 fee_) external {
        fee = fee_;
    }

    function setCap(uint256 cap_) external onlyRole(FEE_ROLE) {
        cap = cap_;
    }
}

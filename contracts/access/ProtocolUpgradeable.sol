// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {PAUSER_ROLE, UPGRADER_ROLE} from "../libraries/Roles.sol";

/// @title ProtocolUpgradeable
/// @notice The base every core contract shares: a UUPS implementation behind an `ERC1967Proxy`, role-based
/// access control, a guardian pause and a transient-storage reentrancy guard.
/// @dev Upgrades are gated by `UPGRADER_ROLE`. The guardian (`PAUSER_ROLE`) can pause; only governance
/// (`DEFAULT_ADMIN_ROLE`) can unpause, so a compromised guardian can stop new money but cannot hold the switch.
/// Each inheriting contract keeps its own state in an ERC-7201 namespace; OpenZeppelin's upgradeable
/// parents do the same, and the reentrancy guard lives in transient storage, so this base adds no storage
/// slots of its own.
abstract contract ProtocolUpgradeable is
    Initializable,
    AccessControlUpgradeable,
    PausableUpgradeable,
    ReentrancyGuardTransient,
    UUPSUpgradeable
{
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    // solhint-disable-next-line func-name-mixedcase
    function __ProtocolUpgradeable_init(address admin) internal onlyInitializing {
        __AccessControl_init();
        __Pausable_init();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Pauses new money in (guardian).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause (governance).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @dev Only `UPGRADER_ROLE` may upgrade; OpenZeppelin's `UUPSUpgradeable` checks the new implementation
    /// is UUPS (proxiable UUID) so a bad upgrade cannot brick the proxy.
    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}

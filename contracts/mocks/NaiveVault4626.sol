// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice A deliberately weak ERC-4626: no decimals offset beyond OpenZeppelin's virtual share of 1, and
/// `totalAssets()` is the vault's token balance, so a donation moves the price. The first-depositor inflation test
/// shows the attack succeeding here and failing against StakedUSDai.
/// @dev Test double. Never deployed outside the local networks.
contract NaiveVault4626 is ERC4626 {
    constructor(IERC20 asset_) ERC20("Naive Vault", "NAIVE") ERC4626(asset_) {}
}

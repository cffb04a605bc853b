// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILoanVaultJuniorHooks} from "../interfaces/IJuniorTranche.sol";

/// @title ShortCoverJunior
/// @notice Test double: a "junior tranche" that reports USDai it does not pay. It tells the vault it holds `assets`
/// (`report`) and, asked for cover, answers with one wei less than asked and sends nothing. The vault must refuse the
/// settlement (`LoanVaultCoverShort`) rather than book cover it did not receive.
contract ShortCoverJunior {
    uint256 public trackedAssets;

    /// @notice Tells `vault` this junior holds `assets`.
    function report(ILoanVaultJuniorHooks vault, uint256 assets) external {
        trackedAssets = assets;
        vault.syncJuniorAssets(assets);
    }

    /// @notice Pays nothing and claims one wei less than asked.
    function drawCover(uint256 amountUsd) external pure returns (uint256) {
        return amountUsd - 1;
    }

    /// @notice Never blocks a draw.
    function checkCoverage(uint256) external pure {}
}

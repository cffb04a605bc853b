// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IJuniorTranche, ILoanVaultJuniorHooks} from "../interfaces/IJuniorTranche.sol";

/// @notice Stands in for the LoanVault on jUSDai: settable `firstLossClaim` and `loanBook`, records every
/// `syncJuniorAssets`, and drives the tranche's LOAN_VAULT hooks (it needs LOAN_VAULT_ROLE on the tranche).
/// @dev Test double. Never deployed outside the local networks.
contract MockLoanVaultForJunior is ILoanVaultJuniorHooks {
    IJuniorTranche public immutable tranche;
    IERC20 public immutable usdai;

    uint256 public firstLossClaim;
    uint256 public loanBook;
    /// @notice The assets of the latest `syncJuniorAssets`, and how many were received.
    uint256 public syncedAssets;
    uint256 public syncCount;
    /// @notice What the latest `drawCover` paid.
    uint256 public lastCoverPaid;

    /// @notice The tranche reported `assets`.
    event JuniorAssetsSynced(uint256 assets);

    constructor(IJuniorTranche tranche_) {
        tranche = tranche_;
        usdai = IERC20(tranche_.asset());
    }

    function setFirstLossClaim(uint256 amount) external {
        firstLossClaim = amount;
    }

    function setLoanBook(uint256 amount) external {
        loanBook = amount;
    }

    function syncJuniorAssets(uint256 assets) external {
        syncedAssets = assets;
        syncCount += 1;
        emit JuniorAssetsSynced(assets);
    }

    /// @notice Draws `amount` of cover (the USDai lands here).
    function drawCover(uint256 amount) external returns (uint256 paid) {
        paid = tranche.drawCover(amount);
        lastCoverPaid = paid;
    }

    /// @notice Pays `amount` of interest from USDai this mock holds: pushes it, then books it, as the vault would.
    function payInterest(uint256 amount) external {
        usdai.transfer(address(tranche), amount);
        tranche.receiveInterest(amount);
    }

    /// @notice Books `amount` of interest without sending anything (the tranche trusts its vault).
    function bookInterest(uint256 amount) external {
        tranche.receiveInterest(amount);
    }

    /// @notice The coverage check a draw would run.
    function checkCoverage(uint256 loanBookAfter) external view {
        tranche.checkCoverage(loanBookAfter);
    }
}

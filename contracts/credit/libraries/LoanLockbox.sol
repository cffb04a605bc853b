// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {LoanLedger} from "./LoanLedger.sol";
import {LoanVaultLayout} from "../LoanVaultLayout.sol";

/// @title LoanLockbox
/// @notice The LoanVault's revenue lockbox: the waterfall sweep and the release of excess to the borrower. Deployed
/// once and linked; its functions run by DELEGATECALL on the vault's storage, only from the vault's nonReentrant
/// entry points.
/// @dev Events and errors are the vault's (`ILoanVault`).
library LoanLockbox {
    using SafeERC20 for IERC20;

    /// @notice See `ILoanVault.sweep`.
    function sweep(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId
    ) external returns (ILoanVault.Allocation memory allocation) {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        LoanLedger.requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        allocation = LoanLedger.sweep($, receipts, loanId, s, $.terms[loanId]);

        LoanLedger.payStaked(staked, usdai, address(this), allocation);
    }

    /// @notice See `ILoanVault.releaseExcess`: sweeps an active loan first, then releases from what is left.
    function releaseExcess(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId,
        address to,
        uint256 amount
    ) external {
        LoanVaultLayout.LoanVaultStorage storage $ = LoanLedger.getStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        if (msg.sender != t.borrower) revert ILoanVault.LoanVaultNotBorrower(loanId, msg.sender);
        if (to == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        ILoanVault.LoanStatus status = s.status;
        ILoanVault.Allocation memory allocation;
        if (status == ILoanVault.LoanStatus.Active) allocation = LoanLedger.sweep($, receipts, loanId, s, t);
        else if (status != ILoanVault.LoanStatus.Repaid) revert ILoanVault.LoanVaultBadStatus(loanId, status);
        if (!LoanLedger.inGoodStanding(s, t)) revert ILoanVault.LoanVaultNotInGoodStanding(loanId);
        uint256 available = s.lockbox;
        if (amount > available) revert ILoanVault.LoanVaultExcessUnavailable(loanId, amount, available);
        s.lockbox = uint128(available - amount);
        emit ILoanVault.ExcessReleased(loanId, to, amount);

        LoanLedger.payStaked(staked, usdai, address(this), allocation);
        usdai.safeTransfer(to, amount);
    }
}

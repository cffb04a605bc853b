// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ILoanVaultAssets} from "../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../interfaces/IStakedUSDai.sol";

/// @notice Stands in for the LoanVault on sUSDai: reports `loanAssets()` and drives the LOAN_VAULT hooks with the
/// same bookkeeping the real vault does (funding adds principal, repayment removes it, a loss writes it down).
/// @dev Test double. Never deployed outside the local networks.
contract MockLoanVaultForStaking is ILoanVaultAssets {
    IStakedUSDai public immutable staked;
    IERC20 public immutable usdai;
    uint256 public loanAssets;
    /// @notice The markdown of impaired loans: what the entry price adds back (`entryLoanAssets`).
    uint256 public markdown;

    constructor(IStakedUSDai staked_) {
        staked = staked_;
        usdai = IERC20(staked_.asset());
    }

    /// @notice Lends `amount` to `borrower`: sUSDai sends it, the book grows by it.
    function fund(address borrower, uint256 amount) external {
        // Hook first, book after: sUSDai values the queue's claim with NAV as it stands before the loan.
        staked.fundLoan(borrower, amount);
        loanAssets += amount;
    }

    /// @notice Interest accrues on the book (what the real vault's per-second accrual does).
    function accrue(uint256 interest) external {
        loanAssets += interest;
    }

    /// @notice Repays `principal + interest` (already accrued into the book) from USDai this mock holds: pushes it to
    /// sUSDai, then books it, as the real vault does.
    function repay(uint256 principal, uint256 interest) external {
        loanAssets -= principal + interest;
        usdai.transfer(address(staked), principal + interest);
        staked.receiveLoanCashflow(principal, interest, 0, 0);
    }

    /// @notice The book with impaired loans at their claim, as the real vault reports it.
    function entryLoanAssets() external view returns (uint256) {
        return loanAssets + markdown;
    }

    /// @notice Impairs `amount` of the book (NAV falls by it; the entry price does not, as with the real vault).
    function impair(uint256 amount) external {
        loanAssets -= amount;
        markdown += amount;
    }

    /// @notice Writes `amount` of an impairment back (a step-in): NAV rises by it; the entry price does not move.
    function writeBack(uint256 amount) external {
        markdown -= amount;
        loanAssets += amount;
    }

    /// @notice Sends a lump gain (fees, recoveries) from USDai this mock holds.
    function gain(uint256 amount) external {
        usdai.transfer(address(staked), amount);
        staked.receiveLoanCashflow(0, 0, amount, 0);
    }

    /// @notice Writes `amount` of the book off as a realized loss.
    function writeOff(uint256 amount) external {
        loanAssets -= amount;
        staked.receiveLoanCashflow(0, 0, 0, amount);
    }

    /// @notice Books a cash flow without sending anything: sUSDai accepts it (it trusts its loan vault, as it trusts
    /// `loanAssets()`); tests use it to show that trust boundary.
    function book(uint256 principal, uint256 interest, uint256 gain_, uint256 loss) external {
        staked.receiveLoanCashflow(principal, interest, gain_, loss);
    }
}

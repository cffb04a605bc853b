// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @notice A deliberately UNSAFE loan vault, the weak target of the re-entrancy attack tests: no reentrancy guard,
/// and `close` hands the receipts back with `safeTransferFrom` (an external call into the borrower) before it zeroes
/// the lockbox and marks the loan closed, paying a refund it read beforehand. A borrower whose `onERC721Received`
/// calls `close` again is refunded twice, out of other loans' lockboxes.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveLoanVault {
    using SafeERC20 for IERC20;

    error NaiveLoanVaultNotClosable(uint256 loanId);

    struct Loan {
        address borrower;
        uint256 debt;
        uint256 lockbox;
        bool closed;
        uint256[] receiptIds;
    }

    IERC20 public immutable usdai;
    IERC721 public immutable receipts;
    uint256 public loanCount;
    mapping(uint256 loanId => Loan) internal _loans;

    constructor(IERC20 usdai_, IERC721 receipts_) {
        usdai = usdai_;
        receipts = receipts_;
    }

    /// @notice Escrows `receiptIds` from the caller and lends `principal` of this vault's USDai.
    function borrow(uint256[] calldata receiptIds, uint256 principal) external returns (uint256 loanId) {
        loanId = ++loanCount;
        Loan storage loan = _loans[loanId];
        loan.borrower = msg.sender;
        loan.debt = principal;
        loan.receiptIds = receiptIds;
        for (uint256 i; i < receiptIds.length; ++i) {
            receipts.transferFrom(msg.sender, address(this), receiptIds[i]);
        }
        usdai.safeTransfer(msg.sender, principal);
    }

    /// @notice Revenue into the loan's lockbox, refunded at close.
    function depositRevenue(uint256 loanId, uint256 amount) external {
        _loans[loanId].lockbox += amount;
        usdai.safeTransferFrom(msg.sender, address(this), amount);
    }

    function repay(uint256 loanId, uint256 amount) external {
        _loans[loanId].debt -= amount;
        usdai.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice UNSAFE: interactions before effects, no guard.
    function close(uint256 loanId) external {
        Loan storage loan = _loans[loanId];
        if (loan.debt != 0 || loan.closed) revert NaiveLoanVaultNotClosable(loanId);
        uint256 refund = loan.lockbox;
        while (loan.receiptIds.length != 0) {
            uint256 id = loan.receiptIds[loan.receiptIds.length - 1];
            loan.receiptIds.pop();
            receipts.safeTransferFrom(address(this), loan.borrower, id);
        }
        usdai.safeTransfer(loan.borrower, refund);
        loan.lockbox = 0;
        loan.closed = true;
    }

    function loanOf(uint256 loanId) external view returns (Loan memory) {
        return _loans[loanId];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice A deliberately UNSAFE lender, the weak target of the donate-then-self-liquidate attack: collateral is valued
/// at the spot price of a thin pool read from its token balances (a donation moves it), and a loan under its
/// liquidation threshold is sold at once to whoever calls `liquidate`, at 95% of that spot value, the shortfall
/// written off against the lenders. A borrower who donates collateral tokens to the pool crushes the price and buys
/// its own collateral back far below its debt.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveSpotLender {
    using SafeERC20 for IERC20;

    error NaiveSpotLenderUnhealthy(uint256 debt, uint256 value);
    error NaiveSpotLenderHealthy(uint256 debt, uint256 value);

    struct Loan {
        address borrower;
        uint256 collateral;
        uint256 debt;
    }

    IERC20 public immutable usd;
    IERC20 public immutable collateralToken;
    /// @notice The pool whose balances set the price.
    address public immutable pool;
    uint256 public loanCount;
    uint256 public writtenOff;
    mapping(uint256 loanId => Loan) public loans;

    constructor(IERC20 usd_, IERC20 collateralToken_, address pool_) {
        usd = usd_;
        collateralToken = collateralToken_;
        pool = pool_;
    }

    /// @notice Spot value of `amount` collateral tokens: the pool's USD balance over its collateral balance.
    function spotValueOf(uint256 amount) public view returns (uint256) {
        return (amount * usd.balanceOf(pool)) / collateralToken.balanceOf(pool);
    }

    /// @notice Pledges `collateral` and borrows `amount` of this lender's USD, up to 60% of the spot value.
    function borrow(uint256 collateral, uint256 amount) external returns (uint256 loanId) {
        uint256 value = spotValueOf(collateral);
        if (amount * 10_000 > value * 6_000) revert NaiveSpotLenderUnhealthy(amount, value);
        loanId = ++loanCount;
        loans[loanId] = Loan(msg.sender, collateral, amount);
        collateralToken.safeTransferFrom(msg.sender, address(this), collateral);
        usd.safeTransfer(msg.sender, amount);
    }

    /// @notice UNSAFE: sells the collateral of a loan above 80% LTV (at spot) to the caller at 95% of spot value.
    function liquidate(uint256 loanId) external returns (uint256 price) {
        Loan memory loan = loans[loanId];
        uint256 value = spotValueOf(loan.collateral);
        if (loan.debt * 10_000 <= value * 8_000) revert NaiveSpotLenderHealthy(loan.debt, value);
        price = (value * 9_500) / 10_000;
        delete loans[loanId];
        if (price < loan.debt) writtenOff += loan.debt - price;
        usd.safeTransferFrom(msg.sender, address(this), price);
        if (price > loan.debt) usd.safeTransfer(loan.borrower, price - loan.debt);
        collateralToken.safeTransfer(msg.sender, loan.collateral);
    }
}

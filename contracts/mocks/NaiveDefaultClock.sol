// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice A deliberately UNSAFE default clock, the weak target of the liquidation-griefing tests: any repayment, of
/// any size, restarts the window after which the loan can be declared in default, so a dust repay every few weeks
/// keeps a loan that pays nothing out of default forever.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveDefaultClock {
    using SafeERC20 for IERC20;

    error NaiveDefaultClockNotDefaultable(uint256 defaultableAt);

    IERC20 public immutable usd;
    uint256 public immutable window;
    uint256 public debt;
    uint256 public lastPaymentAt;
    bool public defaulted;

    constructor(IERC20 usd_, uint256 debt_, uint256 window_) {
        usd = usd_;
        debt = debt_;
        window = window_;
        lastPaymentAt = block.timestamp;
    }

    /// @notice UNSAFE: one wei restarts the clock.
    function repay(uint256 amount) external {
        debt -= amount;
        lastPaymentAt = block.timestamp;
        usd.safeTransferFrom(msg.sender, address(this), amount);
    }

    function declareDefault() external {
        uint256 at = lastPaymentAt + window;
        if (block.timestamp < at) revert NaiveDefaultClockNotDefaultable(at);
        defaulted = true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Just enough of an ERC-20 for a minter that ignores return values.
interface ILooseERC20 {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

/// @notice A deliberately UNSAFE 1:1 stablecoin minter, the weak target of the weird-reserve tests: it mints on the
/// nominal amount after a raw `transferFrom` whose return value it ignores, so a fee-on-transfer reserve leaves it
/// under-reserved and a false-returning reserve mints for nothing.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveMinter is ERC20 {
    ILooseERC20 public immutable reserve;

    constructor(ILooseERC20 reserve_) ERC20("Naive USD", "nUSD") {
        reserve = reserve_;
    }

    /// @notice UNSAFE: the return value is dropped and the delivery is not measured.
    function deposit(uint256 amount) external {
        reserve.transferFrom(msg.sender, address(this), amount);
        _mint(msg.sender, amount);
    }

    function reserves() external view returns (uint256) {
        return reserve.balanceOf(address(this));
    }
}

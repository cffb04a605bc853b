// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A token that burns `feeBps` of every transfer, so the receiver gets less than the nominal amount.
/// @dev Test double. Never deployed outside the local networks.
contract FeeOnTransferToken is ERC20 {
    uint256 public immutable feeBps;
    uint8 private immutable _decimals;

    constructor(uint8 decimals_, uint256 feeBps_) ERC20("Fee On Transfer USD", "FOTUSD") {
        _decimals = decimals_;
        feeBps = feeBps_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MockERC20} from "./MockERC20.sol";

/// @notice Local-network tokenized T-bill fund: an ERC-4626 whose share price grows at `apyBps` a year.
/// @dev Test double. Yield accrues as simple interest between touches and is realised (minted into the vault by the
/// mock asset) before every deposit or withdrawal, so `totalAssets()` is always backed by real tokens once touched.
/// `simulateLoss` removes assets to model a fund drawdown.
contract MockTBillVault is ERC4626 {
    uint256 private constant BPS = 10_000;
    uint256 private constant SECONDS_PER_YEAR = 365 days;

    uint256 public apyBps;
    uint256 public lastAccrual;
    /// @notice When set, `maxWithdraw` and `maxRedeem` are capped at this many assets (models a fund's redemption gate).
    uint256 public withdrawLimit = type(uint256).max;

    constructor(MockERC20 asset_, uint256 apyBps_) ERC20("Mock T-Bill Fund", "mTBILL") ERC4626(asset_) {
        apyBps = apyBps_;
        lastAccrual = block.timestamp;
    }

    function totalAssets() public view override returns (uint256) {
        return IERC20(asset()).balanceOf(address(this)) + pendingYield();
    }

    function pendingYield() public view returns (uint256) {
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        return (balance * apyBps * (block.timestamp - lastAccrual)) / (BPS * SECONDS_PER_YEAR);
    }

    function maxWithdraw(address owner) public view override returns (uint256) {
        uint256 max = super.maxWithdraw(owner);
        return max < withdrawLimit ? max : withdrawLimit;
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        uint256 max = super.maxRedeem(owner);
        if (withdrawLimit == type(uint256).max) return max;
        uint256 limit = convertToShares(withdrawLimit);
        return max < limit ? max : limit;
    }

    function setApyBps(uint256 apyBps_) external {
        accrue();
        apyBps = apyBps_;
    }

    function setWithdrawLimit(uint256 limit) external {
        withdrawLimit = limit;
    }

    function simulateLoss(uint256 assets) external {
        accrue();
        MockERC20(asset()).burn(address(this), assets);
    }

    function accrue() public {
        uint256 yield_ = pendingYield();
        lastAccrual = block.timestamp;
        if (yield_ != 0) MockERC20(asset()).mint(address(this), yield_);
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        accrue();
        super._deposit(caller, receiver, assets, shares);
    }

    function _withdraw(
        address caller,
        address receiver,
        address owner,
        uint256 assets,
        uint256 shares
    ) internal override {
        accrue();
        super._withdraw(caller, receiver, owner, assets, shares);
    }
}

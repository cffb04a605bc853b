// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Implemented by a controller that wants to hear about its serviced request.
interface INaiveRedeemCallback {
    function onRedeemServiced(uint256 assets) external;
}

/// @notice A deliberately UNSAFE redemption queue, the weak target of the queue-griefing tests: requests of any size,
/// `service` walks the whole queue in one call (no bound) and pushes each controller's assets with a callback that
/// must succeed, so dust requests make service cost grow without limit and one reverting controller blocks everyone
/// behind it.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaivePushQueue {
    using SafeERC20 for IERC20;

    struct Request {
        address controller;
        uint256 assets;
    }

    IERC20 public immutable asset;
    Request[] public requests;
    uint256 public head;

    constructor(IERC20 asset_) {
        asset = asset_;
    }

    function request(uint256 assets, address controller) external {
        requests.push(Request(controller, assets));
        asset.safeTransferFrom(msg.sender, address(this), assets);
    }

    /// @notice UNSAFE: unbounded, and a controller's revert reverts the whole service.
    function service() external {
        uint256 n = requests.length;
        for (uint256 i = head; i < n; ++i) {
            Request memory r = requests[i];
            asset.safeTransfer(r.controller, r.assets);
            if (r.controller.code.length != 0) INaiveRedeemCallback(r.controller).onRedeemServiced(r.assets);
        }
        head = n;
    }

    function queueLength() external view returns (uint256) {
        return requests.length - head;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A deliberately UNSAFE sale, the weak target of the liquidation-griefing tests: `buy` pushes the surplus to
/// the seller with a call that must succeed, so a seller (a defaulted borrower) whose `receive` reverts makes every
/// purchase revert and the lot can never be sold.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract PushPaymentAuction {
    error PushPaymentAuctionSurplusFailed(address seller);
    error PushPaymentAuctionPrice(uint256 paid, uint256 price);

    address public immutable seller;
    uint256 public immutable debt;
    uint256 public immutable price;
    address public buyer;

    constructor(address seller_, uint256 debt_, uint256 price_) {
        seller = seller_;
        debt = debt_;
        price = price_;
    }

    /// @notice UNSAFE: pays the surplus over the debt to the seller inline.
    function buy() external payable {
        if (msg.value != price) revert PushPaymentAuctionPrice(msg.value, price);
        buyer = msg.sender;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = seller.call{value: price - debt}("");
        if (!ok) revert PushPaymentAuctionSurplusFailed(seller);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICollateralAuction
/// @notice Dutch auctions of a defaulted loan's receipts. The price falls linearly from a premium over the
/// collateral value to a floor over the auction's duration. A buyer (RECEIPT_HOLDER on GpuReceipt) pays USDai,
/// which goes straight to the LoanVault to settle the loan, and receives every receipt of the lot. An auction
/// nobody buys expires: its receipts go to the recovery custodian (the CREDIT_ADMIN's custody) and the loan is
/// written down to zero recovery.
/// A lot has a **reserve**: the vault starts it with the proceeds that, with the loan's cash, recover the loan's
/// impaired value, and the price never falls below that reserve, nor below the loan's maximum LTV of the collateral
/// (the **minimum floor**), so a lot cannot be bought back cheaply by a borrower's affiliate. Selling lower is a
/// credit decision: the credit admin lowers the reserve through the vault (`LoanVault.lowerReserve`, which marks the
/// loan down first), never below the minimum floor.
/// @dev Prices are in USDai units (18 decimals). Prices round up: a buyer never pays less than the curve. A loan is
/// auctioned at most once, so an auction is identified by its loan id: no counter and no loan-to-auction index to
/// write, and an auction takes a single fresh storage slot. The buyer is in the `AuctionBought` event.
interface ICollateralAuction {
    /// @notice Lifecycle of an auction.
    enum AuctionStatus {
        None,
        Live,
        Sold,
        Expired
    }

    /// @notice One auction, as the views return it.
    /// @param loanId the defaulted loan whose receipts are sold (equal to the auction id).
    /// @param startPrice price at `startedAt`.
    /// @param floorPrice price at `startedAt + duration`.
    /// @param startedAt start timestamp.
    /// @param duration seconds from start price to floor; after it the auction can only expire.
    /// @param status lifecycle stage.
    /// @param receiptIds the lot.
    struct Auction {
        uint256 loanId;
        uint128 startPrice;
        uint128 floorPrice;
        uint40 startedAt;
        uint32 duration;
        AuctionStatus status;
        uint256[] receiptIds;
    }

    /// @notice Auction parameters set by CREDIT_ADMIN.
    /// @param startPremiumBps start price over collateral value (e.g. 2,000: start at 120%).
    /// @param floorBps floor as a share of collateral value (e.g. 5,000: 50%).
    /// @param durationSeconds time from start price to floor.
    struct AuctionParams {
        uint16 startPremiumBps;
        uint16 floorBps;
        uint32 durationSeconds;
    }

    /// @notice Auction `auctionId` of `loanId` started for the lot `receiptIds`.
    event AuctionStarted(
        uint256 indexed auctionId,
        uint256 indexed loanId,
        uint256 startPrice,
        uint256 floorPrice,
        uint256 endsAt,
        uint256[] receiptIds
    );

    /// @notice `buyer` bought auction `auctionId` for `price`.
    event AuctionBought(
        uint256 indexed auctionId,
        uint256 indexed loanId,
        address indexed buyer,
        uint256 price
    );

    /// @notice Auction `auctionId` expired unsold; its receipts went to `custodian`.
    event AuctionExpired(uint256 indexed auctionId, uint256 indexed loanId, address indexed custodian);

    /// @notice The vault lowered auction `auctionId`'s floor to `floorPrice` (a credit-admin decision to accept
    /// `reservePrice`); the price now falls from the start price to it over the same duration.
    event AuctionFloorLowered(uint256 indexed auctionId, uint256 reservePrice, uint256 floorPrice);

    /// @notice The credit admin set the auction parameters.
    event AuctionParamsSet(AuctionParams params);

    /// @notice Governance set the recovery custodian.
    event RecoveryCustodianSet(address indexed custodian);

    /// @notice A zero address where an account is required.
    error AuctionZeroAddress();

    /// @notice Auction `auctionId` is `status`, which does not allow the call.
    error AuctionBadStatus(uint256 auctionId, AuctionStatus status);

    /// @notice Auction `auctionId` ended at `endsAt`; it can only expire.
    error AuctionEnded(uint256 auctionId, uint256 endsAt);

    /// @notice Auction `auctionId` runs until `endsAt`; it cannot expire before.
    error AuctionNotEnded(uint256 auctionId, uint256 endsAt);

    /// @notice The price `price` is above the buyer's limit `maxPrice`.
    error AuctionPriceAboveMax(uint256 price, uint256 maxPrice);

    /// @notice `buyer` is not an allowlisted receipt holder.
    error AuctionBuyerNotAllowed(address buyer);

    /// @notice A lot with no receipt, or collateral value zero.
    error AuctionEmptyLot(uint256 loanId);

    /// @notice `loanId` has been auctioned already (a loan is auctioned at most once).
    error AuctionAlreadyStarted(uint256 loanId);

    /// @notice The start price `startPrice` does not fit the auction's 128-bit price.
    error AuctionPriceOverflow(uint256 startPrice);

    /// @notice A lower floor for auction `auctionId` must be below its floor now, `floorPrice`; `reservePrice` is not.
    error AuctionFloorNotLowered(uint256 auctionId, uint256 reservePrice, uint256 floorPrice);

    /// @notice Auction `auctionId` cannot sell below `minFloorPrice` (its loan's maximum LTV of the collateral, or the
    /// floor parameter, whichever is higher); `reservePrice` is below it.
    error AuctionReserveBelowMinFloor(uint256 auctionId, uint256 reservePrice, uint256 minFloorPrice);

    /// @notice An auction parameter is out of range.
    error AuctionInvalidParam(bytes32 field, uint256 value);

    /// @notice Starts a Dutch auction of `receiptIds` (already transferred to this contract) for `loanId`, priced
    /// off `collateralValue`. LOAN_VAULT only. The auction id is `loanId`. The price falls from
    /// `collateralValue x (1 + startPremium)` to a floor of `collateralValue x max(floorBps, maxLtvBps, reserve)`,
    /// in whole bps rounded up, so the floor price is at least `reservePrice` (and at most the start price).
    /// @param reservePrice the lowest proceeds the vault accepts without a credit-admin decision.
    /// @param maxLtvBps the loan's maximum LTV: the floor never falls below it, even by a decision.
    function start(
        uint256 loanId,
        uint256[] calldata receiptIds,
        uint256 collateralValue,
        uint256 reservePrice,
        uint256 maxLtvBps
    ) external returns (uint256 auctionId);

    /// @notice Lowers live auction `auctionId`'s floor so that it sells for as little as `reservePrice` (the floor
    /// becomes the lowest whole bps of collateral at or above it). LOAN_VAULT only: the vault's `lowerReserve` (a
    /// CREDIT_ADMIN decision) marks the loan down before it calls. Reverts below the auction's minimum floor or unless
    /// the floor goes down. Returns the new floor price.
    function lowerFloor(uint256 auctionId, uint256 reservePrice) external returns (uint256 floorPrice);

    /// @notice Buys auction `auctionId` at the current price if it is at most `maxPrice`: the caller pays USDai to
    /// the LoanVault (approve this contract first) and receives the lot. RECEIPT_HOLDER buyers only, and never the
    /// loan's own borrower (`ILoanVault.LoanVaultBuyerIsBorrower`); never paused.
    function buy(uint256 auctionId, uint256 maxPrice) external returns (uint256 price);

    /// @notice Ends an unsold auction after its duration: the receipts go to the recovery custodian and the loan is
    /// written off. Anyone; never paused.
    function expire(uint256 auctionId) external;

    /// @notice Sets the auction parameters for future auctions. CREDIT_ADMIN only.
    function setAuctionParams(AuctionParams calldata params) external;

    /// @notice Sets the account (a RECEIPT_HOLDER) that takes unsold receipts. DEFAULT_ADMIN only.
    function setRecoveryCustodian(address custodian) external;

    /// @notice Current price of auction `auctionId` (reverts unless live and not ended).
    function price(uint256 auctionId) external view returns (uint256);

    /// @notice Auction `auctionId`.
    function auctionOf(uint256 auctionId) external view returns (Auction memory);

    /// @notice The lowest floor auction `auctionId` can be lowered to (its loan's maximum LTV of the collateral, or
    /// the floor parameter at its start, whichever is higher), in USDai; 0 for no auction.
    function minFloorOf(uint256 auctionId) external view returns (uint256);

    /// @notice The auction of `loanId`: `loanId` once one has started, 0 before.
    function auctionOfLoan(uint256 loanId) external view returns (uint256);

    /// @notice The auction parameters.
    function auctionParams() external view returns (AuctionParams memory);

    /// @notice The recovery custodian.
    function recoveryCustodian() external view returns (address);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ICollateralAuction} from "../interfaces/ICollateralAuction.sol";
import {ILoanVault} from "../interfaces/ILoanVault.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {BPS} from "../libraries/Constants.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {CREDIT_ADMIN_ROLE, LOAN_VAULT_ROLE, RECEIPT_HOLDER_ROLE} from "../libraries/Roles.sol";

/// @title CollateralAuction
/// @notice Dutch auctions of defaulted loans' receipts. Proceeds go straight to the LoanVault, which repays sUSDai,
/// returns any surplus to the borrower and writes any shortfall off.
/// @dev An auction is keyed by its loan id and takes one fresh slot: the start price, the timing, and the parameters
/// in force at its start (the floor is derived from them). The lot's receipt ids are read from the LoanVault, which
/// keeps the loan's packed list, rather than copied. `buy` settles the loan before it sends the receipts, so the buyer's
/// `onERC721Received` runs after every state change, and every entry point is nonReentrant.
/// @custom:oz-upgrades-unsafe-allow state-variable-immutable
contract CollateralAuction is ICollateralAuction, ProtocolUpgradeable {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    uint256 internal constant MAX_START_PREMIUM_BPS = 10_000;
    uint256 internal constant MIN_DURATION_SECONDS = 1 hours;
    uint256 internal constant MAX_DURATION_SECONDS = 30 days;

    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    ILoanVault internal immutable LOAN_VAULT;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IERC20 internal immutable USDAI;
    /// @custom:oz-upgrades-unsafe-allow state-variable-immutable
    IERC721 internal immutable RECEIPTS;

    /// @dev One auction in one slot. `startPremiumBps` is the parameter at the start and `floorBps` the lot's floor
    /// (the parameter, the loan's maximum LTV or the reserve, whichever is highest, until the vault lowers it), so a
    /// later `setAuctionParams` never moves a running auction's curve. `minFloorBps` is the floor it can never go
    /// below (the higher of the parameter and the maximum LTV); zero on auctions started before it existed, whose
    /// floor then cannot be lowered at all (`_minFloorBps`).
    struct AuctionSlot {
        uint128 startPrice;
        uint40 startedAt;
        uint32 duration;
        AuctionStatus status;
        uint16 startPremiumBps;
        uint16 floorBps;
        uint16 minFloorBps;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.CollateralAuction
    struct CollateralAuctionStorage {
        AuctionParams params;
        address recoveryCustodian;
        mapping(uint256 loanId => AuctionSlot) auctions;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.CollateralAuction")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION =
        0x3c95aae4a065961290c9a51b2ec0b8c4cb1d238d81f6ea1c2ab360bae92ab700;

    function _getStorage() private pure returns (CollateralAuctionStorage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION
        }
    }

    /// @param loanVault_ the LoanVault whose receipts this contract sells.
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ILoanVault loanVault_, IERC20 usdai_, IERC721 receipts_) {
        LOAN_VAULT = loanVault_;
        USDAI = usdai_;
        RECEIPTS = receipts_;
    }

    /// @notice Initializes the proxy: `admin` gets DEFAULT_ADMIN; unsold receipts go to `custodian`.
    function initialize(
        address admin,
        address custodian,
        AuctionParams calldata params
    ) external initializer {
        if (admin == address(0) || custodian == address(0)) revert AuctionZeroAddress();
        __ProtocolUpgradeable_init(admin);
        CollateralAuctionStorage storage $ = _getStorage();
        _setParams($, params);
        $.recoveryCustodian = custodian;
        emit RecoveryCustodianSet(custodian);
    }

    /// @inheritdoc ICollateralAuction
    function start(
        uint256 loanId,
        uint256[] calldata receiptIds,
        uint256 collateralValue,
        uint256 reservePrice,
        uint256 maxLtvBps
    ) external onlyRole(LOAN_VAULT_ROLE) nonReentrant returns (uint256 auctionId) {
        if (receiptIds.length == 0 || collateralValue == 0) revert AuctionEmptyLot(loanId);
        CollateralAuctionStorage storage $ = _getStorage();
        AuctionSlot storage stored = $.auctions[loanId];
        if (stored.status != AuctionStatus.None) revert AuctionAlreadyStarted(loanId);
        AuctionSlot memory a = _newAuction($.params, collateralValue, reservePrice, maxLtvBps);
        $.auctions[loanId] = a;
        auctionId = loanId;
        emit AuctionStarted(
            auctionId,
            loanId,
            a.startPrice,
            _floorPrice(a),
            block.timestamp + a.duration,
            receiptIds
        );
    }

    /// @inheritdoc ICollateralAuction
    function buy(uint256 auctionId, uint256 maxPrice) external nonReentrant returns (uint256 price_) {
        AuctionSlot storage stored = _getStorage().auctions[auctionId];
        AuctionSlot memory a = stored;
        _requireLive(auctionId, a);
        uint256 endsAt = uint256(a.startedAt) + a.duration;
        if (block.timestamp > endsAt) revert AuctionEnded(auctionId, endsAt);
        if (!IAccessControl(address(RECEIPTS)).hasRole(RECEIPT_HOLDER_ROLE, msg.sender)) {
            revert AuctionBuyerNotAllowed(msg.sender);
        }
        price_ = _price(a);
        if (price_ > maxPrice) revert AuctionPriceAboveMax(price_, maxPrice);
        uint256 loanId = auctionId;
        stored.status = AuctionStatus.Sold;
        emit AuctionBought(auctionId, loanId, msg.sender, price_);

        USDAI.safeTransferFrom(msg.sender, address(LOAN_VAULT), price_);
        _sendLot(LOAN_VAULT.onAuctionSettled(loanId, price_, msg.sender), msg.sender, true);
    }

    /// @inheritdoc ICollateralAuction
    function expire(uint256 auctionId) external nonReentrant {
        CollateralAuctionStorage storage $ = _getStorage();
        AuctionSlot storage a = $.auctions[auctionId];
        _requireLive(auctionId, a);
        uint256 endsAt = uint256(a.startedAt) + a.duration;
        if (block.timestamp <= endsAt) revert AuctionNotEnded(auctionId, endsAt);
        uint256 loanId = auctionId;
        address custodian = $.recoveryCustodian;
        a.status = AuctionStatus.Expired;
        emit AuctionExpired(auctionId, loanId, custodian);

        _sendLot(LOAN_VAULT.onAuctionSettled(loanId, 0, address(0)), custodian, false);
    }

    /// @inheritdoc ICollateralAuction
    function lowerFloor(
        uint256 auctionId,
        uint256 reservePrice
    ) external onlyRole(LOAN_VAULT_ROLE) nonReentrant returns (uint256 floorPrice) {
        AuctionSlot storage stored = _getStorage().auctions[auctionId];
        AuctionSlot memory a = stored;
        _requireLive(auctionId, a);
        uint256 endsAt = uint256(a.startedAt) + a.duration;
        if (block.timestamp > endsAt) revert AuctionEnded(auctionId, endsAt);
        uint256 minFloorBps = _minFloorBps(a);
        uint256 minFloorPrice = _priceAtBps(a, minFloorBps);
        if (reservePrice < minFloorPrice) {
            revert AuctionReserveBelowMinFloor(auctionId, reservePrice, minFloorPrice);
        }
        // The lowest whole bps of the start price's base at or above the reserve (so the floor price covers it).
        uint256 floorBps = reservePrice.mulDivUp(BPS + a.startPremiumBps, a.startPrice).max(minFloorBps);
        if (floorBps >= a.floorBps) revert AuctionFloorNotLowered(auctionId, reservePrice, _floorPrice(a));
        stored.floorBps = uint16(floorBps);
        a.floorBps = uint16(floorBps);
        floorPrice = _floorPrice(a);
        emit AuctionFloorLowered(auctionId, reservePrice, floorPrice);
    }

    /// @inheritdoc ICollateralAuction
    function setAuctionParams(AuctionParams calldata params) external onlyRole(CREDIT_ADMIN_ROLE) {
        _setParams(_getStorage(), params);
    }

    /// @inheritdoc ICollateralAuction
    function setRecoveryCustodian(address custodian) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (custodian == address(0)) revert AuctionZeroAddress();
        _getStorage().recoveryCustodian = custodian;
        emit RecoveryCustodianSet(custodian);
    }

    /// @inheritdoc ICollateralAuction
    function price(uint256 auctionId) external view returns (uint256) {
        AuctionSlot storage a = _getStorage().auctions[auctionId];
        _requireLive(auctionId, a);
        uint256 endsAt = uint256(a.startedAt) + a.duration;
        if (block.timestamp > endsAt) revert AuctionEnded(auctionId, endsAt);
        return _price(a);
    }

    /// @inheritdoc ICollateralAuction
    function auctionOf(uint256 auctionId) external view returns (Auction memory auction) {
        AuctionSlot storage a = _getStorage().auctions[auctionId];
        if (a.status == AuctionStatus.None) return auction;
        auction = Auction({
            loanId: auctionId,
            startPrice: a.startPrice,
            floorPrice: uint128(_floorPrice(a)),
            startedAt: a.startedAt,
            duration: a.duration,
            status: a.status,
            receiptIds: LOAN_VAULT.receiptsOf(auctionId)
        });
    }

    /// @inheritdoc ICollateralAuction
    function minFloorOf(uint256 auctionId) external view returns (uint256) {
        AuctionSlot memory a = _getStorage().auctions[auctionId];
        if (a.status == AuctionStatus.None) return 0;
        return _priceAtBps(a, _minFloorBps(a));
    }

    /// @inheritdoc ICollateralAuction
    function auctionOfLoan(uint256 loanId) external view returns (uint256) {
        return _getStorage().auctions[loanId].status == AuctionStatus.None ? 0 : loanId;
    }

    /// @inheritdoc ICollateralAuction
    function auctionParams() external view returns (AuctionParams memory) {
        return _getStorage().params;
    }

    /// @inheritdoc ICollateralAuction
    function recoveryCustodian() external view returns (address) {
        return _getStorage().recoveryCustodian;
    }

    /// @dev Linear from the start price to the floor over the duration, rounded up (the buyer never pays less).
    function _price(AuctionSlot memory a) private view returns (uint256) {
        uint256 startPrice = a.startPrice;
        uint256 elapsed = block.timestamp - a.startedAt;
        return startPrice - (startPrice - _floorPrice(a)).mulDivDown(elapsed, a.duration);
    }

    /// @dev `floorBps` of the collateral value, i.e. of `startPrice / (1 + startPremium)`, rounded up.
    function _floorPrice(AuctionSlot memory a) private pure returns (uint256) {
        return _priceAtBps(a, a.floorBps);
    }

    /// @dev A new lot under the parameters in force. Its floor and minimum floor are in bps of its collateral value, at
    /// most the start price: the minimum is the floor parameter or the loan's maximum LTV, whichever is higher; the
    /// floor is the reserve in whole bps rounded up (so the floor price is at least the reserve), never below the
    /// minimum.
    function _newAuction(
        AuctionParams memory params,
        uint256 collateralValue,
        uint256 reservePrice,
        uint256 maxLtvBps
    ) private view returns (AuctionSlot memory) {
        uint256 topBps = BPS + params.startPremiumBps;
        uint256 startPrice = collateralValue.mulDivUp(topBps, BPS);
        if (startPrice > type(uint128).max) revert AuctionPriceOverflow(startPrice);
        uint256 minFloorBps = uint256(params.floorBps).max(maxLtvBps).min(topBps);
        return
            AuctionSlot({
                startPrice: uint128(startPrice),
                startedAt: uint40(block.timestamp),
                duration: params.durationSeconds,
                status: AuctionStatus.Live,
                startPremiumBps: params.startPremiumBps,
                floorBps: uint16(minFloorBps.max(reservePrice.mulDivUp(BPS, collateralValue).min(topBps))),
                minFloorBps: uint16(minFloorBps)
            });
    }

    /// @dev The floor an auction can be lowered to, in bps (its own floor for an auction from before the minimum).
    function _minFloorBps(AuctionSlot memory a) private pure returns (uint256) {
        return a.minFloorBps == 0 ? a.floorBps : a.minFloorBps;
    }

    /// @dev `bps` of the collateral value, rounded up.
    function _priceAtBps(AuctionSlot memory a, uint256 bps) private pure returns (uint256) {
        return uint256(a.startPrice).mulDivUp(bps, BPS + a.startPremiumBps);
    }

    function _requireLive(uint256 auctionId, AuctionSlot memory a) private pure {
        AuctionStatus status = a.status;
        if (status != AuctionStatus.Live) revert AuctionBadStatus(auctionId, status);
    }

    /// @dev Sends the lot `ids` (as the LoanVault returned them on settlement) to `to`: a safe transfer to a buyer, a
    /// plain one to the recovery custodian.
    function _sendLot(uint256[] memory ids, address to, bool safe) private {
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            if (safe) RECEIPTS.safeTransferFrom(address(this), to, ids[i]);
            else RECEIPTS.transferFrom(address(this), to, ids[i]);
        }
    }

    function _setParams(CollateralAuctionStorage storage $, AuctionParams calldata params) private {
        if (params.startPremiumBps > MAX_START_PREMIUM_BPS) {
            revert AuctionInvalidParam("startPremiumBps", params.startPremiumBps);
        }
        if (params.floorBps == 0 || params.floorBps > BPS + params.startPremiumBps) {
            revert AuctionInvalidParam("floorBps", params.floorBps);
        }
        uint256 duration = params.durationSeconds;
        if (duration < MIN_DURATION_SECONDS || duration > MAX_DURATION_SECONDS) {
            revert AuctionInvalidParam("durationSeconds", duration);
        }
        $.params = params;
        emit AuctionParamsSet(params);
    }
}

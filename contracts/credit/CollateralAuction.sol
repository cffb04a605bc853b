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

    /// @dev One auction in one slot. `floorBps` and `startPremiumBps` are the parameters at the start, so a later
    /// `setAuctionParams` never moves a running auction's curve.
    struct AuctionSlot {
        uint128 startPrice;
        uint40 startedAt;
        uint32 duration;
        AuctionStatus status;
        uint16 startPremiumBps;
        uint16 floorBps;
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
        uint256 collateralValue
    ) external onlyRole(LOAN_VAULT_ROLE) nonReentrant returns (uint256 auctionId) {
        if (receiptIds.length == 0 || collateralValue == 0) revert AuctionEmptyLot(loanId);
        CollateralAuctionStorage storage $ = _getStorage();
        AuctionSlot storage stored = $.auctions[loanId];
        if (stored.status != AuctionStatus.None) revert AuctionAlreadyStarted(loanId);
        AuctionParams memory params = $.params;
        uint256 startPrice = collateralValue.mulDivUp(BPS + params.startPremiumBps, BPS);
        if (startPrice > type(uint128).max) revert AuctionPriceOverflow(startPrice);
        AuctionSlot memory a = AuctionSlot({
            startPrice: uint128(startPrice),
            startedAt: uint40(block.timestamp),
            duration: params.durationSeconds,
            status: AuctionStatus.Live,
            startPremiumBps: params.startPremiumBps,
            floorBps: params.floorBps
        });
        $.auctions[loanId] = a;
        auctionId = loanId;
        emit AuctionStarted(
            auctionId,
            loanId,
            startPrice,
            _floorPrice(a),
            block.timestamp + params.durationSeconds,
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
        return uint256(a.startPrice).mulDivUp(a.floorBps, BPS + a.startPremiumBps);
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

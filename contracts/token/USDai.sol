// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable-next-line max-line-length
import {ERC20PermitUpgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

import {IUSDai, IUSDaiYieldReceiver} from "../interfaces/IUSDai.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {PAUSER_ROLE, RESERVE_MANAGER_ROLE} from "../libraries/Roles.sol";
import {USD_DECIMALS} from "../libraries/Constants.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title USDai
/// @notice The protocol's dollar: minted 1:1 against a reserve stablecoin whose idle reserves earn T-bill yield.
/// @dev Trust assumptions: the reserve token is a plain stablecoin (fee-on-transfer deliveries are refused) and
/// the T-bill vault is an ERC-4626 chosen by governance whose `previewRedeem` values the position honestly.
contract USDai is IUSDai, ProtocolUpgradeable, ERC20PermitUpgradeable {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    /// @custom:storage-location erc7201:gpucredit.storage.USDai
    struct USDaiStorage {
        // slot 0: read together by deposit and redeem
        IERC20 reserveToken;
        uint64 reserveScale;
        bool redemptionsPaused;
        // slot 1
        IERC4626 tbillVault;
        // slot 2
        address yieldRecipient;
        bool notifyYieldRecipient;
        // slot 3
        uint256 supplyCap;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.USDai")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant USDAI_STORAGE_LOCATION =
        0x3bd316214fb9cd205c807014111197891938a533581967729a3caa426f313900;

    function _getUSDaiStorage() private pure returns (USDaiStorage storage $) {
        assembly {
            $.slot := USDAI_STORAGE_LOCATION
        }
    }

    /// @notice Initializes the proxy.
    /// @param admin Governance (DEFAULT_ADMIN_ROLE).
    /// @param reserveToken_ The reserve stablecoin; its decimals are read, at most 18.
    /// @param tbillVault_ The ERC-4626 T-bill vault over the reserve token, or zero for none yet.
    /// @param yieldRecipient_ Receiver of harvested yield.
    /// @param supplyCap_ Supply cap in USDai units.
    function initialize(
        address admin,
        IERC20 reserveToken_,
        IERC4626 tbillVault_,
        address yieldRecipient_,
        uint256 supplyCap_
    ) external initializer {
        if (admin == address(0) || address(reserveToken_) == address(0)) revert USDaiZeroAddress();
        uint8 reserveDecimals = IERC20Metadata(address(reserveToken_)).decimals();
        if (reserveDecimals > USD_DECIMALS) revert USDaiUnsupportedDecimals(reserveDecimals);

        __ERC20_init("USDai", "USDai");
        __ERC20Permit_init("USDai");
        __ProtocolUpgradeable_init(admin);

        USDaiStorage storage $ = _getUSDaiStorage();
        $.reserveToken = reserveToken_;
        $.reserveScale = uint64(10 ** (USD_DECIMALS - reserveDecimals));
        _setTBillVault($, tbillVault_);
        _setYieldRecipient($, yieldRecipient_);
        $.supplyCap = supplyCap_;
        emit SupplyCapSet(supplyCap_);
    }

    // ================================================================ user entry points

    /// @inheritdoc IUSDai
    function deposit(
        uint256 reserveAmount,
        uint256 minOut,
        address to
    ) external whenNotPaused nonReentrant returns (uint256 minted) {
        if (reserveAmount == 0) revert USDaiZeroAmount();
        if (to == address(0)) revert USDaiZeroAddress();
        USDaiStorage storage $ = _getUSDaiStorage();
        minted = reserveAmount * $.reserveScale;
        if (minted < minOut) revert USDaiSlippage(minted, minOut);
        uint256 newSupply = totalSupply() + minted;
        if (newSupply > $.supplyCap) revert USDaiSupplyCapExceeded(newSupply, $.supplyCap);

        _mint(to, minted);
        emit Deposited(msg.sender, to, reserveAmount, minted);

        // Interaction last. The balance check refuses fee-on-transfer deliveries: minting on a nominal amount
        // the contract never received would leave USDai under-reserved.
        IERC20 reserve = $.reserveToken;
        uint256 balanceBefore = reserve.balanceOf(address(this));
        reserve.safeTransferFrom(msg.sender, address(this), reserveAmount);
        uint256 received = reserve.balanceOf(address(this)) - balanceBefore;
        if (received != reserveAmount) revert USDaiTransferShortfall(reserveAmount, received);
    }

    /// @inheritdoc IUSDai
    function redeem(
        uint256 amount,
        uint256 minOut,
        address to
    ) external nonReentrant returns (uint256 reserveAmount) {
        if (to == address(0)) revert USDaiZeroAddress();
        USDaiStorage storage $ = _getUSDaiStorage();
        if ($.redemptionsPaused) revert USDaiRedemptionsPaused();
        uint256 scale = $.reserveScale;
        reserveAmount = amount / scale;
        if (reserveAmount == 0) {
            if (amount == 0) revert USDaiZeroAmount();
            revert USDaiBelowReserveUnit(amount, scale);
        }
        if (reserveAmount < minOut) revert USDaiSlippage(reserveAmount, minOut);
        IERC20 reserve = $.reserveToken;
        uint256 liquid = reserve.balanceOf(address(this));
        uint256 shortfall = reserveAmount.zeroFloorSub(liquid);
        IERC4626 vault = $.tbillVault;
        if (shortfall != 0) {
            uint256 withdrawable = address(vault) == address(0) ? 0 : vault.maxWithdraw(address(this));
            if (shortfall > withdrawable)
                revert USDaiInsufficientReserves(reserveAmount, liquid + withdrawable);
        }

        uint256 burned = reserveAmount * scale;
        _burn(msg.sender, burned);
        emit Redeemed(msg.sender, to, burned, reserveAmount);

        if (shortfall != 0) {
            uint256 shares = vault.withdraw(shortfall, address(this), address(this));
            emit ReservesDeallocated(shortfall, shares);
        }
        reserve.safeTransfer(to, reserveAmount);
    }

    /// @inheritdoc IUSDai
    function harvest() external nonReentrant returns (uint256 amount) {
        amount = surplus();
        if (amount == 0) return 0;
        USDaiStorage storage $ = _getUSDaiStorage();
        address recipient = $.yieldRecipient;

        _mint(recipient, amount);
        emit YieldHarvested(recipient, amount);

        if ($.notifyYieldRecipient) IUSDaiYieldReceiver(recipient).onUSDaiHarvest(amount);
    }

    // ================================================================ reserve manager

    /// @inheritdoc IUSDai
    function allocate(
        uint256 reserveAmount
    ) external onlyRole(RESERVE_MANAGER_ROLE) nonReentrant returns (uint256 shares) {
        if (reserveAmount == 0) revert USDaiZeroAmount();
        USDaiStorage storage $ = _getUSDaiStorage();
        IERC4626 vault = $.tbillVault;
        if (address(vault) == address(0)) revert USDaiNoTBillVault();
        IERC20 reserve = $.reserveToken;
        uint256 liquid = reserve.balanceOf(address(this));
        if (reserveAmount > liquid) revert USDaiInsufficientLiquidity(reserveAmount, liquid);

        // Exact approval per allocation: no standing allowance is left on the vault.
        reserve.forceApprove(address(vault), reserveAmount);
        shares = vault.deposit(reserveAmount, address(this));
        emit ReservesAllocated(reserveAmount, shares);
    }

    /// @inheritdoc IUSDai
    function deallocate(
        uint256 reserveAmount
    ) external onlyRole(RESERVE_MANAGER_ROLE) nonReentrant returns (uint256 shares) {
        if (reserveAmount == 0) revert USDaiZeroAmount();
        IERC4626 vault = _getUSDaiStorage().tbillVault;
        if (address(vault) == address(0)) revert USDaiNoTBillVault();
        uint256 available = vault.maxWithdraw(address(this));
        if (reserveAmount > available) revert USDaiInsufficientAllocation(reserveAmount, available);

        shares = vault.withdraw(reserveAmount, address(this), address(this));
        emit ReservesDeallocated(reserveAmount, shares);
    }

    // ================================================================ governance and guardian

    /// @inheritdoc IUSDai
    function setSupplyCap(uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _getUSDaiStorage().supplyCap = cap;
        emit SupplyCapSet(cap);
    }

    /// @inheritdoc IUSDai
    function setYieldRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setYieldRecipient(_getUSDaiStorage(), recipient);
    }

    /// @inheritdoc IUSDai
    function setTBillVault(IERC4626 vault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        USDaiStorage storage $ = _getUSDaiStorage();
        IERC4626 current = $.tbillVault;
        if (address(current) != address(0)) {
            uint256 shares = current.balanceOf(address(this));
            if (shares != 0) revert USDaiTBillVaultNotEmpty(shares);
        }
        _setTBillVault($, vault);
    }

    /// @inheritdoc IUSDai
    function pauseRedemptions() external onlyRole(PAUSER_ROLE) {
        _setRedemptionsPaused(true);
    }

    /// @inheritdoc IUSDai
    function unpauseRedemptions() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRedemptionsPaused(false);
    }

    // ================================================================ views

    /// @inheritdoc IUSDai
    function totalReserves() public view returns (uint256) {
        return liquidReserves() + allocatedReserves();
    }

    /// @inheritdoc IUSDai
    function liquidReserves() public view returns (uint256) {
        return _getUSDaiStorage().reserveToken.balanceOf(address(this));
    }

    /// @inheritdoc IUSDai
    function allocatedReserves() public view returns (uint256) {
        IERC4626 vault = _getUSDaiStorage().tbillVault;
        if (address(vault) == address(0)) return 0;
        return vault.previewRedeem(vault.balanceOf(address(this)));
    }

    /// @inheritdoc IUSDai
    function surplus() public view returns (uint256) {
        return (totalReserves() * _getUSDaiStorage().reserveScale).zeroFloorSub(totalSupply());
    }

    /// @inheritdoc IUSDai
    function reserveToken() external view returns (IERC20) {
        return _getUSDaiStorage().reserveToken;
    }

    /// @inheritdoc IUSDai
    function reserveScale() external view returns (uint256) {
        return _getUSDaiStorage().reserveScale;
    }

    /// @inheritdoc IUSDai
    function tbillVault() external view returns (IERC4626) {
        return _getUSDaiStorage().tbillVault;
    }

    /// @inheritdoc IUSDai
    function yieldRecipient() external view returns (address) {
        return _getUSDaiStorage().yieldRecipient;
    }

    /// @inheritdoc IUSDai
    function supplyCap() external view returns (uint256) {
        return _getUSDaiStorage().supplyCap;
    }

    /// @inheritdoc IUSDai
    function redemptionsPaused() external view returns (bool) {
        return _getUSDaiStorage().redemptionsPaused;
    }

    // ================================================================ internal

    function _setTBillVault(USDaiStorage storage $, IERC4626 vault) private {
        if (address(vault) != address(0)) {
            address asset = vault.asset();
            if (asset != address($.reserveToken))
                revert USDaiTBillVaultAssetMismatch(asset, address($.reserveToken));
        }
        $.tbillVault = vault;
        emit TBillVaultSet(address(vault));
    }

    function _setYieldRecipient(USDaiStorage storage $, address recipient) private {
        if (recipient == address(0)) revert USDaiZeroAddress();
        bool notified = ERC165Checker.supportsInterface(recipient, type(IUSDaiYieldReceiver).interfaceId);
        $.yieldRecipient = recipient;
        $.notifyYieldRecipient = notified;
        emit YieldRecipientSet(recipient, notified);
    }

    function _setRedemptionsPaused(bool paused) private {
        USDaiStorage storage $ = _getUSDaiStorage();
        if ($.redemptionsPaused == paused) revert USDaiRedemptionsPauseUnchanged(paused);
        $.redemptionsPaused = paused;
        emit RedemptionsPauseSet(msg.sender, paused);
    }
}

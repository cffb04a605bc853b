// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title IUSDaiYieldReceiver
/// @notice Implemented by a yield recipient that accounts for harvested USDai as it arrives (sUSDai vests it).
interface IUSDaiYieldReceiver {
    /// @notice Called by USDai right after it minted `amount` of harvested yield to the receiver.
    function onUSDaiHarvest(uint256 amount) external;
}

/// @title IUSDai
/// @notice A dollar token minted 1:1 against a reserve stablecoin (USDC). Idle reserves are parked in an
/// ERC-4626 tokenized T-bill vault; the yield they earn (reserves above supply) is harvested to sUSDai.
/// @dev Units: USDai has 18 decimals; reserve amounts are in the reserve token's own decimals and convert by
/// `reserveScale() = 10 ** (18 - reserveDecimals)`. Conversions never let a user take out more than was put
/// in: a deposit mints exactly `reserveAmount * scale`; a redemption pays `floor(amount / scale)` and burns
/// only what it pays for, so no USDai is lost to rounding either.
interface IUSDai is IERC20 {
    // ---------------------------------------------------------------- events

    /// @notice `caller` deposited `reserveAmount` of the reserve token and `to` received `minted` USDai.
    event Deposited(address indexed caller, address indexed to, uint256 reserveAmount, uint256 minted);

    /// @notice `caller` burned `burned` USDai and `to` received `reserveAmount` of the reserve token.
    event Redeemed(address indexed caller, address indexed to, uint256 burned, uint256 reserveAmount);

    /// @notice `reserveAmount` moved from the liquid buffer into the T-bill vault for `shares`.
    event ReservesAllocated(uint256 reserveAmount, uint256 shares);

    /// @notice `reserveAmount` moved from the T-bill vault back to the liquid buffer, burning `shares`.
    event ReservesDeallocated(uint256 reserveAmount, uint256 shares);

    /// @notice `amount` USDai of surplus reserves were minted to `recipient`.
    event YieldHarvested(address indexed recipient, uint256 amount);

    /// @notice The supply cap is now `cap` (18 decimals).
    event SupplyCapSet(uint256 cap);

    /// @notice Harvested yield now goes to `recipient`; `notified` says whether it receives the
    /// `IUSDaiYieldReceiver` callback.
    event YieldRecipientSet(address indexed recipient, bool notified);

    /// @notice Reserves are now parked in `vault` (zero: none).
    event TBillVaultSet(address indexed vault);

    /// @notice Redemptions were paused (`paused = true`) or resumed by `account`.
    event RedemptionsPauseSet(address indexed account, bool paused);

    // ---------------------------------------------------------------- errors

    /// @notice An amount argument was zero.
    error USDaiZeroAmount();

    /// @notice An address argument was the zero address.
    error USDaiZeroAddress();

    /// @notice The reserve token has more than 18 decimals.
    error USDaiUnsupportedDecimals(uint8 decimals);

    /// @notice The operation would give `amountOut`, less than the caller's `minOut`.
    error USDaiSlippage(uint256 amountOut, uint256 minOut);

    /// @notice Minting would take the supply to `newSupply`, above `cap`.
    error USDaiSupplyCapExceeded(uint256 newSupply, uint256 cap);

    /// @notice Redemptions are paused by the guardian.
    error USDaiRedemptionsPaused();

    /// @notice The redemption pause is already `paused`.
    error USDaiRedemptionsPauseUnchanged(bool paused);

    /// @notice The reserve token delivered `received` instead of `expected` (fee-on-transfer tokens are refused).
    error USDaiTransferShortfall(uint256 expected, uint256 received);

    /// @notice `amount` USDai is less than one unit of the reserve token (`unit` USDai).
    error USDaiBelowReserveUnit(uint256 amount, uint256 unit);

    /// @notice A redemption needs `requested` reserve units; the buffer and the T-bill vault hold `available`.
    error USDaiInsufficientReserves(uint256 requested, uint256 available);

    /// @notice An allocation needs `requested` reserve units; the liquid buffer holds `liquid`.
    error USDaiInsufficientLiquidity(uint256 requested, uint256 liquid);

    /// @notice A deallocation needs `requested` reserve units; the T-bill vault releases at most `available`.
    error USDaiInsufficientAllocation(uint256 requested, uint256 available);

    /// @notice No T-bill vault is configured.
    error USDaiNoTBillVault();

    /// @notice The current T-bill vault still holds `shares` of USDai's reserves.
    error USDaiTBillVaultNotEmpty(uint256 shares);

    /// @notice The T-bill vault's asset is `asset`, not the reserve token `expected`.
    error USDaiTBillVaultAssetMismatch(address asset, address expected);

    // ---------------------------------------------------------------- user entry points

    /// @notice Deposits `reserveAmount` of the reserve token and mints `reserveAmount * reserveScale()` USDai to
    /// `to`.
    /// @dev Reverts while paused, above the supply cap, when the mint is below `minOut`, or when the reserve token
    /// delivers less than `reserveAmount` (fee-on-transfer).
    /// @param reserveAmount Reserve token units to pull from the caller (needs an allowance).
    /// @param minOut Minimum USDai to mint.
    /// @param to Receiver of the USDai.
    /// @return minted USDai minted (18 decimals).
    function deposit(uint256 reserveAmount, uint256 minOut, address to) external returns (uint256 minted);

    /// @notice Burns the caller's USDai and pays the reserve token to `to`, pulling from the T-bill vault when the
    /// liquid buffer is short.
    /// @dev Pays `floor(amount / reserveScale())` and burns only `paid * reserveScale()`; the sub-unit remainder
    /// stays with the caller. Works while deposits are paused; stops only under the separate redemption pause.
    /// @param amount USDai to redeem (18 decimals).
    /// @param minOut Minimum reserve units to receive.
    /// @param to Receiver of the reserve token.
    /// @return reserveAmount Reserve units paid.
    function redeem(uint256 amount, uint256 minOut, address to) external returns (uint256 reserveAmount);

    /// @notice Mints the surplus (reserves above supply) to the yield recipient; a no-op returning 0 when none.
    /// @dev Permissionless: the surplus is valued with the T-bill vault's `previewRedeem`, so the vault is a trusted
    /// dependency chosen by governance. The supply cap does not apply: the minted USDai is fully backed.
    /// @return amount USDai minted.
    function harvest() external returns (uint256 amount);

    // ---------------------------------------------------------------- reserve manager

    /// @notice Moves `reserveAmount` from the liquid buffer into the T-bill vault (RESERVE_MANAGER).
    /// @return shares T-bill vault shares received.
    function allocate(uint256 reserveAmount) external returns (uint256 shares);

    /// @notice Moves `reserveAmount` from the T-bill vault back into the liquid buffer (RESERVE_MANAGER);
    /// `type(uint256).max` redeems the whole position, leaving no dust shares behind.
    /// @return shares T-bill vault shares burned.
    function deallocate(uint256 reserveAmount) external returns (uint256 shares);

    // ---------------------------------------------------------------- governance and guardian

    /// @notice Sets the supply cap in USDai units (DEFAULT_ADMIN). A cap below the supply only stops new deposits.
    function setSupplyCap(uint256 cap) external;

    /// @notice Sets the recipient of harvested yield (DEFAULT_ADMIN). A recipient that reports
    /// `IUSDaiYieldReceiver` through ERC-165 is called back on every harvest.
    function setYieldRecipient(address recipient) external;

    /// @notice Replaces the T-bill vault (DEFAULT_ADMIN); the current one must hold none of USDai's reserves.
    /// `address(0)` disables allocation.
    function setTBillVault(IERC4626 vault) external;

    /// @notice Pauses redemptions (PAUSER). Separate from `pause()`, which stops deposits only.
    function pauseRedemptions() external;

    /// @notice Resumes redemptions (DEFAULT_ADMIN).
    function unpauseRedemptions() external;

    // ---------------------------------------------------------------- views

    /// @notice Reserves held, in reserve units: the liquid buffer plus the T-bill position at its redeemable value.
    function totalReserves() external view returns (uint256);

    /// @notice Reserve units in the liquid buffer.
    function liquidReserves() external view returns (uint256);

    /// @notice Reserve units the T-bill position would redeem for now.
    function allocatedReserves() external view returns (uint256);

    /// @notice Reserves above supply, in USDai units; zero when reserves are short.
    function surplus() external view returns (uint256);

    /// @notice The reserve stablecoin.
    function reserveToken() external view returns (IERC20);

    /// @notice USDai units per reserve unit: `10 ** (18 - reserveDecimals)`.
    function reserveScale() external view returns (uint256);

    /// @notice The tokenized T-bill vault (zero: none).
    function tbillVault() external view returns (IERC4626);

    /// @notice The recipient of harvested yield.
    function yieldRecipient() external view returns (address);

    /// @notice The supply cap in USDai units.
    function supplyCap() external view returns (uint256);

    /// @notice Whether redemptions are paused.
    function redemptionsPaused() external view returns (bool);
}

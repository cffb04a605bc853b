// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC4626Upgradeable.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IJuniorTranche, ILoanVaultJuniorHooks} from "../interfaces/IJuniorTranche.sol";
import {IERC7540Operator, IERC7540Redeem} from "../interfaces/IStakedUSDai.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {LOAN_VAULT_ROLE, REGISTRAR_ROLE} from "../libraries/Roles.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title JuniorTranche (jUSDai)
/// @notice First-loss capital: ERC-4626 deposits, ERC-7540 redemption requests with a lock-up and a coverage gate,
/// allowlisted holders (see `IJuniorTranche` for the economics).
/// @dev Rounding always favours the tranche: shares minted and assets paid round down, shares burned and assets
/// charged round up, the encumbrance is taken whole. The decimals offset is 0: OpenZeppelin's virtual share and asset
/// of 1 keep an empty tranche's price sane, and because assets are tracked internally a donation cannot move the
/// price, which closes the first-depositor inflation attack; only the loan vault can add value (`receiveInterest`).
/// Every call is O(1): one request slot per controller, one or two external views of the loan vault.
contract JuniorTranche is IJuniorTranche, ProtocolUpgradeable, ERC4626Upgradeable {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    /// @dev Basis points in one.
    uint256 internal constant BPS = 10_000;
    /// @dev Highest minimum coverage governance may set (the book fully covered).
    uint256 internal constant MAX_MIN_COVERAGE_BPS = 10_000;
    /// @dev Longest lock-up governance may set.
    uint256 internal constant MAX_LOCKUP_SECONDS = 365 days;

    /// @custom:storage-location erc7201:gpucredit.storage.JuniorTranche
    struct JuniorTrancheStorage {
        // slot 0: tracked USDai and the parameters every exit reads
        uint128 assets;
        uint32 lockupSeconds;
        uint16 minCoverageBps;
        // slot 1
        ILoanVaultJuniorHooks loanVault;
        mapping(address controller => RedeemRequestState) requests;
        mapping(address controller => mapping(address operator => bool)) operators;
        mapping(address holder => uint64) holderExpiry;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.JuniorTranche")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant JUNIOR_TRANCHE_STORAGE_LOCATION =
        0x13dd4d62342827ffc9532af6d1819b3a3da939b2cae47af41740818fe3d8b600;

    function _getStorage() private pure returns (JuniorTrancheStorage storage $) {
        assembly {
            $.slot := JUNIOR_TRANCHE_STORAGE_LOCATION
        }
    }

    /// @notice Initializes the proxy.
    /// @param admin Governance (DEFAULT_ADMIN_ROLE).
    /// @param usdai The USDai token (the tranche's asset).
    /// @param loanVault_ The loan vault encumbrance and coverage read, or zero until `setLoanVault` wires it.
    /// @param lockupSeconds_ Lock-up of redemption requests.
    /// @param minCoverageBps_ Minimum coverage of the loan book by junior assets.
    /// @dev ERC20Upgradeable's initializer is not called: `name` and `symbol` are constants of this contract. Its
    /// storage stays empty. No `syncJuniorAssets` here: the tranche holds nothing yet.
    /// @custom:oz-upgrades-unsafe-allow missing-initializer-call
    function initialize(
        address admin,
        IERC20 usdai,
        address loanVault_,
        uint256 lockupSeconds_,
        uint256 minCoverageBps_
    ) external initializer {
        if (admin == address(0) || address(usdai) == address(0)) revert JuniorTrancheZeroAddress();
        __ProtocolUpgradeable_init(admin);
        __ERC4626_init(usdai);

        JuniorTrancheStorage storage $ = _getStorage();
        $.loanVault = ILoanVaultJuniorHooks(loanVault_);
        emit LoanVaultSet(loanVault_);
        _setLockupSeconds($, lockupSeconds_);
        _setMinCoverageBps($, minCoverageBps_);
    }

    // ================================================================ ERC-4626 entry

    /// @inheritdoc IERC4626
    /// @dev Reverts with `JuniorTrancheWipedOut` into a wiped-out tranche and `JuniorTrancheNotAllowlisted` for a
    /// receiver that may not hold shares, before OpenZeppelin's `maxDeposit` check (which reports both as zero).
    function deposit(
        uint256 assets,
        address receiver
    ) public override(ERC4626Upgradeable, IERC4626) whenNotPaused nonReentrant returns (uint256 shares) {
        _checkEntry(receiver);
        shares = super.deposit(assets, receiver);
        _syncVault();
    }

    /// @inheritdoc IERC4626
    /// @dev Reverts like `deposit`.
    function mint(
        uint256 shares,
        address receiver
    ) public override(ERC4626Upgradeable, IERC4626) whenNotPaused nonReentrant returns (uint256 assets) {
        _checkEntry(receiver);
        assets = super.mint(shares, receiver);
        _syncVault();
    }

    /// @dev Credits the tracked assets before pulling the USDai (CEI; the guard covers the rest).
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        if (assets == 0 || shares == 0) revert JuniorTrancheZeroAmount();
        JuniorTrancheStorage storage $ = _getStorage();
        $.assets = _toUint128(uint256($.assets) + assets);
        super._deposit(caller, receiver, assets, shares);
    }

    // ================================================================ ERC-7540 requests

    /// @inheritdoc IERC7540Redeem
    /// @dev ERC-7540 authorization: the caller is `owner`, an operator of it, or spends its allowance. Topping up an
    /// existing request also needs the caller to be `controller` or its operator, and restarts the lock-up of the whole
    /// request at `now + lockupSeconds`. Stops while paused.
    function requestRedeem(
        uint256 shares,
        address controller,
        address owner
    ) external whenNotPaused nonReentrant returns (uint256 requestId) {
        if (shares == 0) revert JuniorTrancheZeroAmount();
        if (controller == address(0)) revert JuniorTrancheZeroAddress();
        JuniorTrancheStorage storage $ = _getStorage();
        RedeemRequestState storage request = $.requests[controller];
        uint256 requested = request.shares;
        if (requested != 0) _checkOperator($, controller);
        if (msg.sender != owner && !$.operators[owner][msg.sender])
            _spendAllowance(owner, msg.sender, shares);

        uint256 total = requested + shares;
        uint256 unlocksAt = block.timestamp + $.lockupSeconds;
        // Shares are not capped at 128 bits (a tranche drawn to dust prices entry very low), hence the wider field.
        if (total > type(uint192).max) revert JuniorTrancheAmountOverflow(total);
        request.shares = uint192(total);
        request.unlocksAt = uint64(unlocksAt);
        // The shares move into custody and keep bearing first loss until claimed.
        _transfer(owner, address(this), shares);
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        emit RedeemRequestLocked(controller, total, unlocksAt);
        return 0;
    }

    /// @inheritdoc IJuniorTranche
    function cancelRedeemRequest(address controller) external nonReentrant returns (uint256 shares) {
        JuniorTrancheStorage storage $ = _getStorage();
        _checkOperator($, controller);
        shares = $.requests[controller].shares;
        if (shares == 0) revert JuniorTrancheNoRequest(controller);
        delete $.requests[controller];
        emit RedeemRequestCancelled(controller, msg.sender, shares);
        // `_update` checks that the controller may receive shares.
        _transfer(address(this), controller, shares);
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        if (operator == address(0)) revert JuniorTrancheZeroAddress();
        _getStorage().operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    // ================================================================ ERC-7540 claims

    /// @inheritdoc IERC4626
    /// @dev ERC-7540 claim of `shares` of `controller`'s unlocked request (`owner` is the controller), priced now and
    /// rounding down; never paused. Reverts with `JuniorTrancheCoverageBreached` if the exit would leave junior assets
    /// below the minimum coverage of the loan book.
    function redeem(
        uint256 shares,
        address receiver,
        address controller
    ) public override(ERC4626Upgradeable, IERC4626) nonReentrant returns (uint256 assets) {
        if (shares == 0) revert JuniorTrancheZeroAmount();
        JuniorTrancheStorage storage $ = _getStorage();
        RedeemRequestState storage request = _checkClaim($, receiver, controller);
        _checkRequestShares(request, controller, shares);
        uint256 nav = totalAssets();
        assets = shares.mulDivDown(nav + 1, totalSupply() + 1);
        _claim($, request, nav, receiver, controller, assets, shares);
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540 claim of `assets`, burning shares of `controller`'s unlocked request priced now and rounding up;
    /// otherwise as `redeem`.
    function withdraw(
        uint256 assets,
        address receiver,
        address controller
    ) public override(ERC4626Upgradeable, IERC4626) nonReentrant returns (uint256 shares) {
        if (assets == 0) revert JuniorTrancheZeroAmount();
        JuniorTrancheStorage storage $ = _getStorage();
        RedeemRequestState storage request = _checkClaim($, receiver, controller);
        uint256 nav = totalAssets();
        shares = assets.mulDivUp(totalSupply() + 1, nav + 1);
        _checkRequestShares(request, controller, shares);
        _claim($, request, nav, receiver, controller, assets, shares);
    }

    // ================================================================ loan vault hooks

    /// @inheritdoc IJuniorTranche
    function drawCover(
        uint256 amountUsd
    ) external onlyRole(LOAN_VAULT_ROLE) nonReentrant returns (uint256 paidUsd) {
        JuniorTrancheStorage storage $ = _getStorage();
        uint256 tracked = $.assets;
        paidUsd = amountUsd.min(tracked);
        uint256 assetsAfter = tracked - paidUsd;
        $.assets = uint128(assetsAfter);
        emit CoverDrawn(amountUsd, paidUsd, assetsAfter);
        if (paidUsd != 0) IERC20(asset()).safeTransfer(msg.sender, paidUsd);
    }

    /// @inheritdoc IJuniorTranche
    /// @dev No transfer and no external call: the loan vault has pushed the USDai already, and the tranche trusts it
    /// for this as it trusts its `firstLossClaim()`.
    function receiveInterest(uint256 amountUsd) external onlyRole(LOAN_VAULT_ROLE) nonReentrant {
        JuniorTrancheStorage storage $ = _getStorage();
        uint128 assetsAfter = _toUint128(uint256($.assets) + amountUsd);
        $.assets = assetsAfter;
        emit InterestReceived(amountUsd, assetsAfter);
    }

    // ================================================================ registrar

    /// @inheritdoc IJuniorTranche
    function allow(address holder, uint64 expiry) external onlyRole(REGISTRAR_ROLE) {
        if (holder == address(0)) revert JuniorTrancheZeroAddress();
        if (expiry <= block.timestamp) revert JuniorTrancheExpiryPassed(expiry, block.timestamp);
        _getStorage().holderExpiry[holder] = expiry;
        emit HolderAllowed(holder, expiry);
    }

    /// @inheritdoc IJuniorTranche
    function revoke(address holder) external onlyRole(REGISTRAR_ROLE) {
        delete _getStorage().holderExpiry[holder];
        emit HolderRevoked(holder);
    }

    // ================================================================ governance

    /// @inheritdoc IJuniorTranche
    function setLoanVault(address loanVault_) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        JuniorTrancheStorage storage $ = _getStorage();
        ILoanVaultJuniorHooks current = $.loanVault;
        if (address(current) != address(0)) {
            uint256 claim = current.firstLossClaim();
            if (claim != 0) revert JuniorTrancheLoanVaultInUse(claim);
        }
        $.loanVault = ILoanVaultJuniorHooks(loanVault_);
        emit LoanVaultSet(loanVault_);
        _syncVault();
    }

    /// @inheritdoc IJuniorTranche
    function setMinCoverageBps(uint256 minCoverageBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinCoverageBps(_getStorage(), minCoverageBps_);
    }

    /// @inheritdoc IJuniorTranche
    function setLockupSeconds(uint256 lockupSeconds_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLockupSeconds(_getStorage(), lockupSeconds_);
    }

    // ================================================================ ERC-4626 views

    /// @inheritdoc IERC4626
    /// @dev Tracked assets less the encumbrance, `min(loanVault.firstLossClaim(), tracked)`. O(1).
    function totalAssets() public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        uint256 tracked = _getStorage().assets;
        return tracked - _encumbered(tracked);
    }

    /// @inheritdoc IERC4626
    /// @dev Entry is priced at the tracked assets (impaired loans at their whole claim; see `IJuniorTranche`). Rounds
    /// down.
    function previewDeposit(
        uint256 assets
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return assets.mulDivDown(totalSupply() + 1, uint256(_getStorage().assets) + 1);
    }

    /// @inheritdoc IERC4626
    /// @dev Priced like `previewDeposit`; rounds up.
    function previewMint(
        uint256 shares
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return shares.mulDivUp(uint256(_getStorage().assets) + 1, totalSupply() + 1);
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while paused, into a wiped-out tranche, or for a receiver that may not hold shares; otherwise the
    /// tracked-assets slot's headroom.
    function maxDeposit(
        address receiver
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        JuniorTrancheStorage storage $ = _getStorage();
        if (paused() || !_isValid($, receiver) || _wipedOut($.assets)) return 0;
        return type(uint128).max - $.assets;
    }

    /// @inheritdoc IERC4626
    function maxMint(address receiver) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return previewDeposit(maxDeposit(receiver));
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: what `controller` can claim now: the value of its unlocked request, at most what coverage
    /// lets out.
    function maxWithdraw(
        address controller
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        RedeemRequestState memory request = _getStorage().requests[controller];
        if (request.shares == 0 || block.timestamp < request.unlocksAt) return 0;
        uint256 nav = totalAssets();
        (, uint256 maxOut) = _maxAssetsOut(nav);
        return uint256(request.shares).mulDivDown(nav + 1, totalSupply() + 1).min(maxOut);
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: `claimableRedeemRequest(0, controller)`.
    function maxRedeem(
        address controller
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return _claimableShares(_getStorage().requests[controller]);
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: reverts for every caller and input.
    function previewWithdraw(uint256) public pure override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        revert JuniorTrancheAsyncPreview();
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: reverts for every caller and input.
    function previewRedeem(uint256) public pure override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        revert JuniorTrancheAsyncPreview();
    }

    // ================================================================ ERC-7540 views

    /// @inheritdoc IERC7540Redeem
    /// @dev The part of the request that is not claimable now (locked, or held back by coverage).
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        RedeemRequestState memory request = _getStorage().requests[controller];
        return request.shares - _claimableShares(request);
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev Zero while locked; then the largest share amount whose claim, priced now, keeps the coverage.
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _claimableShares(_getStorage().requests[controller]);
    }

    /// @inheritdoc IERC7540Operator
    function isOperator(address controller, address operator) external view returns (bool) {
        return _getStorage().operators[controller][operator];
    }

    /// @notice ERC-165: ERC-7540 operator (0xe3bc4e65) and async redeem (0x620ee8e4), ERC-7575 (0x2f0a18c5), and
    /// AccessControl.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return
            interfaceId == 0xe3bc4e65 ||
            interfaceId == 0x620ee8e4 ||
            interfaceId == 0x2f0a18c5 ||
            super.supportsInterface(interfaceId);
    }

    // ================================================================ protocol views

    /// @inheritdoc IJuniorTranche
    function checkCoverage(uint256 loanBookAfterUsd) external view {
        _requireCoverage(totalAssets(), loanBookAfterUsd, _getStorage().minCoverageBps);
    }

    /// @inheritdoc IJuniorTranche
    function coverageBps() external view returns (uint256) {
        uint256 book = _loanBook(_getStorage().loanVault);
        if (book == 0) return type(uint256).max;
        return totalAssets().mulDivDown(BPS, book);
    }

    /// @inheritdoc IJuniorTranche
    function trackedAssets() external view returns (uint256) {
        return _getStorage().assets;
    }

    /// @inheritdoc IJuniorTranche
    function encumberedAssets() external view returns (uint256) {
        return _encumbered(_getStorage().assets);
    }

    /// @inheritdoc IJuniorTranche
    function seniorProtectedAssets() external view returns (uint256) {
        return _getStorage().assets;
    }

    /// @inheritdoc IJuniorTranche
    function redeemRequest(address controller) external view returns (RedeemRequestState memory) {
        return _getStorage().requests[controller];
    }

    /// @inheritdoc IJuniorTranche
    function holderExpiry(address holder) external view returns (uint256) {
        return _getStorage().holderExpiry[holder];
    }

    /// @inheritdoc IJuniorTranche
    function isAllowlisted(address holder) external view returns (bool) {
        return _isValid(_getStorage(), holder);
    }

    /// @inheritdoc IJuniorTranche
    function loanVault() external view returns (address) {
        return address(_getStorage().loanVault);
    }

    /// @inheritdoc IJuniorTranche
    function minCoverageBps() external view returns (uint256) {
        return _getStorage().minCoverageBps;
    }

    /// @inheritdoc IJuniorTranche
    function lockupSeconds() external view returns (uint256) {
        return _getStorage().lockupSeconds;
    }

    /// @inheritdoc IJuniorTranche
    function share() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc IERC20Metadata
    function name() public pure override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return "Junior USDai";
    }

    /// @inheritdoc IERC20Metadata
    function symbol() public pure override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return "jUSDai";
    }

    /// @inheritdoc IERC20Metadata
    function decimals() public view override(ERC4626Upgradeable, IERC20Metadata) returns (uint8) {
        return super.decimals();
    }

    // ================================================================ internal

    /// @dev Registered notes: a mint or transfer must go to an allowlisted, unexpired account. Burns, and the
    /// tranche's own custody of requested shares, are exempt; the sender is not checked.
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to != address(this)) {
            JuniorTrancheStorage storage $ = _getStorage();
            if (!_isValid($, to)) revert JuniorTrancheNotAllowlisted(to, $.holderExpiry[to]);
        }
        super._update(from, to, value);
    }

    /// @dev Entry checks that `maxDeposit` alone would report as a bare zero.
    function _checkEntry(address receiver) private view {
        JuniorTrancheStorage storage $ = _getStorage();
        uint256 tracked = $.assets;
        if (_wipedOut(tracked))
            revert JuniorTrancheWipedOut(tracked, _firstLossClaim($.loanVault), totalSupply());
        if (!_isValid($, receiver)) revert JuniorTrancheNotAllowlisted(receiver, $.holderExpiry[receiver]);
    }

    /// @dev Nothing is left for new money: `totalAssets()` is zero while shares or a claim exist.
    function _wipedOut(uint256 tracked) private view returns (bool) {
        uint256 claim = _firstLossClaim(_getStorage().loanVault);
        return claim >= tracked && (claim != 0 || totalSupply() != 0);
    }

    /// @dev Caller, receiver and request checks shared by `redeem` and `withdraw`. The receiver must be allowlisted
    /// and unexpired, or be the controller itself and still listed (an expired holder can take its own money out).
    function _checkClaim(
        JuniorTrancheStorage storage $,
        address receiver,
        address controller
    ) private view returns (RedeemRequestState storage request) {
        _checkOperator($, controller);
        if (!_isValid($, receiver)) {
            uint256 expiry = $.holderExpiry[receiver];
            if (receiver != controller || expiry == 0) revert JuniorTrancheNotAllowlisted(receiver, expiry);
        }
        request = $.requests[controller];
    }

    /// @dev Reverts unless `shares` fit in `request` and it is unlocked.
    function _checkRequestShares(
        RedeemRequestState storage request,
        address controller,
        uint256 shares
    ) private view {
        uint256 requested = request.shares;
        if (shares > requested) revert JuniorTrancheExceedsRequest(controller, shares, requested);
        uint256 unlocksAt = request.unlocksAt;
        if (block.timestamp < unlocksAt) revert JuniorTrancheLocked(controller, unlocksAt);
    }

    /// @dev Checks that the exit keeps the coverage, then burns the shares, pays and reports the new assets.
    function _claim(
        JuniorTrancheStorage storage $,
        RedeemRequestState storage request,
        uint256 nav,
        address receiver,
        address controller,
        uint256 assets,
        uint256 shares
    ) private {
        // `assets <= nav`: the shares are part of the supply, and both roundings favour the tranche.
        uint256 minBps = $.minCoverageBps;
        if (minBps != 0) _requireCoverage(nav - assets, _loanBook($.loanVault), minBps);

        uint256 left = request.shares - shares;
        if (left == 0) delete $.requests[controller];
        else request.shares = uint192(left);
        $.assets -= uint128(assets);
        _burn(address(this), shares);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);

        if (assets != 0) IERC20(asset()).safeTransfer(receiver, assets);
        _syncVault();
    }

    /// @dev The largest share amount of an unlocked `request` whose claim, priced now, keeps the coverage: shares
    /// `s` pay `floor(s * (nav + 1) / (supply + 1))`, which stays within `maxOut` (see `_maxAssetsOut`) exactly for
    /// `s < ceil((maxOut + 1) * (supply + 1) / (nav + 1))`. Zero while locked or while coverage is already breached.
    function _claimableShares(RedeemRequestState memory request) private view returns (uint256) {
        if (request.shares == 0 || block.timestamp < request.unlocksAt) return 0;
        uint256 nav = totalAssets();
        (bool covered, uint256 maxOut) = _maxAssetsOut(nav);
        if (!covered) return 0;
        uint256 fits = (maxOut + 1).mulDivUp(totalSupply() + 1, nav + 1) - 1;
        return fits.min(request.shares);
    }

    /// @dev The most USDai an exit can take from `nav` and keep `(nav - out) * BPS >= minCoverageBps * loanBook`:
    /// `nav - ceil(minCoverageBps * loanBook / BPS)`. `covered` is false (and `maxOut` zero) when `nav` is already
    /// below that reserve, so that no exit, not even one paying nothing, passes.
    function _maxAssetsOut(uint256 nav) private view returns (bool covered, uint256 maxOut) {
        JuniorTrancheStorage storage $ = _getStorage();
        uint256 minBps = $.minCoverageBps;
        if (minBps == 0) return (true, nav);
        uint256 reserve = minBps.mulDivUp(_loanBook($.loanVault), BPS);
        if (nav < reserve) return (false, 0);
        return (true, nav - reserve);
    }

    function _requireCoverage(uint256 juniorAssets, uint256 book, uint256 minBps) private pure {
        if (juniorAssets * BPS < minBps * book)
            revert JuniorTrancheCoverageBreached(juniorAssets, book, minBps);
    }

    function _checkOperator(JuniorTrancheStorage storage $, address controller) private view {
        if (msg.sender != controller && !$.operators[controller][msg.sender]) {
            revert JuniorTrancheNotOperator(msg.sender, controller);
        }
    }

    function _isValid(JuniorTrancheStorage storage $, address holder) private view returns (bool) {
        return block.timestamp < $.holderExpiry[holder];
    }

    function _encumbered(uint256 tracked) private view returns (uint256) {
        return _firstLossClaim(_getStorage().loanVault).min(tracked);
    }

    function _firstLossClaim(ILoanVaultJuniorHooks vault) private view returns (uint256) {
        return address(vault) == address(0) ? 0 : vault.firstLossClaim();
    }

    function _loanBook(ILoanVaultJuniorHooks vault) private view returns (uint256) {
        return address(vault) == address(0) ? 0 : vault.loanBook();
    }

    /// @dev Reports the tracked assets to the loan vault, if there is one (last, after every effect).
    function _syncVault() private {
        JuniorTrancheStorage storage $ = _getStorage();
        ILoanVaultJuniorHooks vault = $.loanVault;
        if (address(vault) != address(0)) vault.syncJuniorAssets($.assets);
    }

    function _setMinCoverageBps(JuniorTrancheStorage storage $, uint256 minCoverageBps_) private {
        if (minCoverageBps_ > MAX_MIN_COVERAGE_BPS) {
            revert JuniorTrancheParamOutOfRange(minCoverageBps_, MAX_MIN_COVERAGE_BPS);
        }
        $.minCoverageBps = uint16(minCoverageBps_);
        emit MinCoverageSet(minCoverageBps_);
    }

    function _setLockupSeconds(JuniorTrancheStorage storage $, uint256 lockupSeconds_) private {
        if (lockupSeconds_ > MAX_LOCKUP_SECONDS)
            revert JuniorTrancheParamOutOfRange(lockupSeconds_, MAX_LOCKUP_SECONDS);
        $.lockupSeconds = uint32(lockupSeconds_);
        emit LockupSet(lockupSeconds_);
    }

    function _toUint128(uint256 amount) private pure returns (uint128) {
        if (amount > type(uint128).max) revert JuniorTrancheAmountOverflow(amount);
        return uint128(amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC4626Upgradeable.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IStakedUSDai, IERC7540Operator, IERC7540Redeem} from "../interfaces/IStakedUSDai.sol";
import {IUSDaiYieldReceiver} from "../interfaces/IUSDai.sol";
import {ILoanVaultAssets} from "../interfaces/ILoanVault.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {BLACKLIST_ROLE, LOAN_VAULT_ROLE, PAUSER_ROLE} from "../libraries/Roles.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title StakedUSDai (sUSDai)
/// @notice The yield share: ERC-4626 deposits, ERC-7540 queued redemptions, vested lump gains.
/// @dev Rounding always favours the vault: shares minted and assets paid round down, shares burned and assets
/// charged round up, unvested gains round up (NAV rounds down). The decimals offset is 0: OpenZeppelin's virtual
/// share and asset of 1 keep an empty vault's price sane, because `idle` is tracked internally a donation cannot
/// move the price, and a lump gain (a permissionless harvest) is not credited while fewer than
/// `MIN_SUPPLY_FOR_GAINS` shares exist, which together close the first-depositor inflation attack at its root.
/// Such uncredited USDai (and any donation) reaches NAV only through governance's `vestSurplus`, as a vesting gain.
///
/// Vesting keeps two O(1) buckets. The *stream* vests `vestingAmount` linearly over [`vestingStart`, `vestingEnd`).
/// A gain that arrives while nothing streams starts a new stream over one vesting period. A gain that arrives while
/// the stream runs joins the *waiting* bucket, which vests linearly over [`vestingEnd`, `vestingEnd` +
/// `waitingPeriod`) and becomes the stream once that window opens. So a new gain never touches the schedule of what
/// is already vesting (the stream is not restarted, and the waiting bucket only grows), and every gain vests over at
/// least one full vesting period from its arrival: it is fully unvested until its window opens, and its window is at
/// least one period long. A burst of gains waits for at most one period, so everything booked by a time `t` has
/// vested by `t` plus two periods. Storage is one extra slot, touched only when gains overlap.
contract StakedUSDai is IStakedUSDai, IUSDaiYieldReceiver, ProtocolUpgradeable, ERC4626Upgradeable {
    using SafeERC20 for IERC20;
    using FixedPointMath for uint256;

    /// @dev Longest allowed cooldown and vesting period.
    uint256 internal constant MAX_COOLDOWN_SECONDS = 90 days;
    uint256 internal constant MAX_VESTING_PERIOD_SECONDS = 30 days;
    /// @dev Most active requests a controller may be allowed.
    uint256 internal constant MAX_ACTIVE_REQUESTS_CAP = 100;
    /// @dev Shortest window of the cap base (see `capBase`): it is the cooldown, but at least this, so a vault whose
    /// exits are instant still makes a deposit wait before the concentration caps count it.
    uint256 internal constant MIN_CAP_WINDOW_SECONDS = 1 days;
    /// @dev Fewest shares outstanding for a lump gain to be credited. Below it a gain would accrue to OpenZeppelin's
    /// virtual share and a dust position and blow the share price up (a harvest is permissionless), so later deposits
    /// would round away.
    uint256 internal constant MIN_SUPPLY_FOR_GAINS = 1e18;

    /// @custom:storage-location erc7201:gpucredit.storage.StakedUSDai
    struct StakedUSDaiStorage {
        // slot 0: NAV hot path
        uint128 idleAssets;
        uint128 vestingAmount;
        // slot 1: NAV hot path; `gainWaiting` says whether slot 9 must be read
        ILoanVaultAssets loanVault;
        uint40 vestingStart;
        uint40 vestingEnd;
        bool gainWaiting;
        // slot 2: queue
        uint64 queueHead;
        uint64 queueTail;
        uint32 cooldown;
        uint32 vestingPeriod;
        uint16 maxActiveRequests;
        bool redemptionRequestsPaused;
        // slot 3
        uint128 totalPendingShares;
        uint128 totalClaimableAssets;
        // slot 4
        uint128 minRedeemAssets;
        uint128 cumulativeLosses;
        mapping(uint256 index => RedemptionRequest) requests;
        mapping(address controller => ControllerState) controllers;
        mapping(address controller => mapping(address operator => bool)) operators;
        mapping(address account => bool) blacklisted;
        // slot 9: gains waiting for the stream to end, valid while `gainWaiting` (appended; the slot is not cleared,
        // so it is never written from zero again)
        uint128 waitingGain;
        uint32 waitingPeriod;
        // slot 10 (appended; see `capBase`): shares burned by servicing, so that supply + burned counts every share ever
        // minted (only deposits raise it), and the time of the latest cap checkpoint (0: none yet)
        uint128 sharesBurned;
        uint40 capCheckpointAt;
        // slot 11: shares ever minted at the checkpoint before the latest one, and at the latest one
        uint128 capMintedAtPrev;
        uint128 capMintedAtCheckpoint;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.StakedUSDai")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STAKED_USDAI_STORAGE_LOCATION =
        0xe7d5a01b856830e70c68efe087be9545c59d1bf17d9e8c353661749f34e0ea00;

    function _getStorage() private pure returns (StakedUSDaiStorage storage $) {
        assembly {
            $.slot := STAKED_USDAI_STORAGE_LOCATION
        }
    }

    /// @notice Initializes the proxy.
    /// @param admin Governance (DEFAULT_ADMIN_ROLE).
    /// @param usdai The USDai token (the vault's asset).
    /// @param loanVault_ The loan vault NAV reads from, or zero until it is deployed.
    /// @param cooldown Seconds between a request and its earliest service.
    /// @param vestingPeriod_ Seconds over which a lump gain vests.
    /// @param minRedeemAssets Minimum value of a request, in USDai at the price when it is made.
    /// @param maxActiveRequests Cap on a controller's active requests.
    /// @dev ERC20Upgradeable's initializer is not called: `name` and `symbol` are constants of this contract, which
    /// keeps the string-storage code out of a bytecode that sits near EIP-170's limit. Its storage stays empty.
    /// @custom:oz-upgrades-unsafe-allow missing-initializer-call
    function initialize(
        address admin,
        IERC20 usdai,
        address loanVault_,
        uint256 cooldown,
        uint256 vestingPeriod_,
        uint256 minRedeemAssets,
        uint256 maxActiveRequests
    ) external initializer {
        if (admin == address(0) || address(usdai) == address(0)) revert StakedUSDaiZeroAddress();
        // Parent initializers in linearized order.
        __ProtocolUpgradeable_init(admin);
        __ERC4626_init(usdai);

        StakedUSDaiStorage storage $ = _getStorage();
        $.loanVault = ILoanVaultAssets(loanVault_);
        emit LoanVaultSet(loanVault_);
        _setRedemptionParams($, cooldown, minRedeemAssets, maxActiveRequests);
        _setVestingPeriod($, vestingPeriod_);
        // Genesis: a new vault has no history, so what is deposited before its first cap checkpoint counts at once
        // (baselines at the maximum; see `capBase`). Writing the slots now also spares the first service a fresh-slot
        // write. An upgraded vault reads zero here, which `capBase` treats the same way.
        $.capCheckpointAt = uint40(block.timestamp);
        $.capMintedAtPrev = type(uint128).max;
        $.capMintedAtCheckpoint = type(uint128).max;
    }

    // ================================================================ ERC-4626 deposits

    /// @inheritdoc IERC4626
    function deposit(
        uint256 assets,
        address receiver
    ) public override(ERC4626Upgradeable, IERC4626) whenNotPaused nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    /// @inheritdoc IStakedUSDai
    function deposit(uint256 assets, address receiver, uint256 minShares) external returns (uint256 shares) {
        shares = deposit(assets, receiver);
        if (shares < minShares) revert StakedUSDaiSlippageShares(shares, minShares);
    }

    /// @inheritdoc IERC4626
    function mint(
        uint256 shares,
        address receiver
    ) public override(ERC4626Upgradeable, IERC4626) whenNotPaused nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    /// @inheritdoc IStakedUSDai
    function mint(uint256 shares, address receiver, uint256 maxAssets) external returns (uint256 assets) {
        assets = mint(shares, receiver);
        if (assets > maxAssets) revert StakedUSDaiSlippageAssets(assets, maxAssets);
    }

    /// @dev Credits idle before pulling the USDai (CEI; USDai has no transfer hooks, and the guard covers the rest).
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        if (assets == 0 || shares == 0) revert StakedUSDaiZeroAmount();
        StakedUSDaiStorage storage $ = _getStorage();
        if ($.blacklisted[caller]) revert StakedUSDaiBlacklisted(caller);
        $.idleAssets = _toUint128(uint256($.idleAssets) + assets);
        super._deposit(caller, receiver, assets, shares);
    }

    // ================================================================ ERC-7540 requests

    /// @inheritdoc IERC7540Redeem
    /// @dev Not stopped by the pause (which stops new money in): only by the guardian's separate
    /// `pauseRedemptionRequests` switch, so exits stay open unless that is thrown on purpose.
    function requestRedeem(
        uint256 shares,
        address controller,
        address owner
    ) external nonReentrant returns (uint256 requestId) {
        if (shares == 0) revert StakedUSDaiZeroAmount();
        if (controller == address(0)) revert StakedUSDaiZeroAddress();
        StakedUSDaiStorage storage $ = _getStorage();
        if ($.redemptionRequestsPaused) revert StakedUSDaiRedemptionRequestsPaused();
        _requireNotBlacklisted($, msg.sender);
        _requireNotBlacklisted($, controller);
        if (msg.sender != owner && !$.operators[owner][msg.sender])
            _spendAllowance(owner, msg.sender, shares);
        uint256 minAssets = $.minRedeemAssets;
        if (minAssets != 0) _requireRequestValue($, shares, minAssets);
        ControllerState storage state = $.controllers[controller];
        if (state.activeRequests >= $.maxActiveRequests) {
            revert StakedUSDaiTooManyRequests(controller, state.activeRequests);
        }

        uint128 shares128 = _toUint128(shares);
        state.pendingShares += shares128;
        state.activeRequests += 1;
        uint64 index = $.queueTail;
        $.requests[index] = RedemptionRequest({
            controller: controller,
            claimableAt: uint64(block.timestamp + $.cooldown),
            shares: shares128
        });
        $.queueTail = index + 1;
        $.totalPendingShares += shares128;
        // The shares move into custody and keep bearing gains and losses until serviced.
        _transfer(owner, address(this), shares);
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        return 0;
    }

    /// @inheritdoc IStakedUSDai
    function serviceRedemptions(
        uint256 maxRequests
    ) external nonReentrant returns (uint256 serviced, uint256 shares, uint256 assets) {
        StakedUSDaiStorage storage $ = _getStorage();
        uint256 head = $.queueHead;
        uint256 tail = $.queueTail;
        uint256 idle = $.idleAssets;
        // One NAV read for the whole batch; each fill then prices against the running totals, which is exactly what
        // sequential `convertToAssets` calls would give.
        uint256 navAssets = totalAssets() + 1;
        uint256 navShares = totalSupply() + 1;

        for (uint256 i; i < maxRequests && head < tail; ++i) {
            RedemptionRequest storage request = $.requests[head];
            if (request.claimableAt > block.timestamp) break;
            uint256 fillShares = request.shares;
            uint256 fillAssets = fillShares.mulDivDown(navAssets, navShares);
            if (fillAssets > idle) {
                // Liquidity is short: fill what idle USDai buys, priced now, and stop.
                fillShares = idle.mulDivDown(navShares, navAssets);
                fillAssets = fillShares.mulDivDown(navAssets, navShares);
                if (fillShares == 0) break;
            }
            address controller = request.controller;
            ControllerState storage state = $.controllers[controller];
            state.pendingShares -= uint128(fillShares);
            state.claimableShares += uint128(fillShares);
            state.claimableAssets += uint128(fillAssets);
            idle -= fillAssets;
            navAssets -= fillAssets;
            navShares -= fillShares;
            shares += fillShares;
            assets += fillAssets;
            emit RedeemRequestServiced(head, controller, fillShares, fillAssets);
            if (fillShares == request.shares) {
                delete $.requests[head];
                state.activeRequests -= 1;
                ++head;
                ++serviced;
            } else {
                request.shares -= uint128(fillShares);
                break;
            }
        }

        $.queueHead = uint64(head);
        $.idleAssets = uint128(idle);
        $.totalPendingShares -= uint128(shares);
        $.totalClaimableAssets += uint128(assets);
        _burnServiced($, shares);
    }

    /// @inheritdoc IStakedUSDai
    function checkpointCapBase() external {
        _checkpointCapBase(_getStorage());
    }

    // ================================================================ ERC-7540 claims

    /// @inheritdoc IERC4626
    /// @dev ERC-7540 claim: `owner` is the controller; pays pro rata over what was serviced for it, rounding down.
    function redeem(
        uint256 shares,
        address receiver,
        address controller
    ) public override(ERC4626Upgradeable, IERC4626) nonReentrant returns (uint256 assets) {
        StakedUSDaiStorage storage $ = _getStorage();
        ControllerState storage state = _checkClaim($, shares, receiver, controller);
        uint256 claimableShares = state.claimableShares;
        if (shares > claimableShares) revert StakedUSDaiExceedsClaimable(controller, shares, claimableShares);
        assets =
            shares == claimableShares
                ? state.claimableAssets
                : uint256(state.claimableAssets).mulDivDown(shares, claimableShares);
        _claim($, state, controller, receiver, assets, shares);
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540 claim of `assets`: burns claimable shares pro rata, rounding up.
    function withdraw(
        uint256 assets,
        address receiver,
        address controller
    ) public override(ERC4626Upgradeable, IERC4626) nonReentrant returns (uint256 shares) {
        StakedUSDaiStorage storage $ = _getStorage();
        ControllerState storage state = _checkClaim($, assets, receiver, controller);
        uint256 claimableAssets = state.claimableAssets;
        if (assets > claimableAssets) revert StakedUSDaiExceedsClaimable(controller, assets, claimableAssets);
        shares =
            assets == claimableAssets
                ? state.claimableShares
                : uint256(state.claimableShares).mulDivUp(assets, claimableAssets);
        _claim($, state, controller, receiver, assets, shares);
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        if (operator == address(0)) revert StakedUSDaiZeroAddress();
        _getStorage().operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    // ================================================================ gains

    /// @inheritdoc IUSDaiYieldReceiver
    function onUSDaiHarvest(uint256 amount) external {
        if (msg.sender != asset()) revert StakedUSDaiNotUSDai(msg.sender);
        // USDai minted `amount` to this contract before calling back.
        _addGain(_getStorage(), amount);
    }

    /// @inheritdoc IStakedUSDai
    /// @dev No reentrancy guard: the one external call is a view of USDai, this contract's own asset.
    function vestSurplus() external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 surplus) {
        StakedUSDaiStorage storage $ = _getStorage();
        // Everything the vault holds beyond what NAV counts (idle) and what serviced redemptions are owed.
        surplus = IERC20(asset()).balanceOf(address(this)).zeroFloorSub(
            uint256($.idleAssets) + $.totalClaimableAssets
        );
        if (surplus == 0) revert StakedUSDaiNoSurplus();
        if (!_addGain($, surplus))
            revert StakedUSDaiSupplyBelowGainMinimum(totalSupply(), MIN_SUPPLY_FOR_GAINS);
        emit SurplusVested(msg.sender, surplus);
    }

    // ================================================================ loan vault hooks

    /// @inheritdoc IStakedUSDai
    function fundLoan(address borrower, uint256 amount) external onlyRole(LOAN_VAULT_ROLE) nonReentrant {
        if (amount == 0) revert StakedUSDaiZeroAmount();
        if (borrower == address(0)) revert StakedUSDaiZeroAddress();
        StakedUSDaiStorage storage $ = _getStorage();
        uint256 owedToQueue = _convertToAssets($.totalPendingShares, Math.Rounding.Ceil);
        uint256 available = uint256($.idleAssets).zeroFloorSub(owedToQueue);
        if (amount > available) revert StakedUSDaiInsufficientIdle(amount, available);

        $.idleAssets -= uint128(amount);
        emit LoanFunded(borrower, amount);

        IERC20(asset()).safeTransfer(borrower, amount);
    }

    /// @inheritdoc IStakedUSDai
    /// @dev No transfer and no external call: the loan vault has pushed the USDai already. sUSDai trusts the loan vault
    /// for this as it trusts its `loanAssets()` for NAV; the pull it replaces cost a second token transfer per payment.
    function receiveLoanCashflow(
        uint256 principal,
        uint256 interest,
        uint256 gain,
        uint256 loss
    ) external onlyRole(LOAN_VAULT_ROLE) {
        uint256 repaid = principal + interest;
        if (repaid + gain + loss == 0) revert StakedUSDaiZeroAmount();
        StakedUSDaiStorage storage $ = _getStorage();
        if (repaid != 0) emit RepaymentReceived(principal, interest);
        // Repayment and a vesting gain land in idle assets with one write.
        uint256 inflow = repaid;
        if (gain != 0 && _startVesting($, gain)) inflow += gain;
        if (inflow != 0) $.idleAssets = _toUint128(uint256($.idleAssets) + inflow);
        if (loss != 0) {
            uint128 cumulative = _toUint128(uint256($.cumulativeLosses) + loss);
            $.cumulativeLosses = cumulative;
            emit LossRecorded(loss, cumulative);
        }
    }

    // ================================================================ governance

    /// @inheritdoc IStakedUSDai
    function setLoanVault(address loanVault_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StakedUSDaiStorage storage $ = _getStorage();
        ILoanVaultAssets current = $.loanVault;
        if (address(current) != address(0)) {
            uint256 loanAssets = current.loanAssets();
            if (loanAssets != 0) revert StakedUSDaiLoanVaultInUse(loanAssets);
        }
        $.loanVault = ILoanVaultAssets(loanVault_);
        emit LoanVaultSet(loanVault_);
    }

    /// @inheritdoc IStakedUSDai
    function setRedemptionParams(
        uint256 cooldown,
        uint256 minRedeemAssets,
        uint256 maxActiveRequests
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRedemptionParams(_getStorage(), cooldown, minRedeemAssets, maxActiveRequests);
    }

    /// @inheritdoc IStakedUSDai
    function pauseRedemptionRequests() external {
        _setRedemptionRequestsPaused(PAUSER_ROLE, true);
    }

    /// @inheritdoc IStakedUSDai
    function unpauseRedemptionRequests() external {
        _setRedemptionRequestsPaused(DEFAULT_ADMIN_ROLE, false);
    }

    /// @inheritdoc IStakedUSDai
    function setVestingPeriod(uint256 vestingPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setVestingPeriod(_getStorage(), vestingPeriod_);
    }

    /// @inheritdoc IStakedUSDai
    function setBlacklisted(address account, bool blacklisted) external onlyRole(BLACKLIST_ROLE) {
        if (account == address(0)) revert StakedUSDaiZeroAddress();
        _getStorage().blacklisted[account] = blacklisted;
        emit BlacklistSet(account, blacklisted);
    }

    // ================================================================ ERC-4626 views

    /// @inheritdoc IERC4626
    /// @dev idle + loan assets - unvested gains, floored at zero. O(1). Exits and conversions use it.
    function totalAssets() public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        StakedUSDaiStorage storage $ = _getStorage();
        return _grossAssets($).zeroFloorSub(_unvested($));
    }

    /// @inheritdoc IERC4626
    /// @dev Entry is priced at NAV *with* unvested gains and with every impaired loan at its whole claim (idle +
    /// `entryLoanAssets()`): a deposit pays for every gain booked before it, so it cannot take a share of one as it
    /// vests, and for a full recovery of every loan in default, so a later write-back (a step-in, a good sale) gives it
    /// nothing that the lenders who carried the impairment were owed. Exits are priced at NAV (`totalAssets`), so the
    /// gain stays with the holders who were there when it was booked; the entrant's extra cost comes back to it as the
    /// gain vests or the loan recovers. Rounds down.
    function previewDeposit(
        uint256 assets
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return assets.mulDivDown(totalSupply() + 1, _entryAssets(_getStorage()) + 1);
    }

    /// @inheritdoc IERC4626
    /// @dev Priced like `previewDeposit` (NAV with unvested gains, impaired loans at their claim); rounds up.
    function previewMint(
        uint256 shares
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return shares.mulDivUp(_entryAssets(_getStorage()) + 1, totalSupply() + 1);
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while paused or for a blacklisted receiver; otherwise bounded by the idle slot's capacity.
    function maxDeposit(
        address receiver
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        StakedUSDaiStorage storage $ = _getStorage();
        if (paused() || $.blacklisted[receiver]) return 0;
        return type(uint128).max - $.idleAssets;
    }

    /// @inheritdoc IERC4626
    function maxMint(address receiver) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        return previewDeposit(maxDeposit(receiver));
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: what `controller` can claim now.
    function maxWithdraw(
        address controller
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        StakedUSDaiStorage storage $ = _getStorage();
        return $.blacklisted[controller] ? 0 : $.controllers[controller].claimableAssets;
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: what `controller` can claim now.
    function maxRedeem(
        address controller
    ) public view override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        StakedUSDaiStorage storage $ = _getStorage();
        return $.blacklisted[controller] ? 0 : $.controllers[controller].claimableShares;
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: reverts for every caller and input.
    function previewWithdraw(uint256) public pure override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        revert StakedUSDaiAsyncPreview();
    }

    /// @inheritdoc IERC4626
    /// @dev ERC-7540: reverts for every caller and input.
    function previewRedeem(uint256) public pure override(ERC4626Upgradeable, IERC4626) returns (uint256) {
        revert StakedUSDaiAsyncPreview();
    }

    // ================================================================ ERC-7540 views

    /// @inheritdoc IERC7540Redeem
    function pendingRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _getStorage().controllers[controller].pendingShares;
    }

    /// @inheritdoc IERC7540Redeem
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _getStorage().controllers[controller].claimableShares;
    }

    /// @inheritdoc IERC7540Operator
    function isOperator(address controller, address operator) external view returns (bool) {
        return _getStorage().operators[controller][operator];
    }

    /// @notice ERC-165: ERC-7540 operator (0xe3bc4e65) and async redeem (0x620ee8e4), ERC-7575 (0x2f0a18c5),
    /// `IUSDaiYieldReceiver`, and AccessControl.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return
            interfaceId == 0xe3bc4e65 ||
            interfaceId == 0x620ee8e4 ||
            interfaceId == 0x2f0a18c5 ||
            interfaceId == type(IUSDaiYieldReceiver).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    // ================================================================ protocol views

    /// @inheritdoc IStakedUSDai
    function share() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc IStakedUSDai
    function idleAssets() external view returns (uint256) {
        return _getStorage().idleAssets;
    }

    /// @inheritdoc IStakedUSDai
    function unvestedGains() external view returns (uint256) {
        return _unvested(_getStorage());
    }

    /// @inheritdoc IStakedUSDai
    function totalClaimableAssets() external view returns (uint256) {
        return _getStorage().totalClaimableAssets;
    }

    /// @inheritdoc IStakedUSDai
    function totalPendingShares() external view returns (uint256) {
        return _getStorage().totalPendingShares;
    }

    /// @inheritdoc IStakedUSDai
    function cumulativeLosses() external view returns (uint256) {
        return _getStorage().cumulativeLosses;
    }

    /// @inheritdoc IStakedUSDai
    /// @dev O(1): two slots of this contract, the queue slots and NAV. `minted` (supply + shares burned by servicing)
    /// only grows, and only deposits grow it, so the shares minted since a checkpoint are `minted` less the count
    /// stored with it. The baseline is the latest checkpoint at least a window old: the latest one once it has aged,
    /// the one before it until then (which had aged when it was replaced). Recent shares that are also queued, or were
    /// already serviced, are subtracted twice, which errs low.
    function capBase() external view returns (uint256) {
        StakedUSDaiStorage storage $ = _getStorage();
        uint256 supply = totalSupply();
        uint256 minted = supply + $.sharesBurned;
        uint256 at = $.capCheckpointAt;
        uint256 recent;
        if (at != 0) {
            uint256 baseline =
                block.timestamp >= at + _capWindow($) ? $.capMintedAtCheckpoint : $.capMintedAtPrev;
            recent = minted.zeroFloorSub(baseline);
        }
        uint256 excluded = recent + $.totalPendingShares;
        if (excluded >= supply) return 0;
        uint256 nav = totalAssets();
        return nav.zeroFloorSub(excluded.mulDivUp(nav + 1, supply + 1));
    }

    /// @inheritdoc IStakedUSDai
    function capCheckpoint()
        external
        view
        returns (uint256 checkpointAt, uint256 mintedAtPrev, uint256 mintedAtCheckpoint, uint256 sharesMinted)
    {
        StakedUSDaiStorage storage $ = _getStorage();
        return (
            $.capCheckpointAt,
            $.capMintedAtPrev,
            $.capMintedAtCheckpoint,
            totalSupply() + $.sharesBurned
        );
    }

    /// @inheritdoc IStakedUSDai
    function redemptionRequest(uint256 index) external view returns (RedemptionRequest memory) {
        return _getStorage().requests[index];
    }

    /// @inheritdoc IStakedUSDai
    function queueBounds() external view returns (uint256 head, uint256 tail) {
        StakedUSDaiStorage storage $ = _getStorage();
        return ($.queueHead, $.queueTail);
    }

    /// @inheritdoc IStakedUSDai
    function controllerState(address controller) external view returns (ControllerState memory) {
        return _getStorage().controllers[controller];
    }

    /// @inheritdoc IStakedUSDai
    function loanVault() external view returns (address) {
        return address(_getStorage().loanVault);
    }

    /// @inheritdoc IStakedUSDai
    function params()
        external
        view
        returns (uint256 cooldown, uint256 minRedeemAssets, uint256 maxActiveRequests, uint256 vestingPeriod)
    {
        StakedUSDaiStorage storage $ = _getStorage();
        return ($.cooldown, $.minRedeemAssets, $.maxActiveRequests, $.vestingPeriod);
    }

    /// @inheritdoc IStakedUSDai
    function redemptionRequestsPaused() external view returns (bool) {
        return _getStorage().redemptionRequestsPaused;
    }

    /// @inheritdoc IStakedUSDai
    function isBlacklisted(address account) external view returns (bool) {
        return _getStorage().blacklisted[account];
    }

    /// @inheritdoc IERC20Metadata
    function name() public pure override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return "Staked USDai";
    }

    /// @inheritdoc IERC20Metadata
    function symbol() public pure override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return "sUSDai";
    }

    /// @inheritdoc IERC20Metadata
    function decimals() public view override(ERC4626Upgradeable, IERC20Metadata) returns (uint8) {
        return super.decimals();
    }

    // ================================================================ internal

    /// @dev Blacklist on every share movement. Mint and burn sides (zero) and the vault's own custody are exempt: the
    /// vault cannot be blacklisted in any meaningful way, and skipping it saves a cold read per request and service.
    function _update(address from, address to, uint256 value) internal override {
        StakedUSDaiStorage storage $ = _getStorage();
        if (from != address(0) && from != address(this)) _requireNotBlacklisted($, from);
        if (to != address(0) && to != address(this)) _requireNotBlacklisted($, to);
        super._update(from, to, value);
    }

    function _checkClaim(
        StakedUSDaiStorage storage $,
        uint256 amount,
        address receiver,
        address controller
    ) private view returns (ControllerState storage) {
        if (amount == 0) revert StakedUSDaiZeroAmount();
        if (receiver == address(0)) revert StakedUSDaiZeroAddress();
        if (msg.sender != controller && !$.operators[controller][msg.sender]) {
            revert StakedUSDaiNotOperator(msg.sender, controller);
        }
        _requireNotBlacklisted($, msg.sender);
        _requireNotBlacklisted($, controller);
        _requireNotBlacklisted($, receiver);
        return $.controllers[controller];
    }

    function _claim(
        StakedUSDaiStorage storage $,
        ControllerState storage state,
        address controller,
        address receiver,
        uint256 assets,
        uint256 shares
    ) private {
        state.claimableShares -= uint128(shares);
        state.claimableAssets -= uint128(assets);
        $.totalClaimableAssets -= uint128(assets);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);

        IERC20(asset()).safeTransfer(receiver, assets);
    }

    /// @dev Credits `amount` to idle assets and starts vesting it (see `_startVesting`).
    function _addGain(StakedUSDaiStorage storage $, uint256 amount) private returns (bool credited) {
        credited = _startVesting($, amount);
        if (credited) $.idleAssets = _toUint128(uint256($.idleAssets) + amount);
    }

    /// @dev Schedules `amount` to vest (see the contract's notes on the two buckets); the caller credits it to idle
    /// assets when this returns true. Into a vault with fewer than `MIN_SUPPLY_FOR_GAINS` shares the gain is not
    /// credited (returns false): it stays an untracked balance, like a donation, until governance's `vestSurplus`.
    /// With a vesting period of zero the gain is in NAV at once and the buckets are left as they are.
    function _startVesting(StakedUSDaiStorage storage $, uint256 amount) private returns (bool) {
        if (totalSupply() < MIN_SUPPLY_FOR_GAINS) return false;
        uint256 period = $.vestingPeriod;
        uint256 streamEnd = $.vestingEnd;
        bool waiting = $.gainWaiting;
        uint256 waitingPeriod;
        if (waiting) {
            waitingPeriod = $.waitingPeriod;
            if (block.timestamp >= streamEnd) {
                // The waiting bucket's window has opened: it becomes the stream, from the old stream's end.
                uint256 start = streamEnd;
                streamEnd += waitingPeriod;
                _setStream($, $.waitingGain, start, streamEnd);
                $.gainWaiting = waiting = false;
            }
        }
        uint256 gainEnd = block.timestamp;
        uint256 unvested;
        if (period == 0) {
            // Vests at once; whatever is scheduled keeps its schedule.
            unvested = _unvested($);
        } else if (block.timestamp >= streamEnd) {
            // Nothing streams (everything earlier has vested): a new stream over one period from now.
            gainEnd += period;
            _setStream($, amount, block.timestamp, gainEnd);
            unvested = amount;
        } else {
            // The stream runs: wait for it to end, then vest over at least one period (the longest period in force
            // while the bucket filled, so a gain never vests faster than the period when it arrived).
            uint256 waitingGain = amount;
            if (waiting) {
                waitingGain += $.waitingGain;
                waitingPeriod = Math.max(waitingPeriod, period);
            } else {
                waitingPeriod = period;
                $.gainWaiting = true;
            }
            $.waitingGain = _toUint128(waitingGain);
            $.waitingPeriod = uint32(waitingPeriod);
            gainEnd = streamEnd + waitingPeriod;
            unvested = _unvested($);
        }
        emit GainVesting(amount, unvested, gainEnd);
        return true;
    }

    function _setStream(StakedUSDaiStorage storage $, uint256 amount, uint256 start, uint256 end) private {
        $.vestingAmount = _toUint128(amount);
        $.vestingStart = uint40(start);
        $.vestingEnd = uint40(end);
    }

    /// @dev Idle USDai plus the loan vault's `entryLoanAssets()`: the entry price's assets (see `previewDeposit`).
    function _entryAssets(StakedUSDaiStorage storage $) private view returns (uint256) {
        ILoanVaultAssets vault = $.loanVault;
        uint256 loanAssets = address(vault) == address(0) ? 0 : vault.entryLoanAssets();
        return uint256($.idleAssets) + loanAssets;
    }

    /// @dev Burns the serviced shares and counts them (supply + burned is every share ever minted, what the cap base
    /// measures deposits with); then, as keepers service often, takes a cap checkpoint once the latest is a window old.
    /// The counts saturate at 128 bits instead of reverting, so that no share count can ever stop exits.
    function _burnServiced(StakedUSDaiStorage storage $, uint256 shares) private {
        if (shares != 0) {
            $.sharesBurned = _saturate128(uint256($.sharesBurned) + shares);
            _burn(address(this), shares);
        }
        _checkpointCapBase($);
    }

    /// @dev Takes a cap checkpoint (the count of shares ever minted, now) once the latest is a window old; the latest
    /// becomes the previous one. With none yet (an upgraded vault) both are now. `min` ends genesis, whose counts are
    /// the maximum: the shares that exist at the first checkpoint count at once.
    function _checkpointCapBase(StakedUSDaiStorage storage $) private {
        uint256 at = $.capCheckpointAt;
        if (at != 0 && block.timestamp < at + _capWindow($)) return;
        uint128 minted = _saturate128(totalSupply() + $.sharesBurned);
        uint128 prev = $.capMintedAtCheckpoint;
        if (at == 0 || prev > minted) prev = minted;
        $.capMintedAtPrev = prev;
        $.capMintedAtCheckpoint = minted;
        $.capCheckpointAt = uint40(block.timestamp);
    }

    /// @dev The cap base's window: the cooldown, at least `MIN_CAP_WINDOW_SECONDS`.
    function _capWindow(StakedUSDaiStorage storage $) private view returns (uint256) {
        return Math.max($.cooldown, MIN_CAP_WINDOW_SECONDS);
    }

    /// @dev Idle USDai plus the loan vault's `loanAssets()`: NAV before unvested gains are held back.
    function _grossAssets(StakedUSDaiStorage storage $) private view returns (uint256) {
        ILoanVaultAssets vault = $.loanVault;
        uint256 loanAssets = address(vault) == address(0) ? 0 : vault.loanAssets();
        return uint256($.idleAssets) + loanAssets;
    }

    /// @dev The stream's unvested part plus the waiting bucket's, each linear over its window and rounded up so NAV
    /// rounds down. The bucket's slot is read only when it holds something.
    function _unvested(StakedUSDaiStorage storage $) private view returns (uint256 unvested) {
        uint256 end = $.vestingEnd;
        if (block.timestamp < end) {
            unvested = uint256($.vestingAmount).mulDivUp(end - block.timestamp, end - $.vestingStart);
        }
        if ($.gainWaiting) {
            uint256 waitingEnd = end + $.waitingPeriod;
            if (block.timestamp < end) unvested += $.waitingGain;
            else if (block.timestamp < waitingEnd) {
                unvested += uint256($.waitingGain).mulDivUp(waitingEnd - block.timestamp, waitingEnd - end);
            }
        }
    }

    /// @dev Reverts unless `shares` are worth at least `minAssets` at the current price (rounding down). The price
    /// needs the loan vault's `loanAssets()`; a floor on it from idle USDai alone (`idle - unvested`, loans at zero)
    /// settles every request that is not close to the minimum without that external call.
    function _requireRequestValue(
        StakedUSDaiStorage storage $,
        uint256 shares,
        uint256 minAssets
    ) private view {
        uint256 supply = totalSupply() + 1;
        uint256 floorAssets = uint256($.idleAssets).zeroFloorSub(_unvested($)) + 1;
        if (shares.mulDivDown(floorAssets, supply) >= minAssets) return;
        uint256 assets = _convertToAssets(shares, Math.Rounding.Floor);
        if (assets < minAssets) revert StakedUSDaiRequestTooSmall(shares, assets, minAssets);
    }

    function _setRedemptionParams(
        StakedUSDaiStorage storage $,
        uint256 cooldown,
        uint256 minRedeemAssets,
        uint256 maxActiveRequests
    ) private {
        if (cooldown > MAX_COOLDOWN_SECONDS)
            revert StakedUSDaiParamOutOfRange(cooldown, MAX_COOLDOWN_SECONDS);
        if (maxActiveRequests == 0 || maxActiveRequests > MAX_ACTIVE_REQUESTS_CAP) {
            revert StakedUSDaiParamOutOfRange(maxActiveRequests, MAX_ACTIVE_REQUESTS_CAP);
        }
        $.cooldown = uint32(cooldown);
        $.minRedeemAssets = _toUint128(minRedeemAssets);
        $.maxActiveRequests = uint16(maxActiveRequests);
        emit RedemptionParamsSet(cooldown, minRedeemAssets, maxActiveRequests);
    }

    /// @dev One role check for both switches (the guardian pauses, governance resumes), kept out of line for size.
    function _setRedemptionRequestsPaused(bytes32 role, bool paused) private {
        _checkRole(role);
        StakedUSDaiStorage storage $ = _getStorage();
        $.redemptionRequestsPaused = paused;
        emit RedemptionRequestsPauseSet(msg.sender, paused);
    }

    function _setVestingPeriod(StakedUSDaiStorage storage $, uint256 vestingPeriod_) private {
        if (vestingPeriod_ > MAX_VESTING_PERIOD_SECONDS) {
            revert StakedUSDaiParamOutOfRange(vestingPeriod_, MAX_VESTING_PERIOD_SECONDS);
        }
        $.vestingPeriod = uint32(vestingPeriod_);
        emit VestingPeriodSet(vestingPeriod_);
    }

    function _requireNotBlacklisted(StakedUSDaiStorage storage $, address account) private view {
        if ($.blacklisted[account]) revert StakedUSDaiBlacklisted(account);
    }

    function _saturate128(uint256 amount) private pure returns (uint128) {
        return uint128(Math.min(amount, type(uint128).max));
    }

    function _toUint128(uint256 amount) private pure returns (uint128) {
        if (amount > type(uint128).max) revert StakedUSDaiAmountOverflow(amount);
        return uint128(amount);
    }
}

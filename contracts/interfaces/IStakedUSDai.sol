// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @title IERC7540Operator
/// @notice ERC-7540 operators: an operator may request and claim on a controller's behalf.
interface IERC7540Operator {
    /// @notice `controller` set `operator`'s approval to `approved`.
    event OperatorSet(address indexed controller, address indexed operator, bool approved);

    /// @notice Approves or revokes `operator` for the caller. Returns true.
    function setOperator(address operator, bool approved) external returns (bool);

    /// @notice Whether `operator` may act for `controller`.
    function isOperator(address controller, address operator) external view returns (bool);
}

/// @title IERC7540Redeem
/// @notice ERC-7540 asynchronous redemption.
interface IERC7540Redeem {
    /// @notice `sender` moved `shares` of `owner` into a redemption request for `controller`.
    event RedeemRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 shares
    );

    /// @notice Requests the redemption of `shares` of `owner`, claimable later by `controller`.
    function requestRedeem(
        uint256 shares,
        address controller,
        address owner
    ) external returns (uint256 requestId);

    /// @notice Shares of `controller` waiting in the queue.
    function pendingRedeemRequest(
        uint256 requestId,
        address controller
    ) external view returns (uint256 shares);

    /// @notice Shares of `controller` serviced and claimable with `redeem`/`withdraw`.
    function claimableRedeemRequest(
        uint256 requestId,
        address controller
    ) external view returns (uint256 shares);
}

/// @title IStakedUSDai
/// @notice sUSDai: the protocol's yield share. An ERC-4626 vault over USDai with synchronous deposits and ERC-7540
/// asynchronous redemptions through a FIFO queue. Its price rises with loan interest and vested T-bill yield, and
/// falls only on realized loan losses and impairments.
/// @dev NAV: `totalAssets() = idle + loanVault.loanAssets() - unvested`, O(1); exits and conversions use it. Deposits
/// and mints are priced at NAV with unvested gains and with impaired loans at their whole claim (`idle +
/// loanVault.entryLoanAssets()`; `previewDeposit`, `previewMint`), so a deposit pays for the gains booked before it and
/// for a full recovery of the loans in default, and cannot capture a gain or a write-back. `idle` is USDai tracked
/// internally, so a donation to the contract does not move the price (governance may later vest it into NAV with
/// `vestSurplus`). Lump gains vest linearly over at least `vestingPeriod` from their arrival, so a harvest cannot be
/// sandwiched, and a new gain never delays one already vesting: a gain that arrives while another vests waits for it to
/// finish, then vests over a full period. Deposits and mints stop while paused; redemption requests have their own
/// guardian switch, and service and claims never stop. Requests carry `requestId = 0`: ERC-7540 then aggregates state
/// per controller, which is what `pendingRedeemRequest` and `claimableRedeemRequest` report exactly. Serviced requests
/// are priced at service time; a controller's claims are paid pro rata over everything serviced for it, rounding down.
interface IStakedUSDai is IERC4626, IERC7540Operator, IERC7540Redeem {
    // ---------------------------------------------------------------- structs

    /// @notice One queue entry.
    /// @param controller Who claims the serviced assets.
    /// @param claimableAt When the cooldown ends and the entry may be serviced.
    /// @param shares Shares still waiting (decreases on partial fills).
    struct RedemptionRequest {
        address controller;
        uint64 claimableAt;
        uint128 shares;
    }

    /// @notice Per-controller redemption state.
    /// @param pendingShares Shares waiting in the queue.
    /// @param activeRequests Queue entries not yet fully serviced.
    /// @param claimableShares Serviced shares not yet claimed.
    /// @param claimableAssets USDai reserved for those shares.
    struct ControllerState {
        uint128 pendingShares;
        uint16 activeRequests;
        uint128 claimableShares;
        uint128 claimableAssets;
    }

    // ---------------------------------------------------------------- events

    /// @notice `shares` of queue entry `index` (controller `controller`) were serviced for `assets`.
    event RedeemRequestServiced(
        uint256 indexed index,
        address indexed controller,
        uint256 shares,
        uint256 assets
    );

    /// @notice A lump gain of `amount` USDai was booked to vest; it is fully vested at `vestingEnd`, and `unvested` is
    /// the total of all gains not yet vested, this one included.
    event GainVesting(uint256 amount, uint256 unvested, uint256 vestingEnd);

    /// @notice Governance (`caller`) booked `amount` of USDai held beyond idle and claimable assets (donations, gains
    /// that arrived before `MIN_SUPPLY_FOR_GAINS` shares existed) as a vesting gain.
    event SurplusVested(address indexed caller, uint256 amount);

    /// @notice Redemption requests were paused (`paused = true`) or resumed by `account`.
    event RedemptionRequestsPauseSet(address indexed account, bool paused);

    /// @notice The loan vault funded a loan: `amount` USDai sent to `borrower`.
    event LoanFunded(address indexed borrower, uint256 amount);

    /// @notice The loan vault paid back `principal` and `interest`.
    event RepaymentReceived(uint256 principal, uint256 interest);

    /// @notice The loan vault recorded a realized loss of `amount` (already out of `loanAssets()`).
    event LossRecorded(uint256 amount, uint256 cumulativeLosses);

    /// @notice `account` was added to (`blacklisted = true`) or removed from the blacklist.
    event BlacklistSet(address indexed account, bool blacklisted);

    /// @notice NAV now reads loan assets from `loanVault`.
    event LoanVaultSet(address indexed loanVault);

    /// @notice Redemption parameters changed; `minRedeemAssets` is in USDai.
    event RedemptionParamsSet(uint256 cooldown, uint256 minRedeemAssets, uint256 maxActiveRequests);

    /// @notice The vesting period of lump gains is now `vestingPeriod` seconds.
    event VestingPeriodSet(uint256 vestingPeriod);

    // ---------------------------------------------------------------- errors

    /// @notice An amount argument was zero.
    error StakedUSDaiZeroAmount();

    /// @notice An address argument was the zero address.
    error StakedUSDaiZeroAddress();

    /// @notice The deposit would mint `shares`, fewer than the caller's `minShares`.
    error StakedUSDaiSlippageShares(uint256 shares, uint256 minShares);

    /// @notice The mint would cost `assets`, more than the caller's `maxAssets`.
    error StakedUSDaiSlippageAssets(uint256 assets, uint256 maxAssets);

    /// @notice `account` is blacklisted.
    error StakedUSDaiBlacklisted(address account);

    /// @notice `caller` is neither `controller` nor an operator of it.
    error StakedUSDaiNotOperator(address caller, address controller);

    /// @notice A request of `shares`, worth `assets` USDai at the current price, is below the minimum `minAssets`.
    error StakedUSDaiRequestTooSmall(uint256 shares, uint256 assets, uint256 minAssets);

    /// @notice Redemption requests are paused by the guardian.
    error StakedUSDaiRedemptionRequestsPaused();

    /// @notice Only `supply` shares exist, fewer than `minimum`: a gain would accrue to dust and the virtual share.
    error StakedUSDaiSupplyBelowGainMinimum(uint256 supply, uint256 minimum);

    /// @notice The vault holds no USDai beyond idle and claimable assets.
    error StakedUSDaiNoSurplus();

    /// @notice `controller` already has `active` requests, the maximum.
    error StakedUSDaiTooManyRequests(address controller, uint256 active);

    /// @notice A claim of `requested` exceeds what `controller` can claim, `claimable`.
    error StakedUSDaiExceedsClaimable(address controller, uint256 requested, uint256 claimable);

    /// @notice ERC-7540: previews of asynchronous flows are not available.
    error StakedUSDaiAsyncPreview();

    /// @notice Funding `requested` USDai exceeds the idle USDai not owed to the queue, `available`.
    error StakedUSDaiInsufficientIdle(uint256 requested, uint256 available);

    /// @notice Only USDai may report a harvest.
    error StakedUSDaiNotUSDai(address caller);

    /// @notice The current loan vault still reports `loanAssets` of loans.
    error StakedUSDaiLoanVaultInUse(uint256 loanAssets);

    /// @notice A parameter is out of its range: `value` above `max`.
    error StakedUSDaiParamOutOfRange(uint256 value, uint256 max);

    /// @notice An amount does not fit the storage slot it is packed into.
    error StakedUSDaiAmountOverflow(uint256 amount);

    // ---------------------------------------------------------------- deposits with slippage bounds

    /// @notice `deposit(assets, receiver)` that reverts unless at least `minShares` are minted.
    function deposit(uint256 assets, address receiver, uint256 minShares) external returns (uint256 shares);

    /// @notice `mint(shares, receiver)` that reverts if it would cost more than `maxAssets`.
    function mint(uint256 shares, address receiver, uint256 maxAssets) external returns (uint256 assets);

    // ---------------------------------------------------------------- queue

    /// @notice Services up to `maxRequests` queue entries whose cooldown has passed, in FIFO order, from idle USDai,
    /// priced now; the last one may be filled partially when liquidity is short. Anyone may call it, also while
    /// paused. Work is bounded by `maxRequests`.
    /// @return serviced Entries fully serviced.
    /// @return shares Shares burned.
    /// @return assets USDai moved to claimable.
    function serviceRedemptions(
        uint256 maxRequests
    ) external returns (uint256 serviced, uint256 shares, uint256 assets);

    /// @notice Takes a cap checkpoint if the latest one is at least a window old (otherwise does nothing). Anyone may
    /// call it; `serviceRedemptions` calls it too. A deposit counts in `capBase` once a checkpoint taken after it is a
    /// window old, so a keeper that checkpoints daily makes deposits count within two windows and a day.
    function checkpointCapBase() external;

    // ---------------------------------------------------------------- loan vault hooks (LOAN_VAULT)

    /// @notice Sends `amount` idle USDai to `borrower` for a new loan. Idle USDai owed to waiting redemptions (valued
    /// now) is not available: the queue comes first.
    /// @dev The loan vault must call this before it adds the loan to `loanAssets()`; otherwise NAV would count the
    /// principal twice while the queue's claim is valued.
    function fundLoan(address borrower, uint256 amount) external;

    /// @notice Books a loan cash flow. The loan vault transfers `principal + interest + gain` USDai to this vault
    /// first, in the same transaction (a push saves a second token transfer on every repayment): principal and interest
    /// return to idle (they were already in NAV through `loanAssets()`, so the price does not jump), `gain` (late fees,
    /// recoveries above book value) vests, and `loss` is recorded as realized (the loan vault has already taken it out
    /// of `loanAssets()`).
    function receiveLoanCashflow(uint256 principal, uint256 interest, uint256 gain, uint256 loss) external;

    // ---------------------------------------------------------------- governance

    /// @notice Sets the loan vault NAV reads from (DEFAULT_ADMIN); the current one must report no loan assets.
    function setLoanVault(address loanVault) external;

    /// @notice Sets the cooldown, the minimum value of a request in USDai and the cap on active requests per
    /// controller (DEFAULT_ADMIN). The minimum is priced when a request is made, so the share price cannot push it out
    /// of reach (or below dust); zero disables it.
    function setRedemptionParams(
        uint256 cooldown,
        uint256 minRedeemAssets,
        uint256 maxActiveRequests
    ) external;

    /// @notice Sets the vesting period of lump gains (DEFAULT_ADMIN). What is scheduled keeps its schedule; gains
    /// that join a waiting bucket later vest over the longer of its period and the new one.
    function setVestingPeriod(uint256 vestingPeriod) external;

    /// @notice Books the USDai this vault holds beyond idle and claimable assets (donations, gains that arrived while
    /// fewer than `MIN_SUPPLY_FOR_GAINS` shares existed) as a gain that vests like any other (DEFAULT_ADMIN). It only
    /// adds to NAV: no USDai leaves the vault. Reverts with `StakedUSDaiSupplyBelowGainMinimum` below the share
    /// minimum and with `StakedUSDaiNoSurplus` when there is nothing to book.
    /// @return surplus The USDai booked.
    function vestSurplus() external returns (uint256 surplus);

    /// @notice Stops new redemption requests (PAUSER, the guardian). Servicing and claims go on. Unlike `pause`,
    /// which stops new money in, this stops exits, so it is a separate switch.
    function pauseRedemptionRequests() external;

    /// @notice Lets redemption requests resume (DEFAULT_ADMIN).
    function unpauseRedemptionRequests() external;

    /// @notice Adds or removes `account` from the blacklist (BLACKLIST). Blacklisted accounts cannot send, receive,
    /// deposit, request or claim.
    function setBlacklisted(address account, bool blacklisted) external;

    // ---------------------------------------------------------------- views

    /// @notice ERC-7575: the share token (this contract).
    function share() external view returns (address);

    /// @notice USDai held for NAV (excludes assets reserved for serviced redemptions and donations).
    function idleAssets() external view returns (uint256);

    /// @notice Lump gains not yet vested.
    function unvestedGains() external view returns (uint256);

    /// @notice USDai reserved for serviced, unclaimed redemptions.
    function totalClaimableAssets() external view returns (uint256);

    /// @notice Shares waiting in the queue, all controllers.
    function totalPendingShares() external view returns (uint256);

    /// @notice Realized losses recorded since inception.
    function cumulativeLosses() external view returns (uint256);

    /// @notice What the loan vault measures its concentration caps against: NAV (`totalAssets`) less the value, at
    /// today's price rounded up, of the shares waiting in the redemption queue and of the *recent* shares, those minted
    /// after the latest cap checkpoint that is at least a window old (a window is the cooldown, at least one day);
    /// floored at zero, so it rounds down and is never above NAV. A deposit therefore counts no sooner than one window
    /// after it was made, and only while its shares stay out of the queue: money deposited the week of a draw cannot
    /// lift a cap. Until the first checkpoint (a new vault's genesis, or an upgraded vault) no share is recent.
    function capBase() external view returns (uint256);

    /// @notice The latest cap checkpoint: when it was taken (0: none yet), and how many shares had ever been minted
    /// (supply plus shares burned by servicing) at the one before it and at it (the maximum during genesis).
    /// `sharesMinted` is that count now.
    function capCheckpoint()
        external
        view
        returns (
            uint256 checkpointAt,
            uint256 mintedAtPrev,
            uint256 mintedAtCheckpoint,
            uint256 sharesMinted
        );

    /// @notice Queue entry `index`.
    function redemptionRequest(uint256 index) external view returns (RedemptionRequest memory);

    /// @notice The queue's head (next to service) and tail (next free index).
    function queueBounds() external view returns (uint256 head, uint256 tail);

    /// @notice Redemption state of `controller`.
    function controllerState(address controller) external view returns (ControllerState memory);

    /// @notice The loan vault NAV reads from.
    function loanVault() external view returns (address);

    /// @notice Cooldown, minimum request value in USDai, cap on active requests per controller, vesting period.
    function params()
        external
        view
        returns (uint256 cooldown, uint256 minRedeemAssets, uint256 maxActiveRequests, uint256 vestingPeriod);

    /// @notice Whether the guardian has paused redemption requests.
    function redemptionRequestsPaused() external view returns (bool);

    /// @notice Whether `account` is blacklisted.
    function isBlacklisted(address account) external view returns (bool);
}

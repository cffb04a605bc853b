// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

import {IERC7540Operator, IERC7540Redeem} from "./IStakedUSDai.sol";

/// @title ILoanVaultJuniorHooks
/// @notice What the junior tranche reads from, and reports to, the LoanVault.
interface ILoanVaultJuniorHooks {
    /// @notice The principal at risk that first-loss capital stands behind, in USD (18 decimals): the writedowns of
    /// Active loans marked past grace plus, for each Defaulted or Liquidating loan, its principal above its impaired
    /// value. (Interest and late fees are not covered: they were out of NAV once the loan stopped accruing.) The
    /// tranche encumbers `min(firstLossClaim(), trackedAssets())` of its assets for it. When a loss is realized through
    /// `drawCover`, the vault lowers this claim by the realized amount in the same transaction, or the loss counts
    /// twice. It must not be movable within a transaction by anyone but the vault's own bookkeeping.
    function firstLossClaim() external view returns (uint256);

    /// @notice Outstanding loans (USD, 18 decimals): the denominator of the coverage ratio.
    function loanBook() external view returns (uint256);

    /// @notice The tranche reports its tracked USDai (`IJuniorTranche.trackedAssets()`, before any encumbrance) after
    /// every change the vault did not make itself: deposits, mints, redemption claims and a vault switch. The vault
    /// makes the other two changes (`drawCover`, `receiveInterest`) and can mirror them exactly.
    function syncJuniorAssets(uint256 assets) external;
}

/// @title IJuniorTranche
/// @notice jUSDai: first-loss capital. An ERC-4626 vault over USDai whose holders absorb credit losses before sUSDai,
/// in exchange for a governed share of loan interest. Holding it is restricted to allowlisted notes (REGISTRAR).
/// @dev Price. The tranche tracks its USDai internally (`trackedAssets`), so a donation never moves the price. Of it,
/// `encumberedAssets() = min(loanVault.firstLossClaim(), trackedAssets())` stands behind impaired loans, and
/// `totalAssets() = trackedAssets() - encumberedAssets()` is what exits and conversions use: the junior's price falls
/// first when loans are impaired and comes back if they cure. O(1): one external view per read.
///
/// Entry. Deposits and mints are priced at `trackedAssets()` (impaired loans at their whole claim, as sUSDai prices
/// its entry), so a new holder pays for a full recovery and cannot capture a cure that the holders who carried the
/// impairment are owed; it bears its pro-rata part of a loss that is later realized. Entry reverts with
/// `JuniorTrancheWipedOut` while `totalAssets()` is zero and shares or a claim exist: new money would be encumbered at
/// once. Entry, and new redemption requests, stop while paused; claims, cancels and the vault hooks never stop.
///
/// Exit. ERC-7540 asynchronous redemption with one aggregated request per controller (`requestId = 0`). Requested
/// shares move into the tranche's custody and stay at first-loss risk until claimed: nothing is set aside for them,
/// so `drawCover` can reach every tracked USDai. A request unlocks `lockupSeconds` after it was made; topping it up
/// restarts the lock-up of the whole request (claim the unlocked part first), and only the controller or its operator
/// may top up, so no one else can delay an exit. A claim is priced at claim time (`totalAssets`, rounding in the
/// tranche's favour) and must leave `(totalAssets() - assetsOut) * 10_000 >= minCoverageBps * loanVault.loanBook()`.
/// `claimableRedeemRequest` is the largest share amount of the unlocked request that keeps that coverage;
/// `pendingRedeemRequest` is the rest.
///
/// Notes. REGISTRAR allowlists holders until an expiry. A mint or transfer to an account that is not allowlisted or
/// has expired reverts (the tranche's own custody and burns are exempt; senders are not checked). A claim pays a
/// receiver that is allowlisted and unexpired, or the controller itself while it is still listed: a holder past expiry
/// can still request and claim to itself, but cannot receive transfers or new mints; a revoked holder can only claim
/// to a receiver that is allowlisted and unexpired.
interface IJuniorTranche is IERC4626, IERC7540Operator, IERC7540Redeem {
    // ---------------------------------------------------------------- structs

    /// @notice A controller's aggregated redemption request.
    /// @param shares Shares locked in the tranche for the controller.
    /// @param unlocksAt When the lock-up ends (restarted by a top-up).
    struct RedeemRequestState {
        uint192 shares;
        uint64 unlocksAt;
    }

    // ---------------------------------------------------------------- events

    /// @notice The loan vault drew cover: `paid` of the `requested` USDai went to it; `assetsAfter` are tracked.
    event CoverDrawn(uint256 requested, uint256 paid, uint256 assetsAfter);

    /// @notice The loan vault paid the junior's share of loan interest, `amount` USDai; `assetsAfter` are tracked.
    event InterestReceived(uint256 amount, uint256 assetsAfter);

    /// @notice Encumbrance and coverage now read `loanVault`.
    event LoanVaultSet(address indexed loanVault);

    /// @notice The minimum coverage of the loan book by junior assets is now `minCoverageBps`.
    event MinCoverageSet(uint256 minCoverageBps);

    /// @notice Redemption requests now unlock `lockupSeconds` after they are made or topped up.
    event LockupSet(uint256 lockupSeconds);

    /// @notice The registrar allowlisted `holder` until `expiry` (a timestamp; the holder is valid while
    /// `block.timestamp < expiry`).
    event HolderAllowed(address indexed holder, uint256 expiry);

    /// @notice The registrar removed `holder` from the allowlist.
    event HolderRevoked(address indexed holder);

    /// @notice `controller`'s request of `shares`, locked until `unlocksAt`, after a request or a top-up.
    event RedeemRequestLocked(address indexed controller, uint256 shares, uint256 unlocksAt);

    /// @notice `sender` cancelled `controller`'s request; its `shares` went back to the controller.
    event RedeemRequestCancelled(address indexed controller, address indexed sender, uint256 shares);

    // ---------------------------------------------------------------- errors

    /// @notice An address argument was the zero address.
    error JuniorTrancheZeroAddress();

    /// @notice An amount argument was zero, or a deposit or mint would move zero assets or shares.
    error JuniorTrancheZeroAmount();

    /// @notice Entry refused: the tranche tracks `assets`, all encumbered by `firstLossClaim` (or drawn), with `supply`
    /// shares outstanding; new money would be lost at once.
    error JuniorTrancheWipedOut(uint256 assets, uint256 firstLossClaim, uint256 supply);

    /// @notice `account` may not receive jUSDai: it is not allowlisted (`expiry` 0) or its allowlisting expired at
    /// `expiry`.
    error JuniorTrancheNotAllowlisted(address account, uint256 expiry);

    /// @notice An allowlisting must expire in the future: `expiry` is not after `nowSeconds`.
    error JuniorTrancheExpiryPassed(uint256 expiry, uint256 nowSeconds);

    /// @notice Junior assets of `juniorAssets` would cover less than `minCoverageBps` of a loan book of `loanBook`.
    error JuniorTrancheCoverageBreached(uint256 juniorAssets, uint256 loanBook, uint256 minCoverageBps);

    /// @notice `caller` is neither `controller` nor an operator of it.
    error JuniorTrancheNotOperator(address caller, address controller);

    /// @notice `controller`'s request is locked until `unlocksAt`.
    error JuniorTrancheLocked(address controller, uint256 unlocksAt);

    /// @notice A claim needs `shares` of `controller`'s request, which holds only `requestShares`.
    error JuniorTrancheExceedsRequest(address controller, uint256 shares, uint256 requestShares);

    /// @notice `controller` has no redemption request.
    error JuniorTrancheNoRequest(address controller);

    /// @notice ERC-7540: previews of asynchronous flows are not available.
    error JuniorTrancheAsyncPreview();

    /// @notice A parameter is out of its range: `value` above `max`.
    error JuniorTrancheParamOutOfRange(uint256 value, uint256 max);

    /// @notice An amount does not fit the storage slot it is packed into.
    error JuniorTrancheAmountOverflow(uint256 amount);

    /// @notice The current loan vault still reports a first-loss claim of `firstLossClaim`.
    error JuniorTrancheLoanVaultInUse(uint256 firstLossClaim);

    // ---------------------------------------------------------------- loan vault hooks (LOAN_VAULT)

    /// @notice Pays the loan vault `min(amountUsd, seniorProtectedAssets())` USDai of cover for a realized loss and
    /// takes it out of the tracked assets. Never reverts for lack of funds: it pays what it has (zero when empty). Does
    /// not call `syncJuniorAssets` (the vault knows what it drew).
    /// @return paidUsd USDai sent to the caller.
    function drawCover(uint256 amountUsd) external returns (uint256 paidUsd);

    /// @notice Books `amountUsd` of loan interest (the junior's governed share) that the loan vault has already
    /// transferred to the tranche in the same transaction. Does not call `syncJuniorAssets`.
    /// @dev Interest credited while only a dust supply exists accrues to that dust: the vault should route the
    /// junior's share only while the tranche holds meaningful capital.
    function receiveInterest(uint256 amountUsd) external;

    // ---------------------------------------------------------------- redemption requests

    /// @notice Cancels `controller`'s whole request (the controller or its operator), locked or not, and sends its
    /// shares back to the controller, who must be allowlisted and unexpired to receive them.
    /// @return shares Shares returned.
    function cancelRedeemRequest(address controller) external returns (uint256 shares);

    // ---------------------------------------------------------------- registrar (REGISTRAR)

    /// @notice Allowlists `holder` until `expiry` (a future timestamp), or moves an existing expiry.
    function allow(address holder, uint64 expiry) external;

    /// @notice Removes `holder` from the allowlist: it can no longer receive shares or claim.
    function revoke(address holder) external;

    // ---------------------------------------------------------------- governance (DEFAULT_ADMIN)

    /// @notice Sets the loan vault encumbrance and coverage read, and reports the tracked assets to it. The current
    /// vault must report no first-loss claim (switching would drop an encumbrance). LOAN_VAULT_ROLE is granted
    /// separately.
    function setLoanVault(address loanVault) external;

    /// @notice Sets the minimum coverage of the loan book by junior assets, in basis points (at most 10_000).
    function setMinCoverageBps(uint256 minCoverageBps) external;

    /// @notice Sets the lock-up of redemption requests, in seconds (at most 365 days). Applies to requests made or
    /// topped up afterwards; existing requests keep their unlock time.
    function setLockupSeconds(uint256 lockupSeconds) external;

    // ---------------------------------------------------------------- views

    /// @notice Reverts with `JuniorTrancheCoverageBreached(totalAssets(), loanBookAfterUsd, minCoverageBps)` unless
    /// `totalAssets() * 10_000 >= minCoverageBps * loanBookAfterUsd`. The loan vault calls it when a loan is drawn,
    /// with the book as it will be after the draw.
    function checkCoverage(uint256 loanBookAfterUsd) external view;

    /// @notice Junior assets (`totalAssets`) over `loanVault.loanBook()`, in basis points rounded down;
    /// `type(uint256).max` when the book is empty or there is no vault.
    function coverageBps() external view returns (uint256);

    /// @notice USDai tracked by the tranche: deposits and interest less claims and cover drawn. Donations are not
    /// counted. This is what `syncJuniorAssets` reports.
    function trackedAssets() external view returns (uint256);

    /// @notice The part of `trackedAssets()` standing behind impaired loans: `min(loanVault.firstLossClaim(),
    /// trackedAssets())`, zero without a vault.
    function encumberedAssets() external view returns (uint256);

    /// @notice The USDai `drawCover` would pay now for an unlimited request: the first `seniorProtectedAssets()` of
    /// realized losses (those already impaired included) fall on the junior and sUSDai bears only the excess. It is
    /// `trackedAssets()`, because no USDai is ever set aside for redemptions (claims are priced and paid at claim
    /// time, so locked shares stay at risk); the encumbered part is already earmarked for current impairments, and
    /// `totalAssets()` is what is left for losses not yet impaired.
    function seniorProtectedAssets() external view returns (uint256);

    /// @notice `controller`'s aggregated request.
    function redeemRequest(address controller) external view returns (RedeemRequestState memory);

    /// @notice Until when `holder` is allowlisted (exclusive); 0 when not allowlisted.
    function holderExpiry(address holder) external view returns (uint256);

    /// @notice Whether `holder` may receive shares now (allowlisted and not expired).
    function isAllowlisted(address holder) external view returns (bool);

    /// @notice The loan vault encumbrance and coverage read (zero: none).
    function loanVault() external view returns (address);

    /// @notice Minimum coverage of the loan book by junior assets, in basis points.
    function minCoverageBps() external view returns (uint256);

    /// @notice Lock-up of redemption requests, in seconds.
    function lockupSeconds() external view returns (uint256);

    /// @notice ERC-7575: the share token (this contract).
    function share() external view returns (address);
}

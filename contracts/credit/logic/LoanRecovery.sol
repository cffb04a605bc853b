// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ICollateralAuction} from "../../interfaces/ICollateralAuction.sol";
import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {IJuniorTranche} from "../../interfaces/IJuniorTranche.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {IStakedUSDai} from "../../interfaces/IStakedUSDai.sol";
import {IUtilizationOracle} from "../../interfaces/IUtilizationOracle.sol";
import {CREDIT_ADMIN_ROLE, RECEIPT_HOLDER_ROLE} from "../../libraries/Roles.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanOrigination} from "./LoanOrigination.sol";
import {LoanPayments} from "./LoanPayments.sol";
import {LoanStorage, loanStorage, requireStatus} from "./LoanStorage.sol";

/// @title LoanRecovery
/// @notice What happens when a loan fails: default with impairment, liquidation into a Dutch auction, the auction's
/// settlement, and step-in by a replacement operator.
/// @dev `executeSettlement` is internal (inlined in the vault: it is on every auction buyer's path, where a library
/// call would add a cold DELEGATECALL); `executeDeclareDefault`, `executeLiquidate` and `executeStepIn` are external
/// (linked; DELEGATECALL on the vault's storage, called only from its nonReentrant entry points, which check the caller's
/// role where one is needed).
/// Events and errors are the vault's.
library LoanRecovery {
    using FixedPointMath for uint256;
    using SafeERC20 for IERC20;

    // ================================================================ entry points

    /// @notice See `ILoanVault.declareDefault`. The lockbox and reserve run the waterfall first: the protocol uses the
    /// money it holds before it takes the collateral.
    function executeDeclareDefault(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId
    ) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Active);
        uint256 cash = uint256(s.lockbox) + s.reserve;
        bool paymentWasDue = block.timestamp >= LoanPayments.paymentDefaultAt(s, t);
        int256 rounding;
        ILoanVault.Allocation memory applied;
        bool interestInBooks;
        if (cash != 0) {
            (applied, interestInBooks) = LoanPayments.runWaterfall($, receipts, loanId, s, t);
            // The money held repaid the whole loan.
            if (s.status != ILoanVault.LoanStatus.Active)
                revert ILoanVault.LoanVaultOverdueCoveredByLockbox(loanId, cash);
        } else {
            // (No detour through non-accrual: the default takes the loan out of the books at once.)
            rounding = LoanPayments.accrue($, loanId, s, t, true);
        }
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, s.receiptCount);
        _requireDefaultable($, loanId, s, t, collateral, paymentWasDue ? cash : 0);

        _bookDefault($, s, collateral, rounding);
        emit ILoanVault.LoanDefaulted(loanId, uint256(s.principal) + s.interest, s.impairedValue);

        LoanPayments.payStaked(staked, usdai, address(this), applied, interestInBooks);
    }

    /// @notice See `ILoanVault.liquidate`. Within the step-in window after the default only the credit admin may
    /// liquidate (the role is read from the vault, which this runs in, only then).
    function executeLiquidate(IGpuReceipt receipts, uint256 loanId) external returns (uint256 auctionId) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);
        ICollateralAuction auction = $.auction;
        if (address(auction) == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        _requireStepInWindowOver($, loanId, s);
        uint256 count = s.receiptCount;
        uint256 collateral = LoanCollateral.collateralValue($, receipts, loanId, count);
        // The lot is carried at no more than its collateral today after the haircut (it may have depreciated since
        // the default), and its reserve is what recovers that with the cash held: the auction never sells below it.
        uint256 cash = uint256(s.lockbox) + s.reserve;
        uint256 impairedValue = _markDown($, s, LoanAccounting.recoveryOf($, s, collateral));
        uint256 reservePrice = impairedValue.zeroFloorSub(cash);
        s.status = ILoanVault.LoanStatus.Liquidating;
        $.liquidatingPlusOne = uint64(uint256($.liquidatingPlusOne).max(1) + 1);
        emit ILoanVault.ReserveSet(loanId, reservePrice, impairedValue);

        uint256[] memory ids = LoanCollateral.load($, loanId, count);
        LoanCollateral.move(receipts, ids, address(auction));
        auctionId = auction.start(loanId, ids, collateral, reservePrice, $.terms[loanId].maxLtvBps);
        emit ILoanVault.LoanLiquidated(loanId, auctionId, collateral);
    }

    /// @notice See `ILoanVault.lowerReserve`; the vault has checked the caller. The mark-down comes first (an effect),
    /// then the auction lowers its floor (which refuses a price below the minimum floor, reverting the mark with it).
    function executeLowerReserve(uint256 loanId, uint256 reservePrice) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Liquidating);
        uint256 impairedValue = s.impairedValue;
        // A reserve at or above the impaired value marks nothing (and cannot overflow with the cash added).
        if (reservePrice < impairedValue) {
            impairedValue = _markDown($, s, reservePrice + s.lockbox + s.reserve);
        }
        emit ILoanVault.ReserveSet(loanId, reservePrice, impairedValue);

        $.auction.lowerFloor(loanId, reservePrice);
    }

    /// @notice See `ILoanVault.stepIn`; the vault has checked the caller and that `newBorrower` holds BORROWER. The
    /// lockbox and reserve repay the debt first (interest, then principal); the replacement operator takes on the rest on
    /// a fresh schedule over the payments that remain (at least one), starting now, and starts clean: the base premium,
    /// no covenant or oracle flag, no late fee, within its borrower cap. The utilization oracle, if the vault has one,
    /// restarts the loan's streaks and drops its unpushed coupon step (the oracle's reaction to the old operator).
    function executeStepIn(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId,
        address newBorrower
    ) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);
        if (!IAccessControl(address(receipts)).hasRole(RECEIPT_HOLDER_ROLE, newBorrower)) {
            revert ILoanVault.LoanVaultNotReceiptHolder(newBorrower);
        }
        uint256 cash = uint256(s.lockbox) + s.reserve;
        uint256 debt = uint256(s.principal) + s.interest;
        if (cash >= debt) revert ILoanVault.LoanVaultDebtCoveredByCash(loanId, cash, debt);
        uint256 interestPaid = cash.min(s.interest);
        uint256 principalPaid = cash - interestPaid;
        LoanOrigination.checkBorrowerCap($, staked, newBorrower, uint256(s.principal) - principalPaid);

        address previous = t.borrower;
        t.borrower = newBorrower;
        // The write-back: the loan leaves the impaired total, and its markdown the entry price (which already counted
        // it at its claim), before the fresh schedule rewrites the claim.
        LoanAccounting.applyMarkdown(
            $,
            -int256(LoanAccounting.markdownOf(s)),
            -int256(LoanAccounting.atRiskOf(s))
        );
        _restartSchedule(s, t, interestPaid, principalPaid);
        _bookNovation($, s, t.site, previous, newBorrower, principalPaid);
        s.impairedValue = 0;
        emit ILoanVault.SteppedIn(loanId, previous, newBorrower);
        if (cash != 0) emit ILoanVault.Swept(loanId, cash, 0, 0, true);

        if (cash != 0) {
            usdai.safeTransfer(address(staked), cash);
            staked.receiveLoanCashflow(principalPaid, interestPaid, 0, 0);
        }
        address oracle = $.utilizationOracle;
        if (oracle != address(0)) IUtilizationOracle(oracle).onStepIn(loanId);
    }

    /// @notice See `ILoanVault.onAuctionSettled` (`expected` Liquidating, the vault has checked that the caller is its
    /// auction) and `ILoanVault.writeOff` (`expected` Defaulted, `proceeds` 0). The recovery (proceeds plus lockbox and
    /// reserve) repays the debt, then the late fees; the rest is the borrower's surplus (credited to claim if it cannot be
    /// sent), and what the recovery does not cover is a realized loss for sUSDai.
    /// @dev The loan's dead state is cleared to zero where a whole slot allows it (the accrual slot and the schedule
    /// slot), and the storage refunds pay for part of the settlement. Status, the receipt list and the oracle's fields
    /// stay, so the lot and the loan's history can still be read. NAV holds the loan at its `impairedValue`: that much
    /// of the recovery is booked at once; anything above it is a gain and vests, so nobody can buy sUSDai just before a
    /// good sale and take it. A defaulted loan owes something (a loan owing nothing is Repaid), so
    /// `repaid + loss = debt > 0` and sUSDai's hook always has an amount to book.
    function executeSettlement(
        IStakedUSDai staked,
        IERC20 usdai,
        uint256 loanId,
        uint256 proceeds,
        address buyer,
        ILoanVault.LoanStatus expected
    ) internal returns (uint256[] memory receiptIds) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, expected);
        address borrower = $.terms[loanId].borrower;
        if (buyer == borrower) revert ILoanVault.LoanVaultBuyerIsBorrower(loanId, buyer);
        Settlement memory r = _bookSettlement($, s, loanId, proceeds, borrower);

        if (r.cover != 0) _drawCover($, r.cover);
        if (r.toStaked != 0) usdai.safeTransfer(address(staked), r.toStaked);
        staked.receiveLoanCashflow(r.principalBooked, r.interestBooked, r.gain, r.loss);
        if (r.surplus != 0) _paySurplus($, usdai, loanId, borrower, r.surplus);
        receiptIds = LoanCollateral.load($, loanId, s.receiptCount);
    }

    /// @dev A settlement's split of the recovery, in USDai: the junior tranche's `cover` (the principal the recovery
    /// leaves unpaid, as far as the junior's USDai goes), what sUSDai receives (`toStaked`: the recovery and the cover, of
    /// which what NAV carried for the loan is booked as principal and interest and the rest is a vesting `gain`), its
    /// realized `loss`, and the borrower's `surplus`.
    struct Settlement {
        uint256 cover;
        uint256 toStaked;
        uint256 principalBooked;
        uint256 interestBooked;
        uint256 gain;
        uint256 loss;
        uint256 surplus;
    }

    /// @dev The settlement's effects and event: splits the recovery (`Settlement`), takes the loan out of the impaired
    /// total and its exposures, clears its state to its final status (Recovered, or WrittenOff for no proceeds) and emits
    /// `AuctionSettled`. The split lives in memory: the settlement is inlined in the vault, where its figures on the stack
    /// would not fit the IR pipeline's stack once coverage instruments it.
    function _bookSettlement(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 loanId,
        uint256 proceeds,
        address borrower
    ) private returns (Settlement memory r) {
        uint256 principal = s.principal;
        uint256 debt = principal + s.interest;
        uint256 held = uint256(s.lockbox) + s.reserve;
        uint256 recovered = proceeds + held;
        uint256 repaid = recovered.min(debt);
        uint256 fees = (recovered - repaid).min(s.lateFees);
        r.surplus = recovered - repaid - fees;
        uint256 impairedValue = s.impairedValue;
        // NAV carried the loan at its impaired value plus the junior's protection that leaves with it: sUSDai books that
        // much of the recovery and the junior's cover at once, and the rest vests as a gain.
        uint256 carried = impairedValue + _takeFirstLoss($, s, r, principal.zeroFloorSub(repaid));
        uint256 received = repaid + r.cover;
        r.loss = debt - received;
        uint256 booked = received.min(carried);
        r.gain = received - booked + fees;
        r.toStaked = booked + r.gain;
        r.principalBooked = booked.min(principal);
        r.interestBooked = booked - r.principalBooked;
        if (r.cover != 0) emit ILoanVault.LossAbsorbed(loanId, r.cover, r.loss);

        LoanAccounting.applyChange(
            $,
            false,
            0,
            0,
            0,
            -int256(impairedValue),
            -int256(principal),
            borrower,
            $.terms[loanId].site
        );
        _clearSettled(
            s,
            proceeds == 0 ? ILoanVault.LoanStatus.WrittenOff : ILoanVault.LoanStatus.Recovered,
            held != 0
        );
        emit ILoanVault.AuctionSettled(loanId, proceeds, held, repaid, fees, r.surplus, r.loss);
    }

    /// @dev First loss at a settlement: takes the loan's markdown and principal at risk off the books and sets `r.cover`,
    /// the `unpaid` principal the junior tranche pays (as far as its USDai goes). Returns the protection NAV held for the
    /// loan that leaves with it.
    function _takeFirstLoss(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        Settlement memory r,
        uint256 unpaid
    ) private returns (uint256 released) {
        released = LoanAccounting.protection($);
        uint256 juniorAssets = $.juniorAssets;
        r.cover = unpaid.min(juniorAssets);
        LoanAccounting.applyMarkdown(
            $,
            -int256(LoanAccounting.markdownOf(s)),
            -int256(LoanAccounting.atRiskOf(s))
        );
        if (r.cover != 0) LoanAccounting.setJuniorAssets($, juniorAssets - r.cover);
        released -= LoanAccounting.protection($);
    }

    /// @dev Sends a sale's surplus to the borrower. A borrower who cannot receive it (a token that refuses the account, a
    /// reverting hook) cannot block the sale: the surplus is credited for it to claim (`executeClaimSurplus`).
    function _paySurplus(
        LoanStorage.LoanVaultStorage storage $,
        IERC20 usdai,
        uint256 loanId,
        address borrower,
        uint256 surplus
    ) private {
        if (usdai.trySafeTransfer(borrower, surplus)) return;
        $.surplus[borrower] += surplus;
        emit ILoanVault.SurplusCredited(loanId, borrower, surplus);
    }

    /// @notice See `ILoanVault.writeOff`.
    function executeWriteOff(
        IStakedUSDai staked,
        IERC20 usdai,
        IGpuReceipt receipts,
        uint256 loanId
    ) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        requireStatus(loanId, s, ILoanVault.LoanStatus.Defaulted);
        uint256 value = LoanCollateral.collateralValue($, receipts, loanId, s.receiptCount);
        if (value != 0) revert ILoanVault.LoanVaultCollateralNotWorthless(loanId, value);
        ICollateralAuction auction = $.auction;
        if (address(auction) == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        _requireStepInWindowOver($, loanId, s);
        address custodian = auction.recoveryCustodian();
        emit ILoanVault.LoanWrittenOff(loanId, custodian);

        uint256[] memory ids = executeSettlement(
            staked,
            usdai,
            loanId,
            0,
            address(0),
            ILoanVault.LoanStatus.Defaulted
        );
        LoanCollateral.move(receipts, ids, custodian);
    }

    /// @notice See `ILoanVault.recordRecovery`; the vault has checked the caller.
    function executeRecordRecovery(
        IStakedUSDai staked,
        IERC20 usdai,
        uint256 loanId,
        uint256 amount
    ) external {
        if (amount == 0) revert ILoanVault.LoanVaultZeroAmount();
        requireStatus(loanId, loanStorage().state[loanId], ILoanVault.LoanStatus.WrittenOff);
        emit ILoanVault.RecoveryRecorded(loanId, msg.sender, amount);

        usdai.safeTransferFrom(msg.sender, address(staked), amount);
        staked.receiveLoanCashflow(0, 0, amount, 0);
    }

    /// @notice See `ILoanVault.claimSurplus`.
    function executeClaimSurplus(IERC20 usdai, address to) external returns (uint256 amount) {
        if (to == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        amount = $.surplus[msg.sender];
        if (amount == 0) revert ILoanVault.LoanVaultNoSurplus(msg.sender);
        $.surplus[msg.sender] = 0;
        emit ILoanVault.SurplusClaimed(msg.sender, to, amount);

        usdai.safeTransfer(to, amount);
    }

    /// @notice See `ILoanVault.setAuction`; the vault has checked the caller.
    function executeSetAuction(address auction) external {
        if (auction == address(0)) revert ILoanVault.LoanVaultZeroAddress();
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        uint256 live = liquidatingCount($);
        if (live != 0) revert ILoanVault.LoanVaultLotsInAuction(live);
        $.auction = ICollateralAuction(auction);
        emit ILoanVault.AuctionSet(auction);
    }

    /// @notice See `ILoanVault.setJuniorTranche`; the vault has checked the caller. The junior's USDai is read from it;
    /// a junior that protects principal at risk now cannot be replaced (its protection would vanish from NAV).
    function executeSetJuniorTranche(address junior) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        uint256 protected = LoanAccounting.protection($);
        if (protected != 0) revert ILoanVault.LoanVaultJuniorInUse(protected);
        uint256 assets = junior == address(0) ? 0 : IJuniorTranche(junior).trackedAssets();
        $.junior = IJuniorTranche(junior);
        LoanAccounting.setJuniorAssets($, assets);
        emit ILoanVault.JuniorTrancheSet(junior, assets);
    }

    /// @notice See `ILoanVault.syncJuniorAssets`: only the junior tranche reports its USDai.
    function executeSyncJuniorAssets(uint256 assets) external {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        if (msg.sender != address($.junior)) revert ILoanVault.LoanVaultNotJunior(msg.sender);
        LoanAccounting.setJuniorAssets($, assets);
    }

    /// @notice See `ILoanVault.setUtilizationOracle`; the vault has checked the caller.
    function executeSetUtilizationOracle(address oracle) external {
        loanStorage().utilizationOracle = oracle;
        emit ILoanVault.UtilizationOracleSet(oracle);
    }

    /// @notice Loans in Liquidating: the stored count is one more, or zero on a vault initialized before it existed
    /// (read as none).
    function liquidatingCount(LoanStorage.LoanVaultStorage storage $) internal view returns (uint256) {
        return uint256($.liquidatingPlusOne).max(1) - 1;
    }

    // ================================================================ private

    /// @dev Draws `cover` USDai of first-loss cover from the junior tranche into this vault. The vault mirrors the
    /// junior's USDai exactly, so the junior pays all of it; anything else is refused rather than booked.
    function _drawCover(LoanStorage.LoanVaultStorage storage $, uint256 cover) private {
        uint256 paid = $.junior.drawCover(cover);
        if (paid != cover) revert ILoanVault.LoanVaultCoverShort(cover, paid);
    }

    /// @dev Within the step-in window after a default only the credit admin may take the collateral away (liquidate
    /// or write off): the role is read from the vault, which this runs in, only then. A Defaulted loan's `accruedAt`
    /// is when it defaulted.
    function _requireStepInWindowOver(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s
    ) private view {
        uint256 opensAt = uint256(s.accruedAt) + $.stepInWindowSeconds;
        if (
            block.timestamp < opensAt && !IAccessControl(address(this)).hasRole(CREDIT_ADMIN_ROLE, msg.sender)
        ) {
            revert ILoanVault.LoanVaultStepInWindow(loanId, opensAt);
        }
    }

    /// @dev Reverts unless an accrued (and swept) Active loan may default now: a payment default (not over dust), or a
    /// lapsed cure whose breach still stands. `cashUsed`: the lockbox and reserve the waterfall applied to a loan whose
    /// payment default date had passed, for the error when that cash cured it.
    function _requireDefaultable(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 collateral,
        uint256 cashUsed
    ) private {
        uint256 paymentAt = LoanPayments.paymentDefaultAt(s, t);
        if (block.timestamp >= paymentAt) {
            uint256 overdue = uint256(s.lateFees) + s.interest + LoanPayments.scheduledPrincipalDue(s, t);
            if (LoanPayments.isImmaterial($, overdue)) {
                revert ILoanVault.LoanVaultOverdueImmaterial(
                    loanId,
                    overdue,
                    LoanPayments.materialityThreshold($)
                );
            }
            return;
        }
        // A lapsed cure counts only if the breach still stands today.
        LoanCovenants.evaluate(loanId, s, t, collateral, false);
        uint256 cureDeadline = s.cureDeadline;
        if (cureDeadline != 0 && block.timestamp > cureDeadline) return;
        if (cashUsed != 0) revert ILoanVault.LoanVaultOverdueCoveredByLockbox(loanId, cashUsed);
        revert ILoanVault.LoanVaultNotDefaultable(
            loanId,
            LoanPayments.earliestDefault(paymentAt, cureDeadline)
        );
    }

    /// @dev Books a default: the loan leaves the performing book (with its interest, if it was still accruing; interest it
    /// paid ahead is earned now) for the impaired total, at its expected recovery (collateral after the haircut plus
    /// the lockbox and reserve left), never more than the value a performing book holds for it: principal and interest,
    /// or the principal alone for a loan with a payment past its grace period (non-accrual, declared or not).
    function _bookDefault(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 collateral,
        int256 rounding
    ) private {
        uint256 principal = s.principal;
        bool accruing = LoanAccounting.isAccruing(s);
        bool late = s.lateFeeIndex >= s.nextPaymentIndex;
        // A loan in non-accrual may be written down (marked past grace); it leaves the book at what it carried.
        uint256 writedown = s.impairedValue;
        uint256 carried = accruing && !late ? principal + s.interest : principal - writedown;
        uint256 impairedValue = LoanAccounting.recoveryOf($, s, collateral).min(carried);
        int256 rateOut;
        // The writedown was booked in the interest numerator: it returns to it as the loan leaves.
        int256 interestOut = -int256(writedown * INTEREST_DENOMINATOR);
        if (accruing) {
            uint256 couponBps = s.couponBps;
            rateOut = int256(principal * couponBps);
            interestOut =
                int256(uint256(s.interest) * INTEREST_DENOMINATOR) -
                LoanAccounting.unearned(principal, couponBps, s.accruedAt) -
                rounding;
        }
        LoanAccounting.applyChange(
            $,
            true,
            -int256(principal),
            -rateOut,
            -interestOut,
            int256(impairedValue),
            0,
            address(0),
            bytes32(0)
        );
        s.impairedValue = uint96(impairedValue);
        LoanAccounting.applyMarkdown(
            $,
            int256(LoanAccounting.markdownOf(s)) - int256(writedown),
            int256(LoanAccounting.atRiskOf(s)) - int256(writedown)
        );
        s.accruedAt = uint32(block.timestamp);
        s.status = ILoanVault.LoanStatus.Defaulted;
    }

    /// @dev Marks an impaired loan down to `value` if that is below its impaired value: the difference leaves the
    /// impaired total (NAV) and joins the markdown (the entry price still counts the loan at its claim). Returns the
    /// impaired value after.
    function _markDown(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        uint256 value
    ) private returns (uint256) {
        uint256 impairedValue = s.impairedValue;
        if (value >= impairedValue) return impairedValue;
        uint256 drop = impairedValue - value;
        int256 atRiskBefore = int256(LoanAccounting.atRiskOf(s));
        s.impairedValue = uint96(value);
        LoanAccounting.applyChange($, false, 0, 0, 0, -int256(drop), 0, address(0), bytes32(0));
        LoanAccounting.applyMarkdown($, int256(drop), int256(LoanAccounting.atRiskOf(s)) - atRiskBefore);
        return value;
    }

    /// @dev A step-in's new start: the cash applied, a fresh schedule over the payments that remain (at least one), the
    /// base premium, and none of the old operator's flags, late fees or cure.
    function _restartSchedule(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanTerms storage t,
        uint256 interestPaid,
        uint256 principalPaid
    ) private {
        uint256 principal = uint256(s.principal) - principalPaid;
        uint256 elapsed = LoanSchedule.paymentsDueBy(
            s.scheduleStart,
            t.paymentIntervalSeconds,
            s.schedulePayments,
            block.timestamp
        );
        uint256 remaining = uint256(s.schedulePayments) - elapsed;
        s.principal = uint96(principal);
        s.interest = uint96(uint256(s.interest) - interestPaid);
        s.status = ILoanVault.LoanStatus.Active;
        s.accruedAt = uint32(block.timestamp);
        s.nextPaymentIndex = 1;
        s.lateFees = 0;
        s.lateFeeIndex = 0;
        s.breachFlags = 0;
        s.oracleFlags = 0;
        s.cureDeadline = 0;
        s.lockbox = 0;
        s.reserve = 0;
        uint256 basePremiumBps = t.basePremiumBps;
        s.premiumBps = uint16(basePremiumBps);
        // The loan is out of the books: the novation books it at its new coupon (`_bookNovation`).
        LoanAccounting.setCoupon(s, LoanAccounting.couponBps(s.referenceRateBps, basePremiumBps));
        s.schedulePrincipal = uint96(principal);
        s.scheduleStart = uint40(block.timestamp);
        s.schedulePayments = uint16(remaining == 0 ? 1 : remaining);
    }

    /// @dev Books a step-in: the loan leaves the impaired total and returns to the performing book at its debt after the
    /// cash applied; `principalPaid` leaves the old operator's and the site's exposure, and the rest moves from the old
    /// operator to the new one (a novation is a change per borrower; the site keeps the rest).
    function _bookNovation(
        LoanStorage.LoanVaultStorage storage $,
        ILoanVault.LoanState storage s,
        bytes32 site,
        address previous,
        address newBorrower,
        uint256 principalPaid
    ) private {
        uint256 principal = s.principal;
        int256 moved = int256(principal);
        LoanAccounting.applyChange(
            $,
            false,
            moved,
            int256(principal * s.couponBps),
            int256(uint256(s.interest) * INTEREST_DENOMINATOR),
            -int256(uint256(s.impairedValue)),
            -int256(principalPaid),
            previous,
            site
        );
        LoanAccounting.applyChange($, false, 0, 0, 0, 0, -moved, previous, bytes32(0));
        LoanAccounting.applyChange($, false, 0, 0, 0, 0, moved, newBorrower, bytes32(0));
    }

    /// @dev Zeroes a settled loan's money and its whole accrual (slot 0) and schedule (slot 3) slots, and sets its final
    /// status. The receipt count and the oracle's fields in slot 1 stay; the lockbox slot is written only if it held
    /// anything.
    function _clearSettled(
        ILoanVault.LoanState storage s,
        ILoanVault.LoanStatus status,
        bool lockboxHeld
    ) private {
        s.principal = 0;
        s.interest = 0;
        s.accruedAt = 0;
        s.couponBps = 0;
        s.nextPaymentIndex = 0;
        s.schedulePrincipal = 0;
        s.scheduleStart = 0;
        s.schedulePayments = 0;
        s.impairedValue = 0;
        if (lockboxHeld) {
            s.lockbox = 0;
            s.reserve = 0;
        }
        s.lateFees = 0;
        s.status = status;
    }
}

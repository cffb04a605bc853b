// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {BPS} from "../../libraries/Constants.sol";
import {FixedPointMath} from "../../libraries/FixedPointMath.sol";
import {INTEREST_DENOMINATOR, LoanSchedule} from "../../libraries/LoanSchedule.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCollateral} from "./LoanCollateral.sol";
import {LoanCovenants} from "./LoanCovenants.sol";
import {LoanPayments} from "./LoanPayments.sol";
import {LoanStorage, loanStorage} from "./LoanStorage.sol";

/// @title LoanLens
/// @notice The LoanVault's views: a loan's debt, LTV, next payment, default date, collateral value and standing, and the
/// stored records (terms, state, risk parameters, aggregates). Views only. Deployed once and linked; its functions run
/// by DELEGATECALL (reads only) on the vault's storage.
/// @dev The `encoded*` views return the ABI encoding of the vault view's return value, which the vault returns as it
/// is: a struct crosses the DELEGATECALL as one `bytes` instead of being decoded and encoded again, field by field, in
/// the vault's bytecode. None of them is on a contract's path (no contract reads them).
library LoanLens {
    using FixedPointMath for uint256;

    /// @notice See `ILoanVault.debtOf`.
    function debtOf(uint256 loanId) public view returns (uint256) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        if (s.status != ILoanVault.LoanStatus.Active) return uint256(s.principal) + s.interest + s.lateFees;
        uint256 interest = LoanAccounting.interestNow(s);
        return s.principal + interest + s.lateFees + LoanPayments.pendingLateFee(s, $.terms[loanId]);
    }

    /// @notice See `ILoanVault.ltvOf`.
    function ltvOf(IGpuReceipt receipts, uint256 loanId) external view returns (uint256) {
        uint256 collateral = collateralValueOf(receipts, loanId);
        uint256 debt = debtOf(loanId);
        if (collateral == 0) return debt == 0 ? 0 : type(uint256).max;
        return debt.mulDivUp(BPS, collateral);
    }

    /// @notice See `ILoanVault.nextPayment`.
    function nextPayment(uint256 loanId) external view returns (uint256 dueDate, uint256 amountDue) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        ILoanVault.LoanTerms storage t = $.terms[loanId];
        uint256 index = s.nextPaymentIndex;
        // An Active loan always has a next payment: the one that settles the last installment repays the loan.
        if (s.status != ILoanVault.LoanStatus.Active) return (0, 0);
        dueDate = s.scheduleStart + index * t.paymentIntervalSeconds;
        // Interest up to the later of now and the due date (none for time already paid ahead).
        uint256 until = dueDate.max(block.timestamp);
        uint256 interest =
            s.interest +
                LoanSchedule
                    .interestNumerator(s.principal, s.couponBps, until.zeroFloorSub(s.accruedAt))
                    .divUp(INTEREST_DENOMINATOR);
        uint256 required =
            uint256(s.schedulePrincipal) -
                LoanSchedule.cumulativePrincipalDue(
                    s.schedulePrincipal,
                    t.amortizationBps,
                    index,
                    s.schedulePayments
                );
        amountDue =
            s.lateFees +
            LoanPayments.pendingLateFee(s, t) +
            interest +
            uint256(s.principal).zeroFloorSub(required);
    }

    /// @notice See `ILoanVault.defaultableAt`.
    function defaultableAt(uint256 loanId) external view returns (uint256) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        ILoanVault.LoanState storage s = $.state[loanId];
        if (s.status != ILoanVault.LoanStatus.Active) return 0;
        return
            LoanPayments.earliestDefault(LoanPayments.paymentDefaultAt(s, $.terms[loanId]), s.cureDeadline);
    }

    /// @notice See `ILoanVault.collateralValueOf`.
    function collateralValueOf(IGpuReceipt receipts, uint256 loanId) public view returns (uint256) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        return LoanCollateral.collateralValue($, receipts, loanId, $.state[loanId].receiptCount);
    }

    /// @notice See `ILoanVault.inGoodStanding`.
    function inGoodStanding(uint256 loanId) external view returns (bool) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        return LoanCovenants.isInGoodStanding($.state[loanId], $.terms[loanId]);
    }

    // ================================================================ stored records, ABI-encoded

    /// @notice `abi.encode` of `ILoanVault.termsOf(loanId)`.
    function encodedTerms(uint256 loanId) external view returns (bytes memory) {
        return abi.encode(loanStorage().terms[loanId]);
    }

    /// @notice `abi.encode` of `ILoanVault.stateOf(loanId)`.
    function encodedState(uint256 loanId) external view returns (bytes memory) {
        return abi.encode(loanStorage().state[loanId]);
    }

    /// @notice `abi.encode` of `ILoanVault.riskParams()`: the first four as first laid out, then the state machine's two.
    function encodedRiskParams() external view returns (bytes memory) {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        LoanStorage.StoredRiskParams memory stored = $.risk;
        return
            abi.encode(
                ILoanVault.RiskParams({
                    borrowerCapBps: stored.borrowerCapBps,
                    siteCapBps: stored.siteCapBps,
                    recoveryHaircutBps: stored.recoveryHaircutBps,
                    referenceFeedMaxStalenessSeconds: stored.referenceFeedMaxStalenessSeconds,
                    materialityThreshold: $.materialityThreshold,
                    stepInWindowSeconds: $.stepInWindowSeconds
                })
            );
    }

    /// @notice See `ILoanVault.accrualState()`. The interest numerator is stored as the bits of an `int216`.
    function accrualState()
        external
        view
        returns (
            uint256 totalPrincipal,
            uint256 rateSum,
            int256 interestNumerator,
            uint256 checkpointAt,
            uint256 impaired
        )
    {
        LoanStorage.LoanVaultStorage storage $ = loanStorage();
        LoanStorage.Aggregates memory agg = $.aggregates;
        return (
            agg.totalPrincipal,
            agg.rateSum,
            int256(int216(agg.interestNumerator)),
            agg.checkpointAt,
            $.impaired
        );
    }
}

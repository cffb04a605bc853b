// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {IGpuReceipt} from "../../interfaces/IGpuReceipt.sol";
import {ILoanVault} from "../../interfaces/ILoanVault.sol";
import {MAX_RECEIPTS_PER_LOAN, RECEIPT_ID_BITS, RECEIPT_ID_MASK} from "./LoanConstants.sol";
import {LoanStorage} from "./LoanStorage.sol";

/// @title LoanCollateral
/// @notice The receipts pledged to a loan: the pledge's checks, the packed list (four ids to a slot), the collateral
/// value, and the ERC-721 moves in and out of escrow.
/// @dev Internal functions only: they are compiled into each caller and run on the LoanVault's storage.
library LoanCollateral {
    /// @notice Checks a pledge (count, site, value, id width) and returns its collateral value.
    function pledgeValue(
        IGpuReceipt receipts,
        bytes32 site,
        uint256[] calldata ids,
        uint256 existing
    ) internal view returns (uint256 value) {
        uint256 n = ids.length;
        if (n == 0 || existing + n > MAX_RECEIPTS_PER_LOAN) {
            revert ILoanVault.LoanVaultReceiptCount(existing + n, MAX_RECEIPTS_PER_LOAN);
        }
        for (uint256 i; i < n; ++i) {
            uint256 id = ids[i];
            if (id > RECEIPT_ID_MASK) revert ILoanVault.LoanVaultReceiptIdTooLarge(id);
            bytes32 receiptSite = receipts.siteOf(id);
            if (receiptSite != site) revert ILoanVault.LoanVaultWrongSite(id, receiptSite, site);
            uint256 receiptValue = receipts.collateralValue(id);
            if (receiptValue == 0) revert ILoanVault.LoanVaultWorthlessReceipt(id);
            value += receiptValue;
        }
    }

    /// @notice Depreciated collateral value of the first `count` receipts of `loanId`.
    function collateralValue(
        LoanStorage.LoanVaultStorage storage $,
        IGpuReceipt receipts,
        uint256 loanId,
        uint256 count
    ) internal view returns (uint256 value) {
        uint256 packed;
        for (uint256 i; i < count; ++i) {
            if ((i & 3) == 0) packed = $.receiptSlots[loanId][i >> 2];
            value += receipts.collateralValue((packed >> ((i & 3) * RECEIPT_ID_BITS)) & RECEIPT_ID_MASK);
        }
    }

    /// @notice Appends `ids` after the first `count` receipts of `loanId`, four to a slot, one write per slot.
    function store(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        uint256 count,
        uint256[] calldata ids
    ) internal {
        mapping(uint256 => uint256) storage slots = $.receiptSlots[loanId];
        uint256 n = ids.length;
        uint256 packed = (count & 3) == 0 ? 0 : slots[count >> 2];
        for (uint256 i; i < n; ++i) {
            uint256 position = count + i;
            packed |= ids[i] << ((position & 3) * RECEIPT_ID_BITS);
            if ((position & 3) == 3 || i == n - 1) {
                slots[position >> 2] = packed;
                packed = 0;
            }
        }
    }

    /// @notice The first `count` receipt ids of `loanId`.
    function load(
        LoanStorage.LoanVaultStorage storage $,
        uint256 loanId,
        uint256 count
    ) internal view returns (uint256[] memory list) {
        list = new uint256[](count);
        uint256 packed;
        for (uint256 i; i < count; ++i) {
            if ((i & 3) == 0) packed = $.receiptSlots[loanId][i >> 2];
            list[i] = (packed >> ((i & 3) * RECEIPT_ID_BITS)) & RECEIPT_ID_MASK;
        }
    }

    /// @notice Escrows receipts from `from`. A plain `transferFrom`: the vault is the receiver and needs no callback.
    function pull(IGpuReceipt receipts, address from, uint256[] calldata list) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            IERC721(address(receipts)).transferFrom(from, address(this), list[i]);
        }
    }

    /// @notice Sends escrowed receipts to `to` with safe transfers (every entry point is nonReentrant).
    function send(IGpuReceipt receipts, uint256[] memory list, address to) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            IERC721(address(receipts)).safeTransferFrom(address(this), to, list[i]);
        }
    }

    /// @notice Moves escrowed receipts to `to` without a callback (the auction, which expects them).
    function move(IGpuReceipt receipts, uint256[] memory list, address to) internal {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            IERC721(address(receipts)).transferFrom(address(this), to, list[i]);
        }
    }
}

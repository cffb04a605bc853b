// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LoanLedger} from "../credit/libraries/LoanLedger.sol";

/// @notice Test-only: exposes LoanLedger's checked narrowing casts, whose revert paths no vault operation can reach
/// with the USDai that exists (a 2^96 interest or impairment total).
contract LoanLedgerHarness {
    function toUint96(uint256 value) external pure returns (uint96) {
        return LoanLedger.toUint96(value);
    }

    function toUint128(uint256 value) external pure returns (uint128) {
        return LoanLedger.toUint128(value);
    }
}

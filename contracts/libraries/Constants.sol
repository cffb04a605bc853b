// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @dev Protocol-wide units. Every constant carries its unit in its name.

/// @dev 100% in basis points.
uint256 constant BPS = 10_000;
/// @dev 1.0 in 18-decimal fixed point (USDai units, share prices).
uint256 constant WAD = 1e18;
/// @dev Seconds in a (365-day) year: interest and APYs are annualised with it.
uint256 constant SECONDS_PER_YEAR = 365 days;
/// @dev Decimals of USDai and of every USD amount in the protocol.
uint8 constant USD_DECIMALS = 18;

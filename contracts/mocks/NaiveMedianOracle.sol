// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IUtilizationOracle, REPORT_TYPEHASH} from "../interfaces/IUtilizationOracle.sol";
import {Median} from "../libraries/Median.sol";

/// @notice A deliberately UNSAFE daily-median oracle, the weak target of the report-selection tests: the first
/// submission carrying a quorum of validly signed reports makes the day, from the median of the reports it chose to
/// carry, and any later day can be recorded at once, so a missing day breaks a streak. Signatures are checked as the
/// real oracle checks them (same EIP-712 domain name, version and `Report` type), so the attack is only about which
/// reports count and when.
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveMedianOracle is EIP712 {
    error NaiveMedianOracleBadReport(uint256 index);

    mapping(address => bool) public isReporter;
    uint256 public immutable quorum;
    uint32 public lastDay;
    uint16 public utilizationBps;
    uint16 public uptimeBps;
    /// @notice Consecutive recorded days under `lowThresholdBps` (a missing day restarts it).
    uint16 public lowStreak;
    uint16 public immutable lowThresholdBps;

    constructor(
        address[] memory reporters,
        uint256 quorum_,
        uint16 lowThresholdBps_
    ) EIP712("UtilizationOracle", "1") {
        for (uint256 i; i < reporters.length; ++i) isReporter[reporters[i]] = true;
        quorum = quorum_;
        lowThresholdBps = lowThresholdBps_;
    }

    /// @notice UNSAFE: records the day from whichever quorum of reports the submitter picked.
    function submitReport(
        IUtilizationOracle.Report[] calldata reports,
        bytes[] calldata signatures
    ) external {
        uint256 count = reports.length;
        uint32 day = reports[0].day;
        if (count < quorum || day <= lastDay) revert NaiveMedianOracleBadReport(type(uint256).max);
        uint256[] memory utilizations = new uint256[](count);
        uint256[] memory uptimes = new uint256[](count);
        address previous;
        for (uint256 i; i < count; ++i) {
            IUtilizationOracle.Report calldata r = reports[i];
            bytes32 digest = _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        REPORT_TYPEHASH,
                        r.loanId,
                        r.utilizationBps,
                        r.uptimeBps,
                        r.day,
                        r.periodDays,
                        r.revenueUsd,
                        r.deadline
                    )
                )
            );
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!isReporter[signer] || signer <= previous || r.day != day)
                revert NaiveMedianOracleBadReport(i);
            previous = signer;
            utilizations[i] = r.utilizationBps;
            uptimes[i] = r.uptimeBps;
        }
        utilizationBps = uint16(Median.medianDown(utilizations));
        uptimeBps = uint16(Median.medianDown(uptimes));
        lowStreak = utilizationBps < lowThresholdBps ? (day == lastDay + 1 ? lowStreak + 1 : 1) : 0;
        lastDay = day;
    }
}

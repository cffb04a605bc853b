// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A deliberately UNSAFE signed-report verifier, the weak target of the replay tests: the digest has no
/// chain id, no verifying contract and no nonce, any day is accepted any number of times, the deadline is ignored and
/// `ecrecover` is called on the raw signature (high-s accepted).
/// @dev Test double. Never deployed outside the local networks. Do not copy.
contract NaiveReportVerifier {
    error NaiveReportVerifierBadSigner(address signer);

    struct Report {
        uint256 loanId;
        uint16 utilizationBps;
        uint16 uptimeBps;
        uint32 day;
        uint64 deadline;
    }

    address public immutable reporter;
    uint256 public accepted;
    uint16 public lastUtilizationBps;

    constructor(address reporter_) {
        reporter = reporter_;
    }

    /// @notice The digest the reporter signs (EIP-191 personal message over the packed report; no domain).
    function digestOf(Report calldata r) public pure returns (bytes32) {
        bytes32 inner = keccak256(abi.encode(r.loanId, r.utilizationBps, r.uptimeBps, r.day, r.deadline));
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", inner));
    }

    /// @notice UNSAFE: accepts any signature of the reporter, again and again, on any chain and after its deadline.
    function submit(Report calldata r, uint8 v, bytes32 rs, bytes32 s) external {
        address signer = ecrecover(digestOf(r), v, rs, s);
        if (signer != reporter) revert NaiveReportVerifierBadSigner(signer);
        ++accepted;
        lastUtilizationBps = r.utilizationBps;
    }
}

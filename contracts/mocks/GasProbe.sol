// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Measures the execution gas of a view call (including the cold access to the target), for the gas bench.
/// @dev Test double. Never deployed outside the local networks.
contract GasProbe {
    /// @notice The target call reverted with `reason`.
    error GasProbeCallFailed(bytes reason);

    function measure(
        address target,
        bytes calldata data
    ) external view returns (uint256 gasUsed, bytes memory ret) {
        bool ok;
        uint256 start = gasleft();
        (ok, ret) = target.staticcall(data);
        gasUsed = start - gasleft();
        if (!ok) revert GasProbeCallFailed(ret);
    }
}

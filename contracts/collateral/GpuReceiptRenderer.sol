// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IGpuReceipt, IGpuReceiptRenderer} from "../interfaces/IGpuReceipt.sol";
import {WAD} from "../libraries/Constants.sol";

// JSON fragments are single-quoted so their double quotes need no escaping (prettier writes them this way).
// solhint-disable quotes

/// @title GpuReceiptRenderer
/// @notice Renders a GPU receipt's metadata as base64 JSON, so wallets and explorers show it without a server.
/// @dev Stateless. USD values are shown in whole dollars, rounded down; the insured value is that of an active
/// policy (0 once it has expired). `model` and `site` come from the tokenizer and are JSON-escaped.
contract GpuReceiptRenderer is IGpuReceiptRenderer {
    using Strings for uint256;
    using Strings for string;

    /// @inheritdoc IGpuReceiptRenderer
    function tokenURI(
        uint256 tokenId,
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd
    ) external view returns (string memory) {
        string memory json = string.concat(
            '{"name":"GPU Receipt #',
            tokenId.toString(),
            '","description":"Document of title for GPU hardware held by a custodian under bailment, valued at',
            ' its depreciated appraisal floored by active insurance.","attributes":[',
            _attributes(record, collateralValueUsd),
            "]}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
    }

    function _attributes(
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd
    ) private view returns (string memory) {
        uint256 insured = block.timestamp < record.insurance.expiry ? record.insurance.insuredValueUsd : 0;
        return
            string.concat(
                _textTrait("Model", record.asset.model.escapeJSON()),
                ",",
                _numberTrait("GPUs", record.asset.gpuCount),
                ",",
                _textTrait("Site", record.asset.site.escapeJSON()),
                ",",
                _numberTrait("Appraised value (USD)", record.appraisal.valueUsd / WAD),
                ",",
                _numberTrait("Collateral value (USD)", collateralValueUsd / WAD),
                ",",
                _numberTrait("Insured value (USD)", insured / WAD),
                ",",
                _textTrait("Status", _statusName(record.status))
            );
    }

    function _statusName(IGpuReceipt.Status status) private pure returns (string memory) {
        if (status == IGpuReceipt.Status.Active) return "Active";
        if (status == IGpuReceipt.Status.RedemptionRequested) return "Redemption requested";
        return "None";
    }

    /// @dev `value` must already be JSON-escaped.
    function _textTrait(string memory name, string memory value) private pure returns (string memory) {
        return string.concat('{"trait_type":"', name, '","value":"', value, '"}');
    }

    function _numberTrait(string memory name, uint256 value) private pure returns (string memory) {
        return
            string.concat(
                '{"trait_type":"',
                name,
                '","display_type":"number","value":',
                value.toString(),
                "}"
            );
    }
}

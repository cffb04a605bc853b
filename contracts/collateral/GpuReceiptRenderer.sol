// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IGpuReceipt, IGpuReceiptRenderer} from "../interfaces/IGpuReceipt.sol";
import {WAD} from "../libraries/Constants.sol";

// JSON and SVG fragments are single-quoted so their double quotes need no escaping (prettier writes them this way).
// solhint-disable quotes

/// @title GpuReceiptRenderer
/// @notice Renders a GPU receipt's metadata as base64 JSON with an SVG card as its image, so wallets and explorers
/// show it without a server.
/// @dev Stateless. USD values are shown in whole dollars, rounded down; the insured value is that of an active
/// policy (0 once it has expired). `model` and `site` come from the tokenizer as arbitrary bytes: they are repaired
/// to well-formed UTF-8, then JSON-escaped in the JSON and XML-escaped in the SVG (`_jsonEscape`, `_xmlEscape`), so
/// a hostile string can neither break out of a JSON string nor inject markup into the image.
contract GpuReceiptRenderer is IGpuReceiptRenderer {
    using Strings for uint256;
    using Strings for string;

    /// @dev The card is 400 by 520 SVG user units with a 24-unit margin: content ends at x = 376.
    uint256 private constant RIGHT_EDGE = 376;

    /// @dev Past this many characters the headline value is squeezed into the card's inner width.
    uint256 private constant HEADLINE_MAX_CHARS = 16;
    /// @dev Past this many bytes a model or site is squeezed into 280 user units (right of its label).
    uint256 private constant LONG_TEXT_BYTES = 24;

    /// @dev Top of the first row of the table and the distance between rows.
    uint256 private constant FIRST_ROW_Y = 250;
    uint256 private constant ROW_STEP = 38;

    /// @dev U+FFFD REPLACEMENT CHARACTER, written for every byte the SVG cannot carry.
    bytes3 private constant REPLACEMENT_CHARACTER = 0xefbfbd;

    /// @dev Longest XML replacement of one input byte (`&quot;` and `&apos;`).
    uint256 private constant MAX_ESCAPE_BYTES = 6;

    /// @inheritdoc IGpuReceiptRenderer
    function tokenURI(
        uint256 tokenId,
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd
    ) external view returns (string memory) {
        uint256 insured = block.timestamp < record.insurance.expiry ? record.insurance.insuredValueUsd : 0;
        string memory json = string.concat(
            '{"name":"GPU Receipt #',
            tokenId.toString(),
            '","description":"Document of title for GPU hardware held by a custodian under bailment, valued at',
            ' its depreciated appraisal floored by active insurance.","image":"data:image/svg+xml;base64,',
            Base64.encode(bytes(_svg(tokenId, record, collateralValueUsd, insured))),
            '","attributes":[',
            _attributes(record, collateralValueUsd, insured),
            "]}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
    }

    // ---------------------------------------------------------------- JSON

    function _attributes(
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd,
        uint256 insured
    ) private pure returns (string memory) {
        (string memory status, , ) = _status(record.status);
        return
            string.concat(
                _textTrait("Model", _jsonEscape(record.asset.model)),
                ",",
                _numberTrait("GPUs", record.asset.gpuCount),
                ",",
                _textTrait("Site", _jsonEscape(record.asset.site)),
                ",",
                _numberTrait("Appraised value (USD)", record.appraisal.valueUsd / WAD),
                ",",
                _numberTrait("Collateral value (USD)", collateralValueUsd / WAD),
                ",",
                _numberTrait("Insured value (USD)", insured / WAD),
                ",",
                _textTrait("Status", status)
            );
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

    // ---------------------------------------------------------------- SVG

    /// @dev The card: number and status badge, the collateral value as the headline, then the asset, the
    /// appraisal, its depreciation schedule and the active cover. Every interpolated string is either built here
    /// from numbers or XML-escaped.
    function _svg(
        uint256 tokenId,
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd,
        uint256 insured
    ) private pure returns (string memory) {
        return
            string.concat(
                '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="520" viewBox="0 0 400 520">',
                "<style>text{font-family:system-ui,-apple-system,Helvetica,Arial,sans-serif}",
                ".k{fill:#94a3b8;font-size:13px;letter-spacing:2px}.n{fill:#f8fafc;font-size:30px;font-weight:700}",
                ".b{fill:#0b1220;font-size:12px;font-weight:700;text-anchor:middle}.l{fill:#94a3b8;font-size:13px}",
                ".h{fill:#f8fafc;font-size:36px;font-weight:700}.f{fill:#64748b;font-size:11px}",
                ".v{fill:#f8fafc;font-size:14px;font-weight:600;text-anchor:end}</style>",
                _svgHeader(tokenId, record.status, collateralValueUsd),
                _svgRows(record, insured),
                '<text x="24" y="496" class="f">Document of title: GPUs held by a custodian under bailment</text>',
                "</svg>"
            );
    }

    /// @dev Background, status stripe and badge, receipt number and the headline collateral value.
    function _svgHeader(
        uint256 tokenId,
        IGpuReceipt.Status status,
        uint256 collateralValueUsd
    ) private pure returns (string memory) {
        (string memory name, string memory colour, uint256 badgeWidth) = _status(status);
        string memory headline = _usd(collateralValueUsd);
        string memory badgeX = (RIGHT_EDGE - badgeWidth).toString();
        return
            string.concat(
                string.concat(
                    '<rect width="400" height="520" rx="20" fill="#0b1220"/><rect x="24" y="24" width="352"',
                    ' height="4" rx="2" fill="',
                    colour,
                    '"/><text x="24" y="62" class="k">GPU RECEIPT</text><text x="24" y="100" class="n">#',
                    tokenId.toString(),
                    '</text><rect x="',
                    badgeX,
                    '" y="44" width="',
                    badgeWidth.toString(),
                    '" height="28" rx="14" fill="',
                    colour
                ),
                '"/><text x="',
                (RIGHT_EDGE - badgeWidth / 2).toString(),
                '" y="63" class="b">',
                name,
                '</text><text x="24" y="150" class="l">Collateral value</text><text x="24" y="192" class="h"',
                bytes(headline).length > HEADLINE_MAX_CHARS
                    ? ' textLength="352" lengthAdjust="spacingAndGlyphs"'
                    : "",
                ">",
                headline,
                '</text><rect x="24" y="214" width="352" height="1" fill="#1e293b"/>'
            );
    }

    /// @dev The table: model, GPU count, site, appraised value, depreciation schedule and insured value.
    function _svgRows(
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 insured
    ) private pure returns (string memory) {
        IGpuReceipt.Appraisal calldata appraisal = record.appraisal;
        string memory depreciation =
            appraisal.markdownBpsPerQuarter == 0
                ? "none"
                : string.concat(
                    _percent(appraisal.markdownBpsPerQuarter),
                    " per quarter, floor ",
                    _percent(appraisal.residualFloorBps)
                );
        return
            string.concat(
                _row(0, "Model", _xmlEscape(record.asset.model), _squeeze(record.asset.model)),
                _row(1, "GPUs", uint256(record.asset.gpuCount).toString(), ""),
                _row(2, "Site", _xmlEscape(record.asset.site), _squeeze(record.asset.site)),
                _row(3, "Appraised value", _usd(appraisal.valueUsd), ""),
                _row(4, "Depreciation", depreciation, ""),
                _row(5, "Insured value", _usd(insured), "")
            );
    }

    /// @dev One row: a label on the left and `value` (already XML-safe) right-aligned, with `attributes` added to
    /// the value's element.
    function _row(
        uint256 index,
        string memory label,
        string memory value,
        string memory attributes
    ) private pure returns (string memory) {
        string memory y = (FIRST_ROW_Y + index * ROW_STEP).toString();
        return
            string.concat(
                '<text x="24" y="',
                y,
                '" class="l">',
                label,
                '</text><text x="376" y="',
                y,
                '" class="v"',
                attributes,
                ">",
                value,
                "</text>"
            );
    }

    /// @dev Squeezes a long tokenizer string into the space right of its label instead of letting it overflow.
    function _squeeze(string calldata text) private pure returns (string memory) {
        return
            bytes(text).length > LONG_TEXT_BYTES ? ' textLength="280" lengthAdjust="spacingAndGlyphs"' : "";
    }

    // ---------------------------------------------------------------- formatting

    /// @dev The status's name (also the JSON trait), its colour and the width of its badge in the SVG.
    function _status(
        IGpuReceipt.Status status
    ) private pure returns (string memory name, string memory colour, uint256 badgeWidth) {
        if (status == IGpuReceipt.Status.Active) return ("Active", "#22c55e", 72);
        if (status == IGpuReceipt.Status.RedemptionRequested) return ("Redemption requested", "#f59e0b", 168);
        return ("None", "#94a3b8", 60);
    }

    /// @dev `usd` (18 decimals) in whole dollars, rounded down, with thousands separators: "$1,234,567".
    function _usd(uint256 usd) private pure returns (string memory) {
        bytes memory digits = bytes((usd / WAD).toString());
        uint256 n = digits.length;
        bytes memory out = new bytes(1 + n + (n - 1) / 3);
        out[0] = "$";
        uint256 k = 1;
        for (uint256 i = 0; i < n; ++i) {
            if (i != 0 && (n - i) % 3 == 0) out[k++] = ",";
            out[k++] = digits[i];
        }
        return string(out);
    }

    /// @dev Basis points as a percentage without trailing zeros: 500 -> "5%", 250 -> "2.5%", 1 -> "0.01%".
    function _percent(uint256 bps) private pure returns (string memory) {
        uint256 whole = bps / 100;
        uint256 hundredths = bps % 100;
        if (hundredths == 0) return string.concat(whole.toString(), "%");
        if (hundredths % 10 == 0)
            return string.concat(whole.toString(), ".", (hundredths / 10).toString(), "%");
        return string.concat(whole.toString(), hundredths < 10 ? ".0" : ".", hundredths.toString(), "%");
    }

    /// @dev `text` as the inside of a JSON string: malformed UTF-8 repaired (see `_wellFormed`), then escaped by
    /// OpenZeppelin's `escapeJSON` (quotes, backslashes and every control character).
    function _jsonEscape(string calldata text) private pure returns (string memory) {
        return _wellFormed(text, false).escapeJSON();
    }

    /// @dev `text` as XML 1.0 character data, safe inside an element and inside a double- or single-quoted
    /// attribute: `&`, `<`, `>`, `"` and `'` become entity references, and every character XML 1.0 forbids (C0
    /// controls other than tab, line feed and carriage return; U+FFFE and U+FFFF) becomes U+FFFD. A forbidden
    /// character cannot be written as a character reference either (`&#1;` is not well-formed XML).
    function _xmlEscape(string calldata text) private pure returns (string memory) {
        return _wellFormed(text, true);
    }

    /// @dev `text` as well-formed UTF-8. The input is arbitrary bytes, so it is decoded as strict UTF-8 (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF) and every byte that does not start a well-formed
    /// sequence becomes U+FFFD; decoding resumes at the next byte. With `xml`, characters are also escaped as
    /// `_xmlEscape` says.
    function _wellFormed(string calldata text, bool xml) private pure returns (string memory) {
        bytes calldata input = bytes(text);
        uint256 n = input.length;
        bytes memory out = new bytes(n * MAX_ESCAPE_BYTES);
        uint256 k = 0;
        uint256 i = 0;
        while (i < n) {
            uint8 lead = uint8(input[i]);
            uint256 length = lead < 0x80 ? 1 : _sequenceLength(input, i, xml);
            if (length == 1 && xml) {
                k = _writeXmlAscii(out, k, lead);
            } else if (length == 0) {
                k = _write(out, k, abi.encodePacked(REPLACEMENT_CHARACTER));
                length = 1;
            } else {
                for (uint256 j = 0; j < length; ++j) out[k++] = input[i + j];
            }
            i += length;
        }
        assembly ("memory-safe") {
            mstore(out, k) // shrink to the bytes written; the allocation only ever gets shorter
        }
        return string(out);
    }

    /// @dev Writes the ASCII byte `c` at `out[k]` as XML character data; returns the next write position.
    function _writeXmlAscii(bytes memory out, uint256 k, uint8 c) private pure returns (uint256) {
        if (c == 0x26) return _write(out, k, "&amp;");
        if (c == 0x3c) return _write(out, k, "&lt;");
        if (c == 0x3e) return _write(out, k, "&gt;");
        if (c == 0x22) return _write(out, k, "&quot;");
        if (c == 0x27) return _write(out, k, "&apos;");
        if (c < 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) {
            return _write(out, k, abi.encodePacked(REPLACEMENT_CHARACTER));
        }
        out[k] = bytes1(c);
        return k + 1;
    }

    /// @dev The length (2 to 4) of the well-formed UTF-8 sequence starting at `input[i]`, whose first byte is at
    /// least 0x80; 0 when there is none, or when `xml` and it encodes U+FFFE or U+FFFF.
    function _sequenceLength(bytes calldata input, uint256 i, bool xml) private pure returns (uint256) {
        uint8 lead = uint8(input[i]);
        uint256 length;
        uint256 codePoint;
        uint256 smallest;
        if (lead >= 0xc2 && lead <= 0xdf) (length, codePoint, smallest) = (2, lead & 0x1f, 0x80);
        else if (lead >= 0xe0 && lead <= 0xef) (length, codePoint, smallest) = (3, lead & 0x0f, 0x800);
        else if (lead >= 0xf0 && lead <= 0xf4) (length, codePoint, smallest) = (4, lead & 0x07, 0x10000);
        else return 0; // a continuation byte, an always-overlong 0xc0/0xc1, or 0xf5 to 0xff
        if (i + length > input.length) return 0;
        for (uint256 j = 1; j < length; ++j) {
            uint8 next = uint8(input[i + j]);
            if (next & 0xc0 != 0x80) return 0;
            codePoint = (codePoint << 6) | (next & 0x3f);
        }
        if (codePoint < smallest || codePoint > 0x10ffff) return 0; // overlong or beyond Unicode
        if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 0; // a UTF-16 surrogate
        if (xml && (codePoint == 0xfffe || codePoint == 0xffff)) return 0; // not an XML character
        return length;
    }

    /// @dev Copies `chunk` to `out` at `k`; returns the next write position.
    function _write(bytes memory out, uint256 k, bytes memory chunk) private pure returns (uint256) {
        for (uint256 j = 0; j < chunk.length; ++j) out[k + j] = chunk[j];
        return k + chunk.length;
    }
}

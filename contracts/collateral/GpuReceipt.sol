// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";

import {IGpuReceipt, IGpuReceiptRenderer} from "../interfaces/IGpuReceipt.sol";
import {ProtocolUpgradeable} from "../access/ProtocolUpgradeable.sol";
import {
    APPRAISER_ROLE,
    ATTESTOR_ROLE,
    INSURER_ROLE,
    RECEIPT_HOLDER_ROLE,
    TOKENIZER_ROLE
} from "../libraries/Roles.sol";
import {BPS} from "../libraries/Constants.sol";
import {Depreciation} from "../libraries/Depreciation.sol";

/// @title GpuReceipt
/// @notice ERC-721 documents of title for GPU hardware held by custodians under bailment: attested at mint,
/// appraised, depreciated, insured and redeemed. Lenders value them with `collateralValue`.
/// @dev Trust assumptions: attestors (k of n) vouch that the hardware exists, is held by the custodian and has
/// the signed serials; the appraiser and insurer are trusted for the values they record; the custodian is trusted
/// to release the hardware only to the receipt's owner. Pausing stops minting only; transfers, appraisals,
/// insurance and redemptions keep working so the loan vault can always return or auction a receipt.
contract GpuReceipt is IGpuReceipt, ProtocolUpgradeable, ERC721Upgradeable, EIP712Upgradeable {
    using ShortStrings for ShortString;

    /// @dev One receipt, packed so that `collateralValue` reads a single slot unless a policy is active.
    struct StoredReceipt {
        // slot 0: everything `collateralValue` and the transfer hook read
        uint128 appraisedValueUsd;
        uint40 appraisedAt;
        uint16 markdownBpsPerQuarter;
        uint16 residualFloorBps;
        uint40 insuranceExpiry;
        Status status;
        // slot 1: read by redemption
        address custodian;
        uint32 gpuCount;
        // slot 2: read only while a policy is active
        uint128 insuredValueUsd;
        // slots 3-8: written once or rarely, read by views
        address appraiser;
        address insurer;
        ShortString model;
        ShortString site;
        bytes32 credentialsHash;
        bytes32 policyHash;
    }

    /// @custom:storage-location erc7201:gpucredit.storage.GpuReceipt
    struct GpuReceiptStorage {
        // slot 0: read and written together by every mint
        uint64 lastTokenId;
        uint16 attestationThreshold;
        // slot 1: read by `tokenURI` only
        IGpuReceiptRenderer renderer;
        // slot 2
        mapping(uint256 tokenId => StoredReceipt) receipts;
        // slot 3: a serial's entry counts only while its receipt is live (see `receiptOfSerial`)
        mapping(bytes32 serialHash => uint256 tokenId) serialToReceipt;
        // slot 4
        mapping(bytes32 digest => bool) attestationUsed;
    }

    // keccak256(abi.encode(uint256(keccak256("gpucredit.storage.GpuReceipt")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant GPU_RECEIPT_STORAGE_LOCATION =
        0xc9e5555bf2fad926e31ea129838c068a52a414484550511a0f3932f2aa1e4600;

    /// @dev EIP-712 type of the attestors' signature. `bytes32[]` encodes as `keccak256(abi.encodePacked(array))`.
    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(string model,uint32 gpuCount,string site,address custodian,bytes32 credentialsHash,"
        "bytes32[] serialHashes,bytes32 nonce,uint256 deadline)"
    );

    /// @dev ERC-4906 interface id (the interface has events only, so `type(IERC4906).interfaceId` is zero).
    bytes4 private constant ERC4906_INTERFACE_ID = bytes4(0x49064906);

    /// @dev Longest `model` or `site` in bytes: a `ShortString` keeps its length in the 32nd byte.
    uint256 private constant MAX_SHORT_STRING_LENGTH = 31;

    function _getGpuReceiptStorage() private pure returns (GpuReceiptStorage storage $) {
        assembly {
            $.slot := GPU_RECEIPT_STORAGE_LOCATION
        }
    }

    /// @notice Initializes the proxy.
    /// @param admin Governance (DEFAULT_ADMIN_ROLE).
    /// @param attestationThreshold_ Number of distinct attestor signatures a mint needs (at least 1).
    /// @param renderer_ The `tokenURI` renderer.
    function initialize(
        address admin,
        uint256 attestationThreshold_,
        IGpuReceiptRenderer renderer_
    ) external initializer {
        if (admin == address(0)) revert GpuReceiptZeroAddress();
        __ProtocolUpgradeable_init(admin);
        __ERC721_init("GPU Receipt", "GPUR");
        __EIP712_init("GpuReceipt", "1");
        _setAttestationThreshold(attestationThreshold_);
        _setRenderer(renderer_);
    }

    // ================================================================ tokenizer

    /// @inheritdoc IGpuReceipt
    function mint(
        address to,
        Asset calldata asset,
        bytes32[] calldata serialHashes,
        Attestation calldata attestation
    ) external whenNotPaused onlyRole(TOKENIZER_ROLE) nonReentrant returns (uint256 tokenId) {
        if (!hasRole(RECEIPT_HOLDER_ROLE, to)) revert GpuReceiptNotReceiptHolder(to);
        ShortString model = _toShortString(asset.model);
        ShortString site = _toShortString(asset.site);
        if (asset.custodian == address(0)) revert GpuReceiptZeroAddress();
        if (serialHashes.length == 0) revert GpuReceiptNoSerials();
        if (asset.gpuCount != serialHashes.length)
            revert GpuReceiptGpuCountMismatch(asset.gpuCount, serialHashes.length);
        if (block.timestamp > attestation.deadline)
            revert GpuReceiptAttestationExpired(attestation.deadline, block.timestamp);

        GpuReceiptStorage storage $ = _getGpuReceiptStorage();
        bytes32 digest = _attestationDigest(asset, serialHashes, attestation.nonce, attestation.deadline);
        if ($.attestationUsed[digest]) revert GpuReceiptAttestationReused(digest);
        _verifyAttestors(digest, attestation.signatures, $.attestationThreshold);

        $.attestationUsed[digest] = true;
        tokenId = ++$.lastTokenId;
        StoredReceipt storage receipt = $.receipts[tokenId];
        // Live before the serials are registered, so a serial repeated within this mint is caught as held.
        receipt.status = Status.Active;
        receipt.custodian = asset.custodian;
        receipt.gpuCount = asset.gpuCount;
        receipt.model = model;
        receipt.site = site;
        receipt.credentialsHash = asset.credentialsHash;
        _registerSerials($, tokenId, serialHashes);
        _mint(to, tokenId);
        emit ReceiptMinted(tokenId, to, asset.custodian, digest, serialHashes);

        // Interaction last: the ERC-721 receiver check of a safe mint, after every effect and event.
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), to, tokenId, "");
    }

    // ================================================================ appraiser and insurer

    /// @inheritdoc IGpuReceipt
    function appraise(
        uint256 tokenId,
        uint256 valueUsd,
        uint256 markdownBpsPerQuarter,
        uint256 residualFloorBps
    ) external onlyRole(APPRAISER_ROLE) {
        StoredReceipt storage receipt = _liveReceipt(tokenId);
        if (markdownBpsPerQuarter > BPS) revert GpuReceiptBpsOutOfRange(markdownBpsPerQuarter);
        if (residualFloorBps > BPS) revert GpuReceiptBpsOutOfRange(residualFloorBps);

        // Both bps fit in uint16 after the checks above.
        receipt.appraisedValueUsd = SafeCast.toUint128(valueUsd);
        receipt.appraisedAt = SafeCast.toUint40(block.timestamp);
        receipt.markdownBpsPerQuarter = uint16(markdownBpsPerQuarter);
        receipt.residualFloorBps = uint16(residualFloorBps);
        receipt.appraiser = msg.sender;
        emit Appraised(tokenId, msg.sender, valueUsd, markdownBpsPerQuarter, residualFloorBps);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IGpuReceipt
    function bindInsurance(
        uint256 tokenId,
        bytes32 policyHash,
        uint256 insuredValueUsd,
        uint256 expiry
    ) external onlyRole(INSURER_ROLE) {
        StoredReceipt storage receipt = _liveReceipt(tokenId);
        if (policyHash == bytes32(0)) revert GpuReceiptZeroPolicyHash();
        if (expiry <= block.timestamp) revert GpuReceiptInsuranceExpiryInPast(expiry, block.timestamp);

        receipt.insuredValueUsd = SafeCast.toUint128(insuredValueUsd);
        receipt.insuranceExpiry = SafeCast.toUint40(expiry);
        receipt.policyHash = policyHash;
        receipt.insurer = msg.sender;
        emit InsuranceBound(tokenId, msg.sender, policyHash, insuredValueUsd, expiry);
        emit MetadataUpdate(tokenId);
    }

    // ================================================================ redemption

    /// @inheritdoc IGpuReceipt
    function requestRedemption(uint256 tokenId) external {
        _ownerMoves(tokenId, Status.Active, Status.RedemptionRequested);
        emit RedemptionRequested(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IGpuReceipt
    function cancelRedemption(uint256 tokenId) external {
        _ownerMoves(tokenId, Status.RedemptionRequested, Status.Active);
        emit RedemptionCancelled(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc IGpuReceipt
    function confirmRedemption(uint256 tokenId) external {
        StoredReceipt storage receipt = _liveReceipt(tokenId);
        address custodian = receipt.custodian;
        if (msg.sender != custodian) revert GpuReceiptNotCustodian(tokenId, msg.sender, custodian);
        _requireStatus(tokenId, receipt.status, Status.RedemptionRequested);

        // Deleting the record sets the status to `None`, which frees every serial registered to this token.
        delete _getGpuReceiptStorage().receipts[tokenId];
        address owner = _update(address(0), tokenId, address(0));
        emit Redeemed(tokenId, owner, custodian);
    }

    // ================================================================ governance

    /// @inheritdoc IGpuReceipt
    function setAttestationThreshold(uint256 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setAttestationThreshold(threshold);
    }

    /// @inheritdoc IGpuReceipt
    function setRenderer(IGpuReceiptRenderer renderer_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRenderer(renderer_);
    }

    // ================================================================ views

    /// @inheritdoc IGpuReceipt
    function collateralValue(uint256 tokenId) external view returns (uint256) {
        return _collateralValue(_liveReceipt(tokenId));
    }

    /// @inheritdoc IGpuReceipt
    function assetOf(uint256 tokenId) external view returns (ReceiptRecord memory) {
        return _record(_liveReceipt(tokenId));
    }

    /// @inheritdoc IGpuReceipt
    function siteOf(uint256 tokenId) external view returns (bytes32) {
        return ShortString.unwrap(_liveReceipt(tokenId).site);
    }

    /// @inheritdoc IGpuReceipt
    function statusOf(uint256 tokenId) external view returns (Status) {
        return _getGpuReceiptStorage().receipts[tokenId].status;
    }

    /// @inheritdoc IGpuReceipt
    function custodianOf(uint256 tokenId) external view returns (address) {
        return _liveReceipt(tokenId).custodian;
    }

    /// @inheritdoc IGpuReceipt
    function receiptOfSerial(bytes32 serialHash) external view returns (uint256) {
        GpuReceiptStorage storage $ = _getGpuReceiptStorage();
        return _liveHolder($, $.serialToReceipt[serialHash]);
    }

    /// @inheritdoc IGpuReceipt
    function attestationUsed(bytes32 digest) external view returns (bool) {
        return _getGpuReceiptStorage().attestationUsed[digest];
    }

    /// @inheritdoc IGpuReceipt
    function attestationDigest(
        Asset calldata asset,
        bytes32[] calldata serialHashes,
        bytes32 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _attestationDigest(asset, serialHashes, nonce, deadline);
    }

    /// @inheritdoc IGpuReceipt
    function attestationThreshold() external view returns (uint256) {
        return _getGpuReceiptStorage().attestationThreshold;
    }

    /// @inheritdoc IGpuReceipt
    function renderer() external view returns (IGpuReceiptRenderer) {
        return _getGpuReceiptStorage().renderer;
    }

    /// @inheritdoc IGpuReceipt
    function nextTokenId() external view returns (uint256) {
        return uint256(_getGpuReceiptStorage().lastTokenId) + 1;
    }

    /// @notice On-chain metadata, rendered by `renderer()` from the record and the current collateral value.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        StoredReceipt storage receipt = _liveReceipt(tokenId);
        return
            _getGpuReceiptStorage().renderer.tokenURI(tokenId, _record(receipt), _collateralValue(receipt));
    }

    /// @notice ERC-165: ERC-721, ERC-721 metadata, ERC-4906, AccessControl and `IGpuReceipt`.
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(AccessControlUpgradeable, ERC721Upgradeable, IERC165) returns (bool) {
        return
            interfaceId == type(IGpuReceipt).interfaceId ||
            interfaceId == ERC4906_INTERFACE_ID ||
            super.supportsInterface(interfaceId);
    }

    // ================================================================ internal

    /// @dev Every move except a burn goes to a RECEIPT_HOLDER, and a receipt with a pending redemption does not
    /// move (so it cannot be pledged while the custodian releases the hardware). The sender needs no role: an
    /// account whose role was revoked can still hand its receipts to a holder. Deliberately not paused.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        if (to != address(0)) {
            if (!hasRole(RECEIPT_HOLDER_ROLE, to)) revert GpuReceiptNotReceiptHolder(to);
            if (_getGpuReceiptStorage().receipts[tokenId].status == Status.RedemptionRequested)
                revert GpuReceiptRedemptionPending(tokenId);
        }
        return super._update(to, tokenId, auth);
    }

    function _attestationDigest(
        Asset calldata asset,
        bytes32[] calldata serialHashes,
        bytes32 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                keccak256(bytes(asset.model)),
                asset.gpuCount,
                keccak256(bytes(asset.site)),
                asset.custodian,
                asset.credentialsHash,
                keccak256(abi.encodePacked(serialHashes)),
                nonce,
                deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @dev At least `threshold` signatures, every one valid (low-s, 65 bytes), by an attestor, with signers
    /// strictly ascending: sorting makes distinctness a single comparison per signature.
    function _verifyAttestors(bytes32 digest, bytes[] calldata signatures, uint256 threshold) private view {
        uint256 count = signatures.length;
        if (count < threshold) revert GpuReceiptInsufficientAttestations(count, threshold);
        address previous; // zero: the first signer only has to be above it
        for (uint256 i; i < count; ++i) {
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert GpuReceiptInvalidSignature(i, err);
            if (signer <= previous) revert GpuReceiptSignersNotAscending(previous, signer);
            if (!hasRole(ATTESTOR_ROLE, signer)) revert GpuReceiptNotAttestor(signer);
            previous = signer;
        }
    }

    /// @dev Points each serial at `tokenId`. An entry left by a burned receipt is simply overwritten.
    function _registerSerials(
        GpuReceiptStorage storage $,
        uint256 tokenId,
        bytes32[] calldata serialHashes
    ) private {
        for (uint256 i; i < serialHashes.length; ++i) {
            bytes32 serialHash = serialHashes[i];
            if (serialHash == bytes32(0)) revert GpuReceiptZeroSerial(i);
            uint256 holder = _liveHolder($, $.serialToReceipt[serialHash]);
            if (holder != 0) revert GpuReceiptSerialAlreadyTokenized(serialHash, holder);
            $.serialToReceipt[serialHash] = tokenId;
        }
    }

    /// @dev `tokenId` if it is a live receipt, else 0.
    function _liveHolder(GpuReceiptStorage storage $, uint256 tokenId) private view returns (uint256) {
        if (tokenId == 0 || $.receipts[tokenId].status == Status.None) return 0;
        return tokenId;
    }

    function _setAttestationThreshold(uint256 threshold) private {
        if (threshold == 0 || threshold > type(uint16).max) revert GpuReceiptInvalidThreshold(threshold);
        _getGpuReceiptStorage().attestationThreshold = uint16(threshold);
        emit AttestationThresholdSet(threshold);
    }

    function _setRenderer(IGpuReceiptRenderer renderer_) private {
        if (address(renderer_) == address(0)) revert GpuReceiptZeroAddress();
        GpuReceiptStorage storage $ = _getGpuReceiptStorage();
        $.renderer = renderer_;
        emit RendererSet(address(renderer_));
        uint256 lastTokenId = $.lastTokenId;
        if (lastTokenId != 0) emit BatchMetadataUpdate(1, lastTokenId);
    }

    /// @dev The record of a live receipt; reverts with OpenZeppelin's `ERC721NonexistentToken` otherwise. The
    /// status shares the valuation slot, so this check is free for `collateralValue`.
    function _liveReceipt(uint256 tokenId) private view returns (StoredReceipt storage receipt) {
        receipt = _getGpuReceiptStorage().receipts[tokenId];
        if (receipt.status == Status.None) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev The owner's redemption request or its cancellation: the receipt, which the caller must own, goes from
    /// `from` to `to` (the caller emits the event that names the move).
    function _ownerMoves(uint256 tokenId, Status from, Status to) private {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner) revert GpuReceiptNotOwner(tokenId, msg.sender, owner);
        StoredReceipt storage receipt = _getGpuReceiptStorage().receipts[tokenId];
        _requireStatus(tokenId, receipt.status, from);
        receipt.status = to;
    }

    function _requireStatus(uint256 tokenId, Status status, Status expected) private pure {
        if (status != expected) revert GpuReceiptUnexpectedStatus(tokenId, status, expected);
    }

    function _collateralValue(StoredReceipt storage receipt) private view returns (uint256 value) {
        value = Depreciation.depreciatedValueDown(
            receipt.appraisedValueUsd,
            block.timestamp - receipt.appraisedAt,
            receipt.markdownBpsPerQuarter,
            receipt.residualFloorBps
        );
        if (block.timestamp < receipt.insuranceExpiry) {
            uint256 insured = receipt.insuredValueUsd;
            if (insured > value) value = insured;
        }
    }

    function _record(StoredReceipt storage receipt) private view returns (ReceiptRecord memory record) {
        record.asset = Asset({
            model: receipt.model.toString(),
            gpuCount: receipt.gpuCount,
            site: receipt.site.toString(),
            custodian: receipt.custodian,
            credentialsHash: receipt.credentialsHash
        });
        record.status = receipt.status;
        record.appraisal = Appraisal({
            valueUsd: receipt.appraisedValueUsd,
            appraisedAt: receipt.appraisedAt,
            markdownBpsPerQuarter: receipt.markdownBpsPerQuarter,
            residualFloorBps: receipt.residualFloorBps,
            appraiser: receipt.appraiser
        });
        record.insurance = Insurance({
            policyHash: receipt.policyHash,
            insuredValueUsd: receipt.insuredValueUsd,
            expiry: receipt.insuranceExpiry,
            insurer: receipt.insurer
        });
    }

    /// @dev OpenZeppelin `ShortString` encoding (bytes left-aligned, length in the last byte) of a 1 to 31 byte
    /// calldata string, without copying it to memory.
    function _toShortString(string calldata value) private pure returns (ShortString) {
        bytes calldata raw = bytes(value);
        uint256 length = raw.length;
        if (length == 0 || length > MAX_SHORT_STRING_LENGTH) revert GpuReceiptInvalidStringLength(length);
        return ShortString.wrap(bytes32(raw) | bytes32(length));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title IGpuReceipt
/// @notice CALIBER-style receipts (Collateralized Asset Ledger: Insurance, Bailment, Evaluation, Redemption):
/// each ERC-721 token is the document of title for one GPU server or batch that a custodian holds under bailment.
/// Lenders lend against it, so a receipt can only be minted with k-of-n attestor signatures over the asset, and
/// each GPU serial backs at most one live receipt.
/// @dev Units: USD amounts have 18 decimals (USDai units); markdowns and floors are basis points (`10_000` =
/// 100%); times are unix seconds. Token ids start at 1; 0 means "none".
///
/// Serial registry: `receiptOfSerial(serial)` is the last receipt minted with that serial while that receipt is
/// live. Burning a receipt frees its serials without touching one storage slot per serial, which keeps
/// redemption O(1) and keeps per-token serial lists out of storage (the list is in the `ReceiptMinted` event).
///
/// Strings: `model` and `site` are 1 to 31 bytes and are stored in one slot each as OpenZeppelin `ShortString`s
/// (the bytes left-aligned, the length in the last byte). That encoding is injective, so `siteOf` returns a
/// `bytes32` that is a sound key for per-site concentration caps.
///
/// Metadata: `tokenURI` is built on chain by a stateless renderer contract (kept out of the receipt so the
/// receipt stays under the 24 KiB code limit, and replaceable by governance without an upgrade). ERC-4906
/// `MetadataUpdate` is emitted whenever an appraisal, a policy or the status changes it.
interface IGpuReceipt is IERC4906 {
    // ---------------------------------------------------------------- types

    /// @notice Lifecycle of a live receipt. A redeemed receipt is burned and reads as `None`.
    enum Status {
        None,
        Active,
        RedemptionRequested
    }

    /// @notice The physical asset, as the attestors sign it.
    /// @param model GPU model, e.g. "H100-SXM5-80GB" (1 to 31 bytes).
    /// @param gpuCount Number of GPUs; equals the number of serial hashes minted with it.
    /// @param site Site identifier of the data centre (1 to 31 bytes).
    /// @param custodian Holder of the hardware under bailment; the only account that can confirm a redemption.
    /// @param credentialsHash Commitment to the escrowed access credentials (BMC/IPMI, disk keys).
    struct Asset {
        string model;
        uint32 gpuCount;
        string site;
        address custodian;
        bytes32 credentialsHash;
    }

    /// @notice k-of-n attestor signatures over one `Attestation` EIP-712 struct.
    /// @param nonce Salt chosen by the tokenizer so that re-tokenizing the same asset after a redemption has a
    /// fresh digest.
    /// @param deadline Last timestamp at which the signatures may be used.
    /// @param signatures 65-byte ECDSA signatures, sorted by recovered signer address strictly ascending.
    struct Attestation {
        bytes32 nonce;
        uint256 deadline;
        bytes[] signatures;
    }

    /// @notice The current appraisal and its depreciation schedule.
    /// @param valueUsd Appraised value (USD, 18 decimals).
    /// @param appraisedAt Timestamp of the appraisal; depreciation counts whole quarters from it.
    /// @param markdownBpsPerQuarter Linear markdown of `valueUsd` per whole quarter elapsed.
    /// @param residualFloorBps The value never depreciates below this share of `valueUsd`.
    /// @param appraiser The APPRAISER who set it.
    struct Appraisal {
        uint128 valueUsd;
        uint40 appraisedAt;
        uint16 markdownBpsPerQuarter;
        uint16 residualFloorBps;
        address appraiser;
    }

    /// @notice The bound insurance policy.
    /// @param policyHash Commitment to the policy document.
    /// @param insuredValueUsd Insured value (USD, 18 decimals).
    /// @param expiry The policy covers timestamps strictly before this one.
    /// @param insurer The INSURER who bound it.
    struct Insurance {
        bytes32 policyHash;
        uint128 insuredValueUsd;
        uint40 expiry;
        address insurer;
    }

    /// @notice Everything recorded for a receipt.
    struct ReceiptRecord {
        Asset asset;
        Status status;
        Appraisal appraisal;
        Insurance insurance;
    }

    // ---------------------------------------------------------------- events

    /// @notice Receipt `tokenId` was minted to `to` for the asset held by `custodian`, attested by the signatures
    /// over `attestationDigest`, and now holds `serialHashes` in the registry.
    event ReceiptMinted(
        uint256 indexed tokenId,
        address indexed to,
        address indexed custodian,
        bytes32 attestationDigest,
        bytes32[] serialHashes
    );

    /// @notice `appraiser` appraised `tokenId` at `valueUsd` with the given depreciation schedule.
    event Appraised(
        uint256 indexed tokenId,
        address indexed appraiser,
        uint256 valueUsd,
        uint256 markdownBpsPerQuarter,
        uint256 residualFloorBps
    );

    /// @notice `insurer` bound policy `policyHash` insuring `tokenId` for `insuredValueUsd` until `expiry`.
    event InsuranceBound(
        uint256 indexed tokenId,
        address indexed insurer,
        bytes32 policyHash,
        uint256 insuredValueUsd,
        uint256 expiry
    );

    /// @notice `owner` asked the custodian to redeem `tokenId`; the receipt is frozen until confirmed or cancelled.
    event RedemptionRequested(uint256 indexed tokenId, address indexed owner);

    /// @notice `owner` withdrew the redemption request for `tokenId`.
    event RedemptionCancelled(uint256 indexed tokenId, address indexed owner);

    /// @notice `custodian` released the hardware of `tokenId` to `owner`; the receipt was burned and its serials
    /// freed.
    event Redeemed(uint256 indexed tokenId, address indexed owner, address indexed custodian);

    /// @notice Minting now needs `threshold` distinct attestor signatures.
    event AttestationThresholdSet(uint256 threshold);

    /// @notice `tokenURI` is now rendered by `renderer`.
    event RendererSet(address indexed renderer);

    // ---------------------------------------------------------------- errors

    /// @notice An address argument was the zero address.
    error GpuReceiptZeroAddress();

    /// @notice `threshold` is not a valid attestation threshold (1 to 65535).
    error GpuReceiptInvalidThreshold(uint256 threshold);

    /// @notice A `model` or `site` is `length` bytes long; it must be 1 to 31.
    error GpuReceiptInvalidStringLength(uint256 length);

    /// @notice A mint carried no serial hashes.
    error GpuReceiptNoSerials();

    /// @notice The asset says `gpuCount` GPUs but `serialCount` serial hashes were given.
    error GpuReceiptGpuCountMismatch(uint256 gpuCount, uint256 serialCount);

    /// @notice The serial hash at `index` is zero.
    error GpuReceiptZeroSerial(uint256 index);

    /// @notice `serialHash` is already held by live receipt `tokenId` (possibly the one being minted, when a
    /// serial appears twice in one mint).
    error GpuReceiptSerialAlreadyTokenized(bytes32 serialHash, uint256 tokenId);

    /// @notice The attestation expired at `deadline`; it is now `timestamp`.
    error GpuReceiptAttestationExpired(uint256 deadline, uint256 timestamp);

    /// @notice The attestation `digest` was already used to mint.
    error GpuReceiptAttestationReused(bytes32 digest);

    /// @notice `count` signatures were given; at least `threshold` are needed.
    error GpuReceiptInsufficientAttestations(uint256 count, uint256 threshold);

    /// @notice The signature at `index` is malformed or malleable (`reason` as OpenZeppelin's ECDSA reports it).
    error GpuReceiptInvalidSignature(uint256 index, ECDSA.RecoverError reason);

    /// @notice The signature recovers to `signer`, which does not hold ATTESTOR_ROLE.
    error GpuReceiptNotAttestor(address signer);

    /// @notice `signer` does not come strictly after `previous`: signatures must be sorted by signer, no repeats.
    error GpuReceiptSignersNotAscending(address previous, address signer);

    /// @notice `account` does not hold RECEIPT_HOLDER_ROLE, so it cannot receive receipts.
    error GpuReceiptNotReceiptHolder(address account);

    /// @notice Receipt `tokenId` has a pending redemption and cannot move.
    error GpuReceiptRedemptionPending(uint256 tokenId);

    /// @notice `caller` is not the owner (`owner`) of receipt `tokenId`.
    error GpuReceiptNotOwner(uint256 tokenId, address caller, address owner);

    /// @notice `caller` is not the custodian (`custodian`) of receipt `tokenId`.
    error GpuReceiptNotCustodian(uint256 tokenId, address caller, address custodian);

    /// @notice Receipt `tokenId` is in `status`; the operation needs `expected`.
    error GpuReceiptUnexpectedStatus(uint256 tokenId, Status status, Status expected);

    /// @notice `bps` is above 10_000.
    error GpuReceiptBpsOutOfRange(uint256 bps);

    /// @notice The policy hash is zero.
    error GpuReceiptZeroPolicyHash();

    /// @notice The policy `expiry` is not after the current `timestamp`.
    error GpuReceiptInsuranceExpiryInPast(uint256 expiry, uint256 timestamp);

    // ---------------------------------------------------------------- tokenizer

    /// @notice Mints a receipt for `asset` to `to` (TOKENIZER), registering each of `serialHashes` to it.
    /// @dev Needs at least `attestationThreshold()` signatures by distinct ATTESTOR accounts over the EIP-712
    /// struct `Attestation(string model,uint32 gpuCount,string site,address custodian,bytes32 credentialsHash,
    /// bytes32[] serialHashes,bytes32 nonce,uint256 deadline)` in the domain ("GpuReceipt", "1", chain id, this
    /// proxy). Signatures are sorted by signer ascending; every one given must be valid. Each digest mints once.
    /// Reverts while paused, when `to` is not a RECEIPT_HOLDER, when a serial is zero, repeated or held by a
    /// live receipt, and when `serialHashes.length != asset.gpuCount`. A contract `to` must accept ERC-721 tokens.
    /// @param to Receiver; must hold RECEIPT_HOLDER_ROLE.
    /// @param asset The attested asset.
    /// @param serialHashes Hashes of the GPU serial numbers, one per GPU.
    /// @param attestation Nonce, deadline and the attestor signatures.
    /// @return tokenId The new receipt.
    function mint(
        address to,
        Asset calldata asset,
        bytes32[] calldata serialHashes,
        Attestation calldata attestation
    ) external returns (uint256 tokenId);

    // ---------------------------------------------------------------- appraiser and insurer

    /// @notice Records a new appraisal of `tokenId` at the current time (APPRAISER), replacing the previous one.
    /// @param valueUsd Appraised value (USD, 18 decimals; at most `type(uint128).max`).
    /// @param markdownBpsPerQuarter Linear markdown per whole quarter (at most 10_000).
    /// @param residualFloorBps Floor as a share of `valueUsd` (at most 10_000).
    function appraise(
        uint256 tokenId,
        uint256 valueUsd,
        uint256 markdownBpsPerQuarter,
        uint256 residualFloorBps
    ) external;

    /// @notice Binds an insurance policy to `tokenId` (INSURER), replacing the previous one.
    /// @param policyHash Commitment to the policy document (non-zero).
    /// @param insuredValueUsd Insured value (USD, 18 decimals; at most `type(uint128).max`).
    /// @param expiry End of cover; must be in the future.
    function bindInsurance(
        uint256 tokenId,
        bytes32 policyHash,
        uint256 insuredValueUsd,
        uint256 expiry
    ) external;

    // ---------------------------------------------------------------- redemption

    /// @notice Asks the custodian to release the hardware of `tokenId` (its owner). The receipt cannot be
    /// transferred until the request is confirmed or cancelled. A pledged receipt is owned by the loan vault, so
    /// its borrower cannot call this.
    function requestRedemption(uint256 tokenId) external;

    /// @notice Withdraws a pending redemption request (the owner); the receipt can move again.
    function cancelRedemption(uint256 tokenId) external;

    /// @notice Confirms the release of the hardware of `tokenId` (its custodian): burns the receipt and frees its
    /// serials for re-tokenization. Works while paused.
    function confirmRedemption(uint256 tokenId) external;

    // ---------------------------------------------------------------- governance

    /// @notice Sets the number of distinct attestor signatures a mint needs (DEFAULT_ADMIN), at least 1.
    function setAttestationThreshold(uint256 threshold) external;

    /// @notice Sets the contract that renders `tokenURI` (DEFAULT_ADMIN); emits ERC-4906 `BatchMetadataUpdate`.
    function setRenderer(IGpuReceiptRenderer renderer_) external;

    // ---------------------------------------------------------------- views

    /// @notice The depreciated value of `tokenId` (USD, 18 decimals), for loan-to-value checks.
    /// @dev `valueUsd * (10_000 - min(quarters * markdownBpsPerQuarter, 10_000 - residualFloorBps)) / 10_000`,
    /// rounded down, where `quarters` is the number of whole quarters (365 days / 4) since the appraisal; then
    /// raised to the insured value while the policy is active (`block.timestamp < expiry`). Zero before the
    /// first appraisal unless insured. Constant cost: no loop over time. Reverts for a token that does not exist.
    function collateralValue(uint256 tokenId) external view returns (uint256);

    /// @notice The full record of `tokenId`. Reverts for a token that does not exist.
    function assetOf(uint256 tokenId) external view returns (ReceiptRecord memory);

    /// @notice The site of `tokenId` as its `ShortString` encoding (a per-site key). Reverts if it does not exist.
    function siteOf(uint256 tokenId) external view returns (bytes32);

    /// @notice The status of `tokenId`; `None` when it does not exist (never minted or redeemed).
    function statusOf(uint256 tokenId) external view returns (Status);

    /// @notice The custodian of `tokenId`. Reverts for a token that does not exist.
    function custodianOf(uint256 tokenId) external view returns (address);

    /// @notice The live receipt holding `serialHash`, or 0 when none does.
    function receiptOfSerial(bytes32 serialHash) external view returns (uint256);

    /// @notice Whether the attestation `digest` has been used to mint.
    function attestationUsed(bytes32 digest) external view returns (bool);

    /// @notice The EIP-712 digest the attestors sign for this asset, serials, nonce and deadline.
    function attestationDigest(
        Asset calldata asset,
        bytes32[] calldata serialHashes,
        bytes32 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The number of distinct attestor signatures a mint needs.
    function attestationThreshold() external view returns (uint256);

    /// @notice The contract that renders `tokenURI`.
    function renderer() external view returns (IGpuReceiptRenderer);

    /// @notice The id the next mint will use.
    function nextTokenId() external view returns (uint256);
}

/// @title IGpuReceiptRenderer
/// @notice Renders the on-chain metadata of a receipt.
interface IGpuReceiptRenderer {
    /// @notice `data:application/json;base64,` JSON for receipt `tokenId`: a name, a description, an image (a
    /// `data:image/svg+xml;base64,` SVG card drawn on chain) and the model, GPU count, site, appraised value,
    /// `collateralValueUsd`, insured value and status as attributes. The card shows the same values plus the
    /// depreciation schedule, with a colour per status.
    /// @param tokenId The receipt.
    /// @param record Its full record.
    /// @param collateralValueUsd Its current collateral value (USD, 18 decimals).
    function tokenURI(
        uint256 tokenId,
        IGpuReceipt.ReceiptRecord calldata record,
        uint256 collateralValueUsd
    ) external view returns (string memory);
}

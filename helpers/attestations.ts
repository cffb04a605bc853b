import {
  type Addressable,
  type BigNumberish,
  type BytesLike,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
  resolveAddress,
} from "ethers";

/**
 * EIP-712 attestations for `GpuReceipt.mint`: the attestors sign one `Attestation` struct over the asset, its GPU
 * serial hashes, a nonce and a deadline. The contract wants the signatures sorted by signer address, strictly
 * ascending (that is how it checks they are distinct). Shared by tests, the bench and the CLI.
 */

/** `IGpuReceipt.Asset` as ethers encodes it. */
export interface ReceiptAsset {
  model: string;
  gpuCount: BigNumberish;
  site: string;
  custodian: string;
  credentialsHash: BytesLike;
}

/** `IGpuReceipt.Attestation`: the `mint` argument. */
export interface AttestationArg {
  nonce: BytesLike;
  deadline: BigNumberish;
  signatures: string[];
}

export interface SignedAttestation {
  signer: string;
  signature: string;
}

export const ATTESTATION_DOMAIN_NAME = "GpuReceipt";
export const ATTESTATION_DOMAIN_VERSION = "1";

/** Must match `ATTESTATION_TYPEHASH` in contracts/collateral/GpuReceipt.sol. */
export const ATTESTATION_TYPES: Record<string, TypedDataField[]> = {
  Attestation: [
    { name: "model", type: "string" },
    { name: "gpuCount", type: "uint32" },
    { name: "site", type: "string" },
    { name: "custodian", type: "address" },
    { name: "credentialsHash", type: "bytes32" },
    { name: "serialHashes", type: "bytes32[]" },
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The EIP-712 domain of a GpuReceipt proxy on the signer's chain. */
export async function attestationDomain(
  signer: Signer,
  receipt: string | Addressable,
): Promise<TypedDataDomain> {
  const network = await signer.provider?.getNetwork();
  if (!network) throw new Error("signAttestation: the signer has no provider");
  return {
    name: ATTESTATION_DOMAIN_NAME,
    version: ATTESTATION_DOMAIN_VERSION,
    chainId: network.chainId,
    verifyingContract: await resolveAddress(receipt),
  };
}

/**
 * One attestor's signature. `domain` overrides parts of the real domain (tests use it to sign for another chain or
 * contract).
 */
export async function signAttestation(
  signer: Signer,
  receipt: string | Addressable,
  asset: ReceiptAsset,
  serialHashes: BytesLike[],
  nonce: BytesLike,
  deadline: BigNumberish,
  domain: Partial<TypedDataDomain> = {},
): Promise<SignedAttestation> {
  const fullDomain = { ...(await attestationDomain(signer, receipt)), ...domain };
  const value = {
    model: asset.model,
    gpuCount: asset.gpuCount,
    site: asset.site,
    custodian: asset.custodian,
    credentialsHash: asset.credentialsHash,
    serialHashes,
    nonce,
    deadline,
  };
  return {
    signer: await signer.getAddress(),
    signature: await signer.signTypedData(fullDomain, ATTESTATION_TYPES, value),
  };
}

/** Signatures ordered as `mint` wants them: by signer address, ascending. */
export function sortBySigner(signed: SignedAttestation[]): string[] {
  return [...signed]
    .sort((a, b) => {
      const x = BigInt(a.signer);
      const y = BigInt(b.signer);
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .map((s) => s.signature);
}

/** Every signer's attestation, sorted, as the `mint` argument. */
export async function attest(
  signers: Signer[],
  receipt: string | Addressable,
  asset: ReceiptAsset,
  serialHashes: BytesLike[],
  nonce: BytesLike,
  deadline: BigNumberish,
): Promise<AttestationArg> {
  const signed = await Promise.all(
    signers.map((s) => signAttestation(s, receipt, asset, serialHashes, nonce, deadline)),
  );
  return { nonce, deadline, signatures: sortBySigner(signed) };
}

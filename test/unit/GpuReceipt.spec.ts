import { expect } from "chai";
import hre, { ethers, upgrades } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  type Signer,
  ContractFactory,
  type Interface,
  MaxUint256,
  ZeroAddress,
  ZeroHash,
  concat,
  dataSlice,
  getBytes,
  id,
  recoverAddress,
  toBeHex,
} from "ethers";

import {
  type AttestationArg,
  type ReceiptAsset,
  attest,
  signAttestation,
  sortBySigner,
} from "../../helpers/attestations";
import { DeployIds } from "../../helpers/deploy-ids";
import { Roles } from "../../helpers/roles";
import type { GpuReceipt } from "../../typechain-types";
import type { IGpuReceipt } from "../../typechain-types/contracts/collateral/GpuReceipt";
import { deployProtocol, type ProtocolFixture } from "../fixtures/protocol";
import { expectUnchanged, snapshot, type Reads } from "../helpers/state";
import { elements, parseXml, textOf, type XmlElement } from "../helpers/xml";
import { BPS, SECONDS_PER_QUARTER } from "../helpers/math";
import { usd } from "../../helpers/units";

const HOUR = 3600n;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** IGpuReceipt.Status */
const Status = { None: 0n, Active: 1n, RedemptionRequested: 2n } as const;
/** OpenZeppelin ECDSA.RecoverError */
const RecoverError = { InvalidSignatureLength: 2n, InvalidSignatureS: 3n } as const;
const serialsOf = (tag: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => id(`${tag}/GPU-SN-${i}`));

describe("GpuReceipt", () => {
  let f: ProtocolFixture;
  let receipts: GpuReceipt;
  let nonceCounter = 0;

  beforeEach(async () => {
    f = await deployProtocol();
    receipts = f.receipts;
  });

  function assetFor(serialCount: number, overrides: Partial<ReceiptAsset> = {}): ReceiptAsset {
    return {
      model: "H100-SXM5-80GB",
      gpuCount: serialCount,
      site: "US-TX-AUS-01",
      custodian: f.actors.custodian.address,
      credentialsHash: id("escrowed credentials"),
      ...overrides,
    };
  }

  interface MintArgs {
    to: string;
    asset: ReceiptAsset;
    serials: string[];
    attestation: AttestationArg;
  }

  /** Arguments for a valid mint, signed by attestor1 and attestor2 (the local threshold is 2). */
  async function mintArgs(
    opts: {
      tag?: string;
      serials?: string[];
      asset?: Partial<ReceiptAsset>;
      to?: string;
      signers?: Signer[];
      deadline?: bigint;
      nonce?: string;
    } = {},
  ): Promise<MintArgs> {
    const serials = opts.serials ?? serialsOf(opts.tag ?? "rack-a", 8);
    const asset = assetFor(serials.length, opts.asset);
    const nonce = opts.nonce ?? toBeHex(++nonceCounter, 32);
    const deadline = opts.deadline ?? BigInt(await time.latest()) + HOUR;
    const signers = opts.signers ?? [f.actors.attestor1, f.actors.attestor2];
    const attestation = await attest(signers, receipts, asset, serials, nonce, deadline);
    return { to: opts.to ?? f.actors.borrower1.address, asset, serials, attestation };
  }

  const sendMint = (a: MintArgs, from: Signer = f.actors.tokenizer) =>
    receipts.connect(from).mint(a.to, a.asset, a.serials, a.attestation);

  async function mintReceipt(opts: Parameters<typeof mintArgs>[0] = {}): Promise<bigint> {
    const tokenId = await receipts.nextTokenId();
    await sendMint(await mintArgs(opts));
    return tokenId;
  }

  const digestOf = (a: MintArgs) =>
    receipts.attestationDigest(a.asset, a.serials, a.attestation.nonce, a.attestation.deadline);

  /** The views a reverted mint must leave alone. */
  const mintReads = (a: MintArgs): Reads => ({
    nextTokenId: () => receipts.nextTokenId(),
    balance: () => receipts.balanceOf(a.to),
    firstSerial: () => receipts.receiptOfSerial(a.serials[0]),
    lastSerial: () => receipts.receiptOfSerial(a.serials[a.serials.length - 1]),
    digestUsed: async () => receipts.attestationUsed(await digestOf(a)),
  });

  async function expectMintReverts(a: MintArgs, error: string, args: unknown[], from?: Signer) {
    const reads = mintReads(a);
    const before = await snapshot(reads);
    await expect(sendMint(a, from))
      .to.be.revertedWithCustomError(receipts, error)
      .withArgs(...args);
    await expectUnchanged(before, reads);
  }

  /** Flips a 65-byte signature to its high-s twin (s' = n - s, v' = v ^ 1): same signer for a naive ecrecover. */
  function highS(signature: string): string {
    const bytes = getBytes(signature);
    const s = BigInt(dataSlice(bytes, 32, 64));
    const v = bytes[64] === 27 ? 28 : 27;
    return concat([dataSlice(bytes, 0, 32), toBeHex(SECP256K1_N - s, 32), new Uint8Array([v])]);
  }

  /** The ecrecover precompile (address 1), which accepts high-s signatures. */
  async function ecrecoverPrecompile(digest: string, signature: string): Promise<string> {
    const v = toBeHex(getBytes(signature)[64], 32);
    const data = concat([digest, v, dataSlice(signature, 0, 32), dataSlice(signature, 32, 64)]);
    const out = await ethers.provider.call({ to: toBeHex(1, 20), data });
    return ethers.getAddress(dataSlice(out, 12));
  }

  // ================================================================ deployment

  describe("initialize", () => {
    it("is deployed by the scripts with the configured threshold, renderer and roles", async () => {
      const renderer = await hre.deployments.get(DeployIds.GpuReceiptRenderer);
      expect(await receipts.name()).to.equal("GPU Receipt");
      expect(await receipts.symbol()).to.equal("GPUR");
      expect(await receipts.attestationThreshold()).to.equal(2n);
      expect(await receipts.renderer()).to.equal(renderer.address);
      expect(await receipts.nextTokenId()).to.equal(1n);
      expect(await receipts.hasRole(Roles.DEFAULT_ADMIN, f.actors.deployer.address)).to.equal(true);
      expect(await receipts.hasRole(Roles.TOKENIZER, f.actors.tokenizer.address)).to.equal(true);
      expect(await receipts.hasRole(Roles.ATTESTOR, f.actors.attestor3.address)).to.equal(true);
      expect(await receipts.hasRole(Roles.RECEIPT_HOLDER, f.actors.borrower1.address)).to.equal(true);
      const domain = await receipts.eip712Domain();
      expect(domain.name).to.equal("GpuReceipt");
      expect(domain.version).to.equal("1");
      expect(domain.verifyingContract).to.equal(await receipts.getAddress());
    });

    it("cannot be initialized twice, nor on the implementation", async () => {
      const renderer = await receipts.renderer();
      await expect(receipts.initialize(f.actors.deployer.address, 2, renderer)).to.be.revertedWithCustomError(
        receipts,
        "InvalidInitialization",
      );
      const impl = await hre.deployments.get(`${DeployIds.GpuReceipt}_Implementation`);
      const implementation = await ethers.getContractAt("GpuReceipt", impl.address);
      await expect(
        implementation.initialize(f.actors.deployer.address, 2, renderer),
      ).to.be.revertedWithCustomError(receipts, "InvalidInitialization");
    });

    describe("validates its arguments", () => {
      async function deployProxy(admin: string, threshold: bigint, renderer: string) {
        const impl = await hre.deployments.get(`${DeployIds.GpuReceipt}_Implementation`);
        const { abi, bytecode } = await hre.deployments.get(`${DeployIds.GpuReceipt}_Proxy`);
        if (!bytecode) throw new Error("the proxy deployment has no bytecode");
        const factory = new ContractFactory(abi, bytecode, f.actors.deployer);
        const data = receipts.interface.encodeFunctionData("initialize", [admin, threshold, renderer]);
        return factory.deploy(impl.address, data);
      }

      it("refuses a zero admin or renderer", async () => {
        const renderer = await receipts.renderer();
        await expect(deployProxy(ZeroAddress, 2n, renderer)).to.be.revertedWithCustomError(
          receipts,
          "GpuReceiptZeroAddress",
        );
        await expect(deployProxy(f.actors.deployer.address, 2n, ZeroAddress)).to.be.revertedWithCustomError(
          receipts,
          "GpuReceiptZeroAddress",
        );
      });

      it("refuses a zero threshold", async () => {
        await expect(deployProxy(f.actors.deployer.address, 0n, await receipts.renderer()))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptInvalidThreshold")
          .withArgs(0n);
      });
    });
  });

  // ================================================================ tokenizer

  describe("mint", () => {
    it("mints an Active receipt to the holder, records the asset and registers every serial", async () => {
      const a = await mintArgs();
      const digest = await digestOf(a);
      await expect(sendMint(a))
        .to.emit(receipts, "ReceiptMinted")
        .withArgs(1n, a.to, f.actors.custodian.address, digest, a.serials)
        .and.to.emit(receipts, "Transfer")
        .withArgs(ZeroAddress, a.to, 1n);

      expect(await receipts.ownerOf(1n)).to.equal(a.to);
      expect(await receipts.balanceOf(a.to)).to.equal(1n);
      expect(await receipts.nextTokenId()).to.equal(2n);
      expect(await receipts.statusOf(1n)).to.equal(Status.Active);
      expect(await receipts.custodianOf(1n)).to.equal(f.actors.custodian.address);
      expect(await receipts.attestationUsed(digest)).to.equal(true);
      for (const serial of a.serials) expect(await receipts.receiptOfSerial(serial)).to.equal(1n);

      const record = await receipts.assetOf(1n);
      expect(record.asset.model).to.equal("H100-SXM5-80GB");
      expect(record.asset.gpuCount).to.equal(8n);
      expect(record.asset.site).to.equal("US-TX-AUS-01");
      expect(record.asset.custodian).to.equal(f.actors.custodian.address);
      expect(record.asset.credentialsHash).to.equal(id("escrowed credentials"));
      expect(record.status).to.equal(Status.Active);
      expect(record.appraisal.valueUsd).to.equal(0n);
      expect(record.insurance.expiry).to.equal(0n);
    });

    it("numbers receipts from 1 upwards", async () => {
      expect(await mintReceipt({ tag: "a" })).to.equal(1n);
      expect(await mintReceipt({ tag: "b" })).to.equal(2n);
      expect(await receipts.ownerOf(2n)).to.equal(f.actors.borrower1.address);
    });

    it("accepts more signatures than the threshold when all are valid", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor1, f.actors.attestor2, f.actors.attestor3] });
      await expect(sendMint(a)).to.emit(receipts, "ReceiptMinted");
    });

    it("accepts 31-byte model and site strings, the storage maximum", async () => {
      const long = "X".repeat(31);
      const tokenId = await mintReceipt({ asset: { model: long, site: long } });
      const record = await receipts.assetOf(tokenId);
      expect(record.asset.model).to.equal(long);
      expect(record.asset.site).to.equal(long);
    });

    it("mints to a receipt-holder contract that accepts ERC-721 tokens", async () => {
      const holder = await ethers.deployContract("ReceiptHolderMock");
      await receipts.connect(f.actors.deployer).grantRole(Roles.RECEIPT_HOLDER, holder);
      const a = await mintArgs({ to: await holder.getAddress() });
      await sendMint(a);
      expect(await receipts.ownerOf(1n)).to.equal(await holder.getAddress());
    });

    it("refuses a receipt-holder contract that does not accept ERC-721 tokens", async () => {
      const target = await f.reserve.getAddress();
      await receipts.connect(f.actors.deployer).grantRole(Roles.RECEIPT_HOLDER, target);
      await expectMintReverts(await mintArgs({ to: target }), "ERC721InvalidReceiver", [target]);
    });

    it("cannot be re-entered from the receiver's ERC-721 callback", async () => {
      const receiver = await ethers.deployContract("ReentrantReceiptReceiver", [await receipts.getAddress()]);
      const receiverAddress = await receiver.getAddress();
      await receipts.connect(f.actors.deployer).grantRole(Roles.RECEIPT_HOLDER, receiverAddress);
      await receipts.connect(f.actors.deployer).grantRole(Roles.TOKENIZER, receiverAddress);
      const outer = await mintArgs({ tag: "outer", to: receiverAddress });
      const inner = await mintArgs({ tag: "inner", to: receiverAddress });
      const encode = (a: MintArgs) =>
        receipts.interface.encodeFunctionData("mint", [a.to, a.asset, a.serials, a.attestation]);

      const reads = mintReads(outer);
      const before = await snapshot(reads);
      await expect(receiver.callWithReentry(encode(outer), encode(inner))).to.be.revertedWithCustomError(
        receipts,
        "ReentrancyGuardReentrantCall",
      );
      await expectUnchanged(before, reads);
      expect(await receipts.receiptOfSerial(inner.serials[0])).to.equal(0n);
    });

    it("refuses a caller without TOKENIZER_ROLE", async () => {
      const a = await mintArgs();
      await expectMintReverts(
        a,
        "AccessControlUnauthorizedAccount",
        [f.actors.attacker.address, Roles.TOKENIZER],
        f.actors.attacker,
      );
    });

    it("is stopped by the pause", async () => {
      await receipts.connect(f.actors.guardian).pause();
      await expectMintReverts(await mintArgs(), "EnforcedPause", []);
    });

    it("refuses a receiver without RECEIPT_HOLDER_ROLE", async () => {
      const a = await mintArgs({ to: f.actors.attacker.address });
      await expectMintReverts(a, "GpuReceiptNotReceiptHolder", [f.actors.attacker.address]);
    });

    it("refuses an empty or longer than 31 byte model or site", async () => {
      await expectMintReverts(await mintArgs({ asset: { model: "" } }), "GpuReceiptInvalidStringLength", [
        0n,
      ]);
      await expectMintReverts(
        await mintArgs({ asset: { model: "M".repeat(32) } }),
        "GpuReceiptInvalidStringLength",
        [32n],
      );
      await expectMintReverts(await mintArgs({ asset: { site: "" } }), "GpuReceiptInvalidStringLength", [0n]);
      await expectMintReverts(
        await mintArgs({ asset: { site: "S".repeat(40) } }),
        "GpuReceiptInvalidStringLength",
        [40n],
      );
    });

    it("refuses a zero custodian", async () => {
      await expectMintReverts(
        await mintArgs({ asset: { custodian: ZeroAddress } }),
        "GpuReceiptZeroAddress",
        [],
      );
    });

    it("refuses a mint without serials", async () => {
      const a = await mintArgs({ serials: [] });
      const reads: Reads = {
        nextTokenId: () => receipts.nextTokenId(),
        balance: () => receipts.balanceOf(a.to),
      };
      const before = await snapshot(reads);
      await expect(sendMint(a)).to.be.revertedWithCustomError(receipts, "GpuReceiptNoSerials");
      await expectUnchanged(before, reads);
    });

    it("refuses a GPU count that differs from the number of serials", async () => {
      const a = await mintArgs({ asset: { gpuCount: 7 } });
      await expectMintReverts(a, "GpuReceiptGpuCountMismatch", [7n, 8n]);
    });

    it("refuses a zero serial hash", async () => {
      const serials = serialsOf("z", 3);
      serials[1] = ZeroHash;
      await expectMintReverts(await mintArgs({ serials }), "GpuReceiptZeroSerial", [1n]);
    });

    it("refuses a serial repeated within one mint, naming the receipt being minted", async () => {
      const serials = serialsOf("dup", 4);
      serials[3] = serials[1];
      await expectMintReverts(await mintArgs({ serials }), "GpuReceiptSerialAlreadyTokenized", [
        serials[1],
        1n,
      ]);
    });

    it("refuses a serial held by another live receipt (no double pledge)", async () => {
      await mintReceipt({ tag: "rack-a" });
      const serials = [...serialsOf("rack-b", 3), serialsOf("rack-a", 8)[5]];
      await expectMintReverts(await mintArgs({ serials }), "GpuReceiptSerialAlreadyTokenized", [
        serials[3],
        1n,
      ]);
    });

    it("refuses an attestation past its deadline", async () => {
      const deadline = BigInt(await time.latest()) + 100n;
      const a = await mintArgs({ deadline });
      await time.setNextBlockTimestamp(deadline + 1n);
      await expectMintReverts(a, "GpuReceiptAttestationExpired", [deadline, deadline + 1n]);
    });

    it("accepts an attestation at exactly its deadline", async () => {
      const deadline = BigInt(await time.latest()) + 100n;
      const a = await mintArgs({ deadline });
      await time.setNextBlockTimestamp(deadline);
      await expect(sendMint(a)).to.emit(receipts, "ReceiptMinted");
    });

    it("refuses fewer signatures than the threshold", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor1] });
      await expectMintReverts(a, "GpuReceiptInsufficientAttestations", [1n, 2n]);
    });

    it("refuses a signature of the wrong length", async () => {
      const a = await mintArgs();
      a.attestation.signatures[1] = dataSlice(a.attestation.signatures[1], 0, 64);
      await expectMintReverts(a, "GpuReceiptInvalidSignature", [1n, RecoverError.InvalidSignatureLength]);
    });

    it("refuses a malleable (high-s) signature", async () => {
      const a = await mintArgs();
      const original = a.attestation.signatures[0];
      a.attestation.signatures[0] = highS(original);
      // The flipped signature is the same signer's for the bare ecrecover precompile: only the low-s rule
      // rejects it.
      expect(await ecrecoverPrecompile(await digestOf(a), a.attestation.signatures[0])).to.equal(
        recoverAddress(await digestOf(a), original),
      );
      await expectMintReverts(a, "GpuReceiptInvalidSignature", [0n, RecoverError.InvalidSignatureS]);
    });

    it("refuses a signer without ATTESTOR_ROLE", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor1, f.actors.attacker] });
      await expectMintReverts(a, "GpuReceiptNotAttestor", [f.actors.attacker.address]);
    });

    it("refuses an invalid signature beyond the threshold", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor1, f.actors.attestor2, f.actors.tokenizer] });
      await expectMintReverts(a, "GpuReceiptNotAttestor", [f.actors.tokenizer.address]);
    });

    it("refuses the same attestor twice", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor1] });
      a.attestation.signatures = [a.attestation.signatures[0], a.attestation.signatures[0]];
      const signer = f.actors.attestor1.address;
      await expectMintReverts(a, "GpuReceiptSignersNotAscending", [signer, signer]);
    });

    it("refuses signatures not sorted by signer", async () => {
      const a = await mintArgs();
      a.attestation.signatures.reverse();
      const [low, high] = [f.actors.attestor1.address, f.actors.attestor2.address].sort((x, y) =>
        BigInt(x) < BigInt(y) ? -1 : 1,
      );
      await expectMintReverts(a, "GpuReceiptSignersNotAscending", [high, low]);
    });

    describe("signature replay", () => {
      beforeEach(async () => {
        // One signature per mint isolates each replay case.
        await receipts.connect(f.actors.deployer).setAttestationThreshold(1);
      });

      async function signedWith(domain: Parameters<typeof signAttestation>[6]): Promise<MintArgs> {
        const a = await mintArgs({ signers: [] });
        const { signature } = await signAttestation(
          f.actors.attestor1,
          receipts,
          a.asset,
          a.serials,
          a.attestation.nonce,
          a.attestation.deadline,
          domain,
        );
        a.attestation.signatures = [signature];
        return a;
      }

      it("refuses a digest already used on this chain and contract", async () => {
        const a = await mintArgs({ signers: [f.actors.attestor1] });
        await sendMint(a);
        // The same digest cannot mint again, whatever else happened since (here: the receipt is redeemed).
        await receipts.connect(f.actors.borrower1).requestRedemption(1n);
        await receipts.connect(f.actors.custodian).confirmRedemption(1n);
        await expectMintReverts(a, "GpuReceiptAttestationReused", [await digestOf(a)]);
      });

      it("refuses a signature made for another chain id", async () => {
        const a = await signedWith({ chainId: 1n });
        const recovered = recoverAddress(await digestOf(a), a.attestation.signatures[0]);
        expect(recovered).to.not.equal(f.actors.attestor1.address);
        await expectMintReverts(a, "GpuReceiptNotAttestor", [recovered]);
      });

      it("refuses a signature made for another contract", async () => {
        const a = await signedWith({ verifyingContract: await f.usdai.getAddress() });
        const recovered = recoverAddress(await digestOf(a), a.attestation.signatures[0]);
        expect(recovered).to.not.equal(f.actors.attestor1.address);
        await expectMintReverts(a, "GpuReceiptNotAttestor", [recovered]);
      });

      it("refuses a signature over other fields (another nonce)", async () => {
        const a = await mintArgs({ signers: [f.actors.attestor1] });
        a.attestation.nonce = id("another nonce");
        const recovered = recoverAddress(await digestOf(a), a.attestation.signatures[0]);
        await expectMintReverts(a, "GpuReceiptNotAttestor", [recovered]);
      });

      it("accepts the signature made for this chain and contract", async () => {
        const a = await signedWith({});
        await expect(sendMint(a)).to.emit(receipts, "ReceiptMinted");
      });
    });

    it("re-tokenizes serials freed by a redemption, with a fresh nonce", async () => {
      const first = await mintArgs({ tag: "rack-a" });
      await sendMint(first);
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
      await receipts.connect(f.actors.custodian).confirmRedemption(1n);

      const again = await mintArgs({ tag: "rack-a", to: f.actors.borrower2.address });
      await expect(sendMint(again))
        .to.emit(receipts, "ReceiptMinted")
        .withArgs(
          2n,
          f.actors.borrower2.address,
          f.actors.custodian.address,
          await digestOf(again),
          again.serials,
        );
      for (const serial of again.serials) expect(await receipts.receiptOfSerial(serial)).to.equal(2n);
    });
  });

  // ================================================================ appraiser and insurer

  describe("appraise", () => {
    it("records value, schedule, appraiser and time", async () => {
      await mintReceipt();
      const tx = receipts.connect(f.actors.appraiser).appraise(1n, usd(1_000_000), 500n, 2_000n);
      await expect(tx)
        .to.emit(receipts, "Appraised")
        .withArgs(1n, f.actors.appraiser.address, usd(1_000_000), 500n, 2_000n)
        .and.to.emit(receipts, "MetadataUpdate")
        .withArgs(1n);
      const { appraisal } = await receipts.assetOf(1n);
      expect(appraisal.valueUsd).to.equal(usd(1_000_000));
      expect(appraisal.markdownBpsPerQuarter).to.equal(500n);
      expect(appraisal.residualFloorBps).to.equal(2_000n);
      expect(appraisal.appraiser).to.equal(f.actors.appraiser.address);
      expect(appraisal.appraisedAt).to.equal(BigInt(await time.latest()));
      expect(await receipts.collateralValue(1n)).to.equal(usd(1_000_000));
    });

    it("accepts 10_000 bps for both markdown and floor, and works while paused", async () => {
      await mintReceipt();
      await receipts.connect(f.actors.guardian).pause();
      await receipts.connect(f.actors.appraiser).appraise(1n, usd(10), BPS, BPS);
      expect((await receipts.assetOf(1n)).appraisal.residualFloorBps).to.equal(BPS);
    });

    describe("reverts", () => {
      let reads: Reads;
      let before: Record<string, unknown>;
      beforeEach(async () => {
        await mintReceipt();
        await receipts.connect(f.actors.appraiser).appraise(1n, usd(100), 100n, 100n);
        reads = { record: async () => (await receipts.assetOf(1n)).toString() };
        before = await snapshot(reads);
      });
      afterEach(async () => expectUnchanged(before, reads));

      it("for a caller without APPRAISER_ROLE", async () => {
        await expect(receipts.connect(f.actors.attacker).appraise(1n, usd(1), 0n, 0n))
          .to.be.revertedWithCustomError(receipts, "AccessControlUnauthorizedAccount")
          .withArgs(f.actors.attacker.address, Roles.APPRAISER);
      });

      it("for a receipt that does not exist", async () => {
        await expect(receipts.connect(f.actors.appraiser).appraise(2n, usd(1), 0n, 0n))
          .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
          .withArgs(2n);
      });

      it("for a markdown or floor above 10_000 bps", async () => {
        await expect(receipts.connect(f.actors.appraiser).appraise(1n, usd(1), BPS + 1n, 0n))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptBpsOutOfRange")
          .withArgs(BPS + 1n);
        await expect(receipts.connect(f.actors.appraiser).appraise(1n, usd(1), 0n, 20_000n))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptBpsOutOfRange")
          .withArgs(20_000n);
      });

      it("for a value above uint128", async () => {
        const value = 2n ** 128n;
        await expect(receipts.connect(f.actors.appraiser).appraise(1n, value, 0n, 0n))
          .to.be.revertedWithCustomError(receipts, "SafeCastOverflowedUintDowncast")
          .withArgs(128n, value);
      });
    });
  });

  describe("bindInsurance", () => {
    const policy = id("policy #42");

    it("records the policy, insured value, expiry and insurer", async () => {
      await mintReceipt();
      const expiry = BigInt(await time.latest()) + 365n * 24n * HOUR;
      await expect(receipts.connect(f.actors.insurer).bindInsurance(1n, policy, usd(400_000), expiry))
        .to.emit(receipts, "InsuranceBound")
        .withArgs(1n, f.actors.insurer.address, policy, usd(400_000), expiry)
        .and.to.emit(receipts, "MetadataUpdate")
        .withArgs(1n);
      const { insurance } = await receipts.assetOf(1n);
      expect(insurance.policyHash).to.equal(policy);
      expect(insurance.insuredValueUsd).to.equal(usd(400_000));
      expect(insurance.expiry).to.equal(expiry);
      expect(insurance.insurer).to.equal(f.actors.insurer.address);
    });

    describe("reverts", () => {
      let reads: Reads;
      let before: Record<string, unknown>;
      let expiry: bigint;
      beforeEach(async () => {
        await mintReceipt();
        expiry = BigInt(await time.latest()) + 1000n;
        reads = { record: async () => (await receipts.assetOf(1n)).toString() };
        before = await snapshot(reads);
      });
      afterEach(async () => expectUnchanged(before, reads));

      it("for a caller without INSURER_ROLE", async () => {
        await expect(receipts.connect(f.actors.appraiser).bindInsurance(1n, policy, 1n, expiry))
          .to.be.revertedWithCustomError(receipts, "AccessControlUnauthorizedAccount")
          .withArgs(f.actors.appraiser.address, Roles.INSURER);
      });

      it("for a receipt that does not exist", async () => {
        await expect(receipts.connect(f.actors.insurer).bindInsurance(9n, policy, 1n, expiry))
          .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
          .withArgs(9n);
      });

      it("for a zero policy hash", async () => {
        await expect(
          receipts.connect(f.actors.insurer).bindInsurance(1n, ZeroHash, 1n, expiry),
        ).to.be.revertedWithCustomError(receipts, "GpuReceiptZeroPolicyHash");
      });

      it("for an expiry that is not in the future", async () => {
        const now = BigInt(await time.latest()) + 1n;
        await time.setNextBlockTimestamp(now);
        await expect(receipts.connect(f.actors.insurer).bindInsurance(1n, policy, 1n, now))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptInsuranceExpiryInPast")
          .withArgs(now, now);
      });

      it("for an insured value above uint128 or an expiry above uint40", async () => {
        await expect(receipts.connect(f.actors.insurer).bindInsurance(1n, policy, MaxUint256, expiry))
          .to.be.revertedWithCustomError(receipts, "SafeCastOverflowedUintDowncast")
          .withArgs(128n, MaxUint256);
        const far = 2n ** 40n;
        await expect(receipts.connect(f.actors.insurer).bindInsurance(1n, policy, 1n, far))
          .to.be.revertedWithCustomError(receipts, "SafeCastOverflowedUintDowncast")
          .withArgs(40n, far);
      });
    });
  });

  // ================================================================ valuation

  describe("collateralValue", () => {
    const value = usd(1_000_000);
    let appraisedAt: bigint;

    beforeEach(async () => {
      await mintReceipt();
      // 5% per quarter down to a 20% floor: the floor is reached after 16 quarters.
      await receipts.connect(f.actors.appraiser).appraise(1n, value, 500n, 2_000n);
      appraisedAt = BigInt(await time.latest());
    });

    const at = async (elapsed: bigint) => {
      await time.increaseTo(appraisedAt + elapsed);
      return receipts.collateralValue(1n);
    };

    it("is zero before any appraisal", async () => {
      await mintReceipt({ tag: "unappraised" });
      expect(await receipts.collateralValue(2n)).to.equal(0n);
    });

    it("is the appraised value during the first quarter (0 whole quarters)", async () => {
      expect(await receipts.collateralValue(1n)).to.equal(value);
      expect(await at(SECONDS_PER_QUARTER - 1n)).to.equal(value);
    });

    it("marks down once per whole quarter", async () => {
      expect(await at(SECONDS_PER_QUARTER)).to.equal(usd(950_000));
      expect(await at(2n * SECONDS_PER_QUARTER - 1n)).to.equal(usd(950_000));
      expect(await at(7n * SECONDS_PER_QUARTER + 100n)).to.equal(usd(650_000));
    });

    it("stops at the residual floor", async () => {
      expect(await at(16n * SECONDS_PER_QUARTER)).to.equal(usd(200_000));
      expect(await at(15n * SECONDS_PER_QUARTER + 16n * SECONDS_PER_QUARTER)).to.equal(usd(200_000));
      expect(await at(400n * SECONDS_PER_QUARTER)).to.equal(usd(200_000));
    });

    it("is flat with no markdown and can depreciate to zero with no floor", async () => {
      await receipts.connect(f.actors.appraiser).appraise(1n, value, 0n, 0n);
      appraisedAt = BigInt(await time.latest());
      expect(await at(40n * SECONDS_PER_QUARTER)).to.equal(value);
      await receipts.connect(f.actors.appraiser).appraise(1n, value, 2_500n, 0n);
      appraisedAt = BigInt(await time.latest());
      expect(await at(3n * SECONDS_PER_QUARTER)).to.equal(usd(250_000));
      expect(await at(4n * SECONDS_PER_QUARTER)).to.equal(0n);
    });

    it("rounds down", async () => {
      await receipts.connect(f.actors.appraiser).appraise(1n, 999n, 5_000n, 0n);
      appraisedAt = BigInt(await time.latest());
      expect(await at(SECONDS_PER_QUARTER)).to.equal(499n); // 999 * 5000 / 10000 = 499.5
    });

    it("restarts the schedule at a new appraisal", async () => {
      await at(4n * SECONDS_PER_QUARTER);
      await receipts.connect(f.actors.appraiser).appraise(1n, usd(900_000), 1_000n, 5_000n);
      expect(await receipts.collateralValue(1n)).to.equal(usd(900_000));
    });

    it("is floored by the insured value while the policy is active, and not after", async () => {
      const expiry = appraisedAt + 20n * SECONDS_PER_QUARTER;
      await receipts.connect(f.actors.insurer).bindInsurance(1n, id("policy"), usd(500_000), expiry);
      // Depreciated above the insured value: the depreciated value counts.
      expect(await at(2n * SECONDS_PER_QUARTER)).to.equal(usd(900_000));
      // Depreciated below it: the insured value counts while the policy is active.
      expect(await at(12n * SECONDS_PER_QUARTER)).to.equal(usd(500_000));
      expect(await at(20n * SECONDS_PER_QUARTER - 1n)).to.equal(usd(500_000));
      // At expiry the policy no longer covers: back to the depreciated value (at its floor).
      expect(await at(20n * SECONDS_PER_QUARTER)).to.equal(usd(200_000));
    });

    it("is the insured value for an insured receipt never appraised", async () => {
      await mintReceipt({ tag: "insured-only" });
      const expiry = BigInt(await time.latest()) + 1000n;
      await receipts.connect(f.actors.insurer).bindInsurance(2n, id("p"), usd(123), expiry);
      expect(await receipts.collateralValue(2n)).to.equal(usd(123));
    });

    it("reverts for a receipt that does not exist", async () => {
      await expect(receipts.collateralValue(7n))
        .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
        .withArgs(7n);
    });
  });

  // ================================================================ redemption

  describe("requestRedemption", () => {
    beforeEach(async () => {
      await mintReceipt();
    });

    it("freezes the receipt pending the custodian", async () => {
      await expect(receipts.connect(f.actors.borrower1).requestRedemption(1n))
        .to.emit(receipts, "RedemptionRequested")
        .withArgs(1n, f.actors.borrower1.address)
        .and.to.emit(receipts, "MetadataUpdate")
        .withArgs(1n);
      expect(await receipts.statusOf(1n)).to.equal(Status.RedemptionRequested);
    });

    it("reverts for a caller that is not the owner, e.g. the borrower of a pledged receipt", async () => {
      // Pledging hands the receipt to the loan vault (here: another holder), so the borrower no longer owns it.
      const vault = f.actors.creditAdmin;
      await receipts.connect(f.actors.borrower1).transferFrom(f.actors.borrower1.address, vault.address, 1n);
      await expect(receipts.connect(f.actors.borrower1).requestRedemption(1n))
        .to.be.revertedWithCustomError(receipts, "GpuReceiptNotOwner")
        .withArgs(1n, f.actors.borrower1.address, vault.address);
      expect(await receipts.statusOf(1n)).to.equal(Status.Active);
    });

    it("reverts when a redemption is already pending", async () => {
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
      await expect(receipts.connect(f.actors.borrower1).requestRedemption(1n))
        .to.be.revertedWithCustomError(receipts, "GpuReceiptUnexpectedStatus")
        .withArgs(1n, Status.RedemptionRequested, Status.Active);
    });

    it("reverts for a receipt that does not exist", async () => {
      await expect(receipts.connect(f.actors.borrower1).requestRedemption(5n))
        .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
        .withArgs(5n);
    });
  });

  describe("cancelRedemption", () => {
    beforeEach(async () => {
      await mintReceipt();
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
    });

    it("unfreezes the receipt", async () => {
      await expect(receipts.connect(f.actors.borrower1).cancelRedemption(1n))
        .to.emit(receipts, "RedemptionCancelled")
        .withArgs(1n, f.actors.borrower1.address);
      expect(await receipts.statusOf(1n)).to.equal(Status.Active);
      await receipts
        .connect(f.actors.borrower1)
        .transferFrom(f.actors.borrower1.address, f.actors.borrower2.address, 1n);
      expect(await receipts.ownerOf(1n)).to.equal(f.actors.borrower2.address);
    });

    it("reverts for a caller that is not the owner", async () => {
      await expect(receipts.connect(f.actors.custodian).cancelRedemption(1n))
        .to.be.revertedWithCustomError(receipts, "GpuReceiptNotOwner")
        .withArgs(1n, f.actors.custodian.address, f.actors.borrower1.address);
      expect(await receipts.statusOf(1n)).to.equal(Status.RedemptionRequested);
    });

    it("reverts when no redemption is pending", async () => {
      await receipts.connect(f.actors.borrower1).cancelRedemption(1n);
      await expect(receipts.connect(f.actors.borrower1).cancelRedemption(1n))
        .to.be.revertedWithCustomError(receipts, "GpuReceiptUnexpectedStatus")
        .withArgs(1n, Status.Active, Status.RedemptionRequested);
    });
  });

  describe("confirmRedemption", () => {
    let a: MintArgs;
    beforeEach(async () => {
      a = await mintArgs();
      await sendMint(a);
    });

    it("burns the receipt, deletes its record and frees its serials, even while paused", async () => {
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
      await receipts.connect(f.actors.guardian).pause();
      await expect(receipts.connect(f.actors.custodian).confirmRedemption(1n))
        .to.emit(receipts, "Redeemed")
        .withArgs(1n, f.actors.borrower1.address, f.actors.custodian.address)
        .and.to.emit(receipts, "Transfer")
        .withArgs(f.actors.borrower1.address, ZeroAddress, 1n);

      expect(await receipts.balanceOf(f.actors.borrower1.address)).to.equal(0n);
      expect(await receipts.statusOf(1n)).to.equal(Status.None);
      for (const serial of a.serials) expect(await receipts.receiptOfSerial(serial)).to.equal(0n);
      await expect(receipts.ownerOf(1n)).to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken");
      await expect(receipts.assetOf(1n))
        .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
        .withArgs(1n);
      // Token ids are never reused.
      expect(await receipts.nextTokenId()).to.equal(2n);
    });

    describe("reverts", () => {
      let reads: Reads;
      let before: Record<string, unknown>;
      beforeEach(async () => {
        reads = {
          owner: () => receipts.ownerOf(1n),
          status: () => receipts.statusOf(1n),
          serial: () => receipts.receiptOfSerial(a.serials[0]),
        };
        before = await snapshot(reads);
      });
      afterEach(async () => expectUnchanged(before, reads));

      it("for a caller that is not the custodian, the owner included", async () => {
        await expect(receipts.connect(f.actors.borrower1).confirmRedemption(1n))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptNotCustodian")
          .withArgs(1n, f.actors.borrower1.address, f.actors.custodian.address);
      });

      it("when the owner has not requested a redemption", async () => {
        await expect(receipts.connect(f.actors.custodian).confirmRedemption(1n))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptUnexpectedStatus")
          .withArgs(1n, Status.Active, Status.RedemptionRequested);
      });

      it("for a receipt that does not exist", async () => {
        await expect(receipts.connect(f.actors.custodian).confirmRedemption(3n))
          .to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken")
          .withArgs(3n);
      });
    });
  });

  // ================================================================ transfers

  describe("transfers", () => {
    beforeEach(async () => {
      await mintReceipt();
    });

    const transferReads = (): Reads => ({
      owner: () => receipts.ownerOf(1n),
      balance: () => receipts.balanceOf(f.actors.borrower1.address),
    });

    it("move between receipt holders, also while paused", async () => {
      await receipts.connect(f.actors.guardian).pause();
      await receipts
        .connect(f.actors.borrower1)
        .transferFrom(f.actors.borrower1.address, f.actors.borrower2.address, 1n);
      expect(await receipts.ownerOf(1n)).to.equal(f.actors.borrower2.address);
    });

    it("refuse a receiver without RECEIPT_HOLDER_ROLE", async () => {
      const before = await snapshot(transferReads());
      await expect(
        receipts
          .connect(f.actors.borrower1)
          .transferFrom(f.actors.borrower1.address, f.actors.attacker.address, 1n),
      )
        .to.be.revertedWithCustomError(receipts, "GpuReceiptNotReceiptHolder")
        .withArgs(f.actors.attacker.address);
      await expectUnchanged(before, transferReads());
    });

    it("refuse a receipt with a pending redemption", async () => {
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
      const before = await snapshot(transferReads());
      await expect(
        receipts
          .connect(f.actors.borrower1)
          .transferFrom(f.actors.borrower1.address, f.actors.borrower2.address, 1n),
      )
        .to.be.revertedWithCustomError(receipts, "GpuReceiptRedemptionPending")
        .withArgs(1n);
      await expectUnchanged(before, transferReads());
    });

    it("let an account whose role was revoked hand its receipt to a holder", async () => {
      await receipts.connect(f.actors.deployer).revokeRole(Roles.RECEIPT_HOLDER, f.actors.borrower1.address);
      await receipts
        .connect(f.actors.borrower1)
        .transferFrom(f.actors.borrower1.address, f.actors.borrower2.address, 1n);
      expect(await receipts.ownerOf(1n)).to.equal(f.actors.borrower2.address);
    });

    it("follow ERC-721 receiver rules for safeTransferFrom to a contract", async () => {
      const nonReceiver = await f.reserve.getAddress();
      const holder = await ethers.deployContract("ReceiptHolderMock");
      await receipts.connect(f.actors.deployer).grantRole(Roles.RECEIPT_HOLDER, nonReceiver);
      await receipts.connect(f.actors.deployer).grantRole(Roles.RECEIPT_HOLDER, holder);
      const safeTransfer = receipts.connect(f.actors.borrower1)["safeTransferFrom(address,address,uint256)"];

      const before = await snapshot(transferReads());
      await expect(safeTransfer(f.actors.borrower1.address, nonReceiver, 1n))
        .to.be.revertedWithCustomError(receipts, "ERC721InvalidReceiver")
        .withArgs(nonReceiver);
      await expectUnchanged(before, transferReads());

      await safeTransfer(f.actors.borrower1.address, await holder.getAddress(), 1n);
      expect(await receipts.ownerOf(1n)).to.equal(await holder.getAddress());
    });

    it("still check ERC-721 approval", async () => {
      await expect(
        receipts
          .connect(f.actors.borrower2)
          .transferFrom(f.actors.borrower1.address, f.actors.borrower2.address, 1n),
      )
        .to.be.revertedWithCustomError(receipts, "ERC721InsufficientApproval")
        .withArgs(f.actors.borrower2.address, 1n);
    });
  });

  // ================================================================ governance

  describe("setAttestationThreshold", () => {
    it("sets the threshold (DEFAULT_ADMIN)", async () => {
      await expect(receipts.connect(f.actors.deployer).setAttestationThreshold(3))
        .to.emit(receipts, "AttestationThresholdSet")
        .withArgs(3n);
      expect(await receipts.attestationThreshold()).to.equal(3n);
      const a = await mintArgs();
      await expectMintReverts(a, "GpuReceiptInsufficientAttestations", [2n, 3n]);
    });

    it("refuses 0 and values above uint16", async () => {
      for (const k of [0n, 65_536n]) {
        await expect(receipts.connect(f.actors.deployer).setAttestationThreshold(k))
          .to.be.revertedWithCustomError(receipts, "GpuReceiptInvalidThreshold")
          .withArgs(k);
      }
      expect(await receipts.attestationThreshold()).to.equal(2n);
    });

    it("refuses a caller without DEFAULT_ADMIN_ROLE", async () => {
      await expect(receipts.connect(f.actors.tokenizer).setAttestationThreshold(1))
        .to.be.revertedWithCustomError(receipts, "AccessControlUnauthorizedAccount")
        .withArgs(f.actors.tokenizer.address, Roles.DEFAULT_ADMIN);
    });
  });

  describe("setRenderer", () => {
    it("replaces the renderer (DEFAULT_ADMIN) and asks indexers to refresh every receipt", async () => {
      const renderer = await ethers.deployContract("GpuReceiptRenderer");
      await expect(receipts.connect(f.actors.deployer).setRenderer(renderer))
        .to.emit(receipts, "RendererSet")
        .withArgs(await renderer.getAddress())
        .and.not.to.emit(receipts, "BatchMetadataUpdate");
      await mintReceipt({ tag: "a" });
      await mintReceipt({ tag: "b" });
      await expect(receipts.connect(f.actors.deployer).setRenderer(renderer))
        .to.emit(receipts, "BatchMetadataUpdate")
        .withArgs(1n, 2n);
      expect(await receipts.renderer()).to.equal(await renderer.getAddress());
    });

    it("refuses the zero address and a caller without DEFAULT_ADMIN_ROLE", async () => {
      const current = await receipts.renderer();
      await expect(
        receipts.connect(f.actors.deployer).setRenderer(ZeroAddress),
      ).to.be.revertedWithCustomError(receipts, "GpuReceiptZeroAddress");
      await expect(receipts.connect(f.actors.attacker).setRenderer(f.actors.attacker.address))
        .to.be.revertedWithCustomError(receipts, "AccessControlUnauthorizedAccount")
        .withArgs(f.actors.attacker.address, Roles.DEFAULT_ADMIN);
      expect(await receipts.renderer()).to.equal(current);
    });
  });

  // ================================================================ views

  describe("views", () => {
    it("siteOf is the ShortString encoding of the site, equal for equal sites", async () => {
      await mintReceipt({ tag: "a" });
      await mintReceipt({ tag: "b", asset: { model: "B200" } });
      await mintReceipt({ tag: "c", asset: { site: "EU-IS-KEF-02" } });
      const site = "US-TX-AUS-01";
      // The bytes left-aligned in 31 bytes, then the length.
      const encoded = concat([ethers.zeroPadBytes(ethers.toUtf8Bytes(site), 31), toBeHex(site.length, 1)]);
      expect(await receipts.siteOf(1n)).to.equal(encoded);
      expect(await receipts.siteOf(2n)).to.equal(encoded);
      expect(await receipts.siteOf(3n)).to.not.equal(encoded);
    });

    it("statusOf is None for unknown receipts; the other per-token views revert", async () => {
      expect(await receipts.statusOf(1n)).to.equal(Status.None);
      for (const view of [receipts.siteOf, receipts.custodianOf, receipts.assetOf, receipts.tokenURI]) {
        await expect(view(1n)).to.be.revertedWithCustomError(receipts, "ERC721NonexistentToken").withArgs(1n);
      }
    });

    it("receiptOfSerial is 0 for a serial never tokenized", async () => {
      expect(await receipts.receiptOfSerial(id("unknown"))).to.equal(0n);
    });

    it("attestationDigest is the EIP-712 digest the attestors sign", async () => {
      const a = await mintArgs({ signers: [f.actors.attestor3] });
      expect(recoverAddress(await digestOf(a), a.attestation.signatures[0])).to.equal(
        f.actors.attestor3.address,
      );
    });

    it("supportsInterface: ERC-721, metadata, ERC-4906, AccessControl, IGpuReceipt, ERC-165", async () => {
      const ids = {
        erc165: "0x01ffc9a7",
        erc721: "0x80ac58cd",
        erc721Metadata: "0x5b5e139f",
        erc4906: "0x49064906",
        accessControl: "0x7965db0b",
      };
      for (const interfaceId of Object.values(ids)) {
        expect(await receipts.supportsInterface(interfaceId), interfaceId).to.equal(true);
      }
      const iface: Interface = receipts.interface;
      const own = [
        "mint",
        "appraise",
        "bindInsurance",
        "requestRedemption",
        "cancelRedemption",
        "confirmRedemption",
        "setAttestationThreshold",
        "setRenderer",
        "collateralValue",
        "assetOf",
        "siteOf",
        "statusOf",
        "custodianOf",
        "receiptOfSerial",
        "attestationUsed",
        "attestationDigest",
        "attestationThreshold",
        "renderer",
        "nextTokenId",
      ].reduce((acc, name) => acc ^ BigInt(iface.getFunction(name)!.selector), 0n);
      expect(await receipts.supportsInterface(toBeHex(own, 4))).to.equal(true);
      expect(await receipts.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("tokenURI", () => {
    interface Metadata {
      name: string;
      description: string;
      image: string;
      attributes: { trait_type: string; value: string | number; display_type?: string }[];
    }

    /** The decoded SVG card: the document tree, its raw text and the value shown in each labelled row. */
    interface Card {
      root: XmlElement;
      source: string;
      number: string;
      badge: { text: string; fill: string };
      headline: string;
      rows: Record<string, string>;
      rowElements: Record<string, XmlElement>;
    }

    const JSON_PREFIX = "data:application/json;base64,";
    const SVG_PREFIX = "data:image/svg+xml;base64,";

    function decodeUri(uri: string): { json: string; metadata: Metadata } {
      expect(uri.startsWith(JSON_PREFIX)).to.equal(true);
      const json = Buffer.from(uri.slice(JSON_PREFIX.length), "base64").toString("utf8");
      return { json, metadata: JSON.parse(json) as Metadata };
    }

    async function metadata(tokenId: bigint): Promise<Metadata> {
      return decodeUri(await receipts.tokenURI(tokenId)).metadata;
    }

    const traits = (m: Metadata) => Object.fromEntries(m.attributes.map((a) => [a.trait_type, a.value]));

    /** Decodes the image, parses it as XML (throwing if it is not well-formed) and reads the card's texts. */
    function cardOf(m: Metadata): Card {
      expect(m.image.startsWith(SVG_PREFIX), "image is a base64 SVG data URI").to.equal(true);
      const bytes = Buffer.from(m.image.slice(SVG_PREFIX.length), "base64");
      const root = parseXml(bytes);
      expect(root.name).to.equal("svg");
      expect(root.attributes.xmlns).to.equal("http://www.w3.org/2000/svg");
      const all = elements(root);
      const texts = all.filter((e) => e.name === "text");
      const byClass = (cls: string) => texts.filter((e) => e.attributes.class === cls);
      const rows: Record<string, string> = {};
      const rowElements: Record<string, XmlElement> = {};
      for (const label of byClass("l")) {
        const value = byClass("v").find((v) => v.attributes.y === label.attributes.y);
        if (value) {
          rows[textOf(label)] = textOf(value);
          rowElements[textOf(label)] = value;
        }
      }
      const [badgeText] = byClass("b");
      const badgeRect = all.find((e) => e.name === "rect" && e.attributes.height === "28");
      return {
        root,
        source: bytes.toString("utf8"),
        number: textOf(byClass("n")[0]),
        badge: { text: textOf(badgeText), fill: badgeRect!.attributes.fill },
        headline: textOf(byClass("h")[0]),
        rows,
        rowElements,
      };
    }

    /** The receipt's record as the renderer takes it, with `status` and `asset` overridable. */
    async function recordArg(
      tokenId: bigint,
      overrides: { status?: bigint; asset?: Partial<ReceiptAsset> } = {},
    ): Promise<IGpuReceipt.ReceiptRecordStruct> {
      const { asset, status, appraisal, insurance } = await receipts.assetOf(tokenId);
      return {
        asset: {
          model: asset.model,
          gpuCount: asset.gpuCount,
          site: asset.site,
          custodian: asset.custodian,
          credentialsHash: asset.credentialsHash,
          ...overrides.asset,
        },
        status: overrides.status ?? status,
        appraisal: {
          valueUsd: appraisal.valueUsd,
          appraisedAt: appraisal.appraisedAt,
          markdownBpsPerQuarter: appraisal.markdownBpsPerQuarter,
          residualFloorBps: appraisal.residualFloorBps,
          appraiser: appraisal.appraiser,
        },
        insurance: {
          policyHash: insurance.policyHash,
          insuredValueUsd: insurance.insuredValueUsd,
          expiry: insurance.expiry,
          insurer: insurance.insurer,
        },
      };
    }

    const rendererOf = async () => ethers.getContractAt("GpuReceiptRenderer", await receipts.renderer());

    /**
     * Renders receipt 1 with `model` and `site` given as raw bytes: the renderer is called directly (so neither
     * the receipt's 31-byte limit nor ethers' UTF-8 encoding of strings applies) through an ABI that declares them
     * `bytes`, which encodes exactly like `string`.
     */
    async function renderRaw(
      model: Uint8Array,
      site: Uint8Array,
    ): Promise<{ json: string; metadata: Metadata }> {
      const renderer = await rendererOf();
      const record = await recordArg(1n);
      const raw = new ethers.Interface([
        "function tokenURI(uint256,((bytes model,uint32 gpuCount,bytes site,address custodian,bytes32 credentialsHash) asset,uint8 status,(uint128 valueUsd,uint40 appraisedAt,uint16 markdownBpsPerQuarter,uint16 residualFloorBps,address appraiser) appraisal,(bytes32 policyHash,uint128 insuredValueUsd,uint40 expiry,address insurer) insurance),uint256) view returns (string)",
      ]);
      const data = raw.encodeFunctionData("tokenURI", [
        1n,
        { ...record, asset: { ...record.asset, model, site } },
        0n,
      ]);
      // The same encoding under the real selector (the `bytes` signature hashes differently).
      const selector = renderer.interface.getFunction("tokenURI").selector;
      const out = await ethers.provider.call({
        to: await renderer.getAddress(),
        data: concat([selector, dataSlice(data, 4)]),
      });
      return decodeUri(raw.decodeFunctionResult("tokenURI", out)[0] as string);
    }

    it("decodes to JSON with the receipt's values in whole dollars", async () => {
      await mintReceipt();
      await receipts.connect(f.actors.appraiser).appraise(1n, usd("1000000.99"), 500n, 2_000n);
      const expiry = BigInt(await time.latest()) + 40n * SECONDS_PER_QUARTER;
      await receipts.connect(f.actors.insurer).bindInsurance(1n, id("p"), usd("300000.5"), expiry);
      await time.increase(SECONDS_PER_QUARTER);

      const m = await metadata(1n);
      expect(m.name).to.equal("GPU Receipt #1");
      expect(m.description).to.contain("bailment");
      expect(traits(m)).to.deep.equal({
        Model: "H100-SXM5-80GB",
        GPUs: 8,
        Site: "US-TX-AUS-01",
        "Appraised value (USD)": 1_000_000,
        "Collateral value (USD)": 950_000, // 1,000,000.99 * 0.95 = 950,000.9405, shown rounded down
        "Insured value (USD)": 300_000,
        Status: "Active",
      });
      expect(m.attributes.find((a) => a.trait_type === "GPUs")?.display_type).to.equal("number");
    });

    it("carries an SVG card with the number, status, collateral value, asset, appraisal, depreciation and cover", async () => {
      await mintReceipt();
      await receipts.connect(f.actors.appraiser).appraise(1n, usd("1000000.99"), 500n, 2_000n);
      const expiry = BigInt(await time.latest()) + 40n * SECONDS_PER_QUARTER;
      await receipts.connect(f.actors.insurer).bindInsurance(1n, id("p"), usd("300000.5"), expiry);
      await time.increase(SECONDS_PER_QUARTER);

      const card = cardOf(await metadata(1n));
      expect(await receipts.collateralValue(1n)).to.equal(usd("950000.9405"));
      expect(card.number).to.equal("#1");
      expect(card.badge).to.deep.equal({ text: "Active", fill: "#22c55e" });
      expect(card.headline).to.equal("$950,000");
      expect(card.rows).to.deep.equal({
        Model: "H100-SXM5-80GB",
        GPUs: "8",
        Site: "US-TX-AUS-01",
        "Appraised value": "$1,000,000",
        Depreciation: "5% per quarter, floor 20%",
        "Insured value": "$300,000",
      });
      expect(card.rowElements.Model.attributes).to.not.have.property("textLength");
      // Only drawing elements: nothing that could script, link or load anything.
      expect([...new Set(elements(card.root).map((e) => e.name))].sort()).to.deep.equal([
        "rect",
        "style",
        "svg",
        "text",
      ]);
    });

    it("shows a pending redemption and an expired policy as 0 insured", async () => {
      await mintReceipt();
      const expiry = BigInt(await time.latest()) + 100n;
      await receipts.connect(f.actors.insurer).bindInsurance(1n, id("p"), usd(5), expiry);
      await receipts.connect(f.actors.borrower1).requestRedemption(1n);
      await time.increaseTo(expiry);
      const m = await metadata(1n);
      const t = traits(m);
      expect(t.Status).to.equal("Redemption requested");
      expect(t["Insured value (USD)"]).to.equal(0);
      expect(t["Collateral value (USD)"]).to.equal(0);
      const card = cardOf(m);
      expect(card.badge).to.deep.equal({ text: "Redemption requested", fill: "#f59e0b" });
      expect(card.headline).to.equal("$0");
      expect(card.rows["Insured value"]).to.equal("$0");
      expect(card.rows["Appraised value"]).to.equal("$0");
      expect(card.rows.Depreciation).to.equal("none");
    });

    it("formats dollars with thousands separators and fractional basis points as percentages", async () => {
      await mintReceipt();
      const cases: [bigint, bigint, bigint, string, string][] = [
        [usd("999.99"), 1n, 0n, "$999", "0.01% per quarter, floor 0%"],
        [usd(1_000), 250n, 1_005n, "$1,000", "2.5% per quarter, floor 10.05%"],
        [usd(1_000_000), 1_234n, 9_990n, "$1,000,000", "12.34% per quarter, floor 99.9%"],
        [usd(123_456_789), 10_000n, 10_000n, "$123,456,789", "100% per quarter, floor 100%"],
      ];
      for (const [value, markdown, floor, dollars, depreciation] of cases) {
        await receipts.connect(f.actors.appraiser).appraise(1n, value, markdown, floor);
        const { rows } = cardOf(await metadata(1n));
        expect(rows["Appraised value"], String(value)).to.equal(dollars);
        expect(rows.Depreciation, `${markdown}/${floor}`).to.equal(depreciation);
      }
    });

    it("squeezes a value too wide for the card into it", async () => {
      await mintReceipt({ asset: { model: "M".repeat(31) } });
      await receipts.connect(f.actors.appraiser).appraise(1n, (1n << 128n) - 1n, 0n, 0n);
      const card = cardOf(await metadata(1n));
      expect(card.headline).to.equal("$340,282,366,920,938,463,463"); // type(uint128).max / 1e18
      expect(card.rows.Model).to.equal("M".repeat(31));
      expect(card.rowElements.Model.attributes.textLength).to.equal("280");
      expect(elements(card.root).find((e) => e.attributes.class === "h")!.attributes.textLength).to.equal(
        "352",
      );
      expect(card.rowElements.Site.attributes).to.not.have.property("textLength");
    });

    it("escapes the tokenizer's strings so the JSON stays valid", async () => {
      const model = 'H100 "SXM5"\\80GB\n';
      const site = 'site\t{},"x":1';
      await mintReceipt({ asset: { model, site } });
      const m = await metadata(1n);
      const t = traits(m);
      expect(t.Model).to.equal(model);
      expect(t.Site).to.equal(site);
      const { rows } = cardOf(m);
      expect(rows.Model).to.equal(model);
      expect(rows.Site).to.equal(site);
    });

    it("escapes hostile markup in model and site in both the JSON and the SVG", async () => {
      const model = `<script>&"'`;
      const site = `</text><a href="x">&amp;<!--`;
      await mintReceipt({ asset: { model, site } });
      const { json, metadata: m } = decodeUri(await receipts.tokenURI(1n));
      expect(json).to.contain(String.raw`"value":"<script>&\"'"`);
      expect(traits(m).Model).to.equal(model);
      expect(traits(m).Site).to.equal(site);

      const card = cardOf(m); // parses as well-formed XML
      expect(card.rows.Model).to.equal(model); // what a viewer displays is the string itself
      expect(card.rows.Site).to.equal(site);
      expect(card.source).to.contain(">&lt;script&gt;&amp;&quot;&apos;</text>");
      expect(card.source).to.contain(">&lt;/text&gt;&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;!--</text>");
      expect(card.source).to.not.contain("<script");
      expect(elements(card.root).map((e) => e.name)).to.not.include.members(["script", "a"]);
    });

    it("repairs malformed UTF-8 and drops characters XML forbids, byte by byte", async () => {
      await mintReceipt();
      const FFFD = "\uFFFD";
      const hex = (h: string) => getBytes(`0x${h}`);
      // [input bytes, SVG text, JSON string]: each byte that does not start a well-formed sequence is one U+FFFD.
      const cases: [string, Uint8Array, string, string][] = [
        ["valid multi-byte text", ethers.toUtf8Bytes("Zürich 東京 🚀"), "Zürich 東京 🚀", "Zürich 東京 🚀"],
        ["C0 controls", hex("610162097f0a0d1b"), `a${FFFD}b\t\x7f\n\r${FFFD}`, "a\x01b\t\x7f\n\r\x1b"],
        ["a lone continuation byte and 0xff", hex("4180ff42"), `A${FFFD}${FFFD}B`, `A${FFFD}${FFFD}B`],
        ["an overlong '/'", hex("c0af"), FFFD.repeat(2), FFFD.repeat(2)],
        ["an overlong 3-byte form", hex("e08080"), FFFD.repeat(3), FFFD.repeat(3)],
        ["a UTF-16 surrogate", hex("eda080"), FFFD.repeat(3), FFFD.repeat(3)],
        ["a truncated sequence", hex("41e282"), `A${FFFD}${FFFD}`, `A${FFFD}${FFFD}`],
        ["a bad continuation", hex("e228a1"), `${FFFD}(${FFFD}`, `${FFFD}(${FFFD}`],
        ["beyond U+10FFFF", hex("f4908080"), FFFD.repeat(4), FFFD.repeat(4)],
        ["U+FFFE and U+FFFF", hex("efbfbeefbfbf"), FFFD.repeat(6), "\uFFFE\uFFFF"],
        ["U+10FFFF, the last code point", hex("f48fbfbf"), "\u{10FFFF}", "\u{10FFFF}"],
      ];
      for (const [what, bytes, svgText, jsonText] of cases) {
        const { json, metadata: m } = await renderRaw(bytes, bytes);
        expect(Buffer.from(json, "utf8").toString("utf8"), what).to.equal(json);
        expect(traits(m).Model, what).to.equal(jsonText);
        const card = cardOf(m);
        expect(card.rows.Model, what).to.equal(svgText);
        expect(card.rows.Site, what).to.equal(svgText);
      }
    });

    it("the XML check used here refuses what is not well-formed", () => {
      const bad = [
        "<svg><text></svg>",
        "<svg><text>&</text></svg>",
        "<svg><text>&script;</text></svg>",
        '<svg><text a="<">x</text></svg>',
        '<svg a="1" a="2"/>',
        "<svg>\u0001</svg>",
        "<svg>&#1;</svg>",
        "<svg/><svg/>",
        "<svg>",
      ];
      for (const doc of bad) expect(() => parseXml(Buffer.from(doc)), doc).to.throw();
      expect(() => parseXml(Uint8Array.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]))).to.throw();
      expect(textOf(parseXml(Buffer.from("<a><b>x&amp;&#x3c;</b>&apos;<!-- c --></a>")))).to.equal("x&<'");
    });

    it("the renderer names a status it is never given by the receipt", async () => {
      await mintReceipt();
      const renderer = await rendererOf();
      const uri = await renderer.tokenURI(1n, await recordArg(1n, { status: Status.None }), 0n);
      const m = decodeUri(uri).metadata;
      expect(traits(m).Status).to.equal("None");
      expect(cardOf(m).badge).to.deep.equal({ text: "None", fill: "#94a3b8" });
    });
  });

  // ================================================================ upgrades

  describe("upgrades", () => {
    it("the implementation passes OpenZeppelin's UUPS validation", async () => {
      await upgrades.validateImplementation(await ethers.getContractFactory("GpuReceipt"), { kind: "uups" });
    });

    it("upgrades through UPGRADER only, keeping receipts, registry and settings", async () => {
      const a = await mintArgs();
      await sendMint(a);
      await receipts.connect(f.actors.appraiser).appraise(1n, usd(1000), 100n, 100n);
      const v2 = await ethers.deployContract("GpuReceiptV2Mock");

      await expect(receipts.connect(f.actors.attacker).upgradeToAndCall(v2, "0x"))
        .to.be.revertedWithCustomError(receipts, "AccessControlUnauthorizedAccount")
        .withArgs(f.actors.attacker.address, Roles.UPGRADER);

      await receipts.connect(f.actors.deployer).upgradeToAndCall(v2, "0x");
      const upgraded = await ethers.getContractAt("GpuReceiptV2Mock", await receipts.getAddress());
      expect(await upgraded.upgradeMarker()).to.equal("GpuReceipt v2");
      expect(await upgraded.ownerOf(1n)).to.equal(a.to);
      expect(await upgraded.receiptOfSerial(a.serials[0])).to.equal(1n);
      expect(await upgraded.collateralValue(1n)).to.equal(usd(1000));
      expect(await upgraded.attestationThreshold()).to.equal(2n);
      expect(await upgraded.attestationUsed(await digestOf(a))).to.equal(true);
    });
  });

  it("sortBySigner orders signatures by signer address", async () => {
    const signed = [
      { signer: "0x00000000000000000000000000000000000000ff", signature: "0x02" },
      { signer: "0x0000000000000000000000000000000000000001", signature: "0x01" },
    ];
    expect(sortBySigner(signed)).to.deep.equal(["0x01", "0x02"]);
  });
});

/**
 * Integrator example: plain ethers v6 against a running node, with the exported addresses and ABIs and no Hardhat
 * runtime. Copy this file into your project. It deposits USDC for USDai, stakes the USDai into sUSDai and prints the
 * position.
 *
 *   npx hardhat node --hostname 127.0.0.1                 # terminal 1: a local chain with the protocol deployed
 *   npx hardhat deployments:export --network localhost    # writes exports/localhost.json
 *   npx ts-node scripts/integrator/example.ts             # terminal 2
 *
 * Environment (all optional):
 *   RPC_URL      JSON-RPC endpoint (default http://127.0.0.1:8545)
 *   EXPORT_FILE  combined export (default exports/localhost.json; use exports/sepolia.json for sepolia)
 *   PRIVATE_KEY  the lender's key. Without it, on a local chain (chain id 31337) only, the example uses one of
 *                Hardhat's PUBLIC test accounts (see HARDHAT_TEST_MNEMONIC below): never send real funds to it.
 *   AMOUNT       USDC to deposit, whole tokens (default 1000); STAKE: USDai to stake (default: all minted)
 */
import fs from "node:fs";
import path from "node:path";
import { Contract, formatUnits, HDNodeWallet, JsonRpcProvider, MaxUint256, parseUnits, Wallet } from "ethers";

// Types only (erased at runtime): the TypeChain types this package ships give typed calls on plain ethers contracts.
import type { MockERC20, StakedUSDai, USDai } from "../../typechain-types";

/** Hardhat's default, publicly known test mnemonic. Local development only: anyone can spend from it. */
const HARDHAT_TEST_MNEMONIC = "test test test test test test test test test test test junk";
/** `lender3` in config/env.ts: account index 21 of that mnemonic. */
const HARDHAT_TEST_ACCOUNT_INDEX = 21;
const LOCAL_CHAIN_ID = 31337n;

interface DeploymentExport {
  name: string;
  chainId: string;
  contracts: Record<string, { address: string; abi: unknown[] }>;
}

function loadExport(file: string): DeploymentExport {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found: export the deployments first (npx hardhat deployments:export --network localhost)`,
    );
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as DeploymentExport;
}

async function main(): Promise<void> {
  const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const exportFile = path.resolve(
    process.env.EXPORT_FILE ?? path.join(__dirname, "..", "..", "exports", "localhost.json"),
  );
  const deployments = loadExport(exportFile);
  // No response cache: ethers otherwise reuses an `eth_getTransactionCount` from 250 ms ago, and back-to-back
  // transactions on an automining node then reuse a nonce.
  const provider = new JsonRpcProvider(rpcUrl, undefined, { cacheTimeout: -1 });
  const { chainId } = await provider.getNetwork();
  if (chainId.toString() !== deployments.chainId) {
    throw new Error(`${exportFile} is for chain ${deployments.chainId}, but ${rpcUrl} is chain ${chainId}`);
  }

  let wallet: Wallet | HDNodeWallet;
  if (process.env.PRIVATE_KEY) {
    wallet = new Wallet(process.env.PRIVATE_KEY, provider);
  } else if (chainId === LOCAL_CHAIN_ID) {
    wallet = HDNodeWallet.fromPhrase(
      HARDHAT_TEST_MNEMONIC,
      undefined,
      `m/44'/60'/0'/0/${HARDHAT_TEST_ACCOUNT_INDEX}`,
    ).connect(provider);
    console.log(
      `No PRIVATE_KEY: using Hardhat's public test account #${HARDHAT_TEST_ACCOUNT_INDEX} (local chain only).`,
    );
  } else {
    throw new Error("Set PRIVATE_KEY: the Hardhat test accounts are only used on a local chain (31337)");
  }

  const at = <T>(name: string): T => {
    const entry = deployments.contracts[name];
    if (!entry) throw new Error(`${name} is not in ${exportFile}`);
    return new Contract(entry.address, entry.abi as never, wallet) as unknown as T;
  };
  const usdc = at<MockERC20>("ReserveToken");
  const usdai = at<USDai>("USDai");
  const susdai = at<StakedUSDai>("StakedUSDai");

  const decimals = Number(await usdc.decimals());
  const amount = parseUnits(process.env.AMOUNT ?? "1000", decimals);
  const me = wallet.address;

  // Local chains only: the mock USDC has a public faucet.
  if ((await usdc.balanceOf(me)) < amount && chainId === LOCAL_CHAIN_ID) {
    await (await usdc.mint(me, amount)).wait();
    console.log(`Minted ${formatUnits(amount, decimals)} mock USDC (local faucet)`);
  }

  // 1. USDC -> USDai, 1:1 scaled to 18 decimals; minOut guards the rate.
  if ((await usdc.allowance(me, await usdai.getAddress())) < amount) {
    await (await usdc.approve(await usdai.getAddress(), MaxUint256)).wait();
  }
  const expected = amount * (await usdai.reserveScale());
  await (await usdai.deposit(amount, expected, me)).wait();
  console.log(`Deposited ${formatUnits(amount, decimals)} USDC -> ${formatUnits(expected, 18)} USDai`);

  // 2. USDai -> sUSDai (ERC-4626 deposit with a minimum-shares bound).
  const stake = process.env.STAKE ? parseUnits(process.env.STAKE, 18) : expected;
  if ((await usdai.allowance(me, await susdai.getAddress())) < stake) {
    await (await usdai.approve(await susdai.getAddress(), MaxUint256)).wait();
  }
  const minShares = ((await susdai.previewDeposit(stake)) * 999n) / 1000n;
  await (await susdai["deposit(uint256,address,uint256)"](stake, me, minShares)).wait();
  console.log(`Staked ${formatUnits(stake, 18)} USDai into sUSDai`);

  // 3. The position.
  const shares = await susdai.balanceOf(me);
  const position = {
    account: me,
    usdc: formatUnits(await usdc.balanceOf(me), decimals),
    usdai: formatUnits(await usdai.balanceOf(me), 18),
    susdaiShares: formatUnits(shares, 18),
    susdaiValueUsdai: formatUnits(await susdai.convertToAssets(shares), 18),
    sharePrice: formatUnits(await susdai.convertToAssets(10n ** 18n), 18),
    pendingRedeemShares: formatUnits(await susdai.pendingRedeemRequest(0, me), 18),
  };
  console.log("Position:");
  console.table(position);
  console.log(`POSITION_JSON ${JSON.stringify(position)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

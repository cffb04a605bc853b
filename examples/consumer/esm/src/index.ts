// A consumer of the npm package as an ES module, with TypeScript's `moduleResolution: "nodenext"` (and "bundler"). scripts/package/consumer-test.sh
// installs the packed tarball here, type-checks, compiles and runs this against a local node (RPC_URL).
import assert from "node:assert/strict";
import { JsonRpcProvider } from "ethers";
import { createPublicClient, http } from "viem";

import { USDaiAbi, StakedUSDaiAbi, abis, deployments, deploymentOf } from "@gpu-credit/protocol";
import { LoanVaultAbi } from "@gpu-credit/protocol/abi";
import * as typechain from "@gpu-credit/protocol/typechain";
import { USDai__factory, StakedUSDai__factory, type LoanVault } from "@gpu-credit/protocol/typechain";
import usdaiAbiJson from "@gpu-credit/protocol/abi/USDai.json" with { type: "json" };
import localhost from "@gpu-credit/protocol/deployments/localhost.json" with { type: "json" };

async function main(): Promise<void> {
  const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const addresses = deployments.localhost.contracts;

  // The JSON files and the typed modules agree.
  assert.deepEqual(usdaiAbiJson, USDaiAbi);
  assert.equal(localhost.contracts.USDai.address, addresses.USDai);
  assert.equal(deploymentOf(31337)?.contracts.USDai, addresses.USDai);
  assert.equal(abis.LoanVault, LoanVaultAbi);
  // Only the protocol's contracts: no mocks or test harnesses among the bindings.
  const leaked = Object.keys(typechain).filter((name) => /Mock|Harness|Naive|Probe|Reentrant/.test(name));
  assert.deepEqual(leaked, [], `mock bindings in the package: ${leaked.join(", ")}`);

  // viem: the const ABIs type the calls (a wrong function name or a string return typed as bigint would not compile).
  const client = createPublicClient({ transport: http(rpcUrl) });
  const symbol: string = await client.readContract({
    address: addresses.USDai,
    abi: USDaiAbi,
    functionName: "symbol",
  });
  const navViem: bigint = await client.readContract({
    address: addresses.StakedUSDai,
    abi: StakedUSDaiAbi,
    functionName: "totalAssets",
  });
  const typeOnly = () =>
    // @ts-expect-error USDai has no such function, and the typed ABI says so
    client.readContract({ address: addresses.USDai, abi: USDaiAbi, functionName: "notAFunction" });
  void typeOnly;

  // ethers v6 through the TypeChain factories.
  const provider = new JsonRpcProvider(rpcUrl);
  const usdai = USDai__factory.connect(addresses.USDai, provider);
  const staked = StakedUSDai__factory.connect(addresses.StakedUSDai, provider);
  const vault: LoanVault = typechain.LoanVault__factory.connect(addresses.LoanVault, provider);
  const [reserves, nav, loanAssets] = await Promise.all([
    usdai.totalReserves(),
    staked.totalAssets(),
    vault.loanAssets(),
  ]);
  assert.equal(nav, navViem);
  assert.equal(await usdai.symbol(), symbol);
  provider.destroy();

  console.log(
    `esm consumer: chain ${deployments.localhost.chainId}, ${symbol} at ${addresses.USDai}, reserves ${reserves}, ` +
      `sUSDai NAV ${nav}, loan assets ${loanAssets}`,
  );
}

await main();

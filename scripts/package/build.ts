import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runTypeChain, DEFAULT_FLAGS } from "typechain";

/**
 * Builds the npm package `@gpu-credit/protocol` into dist/package (`npm run package:build`; `npm run package:test`
 * installs it into throwaway consumer projects). The repository itself is a private Hardhat project; what an
 * integrator installs is this directory:
 *
 *   index.js/.d.ts            CommonJS: everything below except the TypeChain bindings
 *   abi/<Name>.json           each ABI as plain JSON
 *   abi/index.js/.d.ts        each ABI as a typed `as const` export (`USDaiAbi`, ...), for viem, wagmi and ethers
 *   deployments/<net>.json    hardhat-deploy's export format (`{ name, chainId, contracts: { Name: { address, abi } } }`)
 *   deployments/index.js      the addresses of every exported network, typed (`deployments.localhost.contracts.USDai`)
 *   typechain/index.js        TypeChain ethers-v6 contract types and factories (no mocks or test harnesses)
 *   esm/...                   the same modules as ES modules (`"type": "module"`)
 *   contracts/                the Solidity sources of the cores, interfaces and libraries (no mocks)
 *
 * Each subpath exists on disk where a path-based resolver looks for it (TypeScript's `moduleResolution: "node"`)
 * and is mapped in package.json's `exports` (Node, TypeScript `node16`/`nodenext`/`bundler`, bundlers), with
 * `import` pointing at the ES modules and `require` at CommonJS.
 *
 * Inputs: the compiled artifacts (`hardhat compile` first) and the network exports in exports/<network>.json
 * (`npx hardhat deployments:export --network <network>`). Every exports file but the in-process `hardhat` one is
 * packed; set PACKAGE_NETWORKS=sepolia,... to choose.
 */

const ROOT = path.join(__dirname, "..", "..");
const ARTIFACTS = path.join(ROOT, "artifacts");
const EXPORTS = path.join(ROOT, "exports");
const TEMPLATE = path.join(ROOT, "package");
const OUT = path.resolve(process.env.PACKAGE_OUT_DIR?.trim() || path.join(ROOT, "dist", "package"));
const SRC = path.join(ROOT, "dist", "package-src");

/** Third-party contracts an integrator of the protocol talks to, packed with the protocol's own. */
const EXTERNAL_ARTIFACTS = [
  "artifacts/@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol/IERC20Metadata.json",
  "artifacts/@openzeppelin/contracts/interfaces/IERC4626.sol/IERC4626.json",
  "artifacts/@openzeppelin/contracts/token/ERC721/IERC721.sol/IERC721.json",
  "artifacts/@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol/AggregatorV3Interface.json",
];
/** OpenZeppelin's own build of the governance timelock (deploy/99_governance.ts), placed by its source path. */
const TIMELOCK_ARTIFACT = "node_modules/@openzeppelin/contracts/build/contracts/TimelockController.json";
const TIMELOCK_SOURCE = "@openzeppelin/contracts/governance/TimelockController.sol";

interface Artifact {
  contractName: string;
  abi: unknown[];
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** The protocol's artifacts without mocks and harnesses, and without ABI-less libraries, plus the external ones. */
function publicArtifacts(): string[] {
  const own = path.join(ARTIFACTS, "contracts");
  if (!fs.existsSync(own)) throw new Error("no artifacts: run `npx hardhat compile` first");
  const files = walk(own)
    .filter((f) => f.endsWith(".json") && !f.endsWith(".dbg.json"))
    .filter((f) => !path.relative(own, f).split(path.sep).includes("mocks"))
    .concat(EXTERNAL_ARTIFACTS.map((f) => path.join(ROOT, f)));
  return files.filter((f) => (JSON.parse(fs.readFileSync(f, "utf8")) as Artifact).abi.length > 0).sort();
}

/**
 * Copies the artifacts to `SRC/artifacts/<source path>/<Name>.json`, the layout TypeChain turns into module paths
 * (`typechain/contracts/token/USDai.js`, ...), and returns the copies.
 */
function stageArtifacts(files: string[]): string[] {
  const staged = files.map((file) => {
    const target = path.join(SRC, "artifacts", path.relative(ARTIFACTS, file));
    writeFile(target, fs.readFileSync(file, "utf8"));
    return target;
  });
  const timelock = path.join(SRC, "artifacts", TIMELOCK_SOURCE, "TimelockController.json");
  writeFile(timelock, fs.readFileSync(path.join(ROOT, TIMELOCK_ARTIFACT), "utf8"));
  return [...staged, timelock];
}

/** The networks to pack: every exports/<network>.json but `hardhat`, or PACKAGE_NETWORKS. */
function networks(): string[] {
  const list = process.env.PACKAGE_NETWORKS?.split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const wanted = list && list.length > 0 ? list : undefined;
  const present = fs.existsSync(EXPORTS)
    ? fs
        .readdirSync(EXPORTS)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -".json".length))
    : [];
  for (const name of wanted ?? []) {
    if (!present.includes(name))
      throw new Error(`PACKAGE_NETWORKS names ${name}, but exports/${name}.json is missing`);
  }
  return (wanted ?? present.filter((n) => n !== "hardhat")).sort();
}

const banner = "// Generated by scripts/package/build.ts. Do not edit.\n";

function abiModule(artifacts: Artifact[]): string {
  const lines = [banner];
  for (const a of artifacts) {
    lines.push(`export const ${a.contractName}Abi = ${JSON.stringify(a.abi, null, 2)} as const;\n`);
  }
  lines.push("/** Every ABI by contract name. */");
  lines.push(
    `export const abis = {\n${artifacts.map((a) => `  ${a.contractName}: ${a.contractName}Abi,`).join("\n")}\n} as const;`,
  );
  lines.push("export type ContractName = keyof typeof abis;\n");
  return lines.join("\n");
}

interface NetworkExport {
  name: string;
  chainId: string;
  contracts: Record<string, { address: string; abi: unknown[] }>;
}

function deploymentsModule(exported: NetworkExport[]): string {
  const entries = exported.map((e) => {
    const contracts = Object.keys(e.contracts)
      .sort()
      .map((name) => `      ${name}: ${JSON.stringify(e.contracts[name].address)},`)
      .join("\n");
    return `  ${JSON.stringify(e.name)}: {\n    chainId: ${Number(e.chainId)},\n    contracts: {\n${contracts}\n    },\n  },`;
  });
  return `${banner}
/**
 * The address of every deployment (hardhat-deploy's names: \`USDai\` is the proxy, \`USDai_Implementation\` its
 * implementation) on each network packed into this build. A network is here once the protocol is deployed there and
 * its export is committed; the full files, ABIs included, are \`deployments/<network>.json\`.
 */
export interface Deployment {
  readonly chainId: number;
  readonly contracts: Readonly<Record<string, \`0x\${string}\`>>;
}

export const deployments = {
${entries.join("\n")}
} as const satisfies Record<string, Deployment>;

export type NetworkName = keyof typeof deployments;

/** The deployment of \`chainId\`, or undefined when this build has none for it. */
export function deploymentOf(chainId: number | bigint): Deployment | undefined {
  return (Object.values(deployments) as Deployment[]).find((d) => BigInt(d.chainId) === BigInt(chainId));
}
`;
}

/**
 * TypeChain's `node16Modules` flag adds `.js` to file imports but leaves its barrels' directory imports bare
 * (`import type * as token from "./token"`), which ES module resolution refuses: those become `./token/index.js`.
 */
function fixDirectoryImports(dir: string): void {
  for (const file of walk(dir).filter((f) => f.endsWith(".ts"))) {
    const text = fs.readFileSync(file, "utf8");
    const fixed = text.replace(
      /(from\s+")(\.{1,2}\/[^"]*)(")/g,
      (whole, open: string, spec: string, close: string) => {
        if (spec.endsWith(".js")) return whole;
        const target = path.resolve(path.dirname(file), spec);
        if (fs.existsSync(path.join(target, "index.ts"))) return `${open}${spec}/index.js${close}`;
        if (fs.existsSync(`${target}.ts`)) return `${open}${spec}.js${close}`;
        throw new Error(`${path.relative(ROOT, file)}: cannot resolve the import "${spec}"`);
      },
    );
    if (fixed !== text) fs.writeFileSync(file, fixed);
  }
}

/** Compiles the generated sources with one of package/tsconfig.*.json. */
function tsc(project: string): void {
  execFileSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", project], {
    stdio: "inherit",
    cwd: ROOT,
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  // The output directory is emptied first: never the repository or a directory above it.
  if (!path.relative(OUT, ROOT).startsWith(".."))
    throw new Error(`PACKAGE_OUT_DIR ${OUT} would contain the repository`);
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.rmSync(SRC, { recursive: true, force: true });

  const files = stageArtifacts(publicArtifacts());
  const artifacts = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Artifact);
  const names = new Set<string>();
  for (const a of artifacts) {
    if (names.has(a.contractName)) throw new Error(`two public artifacts are named ${a.contractName}`);
    names.add(a.contractName);
  }

  // TypeChain ethers-v6 bindings of the public contracts only; `.js` suffixes so the ES build resolves under Node.
  await runTypeChain({
    cwd: ROOT,
    filesToProcess: files,
    allFiles: files,
    outDir: path.join(SRC, "typechain"),
    target: "ethers-v6",
    flags: { ...DEFAULT_FLAGS, node16Modules: true },
  });

  fixDirectoryImports(path.join(SRC, "typechain"));

  writeFile(path.join(SRC, "abi", "index.ts"), abiModule(artifacts));
  const exported = networks().map(
    (n) => JSON.parse(fs.readFileSync(path.join(EXPORTS, `${n}.json`), "utf8")) as NetworkExport,
  );
  writeFile(path.join(SRC, "deployments", "index.ts"), deploymentsModule(exported));
  writeFile(
    path.join(SRC, "index.ts"),
    `${banner}export * from "./abi/index.js";\nexport * from "./deployments/index.js";\n`,
  );

  tsc(path.join(TEMPLATE, "tsconfig.cjs.json"));
  tsc(path.join(TEMPLATE, "tsconfig.esm.json"));
  writeFile(
    path.join(OUT, "esm", "package.json"),
    `${JSON.stringify({ type: "module", sideEffects: false }, null, 2)}\n`,
  );

  for (const a of artifacts)
    writeFile(path.join(OUT, "abi", `${a.contractName}.json`), `${JSON.stringify(a.abi, null, 2)}\n`);
  for (const e of exported)
    writeFile(path.join(OUT, "deployments", `${e.name}.json`), `${JSON.stringify(e, null, 2)}\n`);

  // Solidity sources for `import "@gpu-credit/protocol/contracts/interfaces/ILoanVault.sol"`, without the mocks.
  const contracts = path.join(ROOT, "contracts");
  for (const file of walk(contracts)) {
    const rel = path.relative(contracts, file);
    if (rel.split(path.sep)[0] === "mocks" || !rel.endsWith(".sol")) continue;
    writeFile(path.join(OUT, "contracts", rel), fs.readFileSync(file, "utf8"));
  }

  const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const template = JSON.parse(fs.readFileSync(path.join(TEMPLATE, "package.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const manifest = { ...template, version: root.version, license: root.license, engines: root.engines };
  writeFile(path.join(OUT, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.copyFileSync(path.join(TEMPLATE, "README.md"), path.join(OUT, "README.md"));
  fs.copyFileSync(path.join(ROOT, "LICENSE"), path.join(OUT, "LICENSE"));

  console.log(
    `Built ${path.relative(process.cwd(), OUT)} in ${((Date.now() - started) / 1000).toFixed(1)}s: ` +
      `${artifacts.length} contracts (${artifacts.map((a) => a.contractName).join(", ")}); ` +
      `networks: ${exported.map((e) => `${e.name} (chain ${e.chainId})`).join(", ") || "none"}`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

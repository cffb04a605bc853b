#!/usr/bin/env bash
# npm run package:test: the npm package as an integrator gets it. Starts a throwaway `hardhat node` (it deploys the
# protocol), exports its addresses, builds the package (scripts/package/build.ts), packs it with `npm pack`, installs
# the tarball into two fresh TypeScript projects copied from examples/consumer/ (CommonJS with moduleResolution
# "node"; ES modules with "nodenext", also type-checked under "bundler"), type-checks and compiles each, and runs it:
# each reads the localhost deployment from the package and calls views through viem and the TypeChain factories.
set -euo pipefail
cd "$(dirname "$0")/../.."

TMP="$(mktemp -d -t gpu-credit-consumer.XXXXXX)"
LOCAL_NODE_ON_EXIT='rm -rf "$TMP"'
# shellcheck source=../lib/local-node.sh
source scripts/lib/local-node.sh
started=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }

step "compile"
./node_modules/.bin/hardhat compile --quiet

start_local_node

step "export the localhost deployment (exports/localhost.json)"
./node_modules/.bin/hardhat deployments:export --network localhost

step "build and pack the package"
PACKAGE_NETWORKS=localhost ./node_modules/.bin/ts-node --transpile-only scripts/package/build.ts
TARBALL="$TMP/$(npm pack ./dist/package --pack-destination "$TMP" --silent | tail -n 1)"
echo "packed $(basename "$TARBALL"): $(tar -tzf "$TARBALL" | wc -l) files, $(du -k "$TARBALL" | cut -f1) KiB"
if tar -tzf "$TARBALL" | grep -Ei 'mock|harness|naive|\.ts$' | grep -v '\.d\.ts$'; then
  echo "the tarball ships mocks, harnesses or TypeScript sources (above)" >&2
  exit 1
fi

for kind in cjs esm; do
  step "$kind consumer: install the tarball, type-check, compile, run"
  cp -r "examples/consumer/$kind" "$TMP/$kind"
  (
    cd "$TMP/$kind"
    # Dependencies come from the npm cache that the repository's `npm ci` filled (same versions).
    npm install --prefer-offline --no-audit --no-fund --loglevel=error "$TARBALL"
    npm run --silent build
    npm run --silent start
  )
done

echo
echo "==> consumer projects passed in $(( $(date +%s) - started ))s"

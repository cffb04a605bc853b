#!/usr/bin/env bash
# npm run walkthrough: runs the README's CLI walkthrough (the block between `<!-- walkthrough:start -->` and
# `<!-- walkthrough:end -->`) top to bottom, exactly as written, against a throwaway `hardhat node` on a free
# loopback port. Comment lines are printed as chapter headings; every command must succeed. CI runs it, so the
# README's examples keep working as pasted.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=../scripts/lib/local-node.sh
source scripts/lib/local-node.sh

mapfile -t LINES < <(awk '/<!-- walkthrough:start -->/{on=1; next} /<!-- walkthrough:end -->/{on=0} on' README.md |
  grep -v '^```')
commands=$(printf '%s\n' "${LINES[@]}" | grep -c '^npx hardhat ' || true)
if [[ "$commands" -eq 0 ]]; then
  echo "README.md has no walkthrough block (<!-- walkthrough:start --> ... <!-- walkthrough:end -->)" >&2
  exit 1
fi

start_local_node
started=$(date +%s)
n=0
for line in "${LINES[@]}"; do
  [[ -z "${line// /}" ]] && continue
  if [[ "$line" == \#* ]]; then
    printf '\n### %s\n' "${line#\# }"
    continue
  fi
  if [[ "$line" != "npx hardhat "* || "$line" != *"--network localhost"* ]]; then
    echo "walkthrough line is not an \`npx hardhat ... --network localhost\` command: $line" >&2
    exit 1
  fi
  n=$((n + 1))
  printf '\n$ %s    [%d/%d]\n' "$line" "$n" "$commands"
  t0=$(date +%s)
  # The README's words, run as written (npx resolves the repository's own hardhat).
  if ! bash -c "$line"; then
    echo "walkthrough step $n failed: $line" >&2
    exit 1
  fi
  printf '  (%ss)\n' "$(($(date +%s) - t0))"
done

echo
echo "==> walkthrough: $n README commands passed in $(($(date +%s) - started))s"

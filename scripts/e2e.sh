#!/usr/bin/env bash
# End-to-end test (npm run e2e): start `hardhat node` on a free loopback port (it deploys the protocol), run
# test/e2e/node.e2e.ts against it, and stop the node on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${E2E_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
LOG="$(mktemp -t hardhat-node-e2e.XXXXXX.log)"
NODE_PGID=""

stop_node() {
  local status=$?
  if [[ -n "$NODE_PGID" ]] && kill -0 "$NODE_PGID" 2>/dev/null; then
    kill -TERM -- "-$NODE_PGID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$NODE_PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$NODE_PGID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 ]]; then
    echo "e2e failed (exit $status); last lines of the node log ($LOG):" >&2
    tail -n 40 "$LOG" >&2 || true
  else
    rm -f "$LOG"
  fi
  exit $status
}
trap stop_node EXIT
trap 'exit 130' INT TERM

# Stale files from an earlier node would satisfy the readiness check; the node rewrites them on start.
rm -rf deployments/localhost

echo "==> starting hardhat node on 127.0.0.1:$PORT (log: $LOG)"
# setsid: the node gets its own process group, so the trap stops it and nothing else.
setsid ./node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
NODE_PGID=$!

started=$(date +%s)
E2E_RPC_URL="http://127.0.0.1:$PORT" TS_NODE_TRANSPILE_ONLY=1 \
  ./node_modules/.bin/mocha -r ts-node/register --bail --timeout 120000 test/e2e/node.e2e.ts
echo "==> e2e passed in $(( $(date +%s) - started ))s"

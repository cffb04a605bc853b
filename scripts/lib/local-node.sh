#!/usr/bin/env bash
# Sourced by the scripts that need a throwaway `hardhat node` (scripts/package/consumer-test.sh,
# examples/walkthrough.sh). `start_local_node` starts one on a free loopback port in its own process group, exports
# RPC_URL and LOCALHOST_RPC_URL, waits until its deploy scripts have finished, and installs an EXIT trap that stops it
# (and prints the end of its log when the script fails). The caller's EXIT cleanup goes in `LOCAL_NODE_ON_EXIT`.

LOCAL_NODE_PGID=""
LOCAL_NODE_LOG=""
LOCAL_NODE_ON_EXIT="${LOCAL_NODE_ON_EXIT:-}"

_stop_local_node() {
  local status=$?
  if [[ -n "$LOCAL_NODE_PGID" ]] && kill -0 "$LOCAL_NODE_PGID" 2>/dev/null; then
    kill -TERM -- "-$LOCAL_NODE_PGID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$LOCAL_NODE_PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$LOCAL_NODE_PGID" 2>/dev/null || true
  fi
  if [[ -n "$LOCAL_NODE_ON_EXIT" ]]; then eval "$LOCAL_NODE_ON_EXIT" || true; fi
  if [[ $status -ne 0 && -n "$LOCAL_NODE_LOG" ]]; then
    echo "failed (exit $status); last lines of the node log ($LOCAL_NODE_LOG):" >&2
    tail -n 30 "$LOCAL_NODE_LOG" >&2 || true
  elif [[ -n "$LOCAL_NODE_LOG" ]]; then
    rm -f "$LOCAL_NODE_LOG"
  fi
  exit $status
}

start_local_node() {
  local port
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  LOCAL_NODE_LOG="$(mktemp -t hardhat-node.XXXXXX.log)"
  trap _stop_local_node EXIT
  trap 'exit 130' INT TERM
  # Stale files from an earlier node would pass the readiness check; the node rewrites them when it deploys.
  rm -rf deployments/localhost
  echo "==> starting hardhat node on 127.0.0.1:$port (log: $LOCAL_NODE_LOG)"
  setsid ./node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$port" >"$LOCAL_NODE_LOG" 2>&1 &
  LOCAL_NODE_PGID=$!
  export RPC_URL="http://127.0.0.1:$port" LOCALHOST_RPC_URL="http://127.0.0.1:$port"
  # Ready when the last core's deployment file exists and its address has code.
  node - "$RPC_URL" "${LOCAL_NODE_READY_TIMEOUT_S:-180}" <<'JS'
const fs = require("node:fs");
const [rpc, timeout] = process.argv.slice(2);
const marker = "deployments/localhost/UtilizationOracle.json";
const deadline = Date.now() + Number(timeout) * 1000;
async function code(address) {
  const res = await fetch(rpc, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getCode", params: [address, "latest"] }),
  });
  return (await res.json()).result;
}
(async () => {
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      if (fs.existsSync(marker)) {
        const { address } = JSON.parse(fs.readFileSync(marker, "utf8"));
        if ((await code(address)) !== "0x") return;
        last = "deployment file written, no code yet";
      } else {
        await code("0x0000000000000000000000000000000000000000");
        last = "node up, deploy scripts still running";
      }
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`the node at ${rpc} was not ready after ${timeout}s (${last})`);
  process.exit(1);
})();
JS
  echo "==> node ready at $RPC_URL"
}

#!/bin/bash
# CPU profiles of the built JavaScript (not tsx): `node --cpu-prof` on both
# processes of a one-path loopback bulk upload and of the handshake test
# (connect mode, 64 in flight), then the top functions by self time.
#   npm run build && bench/profile-built.sh OUT_DIR [BULK_S] [CONNECT_S] [PORT]
# (dist/ is this checkout's build; OUT_DIR gets the .cpuprofile files.)
set -e
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/profile-built.sh OUT_DIR [BULK_S] [CONNECT_S] [PORT]}; BULK=${2:-4}; CONN=${3:-3}; PORT=${4:-47311}
rm -rf "$OUT"; mkdir -p "$OUT"
run() { # label port clientargs...
  local label=$1 port=$2; shift 2
  node --cpu-prof --cpu-prof-dir "$OUT/$label-server" dist/cli/main.js bench server --port "$port" --address 127.0.0.1 --transport mpudp --one-off --json > "$OUT/$label-server.log" 2>&1 &
  local spid=$!
  sleep 1.5
  node --cpu-prof --cpu-prof-dir "$OUT/$label-client" dist/cli/main.js bench client 127.0.0.1 --local 127.0.0.1 --port "$port" --interval 0 --json "$@" > "$OUT/$label-client.log" 2>&1
  sleep 1; if kill -0 "$spid" 2>/dev/null; then kill -INT "$spid"; sleep 1; fi
  wait "$spid" || true
}
run bulk "$PORT" --time "$BULK"
run hs $((PORT + 2)) --mode connect --time "$CONN"
grep -h '"type":"result"' "$OUT"/*-client.log | cut -c1-300
npx tsx bench/profile-summary.ts "$OUT" 12

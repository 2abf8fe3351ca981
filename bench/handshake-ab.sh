#!/bin/bash
# Handshake rate of two builds, as the scale bench measures it: connect →
# 'connect' → destroy with 64 in flight from 16 loopback sources (no
# Retries), T seconds each, the builds alternating (A first in odd rounds).
# Prints handshakes/s and CPU per handshake of the client and the server
# (the server's from /proc, including its start).
#   bench/handshake-ab.sh A_MAIN_JS B_MAIN_JS [ROUNDS=3] [SECONDS=3] [PORT=48000]
A=$1; B=$2; R=${3:-3}; T=${4:-3}; P=${5:-48000}
LOCALS=$(seq -s, -f '127.0.0.%g' 1 16)
one() { local js=$1 label=$2; P=$((P + 2))
  node "$js" bench server --port $P --address 127.0.0.1 --transport mpudp --json > /dev/null 2>&1 & local s=$!; sleep 1.2
  local out; out=$(node "$js" bench client 127.0.0.1 --local "$LOCALS" --rotate-local --port $P --mode connect --time "$T" --concurrency 64 --interval 0 --json 2>&1 | grep '"type":"result"')
  local ticks; ticks=$(awk '{print $14+$15}' /proc/$s/stat); kill -INT $s 2>/dev/null; wait $s 2>/dev/null
  node -e 'const r=JSON.parse(process.argv[1]);console.log(process.argv[2].padEnd(8), `${r.perSecond.toFixed(0)}/s, client CPU ${(1000*r.cpuSeconds/r.handshakes).toFixed(2)} ms, server CPU ${(10*Number(process.argv[3])/r.handshakes).toFixed(2)} ms per handshake (incl. its start), errors ${r.errors}`)' "$out" "$label" "$ticks"; }
for i in $(seq "$R"); do echo "# round $i load $(cut -d' ' -f1 /proc/loadavg)"; if [ $((i % 2)) -eq 1 ]; then one "$A" A; one "$B" B; else one "$B" B; one "$A" A; fi; done

#!/bin/bash
# A/B of two builds' 1 KiB request/response latency on loopback, alternated
# within one run beside Node TCP (the same rr code over net, Nagle off) and
# the raw node:dgram floor (a 1 KiB datagram ping-pong between two
# processes, plain and sealed with AES-128-GCM: src/cli/bench/udp-rr.ts).
# WARMUP round trips (default 3000) are not measured: the JIT is still
# compiling the hot path before that. Each round prints the load average; the summary gives the median of
# per-round ratios (B ÷ A, each ÷ TCP, each ÷ the floors).
# The floors and TCP run from B's build (FLOOR_JS to choose another): the
# dgram ping-pong is newer than most builds one compares against.
#   bench/ab-latency.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]
A=${1:?usage: bench/ab-latency.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]}; B=${2:?}; REPS=${3:-3}; T=${4:-3}; port=${5:-47600}
F=${FLOOR_JS:-$B}
OUT=$(mktemp)
one() { # main.js label round transport [clientargs...]
  local js=$1 label=$2 round=$3 tr=$4; shift 4; port=$((port + 2))
  node "$js" bench server --port $port --address 127.0.0.1 --transport "$tr" --one-off --json > /dev/null 2>&1 &
  local spid=$!; sleep 1.2
  local out; out=$(node "$js" bench client 127.0.0.1 --local 127.0.0.1 --port $port --transport "$tr" --mode rr --size 1024 --time "$T" --warmup "${WARMUP:-3000}" --interval 0 --json "$@" 2>&1 | grep '"type":"result"')
  sleep 0.3; if kill -0 $spid 2>/dev/null; then kill -INT $spid; fi; wait $spid 2>/dev/null
  node -e '
    const r = JSON.parse(process.argv[1] || "{}");
    console.log(process.argv[2].padEnd(10), `p50 ${(r.p50Ms * 1000).toFixed(1)} µs, p90 ${(r.p90Ms * 1000).toFixed(1)} µs, p99 ${(r.p99Ms * 1000).toFixed(1)} µs (${r.count})`);
    require("fs").appendFileSync(process.argv[4], JSON.stringify({ label: process.argv[2], round: +process.argv[3], p50: r.count > 0 ? r.p50Ms : null, p99: r.count > 0 ? r.p99Ms : null }) + "\n");' "$out" "$label" "$round" "$OUT"
}
for i in $(seq "$REPS"); do
  echo "# round $i $(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg)"
  one "$F" "dgram" "$i" udp
  one "$F" "sealed" "$i" udp --seal aes-128-gcm
  one "$F" "tcp" "$i" tcp
  if [ $((i % 2)) -eq 1 ]; then one "$A" "A" "$i" mpudp; one "$B" "B" "$i" mpudp
  else one "$B" "B" "$i" mpudp; one "$A" "A" "$i" mpudp; fi
done
echo "# end $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
  const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const med = (xs) => { const s = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
  const rounds = [...new Set(runs.map((r) => r.round))];
  const get = (label, round) => runs.find((r) => r.label === label && r.round === round);
  const ratio = (a, b, p) => med(rounds.map((i) => get(a, i)?.[p] / get(b, i)?.[p]));
  for (const p of ["p50", "p99"]) {
    const m = (l) => (med(runs.filter((r) => r.label === l).map((r) => r[p])) * 1000).toFixed(1);
    console.log(`${p}: medians dgram ${m("dgram")} µs, sealed ${m("sealed")} µs, tcp ${m("tcp")} µs, A ${m("A")} µs, B ${m("B")} µs`);
    console.log(`${p}: B÷A ${ratio("B", "A", p).toFixed(2)}; A÷tcp ${ratio("A", "tcp", p).toFixed(2)}, B÷tcp ${ratio("B", "tcp", p).toFixed(2)}; A÷dgram ${ratio("A", "dgram", p).toFixed(2)}, B÷dgram ${ratio("B", "dgram", p).toFixed(2)}; A÷sealed ${ratio("A", "sealed", p).toFixed(2)}, B÷sealed ${ratio("B", "sealed", p).toFixed(2)}; dgram÷tcp ${ratio("dgram", "tcp", p).toFixed(2)}, sealed÷tcp ${ratio("sealed", "tcp", p).toFixed(2)}`);
  }' "$OUT"
rm -f "$OUT"

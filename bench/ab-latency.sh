#!/bin/bash
# A/B of two builds' 1 KiB request/response latency on loopback, alternated
# within one run beside Node TCP (the same rr code over net, Nagle off).
#   bench/ab-latency.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]
A=${1:?usage: bench/ab-latency.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]}; B=${2:?}; REPS=${3:-3}; T=${4:-3}; port=${5:-47600}
one() { # main.js label transport
  local js=$1 label=$2 tr=$3; port=$((port + 2))
  node "$js" bench server --port $port --address 127.0.0.1 --transport "$tr" --one-off --json > /dev/null 2>&1 &
  local spid=$!; sleep 1.2
  local out; out=$(node "$js" bench client 127.0.0.1 --local 127.0.0.1 --port $port --transport "$tr" --mode rr --size 1024 --time "$T" --warmup 200 --interval 0 --json 2>&1 | grep '"type":"result"')
  sleep 0.3; if kill -0 $spid 2>/dev/null; then kill -INT $spid; fi; wait $spid 2>/dev/null
  node -e '
    const r = JSON.parse(process.argv[1] || "{}");
    console.log(process.argv[2].padEnd(10), `p50 ${(r.p50Ms * 1000).toFixed(1)} µs, p90 ${(r.p90Ms * 1000).toFixed(1)} µs, p99 ${(r.p99Ms * 1000).toFixed(1)} µs (${r.count})`);' "$out" "$label"
}
for i in $(seq "$REPS"); do
  echo "# round $i $(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg)"
  one "$A" "tcp" tcp
  if [ $((i % 2)) -eq 1 ]; then one "$A" "A rr" mpudp; one "$B" "B rr" mpudp
  else one "$B" "B rr" mpudp; one "$A" "A rr" mpudp; fi
done

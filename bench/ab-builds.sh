#!/bin/bash
# A/B of two builds on loopback, alternated within one run (a loaded machine
# hits both alike): one-path bulk and handshakes (connect mode, 64 in
# flight), each test a fresh `mpudp bench server --one-off` and client from
# the same build; a raw dgram blast of 1472-byte datagrams per round.
#   bench/ab-builds.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]
# e.g. bench/ab-builds.sh /tmp/base/dist/cli/main.js dist/cli/main.js 3 3
# DIR=--reverse runs the mpudp bulk tests as downloads (the client receives).
# SEALED=1 adds the sealed blast (AES-128-GCM) per round; NOCONNECT=1 skips
# the handshake tests.
A=${1:?usage: bench/ab-builds.sh A_MAIN_JS B_MAIN_JS [ROUNDS] [SECONDS] [PORT]}; B=${2:?}; REPS=${3:-3}; T=${4:-3}; port=${5:-47400}
one() { # main.js label transport clientargs...
  local js=$1 label=$2 tr=$3; shift 3; port=$((port + 2))
  node "$js" bench server --port $port --address 127.0.0.1 --transport "$tr" --one-off --json > /dev/null 2>&1 &
  local spid=$!; sleep 1.2
  local out; out=$(node "$js" bench client 127.0.0.1 --local 127.0.0.1 --port $port --transport "$tr" --interval 0 --json "$@" 2>&1 | grep '"type":"result"')
  sleep 0.5; if kill -0 $spid 2>/dev/null; then kill -INT $spid; fi; wait $spid 2>/dev/null
  node -e '
    const r = JSON.parse(process.argv[1] || "{}");
    const f = r.mode === "connect"
      ? `${r.perSecond?.toFixed(0)} handshakes/s, client CPU ${(1000 * r.cpuSeconds / r.handshakes).toFixed(2)} ms per handshake (${r.handshakes})`
      : `${(r.bps / 1e6).toFixed(1)} Mbit/s, ${((r.cpuSeconds + (r.receiverCpuSeconds ?? 0)) / (r.bytes / 1e9)).toFixed(1)} CPU s/GB, mtu ${r.paths?.[0]?.mtu ?? "-"}`;
    console.log(process.argv[2].padEnd(16), f);' "$out" "$label"
}
for i in $(seq "$REPS"); do
  echo "# round $i $(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg)"
  one "$A" "udp 1472" udp --time "$T" --datagram 1472
  [ -n "$SEALED" ] && one "$A" "sealed 1472" udp --time "$T" --datagram 1472 --seal aes-128-gcm
  # A first in odd rounds, B first in even ones.
  if [ $((i % 2)) -eq 1 ]; then one "$A" "A bulk" mpudp --time "$T" $DIR; one "$B" "B bulk" mpudp --time "$T" $DIR
  else one "$B" "B bulk" mpudp --time "$T" $DIR; one "$A" "A bulk" mpudp --time "$T" $DIR; fi
  [ -n "$NOCONNECT" ] && continue
  one "$A" "A connect" mpudp --mode connect --time "$T"
  one "$B" "B connect" mpudp --mode connect --time "$T"
done

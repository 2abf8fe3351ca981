#!/bin/bash
# A paced upload on loopback through a rate-limited ISP emulator relay
# (lab/emulator, 10 ms one way): goodput, the sender's CPU and its io loop's
# counters (datagrams sent, flushes, timer runs), for one build.
#   bench/paced-cpu.sh MAIN_JS [RATE=50mbit] [SECONDS=4] [PORT=47700]
# e.g. bench/paced-cpu.sh /tmp/base/cli/main.js; bench/paced-cpu.sh dist/cli/main.js
# CLIENT_FLAGS adds node flags to the sender (e.g. --cpu-prof --cpu-prof-dir=/tmp/p).
JS=${1:?usage: bench/paced-cpu.sh MAIN_JS [RATE] [SECONDS] [PORT]}; RATE=${2:-50mbit}; T=${3:-4}; P=${4:-47700}
cd "$(dirname "$0")/.."
node "$JS" bench server --port "$P" --address 127.0.0.1 --transport mpudp --one-off --no-advertise --json > /dev/null 2>&1 &
S=$!
npx tsx lab/emulator/cli.ts --listen 127.0.0.21:$((P + 10)) --target 127.0.0.1:"$P" --delay 10 --rate "$RATE" < /dev/null > /dev/null 2>&1 &
E=$!
sleep 2
# shellcheck disable=SC2086
node $CLIENT_FLAGS "$JS" bench client 127.0.0.21 --local 127.0.0.1 --port $((P + 10)) --time "$T" --interval 0 --json 2>&1 | grep '"type":"result"' |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const r = JSON.parse(s); console.log(`${(r.bps / 1e6).toFixed(1)} Mbit/s, sender CPU ${r.cpuSeconds} s, io ${JSON.stringify(r.io)}`); });'
kill $E 2>/dev/null; sleep 0.5; kill -INT $S 2>/dev/null; wait 2>/dev/null

#!/usr/bin/env bash
# mpudp failover demo with Docker Compose: a server and a client on two
# networks (isp-a, isp-b, both `internal: true`). A transfer starts; a few
# seconds in, the client is taken off isp-a (`docker network disconnect`: its
# interface and address vanish), a few seconds later it is put back with the
# same address. The client prints each path's throughput as it goes and the
# summary at the end; this script checks it and exits non-zero unless every
# byte arrived (SHA-256 match), traffic failed over to isp-b, and isp-a
# carried data again after it came back (MPUDP_DEMO_REQUIRE_HEAL=0 drops
# that last check).
#
# Run from anywhere, as a user who may use Docker:
#   docker/demo.sh
# Settings (environment):
#   MPUDP_BASE          base image (default: mpudp-base:local if it exists, made by
#                       docker/build-base.sh; else node:20-slim)
#   MPUDP_SIZE_MIB      MiB to send (default 1024)
#   MPUDP_RATE_MBPS     pace the client's writes (Mbit/s; default 0 = as fast as it goes)
#   MPUDP_CUT_AFTER     seconds after the transfer starts to cut isp-a (default 3;
#                       sooner if 30% of the bytes are through)
#   MPUDP_OUTAGE        seconds isp-a stays cut (default 4; shorter if 70% of the
#                       bytes are through, so that the healed path still has work)
#   MPUDP_DEMO_TIMEOUT  seconds the whole transfer may take (default 300)
#   MPUDP_DEMO_REQUIRE_HEAL  1 (default): fail unless isp-a carried data again
#   MPUDP_DEMO_KEEP     1: leave the containers and networks up (for inspection)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PROJECT="${MPUDP_DEMO_PROJECT:-mpudpdemo}"
IMAGE=mpudp-demo:local
CUT_AFTER="${MPUDP_CUT_AFTER:-3}"
OUTAGE="${MPUDP_OUTAGE:-4}"
TIMEOUT="${MPUDP_DEMO_TIMEOUT:-300}"
REQUIRE_HEAL="${MPUDP_DEMO_REQUIRE_HEAL:-1}"
export MPUDP_SIZE_MIB="${MPUDP_SIZE_MIB:-1024}"
export MPUDP_RATE_MBPS="${MPUDP_RATE_MBPS:-0}"
# The client's address on isp-a (docker-compose.yml), given back on reconnect.
CLIENT_ISP_A_IP=198.18.1.20

# shellcheck source=compose-lib.sh
source "$HERE/compose-lib.sh"
compose_init docker-compose.yml

WORK="$(mktemp -d /tmp/mpudp-demo.XXXXXX)"
LOG="$WORK/compose.log"
LOGS_PID=""
before_teardown() {
  if [[ -n "$LOGS_PID" ]]; then kill "$LOGS_PID" 2>/dev/null || true; wait "$LOGS_PID" 2>/dev/null || true; fi
}
teardown_on_exit 2

# 1. The image: only what the Dockerfile copies goes into the build context
#    (no node_modules, no .git). `npm ci` needs the registry: host network.
build_image

# 2. Networks and containers; a stale run of this project goes first.
"${COMPOSE[@]}" down -v --remove-orphans -t 2 >/dev/null 2>&1 || true
"${COMPOSE[@]}" up -d --no-build >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "compose up failed"; }
CLIENT="$("${COMPOSE[@]}" ps -q client)"
SERVER="$("${COMPOSE[@]}" ps -q server)"
[[ -n "$CLIENT" && -n "$SERVER" ]] || die "containers did not start"
NET_A="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{println $k}}{{end}}' "$CLIENT" | grep -E 'isp-a$' | head -n1)"
[[ -n "$NET_A" ]] || die "the client is not on isp-a"
for net in $(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{println $k}}{{end}}' "$CLIENT"); do
  [[ "$(docker network inspect -f '{{.Internal}}' "$net")" == true ]] || die "network $net is not internal"
done
"${COMPOSE[@]}" logs -f --no-color >"$LOG" 2>&1 &
LOGS_PID=$!
tail -n +1 -f "$LOG" --pid "$LOGS_PID" &

# 3. Wait for the transfer, cut isp-a, put it back.
deadline=$((SECONDS + 60))
started_marker() { docker logs "$CLIENT" 2>&1 | grep -F 'transfer started' >/dev/null; }
until started_marker; do
  if [[ "$(docker inspect -f '{{.State.Running}}' "$CLIENT")" != true ]]; then
    started_marker && break
    die "the client exited before the transfer started"
  fi
  ((SECONDS < deadline)) || die "the transfer did not start within 60 s"
  sleep 0.2
done
running() { [[ "$(docker inspect -f '{{.State.Running}}' "$CLIENT" 2>/dev/null)" == true ]]; }
# Percent of the bytes acknowledged, from the client's last progress line.
progress() {
  docker logs --tail 40 "$CLIENT" 2>&1 | sed -n 's/.*acked *\([0-9][0-9]*\)\/\([0-9][0-9]*\) MiB.*/\1 \2/p' |
    tail -n 1 | awk '{ if ($2 > 0) printf "%d", 100 * $1 / $2 }'
}
# Waits $1 seconds, less if the transfer passes $2 percent (a fast machine
# must still see the failure and the healing mid-transfer); fails if the
# client is gone.
wait_for() {
  local until pct
  until=$(($(date +%s%N) / 1000000 + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
  while (($(date +%s%N) / 1000000 < until)); do
    running || return 1
    pct="$(progress)"
    if [[ -n "$pct" ]] && ((pct >= $2)); then say "transfer at ${pct}%: not waiting longer"; return 0; fi
    sleep 0.25
  done
}
wait_for "$CUT_AFTER" 30 || die "the transfer ended before the cut: raise MPUDP_SIZE_MIB or lower MPUDP_CUT_AFTER"
say "$(date +%T.%3N) cutting the client off isp-a ($NET_A)"
docker network disconnect "$NET_A" "$CLIENT"
wait_for "$OUTAGE" 70 || say "the transfer ended during the outage: raise MPUDP_SIZE_MIB to see the healing"
say "$(date +%T.%3N) putting the client back on isp-a ($CLIENT_ISP_A_IP)"
docker network connect --ip "$CLIENT_ISP_A_IP" "$NET_A" "$CLIENT" 2>/dev/null || say "could not reconnect (the client has exited?)"

# 4. The end of the transfer.
status="$(timeout "$TIMEOUT" docker wait "$CLIENT" || echo timeout)"
sleep 0.5
kill "$LOGS_PID" 2>/dev/null || true
wait "$LOGS_PID" 2>/dev/null || true
LOGS_PID=""
[[ "$status" != timeout ]] || die "the transfer did not end within $TIMEOUT s"

# 5. The summary: the client's last JSON line.
docker logs "$CLIENT" 2>&1 | grep '"type":"mpudp-docker-summary"' | tail -n 1 >"$WORK/summary.json" || true
[[ -s "$WORK/summary.json" ]] || die "the client printed no summary (exit status $status)"
echo
say "summary (client exit status $status)"
docker logs "$CLIENT" 2>&1 | sed -n '/^bytes  /,/^{"type"/p' | grep -v '^{"type"'
node - "$WORK/summary.json" "$REQUIRE_HEAL" <<'EOF'
const fs = require('node:fs');
const [file, requireHeal] = process.argv.slice(2);
const s = JSON.parse(fs.readFileSync(file, 'utf8'));
const problems = [];
if (!s.complete) problems.push(`bytes missing: sent ${s.bytesSent}, received ${s.bytesReceived}`);
if (!s.match) problems.push('SHA-256 of sent and received bytes differ');
if (s.failure === null) problems.push('the client never saw its isp-a address vanish');
else if (!s.failover) problems.push('no failover: the isp-a path was never declared down, or nothing was delivered during the outage');
if (requireHeal === '1' && !s.healed) problems.push('isp-a never carried data again after it came back');
if (problems.length > 0) {
  for (const p of problems) console.log(`== CHECK FAILED: ${p}`);
  process.exit(1);
}
console.log('== CHECKS PASSED: every byte arrived, the SHA-256 matches, the transfer failed over' + (s.healed ? ' and isp-a carried data again' : ''));
EOF
[[ "$status" == 0 ]] || die "the client exited with status $status"

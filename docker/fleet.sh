#!/usr/bin/env bash
# mpudp fleet demo with Docker Compose (docker/fleet-compose.yml): three
# servers behind one DNS name (`fleet`, a network alias they share on both
# networks), MPUDP_FLEET_CLIENTS client containers of MPUDP_CONNECTIONS
# connections each (default 5 x 10 = 50), every connection a verified upload.
# Once every connection is up, the server holding the most connections is
# killed (`docker kill`, SIGKILL). The script exits non-zero unless:
#   - the name resolved to the three servers, and at least two took connections
#     (which server answers first contact first is the scheduler's choice on a
#     shared machine; the spread is printed);
#   - every connection stayed on the server it reached, over that server's
#     own addresses only;
#   - every connection on a surviving server arrived intact (SHA-256 match)
#     with no error;
#   - every connection on the killed server that had not finished ended with
#     a stable error code within its idle timeout (+ MPUDP_FLEET_SLACK_MS) of
#     the kill.
#
# Run from anywhere, as a user who may use Docker:
#   docker/fleet.sh
# Settings (environment):
#   MPUDP_BASE            base image (default: mpudp-base:local if it exists, else node:20-slim)
#   MPUDP_FLEET_CLIENTS   client containers (default 5)
#   MPUDP_CONNECTIONS     connections per client container (default 10)
#   MPUDP_SIZE_KIB        KiB each connection uploads (default 2048)
#   MPUDP_RATE_MBPS       pace of each upload (Mbit/s; default 2)
#   MPUDP_IDLE_TIMEOUT    the clients' idle timeout (ms; default 5000)
#   MPUDP_FLEET_SLACK_MS  how late after kill + idle timeout an error may come (default 3000)
#   MPUDP_FLEET_TIMEOUT   seconds the whole run may take once the clients start (default 180)
#   MPUDP_DEMO_KEEP       1: leave the containers and networks up (for inspection)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PROJECT="${MPUDP_FLEET_PROJECT:-mpudpfleet}"
IMAGE=mpudp-demo:local
CLIENTS="${MPUDP_FLEET_CLIENTS:-5}"
export MPUDP_CONNECTIONS="${MPUDP_CONNECTIONS:-10}"
export MPUDP_SIZE_KIB="${MPUDP_SIZE_KIB:-2048}"
export MPUDP_RATE_MBPS="${MPUDP_RATE_MBPS:-2}"
export MPUDP_IDLE_TIMEOUT="${MPUDP_IDLE_TIMEOUT:-5000}"
SLACK_MS="${MPUDP_FLEET_SLACK_MS:-3000}"
TIMEOUT="${MPUDP_FLEET_TIMEOUT:-180}"
SERVERS=(fleet-1 fleet-2 fleet-3)

now_ms() { date +%s%3N; }

# shellcheck source=compose-lib.sh
source "$HERE/compose-lib.sh"
compose_init fleet-compose.yml

WORK="$(mktemp -d /tmp/mpudp-fleet.XXXXXX)"
teardown_on_exit 1

# 1. The image (the Docker demo's; Docker's layer cache makes a rebuild of
#    unchanged sources quick).
build_image

# 2. The servers first, so that every client's first contact finds all three.
"${COMPOSE[@]}" down -v --remove-orphans -t 1 >/dev/null 2>&1 || true
"${COMPOSE[@]}" up -d --no-build "${SERVERS[@]}" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "compose up (servers) failed"; }
declare -A CID
for s in "${SERVERS[@]}"; do
  CID[$s]="$("${COMPOSE[@]}" ps -q "$s")"
  [[ -n "${CID[$s]}" ]] || die "$s did not start"
done
for net in $(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{println $k}}{{end}}' "${CID[fleet-1]}"); do
  [[ "$(docker network inspect -f '{{.Internal}}' "$net")" == true ]] || die "network $net is not internal"
done
deadline=$((SECONDS + 60))
for s in "${SERVERS[@]}"; do
  until docker logs "${CID[$s]}" 2>&1 | grep -q 'mpudp listening'; do
    [[ "$(docker inspect -f '{{.State.Running}}' "${CID[$s]}")" == true ]] || { docker logs "${CID[$s]}" >&2; die "$s exited"; }
    ((SECONDS < deadline)) || die "$s did not listen within 60 s"
    sleep 0.2
  done
  say "$s: $(docker logs "${CID[$s]}" 2>&1 | grep 'mpudp listening' | head -n1)"
done

# 3. The clients.
say "starting $CLIENTS client containers x $MPUDP_CONNECTIONS connections (${MPUDP_SIZE_KIB} KiB each at ${MPUDP_RATE_MBPS} Mbit/s)"
clients_started=$SECONDS
"${COMPOSE[@]}" up -d --no-build --no-deps --scale "client=$CLIENTS" client >"$WORK/up-clients.log" 2>&1 ||
  { cat "$WORK/up-clients.log" >&2; die "compose up (clients) failed"; }
mapfile -t CLIENT_IDS < <("${COMPOSE[@]}" ps -q client)
((${#CLIENT_IDS[@]} == CLIENTS)) || die "${#CLIENT_IDS[@]} of $CLIENTS client containers started"

# 4. Once every connection is up, kill the server that holds the most.
deadline=$((SECONDS + 90))
for c in "${CLIENT_IDS[@]}"; do
  until docker logs "$c" 2>&1 | grep -q "all $MPUDP_CONNECTIONS connected"; do
    [[ "$(docker inspect -f '{{.State.Running}}' "$c")" == true ]] || { docker logs "$c" >&2; die "a client exited before all its connections were up"; }
    ((SECONDS < deadline)) || { docker logs "$c" >&2; die "a client's connections were not all up within 90 s"; }
    sleep 0.2
  done
done
say "all $((CLIENTS * MPUDP_CONNECTIONS)) connections up $((SECONDS - clients_started)) s after the clients started"
for c in "${CLIENT_IDS[@]}"; do docker logs "$c" 2>&1; done | sed -n 's/.*conn [0-9]* on \(198\.18\.[0-9]*\.1[1-3]\)$/\1/p' >"$WORK/placed"
declare -A PLACED
for s in "${SERVERS[@]}"; do PLACED[$s]=0; done
while read -r address; do
  s="fleet-$((${address##*.} - 10))"
  PLACED[$s]=$((PLACED[$s] + 1))
done <"$WORK/placed"
VICTIM=""
for s in "${SERVERS[@]}"; do
  say "$s holds ${PLACED[$s]} connections"
  if [[ -z "$VICTIM" ]] || ((PLACED[$s] > PLACED[$VICTIM])); then VICTIM=$s; fi
done
sleep 1
KILLED_AT=$(now_ms)
docker kill "${CID[$VICTIM]}" >/dev/null
say "$(date +%T.%3N) killed $VICTIM (${PLACED[$VICTIM]} connections)"

# 5. Every client to its end, then the summaries.
for c in "${CLIENT_IDS[@]}"; do
  left=$((TIMEOUT - (SECONDS - clients_started)))
  ((left > 0)) || die "the clients did not finish within $TIMEOUT s"
  status="$(timeout "$left" docker wait "$c" || echo timeout)"
  [[ "$status" == 0 ]] || { docker logs "$c" 2>&1 | tail -n 30 >&2; die "a client ended with status $status"; }
  docker logs "$c" 2>&1 | grep '"type":"mpudp-fleet-summary"' | tail -n 1 >>"$WORK/summaries.jsonl" || true
done
say "the clients finished $((SECONDS - clients_started)) s after they started"
for s in "${SERVERS[@]}"; do
  [[ "$s" == "$VICTIM" ]] && continue
  docker logs "${CID[$s]}" 2>&1 | grep -c 'received' | xargs printf '== %s reported %s verified uploads\n' "$s"
done

node - "$WORK/summaries.jsonl" "$VICTIM" "$KILLED_AT" "$SLACK_MS" "$CLIENTS" "$MPUDP_CONNECTIONS" <<'JS'
const fs = require('node:fs');
const [file, victim, killedAtText, slackText, clientsText, perClientText] = process.argv.slice(2);
const killedAt = Number(killedAtText);
const slack = Number(slackText);
const summaries = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const problems = [];
const serverOf = (address) => (/^198\.18\.1[12]\.1[1-3]$/.test(address ?? '') ? `fleet-${Number(address.split('.')[3]) - 10}` : null);
if (summaries.length !== Number(clientsText)) problems.push(`${summaries.length} of ${clientsText} clients printed a summary`);
const conns = summaries.flatMap((s) => s.connections.map((c) => ({ ...c, client: s.client, idleTimeout: s.idleTimeout })));
if (conns.length !== Number(clientsText) * Number(perClientText)) problems.push(`${conns.length} connections reported`);
for (const s of summaries) {
  const resolved = new Set(s.resolved.map(serverOf));
  if (resolved.size !== 3 || resolved.has(null)) problems.push(`${s.client}: fleet resolved to ${s.resolved.join(', ')}, not one address per server`);
}
const by = new Map();
const errorDelays = [];
const codes = new Map();
for (const c of conns) {
  const server = serverOf(c.server);
  const name = `${c.client} conn ${c.index}`;
  if (server === null) { problems.push(`${name}: never connected (${c.errorCode}: ${c.errorMessage})`); continue; }
  by.set(server, (by.get(server) ?? 0) + 1);
  const foreign = c.remotes.filter((r) => serverOf(r) !== server);
  if (foreign.length > 0) problems.push(`${name}: lives on ${server} but had paths to ${foreign.join(', ')}`);
  if (server !== victim) {
    if (!c.match) problems.push(`${name} on ${server} (not killed): not intact (${c.bytesReceived}/${c.bytesSent} bytes, error ${c.errorCode}: ${c.errorMessage})`);
    if (c.errorCode !== null) problems.push(`${name} on ${server} (not killed): error ${c.errorCode}`);
    continue;
  }
  if (c.match && c.endedAt <= killedAt) continue; // finished before the kill
  if (c.match) { problems.push(`${name} on the killed ${server}: reported intact after the kill`); continue; }
  if (c.errorCode === null || !/^(E[A-Z]+|ERR_MPUDP_[A-Z_]+)$/.test(c.errorCode)) { problems.push(`${name} on the killed ${server}: no stable error code (${c.errorCode}: ${c.errorMessage})`); continue; }
  const why = `${c.errorCode} (${c.errorMessage})`;
  codes.set(why, (codes.get(why) ?? 0) + 1);
  const delay = Math.round(c.errorAt - killedAt);
  errorDelays.push(delay);
  if (delay > c.idleTimeout + slack) problems.push(`${name} on the killed ${server}: error ${delay} ms after the kill (idle timeout ${c.idleTimeout} ms)`);
}
// Which server answers first is up to the scheduler of a shared machine:
// the spread is reported; two servers with connections are what the kill needs.
const idle = ['fleet-1', 'fleet-2', 'fleet-3'].filter((s) => !by.has(s));
if (idle.length > 1) problems.push(`only ${[...by.keys()].join(', ')} took connections`);
else if (idle.length === 1) console.log(`== note: ${idle[0]} answered no first contact first`);
if (errorDelays.length === 0) problems.push(`no connection of the killed ${victim} was cut by the kill`);
const survivors = conns.filter((c) => serverOf(c.server) !== victim && serverOf(c.server) !== null);
console.log(`== connections by server: ${[...by].sort().map(([s, n]) => `${s} ${n}`).join(', ')}`);
console.log(`== on the surviving servers: ${survivors.filter((c) => c.match && c.errorCode === null).length}/${survivors.length} intact with no error`);
errorDelays.sort((a, b) => a - b);
if (errorDelays.length > 0) {
  console.log(`== on the killed ${victim}: ${errorDelays.length} ended with ${[...codes].map(([k, n]) => `${k} x${n}`).join(', ')}, ${errorDelays[0]}..${errorDelays.at(-1)} ms after the kill (idle timeout ${conns[0].idleTimeout} ms)`);
}
if (problems.length > 0) {
  for (const p of problems.slice(0, 40)) console.log(`== CHECK FAILED: ${p}`);
  process.exit(1);
}
console.log(`== FLEET CHECKS PASSED: spread over ${by.size} servers, every surviving connection intact, the killed server's connections ended with a stable code within their idle timeout`);
JS

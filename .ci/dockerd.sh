#!/usr/bin/env bash
# Starts or stops a Docker engine for CI (root only), so that `npm test`
# itself never starts a daemon:
#
#   .ci/dockerd.sh start   start dockerd unless one answers; wait until it does
#   .ci/dockerd.sh stop    stop the dockerd `start` started (nothing else), and
#                          put back the host's IP forwarding and FORWARD policy
#
# The engine runs without the default bridge and leaves IP forwarding alone
# (nothing here may reach out; the demo's networks are internal and need
# neither). Its pid, log and the host settings it found are kept in
# $MPUDP_DOCKERD_DIR (default /tmp/mpudp-dockerd).
set -euo pipefail
STATE="${MPUDP_DOCKERD_DIR:-/tmp/mpudp-dockerd}"
say() { printf '== dockerd: %s\n' "$*"; }

start() {
  if docker info >/dev/null 2>&1; then
    say "an engine is already running; using it"
    return 0
  fi
  command -v dockerd >/dev/null 2>&1 || { say "dockerd is missing (Debian package docker.io)"; return 1; }
  mkdir -p "$STATE"
  cat /proc/sys/net/ipv4/ip_forward >"$STATE/ip_forward" 2>/dev/null || true
  (iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }' >"$STATE/forward_policy") || true
  dockerd --bridge=none --ip-forward=false --ip-masq=false \
    --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 &
  echo $! >"$STATE/started.pid"
  local pid t0=$SECONDS
  pid=$(cat "$STATE/started.pid")
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && { say "up after $((SECONDS - t0)) s (pid $pid)"; return 0; }
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$STATE/dockerd.log"; say "dockerd exited"; return 1; }
    sleep 0.5
  done
  tail -n 30 "$STATE/dockerd.log"
  say "dockerd did not come up"
  return 1
}

stop() {
  [[ -f "$STATE/started.pid" ]] || return 0
  local pid
  pid=$(cat "$STATE/started.pid")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping the dockerd CI started (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  # Put back what an engine may have changed on the host.
  local forward policy
  forward=$(cat "$STATE/ip_forward" 2>/dev/null || true)
  policy=$(cat "$STATE/forward_policy" 2>/dev/null || true)
  if [[ -n "$forward" && "$(cat /proc/sys/net/ipv4/ip_forward)" != "$forward" ]]; then echo "$forward" >/proc/sys/net/ipv4/ip_forward || true; fi
  if [[ -n "$policy" ]]; then iptables -P FORWARD "$policy" 2>/dev/null || true; fi
  rm -rf "$STATE"
}

case "${1-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: .ci/dockerd.sh start|stop" >&2; exit 2 ;;
esac

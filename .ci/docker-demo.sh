#!/usr/bin/env bash
# CI: the Docker Compose failover demo (docker/demo.sh), as root on a machine
# where no image can be pulled. Installs Debian's Docker engine, Compose and
# debootstrap if missing, starts dockerd if none is running, builds the local
# base image (docker/build-base.sh; cached in Docker), runs the demo, which
# checks its own summary (every byte arrived, SHA-256 match, failover, isp-a
# healed) and exits non-zero otherwise. Stops what it started and restores the
# host's forwarding settings, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
say() { printf '== docker-demo: %s\n' "$*"; }

# 1. Packages.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]} > 0)); then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  say "installed in $((SECONDS - started)) s"
fi

# 2. The engine. Ours runs without the default bridge (nothing here may reach
#    out) and leaves the host's IP forwarding alone; the demo's networks are
#    internal and need neither.
DOCKERD_PID=""
DOCKERD_DIR=""
forward_before="$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo)"
policy_before="$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }' || true)"
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$DOCKERD_PID" ]]; then
    say "stopping the dockerd it started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then kill -9 "$DOCKERD_PID" 2>/dev/null || true; fi
    ((status == 0)) || tail -n 20 "$DOCKERD_DIR/dockerd.log" 2>/dev/null || true
    rm -rf "$DOCKERD_DIR"
  fi
  # Put back what an engine may have changed on the host.
  if [[ -n "$forward_before" && "$(cat /proc/sys/net/ipv4/ip_forward)" != "$forward_before" ]]; then
    echo "$forward_before" >/proc/sys/net/ipv4/ip_forward || true
  fi
  if [[ -n "$policy_before" ]]; then iptables -P FORWARD "$policy_before" 2>/dev/null || true; fi
  say "finished with status $status after $((SECONDS - started)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! docker info >/dev/null 2>&1; then
  DOCKERD_DIR="$(mktemp -d /tmp/mpudp-dockerd.XXXXXX)"
  say "starting dockerd"
  dockerd --bridge=none --ip-forward=false --ip-masq=false \
    --pidfile "$DOCKERD_DIR/dockerd.pid" >"$DOCKERD_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$DOCKERD_DIR/dockerd.log"; exit 1; }
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { tail -n 30 "$DOCKERD_DIR/dockerd.log"; say "dockerd did not come up"; exit 1; }
  say "dockerd up after $((SECONDS - started)) s"
fi

# 3. The base image (cached), then the demo.
t=$SECONDS
bash docker/build-base.sh mpudp-base:local
say "base image ready in $((SECONDS - t)) s"
t=$SECONDS
MPUDP_BASE=mpudp-base:local bash docker/demo.sh
say "demo passed in $((SECONDS - t)) s"

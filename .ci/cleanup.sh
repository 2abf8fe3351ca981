#!/usr/bin/env bash
# Leaves nothing running after CI: namespaces any lab run left behind (their
# names start with "mpudp"), and the Compose demo's containers and networks.
set -uo pipefail
if command -v ip >/dev/null 2>&1; then
  for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep '^mpudp' || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker-compose -f "$(dirname "$0")/../docker/docker-compose.yml" -p "${MPUDP_DEMO_PROJECT:-mpudpdemo}" down -v >/dev/null 2>&1 || true
fi
exit 0

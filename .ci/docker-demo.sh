#!/usr/bin/env bash
# The Docker Compose failover demo (docker/demo.sh) on a bare Debian machine,
# as root, where no image can be pulled: installs Debian's Docker engine,
# Compose and debootstrap if missing (.ci/install-system.sh), starts dockerd
# if none is running and stops it after (.ci/dockerd.sh), builds the local
# base image (docker/build-base.sh; cached), and runs the demo, which checks
# its own summary and exits non-zero otherwise. For a person at a terminal;
# CI runs the same demo from `npm test` (test/lab/docker-demo.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
say() { printf '== docker-demo: %s\n' "$*"; }

bash .ci/install-system.sh
trap 'status=$?; bash .ci/dockerd.sh stop || true; say "finished with status $status after $((SECONDS - started)) s"; exit $status' EXIT
bash .ci/dockerd.sh start
bash docker/build-base.sh mpudp-base:local
MPUDP_BASE=mpudp-base:local bash docker/demo.sh

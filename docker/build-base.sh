#!/usr/bin/env bash
# Builds the local base image of the Docker demo, `mpudp-base:local` (or $1):
# a minimal Debian bookworm made by debootstrap, plus this machine's own
# `node` and npm. Used where no image can be pulled (CI, sandboxes); with a
# registry at hand, the Dockerfile's default `node:20-slim` does as well.
#
# Cached: does nothing if the image exists (MPUDP_REBUILD_BASE=1 forces it).
# Needs root, debootstrap and a running Docker engine. Debian's own mirror
# is the only thing it downloads from.
set -euo pipefail

IMAGE="${1:-mpudp-base:local}"
SUITE="${MPUDP_BASE_SUITE:-bookworm}"
MIRROR="${MPUDP_BASE_MIRROR:-}"

log() { printf '[build-base] %s\n' "$*" >&2; }
begin=$SECONDS

if [[ "${MPUDP_REBUILD_BASE:-0}" != 1 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE exists; nothing to do"
  exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install -y debootstrap)"; exit 1; }
NODE_BIN="$(readlink -f "$(command -v node)")"
[[ -x "$NODE_BIN" ]] || { log "no node binary on PATH"; exit 1; }
# npm ships as a package beside node: <prefix>/lib/node_modules/npm.
NPM_DIR=""
for candidate in "$(dirname "$NODE_BIN")/../lib/node_modules/npm" /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm; do
  if [[ -f "$candidate/bin/npm-cli.js" ]]; then NPM_DIR="$(readlink -f "$candidate")"; break; fi
done
[[ -n "$NPM_DIR" ]] || { log "npm's package directory was not found"; exit 1; }

ROOTFS="$(mktemp -d /tmp/mpudp-base.XXXXXX)"
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

log "debootstrap --variant=minbase $SUITE into $ROOTFS"
start=$SECONDS
# shellcheck disable=SC2086
debootstrap --variant=minbase "$SUITE" "$ROOTFS" $MIRROR >"$ROOTFS.log" 2>&1 || {
  tail -n 30 "$ROOTFS.log" >&2
  rm -f "$ROOTFS.log"
  exit 1
}
rm -f "$ROOTFS.log"
log "debootstrap took $((SECONDS - start)) s"

log "adding node $("$NODE_BIN" --version) ($NODE_BIN) and npm $("$NODE_BIN" "$NPM_DIR/bin/npm-cli.js" --version)"
install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
# minbase has no CA bundle: npm's TLS trusts what this host trusts.
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  mkdir -p "$ROOTFS/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$ROOTFS/usr/local/etc"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\nfund=false\naudit=false\n' >"$ROOTFS/usr/local/etc/npmrc"
fi
# Smaller image: no apt lists, docs or caches.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*

log "importing as $IMAGE"
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
docker run --rm --network none "$IMAGE" node -e 'console.log("[build-base] node " + process.version + " runs in the image")' >&2
log "done in $((SECONDS - begin)) s"

#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing, with one
# `apt-get update`: iproute2 and nftables for the namespace lab; Docker's
# engine, Compose and debootstrap for the Compose demo; mptcpize for the
# kernel MP-TCP baseline of the bench.
set -euo pipefail
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v tc >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v mptcpize >/dev/null 2>&1 || need+=(mptcpize)
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "== installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# mpudp asks for 4 MiB socket buffers; a fresh kernel caps them at ~208 KiB,
# which drops datagrams in bursts on loopback. Raise the caps (never lower).
for key in net.core.rmem_max net.core.wmem_max; do
  cur=$(sysctl -n "$key" 2>/dev/null || echo 0)
  if [ "$cur" -lt 4194304 ]; then sysctl -qw "$key=4194304" || true; fi
done

#!/usr/bin/env bash
# Installs what the two-ISP lab (test/lab) needs, from Debian, only when
# missing: ip, tc and bridge (iproute2), nft (nftables), ethtool (the lab's
# delay stage turns off its tunnels' checksum offload). Runs apt-get update at most
# once. Needs root (CI runs as root); prints what it installs.
set -euo pipefail

declare -A PKG_OF=([ip]=iproute2 [tc]=iproute2 [bridge]=iproute2 [nft]=nftables [ethtool]=ethtool)
missing=()
for tool in ip tc bridge nft ethtool; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    pkg=${PKG_OF[$tool]}
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-lab: ip, tc, bridge, nft and ethtool are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-lab: missing packages ${missing[*]}, and not root: cannot install them" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-lab: missing packages ${missing[*]}, and no apt-get to install them" >&2
  exit 1
fi
echo "install-lab: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
for tool in ip tc nft; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-lab: $tool still missing after install" >&2; exit 1; }
done
echo "install-lab: done"

#!/usr/bin/env bash
# The two-ISP lab with network namespaces, for Linux hosts without Docker.
#
#   client ns ($LAB_PREFIX-cli)                 server ns ($LAB_PREFIX-srv)
#     isp-a 10.77.1.2/24  ==== ISP A (veth, tbf $LAB_RATE_A) ====  isp-a 10.77.1.1/24
#     isp-b 10.77.2.2/24  ==== ISP B (veth, tbf $LAB_RATE_B) ====  isp-b 10.77.2.1/24
#
# Each ISP is a veth pair with a tbf rate limit on both ends. Strict reverse
# path filtering in both namespaces makes a datagram sent from one ISP's
# address out of the other ISP's link get dropped, as an ISP's ingress
# filter (BCP 38) would: only a-to-a and b-to-b pairs work. Faults are
# injected in the client namespace: a cut is the client's link going down;
# a blackhole and random loss are nftables rules on that interface, both
# directions.
#
# usage: lab.sh COMMAND
#   check             print what is missing (root, ip, tc, nft); exit 1 if anything is
#   up                create what is missing and reset faults (idempotent)
#   down              delete both namespaces (fine when nothing exists)
#   cut A|B           link down (client side)
#   heal A|B          link up and blackhole removed (loss stays: loss X 0 removes it)
#   blackhole A|B     drop everything on that ISP, both directions, silently
#   loss A|B P        drop with probability P (0..1) on that ISP, both directions
#   status            namespaces, links, addresses, qdiscs, rules
#   exec cli|srv CMD  run CMD in a namespace
#   delay up          a delay stage: each ISP becomes a VXLAN tunnel (dly-a 10.78.1.0/24,
#                     dly-b 10.78.2.0/24) over its veth, sent to a relay port on the far end
#                     (UDP 7101 for A, 7102 for B) instead of straight to the tunnel; userspace
#                     relays there (bench/scenarios/lab-relay.ts, the ISP emulator) add the
#                     delay and hand the packets to the tunnel's port 4789. Every packet of
#                     that ISP, TCP included, crosses the relay. The rate limit moves to the
#                     tunnels (tbf on dly-a, dly-b); faults on isp-a/isp-b still apply.
#   delay down        back to plain veths (shaped as by `up`)
#   delay shape A|B RATE LATENCY   tbf on a tunnel, both ends (LATENCY bounds its queue)
#   delay addr A|B N  add client address 10.78.N.M (M = 3, 4, ...: N more on that tunnel)
#   delay ingress A|B RATE LATENCY   the tunnel's bottleneck for downloads moves off the
#                     sender: tbf on an ifb device that takes the client's ingress of the
#                     tunnel (after the relay), and the server's end of the tunnel loses its
#                     tbf. A queue in the sender's own qdisc holds TCP to its small-queue
#                     budget (TSQ) but not a UDP sender; a queue past the relay holds neither.
#
# Environment: LAB_PREFIX (default mpudp; names the namespaces, so parallel
# runs with different prefixes do not collide), LAB_RATE_A (100mbit),
# LAB_RATE_B (50mbit), LAB_BURST (64kb), LAB_LATENCY (tbf queue as latency, 25ms),
# LAB_EXACT_PATH (set: look for the tools on PATH only, not in the sbin
# directories a user's PATH often lacks).
set -euo pipefail
[ -n "${LAB_EXACT_PATH-}" ] || PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/sbin:/sbin"

PREFIX=${LAB_PREFIX:-mpudp}
RATE_A=${LAB_RATE_A:-100mbit}
RATE_B=${LAB_RATE_B:-50mbit}
BURST=${LAB_BURST:-64kb}
LATENCY=${LAB_LATENCY:-25ms}
CLI="$PREFIX-cli"
SRV="$PREFIX-srv"
TABLE=mpudp_lab

die() { echo "lab.sh: $*" >&2; exit 1; }

if ! [[ "$PREFIX" =~ ^[A-Za-z0-9_.-]{1,40}$ ]]; then
  die "LAB_PREFIX must be 1-40 characters of A-Z a-z 0-9 _ . - (got '$PREFIX')"
fi

# Prints what is missing, one per line; returns 1 if anything is.
missing() {
  local out=()
  [ "$EUID" -eq 0 ] || out+=("root (running as uid $EUID; the lab needs root for ip netns, tc and nft)")
  command -v ip >/dev/null 2>&1 || out+=("ip (Debian package iproute2)")
  command -v tc >/dev/null 2>&1 || out+=("tc (Debian package iproute2)")
  command -v nft >/dev/null 2>&1 || out+=("nft (Debian package nftables)")
  if [ "${#out[@]}" -gt 0 ]; then
    printf 'missing: %s\n' "${out[@]}"
    return 1
  fi
}

require() {
  local m
  if ! m=$(missing); then
    echo "lab.sh: cannot run the lab:" >&2
    echo "$m" >&2
    echo "(.ci/install-lab.sh installs the tools)" >&2
    exit 1
  fi
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
link_exists() { ip -n "$1" link show "$2" >/dev/null 2>&1; }

# isp_vars A|B → sets IFACE, NET (10.77.N), RATE.
isp_vars() {
  case "${1-}" in
    A|a) IFACE=isp-a; NET=10.77.1; RATE=$RATE_A ;;
    B|b) IFACE=isp-b; NET=10.77.2; RATE=$RATE_B ;;
    *) die "ISP must be A or B, got '${1-}'" ;;
  esac
  LETTER=${IFACE#isp-}
}

shape() { # ns iface rate
  tc -n "$1" qdisc replace dev "$2" root tbf rate "$3" burst "$BURST" latency "$LATENCY"
}

isp_up() { # A|B
  isp_vars "$1"
  # A half-made pair (one end missing) is rebuilt.
  if link_exists "$CLI" "$IFACE" && ! link_exists "$SRV" "$IFACE"; then ip -n "$CLI" link del "$IFACE"; fi
  if link_exists "$SRV" "$IFACE" && ! link_exists "$CLI" "$IFACE"; then ip -n "$SRV" link del "$IFACE"; fi
  if ! link_exists "$CLI" "$IFACE"; then
    ip link add name "$IFACE" netns "$CLI" type veth peer name "$IFACE" netns "$SRV"
  fi
  ip -n "$CLI" addr replace "$NET.2/24" dev "$IFACE"
  ip -n "$SRV" addr replace "$NET.1/24" dev "$IFACE"
  ip -n "$CLI" link set "$IFACE" up
  ip -n "$SRV" link set "$IFACE" up
  shape "$CLI" "$IFACE" "$RATE"
  shape "$SRV" "$IFACE" "$RATE"
}

nft_setup() {
  # Rebuilt from scratch: no fault survives `up`.
  ip netns exec "$CLI" nft -f - <<EOF
table inet $TABLE
delete table inet $TABLE
table inet $TABLE {
  chain a_blackhole {}
  chain a_loss {}
  chain b_blackhole {}
  chain b_loss {}
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "isp-a" jump a_blackhole
    iifname "isp-a" jump a_loss
    iifname "isp-b" jump b_blackhole
    iifname "isp-b" jump b_loss
  }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "isp-a" jump a_blackhole
    oifname "isp-a" jump a_loss
    oifname "isp-b" jump b_blackhole
    oifname "isp-b" jump b_loss
  }
}
EOF
}

need_lab() {
  ns_exists "$CLI" && ns_exists "$SRV" || die "the lab is not up (run: LAB_PREFIX=$PREFIX $0 up)"
}

cmd_up() {
  require
  for ns in "$CLI" "$SRV"; do
    ns_exists "$ns" || ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Strict reverse path filter: a source address of the other ISP is dropped.
    # ARP requests then must carry the interface's own address as sender (a
    # request sent for a datagram from the other ISP's address would fail the
    # peer's reverse path check and leave the neighbour unresolved): arp_announce=2.
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
      net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.default.arp_announce=2
  done
  isp_up A
  isp_up B
  nft_setup
  wait_oper_up isp-a
  wait_oper_up isp-b
  echo "lab $PREFIX up: ISP A $RATE_A (10.77.1.2 -> 10.77.1.1), ISP B $RATE_B (10.77.2.2 -> 10.77.2.1)"
}

cmd_down() {
  local ns
  for ns in "$CLI" "$SRV"; do
    if ns_exists "$ns"; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
      ip netns del "$ns"
    fi
  done
  echo "lab $PREFIX down"
}

# The kernel brings a link's carrier and qdisc up asynchronously (linkwatch,
# up to about a second): wait for both ends to be operationally up.
wait_oper_up() { # iface
  local i
  for i in $(seq 1 50); do
    if ip -n "$CLI" -o link show "$1" | grep -q 'state UP' && ip -n "$SRV" -o link show "$1" | grep -q 'state UP'; then
      return 0
    fi
    sleep 0.1
  done
  die "$1 did not come up within 5 s"
}

cmd_cut() {
  require; need_lab; isp_vars "${1-}"
  ip -n "$CLI" link set "$IFACE" down
  echo "ISP ${1^^} cut"
}

cmd_heal() {
  require; need_lab; isp_vars "${1-}"
  ip -n "$CLI" link set "$IFACE" up
  ip -n "$SRV" link set "$IFACE" up
  shape "$CLI" "$IFACE" "$RATE"
  shape "$SRV" "$IFACE" "$RATE"
  ip netns exec "$CLI" nft flush chain inet "$TABLE" "${LETTER}_blackhole"
  wait_oper_up "$IFACE"
  echo "ISP ${1^^} healed"
}

cmd_blackhole() {
  require; need_lab; isp_vars "${1-}"
  ip netns exec "$CLI" nft -f - <<EOF
flush chain inet $TABLE ${LETTER}_blackhole
add rule inet $TABLE ${LETTER}_blackhole counter drop
EOF
  echo "ISP ${1^^} blackholed"
}

cmd_loss() {
  require; need_lab; isp_vars "${1-}"
  local p=${2-}
  [[ "$p" =~ ^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$ ]] || die "loss needs a probability between 0 and 1, got '${p}'"
  local permille
  permille=$(awk -v p="$p" 'BEGIN { printf "%d", p * 1000 + 0.5 }')
  if [ "$permille" -gt 0 ]; then
    ip netns exec "$CLI" nft -f - <<EOF
flush chain inet $TABLE ${LETTER}_loss
add rule inet $TABLE ${LETTER}_loss numgen random mod 1000 < $permille counter drop
EOF
  else
    ip netns exec "$CLI" nft flush chain inet "$TABLE" "${LETTER}_loss"
  fi
  echo "ISP ${1^^} loss $p ($permille/1000)"
}

cmd_status() {
  require
  local ns
  for ns in "$CLI" "$SRV"; do
    if ! ns_exists "$ns"; then echo "$ns: absent"; continue; fi
    echo "== $ns"
    ip -n "$ns" -br addr show | grep -v '^lo' || true
    tc -n "$ns" qdisc show | grep -E 'isp-' || true
  done
  if ns_exists "$CLI"; then
    echo "== rules ($CLI)"
    ip netns exec "$CLI" nft list table inet "$TABLE" 2>/dev/null | grep -E 'chain (a|b)_|drop' || echo "(no table)"
  fi
}

cmd_exec() {
  require; need_lab
  local which=${1-}; shift || true
  case "$which" in
    cli) exec ip netns exec "$CLI" "$@" ;;
    srv) exec ip netns exec "$SRV" "$@" ;;
    *) die "exec needs cli or srv" ;;
  esac
}

# ---- the delay stage (VXLAN tunnels through userspace relays) ----

DLY_PORT=4789
relay_port() { case "$1" in A|a) echo 7101 ;; B|b) echo 7102 ;; esac; }

delay_vars() { # A|B → IFACE (underlay), TUN, UNET (10.77.N), ONET (10.78.N), VNI, PORT, RATE
  isp_vars "$1"
  TUN="dly-$LETTER"
  UNET=$NET
  ONET=${NET/10.77/10.78}
  VNI=$((100 + ${NET##*.}))
  PORT=$(relay_port "$1")
}

tunnel_up() { # A|B
  delay_vars "$1"
  local ns local peer
  for ns in "$CLI" "$SRV"; do
    if [ "$ns" = "$CLI" ]; then local="$UNET.2"; peer="$UNET.1"; else local="$UNET.1"; peer="$UNET.2"; fi
    # The tunnel carries 1500-byte packets: the veth under it takes the VXLAN overhead (50 bytes).
    ip -n "$ns" link set "$IFACE" mtu 1550
    tc -n "$ns" qdisc del dev "$IFACE" root 2>/dev/null || true
    ip -n "$ns" link del "$TUN" 2>/dev/null || true
    ip -n "$ns" link add "$TUN" type vxlan id "$VNI" local "$local" dstport "$DLY_PORT" nolearning dev "$IFACE"
    ip -n "$ns" link set "$TUN" mtu 1500
    # Every frame goes to the relay on the far end (its port), not to the far tunnel itself.
    bridge -n "$ns" fdb append 00:00:00:00:00:00 dev "$TUN" dst "$peer" port "$PORT"
    ip -n "$ns" link set "$TUN" up
    if [ "$ns" = "$CLI" ]; then ip -n "$ns" addr replace "$ONET.2/24" dev "$TUN"; else ip -n "$ns" addr replace "$ONET.1/24" dev "$TUN"; fi
    tc -n "$ns" qdisc replace dev "$TUN" root tbf rate "$RATE" burst "$BURST" latency "$LATENCY"
    # The relay is userspace: a packet whose inner checksum was left to offload
    # would cross it unfinished and be dropped by the far stack (TcpInCsumErrors).
    ip netns exec "$ns" ethtool -K "$TUN" tx off >/dev/null
  done
}

tunnel_down() { # A|B
  delay_vars "$1"
  local ns
  for ns in "$CLI" "$SRV"; do
    ip -n "$ns" link del "$TUN" 2>/dev/null || true
    ip -n "$ns" link set "$IFACE" mtu 1500
  done
  ip -n "$CLI" link del "ifb-$LETTER" 2>/dev/null || true
  shape "$CLI" "$IFACE" "$RATE"
  shape "$SRV" "$IFACE" "$RATE"
}

cmd_delay() {
  require; need_lab
  command -v bridge >/dev/null 2>&1 || die "delay needs bridge (Debian package iproute2)"
  command -v ethtool >/dev/null 2>&1 || die "delay needs ethtool (Debian package ethtool) to turn off the tunnels' checksum offload"
  local sub=${1-}; shift || true
  case "$sub" in
    up) tunnel_up A; tunnel_up B; echo "delay stage up: dly-a 10.78.1.2 -> 10.78.1.1 (relays on UDP 7101), dly-b 10.78.2.2 -> 10.78.2.1 (UDP 7102)" ;;
    down) tunnel_down A; tunnel_down B; echo "delay stage down" ;;
    shape)
      delay_vars "${1-}"
      local rate=${2-} lat=${3-}
      [ -n "$rate" ] && [ -n "$lat" ] || die "delay shape needs A|B RATE LATENCY"
      tc -n "$CLI" qdisc replace dev "$TUN" root tbf rate "$rate" burst "$BURST" latency "$lat"
      tc -n "$SRV" qdisc replace dev "$TUN" root tbf rate "$rate" burst "$BURST" latency "$lat"
      echo "$TUN: tbf $rate latency $lat" ;;
    addr)
      delay_vars "${1-}"
      local n=${2-1} i
      [[ "$n" =~ ^[0-9]+$ ]] || die "delay addr needs A|B N"
      for ((i = 3; i < 3 + n; i++)); do ip -n "$CLI" addr replace "$ONET.$i/24" dev "$TUN"; done
      echo "$TUN: $n more client address(es) from $ONET.3" ;;
    ingress)
      delay_vars "${1-}"
      local rate=${2-} lat=${3-} ifb="ifb-$LETTER"
      [ -n "$rate" ] && [ -n "$lat" ] || die "delay ingress needs A|B RATE LATENCY"
      ip -n "$CLI" link del "$ifb" 2>/dev/null || true
      ip -n "$CLI" link add "$ifb" type ifb || die "delay ingress needs ifb devices (kernel module ifb)"
      ip -n "$CLI" link set "$ifb" up
      tc -n "$CLI" qdisc replace dev "$ifb" root tbf rate "$rate" burst "$BURST" latency "$lat"
      tc -n "$CLI" qdisc replace dev "$TUN" handle ffff: ingress
      tc -n "$CLI" filter replace dev "$TUN" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "$ifb"
      tc -n "$SRV" qdisc del dev "$TUN" root 2>/dev/null || true
      echo "$TUN: downloads shaped at the client's ingress ($ifb: tbf $rate latency $lat); server end unshaped" ;;
    *) die "delay needs up, down, shape, addr or ingress" ;;
  esac
}

cmd=${1-}
shift || true
case "$cmd" in
  check) if m=$(missing); then echo "lab.sh: ip, tc, nft present; running as root"; else echo "$m"; exit 1; fi ;;
  up) cmd_up ;;
  down) cmd_down ;;
  cut) cmd_cut "$@" ;;
  heal) cmd_heal "$@" ;;
  blackhole) cmd_blackhole "$@" ;;
  loss) cmd_loss "$@" ;;
  status) cmd_status ;;
  exec) cmd_exec "$@" ;;
  delay) cmd_delay "$@" ;;
  ''|-h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try: $0 help)" ;;
esac

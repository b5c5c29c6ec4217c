#!/bin/bash
# TAP test: attacks of a hostile tenant on recycled network namespaces,
# networking, function environments and per-container cgroups
# (docs/security.md), each fixed and kept fixed here.
#
# Recycled network namespaces: a tenant that closes every socket and sends
# no packet on lo can still leave state in its namespace: IPv6 flow labels
# (IPV6_FLOWLABEL_MGR, lingering 150 s after their socket, listed with
# their destination in /proc/net/ip6_flowlabel and usable by any socket)
# and SNMP MIB counters (OutNoRoutes of a send with no route). The next
# activations of its pool must never see either, and never get its
# namespace. Fails when the pristine check ignores them (the next tenant
# sees the labels and the counter).
#
# Function environments: a runtime (tests/attack/rtflood.c) that opens its
# 32 Runtime API connections and sends all but the end of a 6 MiB body on
# each made the daemon hold 32 bodies (~200 MB of the daemon's memory, not
# the tenant's, for as long as it liked). The daemon must hold at most one
# payload's size per environment. A runtime that writes without end
# (`yes`) filled the host's disk through its function's log file
# (~200 MB/s): the log must rotate at 10 MiB, one old file kept.
#
# Bridge networks: a container (CAP_NET_RAW, a packet socket; no route
# needed) sent an IPv6 datagram to the bridge's MAC and reached a host
# service bound to the IPv6 address of another host interface: the
# network's table filters IPv4 only. The bridge must take no IPv6.
# Needs root, busybox-static and python3 (the host's service).
. "$(dirname "$0")/lib.sh"
setup_env review-net

out=$T/out
err=$T/err
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
add_helper_image netleft "$PROBE" netleft || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"

VIEW='/netleft cookie >&2; grep -c . /proc/net/ip6_flowlabel; grep "^Ip: [0-9]" /proc/net/snmp'
wr activate --cold netleft -- sh -c "$VIEW" >"$T/fresh" 2>"$err"
ok $? "the view of a fresh namespace" || show_err

wr pool create netleft --size 1 --wait >"$out" 2>"$err"
ok $? "a pool of 1 that recycles namespaces" || show_err
for what in flowlabel noroute; do
    wr activate --no-cold netleft -- sh -c "/netleft $what 40 && sleep 1 && /netleft cookie >&2" \
        >"$out" 2>"$T/dirty"
    like "$(cat "$out")" "^left 40" "$what: the tenant left its traces" || diag_file "$T/dirty"
    dirty=$(tail -n1 "$T/dirty")
    views_after netleft "$VIEW" "$T/fresh" "$dirty"
    is "$CLEAN" 5 "  the next 5 activations see a fresh namespace$SEEN"
    is "$REUSED" 0 "  none of them got the tenant's namespace"
done
for i in 1 2 3 4 5 6; do wr activate --no-cold netleft -- /netleft cookie 2>>"$err"; done >"$T/c1"
distinct=$(sort -u "$T/c1" | wc -l)
[ "$distinct" -lt 6 ]
ok $? "clean tenants still recycle namespaces ($distinct for 6 activations)"

wr pool rm netleft >"$out" 2>"$err"

add_helper_image rtflood "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/rtflood" rtflood '["/rtflood"]' ||
    bail_out "cannot write the rtflood image"
before=$(daemon_rss_kb)
wr function create flood rtflood --handler 32 --min 1 --max 1 --timeout 30 >"$out" 2>"$err"
ok $? "a function whose runtime floods the Runtime API" || show_err
_flooding() { grep -q '^holding 32' "$STATE/functions/flood.log" 2>/dev/null; }
poll_until 20 _flooding
ok $? "  its runtime sent 32 bodies of 6 MiB, and holds them open" ||
    diag_file "$STATE/functions/flood.log"
after=$(daemon_rss_kb)
if [ "$ASAN" -eq 1 ]; then
    # Its quarantine keeps every freed buffer: RSS measures nothing here.
    skip 1 "RSS under AddressSanitizer"
else
    [ $((after - before)) -lt 65536 ]
    ok $? "  the daemon's RSS grew by $(((after - before) / 1024)) MiB (< 64 MiB)"
fi
wr function rm flood >"$out" 2>"$err"
ok $? "  function rm" || show_err

LOG=$STATE/functions/yes.log
_log_size() { cat "$LOG" "$LOG.1" 2>/dev/null | wc -c; }
# Rotated once, or (without rotation) past 64 MiB: stop before more.
_rotated() { [ -e "$LOG.1" ] || [ "$(_log_size)" -gt $((64 << 20)) ]; }
wr function create yes netleft --handler yes --min 1 --max 1 --timeout 30 >"$out" 2>"$err"
ok $? "a function whose runtime writes without end (yes)" || show_err
poll_until 20 _rotated
sleep 1
size=$(_log_size)
wr function rm yes >"$out" 2>"$err"
[ -e "$LOG.1" ] && [ "$size" -le $((20 << 20)) ]
ok $? "  its log was rotated and holds $((size >> 20)) MiB (at most 20)"
rm -f "$LOG" "$LOG.1"
NET=rvn$$
BR=wrvb$$
VA=wrv6a$$ # a veth pair of the host's: "another interface"
VB=wrv6b$$
SUBNET=10.$((150 + $$ % 50)).$((($$ / 50) % 250))
ULA=fd77:$(printf %x $(($$ % 65536)))::1
net_cleanup() {
    ip link del "$VA" 2>/dev/null
    ip link del "$BR" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
}
trap 'rc=$?; net_cleanup; (exit $rc); cleanup' EXIT
if [ ! -d /proc/sys/net/ipv6 ] || ! command -v python3 >/dev/null; then
    skip 3 "no IPv6 on this host, or no python3"
else
    add_helper_image spoof6 "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/spoof6" spoof6 ||
        bail_out "cannot write the spoof6 image"
    ip link add "$VA" type veth peer name "$VB" && ip link set "$VA" up && ip link set "$VB" up &&
        ip -6 addr add "$ULA/128" dev "$VA" nodad
    wr network create "$NET" --subnet "$SUBNET.0/24" --bridge "$BR" >"$out" 2>"$err"
    ok $? "a bridge network, and a host service on [$ULA] of another interface" || show_err
    is "$(cat "/proc/sys/net/ipv6/conf/$BR/disable_ipv6" 2>&1)" 1 "  the bridge takes no IPv6"
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
s.settimeout(5)
try:
    print("received", s.recv(100).decode(), flush=True)
except socket.timeout:
    print("nothing", flush=True)
' "$ULA" >"$T/service" 2>&1 &
    service=$!
    poll_until 5 test -s "$T/service"
    port=$(head -n1 "$T/service")
    wr activate --cold --network "bridge=$NET" spoof6 -- /spoof6 "$SUBNET.1" "$ULA" "$port"         INJECTED >"$out" 2>"$err"
    wait "$service"
    is "$(tail -n1 "$T/service")" nothing         "  a container's IPv6 to the bridge does not reach it ($(tr '\n' ' ' <"$out"))"
    wr network rm "$NET" >/dev/null 2>&1
fi

stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

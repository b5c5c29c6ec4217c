#!/bin/bash
# TAP test of what a hostile tenant of a bridge network tried against the
# anti-spoofing of docs/security.md (a container with CAP_NET_RAW,
# Docker's default, sending raw frames with tests/attack/spoof4.c):
#  - frames to the link-local group addresses 01:80:c2:00:00:{00,02,03,0e}
#    carrying IPv4 with a forged source: a bridge hands some of them to the
#    stack of the port itself (the host end of the container's veth), past
#    the bridge table's prerouting chain; they must not reach a listener on
#    the host (the gateway's address) while the container's own datagram
#    does;
#  - the network's bridge forwards those group addresses (group_fwd_mask),
#    and its bridge table has the input chain;
#  - the ports and allowed sets hold nothing of an ended container (the
#    shim's detached teardown inherited the fill's nfnetlink socket number
#    after closing it, and its first deletion failed), and reconciliation
#    removes one whose interface is gone;
#  - a network whose bridge table lacks the input chain (made by an earlier
#    version) gets it at `ensure`, and keeps its set's elements.
# Every global name (network, bridge, nft tables, subnet) derives from $$.
. "$(dirname "$0")/lib.sh"
setup_env revnet
command -v nft >/dev/null || skip_all "nft is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"

out=$T/out
err=$T/err
NET=wrr$$
BR=wrrb$$
OCT2=$((200 + ($$ + 29) % 50))
OCT3=$((($$ / 50 + 11) % 250))
SUBNET=10.$OCT2.$OCT3.0/24
GW=10.$OCT2.$OCT3.1
FORGED=10.$OCT2.$OCT3.77
net_cleanup() {
    ip link del "$BR" 2>/dev/null
    nft delete table bridge "warmrun_$NET" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
}
trap 'rc=$?; net_cleanup; (exit $rc); cleanup' EXIT

wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >"$out" 2>"$err" ||
    bail_out "network create: $(cat "$err")"
start_daemon || bail_out "daemon"
add_helper_image spoof4 "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/spoof4" spoof4 ||
    bail_out "cannot write the spoof4 image"

# A listener on the host, on the gateway's address.
listen() { udp_listen "$GW"; }
spoof() { wr activate --cold --network "bridge=$NET" spoof4 -- /spoof4 "$@" >"$out" 2>"$err"; }

listen
spoof own "$GW" "$LPORT" "own-$$"
spoof ll "$FORGED" "$GW" "$LPORT" "forged-ll-$$"
like "$(cat "$out")" "sent" "the link-local frames were sent ($(cat "$err"))"
wait "$LISTEN"
like "$(cat "$T/heard")" "10\.$OCT2\.$OCT3\.[0-9]+ own-$$" "the container's own datagram reaches the host"
unlike "$(cat "$T/heard")" "forged-ll-$$" \
    "a forged IPv4 source to a link-local group MAC does not reach the host"

# The ended containers' elements are gone from both sets (the shim's
# detached teardown removes them).
ports() { nft list set bridge "warmrun_$NET" ports 2>/dev/null | grep -c '"wr[0-9a-f]\{12\}"'; }
poll_until 10 sh -c "! nft list set bridge warmrun_$NET ports | grep -q '\"wr'"
is "$(ports)" 0 "no ended container's port is left in the set ports"
poll_until 10 sh -c "! nft list set bridge warmrun_$NET allowed | grep -q '\"wr'"
is "$(nft list set bridge "warmrun_$NET" allowed | grep -c '"wr')" 0 "... nor in the set allowed"

# One left by an earlier version (its port gone): reconciliation removes it.
nft add element bridge "warmrun_$NET" ports '{ "wr0123456789ab" }'
wr network ls >/dev/null 2>&1
is "$(ports)" 0 "reconciliation removes a port element whose interface is gone"

is "$(cat "/sys/class/net/$BR/bridge/group_fwd_mask" 2>&1)" "0xfff8" \
    "the bridge forwards the group addresses it may (through the prerouting chain)"
nft list chain bridge "warmrun_$NET" input >/dev/null 2>&1
ok $? "the network's bridge table has an input chain"

# A network from before: its bridge table without the input chain, and a
# running container's element in the set.
wr activate --cold --network "bridge=$NET" busybox -- sleep 30 >/dev/null 2>&1 &
SLEEPER=$!
poll_until 10 sh -c "nft list set bridge warmrun_$NET allowed | grep -q '\"wr'"
nft delete chain bridge "warmrun_$NET" input
"$WARMRUN_BIN_DIR/warmrun-daemon" network --state-dir "$STATE" ensure "bridge=$NET" >"$out" 2>"$err"
ok $? "ensure on a network without the input chain ($(cat "$err"))"
nft list chain bridge "warmrun_$NET" input >/dev/null 2>&1
ok $? "... gets it"
is "$(nft list set bridge "warmrun_$NET" allowed | grep -c '"wr')" 1 "... and the running container keeps its element"
pkill -KILL -f "warmrun-shim .*--state-dir $STATE .*--network bridge=$NET"
wait "$SLEEPER" 2>/dev/null
stop_daemon

done_testing

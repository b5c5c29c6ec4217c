#!/bin/bash
# TAP test of --network none|host|bridge[=NAME] and `warmrun network`:
#  - network create/ls/rm; bad input (malformed subnet, host bits, overlap
#    with another network or a host address, a taken interface name, an
#    unknown network) is one line and makes nothing;
#  - none: only lo; host: the host's interfaces; bridge: eth0 with a leased
#    address, the default route via the gateway, /etc/hosts naming it;
#  - a bridge container reaches a server in a network namespace the test
#    made on the same bridge, and the gateway; two containers talk; a host
#    service on another interface is not reachable (the input filter);
#  - -p publishes a container's port on the host (127.0.0.1 and the bridge
#    address), one host port for one container, nothing left after it;
#  - a container cannot change its address (no CAP_NET_ADMIN);
#  - after many activations, and after SIGKILL of the shims and of the
#    daemon, the links, the lease file and the ruleset are as they started.
# Every global name (network, bridge, nft table, netns, interfaces, subnet)
# is derived from $$: parallel runs never collide. Traffic goes only to
# addresses of interfaces this test made.
. "$(dirname "$0")/lib.sh"
setup_env network
command -v nft >/dev/null || skip_all "nft is not installed"
[ -x "$WARMRUN_BIN_DIR/warmrun-daemon" ] || bail_out "warmrun-daemon is not built"

out=$T/out
err=$T/err
NET=wrt$$
BR=wrtb$$
NS=wrtns$$
VH=wrth$$         # host end of the test server's veth
VD=wrtd$$         # a veth of the host's: a "host service on another interface"
OCT2=$((200 + $$ % 50))
OCT3=$((($$ / 50) % 250))
SUBNET=10.$OCT2.$OCT3.0/24
PFX=10.$OCT2.$OCT3
GW=$PFX.1
SERVER=$PFX.250
OTHER=10.$OCT2.$(((OCT3 + 1) % 250)).1 # the dummy's address, off the bridge

net_cleanup() {
    ip netns del "$NS" 2>/dev/null
    ip link del "$VD" 2>/dev/null
    ip link del "$BR" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
    nft delete table ip "warmrun_${NET}x" 2>/dev/null
    ip link del "${BR}y" 2>/dev/null
    nft delete table ip "warmrun_${NET}y" 2>/dev/null
}
trap 'rc=$?; net_cleanup; (exit $rc); cleanup' EXIT

# The bridge and the container veths on it: other runs' containers (wr<id>
# too) on their own bridges are not ours to count.
our_links() {
    { ip -o link show dev "$BR" 2>/dev/null; ip -o link show master "$BR" 2>/dev/null; } |
        awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^(wr[0-9a-f]{12}|$BR)$" | sort
}
our_table() { nft list table ip "warmrun_$NET" 2>/dev/null; nft list table bridge "warmrun_$NET" 2>/dev/null; }
leases() { grep -v '^last ' "$STATE/networks/$NET.leases" 2>/dev/null; }
# A container's teardown (veth, mappings, lease) finishes in a detached
# process after its shim has gone: wait for the leases to drop to N.
leases_settle() { poll_until 10 sh -c "[ \$(grep -vc '^last ' '$STATE/networks/$NET.leases') -le $1 ]"; }

# ---- network create / ls, bad input -------------------------------------
wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >"$out" 2>"$err"
ok $? "network create $NET --subnet $SUBNET" || diag_file "$err"
wr network ls >"$out" 2>&1
like "$(grep "^$NET " "$out")" "^$NET +$BR +$SUBNET +$GW +0\$" "network ls shows it, no container"
wr network ls --json >"$out" 2>&1
like "$(cat "$out")" "\"name\":\"$NET\",\"bridge\":\"$BR\",\"subnet\":\"$SUBNET\",\"gateway\":\"$GW\",\"containers\":0" \
    "network ls --json"
like "$(ip -o -4 addr show dev "$BR" 2>/dev/null)" "inet $GW/24" "the bridge has the gateway address"
like "$(our_table)" "ip saddr $SUBNET oifname != \"$BR\" masquerade" "one masquerade rule for the network"
like "$(our_table)" "iifname \"$BR\" ip daddr != $GW drop" "input filter: only the gateway of the host"
is "$(cat "/proc/sys/net/ipv4/conf/$BR/forwarding")" 1 "forwarding is on for the bridge"
TABLE_START=$(our_table)

bad() { # bad DESCRIPTION PATTERN ARGS...: fails with one line, makes nothing
    local what=$1 pat=$2
    shift 2
    local before links_before
    before=$(ls "$STATE/networks" 2>/dev/null)
    # Only the bridge it names could be made (other runs make and remove
    # links of their own meanwhile: the host's count is not ours).
    links_before=$(ip -o link show "${BR}x" 2>/dev/null | wc -l)
    wr network create "$@" >"$out" 2>"$err"
    local rc=$?
    ok $((rc == 1 ? 0 : 1)) "$what: exit 1" || diag "rc $rc"
    like "$(cat "$err")" "^warmrun: .*$pat" "$what: the error says why"
    is "$(wc -l <"$err")" 1 "$what: one line"
    is "$(ls "$STATE/networks" 2>/dev/null)|$(ip -o link show "${BR}x" 2>/dev/null | wc -l)" "$before|$links_before" \
        "$what: no record, no interface made"
}
bad "a malformed subnet" "not A.B.C.D/N" "${NET}x" --subnet 10.1.2/24 --bridge "${BR}x"
bad "host bits set" "host bits set: did you mean $PFX.0/24" "${NET}x" --subnet "$PFX.7/24" --bridge "${BR}x"
bad "an overlapping subnet" "overlaps network $NET" "${NET}x" --subnet "10.$OCT2.$OCT3.128/25" --bridge "${BR}x"
bad "a host address's subnet" "overlaps 127.0.0.0/8 of host interface lo" "${NET}x" --subnet 127.0.0.0/16 --bridge "${BR}x"
bad "a taken interface name" "an interface named lo exists" "${NET}x" --subnet 10.$OCT2.$(((OCT3 + 2) % 250)).0/24 --bridge lo
bad "a taken network name" "network $NET already exists" "$NET" --subnet 10.$OCT2.$(((OCT3 + 2) % 250)).0/24 --bridge "${BR}x"
bad "a bad network name" "network name" "No-Caps" --subnet 10.$OCT2.$(((OCT3 + 2) % 250)).0/24 --bridge "${BR}x"
wr activate --network bridge=nosuch$$ busybox -- true >"$out" 2>"$err"
rc=$?
is "$rc" 125 "activate on an unknown network: 125"
like "$(cat "$err")" "no network nosuch$$" "... says which"
wr activate --network bridge=BAD busybox -- true >"$out" 2>"$err"
is "$?" 2 "--network bridge=BAD: usage error"

# ---- none, host ---------------------------------------------------------
wr activate busybox -- cat /proc/net/dev >"$out" 2>"$err"
is "$(tail -n +3 "$out" | awk -F: '{gsub(/ /, "", $1); print $1}' | tr '\n' ' ')" "lo " \
    "--network none (the default): only lo"
wr activate --network none busybox -- cat /proc/net/dev >"$out" 2>"$err"
is "$(tail -n +3 "$out" | awk -F: '{gsub(/ /, "", $1); print $1}' | tr '\n' ' ')" "lo " "--network none: only lo"
wr activate --network host busybox -- cat /proc/net/dev >"$out" 2>"$err"
like "$(cat "$out")" "$BR:" "--network host: the host's interfaces (the test's bridge)"
wr activate --network host --userns auto busybox -- true >"$out" 2>"$err"
like "$?|$(cat "$err")" "^125\|.*cannot be combined with a user namespace" "--network host with --userns: refused"

# ---- bridge: address, route, /etc files ---------------------------------
wr activate --network bridge="$NET" --hostname web1 busybox -- \
    sh -c 'ip -4 -o addr show dev eth0; ip route; cat /etc/hosts; cat /etc/resolv.conf' >"$out" 2>"$err"
ok $? "a cold bridge container runs" || diag_file "$err"
like "$(cat "$out")" "eth0 +inet $PFX\.[0-9]+/24" "eth0 has an address of the subnet"
like "$(cat "$out")" "default via $GW dev eth0" "the default route is via the gateway"
ADDR=$(grep -o "inet $PFX\.[0-9]*" "$out" | cut -d' ' -f2)
like "$(cat "$out")" "$ADDR[[:space:]]+web1" "/etc/hosts names the container on its own address"
like "$(cat "$out")" "# warmrun: network bridge" "/etc/resolv.conf of a bridge container"
unlike "$(grep nameserver "$out")" "nameserver 127\." "no loopback resolver in it"
leases_settle 0
is "$(leases)" "" "its lease is released when it ends"
is "$(our_links)" "$BR" "its veth is gone when it ends"

wr activate --network bridge="$NET" busybox -- sh -c 'ip addr add '"$PFX"'.99/24 dev eth0' >"$out" 2>"$err"
isnt "$?" 0 "a container cannot add an address (no CAP_NET_ADMIN)"
wr activate --network bridge="$NET" busybox -- sh -c 'ip link set eth0 address 02:00:00:00:00:01' >"$out" 2>"$err"
isnt "$?" 0 "a container cannot change its MAC address"

# ---- reachability: the test's server netns, the gateway, the host filter --
mkdir -p "$T/www"
echo "pong-$$" >"$T/www/ping"
netns_on_bridge "$NS" "$VH" "$BR" "$SERVER/24"
ok $? "a server namespace on the bridge ($SERVER)"
ip netns exec "$NS" busybox httpd -p "$SERVER:8080" -h "$T/www"
ip link add "$VD" type veth peer name "${VD}p" && ip addr add "$OTHER/32" dev "$VD" && ip link set "$VD" up
busybox httpd -p "$GW:8081" -h "$T/www"
busybox httpd -p "$OTHER:8082" -h "$T/www"
sleep 0.2
wr activate --network bridge="$NET" busybox -- \
    sh -c "timeout 5 wget -q -O - http://$SERVER:8080/ping; ping -c 1 -W 2 $GW >/dev/null && echo gw-ok;
           timeout 5 wget -q -O - http://$GW:8081/ping; timeout 2 wget -q -O - http://$OTHER:8082/ping || echo filtered" \
    >"$out" 2>"$err"
like "$(sed -n 1p "$out")" "^pong-$$\$" "a bridge container reaches the server namespace on its bridge"
like "$(sed -n 2p "$out")" "^gw-ok\$" "... and pings the gateway"
like "$(sed -n 3p "$out")" "^pong-$$\$" "... and reaches a host service on the gateway address"
like "$(sed -n 4p "$out")" "^filtered\$" "... but not one on another interface of the host"
# Isolation between networks: a container of another warmrun network
# reaches its own gateway but nothing on this network's bridge.
YSUB=10.$OCT2.$(((OCT3 + 3) % 250))
ip -n "$NS" route add default via "$GW" # so that only the filter can stop the replies
wr network create "${NET}y" --subnet "$YSUB.0/24" --bridge "${BR}y" >/dev/null 2>"$err" ||
    diag_file "$err"
wr activate --network bridge="${NET}y" busybox -- \
    sh -c "ping -c 1 -W 2 $YSUB.1 >/dev/null && echo gw-ok; timeout 3 wget -q -O - http://$SERVER:8080/ping || echo isolated" \
    >"$out" 2>"$err"
is "$(cat "$out")" "gw-ok
isolated" "a container of another network cannot reach this network's bridge" || diag_file "$err"
# (its container's teardown finishes after the exit: the lease goes then)
poll_until 10 wr network rm "${NET}y" >/dev/null 2>&1
pkill -f "busybox httpd -p $GW:8081" 2>/dev/null
pkill -f "busybox httpd -p $OTHER:8082" 2>/dev/null
pkill -f "busybox httpd -p $SERVER:8080" 2>/dev/null
ip link del "$VD" 2>/dev/null

# ---- -p: published ports (cold starts) ----------------------------------
HP=$((20000 + $$ % 20000)) # host ports private to this run
elements() { nft list table ip "warmrun_$NET" 2>/dev/null | grep -c 'comment "'; }
wr activate --network bridge="$NET" -p "$HP:80" -p "127.0.0.1:$((HP + 1)):80" -p "$((HP + 2)):81/udp" busybox -- \
    sh -c 'hostname >/dev/stderr; echo pub-'$$' >/tmp/f; exec httpd -f -p 80 -h /tmp' >/dev/null 2>"$T/pub" &
PUB=$!
poll_until 10 sh -c "[ -s '$T/pub' ]"
PUBID=$(head -1 "$T/pub")
poll_until 5 sh -c "busybox wget -q -O - http://127.0.0.1:$HP/f >/dev/null 2>&1"
is "$(busybox wget -q -O - "http://127.0.0.1:$HP/f" 2>&1)" "pub-$$" "-p $HP:80 reaches the container from the host on 127.0.0.1"
is "$(busybox wget -q -O - "http://$GW:$HP/f" 2>&1)" "pub-$$" "... and on the bridge address"
is "$(busybox wget -q -O - "http://127.0.0.1:$((HP + 1))/f" 2>&1)" "pub-$$" "-p 127.0.0.1:$((HP + 1)):80 on 127.0.0.1"
isnt "$(timeout 3 busybox wget -q -O - "http://$GW:$((HP + 1))/f" 2>&1)" "pub-$$" "... not on another address"
is "$(elements)" 3 "three map elements, named by the container"
wr activate --network bridge="$NET" -p "$HP:80" busybox -- true >"$out" 2>"$err"
rc=$?
is "$rc" 125 "a host port already published: 125"
like "$(cat "$err")" "port is already allocated: -p $HP:80/tcp: container [0-9a-f]+ on network $NET publishes it" "... says so, naming the holder"
is "$(wc -l <"$err")" 1 "... in one line"
leases_settle 1
is "$(leases | wc -l)|$(our_links | wc -l)|$(elements)" "1|2|3" "... and leaves no lease, veth or element"
wr activate --network bridge="$NET" -p 0:80 busybox -- true >"$out" 2>"$err"
like "$?|$(cat "$err")" "^2\|.*expected \[HOSTIP:\]HOSTPORT:CONTAINERPORT" "-p 0:80: usage error"
wr activate -p "$((HP + 3)):80" busybox -- true >"$out" 2>"$err"
like "$?|$(cat "$err")" "^2\|.*-p needs --network bridge" "-p without a bridge network: usage error"
# No daemon runs yet: the container's pid 1 is killed from the host.
pkill -KILL -P "$(pgrep -f "warmrun-shim --id $PUBID")"
wait "$PUB" 2>/dev/null
poll_until 10 sh -c "[ \$(nft list table ip warmrun_$NET | grep -c 'comment \"') -eq 0 ]"
leases_settle 0
is "$(elements)|$(leases)" "0|" "the container ended: its elements and lease are gone"
wr activate --network bridge="$NET" -p "$HP:80" busybox -- true >"$out" 2>"$err"
ok $? "its host port is free again" || diag_file "$err"
# A SIGKILLed shim cannot remove its mapping: its lease stays (marked
# published) so that the address is not reused, until a reconciliation
# (here `network ls`) removes both.
leases_settle 0
wr activate --network bridge="$NET" -p "$HP:80" busybox -- sleep 60 >/dev/null 2>&1 &
KPID=$!
poll_until 10 sh -c "[ \$(nft list table ip warmrun_$NET | grep -c 'comment \"') -eq 1 ]"
SHIM=$(pgrep -f "warmrun-shim .*--state-dir $STATE .*--publish")
kill -KILL $SHIM
kill -KILL "$KPID" 2>/dev/null # the CLI (its timeout wrapper): not waited for
wait "$KPID" 2>/dev/null
poll_until 5 sh -c "! pgrep -f 'warmrun-shim .*--state-dir $STATE .*--publish' >/dev/null"
like "$(leases)" " p\$" "a SIGKILLed shim's published lease is kept"
is "$(elements)" 1 "... with its element"
wr network ls >/dev/null 2>&1
is "$(elements)|$(leases)" "0|" "a reconciliation removes both"

# ---- two containers talk, warm from a pool ------------------------------
start_daemon || bail_out "daemon"
wr pool create busybox --size 2 --network bridge="$NET" --wait >"$out" 2>"$err"
ok $? "pool create --network bridge=$NET fills" || diag_file "$err"
is "$(leases | wc -l)" 2 "two warm containers hold two leases"
is "$(our_links | wc -l)" 3 "... and two veths on the bridge"
wr activate --no-cold busybox -- sh -c 'ip -4 -o addr show dev eth0 | grep -o "inet [0-9.]*" | cut -d" " -f2 >/dev/stderr;
    hostname >/dev/stderr; echo two-'$$' >/tmp/f; exec httpd -f -p 8080 -h /tmp' >/dev/null 2>"$T/first" &
FIRST=$!
poll_until 10 grep -q "^$PFX" "$T/first"
A1=$(head -1 "$T/first")
ID1=$(sed -n 2p "$T/first")
sleep 0.3
wait_pool_full busybox:latest 30
wr activate --no-cold busybox -- timeout 5 wget -q -O - "http://$A1:8080/f" >"$out" 2>"$err"
is "$(cat "$out")" "two-$$" "two warm containers on one bridge talk ($A1)"
wr kill "$ID1" >/dev/null 2>&1
wait "$FIRST" 2>/dev/null
wr network rm "$NET" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^1\|warmrun: network $NET has [0-9]+ containers" "network rm is refused while containers use it"

# ---- many activations, then SIGKILL of shims and of the daemon ------------
fails=0
for i in $(seq 1 1000); do
    wr activate busybox -- true >/dev/null 2>&1 || fails=$((fails + 1))
done
is "$fails" 0 "1,000 activations on the bridge (warm, or cold when the pool is empty)"
wait_pool_full busybox:latest 30
# A shim releases its lease after it has reported the exit: poll.
poll_until 10 sh -c "[ \$(grep -vc '^last ' '$STATE/networks/$NET.leases') -le 2 ]"
is "$(leases | wc -l)" 2 "after them: leases of the two warm containers only"
poll_until 10 sh -c "[ \$(ip -o link show master $BR | grep -cE ': wr[0-9a-f]{12}@') -le 2 ]"
is "$(our_links | wc -l)" 3 "after them: the veths of the two warm containers only"
shims() { pgrep -f "warmrun-shim .*--state-dir $STATE " | tr '\n' ' '; }
OLD=$(shims)
kill -KILL $OLD
wait_pool_full busybox:latest 30
is "$(leases | wc -l)" 2 "warm shims SIGKILLed: the refill reuses their leases, nothing more held"
for p in $OLD; do grep -q " $p " "$STATE/networks/$NET.leases" && diag "lease of $p kept"; done
kill -KILL "$DAEMON_PID"
DAEMON_PID=
for round in 1 2 3 4 5; do
    p=$(our_pids)
    [ -z "$p" ] && break
    kill -KILL $p
    sleep 0.2
done
poll_until 10 sh -c "! ip -o link show master $BR | grep -qE ': wr[0-9a-f]{12}@if'"
is "$(our_links)" "$BR" "daemon and shims SIGKILLed: their veths are gone"
# (A warm shim that saw the daemon go may have released its lease itself
# before its SIGKILL: the file holds some or all of the dead ones.)
DEAD=$(leases | cut -d' ' -f2)
start_daemon || bail_out "daemon restart"
# The pool is restored (stored pools) and fills again: two new leases.
wait_pool_full busybox:latest 30
kept=0
for id in $DEAD; do grep -q " $id " "$STATE/networks/$NET.leases" && kept=$((kept + 1)); done
is "$kept|$(leases | wc -l)" "0|2" "a restarted daemon reconciles the leases of dead shims"
wr pool rm busybox >/dev/null 2>&1
stop_daemon >/dev/null 2>&1
DAEMON_PID=
poll_until 10 sh -c "! ip -o link show master $BR | grep -qE ': wr[0-9a-f]{12}@if'"
poll_until 10 sh -c "! grep -qv '^last ' '$STATE/networks/$NET.leases'"
is "$(our_links)" "$BR" "no veth left"
is "$(leases)" "" "no lease left"
is "$(our_table)" "$TABLE_START" "the network's nftables table is as created"

# ---- network rm ----------------------------------------------------------
wr network rm "$NET" >"$out" 2>"$err"
ok $? "network rm" || diag_file "$err"
is "$(our_links)|$(our_table)|$(ls "$STATE/networks" 2>/dev/null)" "||" \
    "network rm: bridge, table and records gone"
wr network rm "$NET" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^1\|warmrun: no network $NET" "network rm of an unknown network"

done_testing

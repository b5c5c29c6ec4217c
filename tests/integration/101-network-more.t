#!/bin/bash
# TAP test of what networking added last (docs/network.md):
#  - `pool create -p`: a pool's warm containers are filled with no mapping
#    (their leases marked published); the one activated gets the pool's
#    ports right after the hand-over (from the host on 127.0.0.1 and the
#    bridge address); a second activation while it runs is refused
#    ("port is already allocated", 125) and starts nothing; another pool
#    cannot take the port; the mapping goes when the container ends, and
#    after SIGKILL of the daemon (its restart reconciles);
#  - bad input: -p without a bridge network, a port given twice;
#  - anti-spoofing: a container with CAP_NET_RAW (Docker's default) sends
#    raw frames (tests/attack/spoof4.c) to a listener in a network
#    namespace the test made on the bridge: its own address and MAC pass,
#    a forged IPv4 source, a forged source MAC and an ARP reply claiming
#    the gateway's address do not; the set's elements come and go with
#    the container, and a SIGKILLed shim's go at reconciliation;
#  - daemon --cni-conf-dir/--cni-path: a pool's CNI settings are the
#    daemon's options (the pool's fill looks in that directory); a
#    relative path is a usage error.
# Every global name (network, bridge, nft table, host ports, subnet) is
# derived from $$; traffic goes only to addresses of interfaces this test
# made (the bridge's, 127.0.0.1 DNATed to its containers).
. "$(dirname "$0")/lib.sh"
setup_env netmore
command -v nft >/dev/null || skip_all "nft is not installed"

out=$T/out
err=$T/err
NET=wrm$$
BR=wrmb$$
OCT2=$((200 + ($$ + 17) % 50))
OCT3=$((($$ / 50 + 7) % 250))
SUBNET=10.$OCT2.$OCT3.0/24
GW=10.$OCT2.$OCT3.1
HP=$((20000 + ($$ + 5000) % 20000)) # host ports private to this run

NS=wrmns$$
VH=wrmh$$ # host end of the listener's veth
LISTENER=10.$OCT2.$OCT3.250
net_cleanup() {
    ip netns del "$NS" 2>/dev/null
    ip link del "$BR" 2>/dev/null
    nft delete table bridge "warmrun_$NET" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
}
trap 'rc=$?; net_cleanup; (exit $rc); cleanup' EXIT

elements() { nft list table ip "warmrun_$NET" 2>/dev/null | grep -c 'comment "'; }
leases() { grep -v '^last ' "$STATE/networks/$NET.leases" 2>/dev/null; }
get() { timeout 5 busybox wget -q -O - "http://$1/f" 2>&1; }

wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >"$out" 2>"$err" ||
    bail_out "network create: $(cat "$err")"
start_daemon || bail_out "daemon"

# ---- bad input ------------------------------------------------------------
wr pool create busybox --size 1 -p "$HP:80" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^2\|.*-p needs --network bridge" "pool create -p without a bridge network: usage error"
wr pool create busybox --size 1 --network bridge="$NET" -p "$HP:80" -p "127.0.0.1:$HP:81" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^2\|.*host port $HP/tcp is given twice" "one host port twice: usage error"
wr pool ls >"$out" 2>&1
unlike "$(cat "$out")" "busybox" "... and no pool"

# ---- a pool's ports: mapped at activation, one container at a time -------
wr pool create busybox --size 2 --network bridge="$NET" -p "$HP:80" -p "127.0.0.1:$((HP + 1)):80" \
    --wait >"$out" 2>"$err"
ok $? "pool create --network bridge=$NET -p $HP:80 fills" || diag_file "$err"
is "$(leases | grep -c ' p$')" 2 "its two warm containers hold leases marked published"
is "$(elements)" 0 "... and no mapping: nothing is mapped at fill"

serve() { # serve WORD: a warm activation serving /f with WORD; its id to $T/id
    wr activate --no-cold busybox -- sh -c 'hostname >/dev/stderr; echo '"$1"' >/tmp/f;
        exec httpd -f -p 80 -h /tmp' >/dev/null 2>"$T/id" &
    SERVED=$!
    poll_until 10 sh -c "[ -s '$T/id' ]"
    ID=$(head -1 "$T/id")
}
serve "one-$$"
poll_until 10 sh -c "busybox wget -q -O - http://127.0.0.1:$HP/f >/dev/null 2>&1"
is "$(get "127.0.0.1:$HP")" "one-$$" "the activated container is reached from the host on 127.0.0.1:$HP"
is "$(get "$GW:$HP")" "one-$$" "... and on the bridge address"
is "$(get "127.0.0.1:$((HP + 1))")" "one-$$" "... and on 127.0.0.1:$((HP + 1)) (-p 127.0.0.1:$((HP + 1)):80)"
is "$(nft list table ip "warmrun_$NET" | grep -c "comment \"$ID\"")" 2 "two map elements, named by the container ($ID)"

wr activate --no-cold busybox -- echo second >"$out" 2>"$err"
rc=$?
is "$rc" 125 "a second activation while one holds the ports: 125"
like "$(cat "$err")" "port is already allocated" "... 'port is already allocated'"
is "$(wc -l <"$err")" 1 "... in one line"
unlike "$(cat "$out")" "second" "... and its command never ran"
is "$(get "127.0.0.1:$HP")" "one-$$" "... the first still holds the port"

wr pool create "busybox:other" --size 1 --network bridge="$NET" -p "$HP:8080" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^1\|.*port is already allocated: -p $HP:8080/tcp: pool busybox:latest" \
    "another pool cannot take the port"

# A cold start cannot take a pool's port, even while no container of the
# pool holds it; a pool cannot take a cold start's.
wr activate --network bridge="$NET" -p "$HP:80" busybox -- echo cold >"$out" 2>"$err"
like "$?|$(cat "$err")" "^125\|.*port is already allocated: pool busybox:latest publishes $HP:80/tcp" \
    "a cold start's -p of a pool's port: 125, 'port is already allocated'"
wr activate --network bridge="$NET" -p "$((HP + 5)):80" busybox -- sleep 30 >/dev/null 2>&1 &
COLD=$!
poll_until 10 sh -c "nft list table ip warmrun_$NET | grep -q ' $((HP + 5)) comment'"
wr pool create "busybox:other" --size 1 --network bridge="$NET" -p "127.0.0.1:$((HP + 5)):80" >"$out" 2>"$err"
like "$?|$(cat "$err")" "^1\|.*port is already allocated: -p 127.0.0.1:$((HP + 5)):80/tcp: container [0-9a-f]{12} on network $NET" \
    "a pool cannot take a port a cold start holds"
pkill -KILL -P "$(pgrep -f "warmrun-shim .*--state-dir $STATE .*--publish $((HP + 5)):80")"
wait "$COLD" 2>/dev/null

wr kill "$ID" >/dev/null 2>&1
wait "$SERVED" 2>/dev/null
poll_until 10 sh -c "[ \$(nft list table ip warmrun_$NET | grep -c 'comment \"') -eq 0 ]"
is "$(elements)" 0 "the container ended: its mappings are gone (and the cold start's)"
wait_pool_full busybox:latest 30
poll_until 10 sh -c "[ \$(grep -vc '^last ' '$STATE/networks/$NET.leases') -le 2 ]"
is "$(leases | grep -c ' p$')" 2 "... its lease too (two warm ones left)"

serve "two-$$"
poll_until 10 sh -c "busybox wget -q -O - http://127.0.0.1:$HP/f >/dev/null 2>&1"
is "$(get "127.0.0.1:$HP")" "two-$$" "the next activation gets the port"
wr kill "$ID" >/dev/null 2>&1
wait "$SERVED" 2>/dev/null

# ---- many activations: nothing accumulates ---------------------------------
# One after another, as a script would: each starts once the previous one's
# workload has exited, whether or not the daemon has heard of it yet.
fails=0
for i in $(seq 1 20); do
    wr activate --no-cold busybox -- true >/dev/null 2>"$err" || {
        fails=$((fails + 1))
        diag "activation $i: $(cat "$err")"
    }
done
is "$fails" 0 "20 activations one after another: none is refused"
poll_until 10 sh -c "[ \$(nft list table ip warmrun_$NET | grep -c 'comment \"') -eq 0 ]"
is "$(elements)" 0 "after them: no mapping"

# ---- SIGKILL of the daemon while a container holds the ports -------------
serve "three-$$"
poll_until 10 sh -c "busybox wget -q -O - http://127.0.0.1:$HP/f >/dev/null 2>&1"
is "$(elements)" 2 "a running container's two mappings"
kill -KILL "$DAEMON_PID"
wait "$SERVED" 2>/dev/null
poll_until 10 sh -c "! pgrep -f 'warmrun-shim .*--state-dir $STATE ' >/dev/null"
start_daemon || bail_out "daemon restart"
poll_until 10 sh -c "[ \$(nft list table ip warmrun_$NET | grep -c 'comment \"') -eq 0 ]"
is "$(elements)" 0 "a restarted daemon removes what the killed one's container had mapped"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

# ---- anti-spoofing ------------------------------------------------------
guards() { nft list set bridge "warmrun_$NET" allowed 2>/dev/null | grep -c '"wr[0-9a-f]\{12\}" \. '; }
add_helper_image spoof4 "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/spoof4" spoof4 ||
    bail_out "cannot write the spoof4 image"
netns_on_bridge "$NS" "$VH" "$BR" "$LISTENER/24"
ok $? "a listener namespace on the bridge ($LISTENER)"
# The listener, in the namespace on the bridge.
listen() { udp_listen "$LISTENER" "$NS"; }
spoof() { wr activate --cold --network "bridge=$NET" spoof4 -- /spoof4 "$@" >"$out" 2>"$err"; }
FORGED=10.$OCT2.$OCT3.77
listen
spoof own "$LISTENER" "$LPORT" "own-$$"
spoof ip "$FORGED" "$LISTENER" "$LPORT" "forged-ip-$$"
spoof mac "$LISTENER" "$LPORT" "forged-mac-$$"
wait "$LISTEN"
like "$(cat "$T/heard")" "10\.$OCT2\.$OCT3\.[0-9]+ own-$$" "a container's own address and MAC pass (raw socket)"
unlike "$(cat "$T/heard")" "forged-ip-$$" "a forged IPv4 source does not reach the listener"
unlike "$(cat "$T/heard")" "forged-mac-$$" "a forged source MAC does not"

# ARP: the listener knows the gateway; a container claims the gateway's
# address for its own MAC (to intercept the listener's traffic).
ip netns exec "$NS" busybox ping -c 1 -W 2 "$GW" >/dev/null 2>&1
GWMAC=$(cat "/sys/class/net/$BR/address")
sleep 1.2 # past the neighbour entry's locktime: an update would take
spoof arp "$GW" "$LISTENER" 9 x
is "$(ip -n "$NS" neigh show "$GW" | grep -o 'lladdr [0-9a-f:]*')" "lladdr $GWMAC" \
    "an ARP reply claiming the gateway's address changes nothing ($(cat "$out"))"

poll_until 10 sh -c "[ \$(nft list set bridge warmrun_$NET allowed | grep -c '\"wr') -eq 0 ]"
is "$(guards)" 0 "the anti-spoofing set is empty when no container runs (the ended ones' are gone)"
wr activate --cold --network "bridge=$NET" busybox -- sleep 30 >/dev/null 2>&1 &
SLEEPER=$!
poll_until 10 sh -c "[ \$(nft list set bridge warmrun_$NET allowed | grep -c '\"wr') -eq 1 ]"
is "$(guards)" 1 "a running container has its element"
pkill -KILL -f "warmrun-shim .*--state-dir $STATE .*--network bridge=$NET"
wait "$SLEEPER" 2>/dev/null
poll_until 5 sh -c "! pgrep -f 'warmrun-shim .*--state-dir $STATE ' >/dev/null"
wr network ls >/dev/null 2>&1
poll_until 5 sh -c "[ \$(nft list set bridge warmrun_$NET allowed | grep -c '\"wr') -eq 0 ]"
is "$(guards)" 0 "a SIGKILLed shim's element goes at reconciliation"

# ---- daemon --cni-conf-dir / --cni-path ----------------------------------
wr daemon --cni-conf-dir relative/dir >"$out" 2>"$err"
like "$?|$(cat "$err")" "^2\|.*--cni-conf-dir relative/dir: expected absolute paths" \
    "daemon --cni-conf-dir with a relative path: usage error"
mkdir -p "$T/cni-conf"
start_daemon --cni-conf-dir "$T/cni-conf" --cni-path /usr/lib/cni || bail_out "daemon with CNI options"
wr pool create busybox --size 1 --network "cni:wrmcni$$" >"$out" 2>"$err"
poll_until 20 sh -c "WR_TIMEOUT=10 '$WARMRUN_BIN_DIR/warmrun' --root '$STORE' --state-dir '$STATE' \
    --socket '$SOCK' pool ls --json 2>/dev/null | grep -q 'no conflist named wrmcni$$'"
like "$(wr pool ls --json 2>&1)" "no conflist named wrmcni$$ in $T/cni-conf" \
    "a pool's fill looks for the conflist in the daemon's --cni-conf-dir"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

done_testing

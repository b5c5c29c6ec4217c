#!/bin/bash
# TAP test of --network cni:NAME (CNI plugins, spec 1.0) with a private
# conflist directory: bridge + host-local + portmap (Debian's
# containernetworking-plugins):
#  - a cold and a warm container get eth0 from the plugins and reach a
#    server the test runs in another network namespace on that bridge;
#  - -p reaches the plugins as runtimeConfig.portMappings (portmap);
#  - a missing conflist, a missing plugin and a failing plugin give one
#    line and leave nothing (DEL runs after a failed ADD);
#  - after activations, and after SIGKILL of the shims and the daemon,
#    host-local's dataDir holds no lease, no veth is left, and iptables
#    holds none of this network's per-container entries (portmap's
#    top-level CNI-HOSTPORT-* chains are global and stay, as with any
#    CNI runtime; the firewall plugin is not used: it makes global chains).
# Global names (bridge, netns, subnet, network) derive from $$.
. "$(dirname "$0")/lib.sh"
setup_env cni
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/portmap ] ||
    skip_all "containernetworking-plugins is not installed"
command -v iptables-save >/dev/null || skip_all "iptables is not installed"

out=$T/out
err=$T/err
NET=wrc$$
BR=wrcb$$
NS=wrcns$$
VH=wrch$$
OCT2=$((200 + $$ % 50))
OCT3=$((($$ / 50) % 250))
PFX=10.$OCT2.$((OCT3 ^ 128))
SUBNET=$PFX.0/24
GW=$PFX.1
SERVER=$PFX.250
CONF=$T/cni
DATA=$T/cni-ipam
mkdir -p "$CONF" "$DATA"
export WARMRUN_CNI_CONF_DIR=$CONF

conflist() { # conflist NAME EXTRA_PLUGIN_JSON
    cat <<EOF
{"cniVersion": "1.0.0", "name": "$1", "plugins": [
  {"type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "subnet": "$SUBNET", "rangeEnd": "$PFX.200",
            "dataDir": "$DATA", "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}$2
]}
EOF
}
conflist "$NET" "" >"$CONF/10-$NET.conflist"
conflist "${NET}m" ', {"type": "nosuch'$$'"}' >"$CONF/20-${NET}m.conflist"
conflist "${NET}f" ', {"type": "failing"}' >"$CONF/30-${NET}f.conflist"
# A plugin that fails ADD with a CNI error, and counts its DELs.
mkdir -p "$T/plugins"
cat >"$T/plugins/failing" <<EOF
#!/bin/sh
cat >/dev/null
if [ "\$CNI_COMMAND" = ADD ]; then
    echo '{"cniVersion": "1.0.0", "code": 11, "msg": "no more cheese", "details": "try later"}'
    exit 1
fi
echo "\$CNI_COMMAND \$CNI_CONTAINERID" >>"$T/failing.log"
EOF
chmod +x "$T/plugins/failing"

cni_cleanup() {
    ip netns del "$NS" 2>/dev/null
    ip link del "$BR" 2>/dev/null
}
trap 'rc=$?; cni_cleanup; (exit $rc); cleanup' EXIT

veths() { ip -o link show master "$BR" 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v "^$VH\$" | sort; }
ipam_leases() { ls "$DATA/$NET" 2>/dev/null | grep -E '^[0-9]+\.' ; }
# portmap's per-container entries name the network in their comments.
ipt_entries() { iptables-save 2>/dev/null | grep -c -e "$NET" -e "$PFX\\."; }
records_diag() { for f in "$STATE"/cni/*.json; do [ -e "$f" ] || continue; p=$(grep -o '"pid":[0-9]*' "$f" | cut -d: -f2); diag "$f: pid $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-80) result:$(grep -c '"result"' "$f")"; diag "$(grep "$(basename "$f" .json)" "$DAEMON_LOG")"; done; }
IPT_START=$(ipt_entries)

# A server namespace on the bridge (made here, so that it exists first).
ip link add "$BR" type bridge && ip link set "$BR" up &&
    ip netns add "$NS" && ip link add "$VH" type veth peer name eth0 netns "$NS" &&
    ip link set "$VH" master "$BR" up && ip -n "$NS" link set eth0 up && ip -n "$NS" link set lo up &&
    ip -n "$NS" addr add "$SERVER/24" dev eth0
ok $? "a server namespace on the bridge ($SERVER)"
mkdir -p "$T/www"
echo "cni-$$" >"$T/www/ping"
ip netns exec "$NS" busybox httpd -p "$SERVER:8080" -h "$T/www"

# ---- a cold start --------------------------------------------------------
wr activate --network "cni:$NET" busybox -- \
    sh -c "ip -4 -o addr show dev eth0; ip route; timeout 5 wget -q -O - http://$SERVER:8080/ping" \
    >"$out" 2>"$err"
is "$?" 0 "cold activate --network cni:$NET" || diag_file "$err"
like "$(cat "$out")" "eth0 +inet $PFX\\.[0-9]+/24" "eth0 has an address from host-local"
like "$(cat "$out")" "default via $GW" "the default route from the conflist"
like "$(cat "$out")" "cni-$$" "the container reaches a server on the bridge"
poll_until 10 sh -c "[ -z \"\$(ls '$DATA/$NET' 2>/dev/null | grep -E '^[0-9]+\\.')\" ]"
is "$(ipam_leases)|$(veths)|$(ls "$STATE/cni" 2>/dev/null)" "||" "after it: no lease, no veth, no record"

# ---- -p through portmap ------------------------------------------------------
HP=$((20000 + $$ % 20000))
wr activate --network "cni:$NET" -p "$HP:80" busybox -- \
    sh -c 'echo pub-'$$' >/tmp/i; exec httpd -f -p 80 -h /tmp' >/dev/null 2>"$T/pub.err" &
PUB=$!
poll_until 20 sh -c "iptables-save -t nat | grep -q -- '--dport $HP '"
like "$(iptables-save -t nat | grep -- "--dport $HP ")" "DNAT --to-destination $PFX\\.[0-9]+:80" "-p: portmap's DNAT for host port $HP" ||
    diag_file "$T/pub.err"
ID=$(ls "$STATE/cni" | sed 's/\.json$//')
got=
for _ in 1 2 3 4 5 6 7 8 9 10; do
    got=$(timeout 3 busybox wget -q -O - "http://$GW:$HP/i" 2>/dev/null) && break
    sleep 0.3
done
is "$got" "pub-$$" "-p: the host reaches the container on $GW:$HP"
wr kill "$ID" >/dev/null 2>&1
wait "$PUB" 2>/dev/null
poll_until 10 sh -c "[ ! -e '$STATE/cni/$ID.json' ]"
is "$(ipt_entries)|$(ipam_leases)|$(veths)" "$IPT_START||" "after it: no DNAT entry, no lease, no veth"

# ---- bad input: one line, nothing left --------------------------------------
badcase() { # badcase WHAT PATTERN NETWORK
    wr activate --network "cni:$3" busybox -- true >"$out" 2>"$err"
    local rc=$?
    ok $((rc == 0 ? 1 : 0)) "$1: fails" || diag "rc $rc"
    like "$(cat "$err")" "^warmrun: .*$2" "$1: the error says why"
    is "$(wc -l <"$err")" 1 "$1: one line"
    is "$(ipam_leases)|$(veths)|$(ls "$STATE/cni" 2>/dev/null)|$(ipt_entries)" "|||$IPT_START" \
        "$1: no lease, veth, record or rule left"
}
badcase "a missing conflist" "cni:nosuch$$: no conflist named nosuch$$ in $CONF" "nosuch$$"
badcase "a missing plugin" "plugin nosuch$$ not found in CNI_PATH" "${NET}m"
export WARMRUN_CNI_PATH=/usr/lib/cni:$T/plugins
badcase "a failing plugin" "plugin failing: no more cheese: try later \\(CNI error 11\\)" "${NET}f"
is "$(cut -d' ' -f1 "$T/failing.log" 2>/dev/null)" "DEL" "a failed ADD is followed by DEL"
export WARMRUN_CNI_PATH=/usr/lib/cni

# ---- a pool, activations, SIGKILL of shims and of the daemon ----------------
start_daemon || bail_out "daemon"
wr pool create busybox --size 2 --network "cni:$NET" --wait >"$out" 2>"$err"
ok $? "pool create --network cni:$NET fills" || diag_file "$err"
is "$(ipam_leases | wc -l)|$(veths | wc -l)" "2|2" "two warm containers: two leases, two veths"
wr activate --no-cold busybox -- timeout 5 wget -q -O - "http://$SERVER:8080/ping" >"$out" 2>"$err"
is "$(cat "$out")" "cni-$$" "a warm container reaches the server"
fails=0
for i in $(seq 1 300); do
    wr activate busybox -- true >/dev/null 2>&1 || fails=$((fails + 1))
done
is "$fails" 0 "300 activations (warm, or cold when the pool is empty)"
wait_pool_full busybox:latest 30
poll_until 10 sh -c "[ \$(ls '$DATA/$NET' | grep -cE '^[0-9]+\\.') -le 2 ]"
is "$(ipam_leases | wc -l)|$(veths | wc -l)" "2|2" "after them: the two warm containers' only"
shims() { pgrep -f "warmrun-shim .*--state-dir $STATE " | tr '\n' ' '; }
kill -KILL $(shims)
wait_pool_full busybox:latest 30
poll_until 10 sh -c "[ \$(ls '$DATA/$NET' | grep -cE '^[0-9]+\\.') -le 2 ]"
is "$(ipam_leases | wc -l)|$(ls "$STATE/cni" | wc -l)" "2|2" "shims SIGKILLed: the refill's DEL freed their leases"
kill -KILL "$DAEMON_PID"
DAEMON_PID=
for round in 1 2 3 4 5; do
    p=$(our_pids)
    [ -z "$p" ] && break
    kill -KILL $p
    sleep 0.2
done
start_daemon || bail_out "daemon restart"
wait_pool_full busybox:latest 30
is "$(ipam_leases | wc -l)|$(ls "$STATE/cni" | wc -l)" "2|2" "daemon and shims SIGKILLed: a restarted daemon DELs their records" || records_diag
wr pool rm busybox >/dev/null 2>&1
stop_daemon >/dev/null 2>&1
DAEMON_PID=
poll_until 10 sh -c "[ -z \"\$(ls '$STATE/cni')\" ]"
poll_until 10 sh -c "[ -z \"\$(ip -o link show master $BR | grep -v $VH)\" ]"
is "$(ipam_leases)|$(veths)|$(ls "$STATE/cni")|$(ipt_entries)" "|||$IPT_START" \
    "at the end: no lease, veth, record or per-container rule" || records_diag
pkill -f "busybox httpd -p $SERVER:8080" 2>/dev/null

done_testing

#!/bin/bash
# TAP test of /etc/hosts under --network cni:NAME: the container's own
# eth0 address (from the CNI plugins' ADD, read by the shim from the
# container's network namespace) names its hostname, as Docker does,
# instead of 127.0.1.1; for a cold and a warm container, after
# `activate --hostname X`, and under --read-only --userns --user. --network none and bridge are as before.
# A private conflist (bridge + host-local); every global name (bridge,
# subnet, network, nft table) derives from $$ and is removed.
. "$(dirname "$0")/lib.sh"
setup_env cnihosts
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] ||
    skip_all "containernetworking-plugins is not installed"
command -v nft >/dev/null || skip_all "nft is not installed"

out=$T/out
err=$T/err
NET=wrh$$
BR=wrhb$$
BNET=wrhn$$
BBR=wrhm$$
OCT2=$((200 + $$ % 50))
OCT3=$((($$ / 50) % 250))
PFX=10.$OCT2.$((OCT3 ^ 64))
BPFX=10.$OCT2.$((OCT3 ^ 192))
CONF=$T/cni
DATA=$T/cni-ipam
mkdir -p "$CONF" "$DATA"
export WARMRUN_CNI_CONF_DIR=$CONF
cat >"$CONF/10-$NET.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$NET", "plugins": [
  {"type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "subnet": "$PFX.0/24", "dataDir": "$DATA",
            "routes": [{"dst": "0.0.0.0/0"}]}}
]}
EOF

hosts_cleanup() {
    ip link del "$BR" 2>/dev/null
    ip link del "$BBR" 2>/dev/null
    nft delete table ip "warmrun_$BNET" 2>/dev/null
}
trap 'rc=$?; hosts_cleanup; (exit $rc); cleanup' EXIT

PROBE='ip -4 -o addr show dev eth0 2>/dev/null; echo "host=$(hostname)"; cat /etc/hosts'
# check WHAT: eth0's address (from `ip`) carries the hostname in /etc/hosts,
# on the line after Docker's defaults, and 127.0.1.1 is gone.
check() {
    local addr host
    addr=$(sed -n 's/.*inet \([0-9.]*\)\/.*/\1/p' "$out" | head -1)
    host=$(sed -n 's/^host=//p' "$out")
    like "$addr" "^$2\\.[0-9]+\$" "$1: eth0 has an address of its network"
    like "$(cat "$out")" "(^|
)$addr	$host(
|\$)" "$1: /etc/hosts names $host on $addr" || diag_file "$out"
    is "$(grep -c '^127\.0\.1\.1' "$out")" 0 "$1: and not on 127.0.1.1"
}

# ---- cold ---------------------------------------------------------------
wr activate --network "cni:$NET" busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "cold activate --network cni:$NET" || diag_file "$err"
check "cold cni" "$PFX"
wr activate --network "cni:$NET" --hostname "web$$" busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "cold activate --network cni:$NET --hostname web$$" || diag_file "$err"
check "cold cni --hostname" "$PFX"
like "$(cat "$out")" "host=web$$" "cold cni --hostname: the hostname is web$$"
wr activate --network "cni:$NET" busybox -- head -1 /etc/resolv.conf >"$out" 2>"$err"
like "$(cat "$out")" '^# warmrun: network cni;' "cold cni: /etc/resolv.conf says network cni"

# Through the descriptor pid 1 keeps: also under --read-only, in a user
# namespace, for a non-root workload.
wr activate --network "cni:$NET" --read-only --userns auto --user 1000 busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "cold cni --read-only --userns auto --user 1000" || diag_file "$err"
check "cold cni --read-only --userns" "$PFX"

# ---- none and bridge: unchanged -------------------------------------------
wr activate busybox -- sh -c "$PROBE" >"$out" 2>"$err"
like "$(cat "$out")" "127\\.0\\.1\\.1	[0-9a-f]{12}" "none: the hostname on 127.0.1.1"
wr network create "$BNET" --subnet "$BPFX.0/24" --bridge "$BBR" >/dev/null 2>"$err"
ok $? "network create $BNET" || diag_file "$err"
wr activate --network bridge="$BNET" busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "cold activate --network bridge=$BNET" || diag_file "$err"
check "bridge" "$BPFX"

# ---- warm -------------------------------------------------------------------
start_daemon || bail_out "daemon"
wr pool create busybox --size 2 --network "cni:$NET" --wait >"$out" 2>"$err"
ok $? "pool create --network cni:$NET fills" || diag_file "$err"
wr activate --no-cold busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "warm activate" || diag_file "$err"
check "warm cni" "$PFX"
wr activate --no-cold --hostname "api$$" busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "warm activate --hostname api$$" || diag_file "$err"
check "warm cni --hostname" "$PFX"
like "$(cat "$out")" "host=api$$" "warm cni --hostname: the hostname is api$$"
wr pool rm busybox >/dev/null 2>&1
wr pool create busybox --size 1 --wait >"$out" 2>"$err"
ok $? "pool create (none) fills" || diag_file "$err"
wr activate --no-cold busybox -- sh -c "$PROBE" >"$out" 2>"$err"
like "$(cat "$out")" "127\\.0\\.1\\.1	[0-9a-f]{12}" "warm none: the hostname on 127.0.1.1"
wr pool rm busybox >/dev/null 2>&1
stop_daemon >/dev/null 2>&1
DAEMON_PID=

# ---- nothing left -------------------------------------------------------------
poll_until 10 sh -c "[ -z \"\$(ls '$DATA/$NET' 2>/dev/null | grep -E '^[0-9]+\\.')\" ]"
poll_until 10 sh -c "[ -z \"\$(ip -o link show master $BR 2>/dev/null)\" ]"
# (the helper unlinks the CNI record after the plugins' DEL has run)
poll_until 10 sh -c "[ -z \"\$(ls '$STATE/cni' 2>/dev/null)\" ]"
is "$(ls "$DATA/$NET" 2>/dev/null | grep -E '^[0-9]+\.')|$(ip -o link show master "$BR" 2>/dev/null)|$(ls "$STATE/cni" 2>/dev/null)" \
    "||" "at the end: no lease, veth or CNI record"
wr network rm "$BNET" >/dev/null 2>&1

done_testing

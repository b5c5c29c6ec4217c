#!/bin/bash
# TAP test of functions, continued (87-functions.t has the basics): the pool
# options a function takes like a pool (a bind volume, --network
# bridge=NAME, --network host refused), the Runtime API still private with
# a bridge (listening on the environment's own 127.0.0.1 only), a function
# rolling over when its image's tag is imported again (the invocation being
# served finishes on the old image, the next ones run the new), every
# --log-tail carrying its invocation's log, and a daemon killed with
# environments frozen leaving none of them behind (cgroup v1: the shims
# thaw them) before any new daemon starts.
# Global names (network, bridge, nft table) are derived from $$.
. "$(dirname "$0")/lib.sh"
setup_env functions-more
command -v jq >/dev/null || skip_all "jq is not installed (scripts/install-deps)"
command -v nft >/dev/null || skip_all "nft is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
. "$(dirname "$0")/lib_functions.sh"
functions_images lambda-python lambda-node

out=$T/out
err=$T/err
NET=wrf$$
BR=wrfb$$
OCT2=$((150 + $$ % 50))
OCT3=$((($$ / 50) % 250))
SUBNET=10.$OCT2.$OCT3.0/24
# On a failure, the environments are thawed before lib.sh's cleanup kills
# everything (a task frozen by cgroup v1 cannot die); the network goes.
thaw_then_cleanup() {
    local rc=$?
    thaw_environments
    # Before lib.sh's cleanup, which ends in exit.
    ip link del "$BR" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
    nft delete table bridge "warmrun_$NET" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap thaw_then_cleanup EXIT

start_daemon || bail_out "the daemon did not start"

# --- options a function takes as a pool does --------------------------------------
wr function create h lambda-python --network host >"$out" 2>"$err"
rc=$?
ok "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" "function create --network host: refused (exit $rc)"
like "$(cat "$err")" 'network host is refused for functions' "  with its reason on one line"
is "$(fn h name)" "" "  and no function h"

wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >/dev/null 2>"$err" ||
    bail_out "network create: $(cat "$err")"
mkdir -p "$T/vol"
echo "from the host volume" >"$T/vol/hello"
wr function create nb lambda-python --network "bridge=$NET" -v "$T/vol:/data:ro" \
    --min 1 --max 1 >"$out" 2>"$err"
ok $? "function create nb --network bridge=$NET -v SRC:/data:ro" || diag_file "$err"
poll_until 60 idle_is nb 1
ok $? "  its environment initialises" || diag_file "$DAEMON_LOG"
inv nb '{"action":"sec"}'
is "$rc" 0 "  invoke nb" || diag_file "$err"
is "$(jq -c .links "$out")" '["eth0","lo"]' "  the environment has the bridge's eth0"
# A process of the environment (its freezer cgroup; nb is the only function).
pid=$(cat "$FREEZER"/*/cgroup.procs 2>/dev/null | head -1)
is "$(cat "/proc/$pid/root/data/hello" 2>/dev/null)" "from the host volume" "  the volume is mounted at /data"
ip=$(nsenter -t "$pid" -n ip -4 -o addr show dev eth0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
like "$ip" "^10\.$OCT2\.$OCT3\." "  eth0 has an address of the network ($ip)"
like "$(nsenter -t "$pid" -n ss -Hltn 2>/dev/null)" '127\.0\.0\.1:9001' \
    "  the Runtime API listens on its own 127.0.0.1:9001"
curl -s -m 3 -o /dev/null "http://$ip:9001/2018-06-01/runtime/invocation/next"
isnt "$?" 0 "  and is not reachable at its bridge address from the host"
# The daemon restarted: the function comes back with its network and volume.
stop_daemon >/dev/null 2>&1
start_daemon || bail_out "the daemon did not start again"
poll_until 60 idle_is nb 1
ok $? "a new daemon restores nb" || diag_file "$DAEMON_LOG"
inv nb '{"action":"sec"}'
is "$(jq -c .links "$out")" '["eth0","lo"]' "  with its bridge network"
wr function rm nb >/dev/null 2>&1

# --- --log-tail carries each invocation's log --------------------------------------
wr function create nd lambda-node --min 1 --max 1 >/dev/null 2>&1
poll_until 60 idle_is nd 1 || diag_file "$DAEMON_LOG"
missing=0
for i in $(seq 40); do
    inv nd '{"action":"log"}' --log-tail
    grep -q 'log line from nd' "$err" || missing=$((missing + 1))
done
is "$missing" 0 "40 invocations of the Node function with --log-tail: each carries its log line"
wr function rm nd >/dev/null 2>&1
# A log larger than the pipe holds, answered at once: the tail is the
# log's end, whatever is still in the pipe when the runtime asks for more.
wr function create pl lambda-python --min 1 --max 1 >/dev/null 2>&1
poll_until 60 idle_is pl 1 || diag_file "$DAEMON_LOG"
missing=0
for i in $(seq 10); do
    inv pl '{"action":"logbig"}' --log-tail
    grep -q 'last log line of' "$err" || missing=$((missing + 1))
done
is "$missing" 0 "10 invocations logging 200 kB with --log-tail: each tail ends with its last line"
wr function rm pl >/dev/null 2>&1

# --- the image imported again -----------------------------------------------------------
wr function create ro lambda-python --min 1 --max 2 --timeout 20 >/dev/null 2>&1
poll_until 60 idle_is ro 1 || diag_file "$DAEMON_LOG"
inv ro '{"action":"env"}'
is "$(jq -r 'has("mem")' "$out")" false "ro runs the Python image"
echo '{"action":"sleep","ms":3000}' | wr invoke ro --payload - >"$T/slow.out" 2>"$T/slow.err" &
slow=$!
poll_until 10 busy_is ro 1
ok $? "  an invocation in flight"
# The Node image's layers under the tag lambda-python.
timeout -k 10 300 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" --socket "$SOCK" \
    import "$T/images/lambda-node" --name lambda-python >"$T/reimport.log" 2>&1
ok $? "warmrun-image import (another image) --name lambda-python" || diag_file "$T/reimport.log"
inv ro '{"action":"env"}'
is "$rc" 0 "  the next invocation after the import returned is served" || diag_file "$err"
is "$(jq -r 'has("mem")' "$out")" true "  by the new image (the Node handler)"
wait "$slow"
is "$?" 0 "  the invocation in flight finished"
is "$(cat "$T/slow.out")" '"ok"' "  on the old image (the Python handler's answer)"
poll_until 20 busy_is ro 0
inv ro '{"action":"env"}'
is "$(jq -r 'has("mem")' "$out")" true "  and later invocations run the new image too"
like "$(cat "$DAEMON_LOG")" 'function ro: now image' "  the daemon logs the roll-over"
wr function rm ro >/dev/null 2>&1

# --- warmrun bench invoke (its own daemon and store; the figures are not checked) -----
"$WARMRUN_BIN_DIR/warmrun" bench invoke --images "$T/images" --rounds 3 --warmup 1 --seconds 1 \
    --no-docker --quiet --json "$T/invoke.json" >"$out" 2>"$err"
is "$?" 0 "bench invoke --rounds 3 --seconds 1 --no-docker: exit 0" || diag_file "$err"
is "$(jq -c '[.schema, .cli.invoke.n, .cli.activate_node.n, .cli.docker_run.skipped,
    .http_keepalive.n, .http_keepalive.connections, (.throughput | length),
    ([.throughput[] | select(.per_s > 0)] | length), (.pss_kb_per_environment > 0)]' "$T/invoke.json" 2>&1)" \
    '["warmrun-bench-invoke/1",3,3,"--no-docker",3,1,8,8,true]' \
    "  its JSON: 3 rounds each, one kept HTTP connection, 8 throughput points, PSS"
like "$(cat "$out")" 'http keep-alive' "  and its table"

# --- the daemon killed with environments frozen, no daemon after it -------------------
wr function create kf lambda-python --min 2 --max 2 >/dev/null 2>&1
poll_until 60 idle_is kf 2 || diag_file "$DAEMON_LOG"
is "$(cat "$FREEZER"/*/freezer.state "$FREEZER"/*/cgroup.freeze 2>/dev/null | sort -u | tr '\n' ' ')" \
    "$([ -d /sys/fs/cgroup/freezer ] && echo FROZEN || echo 1) " "two environments wait frozen"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
poll_until 20 no_container_pids
ok $? "the daemon SIGKILLed: no shim or container of it is left, no new daemon needed" ||
    show_pids $(our_pids)
left() { find "$FREEZER" -mindepth 1 -type d 2>/dev/null | grep -q .; }
poll_until 10 eval '! left'
ok $? "  and none of its environments' freezer cgroups" || find "$FREEZER" -type d | sed 's/^/# /'
start_daemon || bail_out "no second daemon"
poll_until 60 idle_is kf 2
ok $? "a new daemon restores the function" || diag_file "$DAEMON_LOG"
inv kf '{"action":"echo","again":true}'
is "$(jq -c . "$out")" '{"action":"echo","again":true}' "  and it serves"
wr function rm kf >/dev/null 2>&1
stop_daemon >/dev/null 2>&1
unlike "$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG")" . \
    "no sanitizer report from the daemons or their shims (ASan builds)"

done_testing

#!/bin/bash
# TAP test of per-container accounting, `warmrun stats` and `warmrun
# events`: every container (with and without limits) has its cgroups, and
# stats --json reports what its cgroup files say; events report a warm and
# a cold activation, exits with their status, an OOM kill and a kill, and
# --since replays them; bad input is refused. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env stats
err=$T/err
SCOPE=$(scope_of "$STATE")
MEMCG=/sys/fs/cgroup/memory/warmrun/$SCOPE
[ -d /sys/fs/cgroup/memory ] || MEMCG=/sys/fs/cgroup/unified/warmrun/$SCOPE

add_layer_image plain '{"Cmd": ["sh"], "Env": ["PATH=/bin"]}' 'true' || bail_out "image"
start_daemon || bail_out "the daemon did not start"
wr events --json >"$T/events" 2>"$T/events.err" &
EVENTS_PID=$!

wr pool create busybox --size 1 --memory 64m --pids-limit 50 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool with limits"
wr pool create plain --size 1 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool without limits"

# running_id IMAGE: the id of the running container of IMAGE.
running_id() { wr ps | awk -v img="$1:latest" '$2 == img && $3 == "running" {print $1; exit}'; }
wr activate busybox -- sleep 60 >/dev/null 2>&1 &
ACT1=$!
wr activate plain -- sleep 60 >/dev/null 2>&1 &
ACT2=$!
both_running() { [ -n "$(running_id busybox)" ] && [ -n "$(running_id plain)" ]; }
poll_until 10 both_running
LIM=$(running_id busybox)
PLAIN=$(running_id plain)
ok $([ -n "$LIM" ] && [ -n "$PLAIN" ]; echo $?) "two running containers ($LIM, $PLAIN)"
ok $([ -d "$MEMCG/$PLAIN" ]; echo $?) "a container without limits has its own memory cgroup"

wr stats --no-stream --json "$LIM" "$PLAIN" >"$T/stats" 2>"$err"
is "$?" 0 "stats --no-stream --json"
field() { jq -r --arg id "$1" ".[] | select(.id == \$id) | .$2" "$T/stats"; }
is "$(jq length "$T/stats")" 2 "... one row per container asked for"
is "$(field "$LIM" memory_limit_bytes)" "$(cat "$MEMCG/$LIM/memory.limit_in_bytes" 2>/dev/null ||
    cat "$MEMCG/$LIM/memory.max")" "limited: memory_limit_bytes is the cgroup's limit"
is "$(field "$LIM" memory_limited)" true "... memory_limited true"
PIDSCG=/sys/fs/cgroup/pids/warmrun/$SCOPE
[ -d "$PIDSCG" ] || PIDSCG=/sys/fs/cgroup/unified/warmrun/$SCOPE
is "$(field "$LIM" pids_limit)" "$(cat "$PIDSCG/$LIM/pids.max")" "... pids_limit is pids.max"
is "$(field "$LIM" pids)" "$(cat "$PIDSCG/$LIM/pids.current")" "... pids is pids.current"
is "$(field "$PLAIN" memory_limited)" false "unlimited: memory_limited false"
is "$(field "$PLAIN" memory_limit_bytes)" "$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024))" \
    "... memory_limit_bytes is the host's memory, as docker shows"
is "$(field "$PLAIN" pids_limit)" 0 "... no pids limit"
CPU_CG=$(jq -r --arg id "$PLAIN" '.[] | select(.id == $id) | .cpu_usage_ns' "$T/stats")
NOW_CG=$(cat /sys/fs/cgroup/cpuacct/warmrun/"$SCOPE"/"$PLAIN"/cpuacct.usage 2>/dev/null ||
    echo $(($(awk '/usage_usec/ {print $2}' /sys/fs/cgroup/unified/warmrun/"$SCOPE"/"$PLAIN"/cpu.stat) * 1000)))
ok $([ "$CPU_CG" -gt 0 ] && [ "$CPU_CG" -le "$NOW_CG" ]; echo $?) \
    "cpu_usage_ns is the cgroup's CPU time ($CPU_CG <= $NOW_CG)"
MEM=$(field "$PLAIN" memory_usage_bytes)
ok $([ "$MEM" -gt 0 ] && [ "$MEM" -le "$(cat "$MEMCG/$PLAIN/memory.usage_in_bytes" 2>/dev/null ||
    cat "$MEMCG/$PLAIN/memory.current")" ]; echo $?) "memory_usage_bytes: usage without inactive file pages"
is "$(field "$PLAIN" net_rx_bytes)" null "no interface but lo: net I/O null (-- in the table)"
wr stats --no-stream >"$T/table" 2>"$err"
like "$(head -1 "$T/table")" "CONTAINER ID +IMAGE +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS" \
    "the table has docker's columns"
like "$(cat "$T/table")" "$LIM +busybox:latest .* / 64MiB" "... and the limit"
wr stats --no-stream --json 0123456789ab >/dev/null 2>"$err"
is "$?" 1 "stats of an unknown container: exit 1"
like "$(cat "$err")" "no such container: 0123456789ab" "... saying which"
wr stats --daemon >"$T/dstats" 2>"$err"
like "$(cat "$T/dstats")" "activation latency" "stats --daemon: the latency view"

# ---- events -------------------------------------------------------------
wr activate busybox -- true
wr activate busybox -- sh -c 'exit 7'
wr pool create cold --size 0 >/dev/null 2>&1 # no such image: refused, nothing happens
wr pool rm plain >/dev/null
wr pool create plain --size 0 >/dev/null 2>"$err"
wr activate plain -- true >/dev/null 2>&1
wr pool create busybox --size 1 --memory 16m --wait --timeout 30 >/dev/null 2>"$err"
wr activate busybox -- sh -c 'x=a; while :; do x=$x$x; done' >/dev/null 2>&1
is "$?" 137 "a memory hog under --memory 16m is killed (137)"
wr kill "$PLAIN" >/dev/null 2>"$err"
is "$?" 0 "kill a running container"
has_event() { grep -q "$1" "$T/events"; }
poll_until 10 has_event '"type":"killed".*"'"$PLAIN"'"'
kill "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
ev() { grep -c "$1" "$T/events"; }
ok $([ "$(ev '"type":"pool_resized".*"busybox:latest".*"size":"1"')" -ge 1 ]; echo $?) "event: pool_resized"
ok $([ "$(ev '"type":"filled"')" -ge 2 ]; echo $?) "events: filled"
ok $([ "$(ev '"type":"warm"')" -ge 2 ]; echo $?) "events: warm"
ok $([ "$(ev '"type":"activated".*"kind":"warm"')" -ge 3 ]; echo $?) "events: activated, kind warm"
ok $([ "$(ev '"type":"activated".*"plain:latest".*"kind":"cold"')" -eq 1 ]; echo $?) \
    "event: activated, kind cold (a pool of size 0)"
ok $([ "$(ev '"type":"exited".*"status":"7"')" -eq 1 ]; echo $?) "event: exited with status 7"
ok $([ "$(ev '"type":"oom_killed"')" -eq 1 ]; echo $?) "event: oom_killed"
ok $([ "$(ev '"type":"exited".*"status":"137","oom":"true"')" -eq 1 ]; echo $?) "... and its exit, oom true"
ok $([ "$(ev '"type":"killed".*"'"$PLAIN"'".*"signal":"9"')" -eq 1 ]; echo $?) "event: killed, signal 9"
ok $([ "$(ev '"type":"pool_removed"')" -eq 1 ]; echo $?) "event: pool_removed"

# --since replays the ring; a time in the future replays nothing.
timeout 3 "${WR[@]}" events --json --since 10m >"$T/replay" 2>/dev/null
is "$(grep -c '"type":"activated"' "$T/replay")" "$(ev '"type":"activated"')" \
    "events --since 10m replays the past events"
timeout 2 "${WR[@]}" events --since 2099-01-01T00:00:00Z >"$T/replay2" 2>/dev/null
is "$(wc -c <"$T/replay2")" 0 "--since in the future: nothing replayed"
timeout 2 "${WR[@]}" events --since 1m >"$T/human" 2>/dev/null
like "$(head -1 "$T/human")" '^20[0-9-]+T[0-9:.]+Z [a-z_]+ ' "the human form: time, type, attributes"
wr events --since yesterday >/dev/null 2>"$err"
is "$?" 2 "--since garbage: exit 2"
pid_alive "$DAEMON_PID"
ok $? "the daemon lives after its subscribers went"
wr kill "$LIM" >/dev/null 2>&1
wait "$ACT1" "$ACT2"
stop_daemon
is "$?" 0 "the daemon stops cleanly"
our_cgroups() { find /sys/fs/cgroup/*/warmrun/"$SCOPE" -maxdepth 0 -type d 2>/dev/null | wc -l; }
no_cgroups() { [ "$(our_cgroups)" -eq 0 ]; }
poll_until 5 no_cgroups
is "$(our_cgroups)" 0 "no cgroup of this test is left (nor its scope directories)"
done_testing

#!/bin/bash
# TAP test: an activation that finds its pool without a warm container runs
# in the pool's container all the same (docs/architecture.md, "Cold
# fallback"): the daemon starts one with the pool's settings. A burst that
# drains a locked-down pool (-u 1000 --read-only --cap-drop ALL --memory
# 256m --pids-limit 64), and again right after `pool create` changed those
# settings: EVERY activation, warm or not, reports the pool's uid, no
# capabilities, seccomp and no_new_privs, a read-only root and the memory
# and pids limits, read inside the container. `activate -v` says warm or
# cold and why; --no-cold still refuses; `busy` beyond --max-cold-starts; a
# client that hangs up while its container starts leaves nothing behind and
# the daemon serves on; daemon --userns-default puts pools and the CLI's own
# cold starts in a user namespace. Needs root, busybox-static and python3.
. "$(dirname "$0")/lib.sh"
setup_env cold
command -v python3 >/dev/null || skip_all "python3 is not installed"

out=$T/out
err=$T/err

SCOPE=$(scope_of "$STATE")
# One name per container that has a cgroup (v1 controllers and cgroup2).
cg_ids() {
    ls -d /sys/fs/cgroup/warmrun/"$SCOPE"/*/ /sys/fs/cgroup/*/warmrun/"$SCOPE"/*/ 2>/dev/null |
        xargs -r -n1 basename | sort -u
}
no_cgroups() { [ -z "$(cg_ids)" ]; }
n_cgroups_is() { [ "$(cg_ids | wc -l)" -eq "$1" ]; }
fds_at_most() { [ "$(daemon_fds)" -le "$1" ]; }
ps_count_is() { [ "$(WR_TIMEOUT=10 wr ps 2>/dev/null | tail -n +2 | wc -l)" -eq "$1" ]; }
running_is() { [ "$(pool_field busybox:latest running)" = "$1" ]; }
finish() {
    local rc=$?
    rmdir /sys/fs/cgroup/warmrun/"$SCOPE" /sys/fs/cgroup/*/warmrun/"$SCOPE" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap finish EXIT

# What the workload sees of its container, on one line.
PROBE='u=$(id -u); g=$(id -g)
cap=$(awk "/^CapEff:/ {print \$2}" /proc/self/status)
sc=$(awk "/^Seccomp:/ {print \$2}" /proc/self/status)
nnp=$(awk "/^NoNewPrivs:/ {print \$2}" /proc/self/status)
if touch /probe-rw 2>/dev/null; then root=rw; else root=ro; fi
mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max 2>/dev/null)
pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null)
echo "uid=$u gid=$g capeff=$cap seccomp=$sc nnp=$nnp root=$root memory=$mem pids=$pids"'

# burst N TAG ARGS...: N concurrent `activate -v ARGS busybox -- sh -c PROBE
# (then sleep 1, so that none returns its container before the others
# asked)`; outputs in $T/TAG.N.out/.err, statuses in $T/TAG.N.rc.
burst() {
    local n=$1 tag=$2 i pids=()
    shift 2
    for ((i = 1; i <= n; i++)); do
        (
            wr activate -v "$@" busybox -- sh -c "$PROBE; sleep 1" >"$T/$tag.$i.out" 2>"$T/$tag.$i.err"
            echo $? >"$T/$tag.$i.rc"
        ) &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait_child "$i" 90; done
}

# check_burst N TAG EXPECTED-LINE DESCRIPTION: every activation of the
# burst ran with EXPECTED-LINE; counts warm and cold ones.
check_burst() {
    local n=$1 tag=$2 want=$3 desc=$4 i bad=0 warm=0 cold=0
    for ((i = 1; i <= n; i++)); do
        if [ "$(cat "$T/$tag.$i.rc" 2>/dev/null)" != 0 ] || [ "$(cat "$T/$tag.$i.out")" != "$want" ]; then
            bad=$((bad + 1))
            diag "activation $i: exit $(cat "$T/$tag.$i.rc" 2>/dev/null): $(cat "$T/$tag.$i.out")"
            diag "  stderr: $(head -c 400 "$T/$tag.$i.err")"
        fi
        grep -q '^warmrun: warm container ' "$T/$tag.$i.err" && warm=$((warm + 1))
        grep -q '^warmrun: cold container ' "$T/$tag.$i.err" && cold=$((cold + 1))
    done
    is "$bad" 0 "$desc: all $n activations ran with the pool's settings ($warm warm, $cold cold)"
    ok $((cold > 0 ? 0 : 1)) "  the burst drained the pool: at least one activation was cold ($cold)"
    is "$((warm + cold))" "$n" "  -v names warm or cold for each"
    BURST_COLD_ERR=
    for ((i = 1; i <= n; i++)); do
        grep -q '^warmrun: cold container ' "$T/$tag.$i.err" && BURST_COLD_ERR=$T/$tag.$i.err
    done
}

start_daemon || bail_out "the daemon did not start"

# ---- the reproducer: a burst drains a locked-down pool ------------------------
POOL_OPTS=(-u 1000 --read-only --cap-drop ALL --security-opt no-new-privileges --memory 256m
    --pids-limit 64)
wr pool create busybox --size 2 "${POOL_OPTS[@]}" --wait >"$out" 2>"$err"
ok $? "pool create busybox --size 2 -u 1000 --read-only --cap-drop ALL --memory 256m --pids-limit 64" ||
    show_err
want="uid=1000 gid=0 capeff=0000000000000000 seccomp=2 nnp=1 root=ro memory=268435456 pids=64"
burst 6 first
check_burst 6 first "$want" "6 concurrent activations of a 2-container pool"
if [ -n "$BURST_COLD_ERR" ]; then
    like "$(cat "$BURST_COLD_ERR")" \
        "(^|$'\n')warmrun: cold: pool busybox:latest had no warm container; started one with the pool's settings" \
        "  -v of a fallback: why it was cold, and that it has the pool's settings"
else
    skip 1 "no cold activation"
fi
wait_pool_full busybox:latest 30
is "$(pool_field busybox:latest activations)" 6 "  pool ls counts all 6 as the pool's activations"

# ---- right after pool create changed the settings ---------------------------
wr pool create busybox --size 2 -u 1001 --read-only --cap-drop ALL --memory 128m --pids-limit 32 \
    >"$out" 2>"$err"
ok $? "pool create changes the settings (-u 1001 --memory 128m --pids-limit 32), no --wait" || show_err
want2="uid=1001 gid=0 capeff=0000000000000000 seccomp=2 nnp=1 root=ro memory=134217728 pids=32"
burst 6 changed
check_burst 6 changed "$want2" "6 activations right after the change"

# ---- a pool of size 0: every activation is a start with its settings --------
wr pool create busybox --size 0 "${POOL_OPTS[@]}" >"$out" 2>"$err"
ok $? "pool create --size 0 (settings only)" || show_err
poll_until 20 no_container_pids
wr activate -v busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "an activation of a size-0 pool runs"
is "$(cat "$out")" "$want" "  with the pool's settings"
like "$(cat "$err")" "cold: pool busybox:latest had no warm container" "  -v: cold, and why"

# --no-cold still refuses rather than wait for a start.
wr activate --no-cold busybox -- true >"$out" 2>"$err"
is "$?" 125 "--no-cold with no warm container: exit 125"
like "$(cat "$err")" '^warmrun: the pool has no warm container right now$' "  one clear line"

# Signals asked for while the container is starting reach the workload.
"${WR[@]}" activate --init busybox -- sleep 30 >"$out" 2>"$err" &
cli=$!
sleep 0.05
kill -TERM "$cli"
wait_child "$cli" 30
is "$WAIT_RC" 143 "SIGTERM sent while its container starts ends the workload (143)"

# ---- clients that hang up while their container starts ----------------------
cat >"$T/hangup.py" <<'EOF'
import json, os, socket, sys
path, n = sys.argv[1], int(sys.argv[2])
null = [os.open(os.devnull, os.O_RDWR) for _ in range(3)]
req = json.dumps(dict(op="activate", image="busybox", argv=["sleep", "60"])).encode()
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    socket.send_fds(s, [req], null)
    s.close()
print("done")
EOF
poll_until 20 no_container_pids
fds_before=$(daemon_fds)
r=$(timeout -k 5 60 python3 "$T/hangup.py" "$SOCK" 20 2>&1)
is "$r" done "20 clients send an activation and hang up at once"
ok "$(pid_gone "$DAEMON_PID" && echo 1 || echo 0)" "  the daemon survives"
poll_until 30 no_container_pids
ok $? "  no shim or container is left (pool of size 0)" || show_pids $(our_pids_except_daemon)
poll_until 10 no_cgroups
ok $? "  no container cgroup is left" || diag "left: $(cg_ids | tr '\n' ' ')"
is "$(WR_TIMEOUT=10 wr ps | tail -n +2 | wc -l)" 0 "  ps lists nothing"
poll_until 10 fds_at_most "$fds_before"
is "$(daemon_fds)" "$fds_before" "  the daemon holds no more descriptors than before"
wr activate busybox -- echo alive >"$out" 2>"$err"
is "$(cat "$out")" alive "  and serves the next activation" || show_err

# A client that hangs up while its container starts, from a pool that wants
# containers: the container is not lost (it joins the pool, or goes if the
# pool is full), and nothing else is left.
wr pool create busybox --size 1 "${POOL_OPTS[@]}" --wait >"$out" 2>"$err"
ok $? "pool create --size 1" || show_err
wr activate busybox -- sleep 3 >/dev/null 2>&1 &
holder=$!
poll_until 10 running_is 1
r=$(timeout -k 5 60 python3 "$T/hangup.py" "$SOCK" 5 2>&1)
is "$r" done "5 clients hang up while the drained pool refills"
wait_child "$holder" 30
wait_pool_full busybox:latest 30
poll_until 10 ps_count_is 1
is "$(WR_TIMEOUT=10 wr ps | tail -n +2 | awk '{print $3}' | tr '\n' ' ')" "warm " \
    "  the pool is back to its one warm container, nothing else"
poll_until 10 n_cgroups_is 1
is "$(cg_ids | wc -l | tr -d ' ')" 1 "  one container cgroup: the warm one's"

# ---- why a start went cold, when the CLI starts it ---------------------------
wr activate -v --cap-drop ALL busybox -- true >"$out" 2>"$err"
like "$(cat "$err")" '(^|'$'\n'')warmrun: cold: per-activation security options \(a pool' \
    "-v of per-activation options: 'cold: per-activation security options (...)'"
wr pool rm busybox >/dev/null 2>&1
wr activate -v busybox -- true >"$out" 2>"$err"
like "$(cat "$err")" '(^|'$'\n'')warmrun: cold: no pool for this image('$'\n''|$)' \
    "-v without a pool: 'cold: no pool for this image'"
stop_daemon
is "$DAEMON_RC" 0 "the daemon stops cleanly"
wr activate -v busybox -- true >"$out" 2>"$err"
like "$(cat "$err")" '(^|'$'\n'')warmrun: cold: no daemon('$'\n''|$)' "-v without a daemon: 'cold: no daemon'"

# ---- busy beyond --max-cold-starts --------------------------------------------
start_daemon --max-cold-starts 0 || bail_out "the daemon did not start"
wr pool create busybox --size 0 "${POOL_OPTS[@]}" >"$out" 2>"$err"
wr activate busybox -- true >"$out" 2>"$err"
is "$?" 125 "--max-cold-starts 0: an activation of a pool without a warm container fails (125)"
like "$(cat "$err")" '^warmrun: pool busybox:latest has no warm container and 0 are already being started \(daemon --max-cold-starts 0\); retry, or make the pool larger$' \
    "  with one clear line"
stop_daemon

# ---- while a container is starting for a client -------------------------------
# A shim that, while $T/slow exists, takes 3 s before it starts: a
# container is then "starting" long enough to change things under it.
# A compiled program, not a script: the daemon executes its shim through
# /proc/self/fd/N of a close-on-exec descriptor (shim_exe.h), which an
# interpreter could not open again.
cat >"$T/slowshim.c" <<EOF
#include <unistd.h>
int main(int argc, char **argv)
{
    (void)argc;
    if (access("$T/slow", F_OK) == 0)
        sleep(3);
    argv[0] = "$WARMRUN_BIN_DIR/warmrun-shim";
    execv(argv[0], argv);
    return 127;
}
EOF
cc -O1 -o "$T/slowshim" "$T/slowshim.c" || bail_out "cannot compile the slow shim wrapper"
starting_seen() { WR_TIMEOUT=10 wr ps 2>/dev/null | awk '$3 == "starting"' | grep -q .; }
# start_slow ARGS...: one activation in the background (pid in $bg, output
# in $T/slow.out/.err), once the daemon shows its container as starting.
start_slow() {
    touch "$T/slow"
    wr activate "$@" busybox -- sh -c "$PROBE" >"$T/slow.out" 2>"$T/slow.err" &
    bg=$!
    poll_until 20 starting_seen
    ok $? "  ps shows the container being started for it as 'starting'"
    rm -f "$T/slow"
}
# The wrapper delays an exec'd shim: the daemon must spawn every one, not
# have its shim server fork them (the server would be the one delayed).
WARMRUN_SHIM_SERVER=off WARMRUN_SHIM=$T/slowshim start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 0 "${POOL_OPTS[@]}" >"$out" 2>"$err"
ok $? "pool create --size 0 (a daemon whose shim can be slow)" || show_err

start_slow
wr pool create busybox --size 0 -u 1001 --read-only --cap-drop ALL --memory 128m --pids-limit 32 \
    >"$out" 2>"$err"
ok $? "pool create changes the settings while a container starts for an activation" || show_err
wait_child "$bg" 60
is "$WAIT_RC" 0 "  the activation succeeds"
is "$(cat "$T/slow.out")" "$want2" "  with the new settings, not the old" || diag_file "$T/slow.err"

start_slow
wr pool rm busybox >"$out" 2>"$err"
wait_child "$bg" 60
is "$WAIT_RC" 125 "pool rm while a container starts for an activation: it fails (125)"
is "$(cat "$T/slow.err")" \
    "warmrun: pool busybox:latest was removed while a container was being started for this activation" \
    "  with one clear line"

wr pool create busybox --size 0 "${POOL_OPTS[@]}" >"$out" 2>"$err"
start_slow
stop_daemon
is "$DAEMON_RC" 0 "shutdown while a container starts for an activation: the daemon stops cleanly"
wait_child "$bg" 60
is "$WAIT_RC" 125 "  the activation fails (125)"
is "$(cat "$T/slow.err")" "warmrun: the daemon stopped before the container was ready" \
    "  with one clear line"
poll_until 20 no_container_pids
ok $? "  no shim or container is left" || show_pids $(our_pids)
poll_until 10 no_cgroups
ok $? "  no container cgroup is left" || diag "left: $(cg_ids | tr '\n' ' ')"

# ---- daemon --userns-default ---------------------------------------------------
start_daemon --userns-default auto || bail_out "the daemon did not start"
map() { tr -s ' \t' ' ' <"$out" | sed 's/^ //'; }
wr pool create busybox --size 1 --wait >"$out" 2>"$err"
ok $? "pool create without --userns under --userns-default auto" || show_err
wr activate --no-cold busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 1000000000 65536" "  its warm containers have a uid map"
wr activate busybox -- sh -c 'sleep 1' >/dev/null 2>&1 &
holder=$!
sleep 0.2
wr activate -v busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 1000000000 65536" "  so does one started for an activation"
wait_child "$holder" 30
wr activate --cold busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 1000000000 65536" "the CLI's own cold start (--cold) has it too"
wr activate --cap-drop ALL busybox:latest -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 1000000000 65536" "  and one with per-activation options"
wr activate --userns host --cold busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 0 4294967295" "  activate --userns host opts out"
wr pool create busybox --size 1 --userns host --wait >"$out" 2>"$err"
wr activate --no-cold busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 0 4294967295" "pool create --userns host opts out"
stop_daemon
ok "$([ -e "$STATE/defaults" ] && echo 1 || echo 0)" "the daemon removes its defaults when it stops"
wr activate busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
is "$(map)" "0 0 4294967295" "  and cold starts without a daemon have no user namespace again"

done_testing

#!/bin/bash
# TAP test: the shim server (docs/architecture.md, "Fill path"). The daemon
# runs one `warmrun-shim --server` (its child, executed from the read-only
# overlay like every shim) that forks the fills' shims: each shim is the
# daemon's child, yet shares the server's stack address (a fork, where an
# execve would randomise it), but a stack protector canary of its own (read
# with gdb, where there is one). A forked shim must start exactly as a spawned
# one: compared with the shims of a daemon with WARMRUN_SHIM_SERVER=off,
# the same descriptors (kinds and numbers; none of the server's), signal
# mask and dispositions (the server ignores SIGHUP and SIGINT: its shims do
# not), limits, umask, scheduling, OOM score, seccomp, capabilities and
# cgroups; /proc/PID/cmdline shows its own argv. The server keeps nothing
# of a request (no container id in its memory). Killed (-9; idle, and
# while a pool fills) or stopped (SIGSTOP: its reply never comes), the pool
# still fills and a new server
# replaces it, with nothing leaked (zombies, descriptors, processes). The
# daemon killed (-9): the server goes with it. Fails on binaries without
# the server (there is none). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env shimsrv

POOL=3
IMG=busybox:latest

server_pid() { pgrep -P "$DAEMON_PID" -x warmrun-shimsrv; }
shims() { pgrep -P "$DAEMON_PID" -x warmrun-shim | sort -n; }
startstack() { awk '{print $28}' "/proc/$1/stat" 2>/dev/null; }
# What a shim starts with, without the numbers that differ per process.
profile_of() {
    local p=$1 fd
    for fd in $(ls "/proc/$p/fd" | sort -n); do
        echo "fd $fd $(readlink "/proc/$p/fd/$fd" | sed -E 's/\[[0-9]+\]//; s/:.*//')"
    done
    grep -E '^(Umask|SigBlk|SigIgn|SigCgt|NoNewPrivs|Seccomp|Cap(Inh|Prm|Eff|Bnd|Amb)|Cpus_allowed_list):' \
        "/proc/$p/status"
    awk '{print "policy", $41, "nice", $19}' "/proc/$p/stat"
    echo "oom_score_adj $(cat "/proc/$p/oom_score_adj")"
    cat "/proc/$p/limits"
    sed -E 's/[0-9a-f]{12,}/ID/g' "/proc/$p/cgroup"
    echo "personality $(cat "/proc/$p/personality")"
}
# The profile of a warm shim (waits for the pool, picks the oldest).
warm_shim_profile() {
    wait_pool_full "$IMG" 30 || return 1
    profile_of "$(shims | head -1)"
}

# ---- a daemon that spawns every shim: the reference ------------------------
WARMRUN_SHIM_SERVER=off start_daemon || bail_out "the daemon did not start"
wr pool create "$IMG" --size "$POOL" >/dev/null 2>&1 || bail_out "pool create failed"
warm_shim_profile >"$T/spawned" || bail_out "the reference pool did not fill"
is "$(server_pid)" "" "WARMRUN_SHIM_SERVER=off: no shim server"
stop_daemon

# ---- the shim server ----------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create "$IMG" --size "$POOL" >/dev/null 2>&1 || bail_out "pool create failed"
wait_pool_full "$IMG" 30
ok $? "the pool of $POOL fills"
srv=$(server_pid)
[ -n "$srv" ]
ok $? "the daemon runs a shim server (pid ${srv:-none})" || show_pids $(our_pids)
[ -n "$srv" ] || bail_out "no shim server: nothing else to check"
like "$(readlink "/proc/$srv/exe")" '^/warmrun-shim' \
    "  executed from the read-only overlay, not $WARMRUN_BIN_DIR" || true
[ "$(readlink "/proc/$srv/exe")" != "$(readlink -f "$WARMRUN_BIN_DIR/warmrun-shim")" ]
ok $? "  its /proc/PID/exe is not the host's binary"

# Forked: every warm shim is the daemon's child with the server's stack.
n=0 same=0
for s in $(shims); do
    n=$((n + 1))
    [ "$(startstack "$s")" = "$(startstack "$srv")" ] && same=$((same + 1))
done
if [ "$(cat /proc/sys/kernel/randomize_va_space)" != 0 ]; then
    ok "$([ "$n" -eq "$POOL" ] && [ "$same" -eq "$n" ] && echo 0 || echo 1)" \
        "$same of $n warm shims (the daemon's children) were forked by the server (its stack)"
else
    skip "address space randomisation is off: a fork and an exec look alike" 1
fi
# ... but not its stack protector canary, which an exec would draw afresh.
canary() { gdb -p "$1" -batch -ex 'p/x *(long *)($fs_base + 0x28)' 2>/dev/null | sed -n 's/^\$1 = //p'; }
if command -v gdb >/dev/null && [ "$(uname -m)" = x86_64 ]; then
    c_srv=$(canary "$srv") distinct=0
    for s in $(shims); do
        c=$(canary "$s")
        [ -n "$c" ] && [ "$c" != "$c_srv" ] && distinct=$((distinct + 1))
    done
    ok "$([ -n "$c_srv" ] && [ "$distinct" -eq "$n" ] && echo 0 || echo 1)" \
        "  $distinct of $n forked shims have a canary of their own, not the server's"
else
    skip "needs gdb on x86-64 to read a canary" 1
fi
shim=$(shims | head -1)
like "$(tr '\0' ' ' <"/proc/$shim/cmdline")" "^warmrun-shim --id [0-9a-f]+ --image $IMG " \
    "  a forked shim's command line is its own argv"

# Started exactly as a spawned shim.
warm_shim_profile >"$T/forked"
diff "$T/spawned" "$T/forked" >"$T/diff"
ok $? "  a forked shim starts as a spawned one: descriptors, signals, limits, scheduling, cgroups" ||
    diag_file "$T/diff"
grep -q '^SigIgn:' "$T/forked" && grep -q '^fd 2 ' "$T/forked"
ok $? "  (the comparison saw the signals and descriptors)" || diag_file "$T/forked"
srv_sock=$(readlink "/proc/$srv/fd/3")
leaked=0
for s in $(shims); do
    for fd in /proc/"$s"/fd/*; do
        [ "$(readlink "$fd")" = "$srv_sock" ] && leaked=1
    done
done
is "$leaked" 0 "  no shim holds the server's socket"
# The server's own dispositions are not the shims': it ignores SIGHUP, SIGINT.
srv_ign=$(awk '/^SigIgn:/ {print $2}' "/proc/$srv/status")
shim_ign=$(awk '/^SigIgn:/ {print $2}' "/proc/$shim/status")
[ $((0x$srv_ign & 3)) -eq 3 ] && [ $((0x$shim_ign & 3)) -eq 0 ]
ok $? "  the server ignores SIGHUP and SIGINT ($srv_ign), its shims do not ($shim_ign)"

# It keeps nothing of a request: no container id in its memory.
ids=$(wr ps 2>/dev/null | awk 'NR > 1 {print $1}' | tr '\n' ' ')
found=$(perl -e '
    my ($pid, @ids) = @ARGV;
    open(my $maps, "<", "/proc/$pid/maps") or die;
    open(my $mem, "<:raw", "/proc/$pid/mem") or die;
    my $n = 0;
    while (<$maps>) {
        my ($a, $b, $perm) = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/ or next;
        next unless $perm =~ /^rw/ && hex($b) - hex($a) <= (64 << 20); # not a sanitizer shadow
        seek($mem, hex($a), 0) or next;
        my $buf; defined(sysread($mem, $buf, hex($b) - hex($a))) or next;
        for my $id (@ids) { $n++ if index($buf, $id) >= 0 }
    }
    print "$n\n";' "$srv" $ids)
[ -n "$ids" ] && [ "$found" = 0 ]
ok $? "  the server's memory holds none of the ${ids:+$(echo $ids | wc -w)} container ids it forked shims for" ||
    diag "found: $found; ids: $ids"

out=$(wr activate --no-cold "$IMG" -- echo forked-ok 2>&1)
is "$out" forked-ok "an activation of a forked shim's container runs"

# ---- the server killed ---------------------------------------------------------
wait_pool_full "$IMG" 30
fds0=$(daemon_fds)
kill -KILL "$srv"
for i in 1 2 3; do wr activate --no-cold "$IMG" -- true >/dev/null 2>&1; done
wait_pool_full "$IMG" 30
ok $? "server killed (-9): the pool fills again"
new_server() { local p; p=$(server_pid); [ -n "$p" ] && [ "$p" != "$srv" ]; }
poll_until 10 new_server
ok $? "  a new server replaces it" || diag_file "$DAEMON_LOG"
wait_pool_full "$IMG" 30
is "$(shims | wc -l)" "$POOL" "  the pool's shims, no more"
zombies=$(ps -o stat= --ppid "$DAEMON_PID" | grep -c '^Z')
is "$zombies" 0 "  no zombie child of the daemon"
is "$(daemon_fds)" "$fds0" "  the daemon's descriptors are back to $fds0"

# ---- the server killed in the middle of a fill ---------------------------------------
BIG=10
wr pool create "$IMG" --size "$BIG" >/dev/null 2>&1
kill -KILL "$(server_pid)"
wait_pool_full "$IMG" 60
ok $? "server killed while a pool of $BIG fills: it fills"
is "$(shims | wc -l)" "$BIG" "  $BIG shims, no more"
is "$(ls "$STATE/containers" | wc -l)" "$BIG" "  $BIG state records"
wr pool create "$IMG" --size "$POOL" >/dev/null 2>&1
pool_back() { [ "$(shims | wc -l)" -eq "$POOL" ] && pool_full "$IMG"; }
poll_until 30 pool_back
ok $? "  back to $POOL" || show_pids $(shims)
is "$(ps -o stat= --ppid "$DAEMON_PID" | grep -c '^Z')" 0 "  no zombie child of the daemon"
fds_back() { [ "$(daemon_fds)" -eq "$fds0" ]; }
poll_until 10 fds_back # (a new server's socket included)
ok $? "  the daemon's descriptors are back to $fds0 ($(daemon_fds))"

# ---- the server stopped: its reply never comes ------------------------------------
poll_until 10 server_pid >/dev/null
srv=$(server_pid)
kill -STOP "$srv"
wr activate --no-cold "$IMG" -- true >/dev/null 2>&1
wait_pool_full "$IMG" 30
ok $? "server stopped: the pool fills (spawned)"
poll_until 5 pid_gone "$srv"
ok $? "  the stopped server was killed" || show_pids "$srv"
grep -q "shim server: no reply.*(pid $srv): killed" "$DAEMON_LOG"
ok $? "  and the daemon said so" || diag_file "$DAEMON_LOG"

# ---- a server serves 32 fills, then a new one (a layout of its own) takes over --------
poll_until 10 new_server
srv=$(server_pid)
wr pool create "$IMG" --size 40 >/dev/null 2>&1
wait_pool_full "$IMG" 60
ok $? "a pool of 40 fills"
poll_until 10 new_server
ok $? "  by more than one server: the one before it served at most 32 fills"
poll_until 5 pid_gone "$srv"
ok $? "  and it is gone" || show_pids "$srv"
grep -q "shim server $srv exited" "$DAEMON_LOG"
is "$?" 1 "  quietly: its end is not in the daemon's log"
wr pool create "$IMG" --size "$POOL" >/dev/null 2>&1

# ---- the daemon killed: the server goes too ----------------------------------------------
poll_until 10 new_server
srv=$(server_pid)
[ -n "$srv" ] || diag "no server before the daemon's kill"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
poll_until 5 pid_gone "$srv"
ok $? "daemon killed (-9): the shim server goes too" || show_pids "$srv"

done_testing

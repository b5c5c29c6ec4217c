#!/bin/bash
# TAP test for leaks over many warm activations: with a pool of 2, runs 1000
# activations of /bin/true (100 with WARMRUN_QUICK=1), each with --no-cold and
# retried while the pool is momentarily empty, then checks that the host's
# processes and mounts, and the daemon's descriptors and memory, are back
# where they were. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env leaks

out=$T/out
err=$T/err
POOL=2
N=1000
[ "${WARMRUN_QUICK:-0}" = 1 ] && N=100
WARMUP=30

misses=0
failures=0
# activate_once: one warm activation of /bin/true; an empty pool (125, "no
# warm container") is retried for up to ~10 s; anything else is a failure.
activate_once() {
    local tries=0 rc
    while :; do
        wr activate --no-cold busybox -- /bin/true >"$out" 2>"$err"
        rc=$?
        [ "$rc" -eq 0 ] && [ ! -s "$out" ] && return 0
        if [ "$rc" -eq 125 ] && grep -q 'no warm container' "$err" && [ "$tries" -lt 500 ]; then
            misses=$((misses + 1))
            tries=$((tries + 1))
            sleep 0.02
            continue
        fi
        failures=$((failures + 1))
        [ "$failures" -le 3 ] && diag "activation failed (rc $rc): $(head -c 200 "$err")"
        return 1
    done
}

host_procs() { ps -e --no-headers | wc -l; }
our_count() { our_pids | wc -l; }

# settled: the pool is full and this test's processes, the host's mounts and
# the daemon's descriptors are back to the baseline.
settled() {
    pool_full busybox:latest && [ "$(our_count)" -eq "$procs0" ] &&
        [ "$(host_mounts)" -eq "$mounts0" ] && [ "$(daemon_fds)" -eq "$fds0" ]
}

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size "$POOL" --wait >"$out" 2>"$err"
ok $? "pool create busybox --size $POOL --wait" || { show_err; bail_out "no pool"; }

# Warm up (allocator, page cache), then take the baseline.
for ((i = 0; i < WARMUP; i++)); do activate_once; done
wait_pool_full busybox:latest 30
sleep 1
wait_pool_full busybox:latest 30
ok $? "the pool is full after $WARMUP warm-up activations"
procs0=$(our_count)
host_procs0=$(host_procs)
ps -e -o pid= | sort >"$T/pids0"
mounts0=$(host_mounts)
fds0=$(daemon_fds)
rss0=$(daemon_rss_kb)
diag "baseline: $procs0 processes of this test, $host_procs0 on the host, $mounts0 mounts," \
    "daemon: $fds0 fds, $rss0 kB RSS"
is "$procs0" $((2 + 2 * POOL)) "baseline: the daemon, its shim server, $POOL shims and $POOL containers"

# --- the run ------------------------------------------------------------------------
misses=0
failures=0
start=$SECONDS
for ((i = 0; i < N; i++)); do
    activate_once
    [ "$failures" -gt $((N / 100)) ] && break
done
elapsed=$((SECONDS - start))
diag "$N activations in $elapsed s; $misses retries on an empty pool"
[ "$N" -eq 1000 ] || skip 1 "WARMRUN_QUICK=1: $N activations instead of 1000"
is "$failures" 0 "$N warm activations of /bin/true, none failed"
acts=$(pool_field busybox:latest activations)
[ "${acts:-0}" -ge $((N + WARMUP)) ]
ok $? "the pool counted them ($acts activations)"

# --- back to the baseline -------------------------------------------------------------
poll_until 30 settled
ok $? "everything settles within 30 s (pool full, processes, mounts, fds)"
is "$(our_count)" "$procs0" "this test's processes are back to $procs0" || show_pids $(our_pids)
is "$(host_mounts)" "$mounts0" "the host's mount count is back to $mounts0"
is "$(daemon_fds)" "$fds0" "the daemon's descriptors are back to $fds0"
is "$(ls "$STATE/containers" | wc -l)" "$POOL" "$POOL state records, one per warm container"
[ -z "$(ls -A "$STATE/mnt")" ]
ok $? "the host's $STATE/mnt is empty"

# The host's process count: other users of this machine may start and end
# processes meanwhile. When the count is not back to the baseline, the excess
# must be explained by new processes that are not this test's (its own are
# counted exactly above).
host_back() { [ "$(host_procs)" -le "$host_procs0" ]; }
if poll_until 20 host_back; then
    ok 0 "the host's process count is back to $host_procs0 ($(host_procs))"
else
    host_procs1=$(host_procs)
    ps -e -o pid= | tr -d ' ' | sort >"$T/pids1"
    tr -d ' ' <"$T/pids0" | sort >"$T/pids0.s"
    foreign_new=$(comm -13 "$T/pids0.s" "$T/pids1" | grep -vxF -f <(our_pids; echo none))
    n_foreign=$(echo "$foreign_new" | grep -c .)
    [ "$(our_count)" -eq "$procs0" ] && [ $((host_procs1 - host_procs0)) -le "$n_foreign" ]
    ok $? "the host's process count ($host_procs1 vs $host_procs0) grew only by other users' processes ($n_foreign new)"
    show_pids $foreign_new
fi

rss1=$(daemon_rss_kb)
diag "daemon RSS: $rss0 kB before, $rss1 kB after"
if [ "$ASAN" -eq 1 ]; then
    skip 1 "AddressSanitizer build: RSS includes the allocator's quarantine"
else
    [ $((rss1 - rss0)) -lt 2048 ]
    ok $? "the daemon's RSS grew by less than 2 MiB ($((rss1 - rss0)) kB)"
fi

wr stats --daemon >"$out" 2>"$err"
like "$(head -1 "$out")" "^activations [0-9]+ \(warm [0-9]+" "stats answers after the run" || show_err

stop_daemon
ok $? "the daemon shuts down cleanly (exit $DAEMON_RC)" || diag_file "$DAEMON_LOG"
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG"
ok $? "no sanitizer report in the daemon's log" || diag_file "$DAEMON_LOG" 40
poll_until 10 no_container_pids
ok $? "no shim or container is left" || show_pids $(our_pids)
is "$(host_mounts)" "$mounts0" "the host's mount count is still $mounts0"

done_testing

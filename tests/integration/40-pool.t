#!/bin/bash
# TAP test of the daemon's pools and of a running container's life: warm
# containers are stopped (state T) and refilled after use; pool rm, resize,
# fallback to a cold start; kill; signals from the CLI reach the workload; a
# dead CLI takes its container with it; nothing outlives a workload.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env pool

out=$T/out
err=$T/err
TAG=$((100 + RANDOM % 800)).$$ # a unique `sleep` argument, to find its processes

# ps_rows STATE: `ps` rows (ID PID SHIM) of containers in STATE.
ps_rows() {
    wr ps 2>/dev/null | awk -v s="$1" 'NR > 1 && $3 == s {print $1, $4, $5}'
}
# (anchored: the CLI's own command line also ends in "sleep $TAG")
no_sleep_tag() { ! pgrep -f "^sleep $1" >/dev/null; }
sleep_tag_runs() { pgrep -f "^sleep $1" >/dev/null; }
all_gone() {
    local p
    for p; do pid_gone "$p" || return 1; done
}

start_daemon || bail_out "the daemon did not start"

# --- a pool of 3 -----------------------------------------------------------------
wr pool create busybox --size 3 --wait >"$out" 2>"$err"
ok $? "pool create busybox --size 3 --wait" || { show_err; bail_out "no pool"; }

wr pool ls >"$out"
like "$(awk '$1 == "busybox:latest" {print $2, $3, $4, $5}' "$out")" '^3 3 0 0$' \
    "pool ls: size 3, warm 3, filling 0, running 0" || diag_file "$out"

warm=$(ps_rows warm)
is "$(echo "$warm" | grep -c .)" 3 "ps lists 3 warm containers"
states= comms= shims_ok=0
for pid in $(echo "$warm" | awk '{print $2}'); do
    states="$states$(pid_state "$pid")"
    comms="$comms $(cat "/proc/$pid/comm" 2>/dev/null)"
done
is "$states" TTT "  their pid 1s are stopped (state T)"
is "$comms" " warmrun-init warmrun-init warmrun-init" "  and are warmrun-init"
for shim in $(echo "$warm" | awk '{print $3}'); do
    [ "$(cat "/proc/$shim/comm" 2>/dev/null)" = warmrun-shim ] &&
        [ "$(awk '{print $4}' "/proc/$shim/stat" | tail -1)" = "$DAEMON_PID" ] &&
        shims_ok=$((shims_ok + 1))
done
is "$shims_ok" 3 "  their shims are warmrun-shim children of the daemon"
is "$(ls "$STATE/containers" | sort | tr '\n' ' ')" "$(echo "$warm" | awk '{print $1}' | sort | tr '\n' ' ')" \
    "  a state record per container, named by its id"
first_ids=$(echo "$warm" | awk '{print $1}')
first_shims=$(echo "$warm" | awk '{print $3}')

# --- refill --------------------------------------------------------------------
warm_acts=0
for i in 1 2 3 4 5; do
    wr activate -v busybox -- echo "run $i" >"$out" 2>"$err" || show_err
    grep -q 'warm container' "$err" && warm_acts=$((warm_acts + 1))
done
[ "$warm_acts" -ge 3 ]
ok $? "5 activations, $warm_acts of them warm"
wait_pool_full busybox:latest 20
ok $? "the pool refills to 3 warm (within 20 s)"
is "$(pool_field busybox:latest activations)" "$warm_acts" "pool ls counts $warm_acts activations"
now_ids=$(ps_rows warm | awk '{print $1}')
is "$(echo "$now_ids" | grep -c .)" 3 "ps lists 3 warm containers again"
is "$(comm -12 <(echo "$first_ids" | sort) <(echo "$now_ids" | sort))" "" \
    "  none of them is one of the first 3 (used first, never reused)"
poll_until 10 all_gone $first_shims
ok $? "  the used containers' shims have exited"
# The activations the empty pool started (not among the first 3) may still
# be ending on a busy machine: their shims remove their records as they go.
three_records() { [ "$(ls "$STATE/containers" | wc -l)" -eq 3 ]; }
poll_until 10 three_records
is "$(ls "$STATE/containers" | wc -l)" 3 "  3 state records remain"

# --- pool rm -------------------------------------------------------------------
rows=$(ps_rows warm)
pids=$(echo "$rows" | awk '{print $2, $3}')
wr pool rm busybox >"$out" 2>"$err"
ok $? "pool rm busybox" || show_err
wr pool ls >"$out"
! grep -q '^busybox:latest' "$out"
ok $? "  the pool is no longer listed"
poll_until 10 all_gone $pids
ok $? "  its warm containers and their shims exit (within 10 s)" || show_pids $pids
poll_until 5 test -z "$(ls -A "$STATE/containers")"
ok $? "  their state records are removed"
is "$(wr ps | sed 1d)" "" "  ps lists no container"

wr pool rm busybox >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'no pool' "$err"
ok $? "pool rm of a missing pool: exit 1, 'no pool' (rc $rc)" || show_err

# --- no pool: --no-cold, cold fallback --------------------------------------------
wr activate --no-cold busybox -- echo hi >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 125 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q 'no pool' "$err" && [ ! -s "$out" ]
ok $? "--no-cold without a pool: exit 125 and one line 'no pool' (rc $rc)" || show_err

"$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" build-busybox --tag other >/dev/null 2>&1
wr pool create busybox:other --size 1 --wait >"$out" 2>"$err"
ok $? "pool create busybox:other --size 1 --wait" || show_err
wr activate -v busybox -- echo hi >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$out")" = hi ] && grep -q 'cold' "$err"
ok $? "with a pool for another image only: cold fallback, and -v says 'cold' (rc $rc)" || show_err
like "$(awk '$1 == "busybox:other" {print $3, $6}' <(wr pool ls))" '^1 0$' \
    "  the other image's pool is untouched (1 warm, 0 activations)"
wr activate -v busybox:other -- echo hi >"$out" 2>"$err"
grep -q 'warm container' "$err"
ok $? "  busybox:other itself activates warm" || show_err

# --- resize --------------------------------------------------------------------
wr pool create busybox:other --size 2 --wait >"$out" 2>"$err"
is "$(pool_field busybox:other warm)" 2 "pool create again resizes: 2 warm"
wr pool create busybox:other --size 0 >"$out" 2>"$err"
poll_until 10 test -z "$(ps_rows warm)"
ok $? "resized to 0: its warm containers go"
is "$(pool_field busybox:other size)" 0 "  the pool stays, with size 0"

# --- the writable layer's size --------------------------------------------------
wr pool create busybox:other --size 1 --tmpfs-size 8m --wait >"$out" 2>"$err"
ok $? "pool create --tmpfs-size 8m" || show_err
wr activate --no-cold busybox:other -- sh -c \
    'df -k / | awk "NR==2{print \$2}"; dd if=/dev/zero of=/fill bs=1M count=20 2>&1; exit 0' \
    >"$out" 2>"$err"
is "$(sed -n 1p "$out")" 8192 "  the container's root is 8 MiB"
grep -q 'No space left' "$out"
ok $? "  writing 20 MiB fails with ENOSPC" || diag_file "$out"
wr pool create busybox:other --size 0 >/dev/null 2>&1
wr pool create busybox --size 1 --tmpfs-size 512k >/dev/null 2>&1
is "$?" 2 "pool create --tmpfs-size below 1 MiB: exit 2"

# --- pool create errors ----------------------------------------------------------
wr pool create nosuchimage --size 1 >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'not found' "$err"
ok $? "pool create of an unknown image: exit 1, 'not found' (rc $rc)" || show_err
long_name=$(printf 'a%.0s' $(seq 250))
wr pool create "$long_name" --size 1 >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'longer than' "$err" && [ -z "$(pool_field "$long_name:latest" size)" ]
ok $? "pool create of a name too long for a pool key: exit 1, no pool (rc $rc)" || show_err
wr pool create busybox --size x >/dev/null 2>&1
is "$?" 2 "pool create --size x: exit 2"
wr pool create busybox --size -1 >/dev/null 2>&1
is "$?" 2 "pool create --size -1: exit 2"
wr pool create busybox >/dev/null 2>&1
is "$?" 2 "pool create without --size: exit 2"

# --- kill ------------------------------------------------------------------------
wr pool create busybox --size 2 --wait >"$out" 2>"$err" || { show_err; bail_out "no pool"; }

wr activate --no-cold busybox -- sleep "$TAG" >"$T/bg.out" 2>"$T/bg.err" &
bg=$!
poll_until 20 eval '[ -n "$(ps_rows running)" ]'
id=$(ps_rows running | awk '{print $1}')
like "$(wr ps | awk -v id="$id" '$1 == id')" "running .* sleep $TAG" "ps shows the running container and its command"
wr kill "$id" >"$out" 2>"$err"
ok $? "kill $id" || show_err
wait_child "$bg" 20
is "$WAIT_RC" 137 "  its activate exits 137"
poll_until 5 no_sleep_tag "$TAG"
ok $? "  and its process is gone"

wait_pool_full busybox:latest 20
# Emptied here, not by the background job's own redirection, which may
# come after the poll below: a "ready" left by an earlier container would
# have the signal sent before this workload has set its trap.
: >"$T/bg.out"
wr activate --no-cold busybox -- sh -c 'trap "exit 43" TERM; echo ready; while :; do sleep 0.1; done' \
    >"$T/bg.out" 2>"$T/bg.err" &
bg=$!
poll_until 20 grep -q ready "$T/bg.out"
id=$(ps_rows running | awk '{print $1}')
wr kill "$id" TERM >"$out" 2>"$err"
ok $? "kill $id TERM" || show_err
wait_child "$bg" 20
is "$WAIT_RC" 43 "  the workload's TERM trap ran: exit 43"

# A warm container has no workload: kill removes it from its pool.
wait_pool_full busybox:latest 20
row=$(ps_rows warm | head -1)
set -- $row
wr kill "$1" TERM >"$out" 2>"$err"
ok $? "kill of a warm container ($1)" || show_err
poll_until 10 all_gone "$2" "$3"
ok $? "  it and its shim exit"
! wr ps | awk 'NR > 1 {print $1}' | grep -qx "$1"
ok $? "  it is no longer listed"
wait_pool_full busybox:latest 20
ok $? "  the pool refills"

# A cold-started container is `detached` to the daemon, and can be killed.
wr activate --cold busybox -- sleep "$TAG" >"$T/bg.out" 2>"$T/bg.err" &
bg=$!
poll_until 20 eval '[ -n "$(ps_rows detached)" ]'
id=$(ps_rows detached | awk '{print $1}')
like "$id" '^[0-9a-f]{12}$' "ps lists a cold-started container as detached ($id)"
wr kill "$id" >"$out" 2>"$err"
ok $? "kill $id (detached)" || show_err
wait_child "$bg" 20
is "$WAIT_RC" 137 "  its activate exits 137"

# With --init, a plain `sleep` gets TERM like any process.
wait_pool_full busybox:latest 20
wr activate --no-cold --init busybox -- sleep "$TAG" >"$T/bg.out" 2>"$T/bg.err" &
bg=$!
poll_until 20 sleep_tag_runs "$TAG"
id=$(ps_rows running | awk '{print $1}')
wr kill "$id" TERM >"$out" 2>"$err"
ok $? "kill $id TERM (--init, plain sleep)" || show_err
wait_child "$bg" 20
is "$WAIT_RC" 143 "  its activate exits 143"

wr kill 0123456789ab >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'no container' "$err"
ok $? "kill of an unknown id: exit 1, 'no container' (rc $rc)" || show_err
wr kill 0123456789ab NOSUCHSIG >/dev/null 2>&1
is "$?" 2 "kill with an unknown signal name: exit 2"

# --- a workload's background child does not outlive it ---------------------------
for mode in warm cold; do
    flag=--no-cold
    [ "$mode" = cold ] && flag=--cold
    [ "$mode" = warm ] && wait_pool_full busybox:latest 20
    start=$SECONDS
    wr activate $flag busybox -- sh -c "sleep $TAG & sleep 0.2; kill -0 \$! && echo child-runs; exit 0" \
        >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(cat "$out")" = child-runs ] && [ $((SECONDS - start)) -lt 20 ]
    ok $? "$mode: sh -c 'sleep & exit 0' returns at once with 0 (rc $rc, $((SECONDS - start)) s)" || show_err
    poll_until 5 no_sleep_tag "$TAG"
    ok $? "$mode:   its background sleep is gone within 5 s" || pgrep -af "^sleep $TAG" >&2
done

# --- signals to the CLI reach the workload ----------------------------------------
for case in "warm TERM 42" "warm INT 41" "warm HUP 40" "warm USR1 39" "cold TERM 42"; do
    set -- $case
    flag=--no-cold
    [ "$1" = cold ] && flag=--cold
    [ "$1" = warm ] && wait_pool_full busybox:latest 20
    # The last case's "ready" goes first (as for bg.out above): the poll
    # must see this workload's, with its trap set.
    : >"$T/sig.out"
    # Not through `timeout`: the signal goes straight to the CLI.
    "${WR[@]}" activate $flag busybox -- \
        sh -c "trap 'exit $3' $2; echo ready; while :; do sleep 0.1; done" >"$T/sig.out" 2>"$T/sig.err" &
    cli=$!
    poll_until 20 grep -q ready "$T/sig.out"
    kill -"$2" "$cli"
    wait_child "$cli" 20
    is "$WAIT_RC" "$3" "$1: SIG$2 to the CLI runs the workload's trap: exit $3" || diag_file "$T/sig.err"
done

wait_pool_full busybox:latest 20
"${WR[@]}" activate --no-cold --init busybox -- sleep "$TAG" >"$T/sig.out" 2>"$T/sig.err" &
cli=$!
poll_until 20 sleep_tag_runs "$TAG"
kill -TERM "$cli"
wait_child "$cli" 20
is "$WAIT_RC" 143 "warm --init: SIGTERM to the CLI stops a plain sleep: exit 143" || diag_file "$T/sig.err"

# --- a killed CLI takes its container with it -------------------------------------
for mode in warm cold; do
    flag=--no-cold
    [ "$mode" = cold ] && flag=--cold
    [ "$mode" = warm ] && wait_pool_full busybox:latest 20
    "${WR[@]}" activate $flag busybox -- sleep "$TAG" >"$T/bg.out" 2>"$T/bg.err" &
    cli=$!
    poll_until 20 sleep_tag_runs "$TAG"
    ok $? "$mode: a container runs sleep $TAG"
    kill -KILL "$cli"
    wait_child "$cli" 10
    poll_until 5 no_sleep_tag "$TAG"
    ok $? "$mode: after SIGKILL to its CLI, the workload is gone within 5 s" || pgrep -af "^sleep $TAG" >&2
    poll_until 5 eval '[ -z "$(ps_rows running)" ] && [ -z "$(ps_rows detached)" ]'
    ok $? "$mode:   and ps lists no running container" || wr ps >&2
done

# --- a resize keeps the pool's settings; settings replace the whole set ----------
wr pool create busybox --size 1 -u 1000 --memory 64m --wait >"$out" 2>"$err"
ok $? "a pool with -u 1000 --memory 64m" || show_err
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "pool create --size 2 without settings: a resize" || show_err
wait_pool_full busybox:latest 20
for i in 1 2; do
    got=$(wr activate --no-cold busybox -- id -u 2>"$err")
    is "$got" 1000 "after the resize, warm container $i still runs as uid 1000" || show_err
done
wr pool ls >"$out" 2>"$err"
grep -q 'memory=' "$out"
ok $? "pool ls still shows the memory limit after the resize" || diag_file "$out"
wr pool create busybox --size 1 --pids-limit 32 --wait >"$out" 2>"$err"
ok $? "pool create with one setting" || show_err
wait_pool_full busybox:latest 20
got=$(wr activate --no-cold busybox -- id -u 2>"$err")
is "$got" 0 "a setting replaces the whole set: -u 1000 is gone (uid 0)" || show_err
wr pool ls >"$out" 2>"$err"
! grep -q 'memory=' "$out" && grep -q 'pids' "$out"
ok $? "pool ls shows the new set (pids limit, no memory limit)" || diag_file "$out"

# --- shutdown --------------------------------------------------------------------
stop_daemon
ok $? "the daemon shuts down cleanly (exit $DAEMON_RC)" || diag_file "$DAEMON_LOG"
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG"
ok $? "no sanitizer report in the daemon's log" || diag_file "$DAEMON_LOG" 40
poll_until 10 no_container_pids
ok $? "the warm containers and their shims go with the daemon" || show_pids $(our_pids)
[ -z "$(ls -A "$STATE/containers")" ]
ok $? "no state record is left"

wr activate --no-cold busybox -- true >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 125 ] && grep -q 'no daemon' "$err"
ok $? "--no-cold without a daemon: exit 125, 'no daemon' (rc $rc)" || show_err

done_testing

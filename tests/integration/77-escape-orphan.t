#!/bin/bash
# TAP test: a container whose workload clears its own parent-death signal
# (prctl(PR_SET_PDEATHSIG, 0): any user may) must still never outlive its
# shim, even when whoever held its pidfd dies with the shim:
#  - the CLI of a cold start and its shim killed together: the next daemon
#    to start kills the orphaned pid 1 when it sweeps the stale record;
#  - a daemon restarted while a container runs (the new daemon adopts it),
#    then its shim killed: the new daemon kills pid 1.
# Also: a second daemon on the same state directory is refused.
. "$(dirname "$0")/lib.sh"
setup_env orphan

out=$T/out
err=$T/err
add_helper_image nopd "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/nopdeath" nopdeath ||
    bail_out "cannot write the nopd image"

# record_field ID KEY: a field of a container's state record.
record_field() { sed -n "s/^$2=//p" "$STATE/containers/$1" 2>/dev/null; }
one_record() {
    rec=$(ls "$STATE"/containers/ 2>/dev/null | head -1)
    [ -n "$rec" ] && [ -n "$(record_field "$rec" child_pid)" ]
}
# runs_sleep PID: pid 1 has exec'd the workload (sleep).
runs_sleep() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ]; }

for user in "root|" "-u 1000|-u 1000"; do
    IFS='|' read -r who opts <<<"$user"
    # --- cold: the CLI and its shim killed at once; no daemon runs --------------
    # shellcheck disable=SC2086
    setsid "${WR[@]}" activate --cold $opts nopd -- /nopdeath /bin/sleep 1000 >"$out" 2>"$err" &
    cli=$!
    poll_until 10 one_record
    id=$rec
    pid=$(record_field "$id" child_pid)
    shim=$(record_field "$id" shim_pid)
    poll_until 10 runs_sleep "$pid"
    ok $? "$who, cold: the workload runs, its parent-death signal cleared" || show_err
    # The shim first: alive, it would kill its container on its client's
    # hang-up, which is not what this is about.
    kill -KILL "$shim" 2>/dev/null
    kill -KILL "$cli" 2>/dev/null
    wait "$cli" 2>/dev/null
    sleep 0.5
    if pid_alive "$pid"; then
        ok 0 "$who, cold: pid 1 outlived its shim and CLI (no holder of its pidfd left)"
        start_daemon || bail_out "the daemon did not start"
        poll_until 5 pid_gone "$pid"
        ok $? "$who, cold:   the next daemon kills it when it sweeps the stale record" ||
            show_pids "$pid"
        [ ! -e "$STATE/containers/$id" ]
        ok $? "$who, cold:   and removes the record"
        stop_daemon
    else
        ok 0 "$who, cold: pid 1 died with its shim"
        skip 2 "nothing outlived the shim"
    fi
    kill -KILL "$pid" 2>/dev/null

    # --- warm: the daemon restarted, then the shim killed -----------------------
    start_daemon || bail_out "the daemon did not start"
    # shellcheck disable=SC2086
    wr pool create nopd --size 1 $opts --wait >"$out" 2>"$err" || show_err
    setsid "${WR[@]}" activate --no-cold nopd -- /nopdeath /bin/sleep 1000 >"$out" 2>"$err" &
    cli=$!
    poll_until 10 eval 'id=$(wr ps 2>/dev/null | awk '\''$3 == "running" {print $1; exit}'\''); [ -n "$id" ]'
    pid=$(record_field "$id" child_pid)
    shim=$(record_field "$id" shim_pid)
    poll_until 10 runs_sleep "$pid"
    ok $? "$who, warm: the workload runs, its parent-death signal cleared" || show_err
    kill -KILL "$DAEMON_PID"
    wait_child "$DAEMON_PID" 5 2>/dev/null
    DAEMON_PID=
    start_daemon || bail_out "the daemon did not restart"
    like "$(wr ps 2>/dev/null | awk -v id="$id" '$1 == id')" detached \
        "$who, warm: the restarted daemon lists the running container as detached"
    kill -KILL "$shim" 2>/dev/null
    kill -KILL "$cli" 2>/dev/null
    wait "$cli" 2>/dev/null
    poll_until 5 pid_gone "$pid"
    ok $? "$who, warm:   its shim killed, the restarted daemon kills pid 1" || show_pids "$pid"
    poll_until 5 eval '[ ! -e "$STATE/containers/$id" ]'
    ok $? "$who, warm:   and removes its record"
    grep -q "container $id outlived its shim: killed" "$DAEMON_LOG"
    ok $? "$who, warm:   saying so in its log" || diag_file "$DAEMON_LOG" 10
    kill -KILL "$pid" 2>/dev/null
    wr pool rm nopd >/dev/null 2>&1
    stop_daemon
done

done_testing

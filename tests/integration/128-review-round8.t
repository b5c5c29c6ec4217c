#!/bin/bash
# TAP test: findings of a hostile review of the mount template, the
# records' tmpfs release and the cached seccomp filter.
# - The records' tmpfs (docs/security.md, "The state records' tmpfs")
#   outlives its processes only while a record is in it: a container
#   handed out by a daemon that then stopped, and a daemon SIGKILLed with
#   warm containers, leave it to their shims, the last of which takes it
#   along when it ends. Before, it stayed mounted, empty, until the next
#   daemon's stop (rm -rf of the state directory failed: EBUSY).
# - The cold starts' cached default seccomp filter (docs/security.md, "The
#   cached default filter"): a temporary file its writer left when killed
#   before its rename is removed by the next writer once a minute old, a
#   recent one (a live writer's) never. Before, each such death left one
#   more file in STATE/seccomp for good.
# - The mount template (docs/security.md, "The mount template") of a
#   daemon started before its store exists (an image imported after
#   `warmrun daemon`): its first shim server has none rather than one
#   without the store, so the daemon holds none to hand on, and the next
#   server's has the store. Before, the first server's template lacked
#   the store, the daemon handed it to the next seven servers, and 256
#   fills took the full copy of the host's mounts.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review-round8
out=$T/out
err=$T/err

fstype() { stat -f -c %T "$1" 2>/dev/null; }
records_of() { ls "$1/containers" 2>/dev/null | grep -E '^[0-9a-f]{12}$' | sort | xargs; }
mounted() { records_mounts "$T" | grep -cxF -- "$1/containers"; }
not_mounted() { [ "$(mounted "$STATE")" = 0 ]; }

if [ "$(fstype "$T")" = tmpfs ]; then
    skip 3 "the test directory is on a tmpfs: no records mount is made"
else
    # ---- a container handed out, ending after its daemon stopped ---------------------------
    start_daemon || bail_out "the daemon did not start"
    wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
    # It ends when its stdin does: the test holds the write end.
    mkfifo "$T/in"
    "${WR[@]}" activate --no-cold busybox -- sh -c 'read x' <"$T/in" >"$T/run.out" 2>&1 &
    RUN_CLI=$!
    exec 7>"$T/in"
    poll_until 30 eval '[ -n "$(wr ps 2>/dev/null | awk '"'"'$3 == "running"'"'"')" ]'
    RUN_ID=$(wr ps 2>/dev/null | awk '$3 == "running" {print $1}' | head -n1)
    wr pool rm busybox >/dev/null 2>&1
    stop_daemon
    is "$(mounted "$STATE") $(records_of "$STATE")" "1 $RUN_ID" \
        "a daemon stops with a container running ($RUN_ID): its record keeps the tmpfs"
    exec 7>&-
    wait_child "$RUN_CLI" 30
    poll_until 30 not_mounted
    is "$(mounted "$STATE")" 0 "once that container ends, no records tmpfs is left mounted"

    # ---- a daemon SIGKILLed with warm containers -------------------------------------------
    start_daemon || bail_out "the daemon did not start"
    wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err" || show_err
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    poll_until 30 eval '[ -z "$(records_of "$STATE")" ]'
    poll_until 30 not_mounted
    is "$(mounted "$STATE") $(records_of "$STATE")" "0 " \
        "a daemon SIGKILLed with 2 warm containers: once their shims end, no records tmpfs is left"
fi

# ---- a dead writer's temporary seccomp cache file ---------------------------------------------
wr activate --cold busybox -- true >"$out" 2>"$err" || show_err
CACHE=$(ls "$STATE"/seccomp/default-*.bpf 2>/dev/null | head -n1)
ok "$([ -n "$CACHE" ] && [ -s "$CACHE" ]; echo $?)" "a cold start caches the default filter" || show_err
NAME=$(basename "$CACHE")
# A dead writer's (an hour old) and a live one's (now): pids no process has.
touch -d '-1 hour' "$STATE/seccomp/.$NAME.4194301"
touch "$STATE/seccomp/.$NAME.4194302"
: >"$CACHE" # a miss: the next cold start compiles and writes it again
wr activate --cold busybox -- true >"$out" 2>"$err" || show_err
is "$([ -e "$STATE/seccomp/.$NAME.4194301" ] && echo left || echo removed) \
$([ -e "$STATE/seccomp/.$NAME.4194302" ] && echo left || echo removed) $([ -s "$CACHE" ] && echo whole)" \
    "removed left whole" \
    "the next writer removes a dead writer's temporary file, not a recent one, and rewrites the cache"
rm -f "$STATE/seccomp/.$NAME.4194302"

# ---- a daemon started before its store exists ----------------------------------------------
STORE=$T/late-store
STATE=$T/late-state
SOCK=$T/late.sock
WR=("$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$SOCK")
start_daemon || bail_out "the daemon did not start"
poll_until 10 eval '[ -n "$(server_of_state)" ]'
S1=$(server_of_state)
timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" build-busybox >"$out" 2>&1 ||
    show_err
wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err"
ok $? "a daemon started before its store exists fills a pool" || show_err
held_templates() { ls -l "/proc/$DAEMON_PID/fd" 2>/dev/null | grep -c ' mnt:\['; }
is "$(held_templates)" 0 "... and holds no mount template of its first server's to hand on"
like "$(cat "$DAEMON_LOG")" "build the mount template .*every fill copies" \
    "... whose server said why it had none"
kill -KILL "$S1"
new_server() { S2=$(server_of_state) && [ -n "$S2" ] && [ "$S2" != "$S1" ]; }
# Fills start the next server.
wr activate --no-cold busybox -- true >"$out" 2>"$err" || show_err
poll_until 30 new_server
new_server
ok $? "the next server runs ($S2)"
is "$([ -d "/proc/$S2/fd/65$STORE/layers" ] && echo yes)" yes \
    "... and its mount template holds the store"
wr activate --no-cold busybox -- true >"$out" 2>"$err"
ok $? "... and its fills run" || show_err
stop_daemon

done_testing

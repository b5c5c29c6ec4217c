#!/bin/bash
# TAP test of the container records on a tmpfs (runtime/lib/state_tmpfs.h):
# the first process that prepares a state directory in the host's mount
# namespace mounts one tmpfs (0700, nosuid, nodev, noexec) over
# <state>/containers, once even when several prepare at once; records made
# before on the directory underneath (here: a cold start from a private
# mount namespace, which cannot mount for the host) are moved into it, not
# hidden; the records survive a SIGKILL of the daemon, and the next daemon
# adopts the running containers; no container sees the mount; a
# daemon in a private mount namespace, or whose mount is refused, keeps the
# plain directory with one log line and works; the tests' cleanup unmounts.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env state-tmpfs
out=$T/out
err=$T/err

fstype() { stat -f -c %T "$1"; }
# records_of STATE: the container ids recorded in STATE, sorted, one line.
records_of() { ls "$1/containers" 2>/dev/null | grep -E '^[0-9a-f]{12}$' | sort | xargs; }
# records_at STATE: how many records tmpfs are mounted on STATE/containers.
records_at() { records_mounts "$T" | grep -cxF -- "$1/containers"; }
# cli STATE ARGS...: the CLI on another state directory of this test's.
cli() {
    local state=$1
    shift
    timeout -k 10 60 "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$state" \
        --socket "$state.sock" "$@"
}

if [ "$(fstype "$T")" = tmpfs ]; then
    # Nothing to mount: the state directory is on a tmpfs already.
    start_daemon || bail_out "the daemon did not start"
    is "$(records_at "$STATE")" 0 "a state directory on a tmpfs gets no mount of its own"
    done_testing
    exit
fi

# ---- records made before the mount are moved into it ---------------------------
setsid unshare -m "${WR[@]}" activate --cold busybox -- sleep 120 >"$T/cold.out" 2>&1 &
COLD_CLI=$!
poll_until 20 eval '[ -n "$(records_of "$STATE")" ]'
ok $? "a cold start in a private mount namespace writes its record on the plain directory"
COLD_ID=$(records_of "$STATE")
isnt "$(fstype "$STATE/containers")" tmpfs "... which stays a plain directory for the host"
is "$(records_at "$STATE")" 0 "... with no records tmpfs mounted"

start_daemon || bail_out "the daemon did not start"
is "$(fstype "$STATE/containers")" tmpfs "the daemon mounts a tmpfs over $STATE/containers"
is "$(records_at "$STATE")" 1 "... once"
line=$(grep -F " $STATE/containers " /proc/self/mountinfo)
like "$line" ' rw,nosuid,nodev,noexec[, ].* - tmpfs warmrun-records .*mode=700' \
    "... nosuid, nodev, noexec, mode 0700 ($line)"
like "$line" 'size=[0-9]+k,nr_inodes=[0-9]+' "... with its size and inodes bounded"
is "$(stat -c '%a %u' "$STATE/containers")" "700 0" "... root's alone"
is "$(records_of "$STATE")" "$COLD_ID" "the cold start's record was moved into it, not hidden"
below=$(unshare -m sh -c "umount '$STATE/containers' && ls -A '$STATE/containers'" 2>&1)
is "$below" "" "... and is no longer on the directory underneath"
wr ps >"$out" 2>"$err"
like "$(cat "$out")" "$COLD_ID .*detached" "ps lists the cold-started container" || show_err
grep -q "live container(s) from before" "$DAEMON_LOG"
ok $? "... which the daemon adopted"

# ---- records survive a SIGKILL of the CLI and of the daemon -----------------------------
wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err"
ok $? "a pool of 2 fills" || show_err
"${WR[@]}" activate --no-cold busybox -- sleep 120 >"$T/warm.out" 2>&1 &
WARM_CLI=$!
poll_until 20 eval '[ "$(records_of "$STATE" | wc -w)" -ge 4 ]'
ok $? "the cold, the activated and the 2 warm containers have their records on the tmpfs"
WARM_ID=$(wr ps 2>/dev/null | awk '$3 == "running" {print $1}' | head -n1)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
is "$(records_at "$STATE")" 1 "the daemon SIGKILLed: the tmpfs stays mounted"
like " $(records_of "$STATE") " " $COLD_ID " "... with the cold start's record"
start_daemon || bail_out "the daemon did not start again"
is "$(records_at "$STATE")" 1 "a new daemon mounts nothing more"
wr ps >"$out" 2>"$err"
like "$(cat "$out")" "$COLD_ID .*detached" "... and adopts the cold-started container" || show_err
if [ -n "$WARM_ID" ]; then
    like "$(cat "$out")" "$WARM_ID .*detached" \
        "... and the activated one ($WARM_ID)"
else
    ok 1 "the activated container was found in ps before the SIGKILL"
fi
wr kill "$COLD_ID" >/dev/null 2>&1
[ -n "$WARM_ID" ] && wr kill "$WARM_ID" >/dev/null 2>&1
wait "$COLD_CLI" "$WARM_CLI" 2>/dev/null
gone() { ! grep -qw -e "$COLD_ID" -e "${WARM_ID:-none}" <<<"$(records_of "$STATE")"; }
poll_until 10 gone
ok $? "once they end their records go" || diag "left: $(records_of "$STATE")"

# ---- no container sees the mount ---------------------------------------------------------
wr pool create busybox --size 1 --wait --timeout 60 >/dev/null 2>&1
wr activate --no-cold busybox -- cat /proc/self/mountinfo >"$out" 2>"$err"
ok $? "a warm activation runs" || show_err
! grep -q -e warmrun-records -e "$STATE/containers" "$out"
ok $? "... and its mounts do not show the records' tmpfs"
wr activate --cold busybox -- cat /proc/self/mountinfo >"$out" 2>"$err"
! grep -q -e warmrun-records -e "$STATE/containers" "$out"
ok $? "... nor do a cold start's"
stop_daemon

# ---- several processes preparing at once: one mount -----------------------------------------
# (Counted while their containers run: the tmpfs goes once they all ended.)
RACE=$T/race
racers=()
for i in 1 2 3 4; do
    cli "$RACE" activate --cold busybox -- sleep 300 >/dev/null 2>"$T/race$i.err" &
    racers+=($!)
done
poll_until 30 eval '[ "$(records_of "$RACE" | wc -w)" -eq 4 ]'
is "$(records_at "$RACE")" 1 "4 cold starts at once on a new state directory: one tmpfs" ||
    cat "$T"/race*.err >&2
# Their containers ended from the host (each workload is its pid 1): each
# shim reports, removes its record, and the last takes the tmpfs along.
# Each racer is a subshell: its CLI, shim and container are found by their
# state directory, as the cleanup finds this test's; the containers are
# those whose mounts name it.
race_pids() { STATE=$RACE our_pids; }
race_containers() {
    local p
    for p in $(race_pids); do
        grep -qaF -- "$RACE" "/proc/$p/cmdline" 2>/dev/null || echo "$p"
    done
}
kill -KILL $(race_containers) 2>/dev/null
wait "${racers[@]}" 2>/dev/null
poll_until 30 eval '[ -z "$(race_pids)" ]'
ok $? "... their containers ended: every CLI, shim and container gone" ||
    diag "left: $(race_pids | xargs)"
is "$(records_of "$RACE")" "" "... with their records"
is "$(records_at "$RACE")" 0 "... and the tmpfs, with the last record"

# ---- fallback: a daemon in a private mount namespace -----------------------------------------
PRIV=$T/priv
SAVED=("${WR[@]}")
SAVED_SOCK=$SOCK SAVED_LOG=$DAEMON_LOG
SOCK=$PRIV.sock DAEMON_LOG=$T/priv.log
WR=(unshare -m "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$PRIV" --socket "$SOCK")
start_daemon || bail_out "the daemon in a private mount namespace did not start"
grep -q "state: container records stay on the state directory's own file system: .*mount namespace" \
    "$DAEMON_LOG"
ok $? "a daemon in a private mount namespace says in one line that it does not mount" ||
    diag_file "$DAEMON_LOG"
isnt "$(fstype "$PRIV/containers")" tmpfs "... the records stay on the plain directory"
is "$(records_at "$PRIV")" 0 "... and the host has no mount of its"
wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err"
ok $? "... it fills a pool" || show_err
is "$(records_of "$PRIV" | wc -w)" 1 "... whose record is on the plain directory"
wr activate --no-cold busybox -- echo warm-ok >"$out" 2>"$err"
is "$(cat "$out")" warm-ok "... and activates it" || show_err
stop_daemon
is "$(records_of "$PRIV")" "" "... and removes the records at its stop"

# ---- fallback: the mount refused ----------------------------------------------------------------
# A state directory reached through another mount namespace's root: the
# kernel refuses a mount there (EINVAL), as it would any other failure.
unshare -m sleep 300 &
OTHER=$!
sleep 0.2
REF=/proc/$OTHER/root$T/refused
SOCK=$T/refused.sock DAEMON_LOG=$T/refused.log
WR=("$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$REF" --socket "$SOCK")
start_daemon
ok $? "a daemon whose mount is refused starts" || diag_file "$DAEMON_LOG"
grep -q "state: container records stay on the state directory's own file system: mount a tmpfs on" \
    "$DAEMON_LOG"
ok $? "... and says why in one line" || diag_file "$DAEMON_LOG"
is "$(grep -c "state: container records" "$DAEMON_LOG")" 1 "... one line"
wr ps >"$out" 2>"$err"
ok $? "... and serves" || show_err
stop_daemon
kill "$OTHER"
wait "$OTHER" 2>/dev/null
for d in /sys/fs/cgroup/*/warmrun/"$(scope_of "$REF")" /sys/fs/cgroup/warmrun/"$(scope_of "$REF")"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
WR=("${SAVED[@]}") SOCK=$SAVED_SOCK DAEMON_LOG=$SAVED_LOG

# ---- the tests' cleanup unmounts ------------------------------------------------------------------
NEST=$T/nest
mkdir "$NEST"
# (A running container's: the tmpfs of a state directory whose last
# container ended goes with it.)
cli "$NEST/state" activate --cold busybox -- sleep 300 >/dev/null 2>&1 &
poll_until 30 eval '[ -n "$(records_of "$NEST/state")" ]'
is "$(records_at "$NEST/state")" 1 "a state directory of a nested test has its tmpfs"
KEEP_TMP= bash -c '. "$1/lib.sh"; T=$2 STATE=$2/state DAEMON_PID=; cleanup' _ "$(dirname "$0")" "$NEST" \
    >"$out" 2>&1
ok $? "lib.sh's cleanup of that test succeeds" || diag_file "$out"
is "$(records_at "$NEST/state")" 0 "... and unmounts it"
[ ! -e "$NEST" ]
ok $? "... and removes its directory"

done_testing

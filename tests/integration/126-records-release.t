#!/bin/bash
# TAP test: the records' tmpfs over STATE/containers (docs/cli.md, "Global
# options"; docs/security.md, "The state records' tmpfs") outlives its
# processes only while a container runs. A daemon that stops with no
# container left unmounts it (the state directory can then be removed);
# one that leaves a running container keeps it, and the next daemon adopts
# that container from its record. A cold start whose container ended
# unmounts it when no daemon serves the state directory, and leaves it
# to a running daemon; so does `network create` / `rm`. Cold starts ending
# while others run never lose a running container's record, and a tmpfs
# someone else mounted there is never unmounted. Before, the tmpfs stayed
# mounted until umount: rm -rf of the state directory failed (EBUSY).
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env records-release
out=$T/out
err=$T/err

fstype() { stat -f -c %T "$1" 2>/dev/null; }
[ "$(fstype "$T")" = tmpfs ] && skip_all "the test directory is on a tmpfs: no records mount is made"
records_of() { ls "$1/containers" 2>/dev/null | grep -E '^[0-9a-f]{12}$' | sort | xargs; }
# mounted STATE: how many records tmpfs are mounted on STATE/containers.
mounted() { records_mounts "$T" | grep -cxF -- "$1/containers"; }

# ---- a daemon with no container left ---------------------------------------------------
start_daemon || bail_out "the daemon did not start"
is "$(mounted "$STATE")" 1 "the daemon mounts the records' tmpfs"
wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err"
ok $? "a pool of 2 fills" || show_err
wr activate --no-cold busybox -- true >"$out" 2>"$err"
ok $? "an activation runs" || show_err
stop_daemon
is "$DAEMON_RC" 0 "shutdown: the daemon exits 0"
is "$(mounted "$STATE")" 0 "... and no records tmpfs is left mounted"
grep -q "state: " "$DAEMON_LOG" && diag_file "$DAEMON_LOG"
rm -rf "$STATE" 2>"$err"
ok $? "... so the state directory can be removed" || show_err

# ---- a daemon that leaves a running container ----------------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
"${WR[@]}" activate --no-cold busybox -- sleep 300 >"$T/run.out" 2>&1 &
RUN_CLI=$!
poll_until 30 eval '[ -n "$(wr ps 2>/dev/null | awk '"'"'$3 == "running"'"'"')" ]'
RUN_ID=$(wr ps 2>/dev/null | awk '$3 == "running" {print $1}' | head -n1)
isnt "$RUN_ID" "" "a container runs ($RUN_ID)"
stop_daemon
is "$(mounted "$STATE")" 1 "the daemon stops with it running: the tmpfs stays mounted"
like " $(records_of "$STATE") " " $RUN_ID " "... with its record"
start_daemon || bail_out "the daemon did not start again"
is "$(mounted "$STATE")" 1 "the next daemon mounts nothing more"
wr ps >"$out" 2>"$err"
like "$(cat "$out")" "$RUN_ID .*detached" "... and adopts the running container" || show_err
wr kill "$RUN_ID" >/dev/null 2>&1
wait_child "$RUN_CLI" 30
run_gone() { ! grep -qw -- "$RUN_ID" <<<"$(records_of "$STATE")"; }
poll_until 30 run_gone
ok $? "once it ends its record goes"

# ---- cold starts with a daemon: its tmpfs stays --------------------------------------------
wr pool rm busybox >/dev/null 2>&1
poll_until 30 eval '[ -z "$(records_of "$STATE")" ]'
wr activate --cold busybox -- true >"$out" 2>"$err"
ok $? "a cold start with a daemon running" || show_err
is "$(mounted "$STATE")" 1 "... leaves the daemon's tmpfs mounted (the daemon fills into it)"
stop_daemon
is "$(mounted "$STATE")" 0 "the daemon stops: the tmpfs goes"

# ---- cold starts without a daemon ---------------------------------------------------------
wr activate --cold busybox -- true >"$out" 2>"$err"
ok $? "a cold start without a daemon" || show_err
is "$(mounted "$STATE")" 0 "... unmounts the tmpfs it mounted once its container ended"
# Cold starts that end while others run: the running ones keep the tmpfs
# and their records.
sleepers=()
for i in 1 2 3; do
    "${WR[@]}" activate --cold busybox -- sleep 300 >/dev/null 2>"$T/sleep$i.err" &
    sleepers+=($!)
done
poll_until 30 eval '[ "$(records_of "$STATE" | wc -w)" -eq 3 ]'
SLEEPING=$(records_of "$STATE")
is "$(echo "$SLEEPING" | wc -w)" 3 "3 cold starts run ($SLEEPING)" || cat "$T"/sleep*.err >&2
enders=()
for i in 1 2 3 4 5 6; do
    wr activate --cold busybox -- true >/dev/null 2>"$T/true$i.err" &
    enders+=($!)
done
rc=0
for p in "${enders[@]}"; do wait "$p" || rc=1; done
ok "$rc" "6 cold starts that end meanwhile all succeed" || cat "$T"/true*.err >&2
is "$(records_of "$STATE")" "$SLEEPING" "... and the 3 running containers keep their records"
is "$(mounted "$STATE")" 1 "... on the tmpfs, still mounted"
kill -KILL "${sleepers[@]}" 2>/dev/null
wait "${sleepers[@]}" 2>/dev/null
poll_until 30 eval '[ -z "$(records_of "$STATE")" ]'
wr activate --cold busybox -- true >"$out" 2>"$err" || show_err
is "$(mounted "$STATE")" 0 "once they are gone, the next cold start's end unmounts it"

# ---- network create / rm without a daemon -------------------------------------------------
if command -v nft >/dev/null; then
    NET=wrrl$$ BR=wrrlb$$
    SUBNET=10.$((150 + $$ % 50)).$((($$ / 50) % 250)).0/24
    wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >"$out" 2>"$err"
    ok $? "network create $NET without a daemon" || show_err
    is "$(mounted "$STATE")" 0 "... leaves no records tmpfs mounted"
    wr network rm "$NET" >"$out" 2>"$err"
    ok $? "network rm $NET" || show_err
    is "$(mounted "$STATE")" 0 "... leaves none either"
    ip link del "$BR" 2>/dev/null
else
    skip 4 "nft is not installed"
fi

# ---- someone else's tmpfs --------------------------------------------------------------------
OWN=$T/own
mkdir -p "$OWN/containers"
chmod 700 "$OWN" "$OWN/containers"
mount -t tmpfs -o mode=700 admin-tmpfs "$OWN/containers"
timeout -k 10 60 "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$OWN" --socket "$OWN.sock" \
    activate --cold busybox -- true >"$out" 2>"$err"
ok $? "a cold start on a state directory whose containers/ is a tmpfs of the admin's" || show_err
grep -qF " $OWN/containers " /proc/self/mountinfo
ok $? "... leaves that tmpfs mounted"
umount "$OWN/containers"
done_testing

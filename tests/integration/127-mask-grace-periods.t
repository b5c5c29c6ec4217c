#!/bin/bash
# TAP test: masking /proc and /sys costs no RCU grace period
# (docs/benchmarks.md, "Masks of the right kind").
#
# A bind mount of the wrong kind (a file onto a directory, or the reverse)
# fails only after the kernel has cloned its source, and unmounting that
# clone waits for an expedited RCU grace period (namespace_unlock: ~60 us,
# IPIs to every CPU). pid 1 tried /dev/null on every masked path first, so
# each masked directory (/proc/acpi, /sys/firmware here) cost one per fill.
# Each masked path is now tried as the kind it is (runtime/container/
# proc_mask.c), the other only if the kernel disagrees. So, for a pool's
# fills and for a cold start:
# - no mount, move_mount or umount2 of pid 1 fails other than ENOENT (a
#   path this kernel lacks), and its one umount2 is the old root's detach
#   (fails on the code before: ENOTDIR for each masked directory);
# - the container's masks are what they were: each masked directory an
#   empty read-only directory, each masked file /dev/null, /proc/sys
#   read-only.
# Needs root, busybox-static and strace.
. "$(dirname "$0")/lib.sh"
setup_env maskgp
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"

out=$T/out
err=$T/err
start_daemon || bail_out "the daemon did not start"
SERVER=$(server_of_state)
[ -n "$SERVER" ] || bail_out "no shim server for $STATE"

MOUNTS=mount,umount2,move_mount,open_tree,mount_setattr,fsmount
# The server and the daemon (which spawns a fill itself when the server
# cannot take it).
# One file per process (-ff): no call split by another's.
mkdir "$T/trace"
strace -ff -qq -e trace=$MOUNTS -o "$T/trace/t" -p "$SERVER" -p "$DAEMON_PID" 2>"$T/strace.err" &
TRACER=$!
tracer() { awk '/^TracerPid:/ {print $2}' "/proc/$1/status"; }
traced() { [ "$(tracer "$SERVER")" != 0 ] && [ "$(tracer "$DAEMON_PID")" != 0 ]; }
poll_until 10 traced || bail_out "strace did not attach: $(head -c 200 "$T/strace.err")"

wr pool create busybox --size 3 --wait >"$out" 2>"$err"
ok $? "a pool of 3 filled under strace" || show_err
kill "$TRACER" 2>/dev/null
wait "$TRACER" 2>/dev/null

# pid 1s: the traced processes that detached an old root.
inits=$(grep -l 'umount2("\.", MNT_DETACH)' "$T"/trace/t.*)
is "$(echo "$inits" | grep -c .)" 3 "the trace holds the three fills' pid 1s"
of_inits() { echo "$inits" | xargs cat; }
failed() { grep -E '= -1 ' | grep -v ' ENOENT '; }
is "$(of_inits | failed | wc -l)" 0 "  no mount call of pid 1 fails but for an absent path" ||
    diag "$(of_inits | failed | head -n4)"
is "$(of_inits | grep -c 'umount2(')" 3 "  one umount2 each: the old root's detach"

# The cold path: the CLI's own shim and pid 1.
strace -f -qq -e trace=$MOUNTS -o "$T/cold" \
    "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$SOCK" \
    activate --cold busybox -- true >"$out" 2>"$err"
ok $? "a cold start under strace" || show_err
is "$(failed <"$T/cold" | wc -l)" 0 "  no mount call of it fails but for an absent path" ||
    diag "$(failed <"$T/cold" | head -n4)"

# The masks, warm and cold: what the kernel has is masked, as before.
CHECK='for p in /proc/acpi /proc/asound /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
  [ -e $p ] || continue
  [ -d $p ] && [ -z "$(ls -A $p)" ] && ! touch $p/x 2>/dev/null && echo "$p empty-ro" || echo "$p BAD"
done
for p in /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug; do
  [ -e $p ] || continue
  grep -q " $p " /proc/self/mountinfo && [ ! -s $p ] && [ -z "$(head -c1 $p)" ] && echo "$p null" || echo "$p BAD"
done
echo 1 >/proc/sys/kernel/ns_last_pid 2>/dev/null && echo "sys WRITABLE" || echo "sys ro"'
for how in --no-cold --cold; do
    wr activate $how busybox -- sh -c "$CHECK" >"$out" 2>"$err"
    ok $? "$how: the masks checked" || show_err
    unlike "$(cat "$out")" "BAD|WRITABLE" "  every masked path masked, /proc/sys read-only" ||
        diag_file "$out"
    like "$(cat "$out")" "/sys/firmware empty-ro" "  /sys/firmware an empty read-only directory"
    like "$(cat "$out")" "/proc/keys null" "  /proc/keys /dev/null"
done

wr pool rm busybox >"$out" 2>"$err"
ok $? "the pool removed" || show_err

done_testing

#!/bin/bash
# TAP test: a container's teardown when nobody is told of its end
# (docs/benchmarks.md, "Teardown, measured and cut"; shim/shim_teardown.c).
# - At `pool rm`, a warm container's shim drops the container's mount and
#   IPC namespaces before it kills pid 1 (so that the mount tree goes in
#   pid 1's exit, in one piece), and reads no memory cgroup for OOM kills
#   (nobody would be told): strace on one shim shows both closes before its
#   SIGKILL, and no open of memory.oom_control.
# - After `pool rm`: no shim or container process, no cgroup of the
#   scope, no record, no mount naming the state directory; the daemon's
#   descriptors are where they were, over three create/remove cycles.
# - A container activated before the `pool rm` is not touched by it: it
#   runs to its end and reports its own exit status.
# The strace checks fail on the code before (the shim killed pid 1 first,
# closed the namespaces after the reap, and read memory.oom_control).
# Needs root, busybox-static and strace.
. "$(dirname "$0")/lib.sh"
setup_env teardown
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
out=$T/out
err=$T/err
POOL=3

start_daemon || bail_out "the daemon did not start"
mounts0=$(state_mounts)

# records: the records of this state directory's containers.
records() { find "$STATE/containers" -maxdepth 1 -type f 2>/dev/null | wc -l; }
# warm_shims: the daemon's children that are shims.
warm_shims() {
    local c
    for c in $(cat "/proc/$DAEMON_PID/task/$DAEMON_PID/children" 2>/dev/null); do
        [ "$(cat "/proc/$c/comm" 2>/dev/null)" = warmrun-shim ] && echo "$c"
    done
}
nothing_left() {
    no_container_pids && no_cgroups && [ "$(records)" -eq 0 ] &&
        [ "$(state_mounts)" -eq "$mounts0" ]
}

# ---- the order of a warm container's teardown at `pool rm` ------------------------
wr pool create busybox --size "$POOL" --wait --timeout 60 >"$out" 2>"$err"
is "$?" 0 "pool create busybox --size $POOL --wait" || show_err
SHIM=$(warm_shims | head -n1)
ok $([ -n "$SHIM" ]; echo $?) "a warm container's shim ($SHIM)"
strace -qq -y -e trace=close,pidfd_send_signal,open,openat -o "$T/trace" -p "$SHIM" \
    2>"$T/strace.err" &
STRACE=$!
poll_until 10 traced "$SHIM" || bail_out "strace did not attach: $(head -c 200 "$T/strace.err")"
wr pool rm busybox >"$out" 2>"$err"
is "$?" 0 "pool rm busybox" || show_err
poll_until 30 pid_gone "$SHIM"
ok $? "... the traced shim has exited"
wait "$STRACE" 2>/dev/null
# line_of REGEX: the number of the first line of the trace matching REGEX (0: none).
line_of() { grep -n -m1 -E -- "$1" "$T/trace" | cut -d: -f1 | grep . || echo 0; }
kill_at=$(line_of 'pidfd_send_signal\(.*SIGKILL')
mnt_at=$(line_of '^close\([0-9]+<mnt:\[')
ipc_at=$(line_of '^close\([0-9]+<ipc:\[')
ok $([ "$kill_at" -gt 0 ]; echo $?) "the shim killed its container (trace line $kill_at)" ||
    diag_file "$T/trace"
ok $([ "$mnt_at" -gt 0 ] && [ "$mnt_at" -lt "$kill_at" ]; echo $?) \
    "... after it dropped the container's mount namespace (line $mnt_at)" || diag_file "$T/trace"
ok $([ "$ipc_at" -gt 0 ] && [ "$ipc_at" -lt "$kill_at" ]; echo $?) \
    "... and its IPC namespace (line $ipc_at)"
is "$(grep -c 'memory.oom_control' "$T/trace")" 0 "... and read no memory cgroup for OOM kills"
poll_until 30 nothing_left
ok $? "after pool rm: no shim or container, no cgroup, no record, no mount of the state dir" || {
    show_pids $(our_pids_except_daemon)
    diag "cgroups $(own_cgroups), records $(records), mounts $(state_mounts) (before: $mounts0)"
}

# ---- three create/remove cycles: the daemon's descriptors stay --------------------
fds=()
for i in 1 2 3; do
    wr pool create busybox --size "$POOL" --wait --timeout 60 >"$out" 2>"$err" || show_err
    wr activate --no-cold busybox -- true >"$out" 2>"$err" || show_err
    wr pool rm busybox >"$out" 2>"$err" || show_err
    poll_until 30 nothing_left || diag "cycle $i: something left"
    fds+=("$(daemon_fds)")
done
is "${fds[1]} ${fds[2]}" "${fds[0]} ${fds[0]}" \
    "the daemon's descriptors over three pool create/rm cycles: ${fds[*]}"
ok $(nothing_left; echo $?) "... and nothing left after the last"

# ---- a running container is not the pool's to end ---------------------------------
wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
wr activate --no-cold busybox -- sh -c 'sleep 3; exit 7' >"$out" 2>"$err" &
ACT=$!
running() { [ "$(pool_field busybox:latest running)" = 1 ]; }
poll_until 15 running
ok $? "an activation runs"
wr pool rm busybox >/dev/null 2>&1
is "$?" 0 "pool rm while it runs"
wait_child "$ACT" 30
is "$WAIT_RC" 7 "... the activation ends with its own status, not killed by the pool rm"
poll_until 30 nothing_left
ok $? "... then nothing is left"

stop_daemon
done_testing

#!/bin/bash
# TAP test: a warm pid 1 holds no descriptor of a mount outside its own
# mount table. A recycling pool's pid 1 makes a detached sysfs mount to
# travel with its network namespace (container/sysfs_mount.h) and hands it
# to its shim; it used to go with READY and be closed after the send, but
# the shim stops pid 1 on READY, so a stop between the send and the close
# left the mount open (O_PATH, "/") in some warm pid 1s (1 or 2 of 40-60
# here: 71-escape-fds.t saw it now and then). The mount now travels in a
# message of its own before READY (WR_MSG_SYSFS), closed before READY goes.
# Checked over a pool of 80 (the race is timing, so the old binaries fail
# this most, not all, of the time), and that the mount still reaches the
# shim: the refills of ended containers clone it (120-sysfs-kept.t has the
# details). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env pid1fds

IMG=busybox:latest
N=80

start_daemon || bail_out "the daemon did not start"
wr pool create "$IMG" --size "$N" >/dev/null 2>&1 || bail_out "pool create failed"
wait_pool_full "$IMG" 60
ok $? "a pool of $N fills"

# root_fds PID: the descriptors of PID on a directory "/" (what the race
# left: the detached sysfs mount's root; pid 1's own descriptors are
# sockets, /dev/null, /hosts and /hostname, 71-escape-fds.t).
root_fds() {
    local f
    for f in /proc/"$1"/fd/*; do
        [ "$(readlink "$f")" = / ] && echo "$1:${f##*/}:$(stat -f -L -c %T "$f") "
    done
}
bad= count=0
for shim in $(pgrep -P "$DAEMON_PID" -x warmrun-shim); do
    init=$(pgrep -P "$shim" | head -n1)
    [ -n "$init" ] || continue
    count=$((count + 1))
    bad="$bad$(root_fds "$init")"
done
[ "$count" -ge "$N" ]
ok $? "every warm container's pid 1 looked at ($count)"
is "$bad" "" "no warm pid 1 holds a descriptor on a mount's root (the sysfs mount it handed on)"

# The kept mount still reaches the shims: the shims hold one each.
held=0
for shim in $(pgrep -P "$DAEMON_PID" -x warmrun-shim); do
    for f in /proc/"$shim"/fd/*; do
        [ "$(readlink "$f")" = / ] || continue
        [ "$(stat -f -L -c %T "$f")" = sysfs ] && held=$((held + 1)) && break
    done
done
is "$held" "$count" "each shim holds its namespace's sysfs mount for the offer"

out=$(wr activate "$IMG" -- ls /sys/class/net 2>&1)
is "$out" "lo" "a warm container's /sys shows its namespace's lo"

stop_daemon
done_testing

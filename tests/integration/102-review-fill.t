#!/bin/bash
# TAP test: attacks on the fill path's cheaper /dev (docs/security.md,
# "CAP_MKNOD without a device cgroup").
# - A node the workload makes on /dev must not open, by its path (/dev is
#   nodev) nor by its file handle through the bind of one of the six safe
#   nodes: with CAP_DAC_READ_SEARCH (--cap-add DAC_READ_SEARCH or ALL),
#   open_by_handle_at opens any inode of /dev's tmpfs with the flags of the
#   mount it is given, and a node bound onto itself on that tmpfs is such a
#   mount, without nodev (the host's disk opened from a container). Checked
#   on a cold start and on a pool's fill (a shim forked by the shim server).
# - The six safe nodes still open, and the default profile is refused the
#   handle altogether.
# - A container without a CPU limit (no cpu hierarchy inside on a v1 host
#   with a separate cpu hierarchy) still has a cpu cgroup of its own, not
#   its shim's (the daemon's), where every one of its threads weighed as
#   much as the daemon's group and a neighbour's whole container (fails on
#   the code before: it stayed in the shim's).
# The handle checks fail on the code before the fix (nodes on /dev's own
# tmpfs in every profile). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env reviewfill
err=$T/err
add_helper_image dh "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/devhandle" devhandle '["/devhandle"]' ||
    bail_out "image"

# probe WHAT ARGS...: one line of devhandle, the node 1:3 (null, under a
# name of the workload's) made on /dev, opened through /dev/zero's bind.
probe() { wr activate "$@" -- /dev/probe 1 3 /dev/zero 2>"$err"; }

# ---- cold starts (the CLI's own shim) ------------------------------------------
is "$(probe dh)" "path EACCES handle EPERM" \
    "default profile: a node made on /dev opens neither by path nor by handle"
is "$(probe --cap-add DAC_READ_SEARCH dh)" "path EACCES handle ESTALE" \
    "--cap-add DAC_READ_SEARCH: a node made on /dev does not open through a safe node's mount"
is "$(probe --cap-add ALL dh)" "path EACCES handle ESTALE" \
    "--cap-add ALL: likewise"
is "$(wr activate --cap-add ALL --entrypoint sh dh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c' 2>&1)" \
    4 "--cap-add ALL: the safe nodes open"
unlike "$(wr activate --cap-add ALL --entrypoint ls dh -A /dev 2>&1)" '\.nodes' \
    "... and /dev shows no staging directory"

# ---- a pool's fill (a shim forked by the shim server) ----------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create dh --size 1 --cap-add DAC_READ_SEARCH --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool with --cap-add DAC_READ_SEARCH" || show_err
is "$(probe --no-cold dh)" "path EACCES handle ESTALE" \
    "a warm container of it: a node made on /dev does not open through a safe node's mount"
wr pool rm dh >/dev/null 2>&1

# ---- cpu: a container without a CPU limit is not a task of the daemon's group -----
# On a v1 host with a cpu hierarchy of its own, such a container sees no cpu
# hierarchy (99-cheap-teardown.t), but it must not stay in its shim's cpu
# cgroup, the daemon's, where each of its threads weighed as much as the
# daemon's group (8 busy threads took 8 times a 1-thread neighbour's CPU).
V1=/sys/fs/cgroup
SCOPE=$(scope_of "$STATE")
if [ -d $V1/cpu ] && [ -d $V1/cpuacct ] && [ "$(stat -c %d $V1/cpu)" != "$(stat -c %d $V1/cpuacct)" ]; then
    wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>"$err"
    is "$?" 0 "a pool without limits" || show_err
    wr activate --no-cold busybox -- sleep 60 >/dev/null 2>&1 &
    ACT=$!
    cid() { wr ps | awk '$2 == "busybox:latest" && $3 == "running" {print $1; exit}'; }
    has_cid() { [ -n "$(cid)" ]; }
    poll_until 15 has_cid
    ID=$(cid)
    PID1=$(head -1 "$V1/cpuacct/warmrun/$SCOPE/$ID/cgroup.procs" 2>/dev/null)
    ok $([ -n "$PID1" ]; echo $?) "its pid 1 (${PID1:-none}) in its cpuacct cgroup"
    cpu_of() { awk -F: '$2 == "cpu" {print $3}' "/proc/$1/cgroup"; }
    isnt "$(cpu_of "$PID1")" "$(cpu_of "$DAEMON_PID")" \
        "its cpu cgroup is not the daemon's ($(cpu_of "$DAEMON_PID"))"
    is "$(cpu_of "$PID1")" "/warmrun/$SCOPE/$ID" "... but one of its own"
    is "$(cat "$V1/cpu/warmrun/$SCOPE/$ID/cpu.shares" 2>/dev/null)" 1024 "... of the default weight"
    kill "$ACT" 2>/dev/null
    wr kill "$ID" >/dev/null 2>&1
    wait "$ACT" 2>/dev/null
    wr pool rm busybox >/dev/null 2>&1
else
    skip 5 "no v1 cpu hierarchy of its own"
fi
stop_daemon
ok $([ ! -e "$V1/cpu/warmrun/$SCOPE" ]; echo $?) "the daemon stopped: no scope cpu cgroup left"
done_testing

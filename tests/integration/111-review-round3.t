#!/bin/bash
# TAP test: hostile tenants against this round's features (docs/security.md).
# - child cgroups: a tenant with CAP_SYS_ADMIN in the host's user namespace
#   (--privileged, --cap-add ALL) nests child cgroups whose path from the
#   hierarchy's root is longer than the 512 bytes a cgroup path was built
#   in (two names of 250 bytes): teardown still removes every one of them,
#   cold and warm. Fails on the code before (the paths did not fit, the
#   walk stopped, the container's cgroups stayed).
# Needs root, busybox-static and a v1 pids hierarchy (this project's machines).
. "$(dirname "$0")/lib.sh"
setup_env review3
out=$T/out
err=$T/err
SCOPE=$(scope_of "$STATE")
CG=/sys/fs/cgroup
need_v1_hierarchies pids

show_cgroups() { find $CG/*/warmrun/"$SCOPE" -mindepth 1 -type d 2>/dev/null | head -5 | cut -c1-200 | sed 's/^/#   /' >&2; }

# ---- child cgroups with long paths ------------------------------------------------
# Two nested names of 250 bytes in every writable hierarchy (a remount
# read-write first), a task left in the deepest pids one.
LONG='#!/bin/sh
cg=/sys/fs/cgroup
a=$(printf "a%.0s" $(seq 250))
b=$(printf "b%.0s" $(seq 250))
made=0
for h in pids memory cpuacct blkio; do
    mount -o remount,bind,rw $cg/$h 2>/dev/null
    mkdir -p $cg/$h/$a/$b 2>/dev/null && made=$((made + 1))
done
sleep 30 </dev/null >/dev/null 2>&1 &
echo $! >$cg/pids/$a/$b/cgroup.procs && echo "INCHILD"
echo "made $made"
exit 0'
add_layer_image long '{"Cmd": ["sh"], "Env": ["PATH=/bin"]}' \
    "printf '%s\n' \"\$LONG\" >long && chmod 755 long" || bail_out "image long"

start_daemon || bail_out "the daemon did not start"
wr activate --privileged long -- /long >"$out" 2>"$err"
is "$?" 0 "cold --privileged: the workload ran" || show_err
like "$(cat "$out")" 'INCHILD' "... it nested two 250-byte child cgroups, a task in the deepest"
poll_until 15 no_container_pids
poll_until 15 no_cgroups
ok $? "... its cgroups are removed, the long child cgroups too" || show_cgroups

wr pool create long --size 1 --cap-add ALL --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool with --cap-add ALL" || show_err
wr activate --no-cold long -- /long >"$out" 2>"$err"
like "$(cat "$out")" 'INCHILD' "warm --cap-add ALL: the same tree made"
wr pool rm long >/dev/null 2>&1
poll_until 15 no_container_pids
poll_until 15 no_cgroups
ok $? "... its cgroups are removed too" || show_cgroups

done_testing

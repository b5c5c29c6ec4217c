#!/bin/bash
# TAP test: a hostile tenant against the descriptors the shim now holds
# (its container's /proc for the pristine check, cgroup scope directories,
# namespaces from its pidfd) and the sysfs mount kept with a recycled
# network namespace (docs/security.md, "Recycled network namespaces").
#
# The tenant runs in a pool that recycles namespaces with a seccomp
# profile of its own (seccomp=FILE, allowed to recycle) that refuses
# nothing: it can make a user namespace of its own, as pid 1 itself
# (`unshare -U -r -m` with no fork: the warm workload is pid 1), with
# CAP_SYS_ADMIN there. So:
# - its own user namespace gets no new proc or sysfs mount, no read-write
#   /proc/sys, /sys stays read-only and cannot be unmounted (the kernel's
#   locked mounts, mount_too_revealing, the superblock's owner);
# - hiding its TCP Fast Open key behind a tmpfs over /proc/sys/net/ipv4 in
#   its own mount namespace does not fool the pristine check, which reads
#   through the container's /proc opened at the fill: its network
#   namespace is never given again and later tenants see no key;
# - neither warm pid 1 nor a workload holds a descriptor on a cgroup
#   hierarchy, sysfs, procfs or a namespace;
# - a container whose cgroups got child cgroups (made here, from the
#   host) is still removed whole: the scope-relative rmdir's EBUSY
#   fallback.
# These are guards: they pass on the code before this round as on the
# current one (no tenant got through); the unit test of the fix of this
# review is tests/unit/test_close_fds.c. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review7
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
add_helper_image netprobe "$PROBE" netprobe || bail_out "cannot write the netprobe image"
# Refuses nothing: not unconfined, so the pool recycles.
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}\n' >"$T/allow.json"
start_daemon || bail_out "the daemon did not start"
out=$T/out err=$T/err

wr pool create netprobe --size 1 --security-opt "seccomp=$T/allow.json" --wait >"$out" 2>"$err"
ok $? "a pool of 1 with a seccomp profile that refuses nothing" || show_err
: >"$T/cookies"
for i in 1 2 3 4; do
    wait_pool_full netprobe:latest 30 || diag "pool not full"
    wr activate --no-cold netprobe -- /netprobe cookie >>"$T/cookies" 2>"$err" || show_err
done
[ "$(sort "$T/cookies" | uniq -d | wc -l)" -gt 0 ]
ok $? "  it recycles network namespaces" || diag "cookies: $(tr '\n' ' ' <"$T/cookies")"

# pid 1 in a user and mount namespace of its own: each attempt prints its
# name when it succeeds.
TRY='mount -t proc proc /proc 2>/dev/null && echo mounted-proc
mkdir -p /tmp/p /tmp/s
mount -t proc proc /tmp/p 2>/dev/null && echo new-proc
mount -t sysfs sysfs /tmp/s 2>/dev/null && echo new-sysfs
mount -o remount,rw /proc/sys 2>/dev/null && echo proc-sys-rw
mount -o remount,rw /sys 2>/dev/null && echo sys-rw
umount /sys 2>/dev/null && echo sys-unmounted
umount -l /proc/sys 2>/dev/null && echo proc-sys-unmounted
touch /sys/class/net/lo/x 2>/dev/null && echo sys-written
echo 1 >/proc/sys/net/ipv4/ip_forward 2>/dev/null && echo sysctl-written
echo done'
wait_pool_full netprobe:latest 30 || diag "pool not full"
wr activate --no-cold netprobe -- unshare -U -r -m sh -c "id -u; $TRY" >"$out" 2>"$err"
is "$(tr '\n' ' ' <"$out")" "0 done " \
    "pid 1 as root of a user namespace of its own: no new proc or sysfs, nothing writable, nothing unmounted" ||
    show_err

# The same, hiding the key it makes behind a tmpfs of its own mount
# namespace.
HIDE='/netprobe cookie >&2
mount -t tmpfs hide /proc/sys/net/ipv4 &&
  printf "00000000-00000000-00000000-00000000\n" >/proc/sys/net/ipv4/tcp_fastopen_key &&
  echo hidden
cat /proc/sys/net/ipv4/tcp_fastopen_key
/netprobe fastopen'
wait_pool_full netprobe:latest 30 || diag "pool not full"
wr activate --no-cold netprobe -- unshare -U -r -m sh -c "$HIDE" >"$out" 2>"$T/dirty"
is "$(tr '\n' ' ' <"$out")" "hidden 00000000-00000000-00000000-00000000 left fastopen " \
    "a tenant made a TCP Fast Open key and hid it in its own mount namespace" ||
    diag_file "$T/dirty"
printf '00000000-00000000-00000000-00000000\n' >"$T/fresh"
views_after netprobe:latest '/netprobe cookie >&2; cat /proc/sys/net/ipv4/tcp_fastopen_key' \
    "$T/fresh" "$(head -n1 "$T/dirty")" --wait
is "$CLEAN" 5 "  the next 5 activations see no key$SEEN"
is "$REUSED" 0 "  its namespace was never given again (the check read the real key)"

# Descriptors: warm pid 1 (seen from the host) and a workload.
fd_types() {
    local f
    for f in /proc/"$1"/fd/*; do
        stat -L -f -c %T "$f" 2>/dev/null
        readlink "$f" | grep -o '^[a-z]*:\[' | tr -d ':['
    done | grep -E '^(cgroupfs|cgroup2fs|sysfs|proc|nsfs|mnt|net|ipc|uts|pid|cgroup|user)$' |
        sort -u | tr '\n' ' '
}
warm_pid1() {
    our_pids_except_daemon | grep -xF -f <(pgrep -x warmrun-init) || true
}
wait_pool_full netprobe:latest 30 || diag "pool not full"
pids=$(warm_pid1)
held=""
for p in $pids; do held="$held$(fd_types "$p")"; done
[ -n "$pids" ] && [ -z "$held" ]
ok $? "warm pid 1 holds no descriptor on a cgroup, sysfs, proc or namespace ($pids: $held)"
wr activate --no-cold netprobe -- sh -c 'for f in /proc/$$/fd/*; do stat -L -f -c %T $f; done' \
    >"$out" 2>"$err"
is "$(grep -cE 'cgroup|sysfs|proc|nsfs' "$out")" 0 "  nor does a workload" || diag_file "$out"

# A running container's cgroups with child cgroups in them (made from the
# host): its shim's rmdir relative to the scope fails EBUSY, the path-based
# removal of the tree follows.
scope=$(scope_of "$STATE")
wait_pool_full netprobe:latest 30 || diag "pool not full"
wr activate --no-cold netprobe -- sh -c 'echo up; sleep 2' >"$out" 2>"$err" &
act=$!
poll_until 10 test -s "$out"
subs=0
for d in /sys/fs/cgroup/*/warmrun/"$scope"/*/; do
    mkdir "$d/review7-sub" 2>/dev/null && subs=$((subs + 1))
done
wait "$act"
[ "$subs" -gt 0 ]
ok $? "child cgroups made in $subs cgroup directories of the pool's containers"
wr pool rm netprobe >"$out" 2>"$err"
ok $? "pool rm" || show_err
poll_until 10 no_cgroups
ok $? "  no cgroup of its containers is left, child cgroups included ($(own_cgroups))"
is "$(daemon_netns_fds)" 0 "  the daemon holds no namespace of it"
held=0
for f in /proc/"$DAEMON_PID"/fd/*; do
    [ "$(stat -L -f -c %T "$f" 2>/dev/null)" = sysfs ] && held=$((held + 1))
done
is "$held" 0 "  nor any sysfs mount"

stop_daemon
poll_until 10 no_container_pids
ok $? "daemon stop: no container process of this test is left" || show_pids $(our_pids)

done_testing

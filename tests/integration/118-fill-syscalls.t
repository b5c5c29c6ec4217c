#!/bin/bash
# TAP test: what the shim walks on the fill and teardown paths
# (docs/benchmarks.md, "The shim's own system calls"), and that the
# descriptors it now holds from the fill to the teardown keep every
# guarantee.
#
# The shim holds from the fill: its container's cgroup scope directories
# (mkdir, cgroup.procs, memory.oom_control and rmdir relative to them), the
# namespaces from its pidfd, and, with a recycling pool, its container's
# own /proc, through which the pristine check reads the namespace's TCP
# Fast Open key (not through the host's /proc/sys, whose lookups grow with
# the host's namespaces). So:
# - a forked shim reads no mountinfo and no boot id (its server did, once),
#   opens no /proc/PID/ns/NAME and no path under the host's /proc/sys
#   (lo's multicast versions are pid 1's to set, through its own proc),
#   and makes no cgroup parent that exists (fails on the code before,
#   which did each for every container, or for every new namespace);
# - a clean namespace is still recycled, and a tenant that made a TFO key
#   (after reading the key through its own /proc, so that its proc holds
#   the file's dentry) still is not: the next tenants see no key;
# - the container's cgroups exist while it is warm and are gone after.
# Needs root, busybox-static and strace.
. "$(dirname "$0")/lib.sh"
setup_env fillsys
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"

out=$T/out
err=$T/err
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
add_helper_image netleft "$PROBE" netleft || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"
# Every open, mkdir and access of the shims the server forks (and of their
# containers), from the first fill to the end.
trace_server open,openat,openat2,mkdir,mkdirat,access "$T/trace"

wr pool create netleft --size 1 --wait >"$out" 2>"$err"
ok $? "a pool of 1 that recycles namespaces" || show_err
[ "$(own_cgroups)" -gt 0 ]
ok $? "  its warm container has its cgroups"

# Five clean tenants, each once the pool is full again: their namespaces
# are offered back and reused (the cookie of one seen again).
: >"$T/cookies"
for i in 1 2 3 4 5; do
    wait_pool_full netleft:latest 30 || diag "pool not full"
    wr activate --no-cold netleft -- /netleft cookie >>"$T/cookies" 2>"$err" || show_err
done
is "$(wc -l <"$T/cookies")" 5 "five clean activations"
[ "$(sort "$T/cookies" | uniq -d | wc -l)" -gt 0 ]
ok $? "  a clean namespace is recycled (the pristine check passes)" ||
    diag "cookies: $(tr '\n' ' ' <"$T/cookies")"

# A tenant that reads the key through its own /proc, then makes one.
VIEW='/netleft cookie >&2; cat /proc/sys/net/ipv4/tcp_fastopen_key'
printf '00000000-00000000-00000000-00000000\n' >"$T/fresh"
wait_pool_full netleft:latest 30 || diag "pool not full"
wr activate --no-cold netleft -- sh -c 'cat /proc/sys/net/ipv4/tcp_fastopen_key >/dev/null;
  /netleft cookie >&2; /netleft fastopen; sleep 1' >"$out" 2>"$T/dirty"
like "$(cat "$out")" "^left fastopen" "a tenant made its namespace's TCP Fast Open key" ||
    diag_file "$T/dirty"
views_after netleft:latest "$VIEW" "$T/fresh" "$(head -n1 "$T/dirty")" --wait
is "$CLEAN" 5 "  the next 5 activations see no key$SEEN"
is "$REUSED" 0 "  its namespace was never given again"

wait_pool_full netleft:latest 30 || diag "pool not full"
kill "$TRACER" 2>/dev/null
wait "$TRACER" 2>/dev/null

# The shims: the traced processes that ran a pristine check.
shims=$(awk '/sockstat/ {print $1}' "$T/trace" | sort -u)
n=$(echo "$shims" | grep -c .)
[ "$n" -ge 5 ]
ok $? "the trace holds the shims' pristine checks ($n shims)"
of_shims() { grep -E "^($(echo "$shims" | paste -sd'|')) " "$T/trace"; }
is "$(of_shims | grep -cE 'mountinfo|random/boot_id')" 0 \
    "  no shim reads mountinfo or the boot id (the server did, once)"
is "$(of_shims | grep -cE '"/proc/[0-9]+/ns/')" 0 "  no shim opens /proc/PID/ns/NAME"
is "$(of_shims | grep -cE '"/proc/sys/net/ipv4/tcp_fastopen_key"')" 0 \
    "  no shim walks the host's /proc/sys/net at the check"
is "$(of_shims | grep -cE '"/proc/sys/')" 0 \
    "  no shim opens anything under the host's /proc/sys, at the fill either" ||
    diag "$(of_shims | grep -E '"/proc/sys/' | head -n3)"
# lo's multicast versions of a new namespace: written by its pid 1, after
# pivot_root, through the container's own proc (its first tenant's fill).
# (open or openat: musl's open(3), the shim's, is the open system call.)
grep -vE "^($(echo "$shims" | paste -sd'|')) " "$T/trace" |
    grep -E '(open\(|openat\(AT_FDCWD, )"/proc/sys/net/ipv4/conf/lo/force_igmp_version", O_WRONLY' |
    grep -qv ' = -1 '
ok $? "  pid 1 of a new namespace set lo's IGMP version itself"
# (The first fill of a scope makes it, its parent "warmrun" existing.)
is "$(of_shims | grep -E "mkdir.*/warmrun/$(scope_of "$STATE")\"" | grep -c EEXIST)" 0 \
    "  no shim makes its cgroup scope directory again" ||
    diag "$(of_shims | grep -E 'mkdir' | grep EEXIST | head -n3)"

wr pool rm netleft >"$out" 2>"$err"
ok $? "the pool removed" || show_err
poll_until 10 no_cgroups
ok $? "  no cgroup of its containers is left ($(own_cgroups))"

done_testing

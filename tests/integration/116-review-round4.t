#!/bin/bash
# TAP test: attacks of a hostile tenant found in the fourth review round
# (docs/security.md, "Recycled network namespaces"), each fixed and kept
# fixed here.
#
# A recycled network namespace must show the next tenant nothing of the
# last one. Two kinds of state passed the pristine check, with every socket
# closed and no packet on lo when it ran:
# - TCP Fast Open's server key: a listen with TCP_FASTOPEN (no capability,
#   no packet, no counter) makes the namespace's key, which its root reads
#   in /proc/sys/net/ipv4/tcp_fastopen_key: the next tenant read the last
#   one's key;
# - multicast on lo: a tenant that joins groups and exits leaves IGMPv3
#   reports (listing the groups it chose) on a timer of lo, sent 2 jiffies
#   and up to 1 s later: after the check, in the next tenant's time (lo's
#   counters were no longer 0, and a packet socket, Docker's default
#   CAP_NET_RAW, reads them).
# - IPv6 routes cached per CPU: a UDP connect to ::1 (no packet) caches
#   the route on that CPU for the namespace's life; the next tenant read
#   how many in /proc/net/rt6_stats (and so which CPUs the last one used).
# The next activations of the pool must see what a fresh namespace shows
# (the key all zeros, lo's counters 0, no cached route). Each fails on the
# code before (the key, the reports and the routes reach the next tenant).
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review4

out=$T/out
err=$T/err
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
add_helper_image netleft "$PROBE" netleft || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"

VIEW='/netleft cookie >&2; cat /proc/sys/net/ipv4/tcp_fastopen_key; grep "lo:" /proc/net/dev;
  cat /proc/net/rt6_stats 2>/dev/null'
wr activate --cold netleft -- sh -c "$VIEW" >"$T/fresh" 2>"$err"
ok $? "the view of a fresh namespace" || show_err
like "$(head -n1 "$T/fresh")" '^00000000-00000000-00000000-00000000$' "  it has no TCP Fast Open key"

wr pool create netleft --size 1 --wait >"$out" 2>"$err"
ok $? "a pool of 1 that recycles namespaces" || show_err

# The tenant's last process: its exit is pid 1's, so the check runs at once
# (before lo's multicast timer, on the code before). A second first, so
# that the pool's refill is under way before the namespace is offered.
declare -A TENANT=(
    [fastopen]='/netleft cookie >&2; /netleft fastopen; sleep 1'
    [mcast]='/netleft cookie >&2; sleep 1; exec /netleft mcast 8'
    [route6]='/netleft cookie >&2; /netleft route6; sleep 1'
)
for what in fastopen mcast route6; do
    wr activate --no-cold netleft -- sh -c "${TENANT[$what]}" >"$out" 2>"$T/dirty"
    like "$(cat "$out")" "^left " "$what: the tenant left its traces" || diag_file "$T/dirty"
    dirty=$(head -n1 "$T/dirty")
    views_after netleft:latest "$VIEW" "$T/fresh" "$dirty" --wait
    is "$CLEAN" 5 "  the next 5 activations see a fresh namespace$SEEN"
    diag "$what: the tenant's namespace was given $REUSED times"
done

# The namespaces of the pool are set to the multicast versions that keep
# nothing of a group its last socket left; the workload cannot undo it.
wait_pool_full netleft:latest 30
wr activate --no-cold netleft -- sh -c 'cat /proc/sys/net/ipv4/conf/lo/force_igmp_version;
  echo 3 >/proc/sys/net/ipv4/conf/lo/force_igmp_version 2>/dev/null && echo WRITTEN' \
    >"$out" 2>"$err"
is "$(tr '\n' ' ' <"$out")" "2 " "a pool's namespace: IGMPv2 on lo, read-only to the workload" ||
    show_err

# Clear errors found on the way: a tmpfs volume over /dev itself is refused
# by name (it hid /dev's nodes: the error was about /proc/keys), one below
# it is not; --min without --max says so.
wr activate --cold --tmpfs /dev busybox -- true >"$out" 2>"$err"
rc=$?
is "$rc" 125 "--tmpfs /dev: refused (exit 125)"
like "$(cat "$err")" "volume target /dev is the container's /dev: refused" "  and says why" || show_err
wr activate --cold --tmpfs /dev/shm busybox -- sh -c 'grep " /dev/shm " /proc/mounts | tail -n1 | cut -d" " -f3,4 | cut -d, -f1' \
    >"$out" 2>"$err"
is "$(cat "$out")" "tmpfs rw" "--tmpfs /dev/shm: a tmpfs volume below /dev is allowed" || show_err
wr pool create busybox --min 2 >"$out" 2>"$err"
is "$?" 2 "pool create --min without --max: a usage error (exit 2)"
like "$(cat "$err")" "--min and --idle-ttl need --max M" "  that names --max" || show_err

done_testing

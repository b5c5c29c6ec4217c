#!/bin/bash
# TAP test: a recycled network namespace is not lost because sockets closed
# at the end are still being freed (docs/security.md, "Recycled network
# namespaces"). Netlink sockets are freed an RCU grace period after their
# close, and the pristine check counts every socket of the namespace: a
# tenant whose last command used netlink (busybox `ip`, as any tool that
# asks the kernel about links or addresses) left its namespace counted one
# or two sockets above a fresh one's when the check ran, and the namespace
# was destroyed. The check now waits, sleeping, for such a count to come
# down. Each tenant's namespace (its SO_NETNS_COOKIE, never reused by the
# kernel) must reach a later activation of the same pool of 1; and a
# tenant that left traces (netprobe leave: listening and bound sockets of a
# background process, a TIME_WAIT connection) still never passes its
# namespace on. Fails on the check before the wait (no tenant's namespace
# comes back). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env nssettle

out=$T/out
err=$T/err
TENANTS=5
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe

add_helper_image netprobe "$PROBE" netprobe || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"
wr pool create netprobe --size 1 --wait >"$out" 2>"$err"
ok $? "a recycling pool of 1" || show_err

# tenant COMMAND: one activation printing its namespace's cookie, then COMMAND.
tenant() {
    wr activate netprobe -- sh -c "/netprobe cookie; $1" 2>>"$err" | head -n1
}

# comes_back COOKIE: whether one of the next 3 activations gets that namespace.
comes_back() {
    local i c
    sleep 0.5 # the check runs after the exit report; it may wait up to 50 ms
    for i in 1 2 3; do
        c=$(wr activate netprobe -- /netprobe cookie 2>>"$err")
        [ "$c" = "$1" ] && return 0
    done
    return 1
}

back=0 seen=""
for i in $(seq "$TENANTS"); do
    c=$(tenant 'ip link >/dev/null; ip addr >/dev/null; ip route >/dev/null')
    [ -n "$c" ] || continue
    comes_back "$c" && back=$((back + 1))
    seen="$seen $c"
done
[ "$back" -ge $((TENANTS - 1)) ]
ok $? "$back of $TENANTS namespaces whose tenant ended with netlink calls were recycled" ||
    diag "tenants' cookies:$seen"

# The wait is for counts coming down, not a pass: a TIME_WAIT connection
# stays (tcp tw), and the namespace goes.
c=$(tenant '/netprobe leave >/dev/null 2>&1')
comes_back "$c"
ok $((!$?)) "a namespace its tenant left traces in is still never recycled"

wr pool rm netprobe >"$out" 2>"$err"
ok $? "pool rm" || show_err
stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

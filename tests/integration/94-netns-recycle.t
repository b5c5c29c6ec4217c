#!/bin/bash
# TAP test: recycled network namespaces (docs/security.md, "Recycled network
# namespaces"). A pool with the default profile gives the network namespace
# of an exited container to a later one (the namespace's cookie repeats),
# but only a pristine one: after a tenant that left a listening TCP socket
# (IPv4 and IPv6) and a bound UDP socket and an abstract unix socket held
# by a background process, a TIME_WAIT connection on lo and an attempted
# sysctl, the next activations see exactly what a fresh namespace shows
# (/proc/net/tcp, tcp6, udp, udp6, raw, raw6, unix, lo's counters, busybox
# `ip` link, addr and route, the sysctl) and never that tenant's namespace.
# A pool with --cap-add NET_ADMIN and one with --userns never get a
# recycled namespace. Fails without recycling (no cookie repeats) and with
# a recycling that skips the pristine check (the TIME_WAIT is seen). Needs
# root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env netns

out=$T/out
err=$T/err
POOL=2
RUNS=8
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
NETVIEW='cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/net/raw \
  /proc/net/raw6 /proc/net/unix; grep "lo:" /proc/net/dev; ip link; ip addr; ip route; \
  ip -6 route; cat /proc/sys/net/ipv4/ip_default_ttl'

add_helper_image netprobe "$PROBE" netprobe || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"

# What a fresh network namespace shows (a cold start creates its own).
wr activate --cold netprobe -- sh -c "$NETVIEW" >"$T/fresh" 2>"$err"
ok $? "the view of a fresh namespace" || show_err
grep -q '127.0.0.1/8' "$T/fresh"
ok $? "  it has lo with 127.0.0.1/8" || diag_file "$T/fresh"

# cookies N [OPTS...]: N activations of the pool, one namespace cookie each.
cookies() {
    local n=$1 i
    for i in $(seq "$n"); do
        wr activate --no-cold netprobe -- /netprobe cookie 2>>"$err" || echo failed
    done
}

wr pool create netprobe --size "$POOL" --wait >"$out" 2>"$err"
ok $? "default profile: pool of $POOL" || show_err
cookies "$RUNS" >"$T/c1"
distinct=$(sort -u "$T/c1" | grep -vc failed)
[ "$(grep -c failed "$T/c1")" -eq 0 ] && [ "$distinct" -lt "$RUNS" ]
ok $? "  $RUNS clean activations used $distinct namespaces: recycled" ||
    diag "cookies: $(tr '\n' ' ' <"$T/c1")"

# The tenant, and the check can fail: in its own namespace it sees its traces.
wr activate --no-cold netprobe -- sh -c "/netprobe leave; /netprobe cookie >/tmp/c; $NETVIEW; \
  cat /tmp/c >&2" >"$out" 2>"$T/dirty_cookie"
ok $? "  the tenant ran" || diag_file "$T/dirty_cookie"
left=$(grep -c '^left ' "$out")
[ "$left" -ge 5 ] && grep -q 'left tcp time_wait' "$out"
ok $? "  it left $left traces: $(grep '^left ' "$out" | cut -d' ' -f2-3 | tr '\n' ';')" ||
    diag_file "$out"
grep -v '^left \|not writable' "$out" >"$T/dirty_view"
! cmp -s "$T/dirty_view" "$T/fresh"
ok $? "  its own view differs from a fresh namespace's (the check can fail)"
dirty=$(tail -n1 "$T/dirty_cookie")

clean=0 reused=0 seen=""
for i in $(seq $((POOL * 2 + 1))); do
    wr activate --no-cold netprobe -- sh -c "/netprobe cookie >&2; $NETVIEW" >"$out" 2>"$T/c"
    [ "$(tail -n1 "$T/c")" = "$dirty" ] && reused=$((reused + 1))
    if cmp -s "$out" "$T/fresh"; then
        clean=$((clean + 1))
    else
        seen="$seen $(diff "$T/fresh" "$out" | grep '^>' | head -3 | tr '\n' ';')"
    fi
done
is "$clean" $((POOL * 2 + 1)) "  the next $((POOL * 2 + 1)) activations see a fresh namespace$seen"
is "$reused" 0 "  none of them got the tenant's namespace"
cookies "$RUNS" >"$T/c2"
distinct=$(sort -u "$T/c2" | grep -vc failed)
[ "$distinct" -lt "$RUNS" ]
ok $? "  and recycling goes on after it ($distinct namespaces for $RUNS)"
# Many exits at once for a pool of 1 (the daemon starts containers for the
# waiting activations): its free list keeps at most 1.
wr pool create netprobe --size 1 --wait >"$out" 2>"$err"
pids=()
for i in 1 2 3 4 5 6; do
    wr activate netprobe -- sleep 0.3 >/dev/null 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
sleep 0.5
held=$(daemon_netns_fds)
[ "$held" -le 1 ]
ok $? "  the daemon holds $held recycled namespace(s) for a pool of 1 (at most its size)"

for opt in "--cap-add NET_ADMIN" "--userns auto"; do
    # shellcheck disable=SC2086 # two words
    wr pool create netprobe --size "$POOL" $opt --wait >"$out" 2>"$err"
    ok $? "$opt: pool of $POOL" || { show_err; continue; }
    cookies "$RUNS" >"$T/c3"
    distinct=$(sort -u "$T/c3" | grep -vc failed)
    is "$distinct" "$RUNS" "  $RUNS activations, $RUNS fresh namespaces (never a recycled one)"
    grep -qxFf "$T/c1" "$T/c3"
    ok $((!$?)) "  none of the default pool's namespaces"
done

wr pool create netprobe --size "$POOL" --wait >"$out" 2>"$err"
cookies 3 >/dev/null
wr pool rm netprobe >"$out" 2>"$err"
ok $? "pool rm" || show_err
is "$(daemon_netns_fds)" 0 "  the daemon holds no namespace of it any more"

stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

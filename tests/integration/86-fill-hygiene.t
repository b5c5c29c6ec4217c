#!/bin/bash
# TAP test: nothing of one tenant reaches the next activations of the same
# pool. A tenant (tests/attack/traces.c) leaves every kind of trace it can:
# files in /, /tmp and /dev/shm, a SysV shared memory segment, semaphore
# set and message queue, a POSIX message queue, a background process in its
# own session ignoring SIGHUP/SIGTERM and listening on an abstract unix
# socket, a changed hostname, lowered rlimits, a sysctl of its network
# namespace if writable. The following activations of the pool (more than
# its size, so that containers filled after the tenant ran are checked too)
# find none of it and start with the image's rlimits; the tenant's
# background process is gone from the host. Run warm with the default
# profile and with --cap-add ALL (CAP_NET_ADMIN and CAP_SYS_ADMIN: the
# tenant can change more). A guard: it passes on the code before the fill
# path changed, and must keep passing. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env hygiene

out=$T/out
err=$T/err
POOL=2
TRACES=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/traces

add_helper_image traces "$TRACES" traces || bail_out "cannot write the traces image"
start_daemon || bail_out "the daemon did not start"

# The host's view of the tenant's background process, by its socket name.
bg_on_host() { grep -q "@trace-$1" /proc/net/unix 2>/dev/null || pgrep -f "^/traces leave $1" >/dev/null; }
host_rlimits=$(wr activate --cold traces -- sh -c 'ulimit -n; ulimit -u; ulimit -c; ulimit -s' 2>/dev/null | tr '\n' ' ')

# The check can fail: in the tenant's own container it finds what it left.
wr activate --cold --cap-add ALL traces -- sh -c '/traces leave self$$ >/dev/null; /traces check self$$' \
    >"$out" 2>"$err"
found=$(grep -c '^found' "$out")
[ "$found" -ge 10 ]
ok $? "the check finds $found traces in the tenant's own container" || diag_file "$out"

for profile in default capall; do
    opts=()
    [ "$profile" = capall ] && opts=(--cap-add ALL)
    m="$profile:"
    wr pool create traces --size "$POOL" "${opts[@]}" --wait >"$out" 2>"$err"
    ok $? "$m pool of $POOL" || { show_err; continue; }
    TAG=$profile$$
    wr activate --no-cold traces -- /traces leave "$TAG" >"$out" 2>"$err"
    ok $? "$m the tenant ran" || show_err
    left=$(grep -c '^left ' "$out")
    [ "$left" -ge 10 ]
    ok $? "$m it left $left traces: $(grep '^left ' "$out" | cut -d' ' -f2 | sort -u | tr '\n' ' ')" ||
        diag_file "$out"
    poll_until 10 bash -c "! grep -q '@trace-$TAG' /proc/net/unix"
    ok $? "$m its background process and socket are gone from the host"
    clean=0 seen=""
    for i in $(seq $((POOL * 2 + 1))); do
        wr activate --no-cold traces -- /traces check "$TAG" >"$out" 2>"$err"
        if [ "$(cat "$out")" = clean ]; then
            clean=$((clean + 1))
        else
            seen="$seen $(grep '^found' "$out" | tr '\n' ';')"
        fi
    done
    is "$clean" $((POOL * 2 + 1)) "$m the next $((POOL * 2 + 1)) activations find nothing of it$seen"
    wr activate --no-cold traces -- sh -c 'ulimit -n; ulimit -u; ulimit -c; ulimit -s' >"$out" 2>"$err"
    is "$(tr '\n' ' ' <"$out")" "$host_rlimits" "$m the next tenant starts with the image's rlimits"
    wr activate --no-cold traces -- sh -c 'hostname' >"$out" 2>"$err"
    like "$(cat "$out")" '^[0-9a-f]{12}$' "$m   and its own hostname (the container id)"
done

wr pool rm traces >"$out" 2>"$err"
ok $? "pool rm" || show_err
stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

#!/bin/bash
# TAP test of pools sized by demand (`pool create IMAGE --min N --max M
# --idle-ttl S`): it fills to N; a burst of activations grows it, never
# beyond M; `pool ls` says its target and why; after S idle seconds it
# shrinks back to N; bad bounds get one line, exit 2, and leave the pool as
# it was; `--size` makes it fixed again. --no-cold activations of an empty
# pool wait for its fill instead of failing. No timing is asserted beyond
# generous polls. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env autoscale

out=$T/out
err=$T/err

start_daemon || bail_out "the daemon did not start"

# autoscale_line: the "autoscale:" line of pool ls for busybox:latest.
autoscale_line() {
    WR_TIMEOUT=10 wr pool ls 2>/dev/null | awk '$1 == "busybox:latest" {p = 1; next}
        p && /^  autoscale:/ {print; exit} p && !/^  / {exit}'
}
size_is() { [ "$(pool_field busybox:latest size)" = "$1" ]; }
warm_is() { [ "$(pool_field busybox:latest warm)" = "$1" ]; }
warm_at_most() { [ "$(pool_field busybox:latest warm)" -le "$1" ]; }

# ---- bad input: one line, exit 2, nothing created -----------------------------
bad() {
    local what=$1
    shift
    wr pool create busybox "$@" >"$out" 2>"$err"
    is "$?" 2 "$what: exit 2"
    is "$(wc -l <"$err")" 1 "  one line: $(head -c 120 "$err")"
}
bad "--min 5 --max 3" --min 5 --max 3
like "$(cat "$err")" 'min \(5\) is larger than max \(3\)' "  says min > max"
bad "--min -1 --max 3" --min -1 --max 3
bad "--max 0" --max 0
like "$(cat "$err")" 'max must be an integer from 1 to 4096, got 0' "  says max 0 is out of range"
bad "--max 4097" --max 4097
bad "--idle-ttl 0" --max 3 --idle-ttl 0
bad "--idle-ttl -5" --max 3 --idle-ttl -5
bad "--min without --max" --min 2
bad "--size with --max" --size 2 --max 4
bad "--max abc" --max abc
wr pool ls >"$out" 2>"$err"
is "$(awk '$1 == "busybox:latest"' "$out")" "" "no pool was created by the bad requests"

# ---- min 2, max 6, idle TTL 5 s --------------------------------------------------
wr pool create busybox --min 2 --max 6 --idle-ttl 5 --wait >"$out" 2>"$err"
ok $? "pool create busybox --min 2 --max 6 --idle-ttl 5 --wait" || { show_err; bail_out "no pool"; }
is "$(pool_field busybox:latest size)" 2 "fills to min: size 2"
like "$(autoscale_line)" '^  autoscale: min 2, max 6, idle TTL 5 s; target 2 ' "pool ls: the bounds and target 2"

# The same bad input on the existing pool leaves it as it was.
wr pool create busybox --min 9 --max 4 >"$out" 2>"$err"
is "$?" 2 "min > max on the existing pool: exit 2"
like "$(autoscale_line)" 'min 2, max 6, idle TTL 5 s' "  the pool keeps its bounds"

# A burst: 12 activations at once (with cold fallback): the pool grows.
pids=
for i in $(seq 12); do
    wr activate busybox -- true >"$T/burst.$i" 2>&1 &
    pids="$pids $!"
done
wait $pids
fails=0
for i in $(seq 12); do [ -s "$T/burst.$i" ] && fails=$((fails + 1)); done
is "$fails" 0 "12 activations at once all ran"
poll_until 4 size_is 6
ok $? "the burst grew the target to max 6 (size $(pool_field busybox:latest size))"
line=$(autoscale_line)
like "$line" 'target 6 \(rate [0-9]+/s x fill [0-9.]+ ms \+ burst [0-9]+' "pool ls says why: $line"
poll_until 20 warm_is 6
ok $? "6 warm: filled to the target, within max (warm $(pool_field busybox:latest warm))"
warm_at_most 6
ok $? "never more than max warm"

# Idle for the TTL: back to min, surplus gone.
poll_until 15 size_is 2
ok $? "after 5 s idle the target is back to min 2"
like "$(autoscale_line)" 'target 2 \(min: idle 5s\)' "  pool ls says it is idle"
poll_until 10 warm_is 2
ok $? "  and the surplus warm containers went (warm $(pool_field busybox:latest warm))"

# The pool persists with its bounds: a new daemon restores it sized by demand.
stop_daemon
start_daemon || bail_out "the daemon did not start again"
poll_until 10 size_is 2
like "$(autoscale_line)" '^  autoscale: min 2, max 6, idle TTL 5 s; target 2 ' \
    "a new daemon restores the pool with its bounds"

# ---- --no-cold waits for the pool's fill -------------------------------------
# Drain the pool with long-running workloads, then ask with --no-cold: the
# pool has none warm; the activation waits for the container being filled.
wr pool create busybox --min 1 --max 1 --idle-ttl 60 --wait >"$out" 2>"$err"
ok $? "pool resized: --min 1 --max 1" || show_err
TAG=$((100 + RANDOM % 800)).$$
"${WR[@]}" activate --no-cold busybox -- sleep "$TAG" >/dev/null 2>&1 &
bg=$!
poll_until 10 warm_is 0
# Six at once: at most one is warm; the others wait for the pool's fills
# (the one being filled, or one started with its settings) instead of
# failing with "no warm container".
pids=
for i in 1 2 3 4 5 6; do
    wr activate --no-cold -v busybox -- echo "served-$i" >"$T/nc.$i.out" 2>"$T/nc.$i.err" &
    pids="$pids $!"
done
wait $pids
ok_n=0
for i in 1 2 3 4 5 6; do
    grep -qx "served-$i" "$T/nc.$i.out" && ok_n=$((ok_n + 1))
done
is "$ok_n" 6 "6 --no-cold activations at once on a drained pool of 1: none failed" ||
    diag "$(cat "$T"/nc.*.err | sort | uniq -c | head -5)"
like "$(cat "$T"/nc.*.err)" "cold: pool busybox:latest had no warm container; (waited for the one it was filling|started one with the pool's settings)" \
    "  -v: those that found none warm say what they waited for"
# (SIGKILL: the CLI forwards SIGTERM to its pid 1, which ignores it; a
# dead CLI takes its container with it)
kill -KILL "$bg" 2>/dev/null
wait "$bg" 2>/dev/null

# A fixed pool of size 0 still refuses --no-cold at once.
wr pool create busybox --size 0 >"$out" 2>"$err"
ok $? "--size 0: the pool is fixed again" || show_err
is "$(autoscale_line)" "" "  pool ls shows no autoscale line"
wr activate --no-cold busybox -- true >"$out" 2>"$err"
is "$?" 125 "--no-cold on a fixed pool of 0: exit 125"
like "$(cat "$err")" '^warmrun: the pool has no warm container right now$' "  one clear line"

wr pool rm busybox >"$out" 2>"$err"
ok $? "pool rm" || show_err
stop_daemon
is "$DAEMON_RC" 0 "the daemon stopped cleanly"
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

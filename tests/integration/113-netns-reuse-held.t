#!/bin/bash
# TAP test: a shim whose container enters a recycled network namespace
# holds that namespace itself (the descriptor it was given), not whatever
# /proc/PID/ns/net named right after the clone, before the child's setns:
# the host's. Holding the host's, its pristine check at the end looked at
# the host's namespace, failed, and the recycled namespace was lost, so
# under concurrency ~45 % of activations made a new one (docs/benchmarks.md,
# "A lead for the next round"). Checks:
# - 8 clients x 20 activations of a --network none pool of 8 see at most
#   48 distinct namespaces (before: 63-73 of 160; after: 27-29);
# - every shim of the pool holds its container's network namespace.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env nsheld
err=$T/err

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 8 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a --network none pool of 8" || show_err

pids=()
for c in 1 2 3 4 5 6 7 8; do
    (for i in $(seq 20); do wr activate busybox -- readlink /proc/self/ns/net || echo FAIL; done >"$T/out$c") &
    pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$T"/out* | grep -c FAIL)" 0 "160 activations, 8 at a time"
n=$(cat "$T"/out* | grep '^net:' | sort -u | wc -l)
ok $([ "$n" -le 48 ]; echo $?) "they ran in $n distinct network namespaces (at most 48: recycled)"

# Every warm container's shim holds the namespace its container is in.
wait_pool_full busybox:latest 30
bad=0 seen=0
while read -r id _ state pid shim _; do
    [ "$state" = warm ] || continue
    seen=$((seen + 1))
    want=$(readlink "/proc/$pid/ns/net")
    held=$(for fd in /proc/"$shim"/fd/*; do readlink "$fd"; done 2>/dev/null | grep '^net:' | sort -u)
    [ "$held" = "$want" ] || { bad=$((bad + 1)); diag "$id: shim holds '$held', container in '$want'"; }
done < <(wr ps | awk 'NR > 1 {print $1, $2, $3, $4, $5}')
ok $([ "$seen" -ge 1 ] && [ "$bad" -eq 0 ]; echo $?) "each of $seen warm containers' shims holds its container's namespace"
isnt "$(wr ps | awk '$3 == "warm" {print $4}' | head -1 | xargs -I{} readlink /proc/{}/ns/net)" \
    "$(readlink /proc/self/ns/net)" "and it is not the host's"

done_testing

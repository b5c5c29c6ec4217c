#!/bin/bash
# TAP test of `warmrun bench`: bad input gets a clear message and exit 2; a
# short startup bench of warm, cold, exec, crun, runc and docker (a private
# dockerd the bench starts and stops itself, with --setup) gives every
# runtime N samples or a skip with its reason, and JSON that validates
# against the schema of docs/benchmarks.md; a daemon killed mid-run leaves
# partial results, marked; activation, load, scale and score run; nothing
# is left behind (processes, directories, crun/runc state). No speed is
# asserted. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env bench

out=$T/out
err=$T/err
# The bench's private directories go under T: its processes name T in their
# command lines, which is how lib.sh's cleanup finds what to kill.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
STATE=$T
SCHEMA=$(dirname "$0")/bench-schema.pl
bench() { timeout 300 "$WARMRUN_BIN_DIR/warmrun" bench "$@"; }
leftovers() { find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'warmrun-bench.*' | head -3; }
# processes of the bench's private worlds: daemons, shims, dockerd
bench_pids() {
    local files=(/proc/[0-9]*/cmdline)
    grep -laF -- "$TMPDIR/warmrun-bench." "${files[@]}" 2>/dev/null | cut -d/ -f3 |
        grep -vx -e "$$" -e "$BASHPID"
}

[ -x "$WARMRUN_BIN_DIR/warmrun-bench" ] || bail_out "warmrun-bench is not built (make)"

# --- bad input ---------------------------------------------------------------------
bench startup --runtimes warm,foo >"$out" 2>"$err"
is $? 2 "unknown runtime: exit 2"
like "$(cat "$err")" 'unknown runtime "foo" \(known: warm,cold,crun,runc,docker,exec\)' \
    "unknown runtime: the message names it and the known ones"
bench startup --iterations 0 >"$out" 2>"$err"
is $? 2 "--iterations 0: exit 2"
like "$(cat "$err")" '--iterations: expected an integer in 1\.\.100000, got "0"' \
    "--iterations 0: the message gives the range"
bench startup --iterations 99999999999 >"$out" 2>"$err"
is $? 2 "absurd --iterations: exit 2"
bench startup --runtimes warm,warm >"$out" 2>"$err"
is $? 2 "a runtime given twice: exit 2"
bench startup --image alpine >"$out" 2>"$err"
is $? 2 "an image other than busybox: exit 2"
bench load --concurrency 0 >"$out" 2>"$err"
is $? 2 "load --concurrency 0: exit 2"
bench scale --pool 5000 >"$out" 2>"$err"
is $? 2 "scale --pool 5000: exit 2"
bench frobnicate >"$out" 2>"$err"
is $? 2 "unknown subcommand: exit 2"
like "$(cat "$err")" 'unknown subcommand "frobnicate"' "unknown subcommand: named"
is "$(leftovers)" "" "bad input creates nothing"

# --- a short startup bench -----------------------------------------------------------
names=warm,cold,exec,crun,runc,docker
json=$T/startup.json
svg=$T/startup.svg
bench startup --iterations 3 --warmup 1 --runtimes "$names" --setup --quiet \
    --json "$json" --svg "$svg" >"$out" 2>"$err"
rc=$?
like "$rc" '^(0|3)$' "startup bench: exit 0 (or 3, partial)" || show_err
perl "$SCHEMA" "$json" 3 "$names" >"$T/schema" 2>&1
ok $? "startup JSON validates against the documented schema" || diag_file "$T/schema"
for n in ${names//,/ }; do
    line=$(grep "^runtime $n " "$T/schema")
    if [[ $line =~ ^runtime\ $n\ ok\ 3$ ]]; then
        ok 0 "$n: 3 samples"
    else
        reason=$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
            for (@{$d->{runtimes}}) { print $_->{reason} // "" if $_->{name} eq $ARGV[0] }' "$n" <"$json")
        like "$line" "^runtime $n (skipped|partial) " "$n: skipped or partial, with a reason: $reason"
        isnt "$reason" "" "$n: the reason is given"
    fi
done
for n in warm cold exec; do
    like "$(grep "^runtime $n " "$T/schema")" "^runtime $n ok 3$" "$n always runs here: 3 samples"
done
like "$(head -c 200 "$svg")" '^<svg xmlns="http://www.w3.org/2000/svg"' "the SVG chart is written"
like "$(grep -c '<circle' "$svg")" '^[1-9][0-9]*$' "the chart has sample points"
like "$(cat "$out")" 'runtime +n +fail +mean +median +std +min +max +p95 +p99' "the text table has its columns"
is "$(leftovers)" "" "startup: its private directory is removed"
is "$(bench_pids | tr '\n' ' ')" "" "startup: no daemon, shim or dockerd left"
is "$(ls /sys/fs/cgroup/memory 2>/dev/null | grep -c '^wrbench-')" 0 "startup: no runc cgroup left"

# --- a peer that cannot run is skipped, with why -------------------------------------
if ! docker -H unix:///var/run/docker.sock version >/dev/null 2>&1 && [ -z "${DOCKER_HOST:-}" ]; then
    bench startup --iterations 2 --warmup 0 --runtimes exec,docker --quiet --json "$json" \
        >"$out" 2>"$err"
    is $? 0 "no Docker daemon and no --setup: exit 0"
    perl "$SCHEMA" "$json" 2 exec,docker >"$T/schema" 2>&1
    ok $? "the JSON still validates" || diag_file "$T/schema"
    like "$(cat "$out")" 'docker +skipped: no Docker daemon is running \(--setup starts a private one\)' \
        "docker is skipped, with why"
else
    skip 3 "a Docker daemon is running on this machine"
fi

# --- the daemon dies mid-run: partial results, marked ---------------------------------
bench startup --iterations 400 --warmup 0 --runtimes warm,exec --json "$json" \
    >"$out" 2>"$err" &
bpid=$!
poll_until 60 grep -q 'round [0-9]*/400' "$err"
dpid=$(grep -laF -- "$TMPDIR/warmrun-bench." /proc/[0-9]*/cmdline 2>/dev/null |
    while read -r f; do
        p=${f#/proc/}
        p=${p%/cmdline}
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q '^[^ ]*warmrun-daemon ' && echo "$p"
    done | head -1)
isnt "$dpid" "" "found the bench's daemon" && kill -KILL "$dpid"
wait "$bpid"
is $? 3 "daemon killed mid-run: exit 3 (partial)"
perl "$SCHEMA" "$json" 400 warm,exec >"$T/schema" 2>&1
ok $? "partial JSON validates" || diag_file "$T/schema"
like "$(grep '^runtime warm ' "$T/schema")" '^runtime warm partial [0-9]+$' "warm is marked partial"
like "$(cat "$out" "$err")" 'warm: failed 3 times in a row' "the reason is printed"
is "$(leftovers)" "" "killed daemon: the private directory is removed"
is "$(bench_pids | tr '\n' ' ')" "" "killed daemon: no shim left"

# --- activation, load, scale, fill, score -------------------------------------------------
bench activation --iterations 3 --warmup 1 --quiet >"$out" 2>"$err"
is $? 0 "activation: exit 0" || show_err
like "$(cat "$out")" 'warm: client send -> probe main +3 ' "activation: 3 warm samples to the probe's main"
like "$(cat "$out")" 'host fork\+exec -> probe main +[0-9]+ ' "activation: fork+exec samples"

# cgroup scope directories (one per state directory) on this host: the
# bench's private daemon's must go with it, even when containers it handed
# out were still ending when it stopped (the suite runs one test at a time).
scopes() {
    ls /sys/fs/cgroup/*/warmrun /sys/fs/cgroup/warmrun 2>/dev/null | grep -E '^[0-9a-f]{8}$' | sort -u
}
# Those of the state directories of other test runs and benchmarks still
# on this host (engineers share the machine): theirs come and go at any
# moment, and cannot be this bench's (whose directory is gone by now).
others_scopes() {
    local d sd
    for d in "${TMPDIR:-/tmp}"/wr-it-*/ "${TMPDIR:-/tmp}"/warmrun-bench.*/; do
        [ -d "$d" ] && [ "$d" != "$T/" ] || continue
        for sd in "${d%/}" $(find "$d" -mindepth 1 -maxdepth 2 -type d 2>/dev/null); do
            scope_of "$sd"
            echo
        done
    done | sort -u
}
scopes_before=$(scopes)
bench load --concurrency 1,2 --duration 1 --pool 2 --quiet --json "$T/load.json" >"$out" 2>"$err"
is $? 0 "load: exit 0" || show_err
is "$(comm -13 <(echo "$scopes_before") <(scopes) | comm -23 - <(others_scopes) | tr '\n' ' ')" "" \
    "load: no cgroup scope directory left behind"
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    print join(",", map { $_->{concurrency} . ":" . ($_->{activations} > 0 ? "y" : "n") } @{$d->{levels}})' \
    <"$T/load.json")" "1:y,2:y" "load: activations at C=1 and C=2"
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    print join(",", map { ($_->{cpu_ms_per_activation} // 0) > 0 ? "y" : "n" } @{$d->{levels}})' \
    <"$T/load.json")" "y,y" "load: CPU per activation of the measured processes, at each level"

bench scale --pool 3 --steps 1,3 --samples 2 --quiet --json "$T/scale.json" >"$out" 2>"$err"
is $? 0 "scale: exit 0" || show_err
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    print join(",", map { "$_->{pool}:$_->{containers}:" . ($_->{pss_kb_per_container} > 0 ? "y" : "n") . ":$_->{activation}{n}" } @{$d->{steps}})' \
    <"$T/scale.json")" "1:1:y:2,3:3:y:2" "scale: containers counted, PSS measured, activations at each size"

bench fill --pool 3 --samples 2 --quiet --json "$T/fill.json" >"$out" 2>"$err"
is $? 0 "fill: exit 0" || show_err
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    my $f = $d->{fill_cpu_per_container}{by_kind_ms};
    print join(",", $d->{schema}, $d->{latency}{n}, $d->{containers},
        ($d->{pss_kb_per_container} > 0 ? "pss" : "nopss"), ($f->{shims} > 0 ? "shims" : "noshims"))' \
    <"$T/fill.json")" "warmrun-bench-fill/1,2,3,pss,shims" "fill: latency samples, containers, PSS and CPU by kind"
# Kernel memory per warm container: present, by kind (a whole-machine
# delta over 3 containers can be of either sign on a shared machine).
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    my $k = $d->{kernel_kb_by_kind} || {};
    print join(",", (defined $d->{kernel_kb_per_container} ? "kernel" : "nokernel"),
        map { defined $k->{$_} ? $_ : "no-$_" } qw(slab page_tables stacks percpu))' \
    <"$T/fill.json")" "kernel,slab,page_tables,stacks,percpu" "fill: kernel memory per warm container, by kind"
# The steady state: every warm container ended at once and replaced; a
# --network none pool gives refills ended ones' namespaces (not always all:
# 188-200 of 200 in docs/benchmarks.md, "Steady state"). The shims' share
# is only present, not positive: an ended shim's time reaches its reaper's
# cutime in clock ticks (10 ms), so with 3 containers it can round to 0 or
# below; the whole (warmrun + kernel, schedstat and /proc/stat) is checked.
is "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    my $c = $d->{cycle_cpu_per_container};
    print join(",", ($d->{cycle_s} > 0 ? "wall" : "nowall"),
        ($d->{cycle_netns_reused} >= 1 && $d->{cycle_netns_reused} <= 3 ? "reused" : "notreused"),
        (defined $c->{by_kind_ms}{shims} ? "shims" : "noshims"),
        ($c->{warmrun_kernel_ms} > 0 && $c->{warmrun_kernel_ms} < 1000 ? "sane" : "insane"),
        (defined $d->{teardown_cpu_per_container}{system_ms} ? "teardown" : "noteardown"))' \
    <"$T/fill.json")" "wall,reused,shims,sane,teardown" "fill: a cycle phase, network namespaces reused"
like "$(cat "$out")" 'cycle of 3 \(all ended at once, refilled\): [0-9.]+ s .*reused [1-3] of 3' \
    "  and its line in the text"
like "$(grep -A3 '^CPU ms per container' "$out" | head -1)" 'fill +cycle +teardown' \
    "  and its column"
bench fill --pool 0 >"$out" 2>"$err"
is $? 2 "fill --pool 0: exit 2"
# --network bridge: on a private network of the bench's own, whichever
# state directory holds the default one; removed after.
bench fill --pool 2 --samples 1 --network bridge --quiet --json "$T/fillbr.json" >"$out" 2>"$err"
is $? 0 "fill --network bridge: exit 0" || show_err
like "$(jq -r .network "$T/fillbr.json" 2>/dev/null)" '^bridge=wrbench[0-9]+$' \
    "  on the bench's own network"
is "$(jq -r .cycle_netns_reused "$T/fillbr.json" 2>/dev/null)" 0 \
    "  a bridge network's namespaces are never reused"
net=$(jq -r .network "$T/fillbr.json" 2>/dev/null)
net=${net#bridge=}
is "$(nft list tables 2>/dev/null | grep -c "warmrun_${net:-none}\$")" 0 "  its nftables tables removed after"
is "$(ip -br link show type bridge 2>/dev/null | grep -c "^wrbb${net#wrbench} ")" 0 "  and its bridge"

bench score --iterations 2 --pool 2 --duration 1 --quiet --json "$T/score.json" >"$out" 2>"$err"
like "$?" '^(0|3)$' "score: exit 0 (or 3)" || show_err
like "$(cat "$out")" 'grade: (A\+|A|B|C|D|F) ' "score: a grade"
like "$(perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>); print $d->{schema}, " ", $d->{startup}{schema}' \
    <"$T/score.json")" '^warmrun-bench-score/1 warmrun-bench-startup/1$' "score: JSON with the startup part"

is "$(leftovers)" "" "nothing left in TMPDIR"
is "$(bench_pids | tr '\n' ' ')" "" "no bench process left"

done_testing

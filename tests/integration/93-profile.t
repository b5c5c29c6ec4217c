#!/bin/bash
# TAP test of `warmrun profile`: a steady memory leak (dd into /dev/shm in
# steps) is detected, a spin under --cpus 0.2 is throttled and CPU-bound, a
# sleep is neither, a steady writer (tmpfs: only the per-process counters
# see it) is write-heavy; a running container is profiled by ID, and one
# that exits mid-profile gives a partial report, marked in text and JSON;
# bad input is refused. Each profile lasts 2-3 s. Needs root, busybox-static
# and jq.
. "$(dirname "$0")/lib.sh"
setup_env profile
command -v jq >/dev/null || skip_all "jq is not installed"
err=$T/err

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>"$err" || bail_out "pool"

# prof NAME ARGS...: profile, JSON to $T/NAME.json, text to $T/NAME.txt.
prof() {
    local name=$1
    shift
    wr profile --interval 100 --json "$T/$name.json" "$@" >"$T/$name.txt" 2>"$err"
}
j() { jq -r "$2" "$T/$1.json"; }

# ---- a leak: 1 MiB more in /dev/shm every 0.2 s (warm, from the pool) ------
prof leak --duration 3 busybox -- sh -c \
    'i=0; while :; do i=$((i+1)); dd if=/dev/zero of=/dev/shm/f$i bs=1M count=1 2>/dev/null; sleep 0.2; done'
is "$?" 0 "profile IMAGE -- CMD: exit 0"
is "$(j leak .analysis.leak.detected)" true "a steady leak is detected"
like "$(cat "$T/leak.txt")" "leak: DETECTED" "... and said in the text"
like "$(cat "$T/leak.txt")" "Memory grows steadily: [0-9.]+ MiB/s" "... with a recommendation and its numbers"
ok $([ "$(j leak .samples)" -ge 15 ]; echo $?) "... $(j leak .samples) samples at 100 ms"
is "$(j leak .partial)" false "... not partial: the duration ended"
is "$(j leak '.statistics.mem_usage | keys | join(",")')" "max,mean,median,min,p95,p99,std" \
    "... statistics per series"
like "$(j leak .series.proc_wchar_bps.source)" "/proc/PID/io wchar" "... each series names its source"
ok $([ -s "$T/leak.json" ] && [ -z "$(wr ps | awk '$3 == "running"')" ]; echo $?) \
    "... and the workload was ended at the end of the duration"

# ---- a spin under --cpus 0.2 (cold: its own limit) -------------------------
prof spin --duration 3 --cpus 0.2 busybox -- sh -c 'while :; do :; done'
is "$?" 0 "profile of a spin under --cpus 0.2"
is "$(j spin .analysis.throttling.detected)" true "throttling is detected"
ok $(jq -e '.analysis.classification.cpu_bound' "$T/spin.json" >/dev/null; echo $?) "... CPU-bound"
is "$(j spin .analysis.leak.detected)" false "... no leak"
like "$(cat "$T/spin.txt")" "CPU is throttled in [0-9]+% of the CFS periods" "... recommended in plain words"

# ---- a sleep: neither ------------------------------------------------------
prof sleep --duration 2 busybox -- sleep 30
is "$?" 0 "profile of a sleep"
is "$(j sleep .analysis.leak.detected)" false "a sleep: no leak"
is "$(j sleep .analysis.throttling.detected)" false "... no throttling"
is "$(j sleep .analysis.classification.label)" neither "... neither CPU- nor memory-bound"
is "$(j sleep .analysis.io.pattern)" idle "... I/O idle"

# ---- a steady writer to a file on the container's tmpfs --------------------
prof write --duration 2 busybox -- sh -c \
    'while :; do printf "%065536d" 0 >>/tmp/out; sleep 0.05; done'
is "$?" 0 "profile of a steady writer"
is "$(j write .analysis.io.pattern)" write-heavy "a steady writer is write-heavy"
is "$(j write .analysis.io.source)" "proc rchar/wchar" "... seen by the per-process counters (tmpfs: no block I/O)"

# ---- by ID; a container that exits mid-profile: a partial report -----------
wr activate busybox -- sh -c 'sleep 1' >/dev/null 2>&1 &
ACT=$!
running() { [ -n "$(wr ps | awk '$3 == "running" {print $1; exit}')" ]; }
poll_until 10 running
ID=$(wr ps | awk '$3 == "running" {print $1; exit}')
prof partial --duration 4 --svg "$T/partial.svg" "$ID"
is "$?" 3 "profile ID of a container that exits mid-profile: exit 3"
is "$(j partial .partial)" true "... the JSON says partial"
like "$(j partial .partial_reason)" "exited after" "... and why"
like "$(head -1 "$T/partial.txt")" "^PARTIAL REPORT: the container exited after" "... so does the text, first"
like "$(head -2 "$T/partial.svg" | tail -1)" "^<svg " "--svg writes an SVG chart"
if command -v xmllint >/dev/null; then
    ok $(xmllint --noout "$T/partial.svg" 2>"$T/xmllint.err"; echo $?) "... well-formed XML"
else
    skip 1 "xmllint is not installed"
fi
wait "$ACT"

# ---- progress on a terminal only; SIGTERM (or ^C): a partial report ------
wr activate busybox -- sleep 30 >/dev/null 2>&1 &
ACT=$!
poll_until 10 running
ID=$(wr ps | awk '$3 == "running" {print $1; exit}')
ok $([ -s "$T/partial.txt" ] && ! grep -q profiling "$err"; echo $?) \
    "no progress when stderr is not a terminal (the last profile's stderr)"
if command -v script >/dev/null; then
    script -qec "$(printf '%q ' "${WR[@]}") profile --duration 1 --interval 200 $ID >/dev/null" \
        /dev/null >"$T/tty" 2>&1
    like "$(tr '\r' '\n' <"$T/tty")" "profiling $ID: 1.0/1.0 s, 5 samples" "progress on a terminal"
else
    skip 1 "script (util-linux) is not installed"
fi
"${WR[@]}" profile --duration 10 --interval 100 --json "$T/int.json" "$ID" >"$T/int.txt" 2>"$err" &
PROF=$!
# Once it handles SIGTERM (SigCgt bit 15), and has taken a few samples.
catches_term() { (($(printf '%d' "0x$(awk '/^SigCgt/ {print $2}' "/proc/$PROF/status" 2>/dev/null || echo 0)") & 0x4000)); }
poll_until 10 catches_term
sleep 0.5
kill -TERM "$PROF"
wait "$PROF"
is "$?" 3 "an interrupted profile: exit 3"
like "$(head -1 "$T/int.txt")" "^PARTIAL REPORT: interrupted after" "... a partial report, marked"
is "$(jq -r .partial "$T/int.json")" true "... in JSON too"
wr kill "$ID" >/dev/null 2>&1
wait "$ACT"

# ---- bad input -------------------------------------------------------------
wr profile 0123456789ab >"$T/out" 2>"$err"
is "$?" 1 "an unknown container: exit 1"
is "$(cat "$err")" "warmrun: profile: no such container: 0123456789ab" "... one line naming it"
for bad in "--duration 0" "--duration -1" "--interval 0" "--interval -5" "--duration abc"; do
    # shellcheck disable=SC2086
    wr profile $bad 0123456789ab >/dev/null 2>"$err"
    is "$?:$(head -1 "$err")" "2:warmrun: profile: ${bad% *} must be a positive number, not \"${bad#* }\"" \
        "$bad: usage error (2), one line saying why"
done
wr profile busybox -- >/dev/null 2>"$err"
is "$?:$(head -1 "$err")" "2:warmrun: profile: IMAGE -- CMD: no command after --" \
    "IMAGE -- without a command: usage error"

done_testing

#!/bin/bash
# TAP test: the cheaper per-container cgroups, mount tree and teardown
# (docs/benchmarks.md, "Cheaper cgroups and teardown"; docs/security.md,
# "Cheaper cgroups and mounts, and why no cgroup is recycled").
# - A container without a CPU limit gets no cpu hierarchy inside on a v1
#   host with a separate cpu hierarchy (its CPU time is cpuacct's: `stats`
#   still shows it; its cpu cgroup, for its weight only, is
#   102-review-fill.t's), one with --cpus does, with its quota, and sees it
#   inside.
# - The masked directories of /proc and /sys share one empty read-only
#   directory (of the container's writable-layer tmpfs), as does the v1
#   /sys/fs/cgroup (read-only, nothing made there); the six device nodes live on /dev's own tmpfs (no private tmpfs
#   for them): they open, /dev is nodev, a node the workload makes does not
#   open, /dev shows nothing but its entries.
# - A batch teardown (`pool rm`) and a daemon SIGKILLed in the middle of
#   one leave no cgroup, mount or process behind (a daemon started again
#   and stopped removes the scope).
# The cpu cgroup, the shared mask and the nodes' superblock checks fail on
# the code before (a cpu cgroup per container; one tmpfs per masked
# directory; the nodes on a private tmpfs). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env cheap
out=$T/out
err=$T/err
SCOPE=$(scope_of "$STATE")
POOL=4

start_daemon || bail_out "the daemon did not start"

# running_id IMAGE: the id of IMAGE's running container.
running_id() { wr ps | awk -v img="$1:latest" '$2 == img && $3 == "running" {print $1; exit}'; }
have_running() { [ -n "$(running_id "$1")" ]; }
add_layer_image limited '{"Cmd": ["sh"], "Env": ["PATH=/bin"]}' 'true' || bail_out "image"

# ---- cgroups: cpu only with a CPU limit -----------------------------------------
wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool without limits" || show_err
wr pool create limited --size 1 --cpus 0.5 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool with --cpus 0.5" || show_err
wr activate --no-cold busybox -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done;
    ls /sys/fs/cgroup; sleep 60' >"$out" 2>&1 &
ACT1=$!
wr activate --no-cold limited -- sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; sleep 60' \
    >"$out.lim" 2>&1 &
ACT2=$!
both_up() { have_running busybox && have_running limited && grep -q blkio "$out" && [ -s "$out.lim" ]; }
poll_until 15 both_up
PLAIN=$(running_id busybox)
LIM=$(running_id limited)
ok $([ -n "$PLAIN" ] && [ -n "$LIM" ]; echo $?) "two running containers ($PLAIN, $LIM)"
V1=/sys/fs/cgroup
if [ -d $V1/cpu ] && [ -d $V1/cpuacct ] && [ "$(stat -c %d $V1/cpu)" != "$(stat -c %d $V1/cpuacct)" ] &&
    grep -q " $V1/cpu cgroup " <(awk '{print " "$5" "$9" "}' /proc/self/mountinfo); then
    is "$(cat "$V1/cpu/warmrun/$SCOPE/$PLAIN/cpu.cfs_quota_us" 2>/dev/null)" -1 \
        "a container without a CPU limit: a cpu cgroup of its own (its weight), no quota"
    for c in cpuacct memory pids blkio; do
        [ -d "$V1/$c" ] || continue
        ok $([ -d "$V1/$c/warmrun/$SCOPE/$PLAIN" ]; echo $?) "... but its $c cgroup"
    done
    unlike "$(cat "$out")" '^cpu$' "... and inside, no /sys/fs/cgroup/cpu"
    like "$(cat "$out")" 'cpuacct' "... but /sys/fs/cgroup/cpuacct"
    ok $([ -d "$V1/cpu/warmrun/$SCOPE/$LIM" ]; echo $?) "a container with --cpus has its cpu cgroup"
    is "$(cat "$V1/cpu/warmrun/$SCOPE/$LIM/cpu.cfs_quota_us" 2>/dev/null)" 50000 "... its quota"
    is "$(head -1 "$out.lim")" 50000 "... which it sees inside"
else
    skip 9 "no separate v1 cpu hierarchy on this host"
fi
wr stats --no-stream --json "$PLAIN" >"$T/stats" 2>"$err"
is "$?" 0 "stats of the container without a cpu cgroup" || show_err
cpu_ns=$(jq -r '.[0].cpu_usage_ns' "$T/stats" 2>/dev/null)
ok $([ "${cpu_ns:-0}" -gt 0 ] 2>/dev/null; echo $?) "... shows its CPU time ($cpu_ns)" ||
    diag_file "$T/stats"
kill "$ACT1" "$ACT2" 2>/dev/null
wr kill "$PLAIN" >/dev/null 2>&1
wr kill "$LIM" >/dev/null 2>&1
wait "$ACT1" "$ACT2" 2>/dev/null

# ---- the mount tree -------------------------------------------------------------
MASKS=""
for d in /proc/acpi /proc/asound /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
    [ -d "$d" ] && MASKS="$MASKS $d"
done
wr activate --no-cold busybox -- sh -c "
    for d in $MASKS; do grep \" \$d \" /proc/self/mountinfo | sed 's/^/mask /'; done
    touch /proc/acpi/x 2>/dev/null && echo mask-writable
    grep ' /sys/fs/cgroup ' /proc/self/mountinfo | sed 's/^/cgbase /'
    touch /sys/fs/cgroup/x 2>/dev/null && echo cgbase-writable
    mkdir /sys/fs/cgroup/y 2>/dev/null && echo cgbase-mkdir
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes >/dev/null && echo cg-readable
    stat -c 'dev %d' /dev; stat -c 'node %n %d %t,%T' /dev/null /dev/zero /dev/full /dev/random \
        /dev/urandom /dev/tty
    echo hello >/dev/null && echo null-ok
    head -c 4 /dev/zero | od -An -tx1 | tr -d ' \n'; echo ' zero-ok'
    ls -a /dev | tr '\n' ' '; echo
    grep ' /dev ' /proc/self/mountinfo
    mknod /dev/mine c 1 5 && { head -c 1 /dev/mine >/dev/null 2>&1 && echo mine-opens || echo mine-refused; }
" >"$out" 2>"$err"
is "$?" 0 "a container shows its mount tree" || show_err
nmask=$(echo $MASKS | wc -w)
if [ "$nmask" -ge 2 ]; then
    is "$(grep -c '^mask .* - tmpfs ' "$out")" "$nmask" "the $nmask masked directories are tmpfs"
    is "$(grep '^mask ' "$out" | awk '{print $4}' | sort -u | wc -l)" 1 "... one and the same superblock"
else
    skip 2 "fewer than two directories to mask on this host"
fi
unlike "$(cat "$out")" 'mask-writable' "... read-only"
if [ -d /sys/fs/cgroup/memory ] && [ "$nmask" -ge 1 ]; then
    is "$(awk '/^cgbase / {print $4}' "$out")" "$(grep '^mask ' "$out" | awk '{print $4; exit}')" \
        "/sys/fs/cgroup (v1) is no superblock of its own either" || diag_file "$out"
    like "$(grep '^cgbase ' "$out")" ' ro,' "... read-only"
    unlike "$(cat "$out")" 'cgbase-writable|cgbase-mkdir' "... nothing can be made there"
    like "$(cat "$out")" 'cg-readable' "... its own memory cgroup reads"
else
    skip 4 "no v1 memory hierarchy or nothing to mask on this host"
fi
dev=$(awk '/^dev / {print $2}' "$out")
is "$(grep -c '^node ' "$out")" 6 "six device nodes"
is "$(awk '/^node / {print $3}' "$out" | sort -u)" "$dev" "... on /dev's own tmpfs" || diag_file "$out"
like "$(cat "$out")" 'null-ok' "/dev/null takes writes"
like "$(cat "$out")" '00000000 zero-ok' "/dev/zero reads zeros"
like "$(grep ' /dev ' "$out")" 'nodev' "/dev is mounted nodev"
like "$(cat "$out")" 'mine-refused' "a node the workload makes in /dev does not open"
unlike "$(cat "$out")" '\.nodes' "nothing but the usual entries in /dev"

# ---- teardown: in a batch, and with the daemon killed in the middle -------------
wr pool rm limited >/dev/null 2>&1
wr pool create busybox --size 12 --wait --timeout 60 >/dev/null 2>"$err"
is "$?" 0 "a pool of 12" || show_err
[ "$(own_cgroups)" -ge 12 ]
ok $? "... with their cgroups ($(own_cgroups))"
wr pool rm busybox >/dev/null 2>"$err"
is "$?" 0 "pool rm: 12 torn down together" || show_err
poll_until 10 no_container_pids
ok $? "... their processes are gone" || show_pids $(our_pids_except_daemon)
poll_until 10 no_cgroups
ok $? "... and their cgroups" || find /sys/fs/cgroup/*/warmrun/"$SCOPE" -mindepth 1 -type d >&2
is "$(state_mounts)" 0 "... and no mount names the state directory"

wr pool create busybox --size 12 --wait --timeout 60 >/dev/null 2>"$err"
is "$?" 0 "a pool of 12 again" || show_err
kill_daemon_in_pool_rm busybox
poll_until 15 no_container_pids
ok $? "the daemon SIGKILLed in a teardown: every shim and container ends" ||
    show_pids $(our_pids)
poll_until 10 no_cgroups
ok $? "... and removes its cgroups" || find /sys/fs/cgroup/*/warmrun/"$SCOPE" -mindepth 1 -type d >&2
is "$(state_mounts)" 0 "... no mount names the state directory"
start_daemon || bail_out "the daemon did not start again"
stop_daemon
is "$?" 0 "a daemon started again stops cleanly"
left=$(ls -d /sys/fs/cgroup/*/warmrun/"$SCOPE" /sys/fs/cgroup/warmrun/"$SCOPE" 2>/dev/null | wc -l)
is "$left" 0 "... and leaves no directory of the scope in any hierarchy"
is "$(our_pids | wc -l)" 0 "no process of this test is left"

done_testing

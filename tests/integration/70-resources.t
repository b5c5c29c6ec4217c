#!/bin/bash
# TAP test for resource settings (docs/resources.md) on the host's real
# cgroups (v1, v2 or hybrid): bad input refused before anything exists,
# limits in place and enforced (OOM kill with exit 137 and the oom flag, a
# fork bomb stopped at its pids limit, a CPU burner held near --cpus 0.5 by
# cgroup accounting), CPU placement, huge-page and locked memory handed to
# the workload, a daemon sweep of stale cgroups, and no cgroup left after
# many activations. Needs root, busybox-static, and cc for a static probe.
. "$(dirname "$0")/lib.sh"
setup_env resources

out=$T/out
err=$T/err
N=1000
[ "${WARMRUN_QUICK:-0}" = 1 ] && N=100
NCPU=$(nproc)
HUGE_DIR=/sys/kernel/mm/hugepages/hugepages-2048kB
NR_HUGEPAGES0=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)
RO_MNT=

SCOPE=$(scope_of "$STATE")
cg_dirs() { ls -d /sys/fs/cgroup/warmrun/"$SCOPE"/*/ /sys/fs/cgroup/*/warmrun/"$SCOPE"/*/ 2>/dev/null; }
cg_count() { cg_dirs | wc -l; }
# cg_dir CONTROLLER-FILE: the container cgroup directory holding that file.
cg_dir_with() {
    local d
    for d in $(cg_dirs); do
        [ -e "$d/$1" ] && {
            echo "${d%/}"
            return 0
        }
    done
    return 1
}

finish() {
    local rc=$?
    [ -n "$RO_MNT" ] && umount "$RO_MNT" 2>/dev/null
    [ -n "$NR_HUGEPAGES0" ] && echo "$NR_HUGEPAGES0" >/proc/sys/vm/nr_hugepages 2>/dev/null
    # The scope's own directories go too, once the test's cgroups have.
    rmdir /sys/fs/cgroup/warmrun/"$SCOPE" /sys/fs/cgroup/*/warmrun/"$SCOPE" 2>/dev/null
    (exit "$rc")
    cleanup
}
trap finish EXIT

# A static probe inside the image (see tests/helpers/memprobe.c).
PROBE=0
if cc -static -O2 -o "$T/memprobe" "$(dirname "$0")/../helpers/memprobe.c" 2>"$T/cc.log"; then
    cp "$T/memprobe" "$LAYER/bin/memprobe" && PROBE=1
else
    diag_file "$T/cc.log"
fi

# ---- bad input: refused before anything is created ------------------------
bad() { # bad RC REGEX DESCRIPTION ARGS...
    local want=$1 re=$2 desc=$3
    shift 3
    wr activate "$@" busybox -- true >"$out" 2>"$err"
    is "$?" "$want" "$desc: exit $want"
    like "$(cat "$err")" "$re" "  $desc: one clear line"
}
bad 2 'unknown size suffix "Q"' "--memory 12Q" --memory 12Q
bad 2 'must not be negative' "--memory -5m" --memory -5m
bad 2 'too large' "--memory overflow" --memory 99999999999999t
bad 2 'at least 0.01' "--cpus 0" --cpus 0
bad 125 'below the minimum of 6 MiB' "--memory 1k" --memory 1k
bad 125 'CPU 1000 is not online' "--cpuset-cpus naming an absent CPU" --cpuset-cpus 1000
bad 125 "this host has only $NCPU CPUs" "--cpus above the host's" --cpus $((NCPU + 1))
bad 125 'multiples of 2m' "--hugepages 3m" --hugepages 3m
bad 125 'huge pages' "more huge pages than the host has" --hugepages 1t
bad 125 'than half the host' "--hugepages-reserve of more than half the host's memory" \
    --hugepages 1t --hugepages-reserve
bad 125 'more than half the host' "--mlock of more than half the host's memory" --mlock 100t
bad 2 'exclude --no-cold' "resource options with --no-cold" --pids-limit 5 --no-cold
if [ $((0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24 & 1)) -eq 0 ]; then
    bad 125 'CAP_SYS_RESOURCE' "--mlock above the hard RLIMIT_MEMLOCK" --mlock 1g
else
    skip 2 "this process has CAP_SYS_RESOURCE: the lock limit can be raised"
fi
# A controller the host lacks, and a read-only hierarchy.
printf '40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n' >"$T/mountinfo.nomem"
WARMRUN_MOUNTINFO=$T/mountinfo.nomem wr activate --memory 64m busybox -- true >"$out" 2>"$err"
is "$?" 125 "a missing memory controller: exit 125"
like "$(cat "$err")" 'controller memory is not available' "  and says which controller"
mkdir -p "$T/rocg" && mount -t tmpfs -o ro tmpfs "$T/rocg" && RO_MNT=$T/rocg
printf '34 30 0:31 / %s rw - cgroup cgroup rw,memory\n' "$T/rocg" >"$T/mountinfo.ro"
WARMRUN_MOUNTINFO=$T/mountinfo.ro wr activate --memory 64m busybox -- true >"$out" 2>"$err"
is "$?" 125 "a read-only hierarchy: exit 125"
like "$(cat "$err")" 'is read-only' "  and says so"
umount "$RO_MNT" && RO_MNT=
is "$(cg_count)" 0 "no cgroup was created by refused settings"
is "$(ls "$STATE/containers" 2>/dev/null | wc -l)" 0 "and no container record"

# ---- limits in place and enforced (cold starts) ----------------------------
wr activate -v --memory 16m busybox -- sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >"$out" 2>"$err"
is "$?" 137 "a memory hog over --memory 16m is killed: exit 137"
like "$(cat "$err")" 'out of memory' "  and reported as an OOM kill"
unlike "$(cat "$out")" survived "  it did not get past its limit"

wr activate --pids-limit 8 busybox -- sh -c 'for i in $(seq 20); do sleep 2 & done; wait' >"$out" 2>"$err"
like "$(cat "$err")" "can't fork" "a fork bomb stops at --pids-limit 8"

got=$(wr activate --memory 64m busybox -- cat /proc/self/cgroup 2>"$err")
like "$got" '(^|[[:space:]])[0-9]+:memory:/($|[[:space:]])' "the container sees its memory cgroup as its root (cgroup namespace)"

got=$(wr activate --memory 48m --pids-limit 33 busybox -- sh -c '
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
    cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max
    echo 1 >/sys/fs/cgroup/pids/pids.max 2>/dev/null || echo 1 >/sys/fs/cgroup/pids.max 2>/dev/null ||
        echo read-only' 2>"$err")
is "$(echo $got)" "50331648 33 read-only" "limits are visible inside, under a read-only /sys/fs/cgroup"

got=$(wr activate --cpuset-cpus 0 busybox -- grep Cpus_allowed_list /proc/self/status 2>"$err")
like "$got" $'Cpus_allowed_list:\t0$' "--cpuset-cpus 0: Cpus_allowed_list is 0"
got=$(wr activate --pin $((NCPU - 1)) busybox -- grep Cpus_allowed_list /proc/self/status 2>"$err")
like "$got" $'Cpus_allowed_list:\t'$((NCPU - 1))'$' "--pin $((NCPU - 1)): Cpus_allowed_list matches"

# Limits written where the host keeps them, read while the container runs.
# pid 1 ignores signals it has no handler for: the burner is its child,
# ended by it after 6 s.
wr activate --memory 48m --pids-limit 50 --cpus 0.5 busybox -- sh -c 'while :; do :; done & sleep 6; kill $!' >/dev/null 2>&1 &
burner=$!
poll_until 10 cg_dir_with cgroup.procs >/dev/null
memdir=$(cg_dir_with memory.limit_in_bytes || cg_dir_with memory.max)
pidsdir=$(cg_dir_with pids.max)
is "$(cat "$memdir"/memory.limit_in_bytes 2>/dev/null || cat "$memdir"/memory.max)" 50331648 "--memory 48m is the memory cgroup's limit"
is "$(cat "$pidsdir"/pids.max)" 50 "--pids-limit 50 is the pids cgroup's limit"
# CPU share from cgroup accounting (not wall time of the workload).
usage_ns() {
    local d
    if d=$(cg_dir_with cpuacct.usage); then
        cat "$d/cpuacct.usage"
    elif d=$(cg_dir_with cpu.stat); then
        echo $(($(awk '/^usage_usec/ {print $2}' "$d/cpu.stat") * 1000))
    fi
}
sleep 0.5
u0=$(usage_ns)
t0=$(date +%s%N)
sleep 3
u1=$(usage_ns)
t1=$(date +%s%N)
share=$(((u1 - u0) * 100 / (t1 - t0)))
diag "CPU burner under --cpus 0.5: ${share}% of one CPU"
ok $([ "$share" -ge 15 ] && [ "$share" -le 65 ] && echo 0 || echo 1) "a CPU burner under --cpus 0.5 gets about half a core ($share%)"
wait_child "$burner" 30
poll_until 10 eval '[ "$(cg_count)" -eq 0 ]'
ok $? "its cgroups are gone once it ends"

# ---- huge pages and locked memory ------------------------------------------
if [ ! -d "$HUGE_DIR" ] || [ "$PROBE" -eq 0 ]; then
    skip 9 "no 2 MiB huge pages or no probe"
else
    wr activate --hugepages 8m --hugepages-reserve busybox -- memprobe hugepage >"$out" 2>"$err"
    ok $? "--hugepages 8m --hugepages-reserve" || show_err
    like "$(cat "$out")" 'kernel_page_kb=2048 ' "  the handed-over memory is huge-page backed (smaps)"
    like "$(cat "$out")" 'hugetlb_kb=8192' "  all 8 MiB of it mapped"
    got=$(wr activate --hugepages 2m --hugepages-reserve busybox -- sh -c 'grep hugetlbfs /proc/mounts; echo $WARMRUN_HUGEPAGE_FD $WARMRUN_HUGEPAGE_SIZE' 2>"$err")
    like "$got" '/dev/hugepages hugetlbfs' "  hugetlbfs is mounted at /dev/hugepages"
    like "$got" '100 2097152' "  WARMRUN_HUGEPAGE_FD and WARMRUN_HUGEPAGE_SIZE are set"
    wr activate --mlock 4m busybox -- memprobe mlock >"$out" 2>"$err"
    like "$(cat "$out")" 'VmLck:[[:space:]]+4096 kB' "--mlock 4m: the workload locks the handed-over memory (VmLck)" || show_err
    # Prefaulted on the fill path: a warm pool holds its pages before use.
    start_daemon || bail_out "the daemon did not start"
    free0=$(cat "$HUGE_DIR/free_hugepages")
    wr pool create busybox --size 2 --hugepages 4m --hugepages-reserve --mlock 2m --wait >"$out" 2>"$err"
    ok $? "a pool with --hugepages 4m --mlock 2m fills" || show_err
    free1=$(cat "$HUGE_DIR/free_hugepages")
    shim=$(wr ps | awk 'NR > 1 && $3 == "warm" {print $5; exit}')
    hdir=$(cg_dir_with hugetlb.2MB.current || cg_dir_with hugetlb.2MB.usage_in_bytes)
    used=$(cat "$hdir"/hugetlb.2MB.current 2>/dev/null || cat "$hdir"/hugetlb.2MB.usage_in_bytes 2>/dev/null)
    is "$used" 4194304 "  a warm container's 4 MiB of huge pages are already faulted in (hugetlb cgroup usage)"
    if [ "$ASAN" -eq 1 ]; then
        skip 1 "AddressSanitizer makes mlock a no-op in the shim"
    else
        like "$(grep VmLck "/proc/$shim/status" 2>/dev/null)" 'VmLck:[[:space:]]+2048 kB' "  each warm container's shim holds its 2 MiB locked"
    fi
    diag "free huge pages: $free0 before the pool, $free1 with it warm"
    wr pool rm busybox >/dev/null 2>&1
    stop_daemon
fi

# ---- pools: placement, settings, OOM, bad input leaves the pool alone -------
start_daemon || bail_out "the daemon did not start"
spread=0-$((NCPU - 1))
wr pool create busybox --size 2 --memory 16m --cpu-spread "$spread" --tune-env --wait >"$out" 2>"$err"
ok $? "pool create --memory 16m --cpu-spread $spread --tune-env" || show_err
like "$(wr pool ls)" 'resources: memory=16777216 cpu-spread=' "pool ls shows the pool's resources"
cpus=$(wr ps | awk 'NR > 1 && $3 == "warm" {print $7}' | sort -u | tr '\n' ' ')
if [ "$NCPU" -ge 2 ]; then
    is "$cpus" "0 1 " "ps: the two warm containers wait on distinct CPUs"
else
    is "$cpus" "0 " "ps: the warm container is placed on CPU 0"
fi
got=$(wr activate --no-cold busybox -- sh -c 'echo $GOMAXPROCS $MALLOC_ARENA_MAX; grep Cpus_allowed_list /proc/self/status' 2>"$err")
like "$got" '^1 1' "--tune-env: GOMAXPROCS and MALLOC_ARENA_MAX match the one CPU"
wait_pool_full busybox:latest 30
wr activate -v --no-cold busybox -- sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a)' >"$out" 2>"$err"
is "$?" 137 "a warm container's memory hog: exit 137"
like "$(cat "$err")" 'out of memory' "  reported as an OOM kill"
wr ps >/dev/null
ok $? "the daemon is unaffected"
wait_pool_full busybox:latest 30
victim=$(wr ps | awk 'NR > 1 && $3 == "warm" {print $1, $5; exit}')
cg_dirs | grep -q "/${victim%% *}/"
ok $? "a warm container has its cgroups"
kill -KILL "${victim##* }"
poll_until 10 eval '! cg_dirs | grep -q "/${victim%% *}/"'
ok $? "  its shim killed with SIGKILL: the daemon removes them"
before=$(wr pool ls)
wr pool create busybox --size 2 --memory 1k >"$out" 2>"$err"
is "$?" 1 "pool create --memory 1k is refused"
like "$(cat "$err")" 'below the minimum' "  with a clear error"
is "$(wr pool ls | sed -n 2,3p | awk '{print $1, $2, $NF}')" "$(echo "$before" | sed -n 2,3p | awk '{print $1, $2, $NF}')" "  and the pool is unchanged"
wr pool create busybox --size 2 --cpuset-cpus 1000 >"$out" 2>"$err"
like "$(cat "$err")" 'not online' "pool create with an absent CPU is refused"

# ---- many activations leave no cgroup behind -------------------------------
wr pool create busybox --size 2 --memory 64m --pids-limit 100 --wait >"$out" 2>"$err"
ok $? "pool create --memory 64m --pids-limit 100" || show_err
failures=0
for ((i = 0; i < N; i++)); do
    for tries in 1 2 3 4 5 6 7 8 9 10; do
        wr activate --no-cold busybox -- /bin/true >"$out" 2>"$err" && break
        grep -q 'no warm container' "$err" || {
            failures=$((failures + 1))
            break
        }
        sleep 0.02
    done
done
is "$failures" 0 "$N activations with cgroup limits succeed"
wait_pool_full busybox:latest 30
cg_ids() { cg_dirs | xargs -rn1 basename | sort -u | wc -l; }
poll_until 10 eval '[ "$(cg_ids)" -eq 2 ]'
is "$(cg_ids)" 2 "after $N activations only the 2 warm containers have cgroups"
wr pool rm busybox >/dev/null
poll_until 10 eval '[ "$(cg_count)" -eq 0 ]'
ok $? "pool rm: no cgroup left"

# ---- a restarted daemon sweeps cgroups of dead containers ------------------
stop_daemon
stale=/sys/fs/cgroup/pids/warmrun/$SCOPE/0123456789ab
[ -d /sys/fs/cgroup/pids ] || stale=/sys/fs/cgroup/warmrun/$SCOPE/0123456789ab
mkdir -p "$stale" && touch -d '1 hour ago' "$stale" 2>/dev/null
if [ -d "$stale" ] && [ $(($(date +%s) - $(stat -c %Y "$stale"))) -gt 60 ]; then
    start_daemon || bail_out "the daemon did not start"
    poll_until 5 eval '[ ! -d "$stale" ]'
    ok $? "the daemon sweeps a stale container cgroup at start"
    stop_daemon
else
    rmdir "$stale" 2>/dev/null
    skip 1 "cannot age a cgroup directory here"
fi
is "$(cg_count)" 0 "no cgroup of this test is left"

done_testing

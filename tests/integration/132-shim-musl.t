#!/bin/bash
# TAP test: bin/warmrun-shim is linked statically with musl, as the CLI is
# (Makefile, MUSL_STATIC): glibc's static start-up probes the caches with
# 100+ cpuid instructions, each a VM exit on a virtual machine (~0.5 ms of
# CPU per exec of the shim; docs/benchmarks.md, "The shim without glibc's
# start-up"), and the shim is executed by every cold start without a
# daemon and by every shim server. Same code paths, same guarantees:
# - the shim is static, without glibc's start-up (fails on the glibc
#   shim: its cache probing, its tunables);
# - a cold start without a daemon runs, passes output and exit codes, and
#   its failing exec reads as with glibc (ENAMETOOLONG: glibc says "File
#   name too long", musl's own table "Filename too long");
# - under --init, pid 1 forwards signal 34 (glibc's SIGRTMIN), which
#   musl's sigfillset leaves out;
# - a pool fills through the shim server and activates; a warm pid 1 has
#   every code page of the shim and of the vDSO in its page tables (musl's
#   static dl_iterate_phdr does not report the vDSO: container_main.c
#   takes it from the auxv; without, half the vDSO was missing);
# - the seccomp filters a container gets (the default profile and a
#   custom one) are, to the byte, those of the same shim linked with glibc
#   (build/glibc-shim, made by `make all`), read from the running
#   workload with PTRACE_SECCOMP_GET_FILTER, and the cached BPF file is the
#   same.
# Needs root, busybox-static and python3 (ptrace).
. "$(dirname "$0")/lib.sh"
setup_env shimmusl

SHIM=$WARMRUN_BIN_DIR/warmrun-shim
GLIBC_SHIM=${WARMRUN_BUILD_DIR:-$PWD/build}/glibc-shim/warmrun-shim
out=$T/out
err=$T/err

# ---- the binary ---------------------------------------------------------
if [ "$ASAN" -eq 1 ]; then
    skip 3 "a sanitizer build links the shim with glibc"
else
    # No program interpreter (PT_INTERP) and no dynamic section: static.
    if command -v readelf >/dev/null 2>&1; then
        is "$(readelf -lW "$SHIM" | grep -cE '^ +(INTERP|DYNAMIC) ')" 0 \
            "the shim is static (no INTERP, no DYNAMIC)"
    else
        skip 1 "readelf is not installed"
    fi
    # glibc's static start-up parses GLIBC_TUNABLES and probes the caches
    # (init_cacheinfo, intel_check_word): its strings and symbols are in
    # every static glibc program, whether stripped or not.
    ! LC_ALL=C grep -qa -- "GLIBC_TUNABLES" "$SHIM"
    ok $? "  without glibc's start-up (no GLIBC_TUNABLES)"
    if command -v nm >/dev/null 2>&1 && nm "$SHIM" >/dev/null 2>&1; then
        is "$(nm "$SHIM" | grep -cE ' (intel_check_word|init_cacheinfo|handle_intel)')" 0 \
            "  nor its cache probing (intel_check_word, init_cacheinfo)"
    else
        skip 1 "no nm, or a stripped shim"
    fi
fi

# ---- a cold start without a daemon --------------------------------------
wr activate busybox -- echo cold-hello >"$out" 2>"$err"
is "$?" 0 "a cold start without a daemon runs" || show_err
is "$(cat "$out")" cold-hello "  its output"
wr activate busybox -- sh -c 'exit 7' >/dev/null 2>"$err"
is "$?" 7 "  its exit code" || show_err
long=/$(printf 'n%.0s' $(seq 300))
wr activate busybox -- "$long" >/dev/null 2>"$err"
is "$?" 126 "  a failing exec: 126"
is "$(cat "$err")" "warmrun: exec \"$long\": File name too long" \
    "  with glibc's text for ENAMETOOLONG, as before"
wr activate busybox -- /nonexistent >/dev/null 2>"$err"
is "$?:$(cat "$err")" '127:warmrun: exec "/nonexistent": No such file or directory' \
    "  and for ENOENT (127)"

# Under --init, pid 1 forwards signal 34 (glibc's SIGRTMIN) to the workload
# as it did with glibc: musl's sigfillset leaves 34 out, and an init
# without a handler ignores it (container_init.c, forwarded_signals).
tag=$RANDOM$RANDOM
wr activate --init busybox -- sh -c "trap 'echo got-34; exit 0' 34; echo ready; while :; do sleep 0.1; done; : $tag" \
    >"$out" 2>"$err" &
cli=$!
workload=
poll_until 20 eval 'grep -q ready "$out" && workload=$(pgrep -f -- "^sh -c trap .*: $tag\$")'
pid1=$(awk '{print $4}' "/proc/$workload/stat" 2>/dev/null)
[ -n "$pid1" ] && kill -34 "$pid1"
wait_child "$cli" 20
is "$WAIT_RC:$(grep -c got-34 "$out")" 0:1 "--init: pid 1 forwards signal 34 to the workload" || show_err

# ---- a pool -------------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "a pool fills" || show_err
srv=$(pgrep -P "$DAEMON_PID" -x warmrun-shimsrv | head -n1)
[ -n "$srv" ]
ok $? "  through a shim server ($srv)"
# The warm containers' pid 1s: stopped children of this test's shims.
warm_pid1s() {
    local p
    for p in $(our_pids_except_daemon); do
        [ "$(pid_state "$p")" = T ] && echo "$p"
    done
}
pids=$(warm_pid1s)
[ -n "$pids" ]
ok $? "  its warm containers' pid 1s are stopped" || show_pids $(our_pids_except_daemon)
# Every code page of each warm pid 1 (the shim's text and the vDSO) is in
# its page tables (Rss = Size): a clone copies no page table entry of a
# file or special mapping; populate_code_mappings reads them in, so that
# the hot path takes no fault on them (without the vDSO from the auxv,
# half of the vDSO's 8 kB).
short=
for p in $pids; do
    short=$short$(awk -v pid="$p" '/^[0-9a-f]+-[0-9a-f]+ r-xp / {m = $NF} /^[0-9a-f]+-/ && !/ r-xp / {m = ""}
        m != "" && /^Size:/ {size = $2} m != "" && /^Rss:/ && $2 != size {print " " pid ":" m ":" $2 "/" size " kB"}' \
        "/proc/$p/smaps")
done
is "$short" "" "  each has every code page of the shim and the vDSO in its page tables"
wr activate --no-cold busybox -- echo warm-hello >"$out" 2>"$err"
is "$?:$(cat "$out")" 0:warm-hello "a warm activation runs" || show_err
stop_daemon

# ---- the seccomp filters --------------------------------------------------
# dump_filter PID: the workload's seccomp filter (its only one), as hex, by
# PTRACE_SECCOMP_GET_FILTER (root, CAP_SYS_ADMIN; Linux 4.4).
dump_filter() {
    python3 - "$1" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) < 0:  # PTRACE_ATTACH
    sys.exit("attach: " + os.strerror(ctypes.get_errno()))
os.waitpid(pid, 0x40000000)  # __WALL
try:
    n = libc.ptrace(0x420c, pid, None, None)  # PTRACE_SECCOMP_GET_FILTER, index 0
    if n <= 0:
        sys.exit("get filter: " + os.strerror(ctypes.get_errno()))
    buf = ctypes.create_string_buffer(n * 8)  # struct sock_filter: 8 bytes
    if libc.ptrace(0x420c, pid, None, buf) != n:
        sys.exit("get filter: " + os.strerror(ctypes.get_errno()))
    print(buf.raw.hex())
finally:
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
PY
}

cat >"$T/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["unshare", "mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
              {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
               "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]}]}
JSON

# filter_of SHIM STATE [OPTION...]: a cold start with that shim and state
# directory; prints the filter of its workload (a sleep, ended after).
filter_of() {
    local shim=$1 state=$2 tag=$RANDOM$RANDOM
    shift 2
    WARMRUN_SHIM=$shim timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" \
        --state-dir "$state" --socket "$T/none.sock" activate "$@" busybox -- \
        sleep "1$tag" >/dev/null 2>"$err" &
    local cli=$! pid=
    poll_until 20 eval 'pid=$(pgrep -f "^sleep 1$tag\$")'
    [ -n "$pid" ] && dump_filter "$pid"
    kill -KILL "$pid" 2>/dev/null
    wait "$cli" 2>/dev/null
}

if [ "$ASAN" -eq 1 ] || [ ! -x "$GLIBC_SHIM" ]; then
    skip 5 "no glibc build of the shim to compare with ($GLIBC_SHIM)"
elif ! command -v python3 >/dev/null 2>&1; then
    skip 5 "python3 is not installed (ptrace)"
else
    m_def=$(filter_of "$SHIM" "$T/state-musl")
    g_def=$(filter_of "$GLIBC_SHIM" "$T/state-glibc")
    [ ${#m_def} -gt 100 ]
    ok $? "the default profile's filter read from a workload ($((${#m_def} / 16)) instructions)" ||
        show_err
    [ -n "$m_def" ] && [ "$m_def" = "$g_def" ]
    ok $? "  the same as with the glibc shim, to the byte"
    m_bpf=$(echo "$T"/state-musl/seccomp/default-*.bpf)
    g_bpf=$T/state-glibc/seccomp/$(basename "$m_bpf")
    [ -s "$m_bpf" ] && cmp -s "$m_bpf" "$g_bpf"
    ok $? "  and its cached BPF file ($(basename "$m_bpf")) too" ||
        diag "$(ls "$T"/state-*/seccomp/ 2>&1 | tr '\n' ' ')"
    m_own=$(filter_of "$SHIM" "$T/state-musl" --security-opt seccomp="$T/profile.json")
    g_own=$(filter_of "$GLIBC_SHIM" "$T/state-glibc" --security-opt seccomp="$T/profile.json")
    [ ${#m_own} -gt 16 ] && [ "$m_own" != "$m_def" ]
    ok $? "a custom profile's filter read from a workload ($((${#m_own} / 16)) instructions)" ||
        show_err
    [ "$m_own" = "$g_own" ]
    ok $? "  the same as with the glibc shim, to the byte"
fi

done_testing

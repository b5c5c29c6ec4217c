#!/bin/bash
# TAP test of the shorter seccomp filter (docs/security.md, "The filter's
# architectures"): on a kernel without the x32 ABI the filter leaves x32
# out, so every x32 system call meets libseccomp's bad-architecture action,
# ENOSYS, denied ones included (before: EPERM from the x32 section);
# i386 system calls (`int $0x80`) still get Docker's rules (allowed ones
# work, denied ones fail with EPERM, capability-gated ones open with the
# capability), and x86-64 ones too. Cold (the cached default filter, whose
# name says whether it has x32), warm from a pool (its compiled filter),
# and with a JSON profile. The x32 checks fail on the code before (EPERM).
# Fewer page faults (docs/security.md, "The shim server"): the shim server
# gives its code one anonymous page and maps all of it, so that a forked
# shim and its container's pid 1 get the code's page table entries from
# fork instead of faulting them in; no mapping becomes writable and
# executable; pid 1, which no longer populates the code itself, still maps
# the vDSO. The "all of the shim's code is mapped" check fails on the code
# before. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env seccomp-short
add_helper_image abi "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/abi" abi '["/abi"]' ||
    bail_out "cannot write the abi image"
out=$T/out
err=$T/err

# The kernel's own answer, outside any container and filter.
host_x32=$("${WARMRUN_BUILD_DIR:-$PWD/build}/attack/abi" | awk '$1 == "x32_getpid" {print $2}')
diag "x32 getpid on the host: $host_x32"

# expect NAME RESULT: the helper's line for NAME in $out.
expect() {
    is "$(awk -v n="$1" '$1 == n {print $2}' "$out")" "$2" "$m $1: $2"
}

# check_abi: what a default-profile container sees through each entry.
check_abi() {
    expect i386_getpid OK
    expect i386_getppid OK
    expect i386_personality_query OK
    expect i386_personality_set EPERM
    expect i386_unshare EPERM
    expect i386_mount EPERM
    expect x64_unshare EPERM
    expect x64_mount EPERM
    if [ "$host_x32" = ENOSYS ]; then
        expect x32_getpid ENOSYS
        expect x32_unshare ENOSYS
        expect x32_mount ENOSYS
    else
        # A kernel with x32 keeps its section: Docker's rules apply.
        expect x32_getpid OK
        expect x32_unshare EPERM
        expect x32_mount EPERM
    fi
}

# ---- cold: the cached default filter ------------------------------------------
m="cold:"
wr activate abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
check_abi
if [ "$host_x32" = ENOSYS ]; then
    want='^default-[0-9a-f]+-v3\.bpf$'
else
    want='^default-[0-9a-f]+-x32-v3\.bpf$'
fi
like "$(ls "$STATE/seccomp" 2>/dev/null | grep '^default-' | tr '\n' ' ' | sed 's/ $//')" "$want" \
    "$m the cached default filter's name says whether it has the x32 section"
m="cold, from the cache:"
wr activate abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
check_abi

# ---- a capability opens the i386 call as it opens the x86-64 one ------------------
m="--cap-add SYS_ADMIN:"
wr activate --cap-add SYS_ADMIN abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
# Reaching the kernel: no source (NULL) fails after the filter.
like "$(awk '$1 == "i386_mount" {print $2}' "$out")" '^(EFAULT|ENOENT)$' "$m i386 mount reaches the kernel"
like "$(awk '$1 == "x64_mount" {print $2}' "$out")" '^(EFAULT|ENOENT)$' "$m x86-64 mount reaches the kernel"

# ---- warm: the pool's compiled filter -----------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create abi --size 1 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool of the helper" || show_err
m="warm:"
wr activate --no-cold abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
check_abi

# ---- the code a forked shim and its pid 1 start with ----------------------------
# code_kb PID FIELD: FIELD (Size, Rss, Anonymous) in kB of PID's executable
# mapping of the shim binary.
code_kb() {
    awk -v f="$2:" '/^[0-9a-f]+-[0-9a-f]+ / {x = ($2 == "r-xp" && $6 ~ /warmrun-shim/)}
        x && $1 == f {print $2; exit}' "/proc/$1/smaps" 2>/dev/null
}
# wx_maps PID: mappings both writable and executable.
wx_maps() { awk '/^[0-9a-f]+-[0-9a-f]+ / && $2 ~ /w/ && $2 ~ /x/' "/proc/$1/maps" 2>/dev/null | wc -l; }
wait_pool_full abi:latest 30
srv=$(pgrep -P "$DAEMON_PID" -x warmrun-shimsrv | head -1)
shim=$(pgrep -P "$DAEMON_PID" -x warmrun-shim | head -1)
init=$(pgrep -P "${shim:-0}" | head -1)
[ -n "$srv" ] && [ -n "$shim" ] && [ -n "$init" ]
ok $? "the server, a warm shim and its pid 1"
size=$(code_kb "$srv" Size)
like "$(code_kb "$srv" Anonymous)" '^[1-9][0-9]*$' "the server's code mapping holds an anonymous page"
is "$(code_kb "$srv" Rss)" "$size" "the server maps all of its code (${size} kB)"
is "$(code_kb "$shim" Rss)" "$size" "a forked shim starts with all of it mapped"
is "$(code_kb "$init" Rss)" "$size" "so does its container's pid 1"
# The vDSO (clock_gettime on the activation's path) is no file mapping:
# pid 1 still maps it itself.
vdso=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {x = ($6 == "[vdso]")} x && /^(Size|Rss):/ {print $2}' \
    "/proc/$init/smaps" 2>/dev/null | tr '\n' ' ')
like "$vdso" '^([0-9]+) \1 $' "pid 1 has its vDSO mapped for the activation (Size Rss: $vdso)"
is "$(($(wx_maps "$srv") + $(wx_maps "$shim") + $(wx_maps "$init")))" 0 \
    "no mapping of theirs is writable and executable"
wr pool rm abi >/dev/null 2>&1

# ---- a JSON profile: compiled the same way ------------------------------------
# Everything allowed but unshare and mount, which fail with EACCES.
cat >"$T/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["unshare", "mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
m="seccomp=FILE:"
wr activate --security-opt seccomp="$T/profile.json" abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
expect i386_getpid OK
expect i386_unshare EACCES
expect x64_unshare EACCES
if [ "$host_x32" = ENOSYS ]; then
    expect x32_getpid ENOSYS
    expect x32_unshare ENOSYS
else
    expect x32_getpid OK
    expect x32_unshare EACCES
fi
stop_daemon
done_testing

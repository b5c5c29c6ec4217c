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
# Needs root and busybox-static.
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
    want='^default-[0-9a-f]+-v[0-9]+-libseccomp-[0-9.]+\.bpf$'
else
    want='^default-[0-9a-f]+-x32-v[0-9]+-libseccomp-[0-9.]+\.bpf$'
fi
like "$(ls "$STATE/seccomp" 2>/dev/null | grep '^default-' | tr '\n' ' ' | sed 's/ $//')" "$want" \
    "$m the cached default filter's name says whether it has the x32 section"
# By ranges of system call numbers (docs/security.md, "Seccomp programs by
# ranges"): libseccomp's tree for this profile is 849 instructions (1,219
# with x32), the shortened program under 300; 8 bytes an instruction.
cached=$(ls "$STATE"/seccomp/default-*.bpf 2>/dev/null | head -n 1)
insns=$(($(stat -c %s "$cached" 2>/dev/null || echo 0) / 8))
[ "$insns" -gt 0 ] && [ "$insns" -lt 300 ]
ok $? "$m the cached default filter is the shortened program ($insns instructions)"
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

#!/bin/bash
# TAP test of the review of seccomp programs by ranges (docs/security.md,
# "The filter's architectures"): the cold starts' cached default filter is
# named after the libseccomp that compiled it, so a program left by an
# older libseccomp (whose fixes change programs: CVE-2019-9893) is never
# loaded. Stood in for here by a program that allows everything at the
# name the cache had before (default-<caps>[-x32]-v<N>.bpf): a container
# must still meet Docker's rules (personality and unshare denied). Fails
# on the code before, which loads it. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review-round6
add_helper_image abi "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/abi" abi '["/abi"]' ||
    bail_out "cannot write the abi image"
out=$T/out
err=$T/err
expect() {
    is "$(awk -v n="$1" '$1 == n {print $2}' "$out")" "$2" "$m $1: $2"
}

m="cold:"
wr activate abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
expect i386_personality_set EPERM
expect x64_unshare EPERM
name=$(ls "$STATE/seccomp" 2>/dev/null | grep '^default-' | head -n 1)
version=$(pkg-config --modversion libseccomp 2>/dev/null)
like "$name" "^default-[0-9a-f]+(-x32)?-v[0-9]+-libseccomp-${version//./\\.}\\.bpf\$" \
    "the cached default filter names libseccomp $version ($name)"

# The name without libseccomp's version: capabilities, x32, version of
# the table (the whole name on the code before).
old=$(printf '%s\n' "$name" | sed -n 's/^\(default-[0-9a-f]*\(-x32\)\{0,1\}-v[0-9]*\).*\.bpf$/\1.bpf/p')
ok "$([ -n "$old" ] && echo 0 || echo 1)" "the name without libseccomp's version: $old"
# One instruction, RET SECCOMP_RET_ALLOW (struct sock_filter, little endian).
printf '\006\000\000\000\000\000\377\177' >"$STATE/seccomp/$old"
chmod 600 "$STATE/seccomp/$old"

m="cold, with a stale program at the old name:"
wr activate abi >"$out" 2>"$err"
is "$?" 0 "$m the helper ran" || show_err
expect i386_personality_set EPERM
expect x64_unshare EPERM
expect i386_getpid OK
done_testing

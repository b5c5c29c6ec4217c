#!/bin/bash
# TAP test of the cold starts' cached default seccomp filter
# (docs/security.md, "The cached default filter"): a cache file left
# empty, truncated, zeroed or of garbage (a crash, a power loss), or one
# another user could have written (a symlink, a hard link, a FIFO, group-
# or world-writable, owned by another user, in a directory others can
# write) never fails a cold start nor weakens its filter: the container
# still runs under seccomp (Seccomp: 2) with the default profile (a call
# it denies, unshare(CLONE_NEWUSER), still fails with EPERM), and the file
# is replaced by a whole one of root's (in a directory root alone can
# write). A fill from a pool works beside it. Before, a truncated,
# zeroed or garbage file failed every cold start, and a foreign one was
# loaded. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env seccomp-cache
add_helper_image abi "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/abi" abi '["/abi"]' ||
    bail_out "cannot write the abi image"
out=$T/out
err=$T/err

# check LABEL [ACTIVATE-OPTS...]: a cold start of the abi helper, then of
# busybox reading its seccomp mode: the default filter in both.
check() {
    local label=$1
    shift
    wr activate --cold "$@" abi >"$out" 2>"$err"
    local rc=$?
    local got="rc=$rc $(awk '$1 == "x64_unshare" || $1 == "i386_personality_set" {print $1 "=" $2}' "$out" | tr '\n' ' ')"
    is "$got" "rc=0 i386_personality_set=EPERM x64_unshare=EPERM " \
        "$label: a cold start runs, calls the default profile denies fail with EPERM" || show_err
    got=$(wr activate --cold "$@" busybox -- sh -c 'grep "^Seccomp:" /proc/self/status' 2>"$err")
    like "$got" '^Seccomp:[[:space:]]+2$' "$label:   and it runs under a seccomp filter" || show_err
}

# The first cold start writes the cache.
check "no cache yet"
CACHE=$(ls -d "$STATE"/seccomp/default-*.bpf 2>/dev/null | head -n 1)
[ -f "$CACHE" ] && [ ! -L "$CACHE" ] && [ "$(stat -c '%u %a %h' "$CACHE")" = "0 600 1" ]
ok $? "the cache is written: $(basename "$CACHE" 2>/dev/null), root's, mode 600" ||
    bail_out "no cached default filter in $STATE/seccomp"
cp "$CACHE" "$T/good"
SIZE=$(stat -c %s "$CACHE")

# repaired LABEL: the cache file is a regular file of root's, mode 600,
# one link, with the first cold start's contents again.
repaired() {
    [ -f "$CACHE" ] && [ ! -L "$CACHE" ] && [ "$(stat -c '%u %a %h' "$CACHE")" = "0 600 1" ] &&
        cmp -s "$CACHE" "$T/good"
    ok $? "$1:   the cache file is replaced by a whole one of root's" ||
        diag "$(ls -l "$CACHE" 2>&1)"
}

# A program that allows every call (RET SECCOMP_RET_ALLOW), in a cache
# file of the current format, whole and checksummed: what a tenant who
# could write the cache would put there. FNV-1a 64 in the shell's 64-bit
# arithmetic (its multiplication wraps).
ALLOW='\006\000\000\000\000\000\377\177'
fnv=-3750763034362895579 # 14695981039346656037
for b in 6 0 0 0 0 0 255 127; do
    fnv=$(((fnv ^ b) * 1099511628211))
done
le64() {
    local i s=
    for i in 0 1 2 3 4 5 6 7; do s+=$(printf '\\%03o' $((($1 >> (8 * i)) & 255))); done
    printf '%s' "$s"
}
write_allow_all() {
    printf "wrbpf01\\n\\001\\000\\000\\000\\000\\000\\000\\000$(le64 "$fnv")$ALLOW" >"$1"
}

# corrupt LABEL COMMAND...: COMMAND breaks the cache file; a cold start
# still works under the default filter, and the file is
# repaired.
corrupt() {
    local label=$1
    shift
    "$@"
    check "$label"
    repaired "$label"
}

corrupt "an empty cache file" truncate -s 0 "$CACHE"
corrupt "a truncated cache file (half, whole instructions)" truncate -s $((SIZE / 16 * 8)) "$CACHE"
corrupt "a cache file of zeros (a crash before its blocks were written)" \
    sh -c 'head -c "$1" /dev/zero >"$2"' - "$SIZE" "$CACHE"
corrupt "a cache file of garbage" sh -c 'head -c "$1" /dev/urandom >"$2"' - "$SIZE" "$CACHE"
corrupt "a cache file with one more instruction" \
    sh -c 'cat "$1" >"$2" && printf "\006\000\000\000\000\000\377\177" >>"$2"' - "$T/good" "$CACHE"

# Written by someone else: never loaded, even when whole.
write_allow_all "$T/allow"
chmod 600 "$T/allow"
corrupt "an allow-all program, world-writable" sh -c 'cp "$1" "$2" && chmod 666 "$2"' - "$T/allow" "$CACHE"
corrupt "an allow-all program, group-writable" sh -c 'cp "$1" "$2" && chmod 620 "$2"' - "$T/allow" "$CACHE"
corrupt "an allow-all program owned by nobody" sh -c 'cp "$1" "$2" && chown 65534 "$2"' - "$T/allow" "$CACHE"
corrupt "a symlink to an allow-all program of root's" ln -sf "$T/allow" "$CACHE"
corrupt "a hard link to an allow-all program of root's" ln -f "$T/allow" "$CACHE"
is "$(stat -c '%h' "$T/allow") $(cmp -s "$T/allow" <(write_allow_all /dev/stdout) && echo same)" "1 same" \
    "  the symlink's and the hard link's target are left as they were"
corrupt "a FIFO" sh -c 'rm -f "$1" && mkfifo -m 600 "$1"' - "$CACHE"

# A cache directory others can write: nothing in it is loaded, nothing
# written to it.
cp "$T/allow" "$CACHE"
chmod 777 "$STATE/seccomp"
check "a world-writable cache directory holding an allow-all program"
cmp -s "$CACHE" "$T/allow"
ok $? "  nothing is written to it"
chmod 700 "$STATE/seccomp"
rm -f "$CACHE"
SYM=$T/elsewhere
mkdir -m 700 "$SYM"
cp "$T/allow" "$SYM/$(basename "$CACHE")"
mv "$STATE/seccomp" "$T/seccomp.real"
ln -s "$SYM" "$STATE/seccomp"
check "a cache directory that is a symlink (to root's directory with an allow-all program)"
cmp -s "$SYM/$(basename "$CACHE")" "$T/allow"
ok $? "  nothing is written through it"
rm "$STATE/seccomp"
mv "$T/seccomp.real" "$STATE/seccomp"

# A pool's fill beside a broken cache.
head -c "$SIZE" /dev/zero >"$CACHE"
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --wait >"$out" 2>"$err"
ok $? "pool create busybox --size 1 --wait beside a zeroed cache file" || show_err
got=$(wr activate --no-cold busybox -- sh -c 'grep "^Seccomp:" /proc/self/status' 2>"$err")
like "$got" '^Seccomp:[[:space:]]+2$' "  its warm container runs under a seccomp filter" || show_err
check "with a daemon running"
repaired "with a daemon running"
wr pool rm busybox >/dev/null 2>&1
stop_daemon
is "$DAEMON_RC" 0 "the daemon shut down cleanly"
# No temporary file is left behind.
is "$(ls -A "$STATE/seccomp" | grep -v '^default-' | tr '\n' ' ')" "" \
    "no temporary file is left in the cache directory"
done_testing

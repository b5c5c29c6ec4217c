#!/bin/bash
# TAP test: what a hostile review of the shim linked with musl found.
# - `activate --init` under a custom seccomp profile that refuses the fork
#   system call (and allows clone, as a profile made from what a glibc
#   program calls does): pid 1 runs under the workload's filter when it
#   forks the workload, and musl's fork() issues fork(2) where glibc's
#   issued clone(2): the activation failed with 125 ("fork the workload:
#   Operation not permitted") with the musl shim, ran with the glibc one.
#   pid 1 now issues clone(2) with glibc's flags itself
#   (container_init.c, fork_workload), whatever the C library.
# - warmrun's own code was compiled without a stack protector (Debian's gcc
#   enables none by default): the canary each forked shim draws afresh
#   (shim_server.c, new_canary; docs/security.md) was checked only by the
#   frames of Debian's archives (jansson, libseccomp, libcap), none of the
#   shim's, pid 1's or the server's. Now -fstack-protector-strong (Makefile).
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review10

out=$T/out
err=$T/err

# ---- --init under a profile without fork(2) ------------------------------
cat >"$T/nofork.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["fork", "vfork"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
wr activate --init --security-opt seccomp="$T/nofork.json" busybox -- \
    sh -c 'echo init-ran; exit 3' >"$out" 2>"$err"
is "$?:$(cat "$out")" 3:init-ran \
    "--init under a profile that refuses fork(2): the workload runs, its exit code passes" ||
    show_err
# Under the default profile, --init as before: signals forwarded, exit codes.
wr activate --init busybox -- sh -c 'kill -TERM $$; sleep 5' >"$out" 2>"$err"
is "$?" 143 "--init, default profile: a workload killed by SIGTERM reads 128+15" || show_err

# ---- the stack protector in warmrun's own code ------------------------------
# protected_fns BINARY: how many of warmrun's functions (wr_*, shim_*) in it
# check the canary (call __stack_chk_fail).
protected_fns() {
    objdump -d --no-show-raw-insn "$1" |
        awk '/^[0-9a-f]+ <.*>:$/ {fn = $2} /call.*<__stack_chk_fail(@plt)?>/ {print fn}' |
        sort -u | grep -cE '^<(wr_|shim_)'
}
if ! command -v objdump >/dev/null 2>&1; then
    skip 3 "objdump is not installed"
else
    for b in warmrun-shim warmrun-daemon warmrun; do
        n=$(protected_fns "$WARMRUN_BIN_DIR/$b")
        [ "$n" -gt 10 ]
        ok $? "$b: warmrun's functions check the stack canary ($n of them)"
    done
fi
# A pool fills through the shim server (each forked shim draws a new
# canary, in a frame that must not check it) and activates.
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "a pool fills through the shim server" || show_err
wr activate --no-cold busybox -- echo warm-ran >"$out" 2>"$err"
is "$?:$(cat "$out")" 0:warm-ran "  and a warm container runs" || show_err
stop_daemon

done_testing

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

done_testing

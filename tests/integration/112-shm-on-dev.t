#!/bin/bash
# TAP test: /dev/shm is a directory of /dev's own tmpfs bound onto itself
# nosuid,nodev,noexec (docs/security.md, "Cheaper cgroups and mounts"), not
# a tmpfs of its own: one superblock fewer per container. Cold and warm,
# and under --userns auto:
# - /dev/shm shares /dev's superblock (the same device in mountinfo);
# - it is nosuid,nodev,noexec, mode 1777, owned by the container's root;
# - it is writable (also with --read-only), a program in it does not run,
#   a node made in it does not open;
# - a file left there by one tenant is not there for the next activation
#   of the same pool;
# - its space is /dev's 64 MiB: a tenant cannot write more.
# The superblock check fails on the code before (a tmpfs of its own).
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env shmdev
out=$T/out
err=$T/err

PROBE='dev=$(awk "\$5 == \"/dev\" {print \$3}" /proc/self/mountinfo)
shm=$(awk "\$5 == \"/dev/shm\" {print \$3\" \"\$6\" \"\$9}" /proc/self/mountinfo)
echo "dev $dev"
echo "shm $shm"
echo "mode $(stat -c "%a %u" /dev/shm)"
echo hi >/dev/shm/f && echo "wrote $(cat /dev/shm/f)"
cp /bin/true /dev/shm/t 2>/dev/null && { /dev/shm/t 2>/dev/null && echo "EXEC-RAN" || echo "exec-refused"; }
mknod /dev/shm/n c 1 3 2>/dev/null && { echo x >/dev/shm/n 2>/dev/null && echo "NODE-OPENED" || echo "node-refused"; }
dd if=/dev/zero of=/dev/shm/big bs=1M count=80 2>/dev/null; echo "big $(($(stat -c %s /dev/shm/big) / 1048576))"
rm -f /dev/shm/big
ls /dev/shm | tr "\n" " "; echo'

check() {
    local label=$1 uid=$2
    local dev shm
    dev=$(awk '$1 == "dev" {print $2}' "$out")
    shm=$(grep '^shm ' "$out")
    like "$dev" '^[0-9]+:[0-9]+$' "$label: /dev is a mount" || diag_file "$out"
    like "$shm" "^shm $dev [^ ]*nosuid,nodev,noexec[^ ]* tmpfs\$" \
        "$label: /dev/shm is /dev's tmpfs ($dev), nosuid,nodev,noexec" || diag_file "$out"
    is "$(grep '^mode ' "$out")" "mode 1777 $uid" "$label: mode 1777, the container's root's"
    like "$(cat "$out")" 'wrote hi' "$label: writable"
    unlike "$(cat "$out")" 'EXEC-RAN|NODE-OPENED' "$label: no program runs, no node opens there"
    like "$(grep '^big ' "$out")" '^big ([0-9]|[1-5][0-9]|6[0-4])$' "$label: at most /dev's 64 MiB"
}

wr activate busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "cold: the probe ran" || show_err
check cold 0
wr activate --read-only busybox -- sh -c 'echo ro >/dev/shm/f && cat /dev/shm/f' >"$out" 2>"$err"
is "$(cat "$out")" ro "--read-only: /dev/shm stays writable" || show_err

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool" || show_err
wr activate --no-cold busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "warm: the probe ran" || show_err
check warm 0
wait_pool_full busybox:latest 30
wr activate --no-cold busybox -- sh -c 'ls -A /dev/shm | tr "\n" " "; echo' >"$out" 2>"$err"
is "$(cat "$out")" "" "the next activation of the pool finds /dev/shm empty" || show_err

wr activate --userns auto busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?" 0 "--userns auto: the probe ran" || show_err
check "--userns auto" 0

done_testing

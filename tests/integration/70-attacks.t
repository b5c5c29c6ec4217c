#!/bin/bash
# TAP test of the security profile against a hostile workload: a static
# helper (tests/attack/attack.c) in a two-layer test image tries each
# attack of the threat model (docs/security.md) and prints the errno; each
# must fail as it does under Docker's defaults. Cold, warm from a pool, and
# cold in a user namespace.
# Also: capabilities, seccomp and no_new_privs as /proc shows them, -u,
# --read-only, --ulimit, --cap-add/--cap-drop, --privileged and a seccomp
# profile in Docker's JSON format. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env attacks
add_attack_image || bail_out "cannot write the attack image"

out=$T/out
err=$T/err
echo marker >"$T/host-file"

# expect NAME ERRNO: the helper's line for NAME in $out.
expect() {
    is "$(awk -v n="$1" '$1 == n {print $2}' "$out")" "$2" "$m $1 fails with $2"
}

for mode in cold warm userns; do
    m="$mode:"
    if [ "$mode" = warm ]; then
        start_daemon || bail_out "the daemon did not start"
        wr pool create attack --size 1 --wait >"$out" 2>"$err" || { show_err; bail_out "no pool"; }
    fi
    if [ "$mode" = warm ]; then
        wait_pool_full attack:latest 30
        wr activate --no-cold attack -- "$$" "$T/host-file" >"$out" 2>"$err"
    elif [ "$mode" = userns ]; then
        wr activate --userns auto attack -- "$$" "$T/host-file" >"$out" 2>"$err"
    else
        wr activate attack -- "$$" "$T/host-file" >"$out" 2>"$err"
    fi
    is "$?" 0 "$m the attack helper ran" || show_err
    for name in mount umount2 pivot_root unshare unshare_user setns clone_newns kexec_load \
        init_module finit_module reboot swapon keyctl bpf perf_event_open open_by_handle_at \
        io_uring_setup socket_vsock personality raise_rlimit; do
        expect "$name" EPERM
    done
    expect clone3 ENOSYS
    expect ptrace_host ESRCH
    expect kill_host ESRCH
    expect self_root_host ENOENT
    expect pid1_root_host ENOENT
    expect mkdir_sys EROFS
    # As in Docker, CAP_MKNOD makes the node; here nodev (not a device
    # cgroup) keeps it from being opened. In a user namespace, not even that.
    if [ "$mode" = userns ]; then
        expect mknod_block EPERM
    else
        expect mknod_block OK
        like "$(awk '$1 == "open_block" {print $2}' "$out")" '^(EACCES|EPERM)$' "$m the block device cannot be opened"
    fi
    like "$(awk '$1 == "sysrq_trigger" {print $2}' "$out")" '^(EROFS|ENOENT)$' "$m /proc/sysrq-trigger is not writable"
    like "$(awk '$1 == "kcore_bytes" {print $2}' "$out")" '^(0|-1)$' "$m /proc/kcore reads nothing"
    like "$(awk '$1 == "write_sys" {print $2}' "$out")" '^(EROFS|ENOENT)$' "$m /sys is not writable"
    if [ "$mode" = warm ]; then
        # Pools persist across daemon restarts: this one is done with.
        wr pool rm attack >/dev/null 2>&1
        stop_daemon
        ok $? "warm: the daemon shuts down cleanly" || diag_file "$DAEMON_LOG"
    fi
done
m=cold:

# --- a non-root user cannot become root ----------------------------------------
wr activate -u 1000:1000 attack -- "$$" "$T/host-file" >"$out" 2>"$err"
expect setuid0 EPERM

# --- what /proc shows -------------------------------------------------------------
status() { wr activate "$@" busybox -- sh -c 'grep -E "^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|Seccomp|NoNewPrivs):" /proc/self/status' 2>&1; }
s=$(status)
like "$s" 'CapEff:[[:space:]]+00000000a80425fb' "Docker's 14 capabilities effective"
like "$s" 'CapPrm:[[:space:]]+00000000a80425fb' "  permitted"
like "$s" 'CapBnd:[[:space:]]+00000000a80425fb' "  bounding"
like "$s" 'CapInh:[[:space:]]+0+'$'\n' "  nothing inheritable"
like "$s" 'CapAmb:[[:space:]]+0+'$'\n' "  nothing ambient"
like "$s" 'Seccomp:[[:space:]]+2' "seccomp filter mode (2)"
like "$s" 'NoNewPrivs:[[:space:]]+1' "no_new_privs"
s=$(status --cap-drop ALL --cap-add NET_BIND_SERVICE)
like "$s" 'CapEff:[[:space:]]+0000000000000400' "--cap-drop ALL --cap-add NET_BIND_SERVICE: that one only"
s=$(status --cap-add SYS_ADMIN)
like "$s" 'CapEff:[[:space:]]+00000000a82425fb' "--cap-add SYS_ADMIN"
s=$(status --security-opt seccomp=unconfined)
like "$s" 'Seccomp:[[:space:]]+0' "seccomp=unconfined: no filter"
s=$(status --privileged)
like "$s" 'Seccomp:[[:space:]]+0' "--privileged: no filter"
like "$s" "CapEff:[[:space:]]+$(awk '/^CapBnd/ {print $2}' /proc/self/status)" "--privileged: every capability the host has"

wr activate --cap-add SYS_ADMIN busybox -- sh -c 'mkdir -p /m && mount -t tmpfs none /m && echo mounted' >"$out" 2>"$err"
is "$(cat "$out")" mounted "--cap-add SYS_ADMIN lifts the mount rules of the filter too"

# --- users, groups, umask, ulimits, read-only ------------------------------------
wr activate -u 1000:1000 busybox -- id >"$out" 2>"$err"
is "$(cat "$out")" "uid=1000 gid=1000 groups=1000" "-u 1000:1000" || show_err
wr activate -u nobody busybox -- id -u >"$out" 2>"$err"
is "$(cat "$out")" "$(awk -F: '$1 == "nobody" {print $3}' "$LAYER/etc/passwd")" "-u nobody resolved from the image's /etc/passwd" || show_err
wr activate -u no-such-user busybox -- true >"$out" 2>"$err"
isnt "$?" 0 "-u of an unknown name fails"
like "$(cat "$err")" 'unable to find user no-such-user' "  saying so"
wr activate --umask 077 busybox -- sh -c 'umask' >"$out" 2>"$err"
is "$(cat "$out")" 0077 "--umask 077"
wr activate --ulimit nofile=100:200 busybox -- sh -c 'ulimit -n; ulimit -Hn' >"$out" 2>"$err"
is "$(cat "$out" | tr '\n' ' ')" "100 200 " "--ulimit nofile=100:200"
wr activate --ulimit nofile=300:200 busybox -- true >"$out" 2>"$err"
is "$?" 2 "--ulimit soft above hard is a usage error"
wr activate --read-only busybox -- sh -c 'touch /x 2>/dev/null || echo ro; echo ok >/dev/shm/f && cat /dev/shm/f' >"$out" 2>"$err"
is "$(cat "$out" | tr '\n' ' ')" "ro ok " "--read-only: / is read-only, /dev/shm writable"
wr activate --no-cold -u 1000 busybox -- true >"$out" 2>"$err"
is "$?" 2 "security options with --no-cold: a usage error (a warm container has its pool's profile)"

# --- a seccomp profile in Docker's JSON format --------------------------------------
cat >"$T/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
wr activate --security-opt seccomp="$T/profile.json" busybox -- sh -c 'mkdir /d 2>&1; grep Seccomp: /proc/self/status' >"$out" 2>"$err"
like "$(cat "$out")" 'Permission denied' "seccomp=FILE: the profile's errnoRet (EACCES)" || show_err
# Two conditions on one argument are alternatives (one rule each): both
# deny, neither is dropped.
cat >"$T/two-conditions.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
   "args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 0, "value": 131072, "valueTwo": 131072, "op": "SCMP_CMP_MASKED_EQ"}]}]}
JSON
wr activate --security-opt seccomp="$T/two-conditions.json" busybox -- \
    sh -c 'unshare -U true 2>&1; unshare -m true 2>&1' >"$out" 2>"$err"
is "$(grep -c 'Operation not permitted' "$out")" 2 \
    "seccomp=FILE: two conditions on one argument both deny (CLONE_NEWUSER, CLONE_NEWNS)" ||
    diag_file "$out"
echo '{"defaultAction": "SCMP_ACT_NOPE"}' >"$T/bad.json"
wr activate --security-opt seccomp="$T/bad.json" busybox -- true >"$out" 2>"$err"
isnt "$?" 0 "seccomp=FILE with a bad action fails"
like "$(cat "$err")" 'unsupported action' "  naming it"

# --- pools take the same options ------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 -u 1000 --read-only --wait >"$out" 2>"$err"
ok $? "pool create with a profile" || show_err
wr activate --no-cold busybox -- sh -c 'id -u; touch /x 2>/dev/null || echo ro' >"$out" 2>"$err"
is "$(cat "$out" | tr '\n' ' ')" "1000 ro " "its warm containers have it"
pool_filters() { ls "$STATE/seccomp" 2>/dev/null | grep -v '^default-' | grep -c '\.bpf$'; }
is "$(pool_filters)" 1 "the pool's filter was compiled once, into the state directory"
wr pool create busybox --size 1 -u 0 --wait >"$out" 2>"$err"
wr activate --no-cold busybox -- id -u >"$out" 2>"$err"
is "$(cat "$out")" 0 "a new profile replaces the warm containers of the old one"
wr pool rm busybox >/dev/null 2>&1
stop_daemon
is "$(pool_filters)" 0 "no pool's compiled filter is left behind"
ls "$STATE"/seccomp/default-*.bpf >/dev/null 2>&1
ok $? "cold starts keep the compiled default filter for the next ones"

# --- user namespaces ------------------------------------------------------------------
wr activate --userns auto busybox -- sh -c 'cat /proc/self/uid_map; id -u; touch /etc/x && echo wrote;
    mkdir -p /m; mount -t tmpfs none /m 2>/dev/null || echo no-mount; hostname' >"$out" 2>"$err"
like "$(sed -n 1p "$out")" '^ *0 +1000000000 +65536$' "--userns auto: container root is host uid 1000000000" || show_err
is "$(sed -n 2,4p "$out" | tr '\n' ' ')" "0 wrote no-mount " "  root of the container owns its image files (idmapped layers) and cannot mount"
like "$(sed -n 5p "$out")" '^[0-9a-f]{12}$' "  its host name is the container id"
wr activate --userns 300000:70000 --hostname named -u 1000:1000 busybox -- sh -c 'id -u; hostname; grep CapEff /proc/self/status' >"$out" 2>"$err"
is "$(sed -n 1,2p "$out" | tr '\n' ' ')" "1000 named " "--userns BASE:SIZE with -u and --hostname" || show_err
like "$(cat "$out")" 'CapEff:[[:space:]]+0{16}' "  a non-root user has no effective capabilities"
: >"$T/bg.out"
wr activate --userns auto busybox -- sh -c 'echo started; exec sleep 30' >"$T/bg.out" 2>&1 &
bg=$!
poll_until 20 grep -q started "$T/bg.out"
host_uid=
for p in $(our_pids); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && host_uid=$(awk '/^Uid:/ {print $2}' "/proc/$p/status")
done
is "$host_uid" 1000000000 "on the host, the workload runs as uid 1000000000"
kill -KILL $(our_pids_except_daemon) 2>/dev/null
wait "$bg" 2>/dev/null
wr activate --userns 0:10 busybox -- true >"$out" 2>"$err"
is "$?" 2 "--userns with base 0 is a usage error"
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --userns auto --wait >"$out" 2>"$err"
ok $? "pool create --userns auto" || show_err
wr activate --no-cold busybox -- cat /proc/self/uid_map >"$out" 2>"$err"
like "$(cat "$out")" '^ *0 +1000000000 +65536$' "  its warm containers are in the user namespace" || show_err
stop_daemon

# --- the control socket: root, or --socket-group ----------------------------------
# A gid no one on the host has; the socket in a directory that group can reach.
gid=48151
chmod 0711 "$T"
mkdir -m 0750 "$T/sock" && chgrp "$gid" "$T/sock"
SOCK=$T/sock/warmrun.sock
WR=("$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$SOCK")
start_daemon --socket-group "$gid" || bail_out "the daemon did not start with --socket-group"
is "$(stat -c '%a %g' "$SOCK")" "660 $gid" "--socket-group: the socket is 0660 root:group"
timeout 10 setpriv --reuid 65534 --regid "$gid" --clear-groups "${WR[@]}" ps >"$out" 2>"$err"
is "$?" 0 "a process whose group is the socket group may use it" || show_err
timeout 10 setpriv --reuid 65534 --regid 65534 --groups "$gid" "${WR[@]}" ps >"$out" 2>"$err"
is "$?" 0 "  so may one that has it as a supplementary group" || show_err
chmod 0755 "$T/sock" && chmod 0666 "$SOCK"
timeout 10 setpriv --reuid 65534 --regid 65534 --clear-groups "${WR[@]}" ps >"$out" 2>"$err"
isnt "$?" 0 "another user is refused, even with the socket and its directory opened up"
like "$(cat "$err")" 'only root and the socket group may use this socket' "  by SO_PEERCRED"
stop_daemon

done_testing

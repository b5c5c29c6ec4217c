#!/bin/bash
# TAP test: what the mount template must not change (docs/security.md,
# "The mount template"):
# - no descriptor of the template reaches a container: its warm pid 1 and
#   its shim hold none (the server alone does), pid 1's namespace is not
#   the template, and pid 1's descriptors are those of a pid 1 of today's
#   full copy (a daemon without its shim server);
# - the pools the template serves (default, --userns auto, --network
#   bridge, --read-only, --privileged) fill through it (pid 1 cloned
#   without CLONE_NEWNS enters the template and unshares its copy: fails
#   on the code before) and still work as they did;
# - a cold start (the CLI's spawned shim: today's full copy) shows the
#   same mounts as a warm container of the template;
# - the server that takes over after 32 fills is given the first one's
#   template by the daemon instead of making its own.
# Needs root, busybox-static, strace and nft.
. "$(dirname "$0")/lib.sh"
setup_env mntguard
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
command -v nft >/dev/null 2>&1 || skip_all "nft is not installed"
out=$T/out
err=$T/err
NET=wrm$$
BR=wrmb$$
OCT2=$((200 + $$ % 50))
OCT3=$((($$ / 50) % 250))
PFX=10.$OCT2.$OCT3
net_cleanup() {
    ip link del "$BR" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
    nft delete table bridge "warmrun_$NET" 2>/dev/null
}
trap 'rc=$?; net_cleanup; (exit $rc); cleanup' EXIT

warm_shim() { pgrep -P "$DAEMON_PID" -x warmrun-shim | head -n1; }
# A process's descriptors as their targets, without the numbers that
# differ per process (inodes, pids).
fd_profile() {
    local fd
    for fd in $(ls "/proc/$1/fd" | sort -n); do
        echo "$fd $(readlink "/proc/$1/fd/$fd" | sed -E 's/[0-9]+/N/g')"
    done
}
mounts_of() { awk '{$1 = $2 = $3 = ""; print}' "$1"; }

# ---- the reference: a spawned shim's container ----------------------------
WARMRUN_SHIM_SERVER=off start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
shim=$(warm_shim)
init=$(pgrep -P "$shim" | head -n1)
fd_profile "$init" >"$T/init.full"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

# ---- descriptors -------------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
# A pool of size 0 kept to the end: the server and its template stay while
# a pool exists (the last pool's removal lets them go: 129-template-paths.t),
# so that one server serves every pool below.
timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" build-busybox --tag keep \
    >"$out" 2>&1 || bail_out "cannot build busybox:keep"
wr pool create busybox:keep --size 0 >"$out" 2>"$err" || show_err
srv=$(server_of_state)
[ -n "$srv" ] || bail_out "no shim server"
template=$(for fd in /proc/"$srv"/fd/*; do readlink "$fd"; done | grep '^mnt:' | sort -u)
is "$(echo "$template" | grep -c .)" 1 "the shim server holds one mount namespace (the template)"

rm -f "$T"/trace.*
strace -ff -qq -o "$T/trace" -e trace=clone3,setns,unshare -p "$srv" 2>"$T/strace.err" &
TRACER=$!
poll_until 10 traced "$srv" || bail_out "strace did not attach: $(head -c 200 "$T/strace.err")"

wr pool create busybox --size 1 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
shim=$(warm_shim)
init=$(pgrep -P "$shim" | head -n1)
[ -n "$init" ]
ok $? "a warm container of the template (shim $shim, pid 1 $init)"
isnt "$(readlink "/proc/$init/ns/mnt")" "$template" "  its namespace is a copy, not the template"
is "$(for fd in /proc/"$init"/fd/* /proc/"$shim"/fd/*; do readlink "$fd"; done |
    grep -cxF -- "$template")" 0 "  neither pid 1 nor its shim holds the template"
is "$(ls "/proc/$shim/fd" | grep -cxE '64|65')" 0 "  the shim closed the template's descriptors"
# A root directory descriptor ("/", O_PATH) is left in some warm pid 1s,
# full copy or not (a mount of the container's own: checked below).
fd_profile "$init" | grep -v '^[0-9]* /$' >"$T/init.template"
grep -v '^[0-9]* /$' "$T/init.full" >"$T/init.full.cmp"
is "$(diff "$T/init.full.cmp" "$T/init.template")" "" "  pid 1's descriptors are those of the full copy's"
# No descriptor of pid 1 is on the template's root, nor on the host's
# file systems that the template binds (the store, the state directory,
# /proc): its files are its own tmpfs's.
troot=$(for fd in /proc/"$srv"/fd/*; do [ -d "$fd" ] && stat -L -c '%d:%i' "$fd"; done)
host_devs=" $(stat -c %d / "$STORE" "$STATE" /proc | sort -u | tr '\n' ' ')"
outside=
for fd in /proc/"$init"/fd/*; do
    case "$(readlink "$fd")" in /*) ;; *) continue ;; esac
    di=$(stat -L -c '%d:%i' "$fd")
    case "$host_devs" in *" ${di%%:*} "*) outside="$outside ${fd##*/}:host" ;; esac
    echo "$troot" | grep -qxF -- "$di" && outside="$outside ${fd##*/}:template"
done
[ -n "$troot" ]
ok $? "  the server holds the template's root"
is "$outside" "" "  no descriptor of pid 1 is on the template or a host file system"
wr activate --no-cold busybox -- cat /proc/self/mountinfo >"$T/warm.mi" 2>"$err" || show_err
wr activate --cold busybox -- cat /proc/self/mountinfo >"$T/cold.mi" 2>"$err" || show_err
[ -s "$T/cold.mi" ]
ok $? "a cold start lists its mounts"
is "$(diff <(mounts_of "$T/cold.mi") <(mounts_of "$T/warm.mi"))" "" \
    "  the same mounts and options as the template's container"
wr pool rm busybox >/dev/null 2>&1

# ---- the pools the template serves -----------------------------------------
# pool CHECK OPTIONS...: a pool of 1 with OPTIONS, one activation
# running the shell command CHECK (output in $out, status in RC).
pool() {
    local check=$1
    shift
    wr pool create busybox --size 1 "$@" >"$out" 2>"$err" || show_err
    wait_pool_full busybox:latest 30 || diag "$*: the pool did not fill"
    wr activate --no-cold busybox -- sh -c "$check" >"$out" 2>"$err"
    RC=$?
    wr pool rm busybox >/dev/null 2>&1
}

pool 'id -u; cat /proc/self/uid_map' --userns auto
is "$RC $(head -n1 "$out")" "0 0" "--userns auto: root in the container" || show_err
like "$(tail -n1 "$out")" '^ *0 +1000000000 +65536$' "  mapped to 1000000000" || diag_file "$out"

wr network create "$NET" --subnet "$PFX.0/24" --bridge "$BR" >"$out" 2>"$err" || show_err
pool 'ip -o -4 addr show eth0' --network bridge="$NET"
like "$RC $(cat "$out")" "^0 .*inet $PFX\\." "--network bridge: eth0 has its address" || show_err

pool 'touch /x 2>/dev/null && echo WROTE; echo done' --read-only
is "$RC $(cat "$out")" "0 done" "--read-only: the root is read-only" || show_err

pool 'grep CapEff /proc/self/status' --privileged
like "$RC $(cat "$out")" '^0 CapEff:.*[0-9a-f]{16}$' "--privileged: still works" || show_err
[ "$(grep -o '[0-9a-f]*$' "$out")" != 0000000000000000 ]
ok $? "  with capabilities"

kill "$TRACER"
wait "$TRACER" 2>/dev/null
cat "$T"/trace.* >"$T/trace"
# Each fill's pid 1: cloned without CLONE_NEWNS, then setns into the
# template and unshare of its copy.
fills=$(grep -c 'clone3(.*CLONE_NEWPID' "$T/trace")
[ "$fills" -ge 5 ]
ok $? "the trace holds the $fills fills" || diag_file "$T/trace"
is "$(grep 'clone3(.*CLONE_NEWPID' "$T/trace" | grep -c CLONE_NEWNS)" 0 \
    "  no pid 1 was cloned with CLONE_NEWNS (a copy of the host's tree)"
# (The last fill may be cut short by the pool's removal or the tracer's
# end: counted at least once per pool.)
entered=$(grep -cE '^setns\([0-9]+, CLONE_NEWNS\) += 0' "$T/trace")
copied=$(grep -cE '^unshare\(CLONE_NEWNS\) += 0' "$T/trace")
[ "$entered" -ge 5 ] && [ "$copied" -ge 5 ] && [ "$copied" -le "$entered" ]
ok $? "  each pool's pid 1s entered the template ($entered) and made their own copy ($copied)"
is "$(grep -cE '^(setns\([0-9]+, |unshare\()CLONE_NEWNS\) += -1' "$T/trace")" 0 \
    "  none failed to"

# ---- the next servers are given the template ------------------------------
# A server forks 32 shims, then its successor takes over: the daemon gives
# it the template the first one made (--mnt-template), which it does not
# make again.
wr pool create busybox --size 40 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 60 || diag "the pool of 40 did not fill"
srv2=$(server_of_state)
isnt "$srv2" "$srv" "after 32 fills another shim server serves"
like "$(tr '\0' ' ' <"/proc/$srv2/cmdline" | cut -c1-300)" ' --mnt-template ' \
    "  it was given the template"
is "$(for fd in /proc/"$srv2"/fd/*; do readlink "$fd"; done | grep '^mnt:' | sort -u)" "$template" \
    "  the one the first server made"
wr activate --no-cold busybox -- true
ok $? "  its fills work"
wr pool rm busybox >/dev/null 2>&1

wr network rm "$NET" >/dev/null 2>&1
stop_daemon
done_testing

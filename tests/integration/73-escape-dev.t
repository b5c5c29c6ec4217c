#!/bin/bash
# TAP test of what a container shares with the host through /dev and the
# per-user kernel counts:
#   - its device nodes are its own: chmod/chown of every /dev node inside
#     leaves every host /dev node (mode, owner, inode ctime) as it was;
#   - null, zero, full, random, urandom, tty work for every user mode;
#   - a node made with CAP_MKNOD cannot be opened, under /dev or elsewhere;
#   - its devpts instance holds at most 64 ptys (WR_DEVPTS_MAX);
#   - a --userns container's user namespace is owned by a uid of its own, so
#     it cannot take host root's (or another container's) inotify instances.
# Cold, --init, -u 1000, --userns auto, --read-only, --cap-drop ALL, and
# warm from pools. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env escape-dev

out=$T/out
err=$T/err
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/devprobe
PTY_MAX=64
OWNER_BASE=2000000000

add_helper_image devprobe "$PROBE" devprobe || bail_out "cannot write the devprobe image"

# Every host device node at the top of /dev (as the test starts: a node
# the host adds or removes meanwhile is none of its business): name, mode,
# owner, ctime, inode.
mapfile -t host_nodes < <(find /dev -maxdepth 1 \( -type c -o -type b \) | sort)
host_dev() {
    stat -c '%n %a %u:%g %z %i' "${host_nodes[@]}" 2>/dev/null
}
host_before=$(host_dev)
host_start=$host_before
host_changed() {
    diff <(echo "$host_before") <(host_dev) | grep '^[<>]' | head -n 8
}

# Harmless on a runtime that binds the host's nodes: every mode and owner
# is set to what it already is, which still moves the inode's ctime.
SAME='for f in $(find /dev ! -type l); do
          chmod "$(stat -c %a "$f")" "$f"; chown "$(stat -c %u:%g "$f")" "$f"
      done 2>/dev/null'
# Changes every mode and owner for real; run only once SAME showed that the
# nodes are the container's own.
REAL='for f in $(find /dev ! -type l ! -type d); do chmod 0 "$f"; chown 1:1 "$f"; done 2>/dev/null
      stat -c "%a %u:%g" /dev/null; rm -f /dev/* 2>/dev/null; ls /dev/null'
# The safe nodes, as every user must find them.
USE='stat -c "%n %A %u:%g %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty
     echo "read $(head -c 4 /dev/urandom | wc -c) $(head -c 4 /dev/random | wc -c) $(head -c 4 /dev/zero | wc -c)"
     echo x >/dev/null && echo "null ok"
     m=$( (echo x >/dev/full) 2>&1); case $m in *"No space left"*) echo "full ENOSPC";; *) echo "full $m";; esac
     m=$( (: </dev/tty) 2>&1); case $m in *"No such device or address"*) echo "tty ENXIO";; *) echo "tty $m";; esac
     awk '\''$2 == "/dev/pts" {print $3, $4}'\'' /proc/mounts
     /devprobe ptys '$((PTY_MAX + 36))
USE_EXPECTED="/dev/null crw-rw-rw- 0:0 1:3
/dev/zero crw-rw-rw- 0:0 1:5
/dev/full crw-rw-rw- 0:0 1:7
/dev/random crw-rw-rw- 0:0 1:8
/dev/urandom crw-rw-rw- 0:0 1:9
/dev/tty crw-rw-rw- 0:0 5:0
read 4 4 4
null ok
full ENOSPC
tty ENXIO"

# act_dev ARGS...: `activate ARGS`; with --no-cold, once the pool is full.
act_dev() {
    case " $* " in
    *" --no-cold "*) wait_pool_full devprobe:latest 30 || diag "pool not full before an activation" ;;
    esac
    wr activate "$@"
}

# run LABEL ACTIVATE-ARGS...: the checks above in containers started with
# `activate ARGS devprobe -- ...`.
run() {
    local label=$1 changed
    shift
    act_dev "$@" devprobe -- sh -c "$SAME; echo done" >"$out" 2>"$err"
    is "$(cat "$out")" done "$label: chmod/chown of every /dev node inside" || show_err
    changed=$(host_changed)
    is "$changed" "" "$label:   leaves every host /dev node's mode, owner and ctime as they were"
    if [ -z "$changed" ]; then
        act_dev "$@" devprobe -- sh -c "$REAL" >"$out" 2>"$err"
        case $label in
        *"-u 1000"*) expect="666 0:0" ;;       # not its nodes: both refused
        *"--cap-drop ALL"*) expect="0 0:0" ;; # its nodes, but no CAP_CHOWN
        *) expect="0 1:1" ;;
        esac
        is "$(sed -n 1p "$out")" "$expect" "$label:   chmod 0, chown 1:1 and rm of them take inside" || show_err
        is "$(sed -n 2p "$out")" /dev/null "$label:   the bound nodes cannot be removed"
        is "$(host_changed)" "" "$label:   and the host's nodes are still untouched"
    else
        diag "host nodes changed:"
        diag "$changed"
        ok 1 "$label:   (the real chmod/chown is not tried against the host's nodes)"
        host_before=$(host_dev)
    fi
    act_dev "$@" devprobe -- sh -c "$USE" >"$out" 2>"$err"
    is "$(head -n 10 "$out")" "$USE_EXPECTED" "$label: the six nodes are 0666 root-owned and work" ||
        show_err
    like "$(sed -n 11p "$out")" "^devpts .*[,]max=$PTY_MAX(,|$)" "$label: /dev/pts is a devpts instance with max=$PTY_MAX"
    is "$(sed -n 12p "$out")" "ptys $PTY_MAX ENOSPC" "$label:   of which $PTY_MAX ptys can be opened, no more"
}

# mknod_check LABEL ACTIVATE-ARGS...: root with Docker's capabilities
# (CAP_MKNOD) makes nodes, and none of them opens.
MKNOD='for d in /dev /dev/shm /tmp; do
           mknod $d/t73 c 1 3 && { (echo x >$d/t73) 2>/dev/null && echo "$d opened" || echo "$d refused"; }
       done'
mknod_check() {
    local label=$1
    shift
    act_dev "$@" devprobe -- sh -c "$MKNOD" >"$out" 2>"$err"
    is "$(cat "$out" | tr '\n' ' ')" "/dev refused /dev/shm refused /tmp refused " \
        "$label: mknod c 1 3 under /dev, /dev/shm, /tmp succeeds, opening it fails (nodev)" || show_err
}

# --- cold, in every user mode --------------------------------------------------
run "cold"
run "cold --init" --init
run "cold -u 1000" -u 1000
run "cold --userns auto" --userns auto
run "cold --read-only" --read-only
run "cold --cap-drop ALL" --cap-drop ALL
mknod_check "cold"
mknod_check "cold --init" --init

# --- warm, from pools ------------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
wr pool create devprobe --size 1 --wait >"$out" 2>"$err" || { show_err; bail_out "no pool"; }
run "warm" --no-cold
run "warm --init" --no-cold --init
mknod_check "warm" --no-cold

# --- per-user counts: inotify instances ---------------------------------------
limit=$(cat /proc/sys/fs/inotify/max_user_instances)
held=()
# hold NAME ACTIVATE-ARGS...: a container that opens inotify instances
# until it cannot (at most limit + 8) and keeps them.
hold() {
    local name=$1
    shift
    : >"$T/$name.out"
    act_dev "$@" devprobe -- /devprobe inotify-hold $((limit + 8)) >"$T/$name.out" 2>&1 &
    held+=($!)
    poll_until 20 grep -q '^inotify' "$T/$name.out" || diag_file "$T/$name.out"
}
release() {
    local p
    for p in $(our_pids_except_daemon); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = devprobe ] && kill -KILL "$p"
    done
    for p in "${held[@]}"; do wait_child "$p" 20; done
    held=()
}
probe_owners() {
    local p
    for p in $(our_pids_except_daemon); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = devprobe ] && "$PROBE" nsowner "/proc/$p/ns/user"
    done | sort -u
}
owner_ok() { # each line "nsowner UID" with UID a namespace owner's, not root
    local n uid
    while read -r n uid; do
        [ "$n" = nsowner ] && [ "$uid" -ge "$OWNER_BASE" ] 2>/dev/null || return 1
    done
}

hold cold-userns --userns auto
is "$(cat "$T/cold-userns.out")" "inotify $limit EMFILE" \
    "cold --userns auto: the container opens fs.inotify.max_user_instances ($limit) inotify instances, then EMFILE"
is "$("$PROBE" inotify 1)" "inotify 1 OK" "  while it holds them, host root can still inotify_init"
owners=$(probe_owners)
owner_ok <<<"$owners" && [ -n "$owners" ]
ok $? "  its user namespace is owned by a uid of its own (>= $OWNER_BASE), not host root" || diag "$owners"
release

wr pool rm devprobe >/dev/null 2>&1
wr pool create devprobe --size 2 --userns auto --wait >"$out" 2>"$err" ||
    { show_err; bail_out "no --userns pool"; }
run "warm --userns auto" --no-cold
wait_pool_full devprobe:latest 30 || diag "the --userns pool did not refill"
hold warm-a --no-cold
hold warm-b --no-cold
is "$(cat "$T/warm-a.out")" "inotify $limit EMFILE" "warm --userns auto: a container takes its $limit inotify instances"
is "$(cat "$T/warm-b.out")" "inotify $limit EMFILE" "  and a second one of the same pool still gets $limit of its own"
is "$("$PROBE" inotify 1)" "inotify 1 OK" "  host root can still inotify_init"
owners=$(probe_owners)
is "$(wc -l <<<"$owners")" 2 "  the two namespaces have different owners" || diag "$owners"
owner_ok <<<"$owners"
ok $? "  neither is host root" || diag "$owners"
release
wr pool rm devprobe >/dev/null 2>&1

# --- --userns ranges may not take the owners' uids ------------------------------
wr activate --userns $((OWNER_BASE + 100)):10 devprobe -- true >"$out" 2>"$err"
is "$?" 2 "--userns over the namespace owners' uids is a usage error"
like "$(cat "$err")" 'overlaps the namespace owners' "  saying so"

stop_daemon
is "$(diff <(echo "$host_start") <(host_dev) | grep '^[<>]' | head -n 8)" "" \
    "no host /dev node changed during the whole test"
done_testing

#!/bin/bash
# TAP test: the mount template's last gaps (docs/security.md, "The mount
# template"), and two newcomer messages. Run in a mount namespace of its
# own, where the test mounts the store's file system freely:
# - a daemon whose store (--root) is given through "..", through a
#   symbolic link, or with "." and a trailing slash: its fills copy the
#   template (their pid 1s setns into it: strace on the shim server) and
#   their containers hold the image's files (fails on the code before for
#   "..": the template left the store out, every fill took the full copy);
# - the store on a file system of its own: after its last pool is
#   removed, that file system unmounts while the daemon runs (fails on the
#   code before: EBUSY, the daemon and its server held the template, which
#   binds the store); remounted, a new pool fills from a fresh template;
#   five pool create/rm cycles leave the daemon no more descriptors;
# - `warmrun image ...` errors read as the command typed (`warmrun
#   image: ...`), not `warmrun-image: ...`; on a store without the image,
#   `activate busybox` and `pool create busybox` say in one line to run
#   `warmrun image build-busybox`, with their documented exit codes.
# Needs root, busybox-static, strace and unshare.
. "$(dirname "$0")/lib.sh"
in_private_mount_ns WR_TEMPLATE_PATHS_NS "$@"
setup_env tplpaths
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
out=$T/out
err=$T/err
MARK=template-paths-$$
echo "$MARK" >"$LAYER/wr-marker"

# use_root ROOT: the CLI's and the daemon's store is ROOT from now on.
use_root() {
    WR=("$WARMRUN_BIN_DIR/warmrun" --root "$1" --state-dir "$STATE" --socket "$SOCK")
}

# trace_start PID: every setns/unshare of PID and its descendants, one
# file per process, in $T/trace.*; trace_stop: the count of pid 1s that
# entered a mount template (setns(N, CLONE_NEWNS) succeeded).
trace_start() {
    rm -f "$T"/trace.*
    strace -ff -qq -o "$T/trace" -e trace=setns,unshare -p "$1" 2>"$T/strace.err" &
    TRACER=$!
    poll_until 10 traced "$1" || diag "strace did not attach: $(head -c 200 "$T/strace.err")"
}
trace_stop() {
    kill "$TRACER" 2>/dev/null
    wait "$TRACER" 2>/dev/null
    cat "$T"/trace.* 2>/dev/null | grep -cE '^setns\([0-9]+, CLONE_NEWNS\) += 0'
}
# traced_pool PID WHAT: a pool of 2 filled with PID traced: its pid 1s
# entered a template (WHAT), and a container has the image's files.
# (Created at size 0 first, untraced: the seccomp profile's compiler, a
# child of the daemon, must not run under strace, where a sanitizer's
# leak check cannot; the resize to 2 fills it.)
traced_pool() {
    wr pool create busybox --size 0 >"$out" 2>"$err" || show_err
    trace_start "$1"
    wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err" || show_err
    local entered
    entered=$(trace_stop)
    [ "$entered" -ge 2 ]
    ok $? "$2 ($entered)"
    wr activate --no-cold busybox -- cat /wr-marker >"$out" 2>"$err"
    is "$?:$(cat "$out")" "0:$MARK" "  a container has the image's files" || show_err
    wr pool rm busybox >/dev/null 2>&1
}

# ---- 1. the store given through "..", a symbolic link, "." and "/" --------
mkdir "$T/sub"
ln -s "$STORE" "$T/store-link"
for root in "$T/sub/../store" "$T/store-link" "$T/./store/"; do
    use_root "$root"
    start_daemon || bail_out "the daemon did not start with --root $root"
    srv=$(server_of_state)
    [ -n "$srv" ] || bail_out "no shim server"
    traced_pool "$srv" "--root $root: the fills' pid 1s entered the mount template"
    stop_daemon
done

# ---- the symbolic link re-pointed while a template is kept -------------------
# A pool of busybox:two keeps the template (made with the link's first
# target); the link then points to a copy of the store whose layer has
# another marker: a new pool's containers have the copy's files.
timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" build-busybox --tag two \
    >"$out" 2>&1 || bail_out "cannot build busybox:two"
use_root "$T/store-link"
start_daemon || bail_out "the daemon did not start"
wr pool create busybox:two --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
cp -a "$STORE" "$T/store2" || bail_out "cannot copy the store"
echo "$MARK-2" >"$T/store2/${LAYER#"$STORE"/}/wr-marker"
ln -sfn "$T/store2" "$T/store-link"
wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
wr activate --no-cold busybox -- cat /wr-marker >"$out" 2>"$err"
is "$?:$(cat "$out")" "0:$MARK-2" "a store link re-pointed: new fills have the new target's files" ||
    show_err
wr pool rm busybox >/dev/null 2>&1
wr pool rm busybox:two >/dev/null 2>&1
stop_daemon
use_root "$STORE"

# ---- 2. no template while no pool exists ---------------------------------------
# The store on a file system of its own: an ext4 image on a loop device
# (released, autoclear, when its last mount goes), whose superblock shows
# in /sys/fs/ext4/ while any mount of it exists, in any namespace (a
# template's bind, umount of the test's own mount notwithstanding).
command -v mkfs.ext4 >/dev/null 2>&1 || bail_out "mkfs.ext4 is not installed"
FS=$T/fs
mkdir "$FS"
truncate -s 96M "$T/fs.img" && mkfs.ext4 -q -F "$T/fs.img" >/dev/null 2>&1 ||
    bail_out "cannot make an ext4 image"
mount_fs() {
    mount -o loop "$T/fs.img" "$FS" || bail_out "cannot mount $T/fs.img on $FS"
    DEV=$(findmnt -n -o SOURCE "$FS")
    DEV=${DEV#/dev/}
}
fs_alive() { [ -d "/sys/fs/ext4/$DEV" ]; }
fs_released() { ! fs_alive; }
mount_fs
timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$FS/store" build-busybox \
    >"$out" 2>&1 || bail_out "cannot build busybox into $FS/store"
echo "$MARK" >"$(echo "$FS"/store/layers/sha256/*/root)/wr-marker"
use_root "$FS/store"
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err" || show_err
wr activate --no-cold busybox -- cat /wr-marker >"$out" 2>"$err"
is "$?:$(cat "$out")" "0:$MARK" "a pool on a store of its own file system ($DEV)" || show_err
wr pool rm busybox >"$out" 2>"$err" || show_err
unmounted() { umount "$FS" 2>"$T/umount.err"; }
poll_until 10 unmounted
ok $? "  its last pool removed, the store's file system unmounts" || diag_file "$T/umount.err"
poll_until 10 fs_released
ok $? "  and is released: no mount of it is left anywhere (no template)" ||
    diag "the daemon holds $(ls -l "/proc/$DAEMON_PID/fd" | grep -c 'mnt:') mount namespaces"
pid_alive "$DAEMON_PID"
ok $? "  while the daemon runs"

mount_fs
traced_pool "$DAEMON_PID" "remounted: a new pool's fills enter a fresh template"

# Five create/rm cycles: the daemon's descriptors, counted once no pool
# is left (and its server let go), do not grow.
fds_after=()
for i in 1 2 3 4 5; do
    wr pool create busybox --size 2 --wait --timeout 60 >"$out" 2>"$err" || show_err
    wr pool rm busybox >"$out" 2>"$err" || show_err
    poll_until 10 eval '[ -z "$(server_of_state)" ]' || diag "cycle $i: a shim server is left"
    fds_after+=("$(ls "/proc/$DAEMON_PID/fd" | wc -l)")
done
is "${fds_after[4]}" "${fds_after[0]}" "five pool create/rm cycles: as many daemon descriptors (${fds_after[*]})"
stop_daemon
poll_until 10 unmounted
ok $? "the store's file system unmounts after the daemon stopped"
poll_until 10 fs_released
ok $? "  and is released"
use_root "$STORE"

# ---- 3. newcomer messages ----------------------------------------------------------
# one_line WHAT RC RE: the last command exited RC with one line on stderr
# matching RE, and nothing on stdout.
one_line() {
    is "$RC $(wc -l <"$err") $(wc -c <"$out")" "$2 1 0" "$1: exit $2, one line on stderr" ||
        diag_file "$err"
    like "$(cat "$err")" "$3" "  $(head -c 120 "$err")"
}
for args in "" "ls --bogus" "no-such-command" "inspect nosuch" "import $T/nowhere"; do
    # shellcheck disable=SC2086 # the arguments, split
    wr image $args >"$out" 2>"$err"
    RC=$?
    case "$args" in "" | "ls --bogus" | no-such-command) want=2 ;; *) want=1 ;; esac
    one_line "warmrun image $args" "$want" '^warmrun image: '
done

# A store without any image yet.
FRESH=$T/fresh-store
use_root "$FRESH"
timeout -k 10 60 "$WARMRUN_BIN_DIR/warmrun" --root "$FRESH" --state-dir "$T/fresh-state" \
    activate busybox -- true >"$out" 2>"$err"
RC=$?
one_line "a cold activate on a store without busybox" 125 \
    "^warmrun: image \"busybox\" not found .*warmrun --root $FRESH image build-busybox\$"
start_daemon || bail_out "the daemon did not start"
wr activate busybox -- true >"$out" 2>"$err"
RC=$?
one_line "an activate through the daemon" 125 "not found .*image build-busybox\$"
wr pool create busybox --size 1 >"$out" 2>"$err"
RC=$?
one_line "pool create busybox on a store without it" 1 \
    "^warmrun: image \"busybox:latest\" not found .*warmrun --root $FRESH image build-busybox\$"
wr pool create busybox:v2 --size 1 >"$out" 2>"$err"
RC=$?
one_line "  another tag" 1 "image build-busybox --tag v2\$"
wr pool create other:1 --size 1 >"$out" 2>"$err"
RC=$?
one_line "  another image" 1 "image import PATH --name other:1\$"
stop_daemon
use_root "$STORE"

done_testing

#!/bin/bash
# TAP test: a fill's pid 1 copies the shim server's small mount template,
# not the host's whole tree (docs/security.md, "The mount template";
# docs/benchmarks.md, "A small mount tree to copy"). Run in a mount
# namespace of its own, where the test adds host mounts freely:
# - the mounts pid 1 has when it calls pivot_root (strace on the shim
#   server stops it there) are as many with EXTRA more host mounts as
#   without (fails on the code before: pid 1 cloned a copy of them all);
# - the container's mountinfo is, but for ids and device numbers, the one
#   of a container of today's full copy (a daemon without its shim server,
#   whose shims are spawned), and names none of the extra mounts;
# - the store moved onto a mount of its own after the template was made
#   (a stale template): a new fill sees the new store's files, not the old
#   ones (the fill falls back to the full copy);
# - a volume whose source is mounted after the daemon started shows that
#   mount (volumes keep the full copy).
# Needs root, busybox-static, strace and unshare.
. "$(dirname "$0")/lib.sh"
in_private_mount_ns WR_MNT_TEMPLATE_NS "$@"
setup_env mnttpl
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"
out=$T/out
err=$T/err
EXTRA=120

# The pid 1 the tracer stopped right after its pivot_root, before it
# detached the old root: every mount its namespace was given is still
# there (the old root stacked on the new one).
stopped_init() {
    INIT=$(awk '/stopped by SIGSTOP/ {print $1; exit}' "$T/trace" 2>/dev/null)
    [ -n "$INIT" ]
}

# pre_pivot_mounts: fills a pool of 1 with pid 1 stopped at its
# pivot_root; prints how many mounts its namespace holds then.
pre_pivot_mounts() {
    local srv n tracer
    srv=$(server_of_state)
    [ -n "$srv" ] || {
        diag "no shim server"
        return 1
    }
    : >"$T/trace"
    strace -f -qq -o "$T/trace" -e trace=pivot_root -e inject=pivot_root:signal=SIGSTOP \
        -p "$srv" 2>"$T/strace.err" &
    tracer=$!
    poll_until 10 traced "$srv" || {
        diag "strace did not attach: $(head -c 200 "$T/strace.err")"
        kill "$tracer"
        return 1
    }
    wr pool create busybox --size 1 >"$out" 2>"$err" || show_err
    INIT=
    poll_until 30 stopped_init || diag "no pid 1 stopped at its pivot_root: $(head -c 300 "$T/trace")"
    n=$([ -n "$INIT" ] && wc -l <"/proc/$INIT/mountinfo")
    kill "$tracer"
    wait "$tracer" 2>/dev/null
    [ -n "$INIT" ] && kill -CONT "$INIT"
    wait_pool_full busybox:latest 30 || diag "the pool did not fill"
    echo "${n:-0}"
}

# The container's mountinfo without what differs per container (mount
# ids, device numbers).
container_mounts() {
    wr activate --no-cold busybox -- cat /proc/self/mountinfo >"$out" 2>"$err" || show_err
    awk '{$1 = $2 = $3 = ""; print}' "$out"
}

# ---- the template's size does not follow the host's -----------------------
start_daemon || bail_out "the daemon did not start"
n0=$(pre_pivot_mounts)
[ "$n0" -gt 0 ]
ok $? "pid 1 stopped at its pivot_root ($n0 mounts)"
container_mounts >"$T/template.0"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

mkdir -p "$T/extra"
for i in $(seq "$EXTRA"); do
    mkdir "$T/extra/$i" && mount -t tmpfs -o size=64k "extra$i" "$T/extra/$i" ||
        bail_out "cannot mount $T/extra/$i"
done
start_daemon || bail_out "the daemon did not start"
n1=$(pre_pivot_mounts)
is "$n1" "$n0" "with $EXTRA more host mounts, pid 1 has as many mounts before its pivot_root"
[ "$n1" -lt "$EXTRA" ]
ok $? "  fewer than the extra host mounts alone ($n1 < $EXTRA)"

container_mounts >"$T/template"
is "$(grep -c -- "$T/extra" "$out")" 0 "the container's mountinfo names no host mount" ||
    diag_file "$out"
is "$(cat "$T/template")" "$(cat "$T/template.0")" "  the same as with fewer host mounts"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

# ---- the same mounts as today's full copy --------------------------------
WARMRUN_SHIM_SERVER=off start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
container_mounts >"$T/full"
[ -s "$T/full" ]
ok $? "a container of the full copy (spawned shim) lists its mounts"
is "$(diff "$T/full" "$T/template")" "" "  the template's container has the same mounts and options"
wr pool rm busybox >/dev/null 2>&1
stop_daemon

# ---- a stale template: the store on a mount of its own since ---------------
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
wr activate --no-cold busybox -- cat /moved >"$out" 2>&1
isnt "$(cat "$out")" "moved-store" "before: the image has no /moved"
wr pool rm busybox >/dev/null 2>&1
mkdir "$T/newstore"
mount -t tmpfs -o size=64m newstore "$T/newstore" || bail_out "cannot mount the new store"
cp -a "$STORE/." "$T/newstore/" || bail_out "cannot copy the store"
echo moved-store >"$T/newstore/${LAYER#"$STORE"/}/moved"
mount --bind "$T/newstore" "$STORE" || bail_out "cannot bind the new store"
wr pool create busybox --size 1 >/dev/null 2>&1 || diag "pool create failed"
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
wr activate --no-cold busybox -- cat /moved >"$out" 2>"$err"
is "$(cat "$out")" "moved-store" "a fill after the store moved sees the new store's files" ||
    show_err
wr pool rm busybox >/dev/null 2>&1

# ---- a volume source mounted after the daemon started ---------------------
mkdir "$T/vol"
mount -t tmpfs -o size=1m vol "$T/vol" || bail_out "cannot mount the volume source"
echo late-mount >"$T/vol/marker"
wr pool create busybox --size 1 --volume "$T/vol:/data" >"$out" 2>"$err" || show_err
wait_pool_full busybox:latest 30 || diag "the pool did not fill"
wr activate --no-cold busybox -- cat /data/marker >"$out" 2>"$err"
is "$(cat "$out")" "late-mount" "a volume whose source was mounted after the daemon started" ||
    show_err
wr pool rm busybox >/dev/null 2>&1
stop_daemon
umount "$STORE" "$T/newstore" "$T/vol" "$T"/extra/*

done_testing

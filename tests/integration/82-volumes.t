#!/bin/bash
# TAP test of volumes (issue 12, build item 1), Docker's syntax and
# semantics, warm (a pool's setting) and cold (activate's options):
#  - a bind mount, read-write: a file written inside is on the host, as
#    root and as uid 1000; nosuid and nodev;
#  - a bind mount, read-only: a write fails with EROFS (the remount took);
#  - a tmpfs: its size enforced (ENOSPC past it), its mode, noexec;
#  - targets behind the image's symbolic links, absolute and "../.." ones
#    pointing out of the root: kept inside it (nothing made or mounted on
#    the host); one into /proc is refused;
#  - a missing bind source: a one-line error before anything is created,
#    nothing left behind (no pool, no process, no record);
#  - a pool with volumes serves many activations; no mount of the test's is
#    left on the host afterwards.
. "$(dirname "$0")/lib.sh"
setup_env volumes

out=$T/out
err=$T/err
SRC=$T/src
mkdir -p "$SRC" && chmod 0777 "$SRC" && echo hello >"$SRC/f" || bail_out "cannot make $SRC"
OUT_ABS=/tmp/wr-vol-abs-$$
OUT_REL=/tmp/wr-vol-rel-$$
# An image whose /abs and /rel lead out of its root if followed on the host.
add_layer_image links '{"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"], "WorkingDir": "/"}' \
    "mkdir etc; ln -s $OUT_ABS abs; ln -s ../../../../../../..$OUT_REL rel; ln -s /proc/sys lp" ||
    bail_out "cannot write the image"
host_mounts_of_test() { host_mountinfo | grep -c -F -- "$T"; }
mounts_before=$(host_mounts_of_test)

start_daemon || bail_out "the daemon did not start"
VOLS=(-v "$SRC:/data" --mount "type=bind,source=$SRC,target=/ro,readonly"
    --tmpfs /tmp/t:size=1m,mode=700 --mount type=tmpfs,target=/scratch)
wr pool create busybox --size 1 "${VOLS[@]}" >"$out" 2>"$err"
is "$?" 0 "pool create with -v, --mount (bind, tmpfs) and --tmpfs" ||
    { show_err; bail_out "no pool with volumes: nothing else can be tested"; }
wr pool create links --size 1 --volume "$SRC:/abs/in" --volume "$SRC:/rel/in" >"$out" 2>"$err"
is "$?" 0 "pool create with targets behind the image's links" || show_err

# run MODE [ACTIVATE OPTIONS...] -- ARGS...: warm (the pool's volumes) or
# cold (the same volumes as activate options); output in $out, $err.
run() {
    local mode=$1 img=busybox
    shift
    local opts=()
    while [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    if [ "$mode" = warm ]; then
        wait_pool_full "${1}:latest" 30 || diag "pool $1 not full"
        wr activate --no-cold "${opts[@]}" "$@" >"$out" 2>"$err"
    else
        local cold=(--volume "$SRC:/data" --mount "type=bind,source=$SRC,target=/ro,readonly"
            --tmpfs /tmp/t:size=1m,mode=700 --mount type=tmpfs,target=/scratch)
        [ "$1" = links ] && cold=(--volume "$SRC:/abs/in" --volume "$SRC:/rel/in")
        wr activate --cold "${cold[@]}" "${opts[@]}" "$@" >"$out" 2>"$err"
    fi
    rc=$?
}

for mode in warm cold; do
    for user in 0 1000; do
        m="$mode uid $user"
        u=()
        [ $user = 1000 ] && u=(-u 1000)
        [ $mode = warm ] && [ $user = 1000 ] && continue # pools are per image: cold covers it
        rm -f "$SRC/new-$mode-$user"
        run $mode "${u[@]}" -- busybox sh -c "cat /data/f; echo written >/data/new-$mode-$user"
        is "$rc" 0 "$m: bind rw: exit 0" || show_err
        is "$(cat "$out")" hello "$m: bind rw: the host's file is read inside" || show_err
        is "$(cat "$SRC/new-$mode-$user" 2>/dev/null)" written "$m: bind rw: written inside, seen on the host"
        [ $user = 1000 ] && is "$(stat -c %u "$SRC/new-$mode-$user" 2>/dev/null)" 1000 \
            "$m: owned by uid 1000 on the host"
    done
    run $mode -- busybox sh -c 'echo x >/ro/x'
    isnt "$rc" 0 "$mode: bind ro: a write fails"
    like "$(cat "$err")" 'Read-only file system' "$mode: with EROFS" || show_err
    [ ! -e "$SRC/x" ]
    ok $? "$mode: bind ro: nothing written on the host"
    run $mode -- busybox sh -c 'grep -E " /(data|ro) " /proc/self/mountinfo'
    like "$(grep ' /data ' "$out")" ' rw,nosuid,nodev' "$mode: bind rw is nosuid,nodev" || show_err
    like "$(grep ' /ro ' "$out")" ' ro,nosuid,nodev' "$mode: bind ro is ro,nosuid,nodev" || show_err
    run $mode -- busybox sh -c 'stat -c %a /tmp/t /scratch; dd if=/dev/zero of=/tmp/t/big bs=64k count=32'
    is "$(head -2 "$out")" $'700\n1777' "$mode: tmpfs modes: mode=700, and Docker's 1777 by default"
    like "$(cat "$err")" 'No space left on device' "$mode: tmpfs size=1m: ENOSPC past 1 MiB" ||
        show_err
    run $mode -- busybox sh -c 'cp /bin/busybox /scratch/bb && /scratch/bb true'
    isnt "$rc" 0 "$mode: tmpfs is noexec" || show_err
    # Behind the image's links: inside the root, never the host's.
    run $mode -- links sh -c "cat $OUT_ABS/in/f $OUT_REL/in/f"
    is "$(cat "$out")" $'hello\nhello' "$mode: targets behind absolute and ../ links land inside the root" ||
        show_err
    [ ! -e "$OUT_ABS" ] && [ ! -e "$OUT_REL" ]
    ok $? "$mode: nothing made on the host where the links point"
done

# A target through a link into /proc: refused (cold: 125, one line).
wr activate --cold --tmpfs /lp/kernel links true >"$out" 2>"$err"
is "$?" 125 "a volume target through a link into /proc is refused (125)" || show_err
like "$(cat "$err")" '/proc or /sys' "and says why" || show_err

# With --read-only: the missing target is made before the root turns
# read-only; the volume keeps its own rw; the root and the runtime's /etc
# files are as without volumes.
wr activate --cold --read-only --volume "$SRC:/made/here" busybox \
    sh -c 'echo ro-root >/made/here/ro-root; touch /x; grep -w localhost /etc/hosts' >"$out" 2>"$err"
is "$(cat "$SRC/ro-root" 2>/dev/null)" ro-root "--read-only: a volume at a target it made stays writable"
like "$(cat "$err")" "/x: Read-only file system" "--read-only: the root is not" ||
    show_err
like "$(cat "$out")" 'localhost' "--read-only: the runtime's /etc/hosts is still there" || show_err

# ---- a missing bind source -------------------------------------------------------------
records() { ls "$STATE/containers" 2>/dev/null | wc -l; }
before=$(records)
wr pool create missing --size 1 -v "$T/nonexistent:/x" >"$out" 2>"$err"
is "$?" 1 "pool create with a missing bind source: exit 1"
is "$(wc -l <"$err")" 1 "one line" || show_err
like "$(cat "$err")" "bind source path $T/nonexistent does not exist" "naming the path" || show_err
is "$(wr pool ls | grep -c '^missing')" 0 "no pool was created"
wr activate --cold --mount "type=bind,source=$T/nonexistent,target=/x" busybox true >"$out" 2>"$err"
is "$?" 125 "activate --cold with a missing bind source: exit 125"
like "$(cat "$err")" 'does not exist' "with the reason" || show_err
is "$(records)" "$before" "no container record left"
[ ! -e "$T/nonexistent" ]
ok $? "the source was not created"
wr activate --cold -u 0 --volume relative:/x busybox true >"$out" 2>"$err"
is "$?" 2 "a relative source (a named volume) is a usage error (2)" || show_err
wr activate --cold --volume "$SRC:/x" --tmpfs /x busybox true >"$out" 2>"$err"
is "$?" 2 "two volumes on one target: a usage error (2)" || show_err

# ---- many activations, then nothing left -------------------------------------------------
okn=0
for i in $(seq 1 40); do
    wait_pool_full busybox:latest 30 || diag "pool not full"
    wr activate --no-cold busybox sh -c "echo $i >/data/many-$i" >"$out" 2>"$err" &&
        [ "$(cat "$SRC/many-$i" 2>/dev/null)" = "$i" ] && okn=$((okn + 1))
done
is "$okn" 40 "the pool served 40 activations, each wrote through its bind"
is "$(pool_field busybox:latest failures)" 0 "with no failed fill"

# Volumes are a pool setting: a daemon started after a crash restores them.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon || bail_out "the daemon did not start again"
wait_pool_full busybox:latest 30 || diag "pool not refilled"
wr activate --no-cold busybox sh -c 'echo again >/data/again; grep " /ro " /proc/self/mountinfo' \
    >"$out" 2>"$err"
is "$(cat "$SRC/again" 2>/dev/null)" again "after a daemon crash: the restored pool's bind rw" ||
    show_err
like "$(cat "$out")" ' ro,nosuid,nodev' "and its bind ro" || show_err
stop_daemon
poll_until 10 no_container_pids
ok $? "no container left"
is "$(host_mounts_of_test)" "$mounts_before" "no mount of the test's left on the host"
[ ! -e "$OUT_ABS" ] && [ ! -e "$OUT_REL" ]
ok $? "nothing made on the host where the links point"
done_testing

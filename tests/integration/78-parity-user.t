#!/bin/bash
# TAP test of the workload's user setup, working directory and signal state
# against `docker run` (issue 12, faults A, B and E), warm (from a pool),
# cold and the daemon's cold fallback, root and non-root, and in a user
# namespace:
#  - HOME from the user's entry in the image's /etc/passwd (/home/app for
#    the image's `User app` or -u 1000, /nonexistent for -u nobody, / for a
#    uid without an entry, /root for root); `-e HOME=x` and the image's Env
#    win; an empty `-e HOME=` counts as unset;
#  - a non-root workload reopens its own stdio (`echo x > /dev/stdout`);
#  - `-w` or a WorkingDir that is a symlink to a missing directory is made
#    through the link, inside the root (absolute and relative targets); a
#    link to a magic link is still refused (126);
#  - SigIgn and SigBlk of the workload are 0 (signals 32 and 33 included),
#    with and without --init.
. "$(dirname "$0")/lib.sh"
setup_env parity-user

out=$T/out
err=$T/err

# One layer over busybox's: an account database, /home/app, and links to
# missing directories (absolute, relative, and into /proc).
bb=$(basename "$(dirname "$LAYER")")
hex=$(printf 'parity-user-%s' "$$" | sha256sum | cut -c1-64)
L=$STORE/layers/sha256/$hex/root
mkdir -p "$L/etc" "$L/home/app" "$L/var/lib" || bail_out "cannot write the layer"
cat >"$L/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$L/etc/group"
chown 1000:1000 "$L/home/app"
ln -s /var/lib/tempest "$L/tempest"
ln -s ../var/rel "$L/var/relink"
ln -s /proc/self/fd/3 "$L/esc"

# image NAME USER WORKDIR ENV_JSON: "NAME:latest" with that layer.
image() {
    mkdir -p "$STORE/images/$1" || return 1
    cat >"$STORE/images/$1/latest.json" <<JSON
{"schema": 1, "name": "$1", "tag": "latest", "id": "sha256:$hex",
 "created": "2026-01-01T00:00:00Z", "layers": ["sha256:$bb", "sha256:$hex"],
 "config": {"Entrypoint": null, "Cmd": ["sh"],
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"$4],
            "WorkingDir": "$3", "User": "$2"}}
JSON
}
for n in app app0; do image $n app /tempest ""; done
for n in base base0 nob u4242 uns; do image $n "" / ""; done
image envhome app / ', "HOME=/img-home"'

# What each activation prints: HOME, the working directory, the uid, an
# "x" written through a reopened stdout; a second activation runs grep as
# the workload itself (not under sh: busybox sh ignores SIGQUIT) to read its
# signal mask and ignored set.
PROBE='echo "$HOME"; pwd; id -u; echo x >/dev/stdout; echo x2 >/proc/self/fd/2 2>&1'
SIGS=$'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000'

# warm_wait ACTIVATE_ARGS...: with --no-cold, waits for the pool of the
# image (the last argument) to be full.
warm_wait() {
    [ "$1" = --no-cold ] || return 0
    wait_pool_full "${*: -1}:latest" 30 || diag "pool ${*: -1} not full before an activation"
}

# check NAME WANT_HOME WANT_PWD WANT_UID ACTIVATE_ARGS...
# (In a user namespace the stdio is handed over by the host side: 81 has more.)
check() {
    local name=$1 home=$2 pwd=$3 uid=$4 probe=$PROBE
    shift 4
    warm_wait "$@"
    wr activate "$@" sh -c "$probe" >"$out" 2>"$err"
    rc=$?
    is "$rc" 0 "$name: exit 0" || show_err
    is "$(cat "$out")" "$home"$'\n'"$pwd"$'\n'"$uid"$'\nx' \
        "$name: HOME=$home, pwd $pwd, uid $uid, stdout reopened" || show_err
    grep -qx x2 "$err"
    ok $? "$name: stderr reopened through /proc/self/fd/2" || show_err
    warm_wait "$@"
    wr activate "$@" grep -E '^Sig(Blk|Ign)' /proc/self/status >"$out" 2>"$err"
    is "$(cat "$out")" "$SIGS" "$name: no signal blocked or ignored (32 and 33 included)" ||
        show_err
}

start_daemon || bail_out "the daemon did not start"
pools_ok=1
wr pool create app --size 1 >"$out" 2>"$err" || pools_ok=0
wr pool create base --size 1 >>"$out" 2>>"$err" || pools_ok=0
wr pool create nob --size 1 -u nobody >>"$out" 2>>"$err" || pools_ok=0
wr pool create u4242 --size 1 -u 4242 >>"$out" 2>>"$err" || pools_ok=0
wr pool create uns --size 1 -u 1000 --userns auto >>"$out" 2>>"$err" || pools_ok=0
wr pool create envhome --size 1 >>"$out" 2>>"$err" || pools_ok=0
wr pool create app0 --size 0 >>"$out" 2>>"$err" || pools_ok=0
wr pool create base0 --size 0 >>"$out" 2>>"$err" || pools_ok=0
[ "$pools_ok" -eq 1 ] || { show_err; bail_out "cannot create the pools"; }
for p in app base nob u4242 uns envhome; do
    wait_pool_full "$p:latest" 60 || diag "pool $p not full"
done

# ---- warm ---------------------------------------------------------------------
W=(--no-cold)
check "warm image User app" /home/app /var/lib/tempest 1000 "${W[@]}" app
check "warm image User app --init" /home/app /var/lib/tempest 1000 "${W[@]}" --init app
check "warm root" /root / 0 "${W[@]}" base
check "warm root --init" /root / 0 "${W[@]}" --init base
check "warm -u nobody" /nonexistent / 65534 "${W[@]}" nob
check "warm -u 4242 (no entry)" / / 4242 "${W[@]}" u4242
check "warm -u 1000 --userns auto" /home/app / 1000 "${W[@]}" uns
check "warm -e HOME=/x" /x / 0 "${W[@]}" -e HOME=/x base
check "warm -e HOME= (unset)" /root / 0 "${W[@]}" -e HOME= base
check "warm image Env HOME" /img-home / 1000 "${W[@]}" envhome
check "warm -e HOME= over the image's Env HOME" /home/app / 1000 "${W[@]}" -e HOME= envhome
check "warm -w /tempest" /root /var/lib/tempest 0 "${W[@]}" -w /tempest base
check "warm -w /var/relink/sub (relative link)" /root /var/rel/sub 0 "${W[@]}" -w /var/relink/sub base

# ---- cold ---------------------------------------------------------------------
C=(--cold)
check "cold image User app" /home/app /var/lib/tempest 1000 "${C[@]}" app
check "cold image User app --init" /home/app /var/lib/tempest 1000 "${C[@]}" --init app
check "cold root" /root / 0 "${C[@]}" base
check "cold -u nobody" /nonexistent / 65534 "${C[@]}" -u nobody base
check "cold -u nobody --init" /nonexistent / 65534 "${C[@]}" -u nobody --init base
check "cold -u 1000" /home/app / 1000 "${C[@]}" -u 1000 base
check "cold -u 4242 (no entry)" / / 4242 "${C[@]}" -u 4242 base
check "cold -u nobody --userns auto" /nonexistent / 65534 "${C[@]}" -u nobody --userns auto base
check "cold root --userns auto" /root / 0 "${C[@]}" --userns auto base
check "cold -e HOME=/x -u nobody" /x / 65534 "${C[@]}" -e HOME=/x -u nobody base
check "cold -e HOME= -u app" /home/app / 1000 "${C[@]}" -e HOME= -u app base
check "cold -w /tempest -u nobody" /nonexistent /var/lib/tempest 65534 "${C[@]}" -w /tempest -u nobody base

# ---- the daemon's cold fallback (pools of none) -------------------------------
check "cold fallback image User app" /home/app /var/lib/tempest 1000 -v app0
check "cold fallback root --init" /root / 0 -v --init base0
check "cold fallback -w /tempest" /root /var/lib/tempest 0 -v -w /tempest base0
grep -q 'cold' "$err"
ok $? "the fallback was cold (activate -v)" || show_err

# ---- still inside the root, still no magic link -------------------------------
for m in warm cold; do
    o=--no-cold
    [ $m = cold ] && o=--cold
    warm_wait $o base
    wr activate $o -w /esc/x base pwd >"$out" 2>"$err"
    is "$?" 126 "$m: -w through a link to /proc/self/fd/3 is refused (126)" || show_err
    warm_wait $o base
    wr activate $o -w /esc base pwd >"$out" 2>"$err"
    is "$?" 126 "$m: -w a link to /proc/self/fd/3 is refused (126)" || show_err
done
[ ! -e /var/lib/tempest ] && [ ! -e /var/rel ]
ok $? "nothing made on the host's side of the links"

stop_daemon
done_testing

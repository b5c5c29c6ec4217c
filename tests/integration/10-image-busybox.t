#!/bin/bash
# TAP test of `warmrun-image build-busybox` and `ls` against temporary
# stores. Needs Debian's busybox-static; runs as root or not.
# WARMRUN_BIN_DIR points at the binaries (default bin/, from the repo root).
set -u

BIN_DIR=${WARMRUN_BIN_DIR:-bin}
IMG=$BIN_DIR/warmrun-image
[ -x "$IMG" ] || { echo "Bail out! $IMG is not built"; exit 1; }
IMG=$(cd "$(dirname "$IMG")" && pwd)/$(basename "$IMG") # some tests change directory

if ! [ -x /bin/busybox ]; then
    echo "1..0 # SKIP busybox-static is not installed"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wr-image-busybox.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
store=$tmp/store

n=0
failed=0
# ok STATUS DESCRIPTION: one TAP line from a command's status.
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}
diag() { sed 's/^/# /' "$@" >&2; }

# run ARGS...: runs warmrun-image, leaving status, stdout and stderr in
# $rc, $tmp/out and $tmp/err.
run() {
    "$IMG" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# fails_one_line DESCRIPTION ARGS...: exit 1 or 2, one line on stderr,
# nothing on stdout.
fails_one_line() {
    local desc=$1
    shift
    run "$@"
    { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]
    ok $? "$desc (exit $rc: $(head -c 200 "$tmp/err" | tr -d '\n'))"
}

line_re='^busybox:latest sha256:[0-9a-f]{12} \([0-9]+ files, [0-9]+ KiB\)$'

# --- build, twice -------------------------------------------------------
run --root "$store" build-busybox
first=$(cat "$tmp/out")
# No daemon at the socket: one line says so (106-functions-fixes.t).
[ "$rc" -eq 0 ] && [ -z "$(grep -v '^warmrun-image: note: no daemon at ' "$tmp/err")" ] &&
    [[ $first =~ $line_re ]]
ok $? "build-busybox succeeds with one line: $first"
[ "$rc" -eq 0 ] || diag "$tmp/err"

run --root "$store" build-busybox
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$first" ]
ok $? "a second build gives the same id"

id12=$(echo "$first" | sed -n 's/^busybox:latest sha256:\([0-9a-f]\{12\}\) .*/\1/p')
layers=("$store"/layers/sha256/*)
[ "${#layers[@]}" -eq 1 ] && [ -d "${layers[0]}/root" ]
ok $? "the store holds exactly one layer"
L=${layers[0]}/root

[ -z "$(ls -A "$store/tmp")" ]
ok $? "no staging leftovers in tmp/"

[ "$(stat -c %a "$store")" = 711 ] && [ "$(stat -c %a "$store/tmp")" = 700 ]
ok $? "store root is 0711 and tmp/ 0700"

# --- the layer ----------------------------------------------------------
[ -f "$L/bin/busybox" ] && [ ! -L "$L/bin/busybox" ] && [ -x "$L/bin/busybox" ] &&
    cmp -s /bin/busybox "$L/bin/busybox"
ok $? "bin/busybox is a copy of /bin/busybox"

[ -L "$L/bin/sh" ] && [ "$(readlink -f "$L/bin/sh")" = "$(readlink -f "$L/bin/busybox")" ]
ok $? "bin/sh is a symlink to busybox"

[ -L "$L/usr/bin/env" ] && [ "$(readlink -f "$L/usr/bin/env")" = "$(readlink -f "$L/bin/busybox")" ]
ok $? "usr/bin/env is a symlink to busybox"

[ "$("$L/bin/sh" -c 'echo hello')" = hello ]
ok $? "the layer's sh runs"

[ "$(stat -c %a "$L/tmp")" = 1777 ] && [ "$(stat -c %a "$L/root")" = 700 ] &&
    [ -d "$L/proc" ] && [ -d "$L/sys" ] && [ -d "$L/dev" ] && [ -d "$L/home" ] && [ -d "$L/var" ]
ok $? "the usual directories with their modes"

grep -qx 'root:x:0:0:root:/root:/bin/sh' "$L/etc/passwd" &&
    grep -qx 'nogroup:x:65534:' "$L/etc/group" && grep -q '^127.0.0.1[[:space:]]*localhost$' "$L/etc/hosts"
ok $? "etc/passwd, etc/group and etc/hosts"

m=$store/images/busybox/latest.json
grep -q '"schema": 1' "$m" && grep -q '"Cmd"' "$m" && grep -q "\"id\": \"sha256:$id12" "$m"
ok $? "the manifest is in images/busybox/latest.json"

# --- ls -----------------------------------------------------------------
run --root "$store" ls
[ "$rc" -eq 0 ] && head -1 "$tmp/out" | grep -q '^NAME *TAG *ID *SIZE *LAYERS *CREATED$' &&
    grep -Eq "^busybox +latest +sha256:$id12 +[0-9.]+[kMG]?B +1 +[0-9]{4}-[0-9]{2}-[0-9]{2}T" "$tmp/out"
ok $? "ls lists busybox:latest"
[ "$rc" -eq 0 ] || diag "$tmp/err"

run --root "$store" build-busybox --tag v1
[ "$rc" -eq 0 ] && grep -q "^busybox:v1 sha256:$id12 " "$tmp/out"
ok $? "--tag v1 gives the same image id"

WARMRUN_ROOT=$store "$IMG" ls >"$tmp/out" 2>"$tmp/err" &&
    [ "$(grep -c "^busybox .*sha256:$id12" "$tmp/out")" -eq 2 ]
ok $? "WARMRUN_ROOT selects the store; ls shows both tags"

run --root "$tmp/empty" ls
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && [ ! -e "$tmp/empty" ]
ok $? "ls of a missing store prints only the header and creates nothing"

# --- reproducibility ----------------------------------------------------
(umask 077 && "$IMG" --root "$tmp/store2" build-busybox >"$tmp/out2" 2>/dev/null) &&
    [ "$(cat "$tmp/out2")" = "$first" ] &&
    [ -d "$tmp/store2/layers/sha256/$(basename "${layers[0]}")" ]
ok $? "another store under umask 077 gets the same layer and image ids"

# --- failures -----------------------------------------------------------
cd "$tmp" || exit 1
fails_one_line "relative --root is refused" --root rel/store build-busybox
[ ! -e "$tmp/rel" ]
ok $? "  and nothing was created"
fails_one_line "--root with ':' is refused" --root "$tmp/a:b" build-busybox
[ ! -e "$tmp/a:b" ]
ok $? "  and nothing was created"
fails_one_line "--root with ',' is refused for ls" --root "$tmp/a,b" ls
fails_one_line "empty --root is refused" --root "" ls
WARMRUN_ROOT=rel/store fails_one_line "relative WARMRUN_ROOT is refused" ls

run nonsense
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
ok $? "unknown command: exit 2, one line"
run --root "$store" build-busybox --tag ../x
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
ok $? "invalid tag: exit 2, one line"

dyn=$(command -v bash)
run --root "$tmp/store3" build-busybox --busybox "$dyn"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'static' "$tmp/err" &&
    [ ! -e "$tmp/store3" ]
ok $? "a dynamically linked busybox is refused before the store is touched"

run --root "$tmp/store3" build-busybox --busybox "$tmp/no-such-busybox"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
ok $? "a missing --busybox fails with one line"

echo "1..$n"
[ "$failed" -eq 0 ]

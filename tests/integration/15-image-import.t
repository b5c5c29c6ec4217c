#!/bin/bash
# TAP test of `warmrun image import/ls/inspect/rm` with the real-Docker
# fixtures of tests/fixtures (made by scripts/make-image-fixtures): the root
# filesystem warmrun assembles from the stored layers (overlayfs, as a
# container gets it) must equal `docker export` of the same image, file by
# file: paths, types, modes, owners, link targets and contents.
. "$(dirname "$0")/lib.sh"
setup_env image-import
FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)
IMG=("$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE")
out=$T/out
err=$T/err

# import ARGS...: status in $rc, stdout/stderr in $out/$err.
import() {
    timeout -k 10 120 "${IMG[@]}" import "$@" >"$out" 2>"$err"
    rc=$?
}

# tree_list DIR: one sorted line per entry: path, type, mode, owner, link
# target, sha256 of a file's content. Leaves out what docker adds to every
# container (mount points, .dockerenv): not part of the image.
tree_list() {
    local skip='^(\.dockerenv|dev|dev/.*|proc|sys|etc/hostname|etc/hosts|etc/mtab|etc/resolv\.conf)$'
    (cd "$1" && find . -mindepth 1 -printf '%P\t%y\t%#m\t%U:%G\t%l\n' |
        awk -F'\t' -v re="$skip" '$1 !~ re' | LC_ALL=C sort |
        while IFS=$'\t' read -r p y m o l; do
            h=-
            [ "$y" = f ] && h=$(sha256sum <"$p" | cut -c1-64)
            printf '%s %s %s %s %s %s\n' "$p" "$y" "$m" "$o" "$l" "$h"
        done)
}

# layers_of NAME TAG: the image's layer directories, topmost first (the
# overlayfs lowerdir order).
layers_of() {
    sed -n '/"layers"/,/\]/p' "$STORE/images/$1/$2.json" | grep -o '[0-9a-f]\{64\}' | tac |
        sed "s|^|$STORE/layers/sha256/|; s|\$|/root|" | paste -sd:
}

# merged_list NAME TAG: tree_list of the image's root as a container sees
# it: its layers stacked by overlayfs (read-only, in a private mount
# namespace), or its only layer.
merged_list() {
    local lower
    lower=$(layers_of "$1" "$2")
    if [[ $lower != *:* ]]; then
        tree_list "$lower"
        return
    fi
    mkdir -p "$T/mnt"
    unshare -m bash -c "$(declare -f tree_list)
        mount -t overlay overlay -o ro,lowerdir=$lower $T/mnt && tree_list $T/mnt"
}

mkdir -p "$T/export"
tar --numeric-owner -xpzf "$FIX/wrfix-export.tar.gz" -C "$T/export" || bail_out "cannot unpack the export"
tree_list "$T/export" >"$T/export.list"
[ "$(wc -l <"$T/export.list")" -gt 20 ]
ok $? "the docker export fixture lists $(wc -l <"$T/export.list") entries"

# same_as_export NAME TAG DESCRIPTION
same_as_export() {
    merged_list "$1" "$2" >"$T/got.list" 2>"$T/got.err"
    if cmp -s "$T/got.list" "$T/export.list"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        diag "$(diff "$T/export.list" "$T/got.list" | head -20)"
        diag_file "$T/got.err"
    fi
}

# --- docker save ----------------------------------------------------------
import "$FIX/wrfix-save.tar.gz"
is "$rc" 0 "docker save archive imports" || diag_file "$err"
like "$(cat "$out")" '^wrfix:1 sha256:[0-9a-f]{12} \(docker-save, 4 layers, 4 new, [0-9.]+[kM]B\)$' \
    "one line: name, id, format, layers"
# No daemon at the socket: one line says so (106-functions-fixes.t).
[ -z "$(grep -v '^warmrun-image: note: no daemon at ' "$err")" ]
ok $? "nothing on stderr but the note that no daemon was told"
save_id=$(cut -d' ' -f2 "$out")
[ "$(ls "$STORE/layers/sha256" | wc -l)" -eq 5 ]
ok $? "busybox + 4 layers in the store"
[ -z "$(ls -A "$STORE/tmp")" ]
ok $? "no staging leftovers in tmp/"
same_as_export wrfix 1 "overlay of the 4 stored layers == docker export, file by file"

# The comparison can fail: the bottom layer alone is not the image.
bottom=$(layers_of wrfix 1 | tr : '\n' | tail -1)
tree_list "$bottom" >"$T/bottom.list"
! cmp -s "$T/bottom.list" "$T/export.list"
ok $? "(control) the bottom layer alone differs from the export"

# mtimes (not in the listing: docker's own mount points change directory
# times) are kept for files.
[ "$(stat -c %Y "$bottom/etc/group")" = "$(date -d 2020-01-02T03:04:05Z +%s)" ] &&
    [ "$(stat -c %Y "$bottom/etc/group")" = "$(stat -c %Y "$T/export/etc/group")" ]
ok $? "file mtimes kept (etc/group: 2020-01-02T03:04:05Z, as in the export)"

# Whiteouts in overlayfs' own format.
l3=$(layers_of wrfix 1 | tr : '\n' | sed -n 2p)
[ "$(stat -c '%F %t:%T' "$l3/bin/true")" = "character special file 0:0" ] &&
    [ "$(stat -c '%F %t:%T' "$l3/data/gone")" = "character special file 0:0" ] && [ ! -e "$l3/bin/.wh.true" ]
ok $? ".wh.NAME became a 0/0 character device"
[ ! -e "$l3/data/keep/.wh..wh..opq" ] && [ -f "$l3/data/keep/new" ] && [ ! -e "$l3/data/keep/old" ]
ok $? "the opaque marker is not stored as a file (it is the trusted.overlay.opaque xattr)"

# --- the image config -----------------------------------------------------
"${IMG[@]}" inspect wrfix:1 >"$out" 2>"$err"
is "$?" 0 "inspect wrfix:1"
m=$(tr -d ' \n' <"$out")
like "$m" '"Entrypoint":\["/bin/echo"\]' "Entrypoint kept"
like "$m" '"Cmd":\["hello","from","wrfix"\]' "Cmd kept"
like "$m" '"Env":\[[^]]*"FOO=bar"[^]]*"GREETING=helloworld"' "Env kept"
like "$m" '"WorkingDir":"/srv"' "WorkingDir kept"
like "$m" '"User":"1000:1000"' "User kept"
like "$m" '"Labels":\{[^}]*"org.example.fixture":"wrfix"' "Labels kept"
like "$m" '"size":[1-9][0-9]*' "size recorded"

# --- OCI layout: tar and directory; layers shared ---------------------------
import "$FIX/wrfix-oci.tar"
is "$rc" 0 "OCI layout tar (gzip, zstd and plain layers, nested index) imports" || diag_file "$err"
like "$(cat "$out")" '^wrfix-oci:1 sha256:[0-9a-f]{12} \(oci-layout, 4 layers, 0 new, ' \
    "the name comes from the index; all 4 layers were already stored"
is "$(cut -d' ' -f2 "$out")" "$save_id" "same layers and config: same image id as the docker save"
[ "$(ls "$STORE/layers/sha256" | wc -l)" -eq 5 ]
ok $? "no layer stored twice"
"${IMG[@]}" inspect wrfix-oci:1 | tr -d ' \n' | grep -q '"Cmd":\["hello","from","wrfix"\]'
ok $? "the index's arm64 variant was skipped for linux/amd64"

mkdir -p "$T/ocidir"
tar -xf "$FIX/wrfix-oci.tar" -C "$T/ocidir"
import "$T/ocidir" --name oci-dir:v1
is "$rc" 0 "OCI layout directory imports" || diag_file "$err"
same_as_export oci-dir v1 "OCI layout directory == docker export"

# --- flat rootfs: docker export (gzip, zstd, plain) and a directory ----------
import "$FIX/wrfix-export.tar.gz" --name flat:gz
is "$rc" 0 "docker export tar.gz imports" || diag_file "$err"
like "$(cat "$out")" '^flat:gz sha256:[0-9a-f]{12} \(rootfs-tar, 1 layer, 1 new, ' "one layer"
gz_layer=$(layers_of flat gz)
if command -v zstd >/dev/null; then
    zcat "$FIX/wrfix-export.tar.gz" | zstd -q >"$T/export.tar.zst"
    import "$T/export.tar.zst" --name flat:zst
    is "$rc" 0 "zstd rootfs imports" || diag_file "$err"
    is "$(layers_of flat zst)" "$gz_layer" "same uncompressed tar, same layer (diff_id)"
else
    skip 2 "zstd is not installed"
fi
zcat "$FIX/wrfix-export.tar.gz" >"$T/export.tar"
import - --name flat:plain <"$T/export.tar"
is "$(layers_of flat plain)" "$gz_layer" "plain tar on standard input: the same layer"
tree_list "$gz_layer" >"$T/flat.list"
cmp -s "$T/flat.list" "$T/export.list"
ok $? "the flat layer == docker export" || diag "$(diff "$T/export.list" "$T/flat.list" | head)"

import "$T/export" --name from-dir
is "$rc" 0 "a rootfs directory imports" || diag_file "$err"
like "$(cat "$out")" '\(directory, 1 layer' "detected as a directory"
tree_list "$(layers_of from-dir latest)" >"$T/dir.list"
cmp -s "$T/dir.list" "$T/export.list"
ok $? "the directory's layer == the directory" || diag "$(diff "$T/export.list" "$T/dir.list" | head)"
mkdir -p "$T/hl/sub"
echo same >"$T/hl/f"
ln "$T/hl/f" "$T/hl/sub/g"
import "$T/hl" --name hardlinks
d=$(layers_of hardlinks latest)
[ "$rc" -eq 0 ] && [ "$(stat -c %i "$d/f")" = "$(stat -c %i "$d/sub/g")" ] && [ "$(stat -c %h "$d/f")" -eq 2 ]
ok $? "a directory's hardlinks stay hardlinks" || diag_file "$err"

# A rootfs that happens to hold index.json and manifest.json at its top
# (a web app's, say) is still a rootfs.
mkdir -p "$T/app/bin"
echo '{"manifests": []}' >"$T/app/index.json"
echo '[]' >"$T/app/manifest.json"
tar -C "$T/app" -cf "$T/app.tar" .
import "$T/app.tar" --name app:tar
like "$(cat "$out")" '\(rootfs-tar, 1 layer' "a rootfs tar with index.json at its top is a rootfs" || diag_file "$err"
import "$T/app" --name app:dir
like "$(cat "$out")" '\(directory, 1 layer' "a rootfs directory with index.json at its top is a rootfs" || diag_file "$err"

# --- flattening -------------------------------------------------------------
import "$FIX/wrfix-save.tar.gz" --name flat:all --flatten
is "$rc" 0 "--flatten imports" || diag_file "$err"
like "$(cat "$out")" '4 layers, flattened' "reported as flattened"
same_as_export flat all "the flattened layer == docker export (whiteouts applied)"
# A store root long enough that 4 lowerdirs do not fit in the page budget.
long=$T
for c in w x y z; do long=$long/$(printf "$c%.0s" $(seq 250)); done
"$WARMRUN_BIN_DIR/warmrun-image" --root "$long" import "$FIX/wrfix-save.tar.gz" >"$out" 2>"$err"
like "$(cat "$out")" 'flattened' "an image whose lowerdir would not fit a page is flattened"

# --- ls / rm -------------------------------------------------------------------
"${IMG[@]}" ls >"$out"
grep -Eq '^wrfix +1 +sha256:[0-9a-f]{12} +[0-9.]+[kM]B +4 +[0-9]{4}-' "$out"
ok $? "ls shows wrfix:1 with size and 4 layers"
n_before=$(ls "$STORE/layers/sha256" | wc -l)
"${IMG[@]}" rm wrfix:1 >"$out" 2>&1
is "$(cat "$out")" "removed wrfix:1 (0 layers freed)" "rm: layers still used by wrfix-oci stay"
"${IMG[@]}" rm wrfix-oci:1 >/dev/null 2>&1
"${IMG[@]}" rm oci-dir:v1 >"$out" 2>&1
is "$(cat "$out")" "removed oci-dir:v1 (4 layers freed)" "the last image using them frees the 4 layers"
is "$(ls "$STORE/layers/sha256" | wc -l)" "$((n_before - 4))" "4 layer directories gone"
[ ! -e "$STORE/images/wrfix" ]
ok $? "the empty name directory is gone"
"${IMG[@]}" rm wrfix:1 >"$out" 2>&1
is "$?" 1 "rm of a missing image fails"

# --- activation with the image's config -------------------------------------
import "$FIX/wrfix-save.tar.gz"
wr activate wrfix:1 >"$out" 2>"$err"
is "$(cat "$out")" "hello from wrfix" "no command: Entrypoint + Cmd" || diag_file "$err"
wr activate wrfix:1 -- a b >"$out" 2>"$err"
is "$(cat "$out")" "a b" "a command replaces Cmd, keeps Entrypoint"
wr activate --entrypoint /bin/cat wrfix:1 -- /etc/motd >"$out" 2>"$err"
is "$(cat "$out")" "replaced" "--entrypoint overrides (and sees the upper layer's file)"
wr activate --entrypoint sh wrfix:1 -- -c 'echo "$FOO|$GREETING|$(pwd)"; ls /data/keep; test -e /bin/true || echo no-true' >"$out" 2>"$err"
is "$(cat "$out")" "bar|hello world|/srv
new
no-true" "Env and WorkingDir applied; whiteouts and the opaque dir hold in the container"
wr activate --entrypoint '' wrfix:1 >"$out" 2>"$err"
is "$?" 125 "--entrypoint '' with no command: nothing to run"

# --- rm refused while a pool uses the image -----------------------------------
if start_daemon; then
    wr pool create wrfix:1 --size 1 --wait >/dev/null 2>"$err"
    ok $? "a pool of the imported image fills" || diag_file "$err"
    wr image rm wrfix:1 >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "pool" "$err" && [ -f "$STORE/images/wrfix/1.json" ]
    ok $? "image rm is refused while a pool uses it: $(head -c 200 "$err")"
    wr activate --no-cold wrfix:1 -- warm >"$out" 2>"$err"
    is "$(cat "$out")" "warm" "warm activation of the 4-layer image"
    wait_pool_full wrfix:1 30
    wr activate --no-cold --entrypoint /bin/cat wrfix:1 -- /etc/motd >"$out" 2>"$err"
    is "$(cat "$out")" "replaced" "--entrypoint through the daemon (warm)" || diag_file "$err"
    # Re-importing the tag while the pool's containers still mount the old
    # layers: the old layers stay (no manifest lists them any more).
    old=$(layers_of wrfix 1)
    wait_pool_full wrfix:1 30
    import "$FIX/wrfix-export.tar.gz" --name wrfix:1
    missing=0
    for l in ${old//:/ }; do [ -d "$l" ] || missing=$((missing + 1)); done
    is "$missing" 0 "re-importing the tag keeps the layers the pool's warm containers mount"
    wr activate --no-cold --entrypoint /bin/cat wrfix:1 -- /etc/motd >"$out" 2>"$err"
    is "$(cat "$out")" "replaced" "  and the pool still serves the image it was made of"
    wr pool rm wrfix:1 >/dev/null 2>&1
    # pool rm lets its shims go by closing their sockets: one still filling
    # can mount its root after a first look, so wait for the shims to go.
    poll_until 20 no_container_pids
    poll_until 10 eval '! grep -qs "$STORE/layers" /proc/[0-9]*/mountinfo'
    ok $? "  no container mounts the store's layers once the pool is gone"
    wr image rm wrfix:1 >"$out" 2>"$err"
    is "$?" 0 "image rm once the pool is gone"
    missing=0
    for l in ${old//:/ }; do [ -d "$l" ] || missing=$((missing + 1)); done
    is "$missing" 4 "  then the old layers are freed too"
    stop_daemon
else
    skip 9 "the daemon did not start"
fi

done_testing

#!/bin/bash
# TAP test of what Docker gives every container and an image importer must
# accept (issue 12, faults F and C):
#  - /etc/hosts (localhost, the hostname), /etc/hostname and
#    /etc/resolv.conf in a container of an image that has none, warm and
#    cold, --read-only, --userns auto, and --hostname at activation;
#  - writes to them never reach the image's layers, and an image whose
#    /etc/hosts, /etc/hostname or /etc/resolv.conf is a symlink out of its
#    root has it replaced, never followed;
#  - a `docker save` archive with an empty layer (only the end-of-archive
#    blocks, as `docker build` writes for metadata-only steps) imports and
#    runs, with the file of its non-empty layer.
# busybox has no getent: the tests read /etc/hosts as the files NSS module
# does (first address whose names include the one asked for).
. "$(dirname "$0")/lib.sh"
setup_env files

out=$T/out
err=$T/err
HOSTDIR=$T/host
mkdir -p "$HOSTDIR"
TOKEN=host-secret-$$-$RANDOM
for f in m1 m2 m3; do echo "$TOKEN" >"$HOSTDIR/$f"; done
# lk NAME (shell text, prefixed to the probes): the address /etc/hosts
# gives NAME, as getent hosts would.
LK='lk() { awk -v n="$1" '"'"'{for (i = 2; i <= NF; i++) if ($i == n) {print $1; exit}}'"'"' /etc/hosts; }; '
BB_HOSTS=$(sha256sum "$LAYER/etc/hosts" 2>/dev/null)

# files_image NAME SETUP: add_layer_image with a plain config; prints the
# directory of the layer SETUP made.
files_image() {
    add_layer_image "$1" '{"Entrypoint": null, "Cmd": ["sh"], "Env": ["PATH=/bin:/sbin"], "WorkingDir": "/", "User": ""}' "$2" &&
        layer_dir "$1"
}


# ---- the files, in every mode ---------------------------------------------------
# label|kind|pool options|activation options
MODES=(
    "cold|cold||"
    "warm|warm||"
    "cold --read-only|cold||--read-only"
    "warm --read-only|warm|--read-only|"
    "cold --userns auto|cold||--userns auto"
    "warm --userns auto|warm|--userns auto|"
)
PROBE=$LK'echo "lo=$(lk localhost)"; echo "ip6=$(lk ip6-localhost)";
h=$(hostname); echo "hn=$(cat /etc/hostname)"; echo "same=$([ "$(cat /etc/hostname)" = "$h" ] && echo y)";
echo "self=$(lk "$h")"; echo "resolv=$([ -f /etc/resolv.conf ] && echo y)";
if echo "# x" >>/etc/hosts 2>/dev/null; then echo w=y; else echo w=n; fi'
for m in "${MODES[@]}"; do
    IFS='|' read -r label mode pool_opts act_opts <<<"$m"
    if [ "$mode" = warm ]; then
        [ -n "$DAEMON_PID" ] || start_daemon || bail_out "no daemon"
        wr pool rm busybox >/dev/null 2>&1
        # shellcheck disable=SC2086
        wr pool create busybox --size 1 $pool_opts --wait >"$out" 2>"$err" || show_err
    fi
    writable=y
    [[ $label == *read-only* ]] && writable=n
    # shellcheck disable=SC2086
    act $act_opts busybox sh -c "$PROBE"
    got="rc=$rc $(tr '\n' ' ' <"$out")"
    like "$got" '^rc=0 lo=127\.0\.0\.1 ip6=::1 hn=[0-9a-f]{12} same=y self=127\.0\.1\.1 resolv=y '"w=$writable" \
        "$label: localhost, the hostname in /etc/hosts and /etc/hostname, resolv.conf, writable=$writable" ||
        { diag "got: $got"; show_err; }
    # --hostname at activation: the files follow it.
    # shellcheck disable=SC2086
    act $act_opts --hostname web-1 busybox sh -c "$LK"'hostname; cat /etc/hostname; lk web-1; lk localhost'
    is "$(tr '\n' ' ' <"$out")" "web-1 web-1 127.0.1.1 127.0.0.1 " \
        "$label: --hostname web-1 is in /etc/hostname and /etc/hosts" || show_err
done
[ -n "$DAEMON_PID" ] && wr pool rm busybox >/dev/null 2>&1

# ---- nothing reaches the image's layers ------------------------------------------
mode=cold
dir=$(files_image imgetc 'mkdir etc && echo "10.9.9.9 image-hosts" >etc/hosts && echo image-name >etc/hostname') ||
    bail_out "cannot write imgetc"
act imgetc sh -c "$LK"'lk localhost; lk image-hosts; echo "1.2.3.4 written" >>/etc/hosts; echo written >/etc/hostname; cat /etc/hostname; lk written'
got=$(tr '\n' ' ' <"$out")
[ "$got" = "127.0.0.1 written 1.2.3.4 " ] &&
    [ "$(cat "$dir/etc/hosts") $(cat "$dir/etc/hostname")" = "10.9.9.9 image-hosts image-name" ] &&
    [ "$(sha256sum "$LAYER/etc/hosts" 2>/dev/null)" = "$BB_HOSTS" ] && [ ! -e "$LAYER/etc/hostname" ] &&
    [ ! -e "$LAYER/etc/resolv.conf" ]
ok $? "an image with its own /etc/hosts gets the runtime's; the container's writes leave every layer file unchanged on disk" ||
    { diag "got: $got"; show_err; }

# ---- symlinks in the image are not followed ----------------------------------------
dir=$(files_image symetc "mkdir etc && ln -s $HOSTDIR/m1 etc/hosts &&
    ln -s ../../../../../../../../../../../..$HOSTDIR/m2 etc/hostname && ln -s ../../.. etc/resolv.conf") ||
    bail_out "cannot write symetc"
for mode in cold warm; do
    if [ "$mode" = warm ]; then
        wr pool create symetc --size 1 --wait >"$out" 2>"$err" || show_err
    fi
    cold=--cold
    [ "$mode" = warm ] && cold=--no-cold
    wr activate $cold symetc sh -c "$LK"'cat /etc/hostname >/dev/null; lk localhost; cat /etc/hosts /etc/hostname /etc/resolv.conf 2>&1 | grep -c '"$TOKEN"'; echo pwned >/etc/hosts; echo pwned >/etc/hostname; echo pwned >/etc/resolv.conf; echo done' >"$out" 2>"$err"
    rc=$?
    [ "$mode" = warm ] && wr pool rm symetc >/dev/null 2>&1
    got=$(tr '\n' ' ' <"$out")
    [ "$got" = "127.0.0.1 0 done " ] && [ "$(cat "$HOSTDIR/m1" "$HOSTDIR/m2")" = "$TOKEN"$'\n'"$TOKEN" ] &&
        [ -L "$dir/etc/hosts" ] && [ "$(readlink "$dir/etc/hosts")" = "$HOSTDIR/m1" ] && [ -L "$dir/etc/resolv.conf" ]
    ok $? "$mode: symlinked /etc/hosts, hostname, resolv.conf replaced by the runtime's; the host files they name and the image's links unchanged" ||
        { diag "got: $got"; show_err; }
done
# A directory where /etc/hosts should be: refused, not mounted over.
files_image diretc 'mkdir -p etc/hosts' >/dev/null || bail_out "cannot write diretc"
wr activate --cold diretc true >"$out" 2>"$err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "/etc/hosts is a directory" "$err"
ok $? "an image whose /etc/hosts is a directory is refused with a reason" || show_err

# ---- a docker save archive with an empty layer ---------------------------------------
SAVE=$T/save
mkdir -p "$SAVE/src/hello"
echo "from the non-empty layer" >"$SAVE/src/hello/hello.txt"
tar -C "$LAYER" --numeric-owner -cf "$SAVE/src/base.tar" . || bail_out "tar busybox"
tar -C "$SAVE/src/hello" --numeric-owner -cf "$SAVE/src/hello.tar" hello.txt || bail_out "tar hello"
# empty.tar: only the two 512-byte end-of-archive blocks (what Docker writes).
head -c 1024 /dev/zero >"$SAVE/src/empty.tar"
# save_archive TAG LAYER...: a `docker save` archive (legacy layout, as
# Docker 20-24 writes it) of those layers of $SAVE/src, as $SAVE/TAG.tar.
save_archive() {
    local tag=$1
    shift
    rm -rf "$SAVE/out"
    python3 - "$SAVE" "$tag" "$@" <<'PY' || return 1
import hashlib, json, os, sys
d, tag, names = sys.argv[1], sys.argv[2], sys.argv[3:]
out = os.path.join(d, "out")
os.makedirs(out)
layers, diff_ids = [], []
for name in names:
    data = open(os.path.join(d, "src", name + ".tar"), "rb").read()
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, h), exist_ok=True)
    open(os.path.join(out, h, "layer.tar"), "wb").write(data)
    open(os.path.join(out, h, "VERSION"), "w").write("1.0")
    open(os.path.join(out, h, "json"), "w").write(json.dumps({"id": h}))
    layers.append(h + "/layer.tar")
    diff_ids.append("sha256:" + h)
cfg = {"architecture": "amd64", "os": "linux",
       "config": {"Env": ["PATH=/bin"], "Cmd": "/hello.txt", "Entrypoint": ["cat"],
                  "WorkingDir": "", "Labels": None},
       "rootfs": {"type": "layers", "diff_ids": diff_ids},
       "history": [{"created_by": "busybox"}, {"created_by": "ENV", "empty_layer": True}]}
cb = json.dumps(cfg).encode()
ch = hashlib.sha256(cb).hexdigest()
open(os.path.join(out, ch + ".json"), "wb").write(cb)
name, t = tag.split(":")
json.dump([{"Config": ch + ".json", "RepoTags": [tag], "Layers": layers}],
          open(os.path.join(out, "manifest.json"), "w"))
json.dump({name: {t: layers[-1].split("/")[0]}}, open(os.path.join(out, "repositories"), "w"))
PY
    tar -C "$SAVE/out" -cf "$SAVE/$tag.tar" .
}
# One empty layer (stacked as its own lower layer), and two (the same
# layer twice: the import flattens).
for m in "emptylayer:1|base empty hello|3" "emptylayer:2|base empty hello empty|4"; do
    IFS='|' read -r tag layers n <<<"$m"
    # shellcheck disable=SC2086
    save_archive "$tag" $layers || bail_out "cannot make the docker save archive $tag"
    timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$SAVE/$tag.tar" >"$out" 2>"$err"
    is "$?" 0 "$tag: a docker save archive with an empty layer ($layers) imports" || show_err
    like "$(cat "$out")" "^$tag sha256:[0-9a-f]{12} \\(docker-save, $n layers" "$tag: it lists its $n layers" ||
        diag_file "$out"
    got=$(wr activate --cold "$tag" cat /hello.txt 2>"$err")
    is "$got" "from the non-empty layer" "$tag: it runs, with the file of its non-empty layer" || show_err
    got=$(wr activate --cold "$tag" 2>"$err")
    is "$got" "from the non-empty layer" \
        "$tag: a config whose Cmd is one string (Docker's StrSlice) runs it as one argument" || show_err
done

done_testing

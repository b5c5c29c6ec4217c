#!/bin/bash
# TAP test: findings of a hostile review of the ninth round.
# - An OCI layout whose indexes name the same nested index over and over
#   (each of 7 levels 40 times: 80 KiB of blobs) is refused at once: at
#   most 64 nested indexes are followed in one walk (image_source.c).
#   Before, only the depth was bounded, and the walk loaded and hashed
#   40^7 blobs: `image import` never ended.
# - A `docker save` archive that lists one layer again and again (one
#   32 MiB layer, gzipped to 32 KiB, 4,096 times) is refused once the
#   repeats add up to --max-size (image_import.c): a repeat is the same
#   blob, so its size is known before it is unpacked again. Before, the
#   import decompressed every repeat (here 128 GiB; 1 TiB from a 260 KiB
#   archive with the default --max-size), for minutes to hours. Repeated
#   empty layers (`RUN true` twice) still import.
# - The daemon's and shims' log lines (wr_log_format) write a control
#   character of their message as \xNN: a function runtime's init error
#   (its tenant's text, logged as "init failed: ...") with a newline and a
#   made-up stamp forged whole daemon log lines, and its escape sequences
#   reached the terminal of whoever read the log.
# - What a killed import left in the store's tmp/ (its staging directory:
#   up to --max-size of unpacked layer) is removed by the next writer of
#   the store, which holds the store lock as every writer does (so no
#   live writer's is touched). Before, it stayed there for good.
# - `ps` shows a control character of an activation's command (its
#   argv, which may carry a tenant's bytes) as a space: a newline made a
#   row of its own, an escape sequence reached the reader's terminal.
# - A user who is not root, without a daemon to ask, is told a cold start
#   needs root (125). Before, the CLI tried one and said only "clone3:
#   Operation not permitted".
# - `activate -v SRC:DST IMAGE` (Docker's volume flag; here -v is
#   --verbose) says so (2). Before, SRC:DST was taken for the image:
#   "invalid image reference", 125.
# - A cold start that fails before its container exists (an image not
#   found, an invalid reference) with no daemon releases the records'
#   tmpfs its state directory's preparation mounted. Before, it stayed
#   mounted, empty, over STATE/containers (rm -rf of the state directory:
#   EBUSY) until some daemon's stop. So does a daemon whose start fails
#   (a --socket in a missing directory), but never a serving daemon's.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review-round9
out=$T/out
err=$T/err

# ---- an OCI index bomb -------------------------------------------------------------------------
# index_bomb DIR LEVELS FANOUT: an OCI layout whose index.json names an
# index FANOUT times, that one the next FANOUT times, and so on: LEVELS
# indexes under index.json, the last with no manifest.
index_bomb() {
    local dir=$1 levels=$2 fanout=$3 mt=application/vnd.oci.image.index.v1+json
    local body entries hex i level size
    mkdir -p "$dir/blobs/sha256" || return 1
    echo '{"imageLayoutVersion": "1.0.0"}' >"$dir/oci-layout"
    body="{\"schemaVersion\": 2, \"mediaType\": \"$mt\", \"manifests\": []}"
    for ((level = 0; level < levels; level++)); do
        printf '%s' "$body" >"$dir/tmp.json"
        hex=$(sha256sum "$dir/tmp.json" | cut -c1-64)
        size=$(stat -c %s "$dir/tmp.json")
        mv "$dir/tmp.json" "$dir/blobs/sha256/$hex" || return 1
        entries="{\"mediaType\": \"$mt\", \"digest\": \"sha256:$hex\", \"size\": $size}"
        for ((i = 1; i < fanout; i++)); do
            entries="$entries, {\"mediaType\": \"$mt\", \"digest\": \"sha256:$hex\", \"size\": $size}"
        done
        body="{\"schemaVersion\": 2, \"mediaType\": \"$mt\", \"manifests\": [$entries]}"
    done
    printf '%s' "$body" >"$dir/index.json"
}

index_bomb "$T/bomb" 8 40 || bail_out "cannot write the OCI layout"
timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/bomb" \
    >"$out" 2>"$err"
rc=$?
is "$rc" 1 "an OCI layout naming one nested index 40^7 times is refused (not 124: a timeout)"
like "$(cat "$err")" 'more than 64 nested indexes' "  with one line that says why" || show_err
[ ! -e "$STORE/images/bomb" ]
ok $? "  and no image is stored"
# A real layout's nesting still imports: the fixture's index.json names
# an index, which names the image's manifest.
FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)
timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$FIX/wrfix-oci.tar" \
    >"$out" 2>"$err"
ok $? "(control) an OCI layout with a nested index imports" || show_err

# ---- a layer listed 4,096 times ----------------------------------------------------------------
# save_repeating DIR MIB N: a docker save directory whose manifest lists one
# layer (a file of MIB MiB of zeros, gzipped) N times, with a config whose
# diff_ids match.
save_repeating() {
    local dir=$1 mib=$2 n=$3 diff hex i layers= ids=
    mkdir -p "$dir/src" "$dir/l" || return 1
    [ "$mib" -gt 0 ] && head -c $((mib << 20)) /dev/zero >"$dir/src/zeros"
    tar -C "$dir/src" -cf "$dir/layer.tar" . || return 1
    diff=$(sha256sum "$dir/layer.tar" | cut -c1-64)
    gzip -c "$dir/layer.tar" >"$dir/l/layer.tar" && rm -rf "$dir/layer.tar" "$dir/src" || return 1
    for ((i = 0; i < n; i++)); do
        layers="$layers${layers:+,}\"l/layer.tar\""
        ids="$ids${ids:+,}\"sha256:$diff\""
    done
    printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
        "$ids" >"$dir/config.json"
    hex=$(sha256sum "$dir/config.json" | cut -c1-64)
    mv "$dir/config.json" "$dir/$hex.json" || return 1
    printf '[{"Config":"%s.json","RepoTags":null,"Layers":[%s]}]' "$hex" "$layers" >"$dir/manifest.json"
}

save_repeating "$T/rep" 32 4096 || bail_out "cannot write the docker save directory"
timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/rep" --name rep:1 \
    --max-size 64m >"$out" 2>"$err"
rc=$?
is "$rc" 1 "a 32 MiB layer listed 4,096 times is refused (not 124: a timeout)"
like "$(cat "$err")" 'layer 3: the layers the image lists again \(here layer 1\) decompress to more than 67108864 bytes together \(--max-size\)' \
    "  once its repeats pass --max-size, before it is unpacked again" || show_err
[ ! -e "$STORE/images/rep" ]
ok $? "  and no image is stored"
rm -rf "$T/rep"
save_repeating "$T/empty" 0 300 || bail_out "cannot write the docker save directory"
timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/empty" --name empty:1 \
    --max-size 16m >"$out" 2>"$err"
ok $? "(control) an empty layer listed 300 times imports (3 MiB of repeats under --max-size 16m)" || show_err
like "$(cat "$out")" 'empty:1 .*300 layers' "  flattened, as any repeated layer" || diag_file "$out"

# ---- a runtime's init error that forges daemon log lines -----------------------------------------
# The runtime posts an init error whose text holds a newline, a line of
# its own with a stamp and the daemon's name, and an escape sequence.
add_layer_image forger '{"Entrypoint": ["sh", "-c", "printf '"'"'boom\\n2001-01-01T00:00:00Z warmrun-daemon: FORGED\\n\\033[31mred'"'"' >/tmp/b; wget -q -O- --post-file /tmp/b http://127.0.0.1:9001/2018-06-01/runtime/init/error; sleep 60"], "Env": ["PATH=/bin"]}' \
    "mkdir etc" || bail_out "cannot write the image"
start_daemon || bail_out "the daemon did not start"
wr function create forger forger --min 1 >"$out" 2>"$err"
ok $? "a function whose runtime posts a forged init error is created" || show_err
logged() { grep -q 'function forger: init failed: boom' "$DAEMON_LOG"; }
poll_until 30 logged
ok $? "  its init error is logged" || diag_file "$DAEMON_LOG"
grep -q '^2001-01-01T00:00:00Z warmrun-daemon: FORGED' "$DAEMON_LOG"
isnt $? 0 "  as one line: no forged line of its own in the daemon's log" || diag_file "$DAEMON_LOG"
grep -q "$(printf '\033')" "$DAEMON_LOG"
isnt $? 0 "  and no escape character" || diag_file "$DAEMON_LOG"
like "$(grep 'init failed: boom' "$DAEMON_LOG" | head -n1)" \
    'init failed: boom\\x0a2001-01-01T00:00:00Z warmrun-daemon: FORGED\\x0a\\x1b\[31mred' \
    "  the control characters written as \\xNN"
wr function rm forger >/dev/null 2>&1

# ---- ps and an activation's command with control characters --------------------------------
wr pool create busybox --size 1 --wait --timeout 60 >"$out" 2>"$err" || show_err
mkfifo "$T/in"
"${WR[@]}" activate busybox -- sh -c 'read x' "$(printf 'x\nFORGED-ROW \033[31mred')" \
    <"$T/in" >"$T/run.out" 2>&1 &
RUN_CLI=$!
exec 7>"$T/in"
running() { wr ps 2>/dev/null | grep -q ' running '; }
poll_until 30 running
wr ps >"$out" 2>"$err"
like "$(grep ' running ' "$out")" "sh -c read x x FORGED-ROW  \\[31mred\$" \
    "ps shows the command's newline and escape character as spaces, on its row" || diag_file "$out"
grep -q '^FORGED-ROW' "$out"
isnt $? 0 "  no row of its own" || diag_file "$out"
exec 7>&-
wait_child "$RUN_CLI" 30
wr pool rm busybox >/dev/null 2>&1
stop_daemon

# ---- what a killed import leaves in the store's tmp/ -------------------------------------------
# As an import killed by SIGKILL (or SIGTERM: no handler) leaves them: a
# staging directory with a half-unpacked layer, a layer being removed, a
# manifest being written; and a name no writer makes, which stays.
mkdir -p "$STORE/tmp/layer-dead01/root/usr" "$STORE/tmp/gc-0123-dead02/root" &&
    head -c 1048576 /dev/zero >"$STORE/tmp/layer-dead01/root/usr/big" &&
    echo '{' >"$STORE/tmp/manifest-dead03" && echo keep >"$STORE/tmp/other" ||
    bail_out "cannot plant the leftovers"
timeout -k 5 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$FIX/wrfix-oci.tar" \
    --name wrfix-oci:2 >"$out" 2>"$err"
ok $? "an import after a killed one succeeds" || show_err
is "$(cd "$STORE/tmp" && ls | xargs)" other \
    "  and removed the dead writers' staging directory, layer and manifest (not another name)"

# ---- a cold start that fails before its container exists --------------------------------------
if [ "$(stat -f -c %T "$T")" = tmpfs ]; then
    skip 7 "the test directory is on a tmpfs: no records mount is made"
else
    for image in nosuch:1 'not/A/valid ref'; do
        "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$T/cold" --socket "$T/cold.sock" \
            activate "$image" -- true >"$out" 2>"$err"
        is "$?" 125 "a cold start of '$image' with no daemon fails (125)"
    done
    is "$(records_mounts "$T" | grep -cxF -- "$T/cold/containers")" 0 \
        "  and leaves no records tmpfs mounted over its state directory"
    umount "$T/cold/containers" 2>/dev/null
    "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$T/failed" \
        --socket "$T/missing/warmrun.sock" daemon >"$out" 2>"$err"
    is "$?" 1 "a daemon whose socket's directory is missing does not start (1)"
    is "$(records_mounts "$T" | grep -cxF -- "$T/failed/containers")" 0 \
        "  and leaves no records tmpfs mounted over its state directory"
    umount "$T/failed/containers" 2>/dev/null
    start_daemon || bail_out "the daemon did not start"
    "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$T/second.sock" \
        daemon >"$out" 2>"$err"
    is "$?" 1 "a second daemon on a served state directory does not start (1)"
    is "$(records_mounts "$T" | grep -cxF -- "$STATE/containers") $(wr ps >/dev/null 2>&1; echo $?)" \
        "1 0" "  and leaves the serving daemon its records tmpfs"
    stop_daemon
fi

# ---- Docker's -v on activate -------------------------------------------------------------------
wr activate -v "$T:/data" busybox -- true >"$out" 2>"$err"
is "$?" 2 "activate -v SRC:DST IMAGE is a usage error (2)"
like "$(cat "$err")" 'is not an image: -v is --verbose for activate; a volume is --volume SRC:DST' \
    "  that names --volume" || show_err

# ---- a cold start by a user who is not root ----------------------------------------------------
if id nobody >/dev/null 2>&1; then
    mkdir -p "$T/nobody" && chown nobody "$T/nobody" && chmod 711 "$T"
    su nobody -s /bin/sh -c "'$WARMRUN_BIN_DIR/warmrun' --state-dir '$T/nobody/state' \
        --socket '$T/nobody/sock' activate busybox -- true" >"$out" 2>"$err"
    is "$?" 125 "a user's activation without a daemon fails (125)"
    like "$(cat "$err")" '^warmrun: a cold start \(no daemon\) needs root$' "  saying a cold start needs root" ||
        show_err
    chmod 700 "$T"
else
    skip 2 "no user nobody"
fi
done_testing

#!/bin/bash
# TAP test: findings of a hostile review of the ninth round.
# - An OCI layout whose indexes name the same nested index over and over
#   (each of 7 levels 40 times: 80 KiB of blobs) is refused at once: at
#   most 64 nested indexes are followed in one walk (image_source.c).
#   Before, only the depth was bounded, and the walk loaded and hashed
#   40^7 blobs: `image import` never ended.
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
done_testing

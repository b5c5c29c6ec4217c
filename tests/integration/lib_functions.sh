# Helpers of the function tests (87-, 100-, 103-, 106-), sourced after
# lib.sh's setup_env: the Lambda images, the environments' freezer cgroups,
# invoking and reading `function ls`.

# functions_images NAME...: builds the images of scripts/make-lambda-images
# (the root file system is cached under /var/cache/warmrun;
# WARMRUN_LAMBDA_CACHE overrides the cache's parent) and imports NAME...
# into the test's store; skips the test when they cannot be built.
functions_images() {
    local repo i
    repo=$(cd "$(dirname "$0")/../.." && pwd)
    if ! timeout -k 10 1800 "$repo/scripts/make-lambda-images" "$T/images" \
        ${WARMRUN_LAMBDA_CACHE:+"$WARMRUN_LAMBDA_CACHE"} >"$T/images.log" 2>&1; then
        diag_file "$T/images.log"
        skip_all "cannot build the function images (Debian mirror and npm registry needed once)"
    fi
    for i in "$@"; do
        timeout -k 10 300 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/images/$i" \
            >>"$T/import.log" 2>&1 || { diag_file "$T/import.log"; bail_out "cannot import $i"; }
    done
}

# FREEZER: the freezer cgroup directory of this daemon's environments.
FREEZER=/sys/fs/cgroup/freezer/warmrun-functions/$(scope_of "$STATE")
[ -d /sys/fs/cgroup/freezer ] || FREEZER=/sys/fs/cgroup/unified/warmrun-functions/$(scope_of "$STATE")

# thaw_environments: every environment of this daemon thawed (v1 and v2).
thaw_environments() {
    local f
    for f in "$FREEZER"/*/freezer.state "$FREEZER"/*/cgroup.freeze; do
        [ -f "$f" ] && { [ "${f##*/}" = cgroup.freeze ] && echo 0 >"$f" || echo THAWED >"$f"; }
    done
}

# On a failure, the environments are thawed before lib.sh's cleanup kills
# everything: a task frozen by cgroup v1 cannot die. A test with more to
# undo sets its own trap and calls thaw_environments itself.
thaw_then_cleanup() {
    local rc=$?
    thaw_environments
    (exit "$rc")
    cleanup
}
trap thaw_then_cleanup EXIT

# inv NAME JSON [OPTIONS...]: `invoke NAME --payload -` with JSON on stdin;
# stdout in $out, stderr in $err, status in $rc.
inv() {
    local name=$1 json=$2
    shift 2
    echo "$json" | wr invoke "$name" --payload - "$@" >"$out" 2>"$err"
    rc=$?
}
# fn NAME FIELD: a field of `function ls --json` for NAME.
fn() {
    WR_TIMEOUT=10 wr function ls --json 2>/dev/null | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"
}
idle_is() { [ "$(fn "$1" idle)" = "$2" ]; }
busy_is() { [ "$(fn "$1" busy)" = "$2" ]; }

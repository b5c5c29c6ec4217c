# Shared helpers of the integration tests (bash, TAP). Source it from a
# test file, then call setup_env:
#
#   . "$(dirname "$0")/lib.sh"
#   setup_env activate        # private STORE, STATE, SOCK; busybox image built
#   start_daemon              # optional
#   wr activate busybox -- echo hello
#   ok $? "description"
#   done_testing
#
# WARMRUN_BIN_DIR points at the binaries (default $PWD/bin, i.e. run from
# the repository root). Every command that could hang runs under a timeout;
# the EXIT trap stops the daemon, kills every process of this test (found by
# its STATE directory) and removes the temporary directory.
# shellcheck shell=bash

# in_private_mount_ns VAR [ARGS...]: unless VAR is set, runs this test
# file again (with VAR set) in a mount namespace of its own, propagation
# private, where it may mount freely without the host seeing any of it;
# skips the file when unshare is missing. Call it right after sourcing.
in_private_mount_ns() {
    local var=$1
    shift
    [ -n "${!var:-}" ] && return 0
    command -v unshare >/dev/null 2>&1 || skip_all "unshare is not installed"
    export "$var=1"
    exec unshare -m --propagation private /bin/bash "$0" "$@"
}

# traced PID: PID has a tracer (strace attached to it).
traced() { [ "$(awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != 0 ]; }

# server_of_state: the pid of this test's daemon's shim server (empty if
# none runs).
server_of_state() { pgrep -f -- "warmrun-shim --server --state-dir $STATE( |\$)" | head -n1; }

# trace_server SYSCALLS FILE: strace -f of this test's shim server (the
# shims it forks and their pid 1s) for SYSCALLS, into FILE; sets SERVER
# and TRACER (kill "$TRACER"; wait "$TRACER" to end it). Needs the daemon.
trace_server() {
    SERVER=$(server_of_state)
    [ -n "$SERVER" ] || bail_out "no shim server for $STATE"
    strace -f -qq -e trace="$1" -o "$2" -p "$SERVER" 2>"$T/strace.err" &
    TRACER=$!
    poll_until 10 traced "$SERVER" || bail_out "strace did not attach: $(head -c 200 "$T/strace.err")"
}

# ---- TAP ----------------------------------------------------------------

_tap_n=0
_tap_failed=0
_tap_planned=
# Set TODO to a reason to mark the following assertions "# TODO reason":
# they are reported, but their failure does not fail the file.
TODO=

plan() {
    _tap_planned=$1
    echo "1..$1"
}

# ok STATUS DESCRIPTION: one TAP line; STATUS 0 is a pass.
ok() {
    local status=$1 desc=$2 directive=
    _tap_n=$((_tap_n + 1))
    [ -n "$TODO" ] && directive=" # TODO $TODO"
    if [ "$status" -eq 0 ] 2>/dev/null; then
        echo "ok $_tap_n - $desc$directive"
        return 0
    fi
    echo "not ok $_tap_n - $desc$directive"
    [ -z "$TODO" ] && _tap_failed=$((_tap_failed + 1))
    return 1
}

# is GOT EXPECTED DESCRIPTION
is() {
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "     got: '$1'"
    diag "expected: '$2'"
    return 1
}

# isnt GOT UNEXPECTED DESCRIPTION
isnt() {
    if [ "$1" != "$2" ]; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "got the unexpected '$1'"
    return 1
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
    if [[ $1 =~ $2 ]]; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "     got: '$1'"
    diag "expected to match: /$2/"
    return 1
}

# unlike GOT EXTENDED-REGEX DESCRIPTION
unlike() {
    if ! [[ $1 =~ $2 ]]; then
        ok 0 "$3"
        return 0
    fi
    ok 1 "$3"
    diag "     got: '$1'"
    diag "expected not to match: /$2/"
    return 1
}

# diag MESSAGE...: a comment line on stderr (shown by prove -v and on failure).
diag() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do echo "# $line"; done >&2
}

# diag_file FILE [LINES]: the last LINES (default 20) lines of FILE as comments.
diag_file() {
    [ -f "$1" ] || return 0
    tail -n "${2:-20}" "$1" | sed 's/^/#   /' >&2
}

# skip COUNT REASON: COUNT skipped assertions.
skip() {
    local i
    for ((i = 0; i < $1; i++)); do
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n # skip $2"
    done
}

# skip_all REASON: the whole file is skipped.
skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    exit 255
}

# done_testing: prints the plan (if none was given) and sets the exit status.
done_testing() {
    if [ -z "$_tap_planned" ]; then
        echo "1..$_tap_n"
    elif [ "$_tap_planned" -ne "$_tap_n" ]; then
        diag "planned $_tap_planned tests but ran $_tap_n"
        _tap_failed=$((_tap_failed + 1))
    fi
    [ "$_tap_failed" -eq 0 ] && exit 0
    exit 1
}

# ---- polling ------------------------------------------------------------

# poll_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds
# (status 0) or SECONDS have passed (status 1).
poll_until() {
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        "$@" && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# pid_gone PID: true when PID no longer runs (gone, or a zombie).
pid_gone() { ! pid_alive "$1"; }

# pid_alive PID: PID runs (exists and is not a zombie). Shell builtins only,
# so that it can be polled against tight bounds (100 ms).
pid_alive() {
    local s
    read -r s 2>/dev/null <"/proc/$1/stat" || return 1
    s=${s##*) }
    s=${s%% *}
    [ -n "$s" ] && [ "$s" != Z ]
}

# pid_state PID: the one-letter state (field 3 of /proc/PID/stat).
pid_state() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1
}

# wait_child PID [SECONDS]: waits (default 60 s) for a background child of
# this shell; kills it with SIGKILL when the time is up. Sets WAIT_RC to its
# exit status (124 when it had to be killed).
wait_child() {
    local pid=$1 secs=${2:-60}
    if ! poll_until "$secs" pid_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        WAIT_RC=124
        return 1
    fi
    wait "$pid" 2>/dev/null
    WAIT_RC=$?
    return 0
}

# ---- environment --------------------------------------------------------

: "${WARMRUN_BIN_DIR:=$PWD/bin}"

# setup_env NAME: checks the prerequisites, creates the private directories
# (T, STORE, STATE, SOCK), builds the busybox image into STORE, installs the
# cleanup trap and defines the WR command array used by wr.
setup_env() {
    local name=${1:-test}
    [ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces, mounts)"
    [ -x /bin/busybox ] || skip_all "busybox-static is not installed"
    local b
    for b in warmrun warmrun-shim warmrun-image; do
        [ -x "$WARMRUN_BIN_DIR/$b" ] || bail_out "$WARMRUN_BIN_DIR/$b is not built (make)"
    done
    WARMRUN_BIN_DIR=$(cd "$WARMRUN_BIN_DIR" && pwd)
    # A test must never read the terminal (or prove's stdin) by accident.
    exec </dev/null
    T=$(mktemp -d "${TMPDIR:-/tmp}/wr-it-$name.XXXXXX") || bail_out "mktemp failed"
    STORE=$T/store
    STATE=$T/state
    SOCK=$T/warmrun.sock
    DAEMON_PID=
    DAEMON_LOG=$T/daemon.log
    WR=("$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$SOCK")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Not exported: the tests must not reach another engineer's daemon.
    unset WARMRUN_ROOT WARMRUN_STATE_DIR WARMRUN_SOCKET WARMRUN_SHIM
    if ! timeout -k 10 120 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" build-busybox \
        >"$T/build.log" 2>&1; then
        cat "$T/build.log" >&2
        bail_out "cannot build the busybox image into $STORE"
    fi
    LAYER=$(echo "$STORE"/layers/sha256/*/root)
    # Binaries built with AddressSanitizer are slower, and their RSS is not
    # a leak measure (quarantine).
    ASAN=0
    grep -q __asan_init "$WARMRUN_BIN_DIR/warmrun" 2>/dev/null && ASAN=1
    return 0
}

# wr ARGS...: the CLI against this test's store, state and socket, under a
# timeout (WR_TIMEOUT seconds, default 60; 124 when it expires).
wr() {
    timeout -k 10 "${WR_TIMEOUT:-60}" "${WR[@]}" "$@"
}

# ---- the daemon ---------------------------------------------------------

# start_daemon [ARGS...]: runs the daemon in the background (own session),
# logging to DAEMON_LOG, and waits up to 5 s (10 s under ASan) for its socket.
start_daemon() {
    local wait_s=5
    [ "$ASAN" -eq 1 ] && wait_s=10
    setsid "${WR[@]}" daemon "$@" >>"$DAEMON_LOG" 2>&1 </dev/null &
    DAEMON_PID=$!
    if ! poll_until "$wait_s" _daemon_up; then
        diag "the daemon did not come up in $wait_s s:"
        diag_file "$DAEMON_LOG"
        return 1
    fi
    # setsid forks when it is a group leader: find the daemon itself
    # (`warmrun daemon` executes warmrun-daemon, with --socket first-hand).
    if [ "$(cat "/proc/$DAEMON_PID/comm" 2>/dev/null)" != warmrun-daemon ]; then
        DAEMON_PID=$(pgrep -n -f -- "warmrun-daemon .*--socket $SOCK( |\$)")
    fi
    return 0
}

# kill_daemon_in_pool_rm IMAGE: `pool rm IMAGE` in the background and the
# daemon SIGKILLed in the middle of its teardown.
kill_daemon_in_pool_rm() {
    wr pool rm "$1" >/dev/null 2>&1 &
    local rm=$!
    {
        kill -KILL "$DAEMON_PID"
        wait "$rm" "$DAEMON_PID"
    } 2>/dev/null
    DAEMON_PID=
}

_daemon_up() {
    [ -S "$SOCK" ] && WR_TIMEOUT=10 wr ps >/dev/null 2>&1
}

# stop_daemon: `shutdown`, then SIGKILL after 30 s. Returns the daemon's exit
# status (137 when it had to be killed), also left in DAEMON_RC. The bound
# is generous: a shutdown waits for its warm containers' shims to exit (up
# to 300 rounds of 10 ms, daemon_main.c), which on a loaded machine took
# more than the 5 s this once allowed.
stop_daemon() {
    DAEMON_RC=0
    [ -n "$DAEMON_PID" ] || return 0
    WR_TIMEOUT=30 wr shutdown >/dev/null 2>&1
    if ! poll_until 30 pid_gone "$DAEMON_PID"; then
        diag "the daemon did not stop in 30 s: SIGKILL"
        kill -KILL "$DAEMON_PID" 2>/dev/null
        poll_until 5 pid_gone "$DAEMON_PID"
    fi
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_RC=$?
    DAEMON_PID=
    return "$DAEMON_RC"
}

# daemon_fds / daemon_rss_kb: resources of the running daemon. daemon_fds
# leaves out the network namespaces it keeps for recycling (a pool's free
# list, bounded by its size: daemon_netns_fds counts them,
# 94-netns-recycle.t checks the bound), whose number follows the race
# between a container's exit and its pool's refill, and the sysfs mount
# kept with each (a detached mount: its link reads "/"; 120-sysfs-kept.t).
daemon_fds() {
    local f n=0
    for f in /proc/"$DAEMON_PID"/fd/*; do
        case $(readlink "$f" 2>/dev/null) in
        "" | net:\[*) continue ;;
        /) [ "$(stat -L -f -c %T "$f" 2>/dev/null)" = sysfs ] && continue ;;
        esac
        n=$((n + 1))
    done
    echo "$n"
}
# (the daemon's own namespace, kept open to come back after entering a
# function environment's, is not one of them)
daemon_netns_fds() {
    local own
    own=$(readlink "/proc/$DAEMON_PID/ns/net" 2>/dev/null)
    find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
        grep '^net:\[' | grep -vcxF "$own"
}
daemon_rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status" 2>/dev/null
}

# pool_field IMAGE COLUMN: a column of `pool ls` for IMAGE ("name:tag"):
# size warm filling running activations failures.
pool_field() {
    local col
    case $2 in
    size) col=2 ;;
    warm) col=3 ;;
    filling) col=4 ;;
    running) col=5 ;;
    activations) col=6 ;;
    failures) col=7 ;;
    *) return 1 ;;
    esac
    WR_TIMEOUT=10 wr pool ls 2>/dev/null | awk -v img="$1" -v c="$col" '$1 == img {print $c}'
}

# pool_full IMAGE: every container of the pool is warm.
pool_full() {
    local line
    line=$(WR_TIMEOUT=10 wr pool ls 2>/dev/null | awk -v img="$1" '$1 == img')
    [ -n "$line" ] || return 1
    set -- $line
    [ "$3" -ge "$2" ] && [ "$4" -eq 0 ]
}

# wait_pool_full IMAGE [SECONDS]: polls (default 30 s) until pool_full.
wait_pool_full() {
    poll_until "${2:-30}" pool_full "$1"
}

# ---- this test's processes -----------------------------------------------

# our_pids: every process of this test: those whose command line mentions
# STATE (the daemon, shims, not yet activated containers, CLIs) and those
# living in one of its containers (their mounts name STATE/mnt/upper; not
# STATE alone: every host process sees the tmpfs of STATE/containers).
our_pids() {
    [ -n "${STATE:-}" ] || return 0
    # One grep each over every process. The lists are expanded here, before
    # grep starts, so that grep (whose arguments name STATE) is not in them.
    local cmdlines=(/proc/[0-9]*/cmdline) mountinfos=(/proc/[0-9]*/mountinfo)
    {
        grep -laF -- "$STATE" "${cmdlines[@]}"
        grep -laF -- "$STATE/mnt/" "${mountinfos[@]}"
    } 2>/dev/null | cut -d/ -f3 | sort -un | grep -vx -e "$$" -e "$BASHPID"
}

# our_pids_except_daemon
our_pids_except_daemon() {
    our_pids | grep -vx -- "${DAEMON_PID:-none}"
}

# no_container_pids: none of this test's shims or containers runs (the
# daemon and CLIs aside).
no_container_pids() {
    local p
    for p in $(our_pids_except_daemon); do
        case $(cat "/proc/$p/comm" 2>/dev/null) in
        warmrun | warmrun-daemon | warmrun-shimsrv | timeout | "") ;;
        *) return 1 ;;
        esac
    done
    return 0
}

# show_pids PID...: ps lines for a diagnostic.
show_pids() {
    [ $# -gt 0 ] || return 0
    ps -o pid,ppid,stat,comm,args -p "$(echo "$@" | tr ' ' ',')" 2>/dev/null | cut -c1-200 |
        sed 's/^/#   /' >&2
}

# host_mountinfo: the host's mounts (/proc/self/mountinfo) without the
# tmpfs of each state directory's records (other tests add and remove
# theirs, and no container's mount is one) and without the mounts under the
# private directories of other test runs and benchmarks (wr-it-*,
# warmrun-bench.* beside T): runs of other engineers on the same machine
# make and remove them at any moment (a count once changed under a run of
# 60-leaks), and none can be a mount of this test's.
host_mountinfo() {
    awk -v own="${T:-/nonexistent}/" -v tmp="${TMPDIR:-/tmp}/" '
        / - tmpfs warmrun-records / { next }
        index($5, tmp "wr-it-") == 1 && index($5 "/", own) != 1 { next }
        index($5, tmp "warmrun-bench.") == 1 { next }
        { print }' /proc/self/mountinfo
}

host_mounts() {
    host_mountinfo | wc -l
}

# records_mounts [DIR]: the mount points of records tmpfs under DIR
# (default T), deepest first.
records_mounts() {
    awk -v dir="${1:-$T}/" '/ - tmpfs warmrun-records / && index($5, dir) == 1 {print $5}' \
        /proc/self/mountinfo | sort -r
}

# state_mounts: how many of the host's mounts name this test's state
# directory (its records tmpfs aside).
state_mounts() { host_mountinfo | grep -c -F -- "$STATE"; }

# own_cgroups: how many cgroups (child cgroups included) this test's scope
# has in every hierarchy, v1 and v2, the scope directories aside.
own_cgroups() {
    local scope
    scope=$(scope_of "$STATE")
    find /sys/fs/cgroup/*/warmrun/"$scope" /sys/fs/cgroup/warmrun/"$scope" -mindepth 1 -type d \
        2>/dev/null | wc -l
}
no_cgroups() { [ "$(own_cgroups)" -eq 0 ]; }

# need_v1_hierarchies NAME...: skips the whole test unless each is a v1
# cgroup hierarchy mounted at /sys/fs/cgroup/NAME.
need_v1_hierarchies() {
    local h
    for h in "$@"; do
        awk -v m="/sys/fs/cgroup/$h" '$5 == m && $9 == "cgroup"' /proc/self/mountinfo | grep -q . ||
            skip_all "no v1 $h hierarchy at /sys/fs/cgroup/$h"
    done
}

# views_after IMAGE VIEW FRESH DIRTY [--wait]: 5 activations (--no-cold) of
# IMAGE, each running sh -c VIEW, after a tenant left traces in its network
# namespace; with --wait, each once the pool is full again. Sets CLEAN (how
# many printed exactly the file FRESH, a fresh namespace's view), REUSED
# (how many ended their stderr with the line DIRTY: the tenant's namespace
# cookie) and SEEN (what the others printed, for the diagnostic).
views_after() {
    local image=$1 view=$2 fresh=$3 dirty=$4 wait=${5:-} i
    CLEAN=0 REUSED=0 SEEN=""
    for i in 1 2 3 4 5; do
        [ "$wait" = --wait ] && { wait_pool_full "$image" 30 || diag "pool not full"; }
        wr activate --no-cold "$image" -- sh -c "$view" >"$T/views.out" 2>"$T/views.err"
        [ "$(tail -n1 "$T/views.err")" = "$dirty" ] && REUSED=$((REUSED + 1))
        if cmp -s "$T/views.out" "$fresh"; then
            CLEAN=$((CLEAN + 1))
        else
            SEEN="$SEEN $(tr -s ' \n' ' ' <"$T/views.out")"
        fi
    done
}

# udp_listen ADDR [NETNS]: a UDP listener on ADDR (in network namespace
# NETNS when given), on a free port, that writes every datagram to
# $T/heard as "SOURCE TEXT" until 3 s pass quietly (its first line: the
# port). Sets LISTEN (its pid) and LPORT.
udp_listen() {
    local addr=$1 ns=${2:-} run=()
    [ -n "$ns" ] && run=(ip netns exec "$ns")
    "${run[@]}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
s.settimeout(3)
try:
    while True:
        data, src = s.recvfrom(200)
        print(src[0], data.decode(), flush=True)
except socket.timeout:
    pass
' "$addr" >"$T/heard" 2>&1 &
    LISTEN=$!
    poll_until 5 test -s "$T/heard"
    LPORT=$(head -n1 "$T/heard")
}

# ---- cleanup ------------------------------------------------------------

cleanup() {
    local rc=$? pids round
    trap - EXIT
    [ -n "${T:-}" ] || exit "$rc"
    if [ -n "${DAEMON_PID:-}" ]; then
        stop_daemon >/dev/null 2>&1
    fi
    # Shims first: a container dies with its shim (PDEATHSIG). A process
    # can still appear after a first empty sweep (a detached teardown or
    # network helper finishing its work), so an empty sweep ends the loop
    # only when a second one, a moment later, is empty too.
    local empty=0
    for round in 1 2 3 4 5 6 7 8 9 10 11 12; do
        pids=$(our_pids)
        if [ -z "$pids" ]; then
            empty=$((empty + 1))
            [ "$empty" -ge 2 ] && break
            sleep 0.5
            continue
        fi
        empty=0
        if [ "$round" -eq 1 ]; then
            echo "# cleanup: killing leftover processes of $STATE:" >&2
            show_pids $pids
        fi
        kill -KILL $pids 2>/dev/null
        sleep 0.2
    done
    pids=$(jobs -p)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    wait 2>/dev/null
    if [ -n "$(our_pids)" ]; then
        echo "# cleanup: processes of $STATE survived SIGKILL" >&2
        rc=1
    fi
    # The cgroups of this test's containers and its daemon's scope, under
    # every hierarchy: a daemon killed on purpose cannot remove them, and
    # no later daemon will serve this state directory. rmdir removes only
    # empty cgroups (depth first).
    # Some tests run a second daemon on another state directory of theirs,
    # under $T: their scopes go the same way.
    local scope d sd
    for sd in "$STATE" $(find "$T" -mindepth 1 -maxdepth 2 -type d 2>/dev/null); do
        scope=$(scope_of "$sd")
        for d in /sys/fs/cgroup/*/warmrun/"$scope" /sys/fs/cgroup/warmrun/"$scope" \
            /sys/fs/cgroup/*/warmrun-functions/"$scope"; do
            [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
    done
    # The records' tmpfs of every state directory of the test's (they
    # outlive every process, as they must). Lazily: a process of another
    # mount namespace may still hold it.
    local m
    for m in $(records_mounts); do
        umount -l "$m" || rc=1
    done
    if [ -n "${KEEP_TMP:-}" ]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}

# ---- activating in the current mode -----------------------------------------

# act ARGS...: `activate ARGS` in the current $mode (cold or warm), stdout
# and stderr in $out and $err, status in $rc. Warm: waits for a full
# busybox pool first and refuses a cold start.
act() {
    act_raw "$@" >"$out" 2>"$err"
    rc=$?
}

# act_raw ARGS...: the same, with the caller's redirections.
act_raw() {
    if [ "$mode" = warm ]; then
        wait_pool_full busybox:latest 30 || diag "pool not full before an activation"
        wr activate --no-cold "$@"
    else
        wr activate "$@"
    fi
}

# show_err: the start of $err as a diagnostic, if there is any.
show_err() { [ -s "$err" ] && diag "stderr: $(head -c 300 "$err")"; }

# ---- the attack image ---------------------------------------------------------

# scope_of STATE_DIR: the cgroup scope of a state directory (the FNV-1a hash
# of its path, as runtime/lib/cgroup.c names it).
scope_of() {
    local s=$1 h=2166136261 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$((((h ^ c) * 16777619) & 0xffffffff))
    done
    printf '%08x' "$h"
}

# layer_dir NAME: the directory of the layer add_layer_image made for NAME.
layer_dir() {
    echo "$STORE/layers/sha256/$(echo -n "layer-$1" | sha256sum | cut -c1-64)/root"
}

# add_layer_image NAME CONFIG-JSON SETUP: writes an image "NAME:latest" into
# STORE: busybox's layer and one made by running SETUP (shell) in an empty
# directory, with the image config CONFIG-JSON.
add_layer_image() {
    local name=$1 config=$2 setup=$3 hex dir bb
    bb=$(basename "$(dirname "$LAYER")")
    hex=$(echo -n "layer-$name" | sha256sum | cut -c1-64)
    dir=$STORE/layers/sha256/$hex/root
    mkdir -p "$dir" "$STORE/images/$name" || return 1
    (cd "$dir" && eval "$setup") || return 1
    cat >"$STORE/images/$name/latest.json" <<JSON
{"schema": 1, "name": "$name", "tag": "latest", "id": "sha256:$hex",
 "created": "2026-01-01T00:00:00Z", "layers": ["sha256:$bb", "sha256:$hex"],
 "config": $config}
JSON
}

# add_helper_image NAME HELPER FILE [ENTRYPOINT_JSON]: writes an image
# "NAME:latest" into STORE: two layers, busybox's and one holding the static
# HELPER (a test program) as /FILE, laid out as runtime/lib/image_store.h
# documents. ENTRYPOINT_JSON defaults to null (Cmd is then ["sh"]).
add_helper_image() {
    local name=$1 helper=$2 file=$3 entry=${4:-null} bb hex dir cmd='["sh"]'
    [ -x "$helper" ] || bail_out "$helper is not built (make)"
    [ "$entry" != null ] && cmd=null
    bb=$(basename "$(dirname "$LAYER")")
    hex=$(sha256sum "$helper" | cut -c1-64)
    dir=$STORE/layers/sha256/$hex/root
    mkdir -p "$dir" "$STORE/images/$name" || return 1
    install -m 0755 "$helper" "$dir/$file" || return 1
    cat >"$STORE/images/$name/latest.json" <<JSON
{"schema": 1, "name": "$name", "tag": "latest", "id": "sha256:$hex",
 "created": "2026-01-01T00:00:00Z", "layers": ["sha256:$bb", "sha256:$hex"],
 "config": {"Entrypoint": $entry, "Cmd": $cmd,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "WorkingDir": "/", "User": ""}}
JSON
}

# add_attack_image: "attack:latest", the attack helper (tests/attack) as
# its Entrypoint /attack.
add_attack_image() {
    add_helper_image attack "${WARMRUN_BUILD_DIR:-$PWD/build}/attack/attack" attack '["/attack"]'
}

# netns_on_bridge NS HOSTIF BRIDGE ADDR/PREFIX: a network namespace NS (the
# caller's to delete) whose eth0 has ADDR, the peer of HOSTIF on BRIDGE:
# a host or server on a warmrun network that is not a container.
netns_on_bridge() {
    ip netns add "$1" &&
        ip link add "$2" type veth peer name eth0 netns "$1" &&
        ip link set "$2" master "$3" up &&
        ip -n "$1" link set lo up && ip -n "$1" link set eth0 up &&
        ip -n "$1" addr add "$4" dev eth0
}

# private_bridge_network TAG SALT: a bridge network for this run, its every
# global name derived from $$ (network TAG$$, bridge TAGb$$, nft tables
# warmrun_TAG$$, a /24 of 10.200-249.x picked with SALT), created with
# `network create`; sets NET, BR, SUBNET, GW. The caller's trap removes
# them (net_names_cleanup).
private_bridge_network() {
    NET=$1$$
    BR=$1b$$
    local oct2=$((200 + ($$ + $2) % 50)) oct3=$((($$ / 50 + $2) % 250))
    SUBNET=10.$oct2.$oct3.0/24
    GW=10.$oct2.$oct3.1
    wr network create "$NET" --subnet "$SUBNET" --bridge "$BR" >"$T/network.out" 2>&1
}

# net_names_cleanup: removes what private_bridge_network made.
net_names_cleanup() {
    ip link del "$BR" 2>/dev/null
    nft delete table bridge "warmrun_$NET" 2>/dev/null
    nft delete table ip "warmrun_$NET" 2>/dev/null
}

#!/bin/bash
# TAP test of the CLI's start-up: bin/warmrun is linked statically with musl
# (Makefile, CLI_STATIC), without glibc's start-up, whose cpuid probing of
# the caches (init_cacheinfo, intel_check_word) is a VM exit per
# instruction on every exec of the CLI, i.e. on every activation. The
# binary: static (no interpreter, no dynamic section), no glibc version
# strings, no intel_check_word, no glibc tunable names, musl's
# start-up. The behaviour the CLI takes from its C library: usage and
# option errors (one line of its own, whichever library's getopt; musl's
# leaves optind past argc after a short option missing its value),
# permuted options, CPU sets of 1024 CPUs (musl's CPU_SETSIZE is 128),
# cold and warm activations, exit statuses, signals by name, JSON through jansson (ps, pool ls, stats with reals), and an error
# with glibc's strerror text. An ASan build keeps the glibc CLI: the
# binary checks are skipped there. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env cli-start
out=$T/out
err=$T/err
CLI=$WARMRUN_BIN_DIR/warmrun

# one_line TEXT DESC: stderr is exactly the line TEXT.
one_line() {
    is "$(wc -l <"$err") $(cat "$err")" "1 $1" "$2"
}

# ---- the binary -------------------------------------------------------------------
if [ "$ASAN" -eq 1 ]; then
    skip 6 "an ASan build links the CLI with glibc (musl has no ASan)"
else
    is "$(readelf -lW "$CLI" | grep -c 'INTERP')" 0 "static: no program interpreter (PT_INTERP)"
    readelf -dW "$CLI" | grep -q "no dynamic section"
    ok $? "static: no dynamic section"
    is "$(grep -acE 'GLIBC_(PRIVATE|TUNABLES|ABI_DT_RELR|2\.)' "$CLI")" 0 \
        "no glibc version or tunable strings (GLIBC_PRIVATE, GLIBC_TUNABLES...)"
    is "$(nm "$CLI" | grep -cwE 'intel_check_word|handle_intel|init_cacheinfo')" 0 \
        "no glibc cache probing (intel_check_word, handle_intel, init_cacheinfo)"
    is "$(grep -ac 'x86_data_cache_size' "$CLI")" 0 "no glibc tunables (glibc.cpu.x86_data_cache_size)"
    nm "$CLI" | grep -qw __init_libc
    ok $? "musl's start-up (__init_libc)"
fi

# ---- usage and option errors, without a daemon ------------------------------------
wr --help >"$out" 2>"$err"
is "$?" 0 "--help: exit 0"
like "$(head -n1 "$out")" "^usage: warmrun " "... the usage on stdout"
wr --no-such-option >"$out" 2>"$err"
is "$?" 2 "an unknown option: exit 2"
one_line "warmrun: unknown option --no-such-option (see warmrun --help)" "... one line of the CLI's own"
wr activate -e >"$out" 2>"$err"
is "$?" 2 "a short option missing its value at the end: exit 2 (no crash)"
one_line "warmrun: activate: option -e needs a value (see warmrun activate --help)" "... one line"
wr pool create busybox --size 2 --bogus >"$out" 2>"$err"
is "$?" 2 "an unknown option after the image: exit 2"
one_line "warmrun: pool create: unknown option --bogus (see docs/cli.md#pool-create)" "... one line"
wr stats --bogus >"$out" 2>"$err"
is "$?" 2 "stats: an unknown option: exit 2"
one_line "warmrun: stats: unknown option --bogus (usage: warmrun stats [--no-stream] [--json] [ID...] | stats --daemon [--json])" \
    "... one line"
wr kill 0123456789ab NOSUCHSIG >"$out" 2>"$err"
is "$?" 2 "kill with an unknown signal name: exit 2"
one_line 'warmrun: unknown signal "NOSUCHSIG"' "... one line"
# A symbolic link loop: ELOOP, in glibc's words (as the daemon's errors).
ln -s "$T/loop-b" "$T/loop-a"
ln -s "$T/loop-a" "$T/loop-b"
wr activate --volume "$T/loop-a:/x" busybox -- true >"$out" 2>"$err"
is "$?" 2 "a bind source that is a symbolic link loop: exit 2"
one_line "warmrun: bind source $T/loop-a: Too many levels of symbolic links" \
    "... one line, with glibc's strerror text"

# CPU sets hold 1024 CPUs with either library (musl's CPU_SETSIZE says 128):
# CPU 1000 is a well-formed set, refused only because it is not online.
wr activate --cpuset-cpus 1000 busybox -- true >"$out" 2>"$err"
is "$?" 125 "--cpuset-cpus 1000: exit 125, not a usage error"
like "$(cat "$err")" "CPU 1000 is not online" "... the CPU is not online (the set itself is valid)"

# ---- cold: the CLI runs the whole set-up itself -----------------------------------
wr activate --cold busybox -- sh -c 'echo "cold $$ $(hostname | wc -c)"' >"$out" 2>"$err"
is "$?" 0 "a cold activation: exit 0" || show_err
is "$(cat "$out")" "cold 1 13" "... the workload ran as pid 1 of its container (hostname: its id)"
wr activate --cold busybox -- sh -c 'exit 7' >"$out" 2>"$err"
is "$?" 7 "a cold activation: the workload's exit status (7)"
echo piped | wr activate busybox -- cat >"$out" 2>"$err"
is "$(cat "$out")" "piped" "no daemon: a cold start, stdin relayed"
wr activate nosuchimage -- true >"$out" 2>"$err"
is "$?" 125 "an image that does not exist: exit 125"
like "$(wc -l <"$err") $(cat "$err")" '^1 warmrun: image "nosuchimage" not found' "... one line"

# ---- warm: a daemon and a pool ------------------------------------------------------
start_daemon || bail_out "the daemon did not start"
# Options before the image, permuted ones after it: the same pool.
wr pool create --size 1 busybox --wait >"$out" 2>"$err"
ok $? "pool create --size 1 busybox --wait" || show_err
wr pool create busybox --wait --size 2 >"$out" 2>"$err"
ok $? "pool create busybox --wait --size 2 (options after the image)" || show_err
wait_pool_full busybox:latest 30
wr pool ls --json >"$out" 2>"$err"
ok $? "pool ls --json: exit 0"
is "$(jq -r '.pools[] | select(.image == "busybox:latest") | "\(.size) \(.warm)"' "$out")" "2 2" \
    "pool ls --json: busybox:latest, size 2, 2 warm (the last resize)"
wr ps --json >"$out" 2>"$err"
ok $? "ps --json: exit 0"
is "$(jq -r '[.containers[] | select(.state == "warm")] | length' "$out")" 2 \
    "ps --json: the 2 warm containers"
wr activate --no-cold -v busybox -- echo warm >"$out" 2>"$err"
is "$?" 0 "a warm activation (--no-cold): exit 0" || show_err
is "$(cat "$out")" "warm" "... its output"
like "$(cat "$err")" '^warmrun: warm container [0-9a-f]{12}: request to exec [0-9]+\.[0-9] us, ' \
    "... -v: the times, printed with one decimal"
wr stats --daemon --json >"$out" 2>"$err"
ok $? "stats --daemon --json: exit 0"
like "$(jq -r '.stats | "\(.activations) \(.warm_hits) \(.p50_us)"' "$out")" '^1 1 [0-9]+(\.[0-9]+)?$' \
    "stats --daemon --json: 1 activation, 1 warm hit, a real p50"
# A signal by name, to a running container, through the daemon (pid 1
# takes only the signals it handles: the shell traps USR1).
wait_pool_full busybox:latest 30
wr activate --no-cold busybox -- sh -c 'trap "exit 3" USR1; echo ready; sleep 60 & wait' >"$T/trap.out" 2>&1 &
TRAPPER=$!
running_id() { wr ps --json | jq -r '.containers[] | select(.state == "running") | .id' | head -n1; }
poll_until 20 grep -q ready "$T/trap.out"
wr kill "$(running_id)" Usr1 >"$out" 2>"$err"
is "$?" 0 "kill ID Usr1 (a signal by its name, any case): exit 0" || show_err
wait "$TRAPPER"
is "$?" 3 "... the workload's trap ran: the activation exits 3"

done_testing

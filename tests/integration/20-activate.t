#!/bin/bash
# TAP test of `warmrun activate`: the same checks run twice, first cold (no
# daemon: the CLI starts the container itself), then warm (a daemon with a
# pool; every activation uses --no-cold, so a cold start cannot pass for a
# warm one). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env activate

IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
POOL_SIZE=3
out=$T/out
err=$T/err


# act_in DATA-FILE ARGS...: act with stdin from DATA-FILE.
act_in() {
    local data=$1
    shift
    act "$@" <"$data"
}


# one_error_line PATTERN DESC: stderr is exactly one line matching PATTERN.
one_error_line() {
    local lines
    lines=$(wc -l <"$err")
    [ "$lines" -eq 1 ] && grep -Eq "$1" "$err"
    ok $? "$2" || { diag "stderr ($lines lines):"; diag_file "$err"; }
}

head -c 300000 /dev/urandom >"$T/blob"
printf 'data\nsecond line\n' >"$T/small"
export WR_TEST_LEAK=1
blob_md5=$(md5sum <"$T/blob" | cut -d' ' -f1)

for mode in cold warm; do
    if [ "$mode" = warm ]; then
        start_daemon || bail_out "the daemon did not start"
        wr pool create busybox --size "$POOL_SIZE" --wait >"$out" 2>"$err"
        ok $? "warm: pool create --size $POOL_SIZE --wait" || { show_err; bail_out "no pool"; }
    else
        [ ! -e "$SOCK" ]
        ok $? "cold: no daemon socket"
    fi
    m="$mode:"

    # --- stdout, exit codes ----------------------------------------------
    act busybox -- echo hello
    [ "$rc" -eq 0 ] && [ "$(cat "$out")" = hello ] && [ ! -s "$err" ]
    ok $? "$m echo hello: exit 0, stdout 'hello', empty stderr (rc $rc)" || show_err

    act busybox -- sh -c 'printf "a b\n"; printf "%s|" "$@"' sh 'x y' '' z
    is "$(cat "$out")" "a b
x y||z|" "$m arguments arrive unsplit, empty ones included"

    act busybox -- sh -c 'exit 7'
    is "$rc" 7 "$m sh -c 'exit 7' exits 7"

    act busybox -- sh -c 'exit 255'
    is "$rc" 255 "$m sh -c 'exit 255' exits 255"

    act busybox -- /etc/passwd
    is "$rc" 126 "$m a non-executable file exits 126"
    one_error_line '^warmrun: .*/etc/passwd.*(denied|executable)' \
        "$m   with one line on stderr naming it"
    [ ! -s "$out" ]
    ok $? "$m   and nothing on stdout"

    act busybox -- /nonexistent
    is "$rc" 127 "$m /nonexistent exits 127"
    one_error_line '^warmrun: .*/nonexistent' "$m   with one line on stderr naming it"

    act busybox -- nosuchcmd
    is "$rc" 127 "$m nosuchcmd (PATH search) exits 127"
    one_error_line '^warmrun: .*nosuchcmd.*not found' "$m   with one line on stderr naming it"

    act busybox -- /etc
    is "$rc" 126 "$m a directory exits 126"

    # pid 1 of a pid namespace cannot be killed from inside it, so the
    # kernel's own SIGKILL (CPU hard limit) stands in for `kill -9`.
    act busybox -- sh -c 'ulimit -t 1; while :; do :; done'
    is "$rc" 137 "$m a workload killed by SIGKILL (CPU limit) exits 137"

    act busybox -- sh -c 'sh -c "kill -9 \$\$"; exit $?'
    is "$rc" 137 "$m a child killed by SIGKILL gives its shell's 137"

    # Without --init the workload is pid 1 of its pid namespace, and the
    # kernel discards a signal it sends itself (docs/cli.md): not 137.
    act busybox -- sh -c 'kill -9 $$; echo survived'
    is "$rc/$(cat "$out")" 0/survived "$m without --init, sh -c 'kill -9 \$\$' survives (pid 1)"

    # --init: the workload is pid 2, with ordinary signal semantics.
    act --init busybox -- sh -c 'echo $$'
    is "$(cat "$out")" 2 "$m --init: the command runs as pid 2"
    act --init busybox -- sh -c 'kill -9 $$'
    is "$rc" 137 "$m --init: sh -c 'kill -9 \$\$' exits 137"
    act --init busybox -- sh -c 'exit 9'
    is "$rc" 9 "$m --init: the command's exit status is passed on"

    # --- stdin ---------------------------------------------------------------
    act_in "$T/small" busybox -- cat
    [ "$rc" -eq 0 ] && cmp -s "$T/small" "$out"
    ok $? "$m stdin is piped through (cat)"

    echo data | { act busybox -- cat; }
    is "$(cat "$out")" data "$m echo data | activate cat"

    act_in "$T/blob" busybox -- md5sum
    is "$(cut -d' ' -f1 "$out")" "$blob_md5" "$m 300 KB of stdin arrive intact (md5sum)"

    act_in "$T/blob" busybox -- cat
    cmp -s "$T/blob" "$out"
    ok $? "$m 300 KB through cat come back intact"

    # A closed descriptor of the caller reaches the workload as a pipe of
    # the CLI's: empty for stdin, drained and dropped for an output (never
    # the host's /dev/null: 76-escape-stdio.t).
    act busybox -- cat <&-
    [ "$rc" -eq 0 ] && [ ! -s "$out" ]
    ok $? "$m a closed stdin reads as empty (rc $rc)" || show_err

    act_raw busybox -- sh -c 'echo gone' >&- 2>"$err"
    is "$?" 0 "$m a closed stdout: the output is dropped (rc 0)"

    act_raw busybox -- sh -c 'echo dropped >&2; readlink /proc/self/fd/2' >"$out" 2>&-
    like "$(cat "$out")" '^pipe:' "$m a closed stderr: a pipe, whose output is dropped"

    # --- environment ---------------------------------------------------------
    act -e FOO=bar -e 'SPACED=a b  c' -e EMPTY= busybox -- env
    grep -qx FOO=bar "$out" && grep -qx 'SPACED=a b  c' "$out" && grep -qx 'EMPTY=' "$out"
    ok $? "$m -e K=V is visible (also with spaces, and empty)" || diag_file "$out"
    grep -qx "PATH=$IMAGE_PATH" "$out"
    ok $? "$m the image's default PATH is set"
    host=$(sed -n 's/^HOSTNAME=//p' "$out")
    like "$host" '^[0-9a-f]{12}$' "$m HOSTNAME is set to the container id"
    grep -qx 'HOME=/root' "$out"
    ok $? "$m HOME=/root"
    ! grep -q WR_TEST_LEAK "$out"
    ok $? "$m the caller's environment does not leak in"

    act -e A=1 -e A=2 -e PATH=/bin busybox -- /usr/bin/env
    [ "$(grep -c '^A=' "$out")" -eq 1 ] && grep -qx A=2 "$out" && grep -qx PATH=/bin "$out" &&
        [ "$(grep -c '^PATH=' "$out")" -eq 1 ]
    ok $? "$m the last -e wins and -e PATH overrides the image's" || diag_file "$out"

    act -e PATH=/nowhere busybox -- sh -c 'echo $PATH'
    is "$rc" 127 "$m the PATH searched is the container's (-e PATH=/nowhere: sh not found)"

    # --- working directory ---------------------------------------------------
    act busybox -- pwd
    is "$(cat "$out")" / "$m the default working directory is /"

    act -w /tmp busybox -- pwd
    is "$(cat "$out")" /tmp "$m -w /tmp"

    act -w /no/such/deep/dir busybox -- sh -c 'pwd; ls -ld /no/such/deep/dir | cut -c1'
    is "$(cat "$out")" "/no/such/deep/dir
d" "$m -w of a missing directory creates it"

    act -w /etc/passwd busybox -- pwd
    is "$rc" 126 "$m -w of a file exits 126"
    one_error_line '^warmrun: .*/etc/passwd' "$m   with one line on stderr"

    # --- hostname ------------------------------------------------------------
    act --hostname myhost busybox -- sh -c 'hostname; echo $HOSTNAME'
    is "$(cat "$out")" "myhost
myhost" "$m --hostname sets hostname and HOSTNAME"

    act busybox -- sh -c 'hostname; echo $HOSTNAME'
    h1=$(sed -n 1p "$out")
    [ "$h1" = "$(sed -n 2p "$out")" ] && [ "$h1" != myhost ] && [[ $h1 =~ ^[0-9a-f]{12}$ ]]
    ok $? "$m without --hostname: the container id, never the previous one ($h1)"

    # --- stderr --------------------------------------------------------------
    act busybox -- sh -c 'echo out; echo err >&2; echo out2'
    [ "$rc" -eq 0 ] && [ "$(cat "$out")" = "out
out2" ] && [ "$(cat "$err")" = err ]
    ok $? "$m stderr is passed through separately from stdout" || { diag_file "$out"; show_err; }

    # --- usage errors ----------------------------------------------------------
    act
    is "$rc" 2 "$m activate without an image: exit 2"
    act -w relative busybox -- true
    is "$rc" 2 "$m -w of a relative path: exit 2"
    act --hostname 'bad host' busybox -- true
    is "$rc" 2 "$m --hostname with a space: exit 2"
    act -e NOEQUALS busybox -- true
    is "$rc" 2 "$m -e without '=': exit 2"

    # --- the image -------------------------------------------------------------
    # (not --no-cold: a daemon has no pool for it, the cold start finds no image)
    wr activate nosuchimage -- true >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 125 ] && grep -q 'not found' "$err"
    ok $? "$m an unknown image: exit 125, 'not found' (rc $rc)" || show_err

    act busybox
    is "$rc" 0 "$m no command: the image's default (sh, reading empty stdin)"

    printf 'echo from-default-cmd\n' >"$T/script"
    act_in "$T/script" busybox
    is "$(cat "$out")" from-default-cmd "$m the image's default command runs sh on stdin"

    if [ "$mode" = warm ]; then
        wait_pool_full busybox:latest 30
        ok $? "warm: the pool refilled to $POOL_SIZE"
        acts=$(pool_field busybox:latest activations)
        [ "${acts:-0}" -ge 25 ]
        ok $? "warm: the pool counted the activations ($acts)"
        # Every activation of this mode went warm (--no-cold would have failed).
        wr activate -v busybox -- true >"$out" 2>"$err"
        grep -q 'warm container' "$err"
        ok $? "warm: -v reports a warm container" || show_err
        stop_daemon
        ok $? "warm: the daemon shuts down cleanly (exit $DAEMON_RC)" || diag_file "$DAEMON_LOG"
        ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG"
        ok $? "warm: no sanitizer report in the daemon's log" || diag_file "$DAEMON_LOG" 40
    else
        [ -z "$(ls -A "$STATE/containers")" ]
        ok $? "cold: no container record is left behind"
    fi
    poll_until 5 no_container_pids
    ok $? "$m no shim or container is left running" || show_pids $(our_pids)
done

done_testing

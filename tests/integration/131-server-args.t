#!/bin/bash
# TAP test: the shim server is executed with one padding argument, not
# thousands (shim_fork.h, WR_SHIM_FORK_PAD): execve copies each argument on
# its own, so 8,192 empty strings cost ~0.3 ms of CPU per server start and
# held the daemon as long in posix_spawn (a server starts every 32 fills,
# docs/benchmarks.md "Seventh round"). Read from the server's own stack:
# argc lies at the address /proc/PID/stat calls startstack. The argument
# area keeps its size, is cleared to NUL beyond the server's arguments
# (what a forked shim relies on: it writes only its own argv), and forked
# shims still show their own argv. Fails on binaries before this change
# (argc 8,200). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env srvargs

IMG=busybox:latest

server_pid() { pgrep -P "$DAEMON_PID" -x warmrun-shimsrv; }
# argc of a process: the 8 bytes at its startstack, read through /proc/PID/mem.
argc_of() {
    perl -e 'my $p = shift; open(my $s, "<", "/proc/$p/stat") or exit 1;
        my @f = split / /, (<$s> =~ s/^.*\) //r); my $at = $f[25];
        open(my $m, "<", "/proc/$p/mem") or exit 1; sysseek($m, $at, 0) or exit 1;
        sysread($m, my $b, 8) == 8 or exit 1; print unpack("Q<", $b), "\n"' "$1"
}

start_daemon || bail_out "the daemon did not start"
wr pool create "$IMG" --size 2 >/dev/null 2>&1 || bail_out "pool create failed"
wait_pool_full "$IMG" 30
ok $? "the pool fills through the server"
srv=$(server_pid)
[ -n "$srv" ]
ok $? "a shim server runs ($srv)"

argc=$(argc_of "$srv")
[ -n "$argc" ] && [ "$argc" -le 12 ]
ok $? "the server has at most 12 arguments (argc $argc)"

cmd=$(tr '\0' '\n' <"/proc/$srv/cmdline")
like "$(echo "$cmd" | head -2 | tr '\n' ' ')" '^warmrun-shim --server ' "the server's cmdline starts with its own arguments"
len=$(wc -c <"/proc/$srv/cmdline")
[ "$len" -ge 8192 ]
ok $? "its argument area keeps at least 8,192 bytes ($len)"
fields=$(tr '\0' '\n' <"/proc/$srv/cmdline" | grep -c .)
[ "$fields" -le 9 ]
ok $? "beyond the server's own arguments the area is all NUL ($fields non-empty fields)"
is "$(tr '\0' '\n' <"/proc/$srv/cmdline" | grep -c -E '^\.+$')" "0" "no padding byte is left"

shim=$(pgrep -P "$DAEMON_PID" -x warmrun-shim | head -1)
like "$(tr '\0' ' ' <"/proc/$shim/cmdline")" '^warmrun-shim --id [0-9a-f]{12} --image busybox:latest ' \
    "a forked shim shows its own argv"
is "$(tr '\0' ' ' <"/proc/$shim/cmdline" | grep -c -- '--server')" "0" "and nothing of the server's"

out=$(wr activate "$IMG" -- echo hello 2>&1)
is "$out" "hello" "a warm activation works"

stop_daemon
done_testing

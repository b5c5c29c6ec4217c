#!/bin/bash
# TAP test: the workload starts with every signal disposition at its
# default and an empty signal mask (as runc leaves them), while a forked
# shim and its pid 1 reset only the dispositions that are not the default
# (runtime/container/signal_reset.h), not all 62 (docs/benchmarks.md,
# "Signal dispositions: reset only what is not the default").
# - a cold start without a daemon, from a shell that ignores signals (an
#   exec'd shim cannot know which: every one is reset);
# - a daemon started from such a shell (its shim server's start state),
#   with and without --init (pid 1 and the workload as pid 2);
# - the system calls: the shims the server forks and their pid 1s make a
#   handful of rt_sigaction calls per fill, not ~125 (fails on the code
#   before).
# Needs root, busybox-static and strace.
. "$(dirname "$0")/lib.sh"
setup_env sigreset
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"

out=$T/out
err=$T/err
SIGS=(grep -E '^Sig(Blk|Ign|Cgt):' /proc/self/status)
ALL0=$'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000'

# 1. No daemon: the CLI executes the shim, which inherits what the shell
# ignores (HUP, USR1, a real-time signal).
(
    trap '' HUP USR1 RTMIN+5
    wr activate busybox -- "${SIGS[@]}" >"$out" 2>"$err"
)
ok $? "a cold start without a daemon, from a shell that ignores signals" || show_err
is "$(cat "$out")" "$ALL0" "  the workload: nothing ignored, caught or blocked"

# 2. A daemon started from a shell that ignores USR2, TTOU and a
# real-time signal: its shim server starts with them ignored.
(
    trap '' USR2 TTOU RTMIN+3
    start_daemon
) || bail_out "the daemon did not start"
DAEMON_PID=$(pgrep -n -f -- "warmrun-daemon .*--socket $SOCK( |\$)")
trace_server rt_sigaction,clone3,clone "$T/trace"

wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "a pool of 2" || show_err
wr activate --no-cold busybox -- "${SIGS[@]}" >"$out" 2>"$err"
is "$(cat "$out")" "$ALL0" "a warm workload: nothing ignored, caught or blocked" || show_err
wr activate --no-cold --init busybox -- "${SIGS[@]}" >"$out" 2>"$err"
is "$(cat "$out")" "$ALL0" "  under --init, the workload (pid 2) too" || show_err
wait_pool_full busybox:latest 30 || diag "pool not full"
kill "$TRACER" 2>/dev/null
wait "$TRACER" 2>/dev/null

# The traced children: every process but the server (shims, pid 1s).
kids=$(awk -v s="$SERVER" '$1 != s {print $1}' "$T/trace" | sort -u | grep -c .)
calls=$(awk -v s="$SERVER" '$1 != s && /rt_sigaction\(/' "$T/trace" | grep -c .)
[ "$kids" -ge 8 ]
ok $? "the trace holds the forked shims and their pid 1s ($kids processes)"
# Per fill: the shim undoes the server's own three (HUP, INT, PIPE), sets
# PIPE and CHLD; pid 1 resets what is not the default at the server's
# start (here USR2, TTOU, RTMIN+3, PIPE and a few more at most). The code
# before made 62 calls in each shim and 62 in each pid 1.
per=$((calls * 2 / kids))
[ "$per" -le 24 ]
ok $? "  $calls rt_sigaction calls in $kids processes: about $per per fill, not ~125" ||
    diag "$(awk -v s="$SERVER" '$1 != s && /rt_sigaction\(/' "$T/trace" | head -n 20)"

stop_daemon
done_testing

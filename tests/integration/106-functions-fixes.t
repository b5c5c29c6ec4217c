#!/bin/bash
# TAP test of fixes to functions (docs/functions.md, docs/security.md):
#
# The Runtime API's connections per function: the server (8192
# connections, no idle timeout) is shared by every function; one
# function's environments together hold at most 512 of them (32 each), so
# one function (--min 256 would fill the server) cannot starve the others.
# A function of 17 environments whose runtime (tests/attack/rtflood.c,
# idle32) opens 32 idle connections each holds at most 512 in all; the
# connections over its share are closed at accept and the daemon logs it,
# and another function's runtime still gets its connections.
. "$(dirname "$0")/lib.sh"
setup_env functions-fixes
out=$T/out
err=$T/err
RTFLOOD=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/rtflood
add_helper_image rtflood "$RTFLOOD" rtflood '["/rtflood"]' || bail_out "cannot write the rtflood image"
start_daemon || bail_out "the daemon did not start"

# ---- 1. a function's share of the Runtime API's connections -------------
LOG=$STATE/functions/hog.log
_held_lines() { grep -c '^holding' "$LOG" 2>/dev/null; }
_all_held() { [ "$(_held_lines)" -ge 17 ]; }
wr function create hog rtflood --handler idle32 --min 17 --max 17 --timeout 30 >"$out" 2>"$err"
ok $? "a function of 17 environments, each runtime opening 32 connections" || show_err
poll_until 90 _all_held
ok $? "  all 17 runtimes counted their open connections" || diag_file "$LOG"
held=$(grep '^holding' "$LOG" | awk '{s += $2} END {print s + 0}')
[ "$held" -le 512 ] && [ "$held" -ge 480 ]
ok $? "  its environments hold $held connections together (at most 512)" || diag_file "$LOG"
grep -q "function hog: Runtime API connection refused" "$DAEMON_LOG" 2>/dev/null
ok $? "  the daemon logged the refusal" || diag_file "$DAEMON_LOG"
OLOG=$STATE/functions/other.log
_other_held() { grep -q '^holding 2$' "$OLOG" 2>/dev/null; }
wr function create other rtflood --handler idle2 --min 1 --max 1 --timeout 30 >"$out" 2>"$err"
ok $? "another function meanwhile" || show_err
poll_until 30 _other_held
ok $? "  its runtime holds its 2 connections" || diag_file "$OLOG"
wr function rm hog >"$out" 2>"$err"
ok $? "  function rm hog" || show_err
wr function rm other >"$out" 2>"$err"

stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

#!/bin/bash
# TAP test: a shim server's hand-over (docs/architecture.md, "Fill path").
# A server forks 32 fills' shims, then is let go (its end of file: it exits
# by itself) and a new one, with an address layout of its own, takes over.
# The new one starts at once, beside the one let go, so that no fill is
# spawned (an exec and a start-up of its own) while the old one exits:
# here the old one is held stopped (SIGSTOP) across the hand-over, and
# every fill after the 32nd must still be forked, by the new server (its
# shims share its stack address, where a spawned shim's is its own). Once
# let run, the old one ends quietly and is reaped; nothing is left. Fails
# on a daemon that waits for the old server's reap (those fills are
# spawned). Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env srvhand

IMG=busybox:latest

servers() { pgrep -P "$DAEMON_PID" -x warmrun-shimsrv | sort -n; }
shims() { pgrep -P "$DAEMON_PID" -x warmrun-shim | sort -n; }
startstack() { awk '{print $28}' "/proc/$1/stat" 2>/dev/null; }

start_daemon || bail_out "the daemon did not start"
poll_until 10 servers >/dev/null
old=$(servers)
is "$(echo "$old" | wc -w)" 1 "one shim server"
wr pool create "$IMG" --size 32 >/dev/null 2>&1 || bail_out "pool create failed"
wait_pool_full "$IMG" 60
ok $? "a pool of 32 fills"
first=$(shims)
stack_old=$(startstack "$old")
n=0
for p in $first; do [ "$(startstack "$p")" = "$stack_old" ] && n=$((n + 1)); done
is "$n" 32 "  all 32 shims forked by that server (its stack address)"

# The server has served its 32: the next fill lets it go. Held stopped, it
# cannot exit.
kill -STOP "$old"
wr pool create "$IMG" --size 40 >/dev/null 2>&1
wait_pool_full "$IMG" 60
ok $? "the pool grows to 40 while the let-go server is stopped"
pid_alive "$old"
ok $? "  the let-go server is still there (stopped)"
new=$(servers | grep -vx "$old")
is "$(echo "$new" | wc -w)" 1 "  and a new server runs beside it" || diag "servers: $(servers | tr '\n' ' ')"
stack_new=$(startstack "$new")
isnt "$stack_new" "$stack_old" "  with a layout of its own"
later=$(comm -13 <(echo "$first") <(shims))
is "$(echo "$later" | wc -w)" 8 "  8 more shims"
m=0
for p in $later; do [ -n "$stack_new" ] && [ "$(startstack "$p")" = "$stack_new" ] && m=$((m + 1)); done
is "$m" 8 "  every one forked by the new server: none spawned"

kill -CONT "$old"
poll_until 10 pid_gone "$old"
ok $? "let run, the old server ends and is reaped" || show_pids "$old"
grep -q "shim server $old" "$DAEMON_LOG"
is "$?" 1 "  quietly: its end is not in the daemon's log"
is "$(servers)" "$new" "  one server left: the new one"

# A fill still works through the new server (and its count goes on).
out=$(wr activate "$IMG" -- echo hello 2>&1)
is "$out" "hello" "an activation after the hand-over"

# Stopped while a let-go server is still there: none outlives the daemon.
# (A new daemon, with no pool: the one before persists and is adopted.)
wr pool rm "$IMG" >/dev/null 2>&1
stop_daemon
start_daemon || bail_out "the daemon did not start again"
poll_until 10 servers >/dev/null
wr pool create "$IMG" --size 32 >/dev/null 2>&1
wait_pool_full "$IMG" 60
ok $? "a new daemon: a pool of 32 fills"
old=$(servers)
kill -STOP $old
wr pool create "$IMG" --size 33 >/dev/null 2>&1
wait_pool_full "$IMG" 60
ok $? "  and grows to 33 through a new server, the old one held stopped"
srvs=$(servers)
is "$(echo "$srvs" | wc -w)" 2 "  two servers: the let-go one and the new one" ||
    diag "servers: $(echo $srvs); first: $old"
stop_daemon
gone=0
for s in $srvs; do pid_gone "$s" && gone=$((gone + 1)); done
is "$gone" 2 "the daemon stopped: both servers are gone, the stopped one too" || show_pids $srvs

done_testing

#!/bin/bash
# TAP test: what a hostile review of the eighth round's changes found.
# - A daemon whose parent left SIGCHLD ignored (SIG_IGN survives execve:
#   a supervisor, a script, `perl -e '$SIG{CHLD}="IGNORE"; exec ...'`)
#   had its children reaped by the kernel unasked, and no SIGCHLD at all:
#   `pool create` failed with "waitpid: No child processes" (the seccomp
#   profile's compiler), and no shim's exit was ever reaped by the daemon.
#   Now the daemon, the network manager, the CLI and an executed shim set
#   SIGCHLD back to its default first (lib/signal_fd.h,
#   wr_sigchld_default), as the workload's own default is restored for it.
# Needs root, busybox-static and perl.
. "$(dirname "$0")/lib.sh"
setup_env review12
command -v perl >/dev/null 2>&1 || skip_all "perl is not installed"

out=$T/out
err=$T/err
# chld_ignored CMD...: CMD executed with SIGCHLD ignored, as such a parent
# leaves it.
chld_ignored() { perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' -- "$@"; }

# 1. The daemon.
setsid perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' -- "${WR[@]}" daemon \
    >>"$DAEMON_LOG" 2>&1 </dev/null &
DAEMON_PID=$!
poll_until 10 _daemon_up || {
    diag_file "$DAEMON_LOG"
    bail_out "the daemon did not start"
}
DAEMON_PID=$(pgrep -n -f -- "warmrun-daemon .*--socket $SOCK( |\$)")
ign=$(awk '/^SigIgn:/ {print $2}' "/proc/$DAEMON_PID/status")
ok "$(((0x$ign >> 16) & 1))" "a daemon started with SIGCHLD ignored does not keep it so" ||
    diag "SigIgn: $ign"
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "  a pool of 2 is made" || show_err
wr activate --no-cold busybox -- sh -c 'exit 5' >"$out" 2>"$err"
is $? 5 "  a warm container's exit code" || show_err
# A shim that has ended is the daemon's to reap: no zombie of ours stays.
zombies() { ps -eo ppid=,stat= | awk -v p="$DAEMON_PID" '$1 == p && $2 ~ /^Z/' | grep -c .; }
no_zombie() { [ "$(zombies)" -eq 0 ]; }
poll_until 10 no_zombie
ok $? "  the ended shims are reaped" || diag "$(zombies) zombies"
wr activate --memory 64m busybox -- sh -c 'exit 6' >"$out" 2>"$err"
is $? 6 "  a cold start of the daemon's: its exit code" || show_err
wr pool rm busybox >"$out" 2>"$err"
ok $? "  pool rm" || show_err
poll_until 10 no_container_pids
ok $? "  no container or shim left" || show_pids
stop_daemon
is "$DAEMON_RC" 0 "  the daemon stops cleanly"

# 2. The CLI's cold start (it executes the shim): the workload starts with
# SIGCHLD at its default (pid 1 resets it) and its code comes back.
chld_ignored "${WR[@]}" activate --cold busybox -- grep -E '^SigIgn:' /proc/self/status \
    >"$out" 2>"$err"
is "$(cat "$out")" $'SigIgn:\t0000000000000000' \
    "a cold start from a parent that ignores SIGCHLD: nothing ignored in the workload" || show_err
chld_ignored "${WR[@]}" activate --cold busybox -- sh -c 'exit 7' >"$out" 2>"$err"
is $? 7 "  and its exit code" || show_err
ok "$(no_cgroups && echo 0 || echo 1)" "nothing left in the cgroups"

done_testing

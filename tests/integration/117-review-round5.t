#!/bin/bash
# TAP test: what the fifth review round found in the CLI (now linked with
# musl) and the volumes, each fixed and kept fixed here.
#
# - An activation the daemon cannot be sent (a command, -e value or -w path
#   that is not UTF-8: JSON carries UTF-8 only) was cold-started by the CLI
#   with its own default settings even where the daemon has a pool of the
#   image: one byte that is not UTF-8 in an argument a platform passes on
#   took its caller out of the pool's settings (here a read-only root; as
#   well its limits, capabilities, network, user namespace). It is now
#   refused (125) around a pool; without a pool it still runs cold.
# - events --since parsed its RFC 3339 time with the C library's strptime,
#   whose texts differ between glibc and musl (a leading blank, a signed
#   or long year) and which took one-digit fields and a 30 February; a
#   huge or infinite number of seconds was converted to an integer
#   unchecked (undefined). Now exactly YYYY-MM-DDTHH:MM:SS[Z], a real date.
# - --help: bench without invoke, two environment variables missing, a
#   column off; README's `stats` was the daemon's latency (now --daemon).
# - A shim server let go and then held stopped (or traced, or stuck) was
#   kept until the daemon stopped; it is killed at the next hand-over.
# - What held (kept here): a volume over the container's /dev is refused
#   also through a symbolic link of the image that points at it.
# The first two fail on the code before. Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review5

out=$T/out
err=$T/err
NOT_UTF8=$(printf 'x\377y')

# ---- the help a new user reads -------------------------------------------------------
wr --help >"$out" 2>"$err"
like "$(grep '^  bench ' "$out")" "score, fill, invoke$" "--help: bench lists invoke, as warmrun bench --help does"
like "$(cat "$out")" "WARMRUN_SHIM_SERVER, WARMRUN_SHIM_SEAL" "--help: every environment variable of docs/cli.md"
is "$(grep -E '^  (activate|profile) ' "$out" | awk '{print index($0, "  run"), index($0, "  sample")}' | tr '\n' ' ')" \
    "32 0 0 32 " "--help: profile's text in the column of the others"

# ---- events --since: one grammar, whichever C library -----------------------------
# No daemon: a valid time gets as far as connecting (1), a bad one is a
# usage error (2) before that.
wr events --since 2026-12-01T00:00:00Z >"$out" 2>"$err"
is "$?" 1 "events --since 2026-12-01T00:00:00Z: valid (then: no daemon, 1)"
for bad in " 2026-12-01T00:00:00Z" "+2026-12-01T00:00:00Z" "2026-1-1T0:0:0Z" \
    "2026-02-30T00:00:00Z" "2026-12-01T24:00:00Z" "2026-12-01T00:00:00+01:00" 1e30 inf -5m; do
    wr events --since "$bad" >"$out" 2>"$err"
    is "$?" 2 "events --since \"$bad\": a usage error (2)"
done
like "$(cat "$err")" "^warmrun: events: --since -5m: expected unix seconds" "  with one line"

# ---- not UTF-8, no pool: a cold start passes the bytes through ------------------
wr activate busybox -- sh -c 'printf %s "$1" | od -An -c | tr -d " "' sh "$NOT_UTF8" >"$out" 2>"$err"
is "$?" 0 "no daemon: an argument that is not UTF-8 runs cold" || show_err
is "$(cat "$out")" 'x377y' "  and reaches the workload unchanged"

# ---- not UTF-8, a pool: refused, not cold with other settings ---------------------
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 --read-only --wait >"$out" 2>"$err"
ok $? "a pool with a read-only root" || show_err
PROBE='touch /probe 2>/dev/null && echo writable || echo read-only'
wr activate busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$(cat "$out")" "read-only" "  its containers: a read-only root" || show_err
wr activate busybox -- sh -c "$PROBE" sh "$NOT_UTF8" >"$out" 2>"$err"
rc=$?
is "$rc" 125 "an argument that is not UTF-8 around that pool: refused (125)"
is "$(cat "$out")" "" "  nothing ran (no cold start with a writable root)"
like "$(cat "$err")" "would not have the settings of the pool of busybox: refused" "  and says why" ||
    show_err
is "$(wc -l <"$err")" 1 "  in one line"
wr activate -e "V=$NOT_UTF8" busybox -- sh -c "$PROBE" >"$out" 2>"$err"
is "$?:$(cat "$out")" "125:" "an -e value that is not UTF-8 around that pool: refused too"
wr activate --cold busybox -- sh -c "$PROBE" sh "$NOT_UTF8" >"$out" 2>"$err"
is "$?:$(cat "$out")" "0:writable" "--cold: the activation's own settings, as asked" || show_err
add_layer_image other '{"Cmd": ["sh"]}' 'true' || bail_out "cannot write the image"
wr activate other -- sh -c 'printf %s "$1" | wc -c' sh "$NOT_UTF8" >"$out" 2>"$err"
is "$?:$(cat "$out")" "0:3" "an image without a pool: still a cold start" || show_err

# ---- a let-go shim server that never exits ---------------------------------------
# Held stopped from its hand-over on, it was kept until the daemon stopped
# (at most two servers, but this one forever). At the next hand-over, a
# generation (32 fills) later, it is killed and reaped.
# A new daemon, no pool: its first server has forked nothing yet.
wr pool rm busybox >/dev/null 2>&1
stop_daemon
start_daemon || bail_out "the daemon did not start again"
servers() { pgrep -P "$DAEMON_PID" -x warmrun-shimsrv | sort -n; }
poll_until 10 servers >/dev/null
first=$(servers)
is "$(echo "$first" | wc -w)" 1 "one shim server"
wr pool create busybox --size 32 --wait >"$out" 2>"$err"
ok $? "a pool of 32: the server's whole generation" || show_err
kill -STOP "$first"
wr pool create busybox --size 64 --wait >"$out" 2>"$err"
ok $? "32 more, the first server let go and held stopped" || show_err
pid_alive "$first"
ok $? "  the first server is still there (stopped)"
wr pool create busybox --size 66 --wait >"$out" 2>"$err"
ok $? "2 more: the second server is let go in turn" || show_err
poll_until 10 pid_gone "$first"
ok $? "  and the first, let go a generation ago, is killed and reaped" || show_pids "$first"
like "$(cat "$DAEMON_LOG")" "shim server $first \\(let go\\) has not exited since: killed" "  with a line in the log"
is "$(servers | wc -w)" 1 "  one server left, the current one" || diag "servers: $(servers | tr '\n' ' ')"
wr pool rm busybox >/dev/null 2>&1

# ---- what held: /dev through a symbolic link of the image ---------------------------
add_layer_image devlink '{"Cmd": ["sh"]}' 'ln -s /dev devlink && ln -s ../dev devrel' ||
    bail_out "cannot write the image"
for t in /devlink /devrel; do
    wr activate --cold --tmpfs "$t" devlink -- true >"$out" 2>"$err"
    is "$?" 125 "--tmpfs $t (a link to /dev in the image): refused (125)"
    like "$(cat "$err")" "is the container's /dev: refused" "  as /dev itself" || show_err
done
wr activate --cold --mount "type=bind,source=$T,target=/devlink" devlink -- true >"$out" 2>"$err"
is "$?" 125 "--mount type=bind,target=/devlink: refused (125)"

done_testing

#!/bin/bash
# TAP test of attacks found in review, one section each:
#  - the HTTP listener's log: a peer that needs no privilege and no token
#    (the errors libmicrohttpd logs come before the Authorization check)
#    must not be able to write to the daemon's log without bound (a disk
#    filled through it, the audit trail drowned): 2000 requests with a bad
#    Content-Length write a bounded number of lines, and the log says it
#    suppressed the rest.
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env review

err=$T/err

# ---- the HTTP listener cannot flood the daemon's log -----------------------
http_port() {
    sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$DAEMON_LOG" | tail -1
}
http_lines() { grep -c 'warmrun-daemon: http: ' "$DAEMON_LOG"; }
start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"
PORT=$(http_port)
like "$PORT" '^[1-9][0-9]*$' "the daemon listens on HTTP (port $PORT)"
before=$(http_lines)
sent=0
for i in $(seq 1 2000); do
    exec {fd}<>/dev/tcp/127.0.0.1/"$PORT" 2>/dev/null || break
    printf 'GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n' >&"$fd"
    timeout 5 cat <&"$fd" >/dev/null
    exec {fd}>&-
    sent=$((sent + 1))
done
is "$sent" 2000 "2000 requests with an oversized Content-Length sent"
grew=$(($(http_lines) - before))
ok "$([ "$grew" -lt 200 ] && echo 0 || echo 1)" \
    "... they wrote $grew lines to the daemon's log (bounded: fewer than 200)"
like "$(grep 'http: ' "$DAEMON_LOG" | tail -3)" 'suppressed' "... and the log says the rest was suppressed"
get_code=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n' >&3; head -c 12 <&3")
is "$get_code" "HTTP/1.1 404" "the listener still answers"
wr ps >/dev/null 2>"$err"
is "$?" 0 "the daemon still serves its socket"
stop_daemon
is "$?" 0 "the daemon stops cleanly"

done_testing

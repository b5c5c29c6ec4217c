#!/bin/bash
# TAP test of the daemon's HTTP listener (`warmrun daemon --http`): off
# unless asked; loopback only without a token; a token file readable by
# others refused; with a token, every request needs `Authorization: Bearer`;
# unknown paths 404; the daemon survives a flood of half-open connections.
# Needs root, busybox-static and curl.
. "$(dirname "$0")/lib.sh"
setup_env metrics

command -v curl >/dev/null || skip_all "curl is not installed"
err=$T/err

# http_port: the port the daemon logged for its listener (it was asked for 0).
http_port() {
    sed -n 's/.*http: listening on .* (port \([0-9]*\)).*/\1/p' "$DAEMON_LOG" | tail -1
}
# get URL [CURL ARGS...]: prints the status code.
get() {
    local url=$1
    shift
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@" "$url"
}

# ---- bad options: refused before anything starts ---------------------------
wr daemon --http-token-file /dev/null >/dev/null 2>"$err"
is "$?" 2 "--http-token-file without --http: exit 2"
wr daemon --http 0.0.0.0:0 >/dev/null 2>"$err"
is "$?" 1 "--http on all addresses without a token: refused (exit 1)"
like "$(cat "$err")" "not a loopback address" "... saying why"
printf 'a-token-of-at-least-16-bytes\n' >"$T/token"
chmod 644 "$T/token"
wr daemon --http 0.0.0.0:0 --http-token-file "$T/token" >/dev/null 2>"$err"
is "$?" 1 "a token file readable by others: refused"
like "$(cat "$err")" "chmod 600" "... saying how to fix it"
wr daemon --http 127.0.0.1:notaport >/dev/null 2>"$err"
is "$?" 1 "a bad port: refused"
[ -S "$SOCK" ]
isnt "$?" 0 "none of them left a daemon behind"

# ---- loopback, no token -----------------------------------------------------
start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"
PORT=$(http_port)
like "$PORT" '^[1-9][0-9]*$' "the daemon logged the port it listens on ($PORT)"
is "$(get "http://127.0.0.1:$PORT/no-such-path")" 404 "an unknown path: 404"
# Hostile clients: many connections that never finish their request. The
# daemon keeps serving its socket (connections are bounded and time out).
fds=()
for i in $(seq 1 300); do
    exec {fd}<>/dev/tcp/127.0.0.1/"$PORT" 2>/dev/null || continue
    printf 'GET / HTTP/1.1\r\n' >&"$fd"
    fds+=("$fd")
done
wr ps >/dev/null 2>"$err"
is "$?" 0 "300 half-open HTTP connections: the daemon still serves its socket"
pid_alive "$DAEMON_PID"
ok $? "... and lives"
stop_daemon
is "$?" 0 "the daemon stops cleanly with HTTP connections open"
for fd in "${fds[@]}"; do exec {fd}>&-; done

# ---- a token ----------------------------------------------------------------
chmod 600 "$T/token"
start_daemon --http 127.0.0.1:0 --http-token-file "$T/token" || bail_out "no daemon"
PORT=$(http_port)
is "$(get "http://127.0.0.1:$PORT/x")" 401 "token set, no Authorization: 401"
is "$(get "http://127.0.0.1:$PORT/x" -H 'Authorization: Bearer wrong-token-of-16-bytes')" 401 \
    "a wrong token: 401"
is "$(get "http://127.0.0.1:$PORT/x" -H 'Authorization: Bearer a-token-of-at-least-16-bytes')" \
    404 "the right token: past the check (404 for an unknown path)"
stop_daemon

done_testing

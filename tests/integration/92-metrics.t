#!/bin/bash
# TAP test of the daemon's HTTP listener (`warmrun daemon --http`): off
# unless asked; loopback only without a token; a token file readable by
# others refused; with a token, every request needs `Authorization: Bearer`;
# unknown paths 404; the daemon survives a flood of half-open connections.
# GET /metrics (and `warmrun metrics`) expose the daemon's metrics, clean
# by `promtool check metrics`; a real Prometheus server (started here on a
# private loopback port, with a temporary config and data directory)
# scrapes them and its query API sees the activations counter rise.
# Needs root, busybox-static, curl and jq (promtool, prometheus: skipped
# without).
. "$(dirname "$0")/lib.sh"
setup_env metrics

command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
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

# ---- /metrics: the exposition, promtool, a real Prometheus -----------------
start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"
PORT=$(http_port)
wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>"$err" || bail_out "pool"
wr activate busybox -- true
# The per-container series need a container: the pool's refill, once warm
# (under load it may still be filling when the scrape comes).
wait_pool_full busybox
is "$(get "http://127.0.0.1:$PORT/metrics")" 200 "GET /metrics: 200"
cp "$T/body" "$T/m1"
is "$(get "http://127.0.0.1:$PORT/metrics" -X POST -d x)" 405 "POST /metrics: 405"
like "$(grep warmrun_activations_total "$T/m1")" \
    'warmrun_activations_total\{pool="busybox:latest",kind="warm"\} 1' "the warm activation counted"
for name in warmrun_pool_target_containers warmrun_pool_warm_containers \
    warmrun_pool_filling_containers warmrun_pool_running_containers warmrun_cold_starts_total \
    warmrun_fill_duration_seconds_bucket warmrun_activation_latency_seconds_bucket \
    warmrun_oom_kills_total warmrun_container_cpu_seconds_total \
    warmrun_container_cpu_throttled_seconds_total warmrun_container_memory_usage_bytes \
    process_cpu_seconds_total process_resident_memory_bytes process_open_fds; do
    grep -q "^$name" "$T/m1"
    ok $? "exposes $name"
done
wr metrics >"$T/m2" 2>"$err"
is "$?" 0 "warmrun metrics (over the socket)"
is "$(grep -c '^# TYPE' "$T/m2")" "$(grep -c '^# TYPE' "$T/m1")" "... the same families as /metrics"
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/m1" >"$T/promtool" 2>&1
    is "$?" 0 "promtool check metrics: clean"
    [ -s "$T/promtool" ] && diag_file "$T/promtool"
else
    skip 1 "promtool is not installed"
fi

# A real Prometheus server scrapes the daemon; its query API sees the
# activations counter rise.
if command -v prometheus >/dev/null; then
    PROM_PORT=$(( (RANDOM % 20000) + 30000 ))
    mkdir -p "$T/prom"
    cat >"$T/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: warmrun
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YML
    prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prom/log" 2>&1 &
    PROM_PID=$!
    query() {
        curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
            --data-urlencode 'query=sum(warmrun_activations_total{kind="warm"})' |
            jq -r '.data.result[0].value[1] // empty'
    }
    scraped() { [ -n "$(query)" ]; }
    counted() { [ "$(query)" = "$1" ]; }
    poll_until 60 scraped
    BEFORE=$(query)
    is "$BEFORE" 1 "Prometheus scraped the daemon: 1 warm activation"
    wr activate busybox -- true
    wr pool create busybox --size 1 --wait --timeout 30 >/dev/null 2>&1
    wr activate busybox -- true
    poll_until 30 counted 3
    is "$(query)" 3 "... and sees the counter rise to 3"
    up=$(curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="warmrun"}' |
        jq -r '.data.result[0].value[1]')
    is "$up" 1 "... the target is up"
    kill "$PROM_PID"
    wait "$PROM_PID" 2>/dev/null
else
    skip 3 "prometheus is not installed"
fi
stop_daemon

# ---- a token ----------------------------------------------------------------
chmod 600 "$T/token"
start_daemon --http 127.0.0.1:0 --http-token-file "$T/token" || bail_out "no daemon"
PORT=$(http_port)
is "$(get "http://127.0.0.1:$PORT/x")" 401 "token set, no Authorization: 401"
is "$(get "http://127.0.0.1:$PORT/x" -H 'Authorization: Bearer wrong-token-of-16-bytes')" 401 \
    "a wrong token: 401"
is "$(get "http://127.0.0.1:$PORT/x" -H 'Authorization: Bearer a-token-of-at-least-16-bytes')" \
    404 "the right token: past the check (404 for an unknown path)"
is "$(get "http://127.0.0.1:$PORT/metrics")" 401 "GET /metrics without the token: 401"
is "$(get "http://127.0.0.1:$PORT/metrics" -H 'Authorization: Bearer a-token-of-at-least-16-bytes')" \
    200 "... with it: 200"
stop_daemon

done_testing

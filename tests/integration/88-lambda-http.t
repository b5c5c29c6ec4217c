#!/bin/bash
# TAP test of the Lambda Invoke API on `warmrun daemon --http`: curl as the
# Runtime Interface Emulator's users do, AWS's JavaScript SDK
# (@aws-sdk/client-lambda, endpoint override, dummy credentials; installed
# once by scripts/install-aws-sdk under /var/cache/warmrun), the bearer
# token, and two daemons behind HAProxy with docs/examples/haproxy-lambda.cfg
# as it is. The Node function image as in 87-functions.t.
. "$(dirname "$0")/lib.sh"
setup_env lambda-http
FREEZER=/sys/fs/cgroup/freezer/warmrun-functions
[ -d /sys/fs/cgroup/freezer ] || FREEZER=/sys/fs/cgroup/unified/warmrun-functions
# On a failure, the environments are thawed before lib.sh's cleanup kills
# everything: a task frozen by cgroup v1 cannot die.
thaw_then_cleanup() {
    local rc=$? f
    for f in "$FREEZER/$(scope_of "$STATE")"/*/freezer.state "$FREEZER/$(scope_of "${STATE}2")"/*/freezer.state; do
        [ -f "$f" ] && echo THAWED >"$f"
    done
    (exit "$rc")
    cleanup
}
trap thaw_then_cleanup EXIT
command -v jq >/dev/null || skip_all "jq is not installed (scripts/install-deps)"
command -v curl >/dev/null || skip_all "curl is not installed"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
if ! timeout -k 10 1800 "$REPO/scripts/make-lambda-images" "$T/images" ${WARMRUN_LAMBDA_CACHE:+"$WARMRUN_LAMBDA_CACHE"} \
    >"$T/images.log" 2>&1; then
    diag_file "$T/images.log"
    skip_all "cannot build the function images (Debian mirror and npm registry needed once)"
fi
timeout -k 10 300 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/images/lambda-node" \
    >"$T/import.log" 2>&1 || { diag_file "$T/import.log"; bail_out "cannot import lambda-node"; }
rm -rf "$T/images"
SDK=$(timeout -k 10 600 "$REPO/scripts/install-aws-sdk" 2>"$T/sdk.log") || SDK=

out=$T/out
hdr=$T/hdr
# port_of LOG: the port a daemon's --http listener took.
port_of() { sed -n 's/.*http: listening on .*(port \([0-9]*\)).*/\1/p' "$1" | tail -1; }
idle_is() { [ "$(WR_TIMEOUT=10 "$@" function ls --json 2>/dev/null | jq -r '.[0].idle')" = 1 ]; }
# post URL [CURL ARGS...]: status in $code, headers in $hdr, body in $out.
post() {
    local url=$1
    shift
    code=$(curl -s -o "$out" -D "$hdr" -w '%{http_code}' -XPOST "$url" "$@")
}
header() { sed -n "s/^$1: *//Ip" "$hdr" | tr -d '\r'; }

start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"
P=$(port_of "$DAEMON_LOG")
URL=http://127.0.0.1:$P/2015-03-31/functions
wr function create nd lambda-node --min 1 --max 2 --timeout 3 >/dev/null 2>&1
poll_until 60 idle_is "${WR[@]}" || diag_file "$DAEMON_LOG"

# --- curl ---------------------------------------------------------------------------
post "$URL/nd/invocations" -d '{"action":"echo","via":"curl"}'
is "$code" 200 "curl -XPOST .../functions/nd/invocations -d ...: 200"
is "$(jq -c . "$out")" '{"action":"echo","via":"curl"}' "  the response body"
is "$(header X-Amz-Executed-Version)" '$LATEST' "  X-Amz-Executed-Version: \$LATEST"
post "$URL/nd/invocations" -d '{"action":"throw"}'
is "$code $(header X-Amz-Function-Error)" "200 Unhandled" "a function error: 200 with X-Amz-Function-Error: Unhandled"
is "$(jq -r .errorType "$out")" TypeError "  the error body"
post "$URL/nd/invocations" -H 'X-Amz-Log-Type: Tail' -d '{"action":"log"}'
like "$(header X-Amz-Log-Result | base64 -d)" 'log line from nd' "  X-Amz-Log-Type: Tail gives the log in X-Amz-Log-Result (base64)"
post "$URL/nd/invocations" -H 'X-Amz-Invocation-Type: Event' -d '{"action":"log"}'
is "$code" 202 "X-Amz-Invocation-Type: Event: 202"
poll_until 10 grep -q 'log line from nd' "$STATE/functions/nd.log"
ok $? "  and it runs (its log)"
post "$URL/nd/invocations" -H 'X-Amz-Invocation-Type: DryRun'
is "$code" 204 "DryRun: 204"
post "$URL/nosuch/invocations" -d '{}'
is "$code $(header X-Amzn-ErrorType)" "404 ResourceNotFoundException" "an unknown function: 404 ResourceNotFoundException"
like "$(jq -r .message "$out")" 'Function not found' "  Lambda's message"
post "$URL/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3And/invocations" -d '{"action":"echo"}'
is "$code" 200 "the function named by its ARN (percent-encoded)"
head -c $((6 * 1024 * 1024 + 1)) /dev/zero | tr '\0' x >"$T/big"
post "$URL/nd/invocations" --data-binary @"$T/big"
is "$code $(header X-Amzn-ErrorType)" "413 RequestEntityTooLargeException" "a payload over 6 MB: 413 RequestEntityTooLargeException"
pids=
for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code}\n' -XPOST "$URL/nd/invocations" \
        -d '{"action":"sleep","ms":2000}' >"$T/c$i" &
    pids="$pids $!"
done
wait $pids
is "$(cat "$T"/c? | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "200x4 429x2 " \
    "6 at once with --max 2: 2 run, 2 queue, 2 get 429 (TooManyRequestsException)"

# --- AWS's JavaScript SDK ------------------------------------------------------------
if [ -n "$SDK" ]; then
    cat >"$T/sdk.js" <<JS
const { LambdaClient, InvokeCommand } = require("$SDK/node_modules/@aws-sdk/client-lambda");
const c = new LambdaClient({ endpoint: "http://127.0.0.1:$P", region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "dummy" }, maxAttempts: 1 });
(async () => {
  const out = {};
  let r = await c.send(new InvokeCommand({ FunctionName: "nd", LogType: "Tail",
    Payload: Buffer.from(JSON.stringify({ action: "echo", via: "sdk" })) }));
  out.ok = { status: r.StatusCode, version: r.ExecutedVersion, error: r.FunctionError || "",
    payload: Buffer.from(r.Payload).toString() };
  r = await c.send(new InvokeCommand({ FunctionName: "nd", Payload: Buffer.from('{"action":"throw"}') }));
  out.err = { status: r.StatusCode, error: r.FunctionError, type: JSON.parse(Buffer.from(r.Payload)).errorType };
  r = await c.send(new InvokeCommand({ FunctionName: "nd", InvocationType: "Event", Payload: Buffer.from("{}") }));
  out.event = r.StatusCode;
  try { await c.send(new InvokeCommand({ FunctionName: "nosuch" })); out.missing = "no error"; }
  catch (e) { out.missing = e.name + " " + e.\$metadata.httpStatusCode; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ failed: String(e) })); process.exit(1); });
JS
    timeout -k 5 60 node "$T/sdk.js" >"$out" 2>"$T/sdk.err"
    ok $? "the AWS SDK's InvokeCommand against --http (endpoint override)" || diag_file "$T/sdk.err"
    is "$(jq -c .ok "$out")" '{"status":200,"version":"$LATEST","error":"","payload":"{\"action\":\"echo\",\"via\":\"sdk\"}"}' \
        "  StatusCode 200, ExecutedVersion, Payload"
    is "$(jq -c .err "$out")" '{"status":200,"error":"Unhandled","type":"TypeError"}' "  FunctionError: Unhandled"
    is "$(jq -r .event "$out")" 202 "  InvocationType Event: 202"
    is "$(jq -r .missing "$out")" "ResourceNotFoundException 404" "  an unknown function: ResourceNotFoundException"
else
    diag_file "$T/sdk.log"
    skip 5 "the AWS SDK could not be installed (npm registry needed once)"
fi

# --- the token; two hosts behind HAProxy --------------------------------------------------
S2=${STATE}2
umask 077
TOKEN=s3cret-token-$$-$RANDOM
echo "$TOKEN" >"$T/token"
umask 022
W2=("$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$S2" --socket "$T/sock2")
setsid "${W2[@]}" daemon --http 127.0.0.1:0 --http-token-file "$T/token" >"$T/daemon2.log" 2>&1 </dev/null &
poll_until 10 test -n "$(port_of "$T/daemon2.log")"
P2=$(port_of "$T/daemon2.log")
timeout 20 "${W2[@]}" function create nd lambda-node --min 1 --max 2 >/dev/null 2>&1
poll_until 60 idle_is timeout 10 "${W2[@]}" || diag_file "$T/daemon2.log"
post "http://127.0.0.1:$P2/2015-03-31/functions/nd/invocations" -d '{"action":"echo"}'
is "$code" 401 "with --http-token-file: no bearer token, 401"
post "http://127.0.0.1:$P2/2015-03-31/functions/nd/invocations" -H "Authorization: Bearer $TOKEN" \
    -d '{"action":"echo","host":2}'
is "$code $(jq -c . "$out")" '200 {"action":"echo","host":2}' "  with it, 200"

if command -v haproxy >/dev/null; then
    # Host 2 needs the token: HAProxy adds it (as the example's comment says).
    sed '/^backend warmrun/a\    http-request set-header Authorization "Bearer ${WARMRUN_TOKEN}"' \
        "$REPO/docs/examples/haproxy-lambda.cfg" >"$T/haproxy.cfg"
    for try in 1 2 3 4 5; do
        LB=$((20000 + RANDOM % 20000))
        WARMRUN_LB_BIND=127.0.0.1:$LB WARMRUN_HOST1=127.0.0.1:$P WARMRUN_HOST2=127.0.0.1:$P2 \
            WARMRUN_TOKEN="$TOKEN" haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
        HAPROXY=$!
        poll_until 5 curl -s -o /dev/null "http://127.0.0.1:$LB/" && break
        kill "$HAPROXY" 2>/dev/null
        wait "$HAPROXY" 2>/dev/null
        HAPROXY=
    done
    if [ -n "$HAPROXY" ]; then
        pids=
        # Four at once: each host takes two running and two queued (--max 2),
        # so however HAProxy spreads them none is refused (429).
        for i in 1 2 3 4; do
            curl -s -o "$T/lb$i" -XPOST "http://127.0.0.1:$LB/2015-03-31/functions/nd/invocations" \
                -d '{"action":"env"}' &
            pids="$pids $!"
        done
        wait $pids
        is "$(cat "$T"/lb? | jq -r .fn | sort -u)" nd "HAProxy with docs/examples/haproxy-lambda.cfg: every invocation answered"
        hosts="$(wr function ls --json | jq -r '.[0].invocations') $(timeout 10 "${W2[@]}" function ls --json | jq -r '.[0].invocations')"
        like "$hosts" '^[1-9][0-9]* [1-9][0-9]*$' "  both hosts served some (invocations per host: $hosts)"
        kill "$HAPROXY"
        wait "$HAPROXY" 2>/dev/null
    else
        diag_file "$T/haproxy.log"
        ok 1 "HAProxy did not start"
    fi
else
    skip 2 "haproxy is not installed"
fi
timeout 10 "${W2[@]}" shutdown >/dev/null 2>&1
poll_until 10 test ! -S "$T/sock2"
stop_daemon
ok "$(no_container_pids && echo 0 || echo 1)" "no shim or container left"
done_testing

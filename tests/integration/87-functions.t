#!/bin/bash
# TAP test of functions (warmrun function create|ls|rm, warmrun invoke):
# environments of the Python image (a stdlib-only Runtime API loop) and of
# the Node image (AWS's aws-lambda-ric), built from Debian packages and npm
# by scripts/make-lambda-images (the root file system is cached under
# /var/cache/warmrun; WARMRUN_LAMBDA_CACHE overrides the cache's parent).
# Reuse and --fresh, the handler's error, an init error, an exit in the
# middle of an invocation, a timeout, an oversized payload, an unknown
# function, more invocations at once than --max, the daemon killed with
# environments frozen, the security profile inside an environment, and
# one function's environment never serving another's invocations.
. "$(dirname "$0")/lib.sh"
setup_env functions
command -v jq >/dev/null || skip_all "jq is not installed (scripts/install-deps)"
. "$(dirname "$0")/lib_functions.sh"
functions_images lambda-python lambda-node
rm -rf "$T/images"

out=$T/out
err=$T/err
# env_pids: pid 1 of every function environment of this daemon (freezer
# cgroups), one per line.
env_pids() { cat "$FREEZER"/*/cgroup.procs 2>/dev/null; }

start_daemon || bail_out "the daemon did not start"

# --- the Python function ------------------------------------------------------------
wr function create py lambda-python --min 1 --max 2 --timeout 3 --env GREETING=hi >"$out" 2>"$err"
ok $? "function create py lambda-python --min 1 --max 2 --timeout 3" || diag_file "$err"
poll_until 60 idle_is py 1
ok $? "  its environment initialises and waits idle" || diag_file "$DAEMON_LOG"
is "$(cat "$FREEZER"/*/freezer.state "$FREEZER"/*/cgroup.freeze 2>/dev/null | sort -u | tr '\n' ' ')" \
    "$([ -d /sys/fs/cgroup/freezer ] && echo FROZEN || echo 1) " "  idle, it is frozen (cgroup freezer)"

inv py '{"action":"echo","x":[1,"two"]}'
is "$rc" 0 "invoke py: exit 0" || diag_file "$err"
is "$(jq -c . "$out")" '{"action":"echo","x":[1,"two"]}' "  the handler's response on stdout"

inv py '{"action":"env"}'
is "$(jq -r '.fn + " " + .arn' "$out")" "py arn:aws:lambda:us-east-1:000000000000:function:py" \
    "  AWS_LAMBDA_FUNCTION_NAME and the invoked function's ARN"
like "$(jq -r .id "$out")" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
    "  a request id (a version 4 UUID)"

inv py '{"action":"count"}'
first=$(cat "$out")
inv py '{"action":"count"}'
is "$(jq -r .n "$out")" "$(($(jq -r .n <<<"$first") + 1))" "reuse: the next invocation runs in the same initialised runtime"

inv py '{"action":"throw"}'
is "$rc" 3 "a handler that raises: exit 3"
is "$(jq -r '.errorType + ": " + .errorMessage' "$out")" "ValueError: handler threw on purpose" \
    "  its error body (Lambda's shape) on stdout"

inv py '{"action":"log"}' --log-tail
is "$rc" 0 "invoke --log-tail"
like "$(cat "$err")" 'log line from py' "  the invocation's log on stderr"
like "$(cat "$STATE/functions/py.log")" 'log line from py' "  and in the function's log"

inv py '{"action":"sleep","ms":20000}'
is "$rc" 3 "a handler that outruns --timeout 3: exit 3"
is "$(jq -r .errorType "$out")" Sandbox.Timedout "  Lambda's timeout error"
like "$(jq -r .errorMessage "$out")" 'Task timed out after 3.00 seconds' "  and message"
inv py '{"action":"echo"}'
is "$rc" 0 "  a new environment serves the next invocation"

inv py '{"action":"exit"}'
is "$rc" 3 "a runtime that exits in the middle of an invocation: exit 3"
is "$(jq -r .errorType "$out")" Runtime.ExitError "  Runtime.ExitError"
like "$(jq -r .errorMessage "$out")" 'exit status 3' "  with its exit status"
inv py '{"action":"echo"}'
is "$rc" 0 "  and the next invocation is served"

head -c $((6 * 1024 * 1024 + 1)) /dev/zero | tr '\0' x >"$T/big"
wr invoke py --payload "$T/big" >"$out" 2>"$err"
is "$?" 125 "a payload over 6 MB: exit 125"
like "$(cat "$err")" 'too_large.*RequestEntityTooLarge' "  RequestEntityTooLargeException"

inv nosuch '{}'
is "$rc" 125 "an unknown function: exit 125"
like "$(cat "$err")" 'not_found' "  not_found"

# --- security: the profile inside, and one function's environments ---------------
inv py '{"action":"sec"}'
is "$(jq -r '.CapEff + " " + .Seccomp + " " + .NoNewPrivs' "$out")" "00000000a80425fb 2 1" \
    "inside an environment: Docker's capabilities, seccomp filter, no_new_privs"
is "$(jq -c .links "$out")" '["lo"]' "  its own network namespace (lo only)"
wr function create other lambda-python --min 1 >/dev/null 2>&1
poll_until 60 idle_is other 1 || diag "other did not initialise"
inv other '{"action":"sleep","ms":2500}' &
sleeper=$!
poll_until 10 grep -q 'sleeping in' "$STATE/functions/other.log"
victim=$(sed -n 's/.*sleeping in \([0-9a-f-]*\).*/\1/p' "$STATE/functions/other.log" | tail -1)
inv py "{\"action\":\"forge\",\"id\":\"$victim\"}"
is "$(jq -r .status "$out")" 400 \
    "another function's environment posting this invocation's response: 400 (its Runtime API knows only its own)"
wait "$sleeper"
inv other '{"action":"env"}'
is "$(jq -r .fn "$out")" other "  and the other function still answers for itself"

# --- init error -------------------------------------------------------------------
wr function create broken lambda-python --handler nosuchmodule.handler --min 1 >/dev/null 2>&1
ok $? "function create broken --handler nosuchmodule.handler"
inv broken '{}'
is "$rc" 3 "  invoke: exit 3"
is "$(jq -r .errorType "$out")" ModuleNotFoundError "  the runtime's /init/error body comes back"
poll_until 10 test "$(fn broken init_failures)" -ge 1
ok $? "  function ls counts the init failure: $(fn broken init_failures)"
wr function rm broken
ok $? "function rm broken"

# --- --fresh ------------------------------------------------------------------------
wr function create fr lambda-python --fresh --min 1 --max 2 >/dev/null 2>&1
poll_until 60 idle_is fr 1
inv fr '{"action":"count"}'
a=$(jq -r .n "$out")
poll_until 60 idle_is fr 1
inv fr '{"action":"count"}'
b=$(jq -r .n "$out")
is "$a $b" "1 1" "--fresh: every invocation runs in an environment that never served another"

# --- more at once than --max: then the queue, then TooManyRequests ------------------
wr function create one lambda-python --min 1 --max 1 >/dev/null 2>&1
poll_until 60 idle_is one 1
pids=
for i in 1 2 3 4; do
    (echo '{"action":"sleep","ms":2000}' | wr invoke one --payload - >"$T/c$i.out" 2>"$T/c$i.err"
     echo $? >"$T/c$i.rc") &
    pids="$pids $!"
done
wait $pids
codes=$(cat "$T"/c?.rc | sort | tr '\n' ' ')
is "$codes" "0 0 125 125 " "4 at once with --max 1: 1 runs, 1 waits in the queue (of --max), 2 get TooManyRequests"
like "$(cat "$T"/c?.err)" 'busy.*TooManyRequestsException' "  the refusal is Lambda's TooManyRequestsException"

# --- the Node function (AWS's runtime interface client) -----------------------------
wr function create nd lambda-node --min 1 >"$out" 2>"$err"
ok $? "function create nd lambda-node (aws-lambda-ric)" || diag_file "$err"
poll_until 60 idle_is nd 1 || diag_file "$DAEMON_LOG"
inv nd '{"action":"echo","n":1}'
is "$(jq -c . "$out")" '{"action":"echo","n":1}' "invoke nd: the response"
inv nd '{"action":"env"}'
is "$(jq -r '.fn + " " + .mem + " " + .handler + " " + .task + " " + .region' "$out")" \
    "nd 128 index.handler /var/task us-east-1" "  Lambda's environment as the ric sees it"
inv nd '{"action":"throw"}'
is "$rc $(jq -r .errorType "$out")" "3 TypeError" "  a handler that throws: exit 3, TypeError"
inv nd '{"action":"count"}'
c1=$(jq -r .n "$out")
inv nd '{"action":"count"}'
is "$(jq -r .n "$out")" "$((c1 + 1))" "  reuse after an error"
wr function create ndbad lambda-node --handler index.missing --min 1 >/dev/null 2>&1
inv ndbad '{}'
is "$rc $(jq -r .errorType "$out")" "3 Runtime.HandlerNotFound" "  a missing handler: the ric's init error"

# --- the daemon killed with environments frozen --------------------------------------
old=$(env_pids | sort | tr '\n' ' ')
ok "$([ -n "$old" ] && echo 0 || echo 1)" "environments before the kill: $old"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon || bail_out "no second daemon"
gone() { for p in $old; do pid_alive "$p" && return 1; done; return 0; }
poll_until 20 gone
ok $? "a new daemon: the environments of the killed one are gone (thawed, killed)"
is "$(WR_TIMEOUT=10 wr function ls --json | jq -r '.[].name' | sort | tr '\n' ' ')" \
    "fr nd ndbad one other py " "  the functions are restored from their stored definitions"
poll_until 60 idle_is py 1
inv py '{"action":"echo","again":true}'
is "$(jq -c . "$out")" '{"action":"echo","again":true}' "  and serve again"

# --- function rm and the end ----------------------------------------------------------
envs=$(env_pids | tr '\n' ' ')
for f in py other fr one nd ndbad; do wr function rm "$f" || diag "rm $f failed"; done
gone_now() { for p in $envs; do pid_alive "$p" && return 1; done; return 0; }
poll_until 10 gone_now
ok $? "function rm: their environments are gone"
is "$(ls "$STATE/functions" | grep -c json)" 0 "  and their stored definitions"
stop_daemon
is "$(ls -d "$FREEZER"/* 2>/dev/null | wc -l)" 0 "no freezer cgroup left"
ok "$(no_container_pids && echo 0 || echo 1)" "no shim or container left"
done_testing

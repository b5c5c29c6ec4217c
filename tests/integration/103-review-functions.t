#!/bin/bash
# TAP test of functions under a hostile or merely busy runtime (a review of
# the functions work):
#  - the queue's bound counts the environments serving an invocation, not
#    one that has answered and not yet asked for its next (a runtime's work
#    after the answer, or an environment discarded at its next after a new
#    image): with --max 1 (so a queue of 1), one environment that answered
#    and one invocation queued, another invocation is queued, not refused
#    with 429 (two outstanding, within --max + the queue).
# The runtime is the test's own (a bind volume over /var/runtime), so that
# it pauses after its first answer until the test says go.
. "$(dirname "$0")/lib.sh"
setup_env review-functions
command -v jq >/dev/null || skip_all "jq is not installed (scripts/install-deps)"
. "$(dirname "$0")/lib_functions.sh"
functions_images lambda-python

out=$T/out
err=$T/err

queued_is() { [ "$(fn "$1" queued)" = "$2" ]; }
go_given() { [ -e "$T/gate/go" ]; }

start_daemon || bail_out "the daemon did not start"

# --- the queue's bound: an environment that answered serves nothing -------------------
mkdir -p "$T/rt" "$T/gate"
cat >"$T/rt/bootstrap" <<'PY'
#!/usr/bin/python3
# Answers each invocation at once; after its first answer it waits for
# /gate/go before it asks for the next one.
import http.client, os, time
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
n = 0
while True:
    c = http.client.HTTPConnection(api)
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    r.read()
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    c.close()
    n += 1
    c = http.client.HTTPConnection(api)
    c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, body=b'"answered"')
    c.getresponse().read()
    c.close()
    while n == 1 and not os.path.exists("/gate/go"):
        time.sleep(0.05)
PY
chmod 755 "$T/rt/bootstrap"
wr function create gated lambda-python -v "$T/rt:/var/runtime:ro" -v "$T/gate:/gate:ro" \
    --min 1 --max 1 >"$out" 2>"$err"
ok $? "function create gated --max 1 (its runtime from a volume)" || diag_file "$err"
poll_until 60 idle_is gated 1
ok $? "  its environment initialises" || diag_file "$DAEMON_LOG"
echo '{}' | wr invoke gated --payload - >"$out" 2>"$err"
is "$?" 0 "  invocation A answered (the runtime now works on, not asking for its next)"
echo '{}' | wr invoke gated --payload - >"$T/b.out" 2>"$T/b.err" &
b=$!
poll_until 10 queued_is gated 1
ok $? "  invocation B queued"
echo '{}' | wr invoke gated --payload - >"$T/c.out" 2>"$T/c.err" &
c=$!
# C is either refused at once (the bug) or queued behind B.
c_settled() { queued_is gated 2 || ! pid_alive "$c"; }
poll_until 10 c_settled
touch "$T/gate/go"
wait "$c"
is "$?" 0 "  invocation C: queued too, not refused (two outstanding, --max 1 + a queue of 1)" ||
    diag_file "$T/c.err"
wait "$b"
is "$?" 0 "  invocation B answered"
is "$(cat "$T/c.out")" '"answered"' "  and C"
wr function rm gated >/dev/null 2>&1
no_freezer_left() { ! ls -d "$FREEZER"/*/ >/dev/null 2>&1; }
poll_until 10 no_freezer_left
ok $? "  function rm: no freezer cgroup of it left"
stop_daemon >/dev/null 2>&1
unlike "$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG")" '.' \
    "no sanitizer report in the daemon's log"

done_testing

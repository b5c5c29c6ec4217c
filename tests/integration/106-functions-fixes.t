#!/bin/bash
# TAP test of fixes to functions (docs/functions.md, docs/cli.md,
# docs/security.md), each failing on the code before them:
#
# 1. The Runtime API's connections per function: the server (8192
#    connections, no idle timeout) is shared by every function; one
#    function's environments together hold at most 512 of them (32 each),
#    so one function (--min 256 filled the server) cannot starve the
#    others. A function of 17 environments whose runtime
#    (tests/attack/rtflood.c idle32) opens 32 idle connections each holds
#    at most 512 in all; those over its share are closed at accept and the
#    daemon logs it; another function's runtime still gets its connections.
# 2. A payload that is not JSON is refused before any runtime sees it, as
#    Lambda does: `warmrun invoke` exits 125 with one line
#    (invalid_content: InvalidRequestContentException), the Invoke API
#    answers 400 InvalidRequestContentException.
# 3. `function create --help` and `function --help` print the usage.
# 4. `function ls`: LAST ERROR shows an init error's errorType and
#    errorMessage on one line, cut to 60 columns; --json keeps the body.
# 5. `warmrun-image import` with no daemon at its socket says so in one
#    line on stderr and exits 0.
. "$(dirname "$0")/lib.sh"
setup_env functions-fixes
command -v jq >/dev/null || skip_all "jq is not installed (scripts/install-deps)"
command -v curl >/dev/null || skip_all "curl is not installed"
out=$T/out
err=$T/err
. "$(dirname "$0")/lib_functions.sh"
functions_images # built only: item 5 imports one itself
RTFLOOD=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/rtflood
add_helper_image rtflood "$RTFLOOD" rtflood '["/rtflood"]' || bail_out "cannot write the rtflood image"

# ---- 5. an import with no daemon says so ----------------------------------
timeout -k 10 300 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" --socket "$SOCK" import \
    "$T/images/lambda-python" >"$out" 2>"$err"
ok $? "warmrun-image import with no daemon at its socket: exit 0" || diag_file "$err"
rm -rf "$T/images"
is "$(wc -l <"$err")" 1 "  one line on stderr" || diag_file "$err"
like "$(cat "$err")" "^warmrun-image: note: no daemon at $SOCK was told; its pools and functions of lambda-python(:latest)? roll over at its next start\$" \
    "  that no daemon was told, and when they roll over"

start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"
P=$(sed -n 's/.*http: listening on .*(port \([0-9]*\)).*/\1/p' "$DAEMON_LOG" | tail -1)
URL=http://127.0.0.1:$P/2015-03-31/functions

# ---- 3. --help ---------------------------------------------------------------
wr function create --help >"$out" 2>"$err"
is "$?" 0 "function create --help: exit 0"
like "$(head -n1 "$out")" "^usage: warmrun function create NAME IMAGE " "  the usage on stdout"
is "$(cat "$err")" "" "  nothing on stderr (no unrecognized option)"
wr function --help >"$out" 2>"$err"
is "$?" 0 "function --help: exit 0"
like "$(head -n1 "$out")" "^usage: warmrun function create .* function ls .* function rm" "  the usage on stdout"
is "$(cat "$err")" "" "  nothing on stderr"

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

# ---- 2. a payload that is not JSON ------------------------------------------
wr function create py lambda-python --min 1 --max 1 --timeout 10 >"$out" 2>"$err"
ok $? "function create py lambda-python" || show_err
poll_until 60 idle_is py 1
ok $? "  its environment initialises" || diag_file "$DAEMON_LOG"
echo '{"action":"echo","x":1}' | wr invoke py --payload - >"$out" 2>"$err"
is "$?" 0 "invoke py with a JSON payload: exit 0" || show_err
printf 'not json {' | wr invoke py --payload - >"$out" 2>"$err"
is "$?" 125 "invoke py with a payload that is not JSON: exit 125"
is "$(wc -l <"$err")" 1 "  one line on stderr" || diag_file "$err"
like "$(cat "$err")" "^warmrun: invalid_content: InvalidRequestContentException: Could not parse request body into json" \
    "  invalid_content: InvalidRequestContentException"
is "$(wc -c <"$out")" 0 "  nothing on stdout"
is "$(fn py invocations)" 1 "  the runtime never saw it (1 invocation)"
hdr=$T/hdr
code=$(curl -s -o "$out" -D "$hdr" -w '%{http_code}' -XPOST "$URL/py/invocations" -d 'not json {')
is "$code" 400 "the Invoke API with a payload that is not JSON: 400"
is "$(sed -n 's/^X-Amzn-ErrorType: *//Ip' "$hdr" | tr -d '\r')" InvalidRequestContentException \
    "  X-Amzn-ErrorType: InvalidRequestContentException"
like "$(jq -r .message "$out" 2>/dev/null)" "^Could not parse request body into json" "  its message"
code=$(curl -s -o "$out" -w '%{http_code}' -XPOST "$URL/py/invocations" -d '"a string is JSON"')
is "$code" 200 "  any JSON value passes (a string: 200)"
wr function rm py >"$out" 2>"$err"

# ---- 4. function ls: the last init error, on one line --------------------------
wr function create broken lambda-python --handler nosuchmodule.handler --min 1 >"$out" 2>"$err"
ok $? "function create broken --handler nosuchmodule.handler" || show_err
_init_failed() { [ "$(fn broken init_failures)" -ge 1 ] 2>/dev/null; }
poll_until 60 _init_failed
ok $? "  its init failed" || diag_file "$DAEMON_LOG"
body=$(fn broken last_error)
like "$body" '^\{.*"errorType"' "  --json: last_error is the runtime's body"
type=$(printf '%s' "$body" | grep -o '"errorType": *"[^"]*"' | sed 's/.*: *"//; s/"$//')
wr function ls >"$out" 2>"$err"
line=$(grep '^broken ' "$out")
off=$(head -n1 "$out" | grep -bo 'LAST ERROR' | cut -d: -f1)
col=${line:$off}
like "$col" "^$type: " "  function ls: LAST ERROR begins with its errorType ($type)" || diag_file "$out"
[ "${#col}" -le 60 ]
ok $? "  cut to 60 columns: $col"
unlike "$col" '[{}]|stackTrace' "  no JSON, no stack trace"
wr function rm broken >"$out" 2>"$err"

stop_daemon
poll_until 10 no_container_pids
ok $? "no container process of this test is left" || show_pids $(our_pids)

done_testing

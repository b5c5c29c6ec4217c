#!/bin/bash
# TAP test of the daemon under faults: malformed API messages (raw, through
# python3's SOCK_SEQPACKET), clients that vanish or idle, the daemon's own
# SIGKILL while containers run (they must carry on; a new daemon sweeps the
# stale state), and a non-root user at the socket. Needs root, python3 and
# busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env faults
command -v python3 >/dev/null || skip_all "python3 is not installed"

out=$T/out
err=$T/err
TAG=$((100 + RANDOM % 800)).$$
no_sleep_tag() { ! pgrep -f "^sleep $TAG" >/dev/null; }
all_gone() {
    local p
    for p; do pid_gone "$p" || return 1; done
}

# The raw client: `client.py SOCK CASE`, prints one line per reply: the
# reply's JSON, CLOSED (the daemon closed the connection) or TIMEOUT.
cat >"$T/client.py" <<'EOF'
import json, os, socket, sys, time

path, case = sys.argv[1], sys.argv[2]

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(20)
    s.connect(path)
    return s

def reply(s):
    try:
        data = s.recv(1 << 20)
    except ConnectionResetError:
        return "CLOSED"
    except socket.timeout:
        return "TIMEOUT"
    return data.decode("utf-8", "replace") if data else "CLOSED"

def send(payload, fds=None, sock=None):
    s = sock or connect()
    try:
        if fds:
            socket.send_fds(s, [payload], fds)
        else:
            s.send(payload)
    except (BrokenPipeError, ConnectionResetError):
        print("CLOSED")
        return s
    print(reply(s))
    return s

def send_oob(payload, fds):
    """A request past one message: a header and a sealed memfd (docs/api.md)."""
    import fcntl, os, struct
    m = os.memfd_create("req", os.MFD_ALLOW_SEALING)
    os.write(m, payload)
    fcntl.fcntl(m, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK |
                fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    return send(struct.pack("=IIQ", 0x626F7277, 0, len(payload)), fds + [m])

def act(argv, **extra):
    return json.dumps(dict(op="activate", image="busybox", argv=argv, **extra)).encode()

stdio = [0, 1, 2]
cases = {
    "invalid_json": lambda: send(b'{"op": "ps", '),
    "json_array": lambda: send(b'["op", "ps"]'),
    "json_string": lambda: send(b'"ps"'),
    "no_op": lambda: send(b'{"image": "busybox"}'),
    "op_not_string": lambda: send(b'{"op": 7}'),
    "unknown_op": lambda: send(b'{"op": "frobnicate"}'),
    "duplicate_key": lambda: send(b'{"op": "ps", "op": "shutdown"}'),
    "binary": lambda: send(b'\xff\xfe\x00\x01garbage'),
    "activate_no_fds": lambda: send(act(["true"])),
    "activate_2_fds": lambda: send(act(["true"]), [0, 1]),
    "activate_5_fds": lambda: send(act(["true"]), [0, 1, 2, 0, 1]),
    "ps_with_fds": lambda: send(b'{"op": "ps"}', stdio),
    "argv_not_list": lambda: send(json.dumps(dict(op="activate", image="busybox", argv="true")).encode(), stdio),
    "argv_nul": lambda: send(act(["tr\u0000ue"]), stdio),
    "argv_empty_cmd": lambda: send(act([""]), stdio),
    "env_not_kv": lambda: send(act(["true"], env=["NOEQUALS"]), stdio),
    "cwd_relative": lambda: send(act(["true"], cwd="tmp"), stdio),
    "hostname_bad": lambda: send(act(["true"], hostname="a b"), stdio),
    "image_bad": lambda: send(json.dumps(dict(op="activate", image="../../etc", argv=["true"])).encode(), stdio),
    "image_missing": lambda: send(json.dumps(dict(op="pool_create", size=1)).encode()),
    "size_huge": lambda: send(json.dumps(dict(op="pool_create", image="busybox", size=10**9)).encode()),
    "size_negative": lambda: send(json.dumps(dict(op="pool_create", image="busybox", size=-1)).encode()),
    "kill_bad_id": lambda: send(json.dumps(dict(op="kill", id="../../etc/x")).encode()),
    "kill_bad_signal": lambda: send(json.dumps(dict(op="kill", id="0123456789ab", signal=999)).encode()),
    "signal_to_daemon": lambda: send(json.dumps(dict(op="signal", signal=9)).encode()),
    "oversized": lambda: send(b'{"op": "ps", "pad": "' + b"x" * (70 * 1024) + b'"}'),
    "empty": lambda: send(b""),
    # more than the kernel's execve takes (a quarter of the stack limit)
    "many_args": lambda: send_oob(act(["x"] * 300000), stdio),
}

if case in cases:
    cases[case]()
elif case == "ok_ps":
    send(b'{"op": "ps"}')
elif case == "connect_close":
    connect().close()
    print("done")
elif case == "disconnect_mid_activation":
    # The request is sent, then the client vanishes without reading. The
    # container gets pipes (a container takes no other stdio): it must not
    # hold this script's stdout.
    s = connect()
    r, w = os.pipe()
    socket.send_fds(s, [act(["sleep", sys.argv[3]])], [r, w, w])
    s.close()
    print("done")
elif case == "pipelined":
    # A bad request and an activation queued back to back on one
    # connection (the test holds the daemon with SIGSTOP meanwhile).
    s = connect()
    s.send(b'{"op": "frobnicate"}')
    # A container's stdio must be pipes or sockets: the workload's output
    # comes through a pipe, printed after the replies.
    empty, w = os.pipe()
    os.close(w)
    r, w = os.pipe()
    socket.send_fds(s, [act(["sh", "-c", "echo pipelined"])], [empty, w, w])
    os.close(w)
    open(sys.argv[3], "w").close()
    print(reply(s))
    print(reply(s))
    print(os.read(r, 4096).decode(), end="")
elif case == "idle_many":
    # N idle connections, held while a command runs.
    n, cmd = int(sys.argv[3]), sys.argv[4:]
    held = [connect() for _ in range(n)]
    rc = os.spawnvp(os.P_WAIT, cmd[0], cmd)
    for s in held:
        s.close()
    print("rc=%d" % rc)
else:
    sys.exit("unknown case " + case)
EOF

raw() { timeout -k 5 60 python3 "$T/client.py" "$SOCK" "$@"; }

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 2 --wait >"$out" 2>"$err" || { show_err; bail_out "no pool"; }
fds_before=$(daemon_fds)

# --- malformed messages -------------------------------------------------------
for case in invalid_json json_array json_string no_op op_not_string unknown_op duplicate_key \
    binary activate_no_fds activate_2_fds activate_5_fds ps_with_fds argv_not_list argv_nul \
    argv_empty_cmd env_not_kv cwd_relative hostname_bad image_bad image_missing size_huge \
    size_negative kill_bad_id kill_bad_signal signal_to_daemon oversized empty many_args; do
    r=$(raw "$case" 2>&1)
    if [ "$r" = CLOSED ]; then
        ok 0 "$case: the daemon closes the connection"
    else
        like "$r" '^\{"ok":false,"code":"[a-z_]+","error":"[^"]+' "$case: an {\"ok\":false} reply"
    fi
    wait_pool_full busybox:latest 20
    if ! pid_gone "$DAEMON_PID" && WR_TIMEOUT=20 wr activate --no-cold busybox -- echo alive >"$out" 2>"$err" &&
        [ "$(cat "$out")" = alive ]; then
        ok 0 "  after $case the daemon still serves an activation"
    else
        ok 1 "  after $case the daemon still serves an activation"
        show_err
        diag_file "$DAEMON_LOG"
        bail_out "the daemon is gone"
    fi
done
like "$(raw oversized)" '"code":"invalid".*64 KiB' "an oversized message is named as such"
like "$(raw unknown_op)" 'unknown op' "an unknown op is named as such"
like "$(raw ok_ps)" '^\{"ok":true,"containers":\[' "a well-formed ps still works on the raw socket"

wait_pool_full busybox:latest 20
is "$(daemon_fds)" "$fds_before" "the daemon holds no more descriptors than before ($fds_before)"

# --- vanishing and idle clients -------------------------------------------------
is "$(raw connect_close)" done "a client that connects and closes at once"
is "$(raw disconnect_mid_activation "$TAG")" done "a client that sends an activation and vanishes"
poll_until 5 no_sleep_tag
ok $? "  its container is killed (no sleep $TAG within 5 s)" || pgrep -af "^sleep $TAG" >&2
poll_until 5 eval '[ -z "$(wr ps | awk '\''NR > 1 && $3 == "running"'\'')" ]'
ok $? "  and is no longer listed as running"

wait_pool_full busybox:latest 20
r=$(raw idle_many 100 "${WR[@]}" activate --no-cold busybox -- true)
is "$r" rc=0 "100 idle connections do not keep an activation from being served"
wait_pool_full busybox:latest 20
poll_until 5 eval '[ "$(daemon_fds)" -eq "$fds_before" ]'
ok $? "  their descriptors are released ($(daemon_fds) vs $fds_before)"

# A bad request then a good one, queued together on one connection.
wait_pool_full busybox:latest 20
kill -STOP "$DAEMON_PID"
raw pipelined "$T/sent" >"$T/pipelined.out" 2>&1 &
py=$!
poll_until 10 test -e "$T/sent"
kill -CONT "$DAEMON_PID"
wait_child "$py" 30
# The container's "pipelined" comes after the replies (the script prints
# it once it has them).
like "$(grep -v '^pipelined$' "$T/pipelined.out" | sed -n 1p)" '"ok":false' \
    "pipelined: the bad request gets its error"
like "$(grep -c '^pipelined$' "$T/pipelined.out") $(grep -v '^pipelined$' "$T/pipelined.out" |
    sed -n 2p)" '^1 .*"event":"exit".*"exit_code":0' \
    "pipelined: the activation queued behind it runs" || diag_file "$T/pipelined.out"

# --- a warm shim killed while the daemon is stopped ---------------------------------
# Its SIGCHLD and its control socket's EOF then reach the daemon in one batch
# of events: the daemon must survive that (under ASan: no use after free).
wr pool create busybox --size 2 --wait >"$out" 2>"$err" || show_err
victim=$(wr ps | awk 'NR > 1 && $3 == "warm" {print $5; exit}')
kill -STOP "$DAEMON_PID"
kill -KILL "$victim"
sleep 0.5
kill -CONT "$DAEMON_PID"
wait_pool_full busybox:latest 30
ok $? "a warm shim killed under a stopped daemon: the daemon lives on and refills"
wr activate --no-cold busybox -- true >"$out" 2>"$err"
is "$?" 0 "  and still activates"

# --- a state directory that is not ours is refused ------------------------------------
foreign=$T/foreign-state
mkdir -m 0755 "$foreign" && chown 65534:65534 "$foreign"
"$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$foreign" activate --cold busybox -- true \
    >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 125 ] && grep -q 'belongs to uid 65534' "$err"
ok $? "a cold start refuses a state directory owned by another user (rc $rc)" || show_err

# --- a second daemon is refused --------------------------------------------------
WR_TIMEOUT=10 wr daemon >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'already serving' "$err"
ok $? "a second daemon on the same socket is refused: exit 1 (rc $rc)" || show_err
pid_gone "$DAEMON_PID"
is "$?" 1 "  the first daemon still runs"
ls "$STATE/defaults" >/dev/null 2>&1
had_defaults=$?
timeout -k 5 10 "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE" --socket "$T/other.sock" daemon \
    >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'another daemon uses the state directory' "$err"
ok $? "a second daemon on the same state directory with another socket is refused (rc $rc)" ||
    show_err
ls "$STATE/defaults" >/dev/null 2>&1
is "$?" "$had_defaults" "  and the first daemon's published defaults are left as they were"
[ ! -e "$T/other.sock" ]
ok $? "  and it made no socket"

# --- SIGKILL of the daemon under load ----------------------------------------------
wr pool create busybox --size 5 --wait >"$out" 2>"$err" || show_err
bgs=
for i in 1 2 3 4; do
    "${WR[@]}" activate --no-cold busybox -- sh -c "echo start-$i; sleep 2; echo done-$i" \
        >"$T/load$i.out" 2>"$T/load$i.err" &
    bgs="$bgs $!"
done
poll_until 20 eval '[ "$(cat "$T"/load?.out | grep -c start)" -eq 4 ]'
ok $? "4 activations are running"
warm_shims=$(wr ps | awk 'NR > 1 && $3 == "warm" {print $5}')
# In a group, so that bash's "Killed" job notice is silenced too.
{
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID"
} 2>/dev/null
DAEMON_PID=
i=0
for pid in $bgs; do
    i=$((i + 1))
    wait_child "$pid" 30
    [ "$WAIT_RC" -eq 0 ] && [ "$(cat "$T/load$i.out")" = "start-$i
done-$i" ]
    ok $? "after the daemon's SIGKILL, activation $i still exits 0 with its output (rc $WAIT_RC)" ||
        diag_file "$T/load$i.err"
done
poll_until 5 all_gone $warm_shims
ok $? "the warm shims ($(echo $warm_shims)) exit by themselves within 5 s" || show_pids $warm_shims
poll_until 5 no_container_pids
ok $? "no shim or container of this test is left" || show_pids $(our_pids)

# While the socket is stale, activate falls back to a cold start.
[ -S "$SOCK" ]
ok $? "the dead daemon's socket file is still there"
wr activate busybox -- echo cold-ok >"$out" 2>"$err"
is "$(cat "$out")" cold-ok "with a stale socket, activate cold-starts" || show_err

# A record of a shim that is long gone, as a crash would leave it.
sh -c 'exit 0' &
deadpid=$!
wait "$deadpid"
printf 'id=0123456789ab\nshim_pid=%d\nshim_start=1\nchild_pid=%d\ncreated=1\nimage=busybox:latest\n' \
    "$deadpid" "$deadpid" >"$STATE/containers/0123456789ab"
start_daemon
ok $? "a new daemon starts on the same state directory and socket" || bail_out "no daemon"
[ ! -e "$STATE/containers/0123456789ab" ] && grep -q 'stale record' "$DAEMON_LOG"
ok $? "  it sweeps the stale record" || diag_file "$DAEMON_LOG"
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "  it fills a pool" || show_err
wr activate --no-cold busybox -- echo served >"$out" 2>"$err"
is "$(cat "$out")" served "  and serves warm activations" || show_err

# --- a non-root user ----------------------------------------------------------------
as_nobody() {
    timeout -k 5 30 setpriv --reuid 65534 --regid 65534 --clear-groups "$@"
}
if ! as_nobody "$WARMRUN_BIN_DIR/warmrun" --help >/dev/null 2>&1; then
    skip 6 "user nobody cannot run $WARMRUN_BIN_DIR/warmrun"
else
    as_nobody "${WR[@]}" ps >"$out" 2>"$err"
    rc=$?
    [ "$rc" -ne 0 ] && grep -qi 'permission denied' "$err"
    ok $? "nobody: ps fails with 'Permission denied' (rc $rc)" || show_err
    as_nobody "${WR[@]}" activate --no-cold busybox -- echo hi >"$out" 2>"$err"
    rc=$?
    [ "$rc" -ne 0 ] && [ ! -s "$out" ]
    ok $? "nobody: activate fails (rc $rc)" || show_err

    # With the path open to all, the daemon's peer check still refuses.
    chmod 711 "$T"
    chmod 666 "$SOCK"
    as_nobody "${WR[@]}" ps >"$out" 2>"$err"
    rc=$?
    [ "$rc" -ne 0 ] && grep -q 'only root may use this socket' "$err"
    ok $? "nobody, socket mode 0666: the daemon refuses, ps fails with its reason (rc $rc)" || show_err
    as_nobody "${WR[@]}" activate --no-cold busybox -- echo hi >"$out" 2>"$err"
    rc=$?
    [ "$rc" -ne 0 ] && [ ! -s "$out" ]
    ok $? "nobody, socket mode 0666: activate fails (rc $rc)" || show_err
    as_nobody "${WR[@]}" shutdown >/dev/null 2>&1
    pid_gone "$DAEMON_PID"
    is "$?" 1 "nobody cannot shut the daemon down"
    chmod 700 "$T"
    chmod 600 "$SOCK"
    wait_pool_full busybox:latest 20
    wr activate --no-cold busybox -- echo root-ok >"$out" 2>"$err"
    is "$(cat "$out")" root-ok "root is still served"
fi

# --- the end: SIGTERM stops the daemon -----------------------------------------------
kill -TERM "$DAEMON_PID"
poll_until 10 pid_gone "$DAEMON_PID"
ok $? "SIGTERM stops the daemon" || diag_file "$DAEMON_LOG"
stop_daemon
is "$DAEMON_RC" 0 "  with exit status 0"
[ ! -e "$SOCK" ]
ok $? "  and removes its socket"
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG"
ok $? "no sanitizer report in the daemon's log" || diag_file "$DAEMON_LOG" 40
poll_until 10 no_container_pids
ok $? "no warmrun-shim or warmrun-init of this test is left" || show_pids $(our_pids)
is "$(our_pids | wc -l)" 0 "no process of this test is left at all"

done_testing

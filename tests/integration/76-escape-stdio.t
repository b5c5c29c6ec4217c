#!/bin/bash
# TAP test of the escape through the caller's stdio: a container's root
# (host root without --userns) must not reach the host inode behind its
# stdin, stdout or stderr, which it could chmod (`chmod 4755
# /proc/self/fd/1` made the caller's output file a set-uid-root binary of
# the workload's choice), chown or setxattr. The container takes only
# pipes and sockets; `warmrun activate` relays anything else.
#  - root-owned host files as stdin, stdout and stderr, attacked through the
#    descriptors and /proc/self/fd/N (tests/attack/stdioprobe.c): warm,
#    warm --init, cold, cold --init, cold --cap-drop ALL --read-only, and
#    the daemon's cold fallback; mode, owner and xattrs stay, the data
#    arrives;
#  - a private /dev/null node (mknod c 1 3), a named pipe and a terminal
#    (a pty of script(1)) as the CLI's stdio; a closed fd 0 or 1;
#  - raw API clients handing a regular file, a /dev/null node or a
#    directory: exit 125 with a clear error, the file untouched, the
#    daemon holding no more descriptors;
#  - 10 MB through files and pipes, order of 2>&1, `echo hi | activate`,
#    ^C through a terminal.
# The real /dev/null is never handed to a container here: a failing run
# would change the host's.
. "$(dirname "$0")/lib.sh"
setup_env stdio
command -v python3 >/dev/null || skip_all "python3 is not installed"

out=$T/out
err=$T/err
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/stdioprobe
[ -x "$PROBE" ] || bail_out "$PROBE is not built (make)"
TOKEN=stdio-$$-$RANDOM$RANDOM

# probe: a pool with warm containers; probe0: a pool of none (every
# activation is the daemon's cold fallback).
add_helper_image probe "$PROBE" stdioprobe && add_helper_image probe0 "$PROBE" stdioprobe || bail_out "cannot write the probe images"

# inode_state PATH: "MODE UID:GID XATTRS" of the inode at PATH.
inode_state() {
    python3 -c 'import os, stat, sys
st = os.stat(sys.argv[1])
try:
    x = ",".join(sorted(os.listxattr(sys.argv[1]))) or "-"
except OSError:
    x = "-"
print("%o %d:%d %s" % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, x))' "$1"
}

# host_file PATH [CONTENT]: a root-owned 0644 file without xattrs.
host_file() {
    rm -f "$1"
    printf '%s' "${2:-}" >"$1"
    chown 0:0 "$1"
    chmod 0644 "$1"
}

# act_mode ARGS...: activate in the current $mode (below); status in rc.
# Warm: waits for a full pool first and refuses a cold start.
act_mode() {
    case $mode in
    warm*) wait_pool_full probe:latest 30 || diag "pool not full before an activation" ;;
    esac
    # shellcheck disable=SC2086
    wr activate $mode_opts "$@"
    rc=$?
}

start_daemon || bail_out "the daemon did not start"
wr pool create probe --size 2 --wait >"$out" 2>"$err" || { show_err; bail_out "no pool"; }
wr pool create probe0 --size 0 >"$out" 2>"$err" || { show_err; bail_out "no pool probe0"; }

# ---- host files as stdin, stdout, stderr -------------------------------------

printf 'line one %s\nline two\n' "$TOKEN" >"$T/in.want"
MODES=(
    "warm|--no-cold|probe"
    "warm --init|--no-cold --init|probe"
    "cold|--cold|probe"
    "cold --init|--cold --init|probe"
    "cold --cap-drop ALL --read-only|--cap-drop ALL --read-only|probe"
    "the daemon's cold fallback|-v|probe0"
)
for m in "${MODES[@]}"; do
    IFS='|' read -r mode mode_opts img <<<"$m"
    host_file "$T/in" "$(cat "$T/in.want")"$'\n'
    host_file "$T/o"
    host_file "$T/e"
    act_mode "$img" sh -c '/stdioprobe 0 1 2; cat; echo end' <"$T/in" >"$T/o" 2>"$T/e"
    states="$(inode_state "$T/in") | $(inode_state "$T/o") | $(inode_state "$T/e")"
    is "$states" "644 0:0 - | 644 0:0 - | 644 0:0 -" \
        "$mode: chmod/chown/setxattr of fds 0-2 leave the host files' mode, owner, xattrs" ||
        diag_file "$T/e" 40
    { [ "$rc" -eq 0 ] && printf '%s\nend\n' "$(cat "$T/in.want")" | cmp -s - "$T/o"; }
    ok $? "$mode: stdin's content read, the output arrives complete (rc $rc)" ||
        { diag_file "$T/o"; diag_file "$T/e"; }
    if [ "$img" = probe0 ]; then
        grep -q 'cold: pool probe0:latest had no warm container' "$T/e"
        ok $? "  (it was the daemon's cold fallback)" || diag_file "$T/e"
    fi
done

# ---- a /dev/null node, a named pipe, closed descriptors -----------------------

# A node of the same device as /dev/null, ours: a chmod through it would
# show here, and not on the host's /dev/null.
mknod "$T/null" c 1 3 && chmod 0666 "$T/null" || bail_out "mknod"
for m in "warm|--no-cold" "cold|--cold"; do
    IFS='|' read -r mode mode_opts <<<"$m"
    chown 0:0 "$T/null" && chmod 0666 "$T/null"
    act_mode probe sh -c '/stdioprobe 0 1 2>/dev/null; stat -L -c %F /proc/self/fd/0 /proc/self/fd/1 >&2' \
        <"$T/null" >"$T/null" 2>"$err"
    is "$(inode_state "$T/null")" "666 0:0 -" "$mode: a /dev/null node as stdin and stdout is not changed"
    is "$rc|$(tr '\n' ' ' <"$err")" "0|fifo fifo " "$mode:   the workload gets pipes instead" ||
        show_err
done

mkfifo -m 0644 "$T/fifo" || bail_out "mkfifo"
(echo "via fifo $TOKEN" >"$T/fifo") &
writer=$!
mode=warm
mode_opts=--no-cold
act_mode probe sh -c '/stdioprobe 0 2>/dev/null; cat' <"$T/fifo" >"$out" 2>"$err"
wait_child "$writer" 10
is "$rc|$(cat "$out")|$(inode_state "$T/fifo")" "0|via fifo $TOKEN|644 0:0 -" \
    "a named pipe as stdin: relayed, its inode not changed" || show_err

for m in "warm|--no-cold" "cold|--cold"; do
    IFS='|' read -r mode mode_opts <<<"$m"
    act_mode probe sh -c 'stat -L -c %F /proc/self/fd/0; cat; echo "cat=$?"' <&- >"$out" 2>"$err"
    is "$rc|$(tr '\n' ' ' <"$out")" "0|fifo cat=0 " \
        "$mode: a closed stdin is an empty pipe (no host /dev/null handed in)" || show_err
    act_mode probe sh -c 'stat -L -c %F /proc/self/fd/1 >&2; seq 1 20000' >&- 2>"$err"
    is "$rc|$(cat "$err")" "0|fifo" "$mode: a closed stdout is a pipe whose output is dropped"
done

# ---- raw API clients ----------------------------------------------------------

# client.py SOCK IMAGE STREAM PATH ARGV...: activates with PATH (opened
# read-write; read-only for a directory) as STREAM (0, 1 or 2) and pipes
# for the other two; prints the reply, then "output: ..." (what the
# workload wrote to the pipe).
cat >"$T/client.py" <<'EOF'
import json, os, socket, sys
path, image, stream, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(60)
s.connect(path)
r0, w0 = os.pipe()
os.close(w0)
r1, w1 = os.pipe()
if os.path.isdir(target):
    fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
else:
    fd = os.open(target, os.O_RDWR)
fds = [r0, w1, w1]
fds[stream] = fd
req = {"op": "activate", "image": image, "argv": sys.argv[5:]}
socket.send_fds(s, [json.dumps(req).encode()], fds)
for f in (r0, w1, fd):
    os.close(f)
try:
    print(s.recv(65536).decode())
except socket.timeout:
    print("TIMEOUT")
os.set_blocking(r1, False)
try:
    print("output: " + os.read(r1, 65536).decode(errors="replace").replace("\n", " "))
except BlockingIOError:
    print("output: ")
EOF
raw() { timeout -k 5 90 python3 "$T/client.py" "$SOCK" "$@"; }

fds_before=$(daemon_fds)
mkdir -p "$T/dir"
echo "$TOKEN" >"$T/dir/marker"
RAW_CASES=(
    "probe|1|$T/o|stdout (fd 1) is a regular file: refused"
    "probe|0|$T/o|stdin (fd 0) is a regular file: refused"
    "probe|2|$T/null|stderr (fd 2) is /dev/null (character device 1:3): refused"
    "probe|0|$T/dir|stdin (fd 0) is a directory: refused"
    "probe0|1|$T/o|stdout (fd 1) is a regular file: refused"
)
for c in "${RAW_CASES[@]}"; do
    IFS='|' read -r img stream target want <<<"$c"
    label="raw client, ${target##*/} as fd $stream"
    [ "$img" = probe0 ] && label="$label (the daemon's cold fallback)"
    host_file "$T/o" "$TOKEN"
    chown 0:0 "$T/null" && chmod 0666 "$T/null"
    before=$(inode_state "$target")
    wait_pool_full probe:latest 30
    r=$(raw "$img" "$stream" "$target" sh -c \
        '/stdioprobe 0 1 2 2>/dev/null; cd /proc/self/fd/0 && cat marker; echo ran' 2>&1)
    reply=$(sed -n 1p <<<"$r")
    like "$reply" '"exit_code":125' "$label: exit 125" || diag "$r"
    [[ $reply == *"$want"* ]]
    ok $? "$label: the error says \"$want\"" || diag "$reply"
    is "$(inode_state "$target")|$(sed -n 2p <<<"$r")" "$before|output: " \
        "$label: the file is untouched and nothing ran"
done
[ "$(cat "$T/o")" = "$TOKEN" ]
ok $? "the regular file kept its content"
wait_pool_full probe:latest 30
poll_until 10 eval '[ "$(daemon_fds)" -le "$fds_before" ]'
ok $? "the daemon holds no more descriptors than before ($(daemon_fds) vs $fds_before)"

# ---- data: large, ordered, piped -------------------------------------------------

head -c 10000000 /dev/urandom >"$T/big" || bail_out "cannot write 10 MB"
for m in "warm|--no-cold" "cold|--cold"; do
    IFS='|' read -r mode mode_opts <<<"$m"
    act_mode probe cat <"$T/big" >"$T/big.out" 2>"$err"
    { [ "$rc" -eq 0 ] && cmp -s "$T/big" "$T/big.out"; }
    ok $? "$mode: 10 MB from a file to a file arrive intact" || show_err
    act_mode probe sh -c 'cat >&2' <"$T/big" 2>"$T/big.out" >"$out"
    { [ "$rc" -eq 0 ] && cmp -s "$T/big" "$T/big.out"; }
    ok $? "$mode: 10 MB to stderr (a file) arrive intact"
    act_mode probe cat <"$T/big" 2>"$err" | cat >"$T/big.out"
    cmp -s "$T/big" "$T/big.out"
    ok $? "$mode: 10 MB from a file to a pipe arrive intact" || show_err
    cat "$T/big" | act_mode probe md5sum >"$out" 2>"$err"
    is "$(cut -d' ' -f1 "$out")" "$(md5sum <"$T/big" | cut -d' ' -f1)" \
        "$mode: 10 MB from a pipe arrive intact (md5sum)"
    act_mode probe sh -c 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done' >"$out" 2>&1
    is "$(tr '\n' ' ' <"$out")" "out1 err1 out2 err2 out3 err3 out4 err4 out5 err5 " \
        "$mode: > file 2>&1 keeps stdout and stderr in order"
    is "$(echo hi | act_mode probe cat 2>"$err")" hi "$mode: echo hi | activate cat"
    act_mode probe sh -c 'sleep 100 & echo bg' <"$T/big" >"$out" 2>"$err"
    is "$rc|$(cat "$out")" "0|bg" \
        "$mode: a background process and unread stdin do not hold the CLI back"
done

# ---- a terminal (a pty of script(1)) ------------------------------------------------

if command -v script >/dev/null; then
    wr_cmd=$(printf '%q ' "${WR[@]}")
    # The pty's mode and owner, then the workload's view, then the mode again.
    cmd="p=\$(tty); stat -c %a:%u:%g \$p; $wr_cmd activate --no-cold probe sh -c \
'/stdioprobe 0 1 2 2>/dev/null; stat -L -c %F /proc/self/fd/0 /proc/self/fd/1; \
[ \"\$(readlink /proc/\$\$/fd/1)\" = \"\$(readlink /proc/\$\$/fd/2)\" ] && echo one-pipe; \
echo tty-done'; stat -c %a:%u:%g \$p"
    wait_pool_full probe:latest 30
    timeout -k 5 60 script -qec "$cmd" "$T/typescript" </dev/null >"$out" 2>"$err"
    mapfile -t lines < <(tr -d '\r' <"$out")
    is "${lines[1]}|${lines[2]}|${lines[3]}|${lines[4]}" "fifo|fifo|one-pipe|tty-done" \
        "a terminal as stdio: the workload gets pipes (one for stdout and stderr)" ||
        diag_file "$out"
    { [ -n "${lines[0]}" ] && [ "${lines[0]}" = "${lines[5]}" ]; }
    ok $? "  the terminal's mode and owner are not changed (${lines[0]} -> ${lines[5]})"

    # ^C typed on the terminal reaches the workload (as SIGINT).
    wait_pool_full probe:latest 30
    # exec: script(1) runs this with $SHELL, or with /bin/sh where it is
    # unset (as under CI); dash does not exec a lone command itself, and
    # a shell left waiting in the terminal's foreground group dies of the
    # ^C, which script reports as 130 whatever the workload did.
    cmd="exec $wr_cmd activate --no-cold probe sh -c \
'trap \"echo got-int; exit 7\" INT; echo ready; while :; do sleep 0.1; done'"
    {
        poll_until 20 grep -q ready "$T/int.out"
        printf '\003'
    } | timeout -k 5 60 script -qec "$cmd" "$T/typescript" >"$T/int.out" 2>"$err"
    rc=$?
    # (the terminal echoes the ^C itself)
    is "$rc|$(tr -d '\r' <"$T/int.out" | sed 's/\^C//g' | tr '\n' ' ')" "7|ready got-int " \
        "^C on the terminal: SIGINT forwarded to the workload, its exit status passed on"
else
    skip 3 "script (util-linux) is not installed"
fi

stop_daemon
is "$DAEMON_RC" 0 "the daemon shut down cleanly"
done_testing

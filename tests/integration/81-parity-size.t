#!/bin/bash
# TAP test of activation sizes against `docker run` (issue 12, fault D):
# warm and cold take argv and environment up to the kernel's execve limits
# (128 KiB per string, a quarter of the stack limit in all), carried out of
# band in a sealed memfd when they do not fit one message:
#  - a 1 MiB argv of many arguments, a 100 KiB single argument and a 200 KiB
#    environment are echoed back exactly, warm and cold, root and -u 1000;
#  - just past a limit: exit 125 with a one-line reason, before anything is
#    started (the daemon never sees the request);
#  - a hostile client's out-of-band requests (unsealed memfd, a pipe, an
#    oversized or shrinkable memfd, a write-only one, none at all) get an
#    error reply, and the daemon neither blocks nor leaks nor dies;
# and, at the end, the stdio of a non-root workload in a user namespace is
# its own to reopen (`echo x > /dev/stdout`), warm and cold.
. "$(dirname "$0")/lib.sh"
setup_env parity-size

out=$T/out
err=$T/err
# The daemon, its containers and the CLI: the same stack limit (8 MiB, so
# execve takes 2 MiB), whatever the caller's.
ulimit -S -s 8192 || bail_out "cannot set the stack limit"
LIMIT=$((8192 * 1024 / 4 - 8192))

add_layer_image user '{"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"], "WorkingDir": "/",
                       "User": ""}' 'mkdir etc' || bail_out "cannot write the image"
start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 1 >"$out" 2>"$err" || { show_err; bail_out "pool create"; }
wr pool create user --size 1 -u 1000 >"$out" 2>"$err" || { show_err; bail_out "pool create"; }

# 8192 arguments of 127 bytes: 1 MiB of strings, 64 KiB of pointers.
ARGS=()
for i in $(seq 1 8192); do
    printf -v a '%05d%0122d' "$i" 0
    ARGS+=("$a")
done
printf '%s\n' "${ARGS[@]}" >"$T/args.want"
# One argument of 100 KiB.
ONE=$(head -c 102400 /dev/zero | tr '\0' 'q')
# 100 variables of 2 KiB.
ENVS=()
for i in $(seq 100 199); do
    v=$(head -c 2048 /dev/zero | tr '\0' "$((i % 10))")
    ENVS+=(-e "BIG$i=$v")
done
printf '%s\n' "${ENVS[@]}" | grep -v '^-e$' | sort >"$T/env.want"

# run MODE USER ARGS...: activate, warm (from the pool of the user's image)
# or cold; stdout in $out, status in $rc.
run() {
    local mode=$1 user=$2 img=busybox o=(--cold)
    shift 2
    if [ "$mode" = warm ]; then
        o=(--no-cold)
        [ "$user" = 1000 ] && img=user
        wait_pool_full "$img:latest" 30 || diag "pool $img not full"
    elif [ "$user" = 1000 ]; then
        o+=(-u 1000)
    fi
    wr activate "${o[@]}" "${ENV_OPTS[@]}" "$img" "$@" >"$out" 2>"$err"
    rc=$?
}

for mode in warm cold; do
    for user in 0 1000; do
        m="$mode uid $user"
        ENV_OPTS=()
        run $mode $user sh -c 'id -u; printf "%s\n" "$@"' sh "${ARGS[@]}"
        is "$rc" 0 "$m: a 1 MiB argv of 8192 arguments runs" || show_err
        head -1 "$out" | grep -qx "$user"
        ok $? "$m: as uid $user" || show_err
        tail -n +2 "$out" | cmp -s - "$T/args.want"
        ok $? "$m: the 8192 arguments are echoed back exactly" || show_err

        run $mode $user printf %s "$ONE"
        is "$rc" 0 "$m: a 100 KiB single argument runs" || show_err
        [ "$(cat "$out")" = "$ONE" ]
        ok $? "$m: it is echoed back exactly ($(wc -c <"$out") bytes)" || show_err

        ENV_OPTS=("${ENVS[@]}")
        run $mode $user env
        ENV_OPTS=()
        is "$rc" 0 "$m: a 200 KiB environment runs" || show_err
        grep '^BIG' "$out" | sort | cmp -s - "$T/env.want"
        ok $? "$m: the 100 variables of 2 KiB are echoed back exactly" || show_err
    done
done

# ---- past the kernel's limits: refused before anything starts ------------------
# past WHAT ARGS...: exit 125 with one line naming the limit, and neither a
# warm nor a cold start (the daemon's activation count does not move).
past() {
    local what=$1 before after mode
    shift
    for mode in warm cold; do
        local o=--no-cold
        [ $mode = cold ] && o=--cold
        wait_pool_full busybox:latest 30 || diag "pool busybox not full"
        before=$(wr stats --daemon 2>/dev/null | grep -i activations)
        ${WR_CALL:-wr} activate $o busybox "$@" >"$out" 2>"$err"
        rc=$?
        after=$(wr stats --daemon 2>/dev/null | grep -i activations)
        is "$rc" 125 "$mode: $what: exit 125" || show_err
        is "$(wc -l <"$err")" 1 "$mode: $what: one line" || show_err
        like "$(cat "$err")" 'warmrun: .*(MAX_ARG_STRLEN|stack limit)' \
            "$mode: $what: says which limit" || show_err
        is "$after" "$before" "$mode: $what: the daemon never saw it"
        is "$(pool_field busybox:latest warm)" 1 "$mode: $what: the warm container is left"
    done
}

LONG=$(head -c 131071 /dev/zero | tr '\0' 'q')
for mode in warm cold; do
    run $mode 0 printf %s "$LONG"
    is "$(wc -c <"$out")" 131071 "$mode: one byte less (the kernel's longest string) runs" ||
        show_err
done
# Arguments just past the total (strings, NULs and pointers), yet within
# what the host's execve of the CLI itself takes: run with an empty
# environment, so that the CLI's own execve has the room.
wr_bare() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin timeout -k 10 60 "${WR[@]}" "$@"
}
N=$(((LIMIT + 2048) / (127 + 8 + 1)))
BIGS=()
for ((i = 0; i < N; i++)); do BIGS+=("${ARGS[0]:0:127}"); done
WR_CALL=wr_bare past "$N arguments, $((N * 136)) bytes with their pointers (limit $LIMIT)" \
    true "${BIGS[@]}"
for mode in warm cold; do
    o=--no-cold
    [ $mode = cold ] && o=--cold
    wait_pool_full busybox:latest 30 || diag "pool busybox not full"
    wr_bare activate $o busybox sh -c 'echo $#' sh "${BIGS[@]:40}" >"$out" 2>"$err"
    is "$(cat "$out")" "$((N - 40))" "$mode: $((N - 40)) of them, just under the limit, run" ||
        show_err
done
unset BIGS

# A CLI with a larger stack limit than the daemon's gets past its own
# check; the daemon refuses what its containers could not execve.
if (ulimit -S -s 16384) 2>/dev/null; then
    (
        ulimit -S -s 16384
        wait_pool_full busybox:latest 30
        BIGS=()
        for ((i = 0; i < N + 2000; i++)); do BIGS+=("${ARGS[0]:0:127}"); done
        wr_bare activate --no-cold busybox true "${BIGS[@]}" >"$out" 2>"$err"
        echo $? >"$T/rc"
    )
    is "$(cat "$T/rc")" 125 "the daemon refuses more than its containers could execve (125)" ||
        show_err
    like "$(cat "$err")" 'stack limit' "and says why" || show_err
    poll_until 10 pool_full busybox:latest
    ok $? "its warm container is kept"
else
    skip 3 "the hard stack limit is 8 MiB: no CLI with a larger one"
fi

# A string of 128 KiB cannot reach the CLI (the host's execve of the CLI
# refuses it too), but it can come from the image's Env, or from an API
# client: refused, warm and cold, and the pool's container is kept.
LONG=$(head -c 131070 /dev/zero | tr '\0' 'q')
add_layer_image longenv "{\"Cmd\": [\"true\"], \"Env\": [\"L=$LONG\"], \"WorkingDir\": \"/\"}" \
    'mkdir etc' || bail_out "cannot write the image"
wr pool create longenv --size 1 >"$out" 2>"$err" || show_err
for mode in warm cold; do
    o=--no-cold
    [ $mode = cold ] && o=--cold
    [ $mode = warm ] && { wait_pool_full longenv:latest 30 || diag "pool longenv not full"; }
    wr activate $o longenv >"$out" 2>"$err"
    is "$?" 125 "$mode: an image Env entry of 128 KiB with its NUL: exit 125" || show_err
    like "$(cat "$err")" 'environment entry .*MAX_ARG_STRLEN' "$mode: says which limit" ||
        show_err
done
poll_until 10 pool_full longenv:latest
ok $? "the longenv pool's container is kept"
cat >"$T/long_arg.py" <<'PY'
import fcntl, json, os, socket, struct, sys
req = json.dumps({"op": "activate", "image": "busybox", "argv": ["echo", "q" * 131072],
                  "no_cold": True}).encode()
fd = os.memfd_create("req", os.MFD_ALLOW_SEALING)
os.write(fd, req)
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW |
            fcntl.F_SEAL_WRITE)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(sys.argv[1])
r, w = os.pipe()
socket.send_fds(s, [struct.pack("=IIQ", 0x626F7277, 0, len(req))], [r, w, w, fd])
print(s.recv(65536).decode())
PY
wait_pool_full busybox:latest 30 || diag "pool busybox not full"
like "$(timeout 30 python3 "$T/long_arg.py" "$SOCK" 2>&1)" '"ok": *false.*MAX_ARG_STRLEN' \
    "an API client's argument of 128 KiB with its NUL is refused"
poll_until 10 pool_full busybox:latest
ok $? "and the warm container is kept"

# ---- a hostile client -------------------------------------------------------------
fds_before=$(daemon_fds)
cat >"$T/hostile.py" <<'PY'
import fcntl, os, socket, struct, sys
SOCK = sys.argv[1]
ALL = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
req = b'{"op":"pool_ls"}'

def memfd(data, seals, size=None):
    fd = os.memfd_create("hostile", os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if size is not None:
        os.ftruncate(fd, size)
    if seals:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd

def header(n):
    return struct.pack("=IIQ", 0x626F7277, 0, n)

def ask(name, msg, fds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(SOCK)
    socket.send_fds(s, [msg], fds)
    try:
        reply = s.recv(65536).decode()
    except socket.timeout:
        reply = "TIMEOUT"
    s.close()
    for fd in fds:
        os.close(fd)
    print("%s\t%s" % (name, reply))

r, w = os.pipe()
ask("pipe", header(len(req)), [r])
os.close(w)
ask("unsealed", header(len(req)), [memfd(req, 0)])
ask("shrinkable", header(len(req)),
    [memfd(req, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)])
ask("no seal seal", header(len(req)),
    [memfd(req, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)])
big = 64 << 20
ask("oversized", header(big), [memfd(req, ALL, big)])
ask("wrong length", header(len(req) + 1), [memfd(req, ALL)])
ask("no memfd", header(len(req)), [])
fd = memfd(req, ALL)
wo = os.open("/proc/self/fd/%d" % fd, os.O_WRONLY)
os.close(fd)
ask("write-only", header(len(req)), [wo])
ask("a file", header(len(req)), [os.open("/etc/hostname", os.O_RDONLY)])
ask("sealed", header(len(req)), [memfd(req, ALL)])
PY
timeout 60 python3 "$T/hostile.py" "$SOCK" >"$T/hostile.out" 2>"$err"
is "$?" 0 "the hostile client ran" || show_err
for name in pipe unsealed shrinkable "no seal seal" oversized "wrong length" "no memfd" \
    write-only "a file"; do
    line=$(grep "^$name"$'\t' "$T/hostile.out")
    like "$line" '"ok": *false' "an out-of-band request with $name is refused" || diag "$line"
done
like "$(grep '^sealed' "$T/hostile.out")" '"ok": *true' \
    "a sealed memfd of the right size is served (the path the CLI takes)"
pid_alive "$DAEMON_PID"
ok $? "the daemon survived"
is "$(daemon_fds)" "$fds_before" "the daemon holds no descriptor more (none leaked)"
run warm 0 echo alive
is "$(cat "$out")" alive "and still activates" || show_err

# ---- stdio of a non-root workload in a user namespace ---------------------------------
add_layer_image uns '{"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"], "WorkingDir": "/",
                      "User": ""}' 'mkdir etc' || bail_out "cannot write the image"
wr pool create uns --size 1 -u 1000 --userns auto >"$out" 2>"$err" || show_err
PROBE='id -u; echo x >/dev/stdout; echo y >/proc/self/fd/2'
for mode in warm cold; do
    o=(--no-cold uns)
    [ $mode = cold ] && o=(--cold -u 1000 --userns auto busybox)
    [ $mode = warm ] && { wait_pool_full uns:latest 30 || diag "pool uns not full"; }
    wr activate "${o[@]}" sh -c "$PROBE" >"$out" 2>"$err"
    is "$?" 0 "userns $mode: exit 0" || show_err
    is "$(cat "$out")" $'1000\nx' "userns $mode: uid 1000 reopens its stdout" || show_err
    grep -qx y "$err"
    ok $? "userns $mode: and its stderr through /proc/self/fd/2" || show_err
    # The caller's own pipe, passed as it is (not relayed by the CLI).
    [ $mode = warm ] && { wait_pool_full uns:latest 30 || diag "pool uns not full"; }
    got=$(wr activate "${o[@]}" sh -c 'echo x >/dev/stdout' 2>"$err" | cat)
    is "$got" x "userns $mode: also through the caller's own pipe" || show_err
done

stop_daemon
done_testing

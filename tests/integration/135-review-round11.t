#!/bin/bash
# TAP test: what a hostile review of the newer surfaces (ports, the Invoke
# API) found.
# - `-p HOSTPORT:...` on a port a host process listens on (or, for udp, is
#   bound to) was taken: published ports are DNAT rules, which no bind()
#   sees, so the container silently took the port over from every other
#   host and from the host itself (`-p 22:80` cut sshd off; `-p` on the
#   daemon's own --http port, its Invoke API). Docker refuses: "port is
#   already allocated". Now the cold start's publish and `pool create -p`
#   ask the kernel for the port's listeners first (daemon_host_ports.c).
# - A cold start's -p took a host port another container publishes on
#   another network, or in the other form (HOSTIP:PORT beside PORT): only
#   the same map key was refused. Now every network's mappings are
#   checked, under one lock with the mapping (daemon_network_publish).
# - The same `activate -p P:...` run right after the last one ended was
#   refused about 1 time in 5: the ended container's mapping is removed
#   by its detached teardown, after its CLI returned. Now a cold start's
#   publish removes the mappings of a container whose lease the teardown
#   holds (it has ended) instead of counting them.
# - A runtime's answer over 6 MB was refused (413) with its invocation
#   left open: the runtime's next request ended it as unanswered, or its
#   second answer was taken. Now it ends with Lambda's error for it,
#   Function.ResponseSizeTooLarge (function_invoke.c).
# - The Invoke API refused a function named with its $LATEST qualifier
#   (NAME:$LATEST, an ARN with it) and ignored ?Qualifier= (any version
#   ran $LATEST): now $LATEST is found, any other version is not (404).
# - The Invoke API's error bodies were printf'd JSON: a payload that is not
#   JSON got a 400 whose body was not JSON either (jansson's message quotes
#   the client's token, '"' included), which the AWS SDKs fail to parse;
#   and the message ended in strerror's ": Bad message". Now jansson
#   writes the body.
# - A function's stored definition was read with a blocking open(): a
#   FIFO among them hung the next daemon's start; bad ones were logged
#   "unreadable" whatever they were, and one under another file's name was
#   restored. Now read as pools' records are (daemon_record_read: a
#   regular file of root's, without blocking), named after their function,
#   each refusal saying why. The same for the state files of networks
#   and CNI read at start (wr_fopen_regular).
# Every global name (network, bridge, nft tables, subnet) derives from $$.
# Needs root, busybox-static, nft, python3, curl and jq.
. "$(dirname "$0")/lib.sh"
setup_env review11
command -v nft >/dev/null || skip_all "nft is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"

out=$T/out
err=$T/err
trap 'rc=$?; [ -n "${HOSTSVC:-}" ] && kill "$HOSTSVC" 2>/dev/null; net_names_cleanup; (exit $rc); cleanup' EXIT
private_bridge_network wrv 31 || bail_out "network create: $(cat "$T/network.out")"
start_daemon --http 127.0.0.1:0 || bail_out "the daemon did not start"

# ---- a host port in use -------------------------------------------------------
# A host service: a TCP listener and a bound UDP socket on free ports
# (the kernel's choice), which answers each connection with a banner.
python3 -c '
import socket, sys, time
t = socket.socket(); t.bind(("0.0.0.0", 0)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
print(t.getsockname()[1], u.getsockname()[1], flush=True)
t.settimeout(120)
while True:
    c, _ = t.accept(); c.sendall(b"host-service\n"); c.close()
' >"$T/svc" 2>&1 &
HOSTSVC=$!
poll_until 5 test -s "$T/svc" || bail_out "the host service did not start: $(cat "$T/svc")"
read -r TPORT UPORT <"$T/svc"
banner() {
    python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
print(s.recv(100).decode().strip())' "$1" 2>&1
}
is "$(banner "$TPORT")" host-service "a host service listens on $TPORT/tcp"
mapped() { nft list table ip "warmrun_$NET" 2>/dev/null | grep -cw -e "$TPORT" -e "$UPORT"; }

wr activate --network "bridge=$NET" -p "$TPORT:80" busybox -- echo ran >"$out" 2>"$err"
is "$?" 125 "activate -p $TPORT:80 (a host process listens there): refused (125)"
like "$(cat "$err")" "^warmrun: port is already allocated: .*$TPORT" "  saying the port is allocated"
is "$(wc -l <"$err")" 1 "  in one line"
is "$(cat "$out")" "" "  nothing ran"
is "$(mapped)" 0 "  no mapping of the port in the network's table"
is "$(banner "$TPORT")" host-service "  the host service still answers on $TPORT"
wr activate --network "bridge=$NET" -p "127.0.0.1:$TPORT:80" busybox -- true >"$out" 2>"$err"
is "$?" 125 "activate -p 127.0.0.1:$TPORT:80: refused too (125)"
wr activate --network "bridge=$NET" -p "$UPORT:53/udp" busybox -- true >"$out" 2>"$err"
is "$?" 125 "activate -p $UPORT:53/udp (a host process is bound there): refused (125)"
like "$(cat "$err")" "port is already allocated" "  saying the port is allocated"
HTTP_PORT=$(sed -n 's/.*http: listening on .*(port \([0-9]*\)).*/\1/p' "$DAEMON_LOG" | head -n1)
wr activate --network "bridge=$NET" -p "$HTTP_PORT:80" busybox -- true >"$out" 2>"$err"
is "$?" 125 "activate -p on the daemon's own --http port ($HTTP_PORT): refused (125)"
wr pool create busybox --size 1 --network "bridge=$NET" -p "$TPORT:80" >"$out" 2>"$err"
is "$?" 1 "pool create -p $TPORT:80: refused (1)"
like "$(cat "$err")" "port is already allocated" "  saying the port is allocated"
is "$(WR_TIMEOUT=10 wr pool ls --json | jq -r '.pools[].image' | xargs)" "" "  and no pool is made"
# The control: the service gone (its closed connections in TIME_WAIT on
# the port, which a bind() probe would count), the same port publishes.
kill "$HOSTSVC" 2>/dev/null
wait "$HOSTSVC" 2>/dev/null
HOSTSVC=
wr activate --network "bridge=$NET" -p "$TPORT:80" busybox -- echo ran >"$out" 2>"$err"
is "$?:$(cat "$out")" 0:ran "(control) once the host service is gone, -p $TPORT:80 publishes" ||
    diag_file "$err"
unmapped() { [ "$(mapped)" -eq 0 ]; }
poll_until 10 unmapped
ok $? "  and its mapping goes with the container" || diag "$(nft list table ip "warmrun_$NET")"

# ---- one host port, two containers ------------------------------------------------
# A cold start's -p was refused only for the same form (HOSTIP or every
# address) of the port on the same network (the map's key): on another
# network, or as HOSTIP:PORT beside PORT, a second container took the
# host port too, and which got its traffic was the tables' order.
private_bridge_network_2() {
    local net=$NET br=$BR subnet=$SUBNET gw=$GW
    private_bridge_network wrw 37 || return 1
    NET2=$NET BR2=$BR
    NET=$net BR=$br SUBNET=$subnet GW=$gw
}
trap 'rc=$?; [ -n "${HOSTSVC:-}" ] && kill "$HOSTSVC" 2>/dev/null; net_names_cleanup
NET=$NET2 BR=$BR2 net_names_cleanup; (exit $rc); cleanup' EXIT
unmapped_x() { ! nft list ruleset 2>/dev/null | grep -qw "$XPORT"; }
private_bridge_network_2 || bail_out "network create: $(cat "$T/network.out")"
# A port of its own, free (the kernel's pick, let go at once).
XPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
# The CLI itself in the background (no timeout wrapper): its SIGTERM goes
# to the workload.
"${WR[@]}" activate --network "bridge=$NET" -p "$XPORT:80" busybox -- sh -c 'trap "exit 0" TERM; echo up; sleep 30 & wait' \
    >"$T/holder.out" 2>"$T/holder.err" &
holder=$!
poll_until 20 grep -q up "$T/holder.out"
ok $? "a container publishes $XPORT on $NET" || diag_file "$T/holder.err"
wr activate --network "bridge=$NET2" -p "$XPORT:80" busybox -- echo ran >"$out" 2>"$err"
is "$?:$(cat "$out")" 125: "the same port on another network: refused (125), nothing ran"
like "$(cat "$err")" "^warmrun: port is already allocated: -p $XPORT:80/tcp: container [0-9a-f]{12} on network $NET publishes it\$" \
    "  naming the holder and its network"
wr activate --network "bridge=$NET" -p "127.0.0.1:$XPORT:80" busybox -- true >"$out" 2>"$err"
is "$?" 125 "127.0.0.1:$XPORT beside $XPORT on the same network: refused (125)"
wr activate --network "bridge=$NET2" -p "$((TPORT + 1)):80" busybox -- echo ran >"$out" 2>"$err"
is "$?:$(cat "$out")" 0:ran "(control) another port on the other network publishes" ||
    diag_file "$err"
kill -TERM "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# The same -p again and again, each run right after the last one ended:
# the ended container's mapping, which its detached teardown removes
# after its CLI has returned, refused about 1 run in 5.
fails=0
for i in $(seq 20); do
    wr activate --network "bridge=$NET" -p "$XPORT:80" busybox -- true >"$out" 2>"$err" ||
        { fails=$((fails + 1)); cp "$err" "$T/b2b.err"; }
done
is "$fails" 0 "activate -p $XPORT:80 20 times back to back: none refused" || diag_file "$T/b2b.err"
poll_until 10 unmapped_x
ok $? "  and no mapping of $XPORT is left"

# ---- the Invoke API's error bodies ------------------------------------------------
# The payload is refused before any runtime sees it: a function on busybox
# (no environment, --min 0) is enough.
wr function create bj busybox --min 0 --max 1 >"$out" 2>"$err"
ok $? "function create bj (no environment)" || diag_file "$err"
URL=http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/bj/invocations
code=$(curl -s -o "$T/body" -w '%{http_code}' -XPOST "$URL" --data-binary '{"a')
is "$code" 400 "POST a payload that is not JSON ({\"a): 400"
jq -e . "$T/body" >/dev/null 2>&1
ok $? "  its body is JSON" || diag "body: $(head -c 300 "$T/body")"
like "$(jq -r .message "$T/body" 2>/dev/null)" \
    "^Could not parse request body into json: premature end of input near '\"a'" \
    "  its message quotes the token"
unlike "$(cat "$T/body")" "Bad message" "  with no strerror text"
is "$(jq -r .Type "$T/body" 2>/dev/null)" User "  Type: User"

# ---- a runtime's answer over 6 MB ----------------------------------------------------
# The Runtime API answered it 413 and kept the invocation open: the
# runtime's next request ended it as unanswered ("asked for the next
# invocation without answering this one"), or a second answer was taken.
# Lambda ends it with Function.ResponseSizeTooLarge. The runtime: busybox
# sh and wget, from a volume.
mkdir -p "$T/rt"
cat >"$T/rt/bootstrap" <<'SH'
#!/bin/sh
# Each invocation answered with a body over 6 MB, then with a small one.
api=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime
head -c 7000000 /dev/zero | tr '\0' x >/tmp/big
while true; do
    id=$(wget -S -q -O /tmp/event "$api/invocation/next" 2>&1 |
        sed -n 's/^ *Lambda-Runtime-Aws-Request-Id: *\([0-9a-f-]*\).*/\1/p')
    wget -S -q -O /dev/null --post-file /tmp/big "$api/invocation/$id/response" 2>&1 |
        sed -n 's/^ *HTTP\/1.1 \([0-9]*\).*/big \1/p'
    wget -S -q -O /dev/null --post-data '"small"' "$api/invocation/$id/response" 2>&1 |
        sed -n 's/^ *HTTP\/1.1 \([0-9]*\).*/small \1/p'
done
SH
chmod 755 "$T/rt/bootstrap"
wr function create big busybox --handler /rt/bootstrap -v "$T/rt:/rt:ro" --min 1 --max 1 \
    >"$out" 2>"$err"
ok $? "function create big (a runtime that answers with 7 MB)" || diag_file "$err"
for i in 1 2; do
    echo '{}' | wr invoke big --payload - >"$out" 2>"$err"
    is "$?:$(jq -r .errorType "$out" 2>/dev/null)" 3:Function.ResponseSizeTooLarge \
        "invocation $i: a function error, Function.ResponseSizeTooLarge (Lambda's)" ||
        diag "stdout: $(head -c 200 "$out") stderr: $(head -c 200 "$err")"
done
like "$(jq -r .errorMessage "$out" 2>/dev/null)" "exceeded maximum allowed payload size \(6291456 bytes\)" \
    "  saying the size allowed"
code=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -XPOST \
    "http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/big/invocations" -d '{}')
is "$code:$(tr -d '\r' <"$T/headers" | sed -n 's/^X-Amz-Function-Error: //p')" 200:Unhandled \
    "  over HTTP: 200 with X-Amz-Function-Error: Unhandled"
# Qualifiers: $LATEST (the only version here) in the name or the ARN was
# refused (404), and ?Qualifier=... was ignored (any version ran $LATEST).
# DryRun: 204 when the function and version are found, nothing runs.
dry() {
    curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'X-Amz-Invocation-Type: DryRun' \
        "http://127.0.0.1:$HTTP_PORT/2015-03-31/functions/$1" -d '{}'
}
is "$(dry 'big:$LATEST/invocations') $(dry 'arn:aws:lambda:us-east-1:000000000000:function:big:%24LATEST/invocations')" \
    "204 204" "big:\$LATEST, by name and by ARN: found (DryRun 204)"
is "$(dry 'big/invocations?Qualifier=%24LATEST') $(dry 'big/invocations?Qualifier=7') $(dry 'big:prod/invocations')" \
    "204 404 404" "  ?Qualifier=\$LATEST found; version 7, alias prod: not found (404)"
poll_until 10 grep -q 'small' "$STATE/functions/big.log"
is "$(sort -u "$STATE/functions/big.log" | xargs)" "big 413 small 400" \
    "  the runtime got 413 for the answer, 400 for a second one (the invocation is over)"

# ---- functions' definitions on disk, tampered with ---------------------------------
# They were read with a blocking open(): a FIFO among them hung the next
# daemon's start for good (before it served its socket); and every other
# bad one was logged "unreadable", whatever it was, and a definition
# under another file's name was restored (and could not be removed: rm
# removes NAME.json).
stop_daemon >/dev/null 2>&1
FNS=$STATE/functions
mkfifo "$FNS/fifo.json"
printf '{"op":"function_create","name":"cut","image":"busy' >"$FNS/cut.json"
cp "$FNS/bj.json" "$FNS/other.json"
printf '{"op":"pool_create","image":"busybox:latest","size":1}' >"$FNS/pool.json"
chmod 600 "$FNS"/*.json
start_daemon --http 127.0.0.1:0
ok $? "a daemon starts beside a FIFO, a cut definition, one under another name and a pool's request"
is "$(WR_TIMEOUT=10 wr function ls --json | jq -r '.[].name' | sort | xargs)" "big bj" \
    "  and restores the two definitions, nothing else"
for f in fifo cut other pool; do
    like "$(grep -F "function definition $FNS/$f.json: refused: " "$DAEMON_LOG")" . \
        "  $f.json: refused, in a line that says why"
done

# The same for the other state files a daemon reads at start: a network's
# record and leases (at the networks' reconciliation) and a CNI record.
stop_daemon >/dev/null 2>&1
rm -f "$FNS/fifo.json"
mkfifo "$STATE/networks/zzfifo.net" "$STATE/networks/zzfifo.leases"
mkdir -p "$STATE/cni" && mkfifo "$STATE/cni/abcdefabcdef.json"
start_daemon --http 127.0.0.1:0
ok $? "a daemon starts beside FIFOs as a network's record and leases and a CNI record"
like "$(WR_TIMEOUT=10 wr network ls 2>&1)" "$NET" "  network ls answers"
rm -f "$STATE/networks/zzfifo.net" "$STATE/networks/zzfifo.leases" "$STATE/cni/abcdefabcdef.json"

stop_daemon
is "$?" 0 "the daemon stops cleanly"
unlike "$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$DAEMON_LOG")" '.' \
    "no sanitizer report in the daemon's log"
done_testing

#!/bin/bash
# TAP test of JSON everywhere and of leaving others alone: `pool ls`, `ps`,
# `stats` and `image ls` take --json, and what they print parses and agrees
# with what is there; every exit status docs/cli.md documents happens where
# it says; `activate -v` says why a start was cold; the demo (make run)
# honours WARMRUN_* and leaves a pool it did not create as it is; `bench
# --setup` runs no container on a dockerd it did not start; shim log lines
# carry the daemon's time stamp; the oom_score_adj warning is one line with
# its reason; a stopped daemon leaves no cgroup scope directory.
# Needs root, busybox-static and jq.
. "$(dirname "$0")/lib.sh"
setup_env json

command -v jq >/dev/null || skip_all "jq is not installed"
out=$T/out
err=$T/err
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# --- exit statuses without a daemon --------------------------------------------------
wr pool ls >"$out" 2>"$err"
is $? 1 "exit 1: a command that needs the daemon, without one"
wr pool ls --bogus >"$out" 2>"$err"
is $? 2 "exit 2: a usage error"
wr activate -v --no-cold busybox true >"$out" 2>"$err"
is $? 125 "exit 125: --no-cold without a daemon"
wr activate -v busybox true >"$out" 2>"$err"
like "$(cat "$err")" 'warmrun: cold: no daemon' "-v: cold because no daemon runs"

start_daemon || bail_out "the daemon did not start"
like "$(head -1 "$DAEMON_LOG")" "^$STAMP warmrun-daemon: " "daemon log lines start with the UTC stamp"

# --- --json on every listing -------------------------------------------------------
wr pool create busybox --size 2 --memory 64m --wait >"$out" 2>"$err"
ok $? "pool create busybox --size 2 --memory 64m" || show_err
for i in 1 2 3; do
    wait_pool_full busybox:latest 30
    wr activate --no-cold busybox true >/dev/null 2>&1
done
wait_pool_full busybox:latest 30

wr pool ls --json >"$out" 2>"$err"
ok $? "pool ls --json: exit 0" || show_err
[ -s "$out" ] && jq -e . "$out" >/dev/null 2>&1
ok $? "pool ls --json parses" || diag_file "$out"
is "$(jq -r '.pools[] | [.image, .size, .warm, .activations, .tmpfs_size, .settings.resources.memory] | @tsv' "$out")" \
    "$(printf 'busybox:latest\t2\t2\t3\t268435456\t67108864')" \
    "pool ls --json: image, size, warm, activations, tmpfs size and settings as they are"
like "$(jq -r '.pools[0].profile' "$out")" '^caps=a80425fb;privileged=0;read_only=0;seccomp=default:;umask=22$' \
    "pool ls --json: the profile as applied (Docker's capabilities, the default filter)"

wr ps --json >"$out" 2>"$err"
[ -s "$out" ] && jq -e . "$out" >/dev/null 2>&1
ok $? "ps --json parses" || diag_file "$out"
is "$(jq '[.containers[] | select(.state == "warm")] | length' "$out")" 2 "ps --json: two warm containers"
alive=0
for pid in $(jq -r '.containers[] | select(.state == "warm") | .pid' "$out"); do
    [ "$(pid_state "$pid")" = T ] && alive=$((alive + 1))
done
is "$alive" 2 "ps --json: their pids are stopped processes (state T)"

wr stats --daemon --json >"$out" 2>"$err"
ok $? "stats --json: exit 0 (it was refused)" || show_err
[ -s "$out" ] && jq -e . "$out" >/dev/null 2>&1
ok $? "stats --json parses" || diag_file "$out"
is "$(jq -r '.stats | [.activations, .warm_hits, .samples] | @tsv' "$out")" "$(printf '3\t3\t3')" \
    "stats --json: 3 activations, 3 warm, 3 samples"
wr stats --bogus >"$out" 2>"$err"
is $? 2 "stats with a bad option: exit 2"

wr image ls --json >"$out" 2>"$err"
ok $? "image ls --json: exit 0" || show_err
[ -s "$out" ] && jq -e . "$out" >/dev/null 2>&1
ok $? "image ls --json parses" || diag_file "$out"
is "$(jq -r '.[] | select(.name == "busybox") | [.tag, .id, .layers] | @tsv' "$out")" \
    "$(printf 'latest\t%s\t1' "$(wr image inspect busybox | jq -r .id)")" \
    "image ls --json: busybox's tag, id (as image inspect) and layer count"

# --- every documented exit status of activate ----------------------------------------
wr activate busybox -- sh -c 'exit 7' >"$out" 2>"$err"
is $? 7 "the workload's own status (7)"
wr activate --init busybox -- sh -c 'kill -KILL $$' >"$out" 2>"$err"
is $? 137 "128+N: the workload killed by SIGKILL (137)"
wr activate busybox -- no-such-command >"$out" 2>"$err"
is $? 127 "127: command not found"
wr activate busybox -- /etc/passwd >"$out" 2>"$err"
is $? 126 "126: command not executable"
wr activate -w /etc/passwd busybox -- true >"$out" 2>"$err"
is $? 126 "126: the working directory cannot be entered"
wr activate no-such-image -- true >"$out" 2>"$err"
is $? 125 "125: the image is missing"
wr activate -u no-such-user busybox -- true >"$out" 2>"$err"
is $? 125 "125: an unknown user (as docs/cli.md says)"
grep -q 'group in the image is a failed activation (125)' "$(dirname "$0")/../../docs/cli.md"
ok $? "docs/cli.md says 125 for an unknown user"

# --- why a start was cold ------------------------------------------------------------
wr activate -v --read-only busybox true >"$out" 2>"$err"
like "$(cat "$err")" 'warmrun: cold: per-activation security options \(a pool.s containers have the pool.s settings\)' \
    "-v: cold because of security options of the activation"
wr activate -v --memory 32m busybox true >"$out" 2>"$err"
like "$(cat "$err")" 'warmrun: cold: per-activation resource options' \
    "-v: cold because of resource options of the activation"
wr pool create busybox --size 0 >"$out" 2>"$err"
no_warm() { [ "$(wr pool ls --json | jq '.pools[0].warm')" = 0 ]; }
poll_until 10 no_warm
wr activate -v busybox true >"$out" 2>"$err"
like "$(cat "$err")" 'warmrun: cold: pool busybox:latest had no warm container' "-v: cold because the pool is empty"
wr pool rm busybox >/dev/null 2>&1
wr activate -v busybox true >"$out" 2>"$err"
like "$(cat "$err")" 'warmrun: cold: no pool for this image' "-v: cold because there is no pool"

# --- shim log lines and the oom_score_adj warning ----------------------------------
wr pool create busybox --size 1 -u no-such-user >"$out" 2>"$err"
poll_until 20 grep -q 'warmrun-shim [0-9a-f]\{12\}: ' "$DAEMON_LOG"
line=$(grep -m1 'warmrun-shim [0-9a-f]\{12\}: ' "$DAEMON_LOG")
like "$line" "^$STAMP warmrun-shim [0-9a-f]{12}: " "a shim's log line has the daemon's stamp: ${line:0:90}"
is "$(grep -Ev "^$STAMP " "$DAEMON_LOG" | grep 'warmrun-shim' | head -3)" "" "no shim line without it"
wr pool rm busybox >/dev/null 2>&1
n=$(grep -c 'oom_score_adj' "$DAEMON_LOG")
if [ "$n" -eq 0 ]; then
    skip 1 "the daemon could lower its oom_score_adj here"
else
    like "$(grep 'oom_score_adj' "$DAEMON_LOG")" '^[^'$'\n'']*oom_score_adj: not lowered to -500 \([^)]*\)[^'$'\n'']*$' \
        "oom_score_adj: one line, with the reason"
fi

# --- the demo leaves another's pool alone --------------------------------------------
wr pool create busybox --size 1 --pids-limit 50 --wait >"$out" 2>"$err"
ok $? "someone's pool: busybox, size 1, --pids-limit 50" || show_err
before=$(wr pool ls --json | jq -c '.pools[] | {size, settings}')
demo() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin WARMRUN_ROOT="$STORE" WARMRUN_STATE_DIR="$STATE" \
        WARMRUN_SOCKET="$SOCK" timeout 300 "$(dirname "$0")/../../scripts/run-demo" \
        "$WARMRUN_BIN_DIR" "${WARMRUN_BUILD_DIR:-$PWD/build}" "$@"
}
demo >"$T/demo.out" 2>&1
ok $? "make run (scripts/run-demo) against this test's socket" || diag "$(tail -5 "$T/demo.out")"
is "$(wr pool ls --json | jq -c '.pools[] | {size, settings}')" "$before" \
    "the demo left the existing pool's size and settings as they were"
like "$(cat "$T/demo.out")" 'a daemon is already running at '"$SOCK" "the demo used WARMRUN_SOCKET's daemon"
wr pool rm busybox >/dev/null 2>&1
stop_daemon
# Without a daemon, the demo starts one on WARMRUN_SOCKET, logging into the
# state directory.
demo >"$T/demo.out" 2>&1
ok $? "the demo with no daemon running" || diag "$(tail -5 "$T/demo.out")"
ok "$([ -S "$SOCK" ] && [ -s "$STATE/daemon.log" ] && echo 0 || echo 1)" \
    "it started the daemon on WARMRUN_SOCKET, logging to the state directory's daemon.log"
DAEMON_PID=$(pgrep -n -f -- "warmrun-daemon .*--socket $SOCK( |\$)")
DAEMON_LOG=$STATE/daemon.log

# --- a stopped daemon leaves no cgroup scope directory --------------------------------
wr pool create busybox --size 2 --memory 64m --pids-limit 50 --wait >"$out" 2>"$err"
scope=$(scope_of "$STATE")
ls -d /sys/fs/cgroup/*/warmrun/"$scope" >"$T/scopes" 2>/dev/null
ok "$([ -s "$T/scopes" ] && echo 0 || echo 1)" "while it runs, its scope has directories ($(wc -l <"$T/scopes") of them)"
stop_daemon
is "$(ls -d /sys/fs/cgroup/*/warmrun/"$scope" 2>/dev/null)" "" "after stop_daemon no warmrun/$scope directory is left"

# --- bench --setup runs no container on a dockerd it did not start -------------------
# Stand-ins for docker and dockerd: each docker call is logged; dockerd
# sleeps. DOCKER_HOST names another "daemon" that answers too.
mkdir -p "$T/fakebin" "$T/tmp"
cat >"$T/fakebin/docker" <<EOF
#!/bin/sh
echo "\$*" >>"$T/docker.log"
exit 0
EOF
printf '#!/bin/sh\nexec sleep 120\n' >"$T/fakebin/dockerd"
chmod +x "$T/fakebin/docker" "$T/fakebin/dockerd"
PATH="$T/fakebin:$PATH" DOCKER_HOST=unix://$T/someone-elses.sock TMPDIR=$T/tmp \
    timeout 300 "$WARMRUN_BIN_DIR/warmrun" bench startup --runtimes exec,docker --iterations 2 \
    --warmup 0 --setup --quiet --json "$T/bench.json" >"$out" 2>"$err"
ok $? "bench startup --setup with docker (stand-ins)" || show_err
grep ' run ' "$T/docker.log" >"$T/runs"
ok "$([ -s "$T/runs" ] && echo 0 || echo 1)" "docker run was called"
is "$(grep -v -- "-H unix://$T/tmp/warmrun-bench\.[^/]*/docker/docker.sock " "$T/runs" | head -2)" "" \
    "every docker run went to the dockerd the bench started, none to DOCKER_HOST or the host's"
PATH="$T/fakebin:$PATH" TMPDIR=$T/tmp timeout 300 "$WARMRUN_BIN_DIR/warmrun" bench startup \
    --runtimes exec,docker --iterations 1 --warmup 0 --quiet --json "$T/bench2.json" >"$out" 2>"$err"
like "$(cat "$out")" 'docker +skipped: the host.s Docker daemon is not used without --docker-host' \
    "without --setup or --docker-host, the host's dockerd is not used"
: >"$T/docker.log"
PATH="$T/fakebin:$PATH" TMPDIR=$T/tmp timeout 300 "$WARMRUN_BIN_DIR/warmrun" bench startup \
    --runtimes exec,docker --iterations 1 --warmup 0 --quiet --docker-host "unix://$T/told.sock" \
    --json "$T/bench3.json" >"$out" 2>"$err"
like "$(grep ' run ' "$T/docker.log" | head -1)" "^-H unix://$T/told.sock run " "--docker-host HOST: docker run goes there"

done_testing

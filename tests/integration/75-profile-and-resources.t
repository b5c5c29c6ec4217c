#!/bin/bash
# TAP test: a security profile and resource settings given together, cold
# and to a pool, both reach the container (the shim gets both option sets),
# and an imported multi-layer image runs under them. Needs root and
# busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env profres

out=$T/out
err=$T/err
FIXTURE=$(cd "$(dirname "$0")/../fixtures" && pwd)/wrfix-save.tar.gz
FIXTURE_EXPORT=${FIXTURE%/*}/wrfix-export.tar.gz

# The workload reports its uid, its memory and pids limits, its effective
# capabilities and its seccomp mode on one line.
probe='printf "%s %s %s %s %s\n" "$(id -u)" \
    "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null | head -n1)" \
    "$(cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null | head -n1)" \
    "$(awk "/^CapEff/ {print \$2}" /proc/self/status)" \
    "$(awk "/^Seccomp:/ {print \$2}" /proc/self/status)"'

check_probe() { # LABEL EXPECTED-UID
    like "$(cat "$out")" "^$2 67108864 20 [0-9a-f]{16} 2$" \
        "$1: uid $2, memory 64m, pids 20, seccomp on" || show_err
}

wr activate --cold -u 1000 --memory 64m --pids-limit 20 busybox -- sh -c "$probe" >"$out" 2>"$err"
is "$?" 0 "cold start with -u, --memory and --pids-limit exits 0" || show_err
check_probe cold 1000
like "$(cat "$out")" ' 0000000000000000 2$' "cold: a non-root user has no effective capabilities"

wr activate --cold --cap-drop ALL --memory 64m --pids-limit 20 busybox -- sh -c "$probe" \
    >"$out" 2>"$err"
like "$(cat "$out")" '^0 67108864 20 0000000000000000 2$' \
    "cold: --cap-drop ALL with limits: root without capabilities, limits in place" || show_err

start_daemon || bail_out "daemon did not start"
wr pool create busybox --size 2 -u 1000 --memory 64m --pids-limit 20 --wait --timeout 60 \
    >"$out" 2>"$err"
is "$?" 0 "pool create with a profile and resource settings" || show_err
wr activate --no-cold busybox -- sh -c "$probe" >"$out" 2>"$err"
is "$?" 0 "a warm activation of that pool exits 0" || show_err
check_probe warm 1000

# Changing only the resources of the pool replaces its warm containers.
wr pool create busybox --size 2 -u 1000 --memory 32m --pids-limit 20 --wait --timeout 60 \
    >/dev/null 2>"$err"
wr activate --no-cold busybox -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes >"$out" 2>"$err"
is "$(cat "$out")" 33554432 "new resource settings: the warm containers have the new limit" || show_err
# Changed while it fills: neither the warm containers nor those still
# filling with the old settings are handed out.
wr pool create busybox --size 4 -u 1000 --memory 64m --pids-limit 20 >/dev/null 2>"$err"
wr pool create busybox --size 4 -u 1000 --memory 48m --pids-limit 20 --wait --timeout 60 \
    >/dev/null 2>"$err"
limits=
for _ in 1 2 3 4; do
    limits+="$(wr activate --no-cold busybox -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) "
done
is "$limits" "50331648 50331648 50331648 50331648 " \
    "settings changed during a fill: every container handed out has the new ones"
wr pool rm busybox >/dev/null 2>&1

# An imported multi-layer image under a profile and limits.
if wr image import "$FIXTURE" --name wrfix:1 >"$out" 2>"$err"; then
    ok 0 "the docker save fixture imports"
    # The image has an Entrypoint of its own: --entrypoint replaces it.
    wr activate --cold --read-only --memory 64m --entrypoint /bin/busybox wrfix:1 -- sh -c \
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; touch /x 2>/dev/null || echo ro' \
        >"$out" 2>"$err"
    is "$(tr '\n' ' ' <"$out")" "67108864 ro " \
        "an imported image cold-started with --read-only and --memory" || show_err
    # A pool in a user namespace stacks idmapped copies of the layers: the
    # store must still see them as in use when the tag is re-imported.
    wr pool create wrfix:1 --size 1 --userns auto --wait --timeout 60 >/dev/null 2>"$err"
    ok $? "a --userns pool of the imported image" || show_err
    # A container of the pool running through the re-import keeps its
    # layers; the pool itself rolls over to the new image.
    wr activate --no-cold --entrypoint /bin/sh wrfix:1 -c 'sleep 2; cat /etc/motd' \
        >"$out.running" 2>&1 &
    running=$!
    poll_until 20 sh -c "$(printf '%q ' "${WR[@]}") ps | grep -q 'wrfix:1 *running'"
    wr image import "$FIXTURE_EXPORT" --name wrfix:1 >/dev/null 2>"$err"
    wait_child "$running" 60
    is "$(cat "$out.running")" "replaced" \
        "re-importing its tag keeps the layers the userns pool's running container mounts"
    wait_pool_full wrfix:1 60
    wr activate --no-cold --entrypoint /bin/cat wrfix:1 -- /etc/motd >"$out" 2>"$err"
    is "$(cat "$out")" "replaced" "the pool rolled over to the re-imported image" || show_err
    wr pool rm wrfix:1 >/dev/null 2>&1
else
    ok 1 "the docker save fixture imports"
    show_err
fi

# More containers than one reply message holds: ps lists what fits and
# says how many it left out, instead of leaving the client waiting.
wr pool create busybox --size 500 --privileged --wait --timeout 120 >/dev/null 2>"$err"
ok $? "a pool of 500" || show_err
wr ps >"$out" 2>"$err"
is "$?" 0 "ps of 500 containers exits 0"
listed=$(($(wc -l <"$out") - 1))
omitted=$(sed -n 's/.*: \([0-9][0-9]*\) more container(s) not listed.*/\1/p' "$err")
is "$((listed + ${omitted:-0}))" 500 "  it lists $listed and says how many it left out (${omitted:-none})"
wr pool rm busybox >/dev/null 2>&1

stop_daemon
is "$DAEMON_RC" 0 "the daemon stops cleanly"
done_testing

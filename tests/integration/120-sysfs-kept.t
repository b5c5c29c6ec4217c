#!/bin/bash
# TAP test: a recycled network namespace keeps its sysfs mount
# (container/sysfs_mount.c; docs/security.md, "Recycled network
# namespaces"). In a recycling pool, an activation that got a recycled
# namespace (its cookie repeats) has a /sys on the same superblock (st_dev)
# as the namespace's earlier tenant, held by its shim while it runs, with
# mountinfo options identical to a fresh container's; /sys/class/net shows
# only lo, /sys is read-only, and the workload holds no descriptor a fresh
# container's does not. Pools that do not recycle (--cap-add NET_ADMIN,
# --userns) mount their own and hold none; pool rm and the daemon's stop
# leave no namespace, mount or process. Fails without the kept mount (the
# shim holds no sysfs mount; st_dev repeats only by chance). Needs root
# and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env sysfs
PROBE=${WARMRUN_BUILD_DIR:-$PWD/build}/attack/netprobe
add_helper_image netprobe "$PROBE" netprobe || bail_out "cannot write the netprobe image"
start_daemon || bail_out "the daemon did not start"

out=$T/out err=$T/err POOL=2 RUNS=8
# One line each: cookie, st_dev of /sys, /sys's mountinfo from the mount
# point on (no ids, no device), /sys/class/net, a write's result, the
# shell's descriptors.
VIEW='/netprobe cookie; stat -c %d /sys; awk "\$5 == \"/sys\"" /proc/self/mountinfo | cut -d" " -f5-; \
  echo $(ls /sys/class/net); (echo 1 >/sys/class/net/lo/tx_queue_len) 2>&1 | grep -o "Read-only.*" \
  || echo written; cd /proc/$$/fd && echo fds *'

# sysfs_fds PID...: st_dev of each sysfs mount the processes hold.
sysfs_fds() {
    local p f
    for p in "$@"; do
        for f in /proc/"$p"/fd/*; do
            [ "$(stat -L -f -c %T "$f" 2>/dev/null)" = sysfs ] && stat -L -c %d "$f"
        done
    done 2>/dev/null
    return 0
}
our_shims() {
    local p
    for p in $(our_pids_except_daemon); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = warmrun-shim ] && echo "$p"
    done
    return 0
}

wr activate --cold netprobe -- sh -c "$VIEW" >"$T/fresh" 2>"$err"
ok $? "a fresh container's view" || show_err
fresh_opts=$(sed -n 3p "$T/fresh")
fresh_fds=$(sed -n 6p "$T/fresh")
like "$fresh_opts" "^/sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro" \
    "  /sys: $fresh_opts"

wr pool create netprobe --size "$POOL" --wait >"$out" 2>"$err"
ok $? "default profile: pool of $POOL" || show_err
: >"$T/views"
for i in $(seq "$RUNS"); do
    wr activate --no-cold netprobe -- sh -c "$VIEW" >"$out" 2>>"$err" || echo "failed" >>"$err"
    tr '\n' '|' <"$out" >>"$T/views"
    echo >>"$T/views"
done
is "$(grep -c . "$T/views")" "$RUNS" "  $RUNS activations ran" || show_err
# cookie -> the st_devs its tenants saw
repeats=$(awk -F'|' '{ if ($1 in dev) { n++; if (dev[$1] != $2) bad++ } dev[$1] = $2 }
    END { print n + 0, bad + 0 }' "$T/views")
read -r reused differ <<<"$repeats"
[ "$reused" -gt 0 ]
ok $? "  $reused of them got a recycled namespace" || diag_file "$T/views"
is "$differ" 0 "  each had /sys on its earlier tenant's superblock (same st_dev)" ||
    diag_file "$T/views"
is "$(cut -d'|' -f3 "$T/views" | sort -u)" "$fresh_opts" "  with a fresh container's options"
is "$(cut -d'|' -f4 "$T/views" | sort -u)" "lo" "  /sys/class/net shows only lo"
like "$(cut -d'|' -f5 "$T/views" | sort -u)" "^Read-only file system" "  /sys is read-only"
is "$(cut -d'|' -f6 "$T/views" | sort -u)" "$fresh_fds" "  the workload holds a fresh one's fds"

# While a container runs, its shim holds the mount its /sys is a clone of
# (what makes the superblock outlive the container), and the workload none.
wr activate --no-cold netprobe -- sh -c 'stat -c %d /sys; for f in /proc/$$/fd/*; do \
  stat -L -f -c %T $f; done >&2; sleep 4' >"$T/running" 2>"$T/types" &
act=$!
poll_until 10 test -s "$T/running"
dev=$(head -n1 "$T/running")
held=$(sysfs_fds $(our_shims) | tr '\n' ' ')
[ -n "$dev" ] && grep -qw -- "$dev" <<<"$held"
ok $? "  its shim holds the sysfs mount of its /sys (st_dev $dev; held: $held)"
wait "$act"
grep -q sysfs "$T/types"
ok $((!$?)) "  no descriptor of the workload is on sysfs" || diag_file "$T/types"
held=$(sysfs_fds "$DAEMON_PID" | wc -l)
[ "$held" -ge 1 ] && [ "$held" -le "$(daemon_netns_fds)" ]
ok $? "  the daemon holds $held kept mount(s), none without its namespace"

for opt in "--cap-add NET_ADMIN" "--userns auto"; do
    # shellcheck disable=SC2086 # two words
    wr pool create netprobe --size "$POOL" $opt --wait >"$out" 2>"$err"
    ok $? "$opt: pool of $POOL" || { show_err; continue; }
    wr activate --no-cold netprobe -- sh -c "stat -c %d /sys; ls /sys/class/net; sleep 3" \
        >"$T/running$opt" 2>"$err" &
    act=$!
    poll_until 10 test -s "$T/running$opt"
    dev=$(head -n1 "$T/running$opt")
    held=$(sysfs_fds $(our_shims) "$DAEMON_PID" | tr '\n' ' ')
    wait "$act"
    is "$(tail -n1 "$T/running$opt")" lo "  /sys/class/net shows only lo"
    [ -n "$dev" ] && [ -z "$held" ]
    ok $? "  /sys is its own (st_dev $dev): no shim nor the daemon holds a sysfs mount ($held)"
done

wr pool create netprobe --size "$POOL" --wait >"$out" 2>"$err"
for i in 1 2 3; do wr activate --no-cold netprobe -- true >/dev/null 2>&1; done
wr pool rm netprobe >"$out" 2>"$err"
ok $? "pool rm" || show_err
is "$(daemon_netns_fds)" 0 "  the daemon holds no namespace of it any more"
is "$(sysfs_fds "$DAEMON_PID" | wc -l)" 0 "  nor any sysfs mount"

wr pool create netprobe --size "$POOL" --wait >"$out" 2>"$err"
for i in 1 2 3; do wr activate --no-cold netprobe -- true >/dev/null 2>&1; done
stop_daemon
poll_until 10 no_container_pids
ok $? "daemon stop: no container process of this test is left" || show_pids $(our_pids)
is "$(our_pids | wc -l)" 0 "  nor any other process holding a namespace or mount"

done_testing

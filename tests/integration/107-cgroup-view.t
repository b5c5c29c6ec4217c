#!/bin/bash
# TAP test: the container's view of its cgroups under /sys/fs/cgroup
# (docs/security.md, "The cgroup view"), and that its cgroups go with it.
# Cold and warm, with the default profile, --cap-add ALL, --privileged,
# --userns auto and --userns auto --cap-add ALL:
# - the files a workload reads show its limits (memory.limit_in_bytes,
#   pids.max), its usage (cpuacct.usage) and blkio's statistics; only its
#   own pids; /proc/self/cgroup is rooted at itself ("N:memory:/");
# - cgroup2 at /sys/fs/cgroup/unified (hybrid host, --hugepages-limit): the same;
# - nothing above its cgroup: `..` of a hierarchy is the directory of the
#   mount points, no release_agent anywhere, one notify_on_release per
#   hierarchy (its own: CVE-2022-0492 needs the root's), no "warmrun";
# - read-only: writing a limit, making a child cgroup and remounting
#   read-write are refused (default, --userns auto, and --userns auto
#   --cap-add ALL); --cap-add ALL and --privileged keep what they have
#   (CAP_SYS_ADMIN in the host's user namespace and mount allowed: a
#   remount read-write, or a cgroup mount of their own), and still reach
#   no cgroup but their own in the hierarchies they have one in (not in
#   the others: docs/security.md, "Accounting, metrics and events");
# - teardown removes every cgroup: also when the workload made child
#   cgroups (and left a task in one), after 200 activations, after a
#   SIGKILL of a shim and of the daemon; no mount or process is left.
# The child-cgroup teardown fails on the code before (a child cgroup left
# the container's cgroups behind). Needs root, busybox-static and v1
# memory, pids, cpuacct and blkio hierarchies (this project's machines).
. "$(dirname "$0")/lib.sh"
setup_env cgview
out=$T/out
err=$T/err
SCOPE=$(scope_of "$STATE")
CG=/sys/fs/cgroup
need_v1_hierarchies memory pids cpuacct blkio

show_cgroups() { find $CG/*/warmrun/"$SCOPE" -mindepth 1 -type d 2>/dev/null | head -20 | sed 's/^/#   /' >&2; }

# What a workload reads and tries, one "key value" line each. HOSTILE=1
# also tries what CAP_SYS_ADMIN allows: a remount read-write, a child
# cgroup holding a task, and a cgroup mount of its own.
PROBE='#!/bin/sh
cg=/sys/fs/cgroup
echo "limit $(cat $cg/memory/memory.limit_in_bytes)"
echo "pidsmax $(cat $cg/pids/pids.max)"
echo "usage $(cat $cg/cpuacct/cpuacct.usage)"
echo "blkio $(ls $cg/blkio | grep -c "^blkio\.")"
echo "dirs $(ls $cg | tr "\n" " ")"
echo "up $(ls $cg/memory/.. | tr "\n" " ")"
echo "upup $(cd $cg/memory/../.. && pwd)"
echo "procs $(cat $cg/memory/cgroup.procs | tr "\n" " ")"
echo "mypid $$"
echo "ra $(find $cg -name release_agent | wc -l)"
echo "nor $(find $cg -name notify_on_release | wc -l)"
echo "wr $(find $cg -name "warmrun*" | wc -l)"
grep " $cg/" /proc/self/mountinfo | while read -r a b c root mnt opts rest; do echo "mnt $root $mnt $opts"; done
sed "s/^/pcg /" /proc/self/cgroup
{ echo 50 >$cg/pids/pids.max; } 2>/dev/null && echo "WROTE"
mkdir $cg/pids/child 2>/dev/null && echo "MKDIR"
mount -o remount,bind,rw $cg/pids 2>/dev/null && echo "REMOUNT"
if [ "$HOSTILE" = 1 ] && mkdir $cg/pids/child; then
    sleep 30 </dev/null >/dev/null 2>&1 &
    echo $! >$cg/pids/child/cgroup.procs && echo "INCHILD"
    mkdir -p $cg/pids/child/a/b/c && echo "DEEP"
fi
if [ "$HOSTILE" = 1 ] && mkdir -p /tmp/m && mount -t cgroup -o memory x /tmp/m 2>/dev/null; then
    echo "own-mount ra $(find /tmp/m -name release_agent | wc -l) limit $(cat /tmp/m/memory.limit_in_bytes) wr $(find /tmp/m -name "warmrun*" | wc -l)"
fi
exit 0'
LIMIT=$((64 * 1024 * 1024))
for name in lim capall priv uns unscap; do
    add_layer_image "$name" '{"Cmd": ["sh"], "Env": ["PATH=/bin"]}' \
        "printf '%s\n' \"\$PROBE\" >probe && chmod 755 probe" || bail_out "image $name"
done

# check_view LABEL HOSTILE: the assertions on $out ($rc its status).
check_view() {
    local label=$1 hostile=$2
    is "$rc" 0 "$label: the probe ran" || { show_err; diag_file "$out"; }
    is "$(awk '$1 == "limit" {print $2}' "$out")" "$LIMIT" "$label: memory.limit_in_bytes shows --memory"
    is "$(awk '$1 == "pidsmax" {print $2}' "$out")" 50 "$label: pids.max shows --pids-limit"
    like "$(awk '$1 == "usage" {print $2}' "$out")" '^[1-9][0-9]*$' "$label: cpuacct.usage counts"
    like "$(awk '$1 == "blkio" {print $2}' "$out")" '^[1-9][0-9]*$' "$label: blkio's files are there"
    is "$(grep '^dirs ' "$out")" "dirs blkio cpuacct memory pids " "$label: its hierarchies"
    is "$(grep '^up ' "$out")" "up blkio cpuacct memory pids " "$label: .. of a hierarchy: the mount points"
    is "$(grep '^upup ' "$out")" "upup /sys/fs" "$label: .. twice: /sys/fs"
    is "$(awk '$1 == "procs" {print $2}' "$out")" 1 "$label: cgroup.procs: its own pids (pid 1 first)"
    is "$(grep '^ra ' "$out")" "ra 0" "$label: no release_agent under /sys/fs/cgroup"
    is "$(grep '^nor ' "$out")" "nor 4" "$label: one notify_on_release per hierarchy: its own"
    is "$(grep '^wr ' "$out")" "wr 0" "$label: no directory of the host's layout"
    is "$(grep -c '^mnt / /sys/fs/cgroup/[a-z]* ro,nosuid,nodev,noexec' "$out")" 4 \
        "$label: four read-only nosuid,nodev,noexec mounts rooted at its cgroup" || diag_file "$out"
    is "$(grep '^pcg ' "$out" | grep -vc ':/$')" 0 "$label: /proc/self/cgroup: every line rooted at /"
    if [ "$hostile" = 1 ]; then
        like "$(cat "$out")" 'own-mount ra 0 limit '"$LIMIT"' wr 0' \
            "$label: a cgroup mount of its own: its own cgroup, no release_agent"
    else
        unlike "$(cat "$out")" 'WROTE|MKDIR|REMOUNT' "$label: no write, no child cgroup, no remount"
    fi
}

start_daemon || bail_out "the daemon did not start"
LIMITS=(--memory 64m --pids-limit 50)

# ---- the view: cold, and the daemon's fills ---------------------------------------
wr activate "${LIMITS[@]}" lim -- /probe >"$out" 2>"$err"
rc=$?
check_view "cold" 0
wr pool create lim --size 2 "${LIMITS[@]}" --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool with --memory 64m --pids-limit 50" || show_err
wr activate --no-cold lim -- /probe >"$out" 2>"$err"
rc=$?
check_view "warm" 0

# ---- the security options ---------------------------------------------------------
# name: pool options and the probe's HOSTILE (1: CAP_SYS_ADMIN in the host's user namespace).
declare -A OPTS=([capall]="--cap-add ALL" [priv]="--privileged" [uns]="--userns auto"
    [unscap]="--userns auto --cap-add ALL")
declare -A HOST=([capall]=1 [priv]=1 [uns]=0 [unscap]=0)
for name in capall priv uns unscap; do
    # shellcheck disable=SC2086
    wr activate "${LIMITS[@]}" ${OPTS[$name]} -e HOSTILE="${HOST[$name]}" "$name" -- /probe \
        >"$out" 2>"$err"
    rc=$?
    check_view "cold ${OPTS[$name]}" "${HOST[$name]}"
    # shellcheck disable=SC2086
    wr pool create "$name" --size 1 "${LIMITS[@]}" ${OPTS[$name]} --wait --timeout 30 \
        >/dev/null 2>"$err" || show_err
    wr activate --no-cold -e HOSTILE="${HOST[$name]}" "$name" -- /probe >"$out" 2>"$err"
    rc=$?
    check_view "warm ${OPTS[$name]}" "${HOST[$name]}"
    if [ "${HOST[$name]}" = 1 ]; then
        like "$(cat "$out")" 'INCHILD' "warm ${OPTS[$name]}: a child cgroup with a task in it made"
    fi
    wr pool rm "$name" >/dev/null 2>&1
done
poll_until 15 no_container_pids
wr pool rm lim >/dev/null 2>&1
poll_until 15 no_cgroups
ok $? "every container's cgroups removed, child cgroups of hostile workloads too" || show_cgroups

# ---- cgroup2 on a hybrid host: /sys/fs/cgroup/unified, bound the same way -----------
if grep -qw hugetlb $CG/unified/cgroup.controllers 2>/dev/null; then
    UPROBE='grep " /sys/fs/cgroup/unified " /proc/self/mountinfo | while read -r a b c root mnt opts rest; do echo "mnt $root $opts"; done
        echo "max $(cat /sys/fs/cgroup/unified/hugetlb.2MB.max)"; grep "^0::" /proc/self/cgroup
        touch /sys/fs/cgroup/unified/x 2>/dev/null && echo TOUCHED; exit 0'
    wr activate --hugepages-limit 4m busybox -- sh -c "$UPROBE" >"$out" 2>"$err"
    is "$?" 0 "cold --hugepages-limit (hugetlb on cgroup2)" || show_err
    like "$(grep '^mnt' "$out")" '^mnt / ro,nosuid,nodev,noexec' "... unified: read-only, rooted at its cgroup"
    like "$(cat "$out")" "max $((4 * 1024 * 1024))" "... hugetlb.2MB.max shows the limit"
    is "$(grep '^0::' "$out")" '0::/' "... /proc/self/cgroup: 0::/"
    unlike "$(cat "$out")" 'TOUCHED' "... nothing made there"
else
    skip 5 "no hugetlb on a cgroup2 at $CG/unified"
fi

# ---- 200 activations, a shim and the daemon SIGKILLed -------------------------------
mounts0=$(state_mounts)
wr pool create busybox --size 4 --wait --timeout 30 >/dev/null 2>"$err"
is "$?" 0 "a pool of 4" || show_err
fails=0
for i in $(seq 200); do
    wr activate busybox -- cat /sys/fs/cgroup/pids/pids.max >"$out" 2>"$err" || fails=$((fails + 1))
done
is "$fails" 0 "200 activations read their cgroup" || show_err
wait_pool_full busybox:latest 30
pids_cgroups() { find "$CG/pids/warmrun/$SCOPE" -mindepth 1 -type d 2>/dev/null | wc -l; }
poll_until 15 eval '[ "$(pids_cgroups)" -eq 4 ]'
ok $? "... afterwards only the pool's 4 containers have cgroups ($(pids_cgroups) in pids)" ||
    show_cgroups
is "$(state_mounts)" "$mounts0" "... and the host has no mount more of this state directory"

wr activate --no-cold busybox -- sleep 60 >/dev/null 2>&1 &
ACT=$!
running() { wr ps | awk '$2 == "busybox:latest" && $3 == "running"' | grep -q .; }
poll_until 15 running
ID=$(wr ps | awk '$2 == "busybox:latest" && $3 == "running" {print $1; exit}')
SHIM=$(pgrep -f -- "warmrun-shim.*$ID" | head -1)
[ -z "$SHIM" ] && SHIM=$(grep -lF -- "$ID" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 |
    while read -r p; do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = warmrun-shim ] && echo "$p"; done | head -1)
ok $([ -n "$SHIM" ] && [ -d "$CG/pids/warmrun/$SCOPE/$ID" ]; echo $?) "a running container ($ID, shim $SHIM)"
kill -KILL "$SHIM" 2>/dev/null
wait "$ACT" 2>/dev/null
gone() { [ ! -d "$CG/pids/warmrun/$SCOPE/$ID" ] && [ ! -d "$CG/memory/warmrun/$SCOPE/$ID" ]; }
poll_until 30 gone
ok $? "its shim SIGKILLed: its cgroups are removed" || show_cgroups

kill_daemon_in_pool_rm busybox
poll_until 15 no_container_pids
ok $? "the daemon SIGKILLed: every shim and container ends" || show_pids $(our_pids)
poll_until 15 no_cgroups
ok $? "... and removes its cgroups" || show_cgroups
is "$(state_mounts)" 0 "... no mount names the state directory"
is "$(our_pids | wc -l)" 0 "no process of this test is left"

done_testing

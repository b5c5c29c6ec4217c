#!/bin/bash
# TAP test: the scheduling policy of fills (docs/security.md, "Scheduling").
# A pool's background fill runs SCHED_IDLE, its shim and its pid 1, to the
# end of the fill; a fill an activation waits on runs SCHED_OTHER: one
# claimed by `activate --no-cold` is raised while it fills (shim and pid 1),
# one started for an activation runs so from its start, and background
# refills meanwhile stay SCHED_IDLE. Every workload (claimed, started, warm)
# starts with the daemon's own policy and nice value, as a cold start by the
# CLI does. The fills are held mid-way, deterministically, by a CNI plugin
# of the test's own ("gate": it waits while a file of the test exists, then
# gives the container an eth0, one end of a veth pair
# whose both ends stay in its own network namespace): nothing global
# is made. Fails on a pid 1 that leaves SCHED_IDLE before its fill ends, and
# on fills for a waiting client left at SCHED_IDLE. Needs root,
# busybox-static, nsenter and ip.
. "$(dirname "$0")/lib.sh"
setup_env prio
command -v nsenter >/dev/null && command -v ip >/dev/null || skip_all "needs nsenter and ip"

out=$T/out
err=$T/err
NET=wrprio$$
mkdir -p "$T/cni" "$T/plugins"
cat >"$T/cni/10-$NET.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$NET", "plugins": [{"type": "gate"}]}
EOF
# gate: the Nth ADD writes "ID SHIM" to T/gate.N/who and waits (at most
# 20 s) while T/hold.N exists; DEL has nothing to undo (the pair goes with
# the container's namespace).
cat >"$T/plugins/gate" <<EOF
#!/bin/sh
cat >/dev/null
[ "\$CNI_COMMAND" = ADD ] || exit 0
n=1
while ! mkdir "$T/gate.\$n" 2>/dev/null; do n=\$((n + 1)); done
shim=\${CNI_NETNS#/proc/}
echo "\$CNI_CONTAINERID \${shim%%/*}" >"$T/gate.\$n/who.tmp"
mv "$T/gate.\$n/who.tmp" "$T/gate.\$n/who"
i=0
while [ -e "$T/hold.\$n" ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
nsenter --net="\$CNI_NETNS" sh -c 'ip link add eth0 type veth peer name gate0 &&
    ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up' >&2 || exit 1
echo '{"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "'"\$CNI_NETNS"'"}],
  "ips": [{"address": "192.0.2.2/24", "interface": 0}]}'
EOF
chmod +x "$T/plugins/gate"
export WARMRUN_CNI_CONF_DIR=$T/cni WARMRUN_CNI_PATH=$T/plugins

# sched_of STAT_LINE: "POLICY NICE" (fields 41 and 19 of /proc/PID/stat:
# 0 SCHED_OTHER, 5 SCHED_IDLE).
sched_of() {
    local s=${1##*) }
    set -- $s
    echo "${39} ${17}"
}
sched() { local l; read -r l 2>/dev/null <"/proc/$1/stat" && sched_of "$l"; }
policy() { local p; p=$(sched "$1") && echo "${p% *}"; }
# gate N: "ID SHIM_PID PID1" of the Nth fill, once its ADD has begun.
gate() {
    poll_until 20 test -e "$T/gate.$1/who" || return 1
    local id shim
    read -r id shim <"$T/gate.$1/who"
    echo "$id $shim $(sed -n 's/^child_pid=//p' "$STATE/containers/$id")"
}
both() { echo "$(policy "$1") $(policy "$2")"; }
WORKLOAD='cat /proc/self/stat'

touch "$T/hold.1" "$T/hold.2" "$T/hold.3"
# The daemon starts with this shell's policy and nice value, which are the
# runner's: a suite run under nice(1) or chrt(1) (say beside another one on
# a loaded machine) fails the check below, which is about what warmrun
# does, not about the runner. Back to SCHED_OTHER, nice 0.
chrt -o -p 0 $$ >/dev/null 2>&1
renice -n 0 -p $$ >/dev/null 2>&1
start_daemon || bail_out "the daemon did not start"
DAEMON_SCHED=$(sched "$DAEMON_PID")
is "$DAEMON_SCHED" "0 0" "the daemon runs SCHED_OTHER, nice 0"

wr pool create busybox --size 1 --network "cni:$NET" >"$out" 2>"$err"
ok $? "pool create --network cni:$NET (a plugin that holds fills)" || show_err
read -r id1 shim1 init1 <<<"$(gate 1)"
isnt "${init1:-}" "" "the first fill is held in its CNI ADD (shim $shim1, pid 1 $init1)"
is "$(both "$shim1" "$init1")" "5 5" "a background fill: shim and pid 1 SCHED_IDLE"

# A client waits for it: claimed, and raised while it still fills.
wr activate --no-cold busybox -- $WORKLOAD >"$T/claimed" 2>"$err" &
claim=$!
poll_until 10 sh -c "[ \"\$(sed 's/.*) //' /proc/$shim1/stat | cut -d' ' -f39)\" = 0 ]"
is "$(both "$shim1" "$init1")" "0 0" "claimed by activate --no-cold: shim and pid 1 SCHED_OTHER"
pid_alive "$claim" && [ -e "$T/hold.1" ]
ok $? "  while the fill is still held (the activation waits)"
# The claim took it out of the pool's fills: a refill starts, in the background.
read -r id2 shim2 init2 <<<"$(gate 2)"
is "$(both "$shim2" "$init2")" "5 5" "the refill started meanwhile: SCHED_IDLE"
rm -f "$T/hold.1"
wait_child "$claim" 30
is "$WAIT_RC" 0 "the claimed fill's activation ran" || { show_err; diag_file "$DAEMON_LOG"; }
is "$(sched_of "$(cat "$T/claimed")")" "$DAEMON_SCHED" \
    "  its workload: SCHED_OTHER and the daemon's nice value"

# No warm container and no --no-cold: one started for this client.
wr activate busybox -- $WORKLOAD >"$T/started" 2>"$err" &
start=$!
read -r id3 shim3 init3 <<<"$(gate 3)"
is "$(both "$shim3" "$init3")" "0 0" "a container started for a waiting activation: SCHED_OTHER"
is "$(both "$shim2" "$init2")" "5 5" "  the held refill still SCHED_IDLE"
rm -f "$T/hold.3"
wait_child "$start" 30
is "$WAIT_RC" 0 "the started container's activation ran" || show_err
is "$(sched_of "$(cat "$T/started")")" "$DAEMON_SCHED" "  its workload: SCHED_OTHER, the daemon's nice"

# The refill ends: a warm container whose stopped pid 1 holds the
# workloads' policy already (set by the shim), and whose workload has it.
rm -f "$T/hold.2"
wait_pool_full busybox:latest 30
ok $? "the refill ends: the pool is full" || diag "$(wr pool ls 2>&1)"
is "$(both "$shim2" "$init2")" "0 0" "  its shim and stopped pid 1: SCHED_OTHER"
wr activate --no-cold busybox -- $WORKLOAD >"$T/warm" 2>"$err"
ok $? "a warm activation" || show_err
is "$(sched_of "$(cat "$T/warm")")" "$DAEMON_SCHED" "  its workload: SCHED_OTHER, the daemon's nice"
wr activate --cold busybox -- $WORKLOAD >"$T/cold" 2>"$err"
ok $? "a cold start by the CLI" || show_err
is "$(sched_of "$(cat "$T/cold")")" "$DAEMON_SCHED" "  its workload: the same"

wr pool rm busybox >"$out" 2>"$err"
ok $? "pool rm" || show_err
poll_until 10 no_container_pids
ok $? "no shim or container left"
stop_daemon
is "$DAEMON_RC" 0 "the daemon stops cleanly"

done_testing

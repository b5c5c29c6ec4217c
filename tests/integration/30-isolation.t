#!/bin/bash
# TAP test of what a container sees: its own pid, uts, net, mount, ipc and
# cgroup namespaces, an overlay root over the image with a fresh writable
# layer per activation, a minimal /dev, a read-only /sys, and nothing of the
# host's files or mounts. Runs cold (no daemon), then warm (daemon + pool).
# Needs root and busybox-static.
. "$(dirname "$0")/lib.sh"
setup_env isolation

out=$T/out
err=$T/err
POOL_SIZE=2


# in_container SCRIPT: runs `sh -c SCRIPT` in a container.
in_container() {
    act busybox -- sh -c "$1"
    [ "$rc" -eq 0 ] || { diag "container script failed ($rc): $1"; show_err; }
}

marker=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$marker" >"$T/host-marker"
host_name=$(hostname)
mounts_before=$(host_mounts)
mounts_back() { [ "$(host_mounts)" -eq "$mounts_before" ]; }

for mode in cold warm; do
    m="$mode:"
    if [ "$mode" = warm ]; then
        start_daemon || bail_out "the daemon did not start"
        wr pool create busybox --size "$POOL_SIZE" --wait >"$out" 2>"$err" ||
            { show_err; bail_out "no pool"; }
    fi

    # --- pid namespace ---------------------------------------------------------
    in_container 'echo $$; ps -o pid,args; exit 0'
    is "$(sed -n 1p "$out")" 1 "$m the command is pid 1"
    procs=$(sed -n '3,$p' "$out")
    is "$(echo "$procs" | wc -l)" 2 "$m ps shows only the container's 2 processes" || diag_file "$out"
    like "$(echo "$procs" | awk '$1 == 1')" '^ *1 +sh -c ' "$m pid 1 is 'sh -c ...'"
    unlike "$procs" 'warmrun|bash|prove|systemd|init' "$m no host process is visible"

    in_container 'ls -d /proc/[0-9]* | wc -l'
    [ "$(cat "$out")" -le 3 ]
    ok $? "$m /proc lists only the container's pids ($(cat "$out"))"

    # --- uts namespace -----------------------------------------------------------
    in_container 'hostname'
    isnt "$(cat "$out")" "$host_name" "$m the hostname differs from the host's"
    like "$(cat "$out")" '^[0-9a-f]{12}$' "$m   it is the container id"

    # --- net namespace -----------------------------------------------------------
    in_container 'cat /proc/net/dev'
    is "$(sed -n '3,$p' "$out" | cut -d: -f1 | tr -d ' ')" lo "$m /proc/net/dev lists only lo"

    in_container 'ip link'
    links=$(grep -cE '^[0-9]+:' "$out")
    [ "$links" -eq 1 ] && grep -qE '^1: lo: <[^>]*\bUP\b' "$out"
    ok $? "$m ip link: lo only, and UP" || diag_file "$out"

    in_container 'ls /sys/class/net'
    is "$(cat "$out")" lo "$m /sys/class/net shows only lo"

    in_container 'ping -c 1 -W 2 127.0.0.1 >/dev/null && echo reachable'
    is "$(cat "$out")" reachable "$m 127.0.0.1 answers"

    # --- cgroup namespace --------------------------------------------------------
    in_container 'grep -vc ":/$" /proc/self/cgroup; grep -c . /proc/self/cgroup'
    [ "$(sed -n 1p "$out")" -eq 0 ] && [ "$(sed -n 2p "$out")" -ge 1 ]
    ok $? "$m the cgroup namespace: every hierarchy is rooted at the container (/)" || diag_file "$out"

    # --- the root filesystem -----------------------------------------------------
    in_container 'awk '\''$2 == "/" {print $3}'\'' /proc/mounts'
    is "$(cat "$out")" overlay "$m / is an overlay"

    in_container "test -e '$T/host-marker' && echo visible; test -e '$T' && echo dir-visible;
                  test -e /work && echo work-visible; grep -rl '$marker' /tmp /root /home 2>/dev/null;
                  echo done"
    is "$(cat "$out")" done "$m the host's files (a marker in $T, /work) are not visible"

    # Besides these, only the read-only and masked paths of /proc and /sys
    # (which of them exist depends on the kernel).
    masks='^/proc/(bus|fs|irq|sys|sysrq-trigger|acpi|kcore|keys|latency_stats|timer_list|timer_stats|sched_debug|scsi)$|^/sys/firmware$'
    # Every container has cgroups of its own (for accounting, limits or
    # not): their hierarchies are mounted under /sys/fs/cgroup, read-only.
    cgroups='^/sys/fs/cgroup(/[a-z_,]+)?$'
    in_container 'awk '\''$2 ~ "^/sys/fs/cgroup" && $4 !~ /(^|,)ro(,|$)/ {print "rw: " $2}'\'' /proc/mounts; echo checked'
    is "$(cat "$out")" checked "$m every cgroup hierarchy mounted inside is read-only"
    in_container 'awk '\''{print $2}'\'' /proc/mounts | sort'
    is "$(grep -Ev "$masks|$cgroups" "$out" | tr '\n' ' ')" "/ /dev /dev/full /dev/mqueue /dev/null /dev/pts /dev/random /dev/shm /dev/tty /dev/urandom /dev/zero /etc/hostname /etc/hosts /etc/resolv.conf /proc /sys " \
        "$m the only mounts are /, /proc, /sys, /dev's (the container's own safe nodes, bound), the runtime's /etc files, its own cgroups and the masks"

    # --- /dev ----------------------------------------------------------------------
    in_container 'for d in null zero full random urandom tty; do test -c /dev/$d || echo "no $d"; done
                  find /dev -xdev -type c | sort | tr "\n" " "; echo
                  find /dev -xdev -type b | wc -l'
    is "$(cat "$out")" "/dev/full /dev/null /dev/random /dev/tty /dev/urandom /dev/zero 
0" "$m /dev has exactly null zero full random urandom tty, and no block device"

    # The six nodes are bind mounts too (of the container's own nodes).
    in_container 'awk '\''$2 ~ "^/dev/" && $2 !~ "^/dev/(null|zero|full|random|urandom|tty)$" {print $2, $3}'\'' /proc/mounts | sort | tr "\n" ";"'
    is "$(cat "$out")" "/dev/mqueue mqueue;/dev/pts devpts;/dev/shm tmpfs;" \
        "$m /dev/pts, /dev/shm and /dev/mqueue are mounted"

    in_container 'echo x >/dev/null && head -c 5 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c &&
                  echo shm >/dev/shm/f && cat /dev/shm/f; echo x >/dev/full || echo full-fails'
    is "$(cat "$out")" "5
4
shm
full-fails" "$m the devices work, /dev/shm is writable"

    # --- /sys ------------------------------------------------------------------------
    in_container 'touch /sys/x 2>/dev/null && echo touched; mkdir /sys/y 2>/dev/null && echo made;
                  awk '\''$2 == "/sys" {print $4}'\'' /proc/mounts | cut -d, -f1'
    is "$(cat "$out")" ro "$m /sys is mounted read-only (touch /sys/x fails)"

    # --- privileges ---------------------------------------------------------------
    # Docker's 14 default capabilities, CAP_MKNOD included: every writable
    # mount is nodev, so a node can be made but not opened.
    in_container 'grep -E "^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs)" /proc/self/status'
    like "$(cat "$out")" 'CapEff:[[:space:]]+00000000a80425fb' "$m effective capabilities: the default set"
    like "$(cat "$out")" 'CapBnd:[[:space:]]+00000000a80425fb' "$m bounding set: the default set"
    like "$(cat "$out")" 'CapInh:[[:space:]]+0000000000000000' "$m no inheritable capabilities" || diag_file "$out"
    like "$(cat "$out")" 'NoNewPrivs:[[:space:]]+1' "$m no_new_privs is set"
    act busybox -- sh -c 'mknod /tmp/disk b 8 0 && echo made; head -c 1 /tmp/disk >/dev/null 2>&1 || echo unusable
                           mknod /dev/disk b 8 0 && { head -c 1 /dev/disk >/dev/null 2>&1 || echo unusable; }'
    is "$(cat "$out" | tr '\n' ' ')" "made unusable unusable " "$m a block device can be made but not opened (nodev)"
    in_container 'grep -c Seccomp:.2 /proc/self/status'
    is "$(cat "$out")" 1 "$m the seccomp filter is on (Seccomp: 2)"
    act busybox -- hostname changed
    isnt "$rc" 0 "$m sethostname fails (no CAP_SYS_ADMIN)"
    act busybox -- sh -c 'mkdir -p /m && mount -t tmpfs none /m'
    isnt "$rc" 0 "$m mount fails"
    act busybox -- sh -c 'cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern'
    isnt "$rc" 0 "$m /proc/sys is read-only (core_pattern cannot be set)"
    in_container 'grep -E " /proc/(sys|irq|bus|fs) " /proc/self/mountinfo | grep -c " ro,"'
    [ "$(cat "$out")" -ge 1 ]
    ok $? "$m /proc/sys and kin are read-only mounts ($(cat "$out"))"
    in_container 'ls -A /sys/firmware | wc -l'
    is "$(cat "$out")" 0 "$m /sys/firmware is masked (empty)"
    act --init busybox -- sh -c 'ls /proc/1/fd | wc -l; cat /proc/1/environ'
    is "$(sed -n 1p "$out")" 0 "$m --init: pid 1 holds no descriptors"
    isnt "$rc" 0 "$m --init: pid 1's environment is not readable"
    act --init busybox -- sh -c 'grep CapEff /proc/1/status'
    like "$(cat "$out")" 'CapEff:[[:space:]]+0000000000000000' "$m --init: pid 1 keeps no capabilities"

    # --- a fresh writable layer per activation ----------------------------------------
    in_container "echo $marker >/tmp/marker && echo $marker >/wr-root-marker && rm /etc/group &&
                  cat /tmp/marker /wr-root-marker && echo \$HOSTNAME"
    id1=$(sed -n 3p "$out")
    is "$(sed -n 1,2p "$out" | tr '\n' ' ')" "$marker $marker " "$m activation 1 writes /tmp/marker and /wr-root-marker, removes /etc/group"
    in_container 'cat /tmp/marker /wr-root-marker 2>&1 | grep -c "No such file"; grep -c x: /etc/group; echo $HOSTNAME'
    id2=$(sed -n 3p "$out")
    is "$(sed -n 1,2p "$out" | tr '\n' ' ')" "2 2 " "$m activation 2 sees neither file, and the image's /etc/group"
    [ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ]
    ok $? "$m   in another container ($id1, $id2)"
    [ ! -e "$LAYER/wr-root-marker" ] && [ ! -e "$LAYER/tmp/marker" ] && [ -f "$LAYER/etc/group" ]
    ok $? "$m the image's layer on the host is untouched"
    ! grep -rqsF "$marker" "$STORE" "$STATE"
    ok $? "$m the written data is nowhere in the store or state directory on the host"

    # --- while a container runs: the host's mounts and the namespaces -----------------
    : >"$T/bg.out"
    act_raw busybox -- sh -c 'echo started; exec sleep 30' >"$T/bg.out" 2>"$T/bg.err" &
    bg=$!
    poll_until 20 grep -q started "$T/bg.out"
    ok $? "$m a background container started" || diag_file "$T/bg.err"
    cpid=
    for p in $(our_pids); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && cpid=$p
    done
    [ -n "$cpid" ]
    ok $? "$m its pid 1 is found on the host ($cpid)"
    same=
    for ns in pid mnt net uts ipc cgroup; do
        [ "$(readlink "/proc/$cpid/ns/$ns")" = "$(readlink /proc/self/ns/$ns)" ] && same="$same $ns"
    done
    is "$same" "" "$m it has its own pid, mnt, net, uts, ipc and cgroup namespaces"
    ! host_mountinfo | grep -qF "$STATE"
    ok $? "$m none of its mounts is visible on the host" || host_mountinfo | grep -F "$STATE" >&2
    [ -z "$(ls -A "$STATE/mnt")" ]
    ok $? "$m the host's $STATE/mnt stays empty"
    is "$(host_mounts)" "$mounts_before" "$m the host's mount count is unchanged while it runs"
    [ -n "$cpid" ] && kill -KILL "$cpid"
    wait_child "$bg" 30
    is "$WAIT_RC" 137 "$m SIGKILL from the host ends it: 137"

    if [ "$mode" = warm ]; then
        stop_daemon
        ok $? "warm: the daemon shuts down cleanly (exit $DAEMON_RC)" || diag_file "$DAEMON_LOG"
    fi
    poll_until 10 no_container_pids
    ok $? "$m no shim or container is left running" || show_pids $(our_pids)
    poll_until 10 mounts_back
    ok $? "$m the host's mount count is back to $mounts_before ($(host_mounts))"
done

done_testing

#!/bin/bash
# TAP test of the escapes through what a container's pid 1 holds or
# resolves, and of containers outliving their shim:
#  - a working directory through a descriptor left open in pid 1
#    (/proc/self/fd/N, the class of CVE-2024-21626: the cgroup2 directory
#    of clone3(CLONE_INTO_CGROUP) was one), from -w and from an image's
#    WorkingDir, for every N in 3..64, warm and cold, with --init, -u 1000,
#    --userns auto and --hugepages-limit 2m; /proc/1/cwd and kin;
#  - the descriptors of pid 1 once warm and of the workload after exec;
#  - a directory or O_PATH descriptor handed in as stdio;
#  - an image whose /proc, /sys or /dev is a symlink or a file (the class
#    of CVE-2021-30465);
#  - SIGKILL of the shim, for each kind of user, warm and cold, with and
#    without --init, and after an exec of a set-id binary: pid 1 must die
#    of it (its pidfd's holder stopped meanwhile) and its cgroups go.
# The host file the attacks aim at is a marker in a directory of this test.
. "$(dirname "$0")/lib.sh"
setup_env fds

out=$T/out
err=$T/err
HOSTDIR=$T/host
mkdir -p "$HOSTDIR"
TOKEN=host-secret-$$-$RANDOM$RANDOM
echo "$TOKEN" >"$HOSTDIR/marker"
FDS=$(seq 3 64)
# From any directory of the host, enough ".." reach its root; from there
# the marker's path made relative. Inside the container it reads nothing.
ATTACK=(sh -c 'cd ../../../../../../../../../../../../../../../..; cat ".$1" 2>/dev/null; exit 0'
    sh "$HOSTDIR/marker")

# Is hugetlb on cgroup2 (where the container is cloned into its cgroup, the
# case of the leaked directory descriptor), and on no v1 hierarchy?
HUGE_V2=0
cg2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -n "$cg2" ] && grep -qw hugetlb "$cg2/cgroup.controllers" 2>/dev/null &&
    ! awk '$9 == "cgroup" && $NF ~ /(^|,)hugetlb(,|$)/' /proc/self/mountinfo | grep -q .; then
    HUGE_V2=1
fi

# ---- images ---------------------------------------------------------------


PLAIN_CONFIG='{"Entrypoint": null, "Cmd": ["sh"], "Env": ["PATH=/bin:/sbin"], "WorkingDir": "/", "User": ""}'

# fds_oci_image DIR LAYER_TAR WORKDIR: an OCI image layout of one layer
# whose config says WorkingDir WORKDIR (imported as a user would).
fds_oci_image() {
    local dir=$1 tar=$2 wd=$3 lsum lsize csum csize msum msize
    rm -rf "$dir"
    mkdir -p "$dir/blobs/sha256"
    lsum=$(sha256sum "$tar" | cut -c1-64)
    lsize=$(stat -c %s "$tar")
    cp "$tar" "$dir/blobs/sha256/$lsum"
    printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"],"Env":["PATH=/bin:/sbin"],"WorkingDir":"%s"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$wd" "$lsum" >"$dir/c"
    csum=$(sha256sum "$dir/c" | cut -c1-64)
    csize=$(stat -c %s "$dir/c")
    mv "$dir/c" "$dir/blobs/sha256/$csum"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
        "$csum" "$csize" "$lsum" "$lsize" >"$dir/m"
    msum=$(sha256sum "$dir/m" | cut -c1-64)
    msize=$(stat -c %s "$dir/m")
    mv "$dir/m" "$dir/blobs/sha256/$msum"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
        "$msum" "$msize" >"$dir/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

# wdN: busybox with WorkingDir /proc/self/fd/N, for every N.
tar -C "$LAYER" --numeric-owner --owner=0 --group=0 -cf "$T/layer.tar" . ||
    bail_out "cannot tar the busybox layer"
imported=0
for n in $FDS; do
    fds_oci_image "$T/oci" "$T/layer.tar" "/proc/self/fd/$n"
    timeout -k 10 60 "$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" import "$T/oci" \
        --name "wd$n" >"$out" 2>"$err" && imported=$((imported + 1))
done
is "$imported" 62 "62 images with WorkingDir /proc/self/fd/N (N = 3..64) imported" || show_err
"$WARMRUN_BIN_DIR/warmrun-image" --root "$STORE" inspect wd7 | tr -d ' \n' >"$out"
like "$(cat "$out")" '"WorkingDir":"/proc/self/fd/7"' "  (wd7 has it in its manifest)"

# ---- the working-directory attack -------------------------------------------

# warm_act ARGS...: activate --no-cold, again while the pool is empty for a
# moment (it refills behind every activation). Status in $rc.
warm_act() {
    local i
    for i in $(seq 400); do
        wr activate --no-cold "$@" >"$out" 2>"$err"
        rc=$?
        [ "$rc" -eq 125 ] && grep -q 'no warm container' "$err" || return 0
        sleep 0.05
    done
}

# pools_full IMAGE...: every pool of these images is full.
pools_full() {
    local listing img
    listing=$(WR_TIMEOUT=10 wr pool ls 2>/dev/null) || return 1
    for img in "$@"; do
        echo "$listing" | awk -v i="$img:latest" '$1 == i && $3 >= $2 && $4 == 0 {f = 1} END {exit !f}' ||
            return 1
    done
}

# attack_cwd LABEL KIND SOURCE POOL-OPTS ACT-OPTS: the attack for every N;
# KIND warm or cold; SOURCE w (-w /proc/self/fd/N on busybox) or image
# (wdN's WorkingDir). Nothing may print the marker, and every activation
# must be refused as an unusable working directory (126).
attack_cwd() {
    local label=$1 kind=$2 src=$3 n img leaked= odd= pool_opts act_opts wd imgs=()
    read -r -a pool_opts <<<"$4"
    read -r -a act_opts <<<"$5"
    if [ "$kind" = warm ]; then
        if [ "$src" = w ]; then
            imgs=(busybox)
            wr pool create busybox --size 3 "${pool_opts[@]}" >"$out" 2>"$err"
        else
            for n in $FDS; do
                imgs+=("wd$n")
                wr pool create "wd$n" --size 1 "${pool_opts[@]}" >"$out" 2>"$err" || break
            done
        fi
        if ! poll_until 120 pools_full "${imgs[@]}"; then
            ok 1 "$label: pools filled"
            diag "$(wr pool ls 2>&1 | head -5)"
            for img in "${imgs[@]}"; do wr pool rm "$img" >/dev/null 2>&1; done
            return
        fi
    fi
    for n in $FDS; do
        wd=()
        img=wd$n
        [ "$src" = w ] && img=busybox wd=(-w "/proc/self/fd/$n")
        if [ "$kind" = warm ]; then
            warm_act "${act_opts[@]}" "${wd[@]}" "$img" "${ATTACK[@]}"
        else
            wr activate --cold "${act_opts[@]}" "${wd[@]}" "$img" "${ATTACK[@]}" >"$out" 2>"$err"
            rc=$?
        fi
        grep -qF "$TOKEN" "$out" && leaked="$leaked $n"
        { [ "$rc" -eq 126 ] && grep -q 'working directory\|mkdir' "$err"; } || odd="$odd $n:$rc"
    done
    is "$leaked" "" "$label: no /proc/self/fd/N (N = 3..64) leads to the host's file"
    is "$odd" "" "$label: each one refused as an unusable working directory (126)" ||
        diag "last stderr: $(head -c 300 "$err")"
    if [ "$kind" = warm ]; then
        for img in "${imgs[@]}"; do wr pool rm "$img" >/dev/null 2>&1; done
    fi
}

start_daemon || bail_out "the daemon did not start"
MODES=(
    "cold|||"
    "warm|||"
    "cold --init|cold||--init"
    "warm --init|warm||--init"
    "cold -u 1000|cold||-u 1000"
    "warm -u 1000|warm|-u 1000|"
    "cold --userns auto|cold||--userns auto"
    "warm --userns auto|warm|--userns auto|"
    "cold --hugepages-limit 2m|cold||--hugepages-limit 2m"
    "warm --hugepages-limit 2m|warm|--hugepages-limit 2m|"
)
for m in "${MODES[@]}"; do
    IFS='|' read -r label kind pool_opts act_opts <<<"$m"
    [ -z "$kind" ] && kind=$label
    if [[ $label == *hugepages* ]] && [ "$HUGE_V2" -ne 1 ]; then
        skip 4 "hugetlb is not a cgroup2 controller here (no cgroup directory to clone into)"
        continue
    fi
    attack_cwd "$label, -w" "$kind" w "$pool_opts" "$act_opts"
    attack_cwd "$label, WorkingDir" "$kind" image "$pool_opts" "$act_opts"
done

# Other magic links to another root or cwd.
for wd in /proc/1/cwd /proc/self/cwd /proc/self/root /proc/1/root /proc/thread-self/cwd; do
    wr activate --cold --hugepages-limit 2m -w "$wd" busybox "${ATTACK[@]}" >"$out" 2>"$err"
    rc=$?
    ! grep -qF "$TOKEN" "$out" && [ "$rc" -eq 126 ]
    ok $? "-w $wd is refused (126)" || show_err
done
# A missing working directory is still made, as docker does; the usual
# ways of naming one still work.
got=$(wr activate --cold -w /new//dir/./x/ busybox sh -c 'pwd; ls -ld /new/dir/x' 2>"$err")
like "$got" '^/new/dir/x' "-w of a missing directory makes it (and its parents)" || show_err
got=$(wr activate --cold -w /etc/../usr/bin busybox pwd 2>"$err")
is "$got" /usr/bin "-w with .. and existing directories" || show_err
add_layer_image wdlink "$PLAIN_CONFIG" 'mkdir -p srv && ln -s /srv srvlink && ln -s ../../.. up' ||
    bail_out "cannot write the image wdlink"
got=$(wr activate --cold -w /srvlink wdlink sh -c 'pwd -P' 2>"$err")
is "$got" /srv "-w through a symlink of the image resolves inside it" || show_err
got=$(wr activate --cold -w /up/up/etc wdlink sh -c 'pwd -P; cat ".$1" 2>/dev/null' sh "$HOSTDIR/marker" 2>"$err")
is "$got" /etc "-w through a symlink to ../../.. stays in the container's root" || show_err

# ---- descriptors of pid 1 and of the workload -------------------------------

HOST_MNT_IDS=" $(awk '{print $1}' /proc/self/mountinfo | tr '\n' ' ') "

# fd_report PID: one line per descriptor of PID: "N TARGET MNT_ID".
fd_report() {
    local f n
    for f in /proc/"$1"/fd/*; do
        n=${f##*/}
        [ -e "/proc/$1/fdinfo/$n" ] || continue
        echo "$n $(readlink "$f") $(awk '/^mnt_id:/ {print $2}' "/proc/$1/fdinfo/$n")"
    done
}

# bad_fds REPORT: the descriptors that are not pid 1's own: 0-2 must be a
# /dev/null of the container's (its mount is not one of the host's), the
# rest sockets, memfds or the files behind its /etc/hosts and /etc/hostname
# (on its own tmpfs, for --hostname); none may be open through a host mount.
bad_fds() {
    local n rest target mnt
    while read -r n rest; do
        [ -n "$n" ] || continue
        mnt=${rest##* }
        target=${rest% *}
        if [[ $HOST_MNT_IDS == *" $mnt "* ]]; then
            echo "$n:$target(host-mount)"
        elif [ "$n" -le 2 ]; then
            [ "$target" = /dev/null ] || echo "$n:$target"
        elif [[ $target =~ ^/(hosts|hostname)$ ]]; then
            : # the container's own /etc files on its tmpfs (etc_files.c): regular files, no way out
        elif ! [[ $target =~ ^(socket:|/memfd:) ]]; then
            echo "$n:$target"
        fi
    done <<<"$1"
}

# warm_pid1 IMAGE: "ID PID SHIM" of the image's warm container.
warm_pid1() {
    wr ps 2>/dev/null | awk -v i="$1:latest" '$2 == i && $3 == "warm" {print $1, $4, $5; exit}'
}

for m in "|" "-u 1000|" "--userns auto|" "--hugepages-limit 2m --mlock 1m|memfd"; do
    IFS='|' read -r opts want <<<"$m"
    read -r -a o <<<"$opts"
    if [[ $opts == *hugepages* ]] && [ "$HUGE_V2" -ne 1 ]; then
        skip 3 "hugetlb is not a cgroup2 controller here"
        continue
    fi
    wr pool create busybox --size 1 "${o[@]}" --wait >"$out" 2>"$err" || show_err
    read -r id pid shim <<<"$(warm_pid1 busybox)"
    report=$(fd_report "$pid")
    is "$(bad_fds "$report" | tr '\n' ' ')" "" "warm pid 1 ${opts:-(root)}: only its /dev/null, sockets, memfds" ||
        diag "$report"
    n_sock=$(grep -c ' socket:' <<<"$report")
    is "$n_sock" 2 "  two sockets: activation and init (not the daemon's control socket)"
    # The workload after its exec: the caller's stdio and the memfds.
    warm_act busybox sh -c 'ls -l /proc/$$/fd'
    listing=$(sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p' "$out")
    extra=$(awk '$1 > 2 && $2 !~ /^\/memfd:/' <<<"$listing")
    memfds=$(awk '$1 > 2 && $2 ~ /^\/memfd:/' <<<"$listing" | wc -l)
    { [ -z "$extra" ] && [ -n "$listing" ] && { [ -z "$want" ] || [ "$memfds" -ge 1 ]; }; }
    ok $? "  the workload holds only 0-2${want:+ and its memfd}" || diag "$listing"
    wr pool rm busybox >/dev/null 2>&1
done

# --init: pid 1 stays and holds nothing at all; the workload only its stdio.
wr activate --cold --init busybox sh -c 'ls -l /proc/$$/fd; sleep 30' >"$out" 2>"$err" &
cli=$!
poll_until 10 grep -q ' 2 -> ' "$out"
rec=$(grep -l "^child_pid=" "$STATE"/containers/* 2>/dev/null | head -1)
pid=$(sed -n 's/^child_pid=//p' "$rec" 2>/dev/null)
is "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)|$(cat "/proc/$pid/comm" 2>/dev/null)" "0|warmrun-init" \
    "--init: pid 1 (warmrun-init) holds no descriptor"
extra=$(sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p' "$out" | awk '$1 > 2')
is "$extra" "" "--init: the workload holds only 0-2"
kill -KILL "$(sed -n 's/^shim_pid=//p' "$rec" 2>/dev/null)" 2>/dev/null
wait_child "$cli" 10
poll_until 10 eval '[ -z "$(ls "$STATE"/containers/ 2>/dev/null)" ]'

# ---- stdio handed in ------------------------------------------------------------

for mode in cold warm; do
    if [ "$mode" = warm ]; then
        wr pool create busybox --size 1 --wait >/dev/null 2>&1
        act_stdio() { warm_act "$@"; }
    else
        act_stdio() {
            wr activate --cold "$@" >"$out" 2>"$err"
            rc=$?
        }
    fi
    act_stdio busybox sh -c 'cd /proc/self/fd/0/../../..; cat ".$1"' sh "$HOSTDIR/marker" <"$HOSTDIR"
    ! grep -qF "$TOKEN" "$out" && [ "$rc" -eq 125 ] && grep -q 'stdin (fd 0) is a directory' "$err"
    ok $? "$mode: a host directory as stdin is refused (125, a clear error)" || show_err
    if command -v python3 >/dev/null; then
        # stderr an O_PATH descriptor of the host directory. The CLI
        # refuses it (as a directory on stdin) before it asks the daemon
        # (its complaint goes to the refused descriptor): no container of
        # the pool may have been used. A raw API client's is refused by
        # the container (76-escape-stdio.t).
        timeout -k 10 60 python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_PATH)
os.dup2(fd, 2)
os.execvp(sys.argv[2], sys.argv[2:])' "$HOSTDIR" "${WR[@]}" activate "--$([ "$mode" = warm ] && echo no-)cold" \
            busybox sh -c 'cat /proc/self/fd/2/marker' >"$out"
        rc=$?
        ! grep -qF "$TOKEN" "$out" && [ "$rc" -eq 125 ] &&
            { [ "$mode" = cold ] || [ "$(pool_field busybox:latest activations)" = 0 ]; }
        ok $? "$mode: an O_PATH descriptor as stderr is refused (125)"
    else
        skip 1 "no python3 to make an O_PATH descriptor"
    fi
    [ "$mode" = warm ] && wr pool rm busybox >/dev/null 2>&1
done

# ---- symlinked mount targets ---------------------------------------------------

add_layer_image procetc "$PLAIN_CONFIG" 'ln -s /etc proc'
add_layer_image procup "$PLAIN_CONFIG" 'ln -s ../../.. proc'
add_layer_image sysup "$PLAIN_CONFIG" 'ln -s ../../../.. sys'
add_layer_image devetc "$PLAIN_CONFIG" 'ln -s etc dev'
add_layer_image procfile "$PLAIN_CONFIG" 'touch proc'
for case in procetc:proc procup:proc sysup:sys devetc:dev procfile:proc; do
    img=${case%%:*}
    dir=${case#*:}
    wr activate --cold "$img" sh -c 'ls /etc' >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 125 ] && grep -q "image's /$dir is a symbolic link or not a directory: refused" "$err"
    ok $? "an image whose /$dir is $(readlink "$(layer_dir "$img")/$dir" || echo a file): refused" ||
        show_err
done
wr pool create devetc --size 1 >/dev/null 2>&1
poll_until 10 eval '[ "$(pool_field devetc:latest failures)" -ge 1 ] 2>/dev/null'
like "$(wr pool ls 2>/dev/null | awk '$1 == "devetc:latest"')" "/dev is a symbolic link" \
    "a pool of it fails to fill, saying why"
wr pool rm devetc >/dev/null 2>&1

# ---- the image's account files: read as host root, so never a kernel file ------
# (an image's "etc/passwd -> /proc/kmsg" once had host root drain the kernel
# log; /proc/self/status is a harmless stand-in for any /proc file.)
add_layer_image pwproc "$PLAIN_CONFIG" 'mkdir -p etc && ln -s /proc/self/status etc/passwd'
add_layer_image grpdev "$PLAIN_CONFIG" 'mkdir -p etc && ln -s /dev/null etc/group && printf "u:x:7:7::/:/bin/sh\n" >etc/passwd'
add_layer_image pwlink "$PLAIN_CONFIG" 'mkdir -p etc usr/share && printf "app:x:4321:4321::/:/bin/sh\n" >usr/share/pw && ln -s ../usr/share/pw etc/passwd'
for mode in cold userns; do
    flag=
    [ "$mode" = userns ] && flag="--userns auto"
    # shellcheck disable=SC2086
    wr activate --cold $flag pwproc -- true >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 125 ] && grep -q "/etc/passwd is not a regular file of the image: refused" "$err"
    ok $? "$mode: an image whose /etc/passwd is a /proc file: refused (rc $rc)" || show_err
    # shellcheck disable=SC2086
    wr activate --cold $flag -u u grpdev -- true >"$out" 2>"$err"
    rc=$?
    [ "$rc" -eq 125 ] && grep -q "/etc/group is not a regular file of the image: refused" "$err"
    ok $? "$mode: an image whose /etc/group is a device: refused (rc $rc)" || show_err
    # shellcheck disable=SC2086
    got=$(wr activate --cold $flag -u app pwlink -- sh -c \
        'while read -r k v r; do [ "$k" = Uid: ] && echo "$v"; done </proc/self/status' 2>"$err")
    is "$got" 4321 "$mode: a symlink to a regular file of the image still works" || show_err
done

# ---- SIGKILL of the shim ---------------------------------------------------------

# A set-uid busybox (no_new_privs off with --privileged): its exec clears
# PR_SET_PDEATHSIG where pid 1 cannot arm it again.
add_layer_image suid "$PLAIN_CONFIG" 'mkdir s && install -m 4755 /bin/busybox s/busybox' ||
    bail_out "cannot write the image suid"


cg_dirs() {
    ls -d /sys/fs/cgroup/*/warmrun/*/"$1" /sys/fs/cgroup/warmrun/*/"$1" 2>/dev/null
}
no_cg_dirs() { [ -z "$(cg_dirs "$1")" ]; }

# running PID: pid 1 has taken the activation (exec'd, or forked under --init).
running() {
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" != warmrun-init ] ||
        [ -n "$(cat "/proc/$1/task/$1/children" 2>/dev/null)" ]
}

# kill_shim LABEL ID PID SHIM: SIGKILL to the shim; pid 1 gone, its cgroups
# soon after. pid 1 must die of its shim's death alone (PR_SET_PDEATHSIG),
# not of whoever holds its pidfd (the shim's parent: the daemon, or the
# CLI of a cold start), which is stopped meanwhile: a check that needs no
# bound on time (once 100 ms, which a loaded machine exceeded). With
# BY_HOLDER=1 (a set-uid exec, which clears PDEATHSIG where pid 1 cannot
# arm it again) the holder runs on and is what kills pid 1.
kill_shim() {
    local label=$1 id=$2 pid=$3 shim=$4 holder= gone
    if [ -z "$pid" ] || ! pid_alive "$pid" || [ -z "$(cg_dirs "$id")" ]; then
        ok 1 "$label: a container with cgroups to kill the shim of"
        diag "id=$id pid=$pid shim=$shim; $(head -c 300 "$err")"
        return
    fi
    [ "${BY_HOLDER:-0}" = 1 ] || holder=$(awk '$1 == "PPid:" {print $2}' "/proc/$shim/status" 2>/dev/null)
    [ -n "$holder" ] && kill -STOP "$holder"
    kill -KILL "$shim"
    poll_until 20 pid_gone "$pid"
    gone=$?
    [ -n "$holder" ] && kill -CONT "$holder"
    ok "$gone" "$label: SIGKILL of the shim: pid 1 gone$([ -n "$holder" ] && echo ", its pidfd's holder stopped")" ||
        show_pids "$pid"
    poll_until 20 no_cg_dirs "$id"
    ok $? "$label:   its cgroups removed" || diag "$(cg_dirs "$id")"
    kill -KILL "$pid" 2>/dev/null
}

# shim_kill_case LABEL STAGE POOL-OPTS ACT-OPTS IMAGE CMD...: STAGE is
# "stopped" (a warm container never activated), warm or cold.
shim_kill_case() {
    local label=$1 stage=$2 pool_opts act_opts img=$5 id pid shim cli rec
    read -r -a pool_opts <<<"$3"
    read -r -a act_opts <<<"$4"
    shift 5
    if [ "$stage" != cold ]; then
        wr pool create "$img" --size 1 --pids-limit 64 "${pool_opts[@]}" --wait >"$out" 2>"$err"
        read -r id pid shim <<<"$(warm_pid1 "$img")"
    fi
    if [ "$stage" = warm ]; then
        wr activate --no-cold "${act_opts[@]}" "$img" "$@" >"$out" 2>"$err" &
        cli=$!
        poll_until 30 running "$pid"
    elif [ "$stage" = cold ]; then
        wr activate --cold --pids-limit 64 "${pool_opts[@]}" "${act_opts[@]}" "$img" "$@" \
            >"$out" 2>"$err" &
        cli=$!
        poll_until 30 eval 'rec=$(ls "$STATE"/containers/ 2>/dev/null | head -1); [ -n "$rec" ]'
        id=$rec
        pid=$(sed -n 's/^child_pid=//p' "$STATE/containers/$id" 2>/dev/null)
        shim=$(sed -n 's/^shim_pid=//p' "$STATE/containers/$id" 2>/dev/null)
        poll_until 30 running "$pid"
    fi
    kill_shim "$label" "$id" "$pid" "$shim"
    [ -n "$cli" ] && wait_child "$cli" 30
    [ "$stage" != cold ] && wr pool rm "$img" >/dev/null 2>&1
    poll_until 30 eval '[ -z "$(ls "$STATE"/containers/ 2>/dev/null)" ]'
}

for user in "root|" "-u 1000|-u 1000" "--userns auto|--userns auto"; do
    IFS='|' read -r who opts <<<"$user"
    shim_kill_case "$who, warm not activated" stopped "$opts" "" busybox
    shim_kill_case "$who, warm" warm "$opts" "" busybox sleep 1000
    shim_kill_case "$who, warm --init" warm "$opts" --init busybox sleep 1000
    shim_kill_case "$who, cold" cold "$opts" "" busybox sleep 1000
    shim_kill_case "$who, cold --init" cold "$opts" --init busybox sleep 1000
done
# What arming again cannot cover: whoever holds the pidfd kills pid 1.
BY_HOLDER=1 shim_kill_case "-u 1000 --privileged, set-uid exec, warm (the daemon's pidfd)" warm \
    "--privileged -u 1000" "" suid /s/busybox sleep 1000
BY_HOLDER=1 shim_kill_case "-u 1000 --privileged, set-uid exec, cold (the CLI's pidfd)" cold \
    "--privileged -u 1000" "" suid /s/busybox sleep 1000

stop_daemon
is "$DAEMON_RC" 0 "the daemon shut down cleanly"
[ -z "$(ls "$STATE"/containers/ 2>/dev/null)" ]
ok $? "no state record left"
done_testing

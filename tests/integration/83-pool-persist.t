#!/bin/bash
# TAP test of pools that persist and follow their image: pools created with
# settings come back, with the same settings and refilled, in a daemon
# started after a SIGKILL and after a clean stop; `pool rm` forgets them; a
# daemon of another state directory on the same store does not take them; a
# corrupt, mislabelled or symlinked record is skipped with one log line;
# re-importing a pool's tag while activations run serves no activation from
# the old image once the import has returned.
# Needs root, busybox-static and jq.
. "$(dirname "$0")/lib.sh"
setup_env persist

command -v jq >/dev/null || skip_all "jq is not installed"
out=$T/out
err=$T/err

# settings_of IMAGE: the pool's size and settings, as pool ls --json gives them.
settings_of() {
    wr pool ls --json 2>/dev/null |
        jq -c --arg i "$1" '.pools[] | select(.image == $i) | {size, tmpfs_size, settings}'
}
pool_images() {
    wr pool ls --json 2>/dev/null | jq -r '[.pools[].image] | sort | join(" ")'
}

# The "app" image: busybox and a /marker file, imported from a directory.
ROOTFS=$T/rootfs
mkdir -p "$ROOTFS/bin"
cp /bin/busybox "$ROOTFS/bin/busybox"
for l in sh cat; do ln -s busybox "$ROOTFS/bin/$l"; done
echo old-image >"$ROOTFS/marker"
wr image import "$ROOTFS" --name app:latest >"$out" 2>"$err"
ok $? "app:latest imported" || show_err

start_daemon || bail_out "the daemon did not start"
wr pool create busybox --size 2 -u 1000 --read-only --memory 64m --tmpfs-size 32m --wait \
    >"$out" 2>"$err"
ok $? "pool busybox: size 2, -u 1000, --read-only, --memory 64m, --tmpfs-size 32m" || show_err
wr pool create app --size 1 --cap-drop ALL --wait >"$out" 2>"$err"
ok $? "pool app: size 1, --cap-drop ALL" || show_err
# A resize keeps the settings, and the stored record follows it.
wr pool create busybox --size 3 >"$out" 2>"$err"
ok $? "pool busybox resized to 3" || show_err
wait_pool_full busybox:latest 30
bb_before=$(settings_of busybox:latest)
app_before=$(settings_of app:latest)
like "$bb_before" '"size":3.*"read_only":true.*"user":"1000"' \
    "pool ls --json: busybox's size and settings (resize kept them)"
like "$app_before" '"capabilities":\[\]' "pool ls --json: app's empty capability set"
wr pool ls >"$out"
like "$(cat "$out")" 'settings: .*"read_only":true' "pool ls shows the settings"

# check_pools WHEN: the same pools, settings and behaviour as before.
check_pools() {
    local when=$1
    is "$(pool_images)" "app:latest busybox:latest" "$when: both pools are back"
    is "$(settings_of busybox:latest)" "$bb_before" "$when: busybox's size and settings unchanged"
    is "$(settings_of app:latest)" "$app_before" "$when: app's size and settings unchanged"
    wait_pool_full busybox:latest 30
    ok $? "$when: busybox refilled to 3 warm"
    wait_pool_full app:latest 30
    ok $? "$when: app refilled"
    wr activate --no-cold busybox -- sh -c \
        'id -u; touch /x 2>/dev/null && echo writable; cat /sys/fs/cgroup/memory/memory.limit_in_bytes' \
        >"$out" 2>"$err"
    is "$(tr '\n' ' ' <"$out")" "1000 67108864 " \
        "$when: a warm activation runs as 1000, read-only, with 64 MiB" || show_err
    wr activate --no-cold app -- sh -c 'grep CapEff /proc/self/status' >"$out" 2>"$err"
    like "$(cat "$out")" 'CapEff:[[:space:]]+0+$' "$when: app's workload has no capability" ||
        show_err
}

kill -KILL "$DAEMON_PID"
poll_until 5 pid_gone "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon || bail_out "the daemon did not start after SIGKILL"
check_pools "after SIGKILL"

stop_daemon
ok $? "clean stop"
start_daemon || bail_out "the daemon did not start after a stop"
check_pools "after a clean stop"

# --- another state directory on the same store takes nothing ---------------------
STATE2=$T/state2
SOCK2=$T/other.sock
setsid "$WARMRUN_BIN_DIR/warmrun" --root "$STORE" --state-dir "$STATE2" --socket "$SOCK2" daemon \
    >>"$T/daemon2.log" 2>&1 </dev/null &
D2=$!
other_up() { "$WARMRUN_BIN_DIR/warmrun" --socket "$SOCK2" --state-dir "$STATE2" ps >/dev/null 2>&1; }
poll_until 10 other_up
is "$("$WARMRUN_BIN_DIR/warmrun" --socket "$SOCK2" --state-dir "$STATE2" pool ls --json 2>/dev/null |
    jq -c .pools)" "[]" "a daemon of another state directory on the same store restores no pool"
"$WARMRUN_BIN_DIR/warmrun" --socket "$SOCK2" --state-dir "$STATE2" shutdown >/dev/null 2>&1
poll_until 10 pid_gone "$D2"
wait "$D2" 2>/dev/null

# --- bad records are skipped -----------------------------------------------------
dir=$(dirname "$(ls "$STORE"/pools/*/busybox:latest.json)")
printf '{"op":"pool_create","image":' >"$dir/broken:latest.json"
# A record whose name is not its pool's: it must not create or replace busybox's.
printf '{"op":"pool_create","image":"busybox","size":1}' >"$dir/evil:latest.json"
printf '{"op":"kill","id":"0123456789ab"}' >"$dir/killer:latest.json"
# A symlink to a record that would be valid (busybox:link exists): never
# followed.
wr image build-busybox --tag link >/dev/null 2>&1
printf '{"op":"pool_create","image":"busybox:link","size":1}' >"$T/elsewhere.json"
ln -s "$T/elsewhere.json" "$dir/busybox:link.json"
# A good record whose image is not in the store.
printf '{"op":"pool_create","image":"ghost:latest","size":1}' >"$dir/ghost:latest.json"
stop_daemon
start_daemon || bail_out "the daemon did not start with bad records"
ok 0 "the daemon starts with a corrupt, a mislabelled, a wrong-op and a symlinked record"
is "$(pool_images)" "app:latest busybox:latest" "only the two good pools are restored"
is "$(settings_of busybox:latest)" "$bb_before" "busybox's settings are not replaced"
for r in broken:latest evil:latest killer:latest busybox:link ghost:latest; do
    is "$(grep -c "stored pool $r.json: skipped" "$DAEMON_LOG")" 1 \
        "$r record: skipped with one log line ($(grep -m1 "stored pool $r.json" "$DAEMON_LOG" | cut -c1-120))"
done
rm -f "$dir/broken:latest.json" "$dir/evil:latest.json" "$dir/killer:latest.json" \
    "$dir/busybox:link.json"
wr pool rm ghost >"$out" 2>"$err"
ok $? "pool rm of a record whose image is missing (no pool): exit 0" || show_err
ok "$([ ! -e "$dir/ghost:latest.json" ] && echo 0 || echo 1)" "  its record is gone"

# --- pool rm forgets -------------------------------------------------------------
wr pool rm busybox >"$out" 2>"$err"
ok $? "pool rm busybox" || show_err
ok "$([ ! -e "$dir/busybox:latest.json" ] && echo 0 || echo 1)" "its record is gone"
stop_daemon
start_daemon || bail_out "the daemon did not start after pool rm"
is "$(pool_images)" "app:latest" "after a restart the removed pool stays removed"

# --- a re-import under load --------------------------------------------------------
wr pool create app --size 2 --wait >"$out" 2>"$err"
ok $? "pool app resized to 2" || show_err
echo new-image >"$ROOTFS/marker"
# Each activation is tagged with whether the import had returned before it
# was started.
(
    while [ ! -e "$T/stop" ]; do
        if [ -e "$T/imported" ]; then tag=after; else tag=before; fi
        m=$(wr activate app -- cat /marker 2>&1)
        echo "$tag $m" >>"$T/load.out"
    done
) &
LOAD=$!
poll_until 30 grep -qs '^before' "$T/load.out"
wr image import "$ROOTFS" --name app:latest >"$out" 2>"$err"
irc=$?
touch "$T/imported"
ok $irc "app:latest imported again while activations run" || show_err
like "$(cat "$out")" 'rolled over pool app:latest' "image import says which pool rolled over"
poll_until 60 sh -c "[ \$(grep -c '^after' '$T/load.out') -ge 10 ]"
touch "$T/stop"
wait_child "$LOAD" 60
ok "$([ "$(grep -c '^before' "$T/load.out")" -ge 1 ] && echo 0 || echo 1)" \
    "some activations ran before the import returned"
is "$(grep '^after' "$T/load.out" | grep -vc '^after new-image$')" 0 \
    "after the import returned, every activation printed the new file ($(grep -c '^after' "$T/load.out") of them)" ||
    diag "$(grep '^after' "$T/load.out" | sort | uniq -c | head -5)"
is "$(wr activate --no-cold app -- cat /marker 2>&1)" "new-image" "a warm activation serves the new image"

# A re-import of an unchanged tag rolls nothing.
wr image import "$ROOTFS" --name app:latest >"$out" 2>"$err"
unlike "$(cat "$out")" 'rolled' "an import that changes nothing rolls no pool"

stop_daemon
ok $? "the daemon stops"
done_testing

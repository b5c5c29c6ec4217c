#!/bin/bash
# TAP test: a fill's pid 1 names no path through /proc/self/fd
# (docs/benchmarks.md, "Mounts on descriptors without /proc"). /dev's
# nodes, binds, links and mounts are made relative to /dev's tmpfs as the
# working directory, proc and sysfs are mounted on their directory's
# descriptor as the working directory, and /etc/hosts, hostname and
# resolv.conf are bound onto their file's descriptor with open_tree and
# move_mount: the same targets, no proc walk, no proc inode per descriptor
# kept until pid 1's exit. Fails on the code before (~40 such paths per
# fill). What the container sees is checked by the tests of each part
# (30-isolation, 73-escape-dev, 112-shm-on-dev, 79-parity-files); here:
# /dev's nodes open, /etc's three files are the container's and read-only
# under --read-only. Needs root, busybox-static and strace.
. "$(dirname "$0")/lib.sh"
setup_env procwalks
command -v strace >/dev/null 2>&1 || skip_all "strace is not installed"

out=$T/out
err=$T/err
start_daemon || bail_out "the daemon did not start"
trace_server mount,mknod,mknodat,mkdir,mkdirat,symlink,symlinkat,chmod,fchmodat,lchown,fchownat \
    "$T/trace"
wr pool create busybox --size 2 --wait >"$out" 2>"$err"
ok $? "a pool of 2" || show_err
wr activate --no-cold busybox -- sh -c 'echo x >/dev/null && head -c 3 /dev/zero | wc -c &&
  hostname | cmp -s - /etc/hostname && echo hostname && grep -q localhost /etc/hosts &&
  echo hosts && test -s /etc/resolv.conf && echo resolv && echo y >>/etc/hosts &&
  tail -n1 /etc/hosts' >"$out" 2>"$err"
is "$(tr '\n' ' ' <"$out")" "3 hostname hosts resolv y " \
    "  a warm container: /dev's nodes open, /etc's files are its own and writable" || show_err
wr pool rm busybox >"$out" 2>"$err" || show_err
wr pool create busybox --size 2 --read-only --wait >"$out" 2>"$err"
ok $? "a read-only pool of 2" || show_err
wr activate --no-cold busybox -- sh -c 'hostname | cmp -s - /etc/hostname && echo hostname;
  { echo y >>/etc/hosts; } 2>/dev/null || echo read-only' >"$out" 2>"$err"
is "$(tr '\n' ' ' <"$out")" "hostname read-only " "  its /etc files are read-only" || show_err
kill "$TRACER" 2>/dev/null
wait "$TRACER" 2>/dev/null

# Paths given to the calls; a link's target (/dev/stdin's) is text, not a walk.
calls=$(grep -c 'mount(\|mknod(' "$T/trace")
[ "$calls" -ge 20 ]
ok $? "the trace holds the fills' mounts and nodes ($calls calls)"
walks=$(grep '/proc/self/fd/' "$T/trace" | grep -vc 'symlink("/proc/self/fd[/"]')
is "$walks" 0 "  none names a path through /proc/self/fd" ||
    diag "$(grep '/proc/self/fd/' "$T/trace" | grep -v 'symlink("/proc/self/fd[/"]' | head -n 5)"

wr pool rm busybox >/dev/null 2>&1
stop_daemon
done_testing

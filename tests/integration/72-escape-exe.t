#!/bin/bash
# TAP test: a container cannot reach the host's shim binary through
# /proc/self/exe or /proc/1/exe (the class of CVE-2019-5736).
#
# A container's pid 1 is a clone of warmrun-shim until the workload's
# execve, so a workload "/proc/self/exe" (or a "#!/proc/self/exe" script)
# runs the shim binary again, here with the image's own dynamic loader (the
# host's, copied into the image) and an LD_PRELOAD constructor that tries
# to chmod 04755, chmod 0, chown, set security.capability, open for
# writing, and clone the mount of /proc/self/exe (and /proc/1/exe under
# --init). After each try, the host's bin/warmrun-shim must have the same
# mode, owner, xattrs and sha256 as before, and the pool must still fill.
# Warm, cold, --init, a script entrypoint, --cap-add ALL, --privileged and
# a user namespace, with the shim executed through the read-only overlay
# (the default); then from the sealed memfd copy (WARMRUN_SHIM_SEAL=memfd),
# whose changes by a container the daemon must find and undo. A static shim
# has no loader: then the same tries run from a static program against
# /proc/1/exe under --init. Needs root, busybox-static, cc and ldd.
. "$(dirname "$0")/lib.sh"
setup_env exe
command -v cc >/dev/null || skip_all "cc is not installed"
command -v ldd >/dev/null || skip_all "ldd is not installed"

SHIM=$WARMRUN_BIN_DIR/warmrun-shim
# A static shim (the default build) has no loader: no image code can run as
# the shim binary. What is left to try is /proc/1/exe under --init (pid 1 is
# then a clone of the shim for the container's whole life) and exec'ing the
# shim itself: the static section below. A dynamic shim (sanitizer builds)
# gets the preload attacks.
STATIC_SHIM=0
ldd "$SHIM" >"$T/ldd" 2>&1 || STATIC_SHIM=1
out=$T/out
err=$T/err

# ---- helpers built here ------------------------------------------------

# The LD_PRELOAD payload: runs as the shim binary, inside the container.
cat >"$T/evil.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char *what, const char *path, int rc)
{
    printf("%s %s %s\n", what, path, rc == 0 ? "OK" : strerror(errno));
}

static void attack(const char *path)
{
    /* VFS_CAP_REVISION_2: every capability permitted and effective */
    static const unsigned char cap[20] = {0x01, 0, 0, 0x02, 0xff, 0xff, 0xff, 0xff, 0, 0,
                                          0,    0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    struct stat st;
    if (stat(path, &st) < 0) {
        report("stat", path, -1);
        return;
    }
    printf("mode %s %o %u:%u\n", path, st.st_mode & 07777, st.st_uid, st.st_gid);
    report("chmod-4755", path, chmod(path, 04755));
    report("chmod-0", path, chmod(path, 0));
    report("chown", path, chown(path, 1000, 1000));
    report("setxattr", path, setxattr(path, "security.capability", cap, sizeof cap, 0));
    int fd = open(path, O_WRONLY);
    report("open-write", path, fd < 0 ? -1 : 0);
    if (fd >= 0)
        close(fd);
    /* With CAP_SYS_ADMIN: a clone of the file's mount, made writable. */
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    report("open_tree", path, tree < 0 ? -1 : 0);
    if (tree >= 0) {
        struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
        char clone[64];
        snprintf(clone, sizeof clone, "/proc/self/fd/%d", tree);
        report("remount-rw", path,
               (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr));
        report("clone-chmod-4755", path, chmod(clone, 04755));
    }
}

#ifdef STANDALONE
int main(void)
{
    attack("/proc/1/exe");
    return 0;
}
#else
__attribute__((constructor)) static void evil(void)
{
    attack("/proc/self/exe");
    if (getpid() != 1)
        attack("/proc/1/exe");
    fflush(stdout);
    _exit(0);
}
#endif
EOF

# xattrs FILE: every extended attribute as name=hex; xattrs -r FILE NAME: removes one.
cat >"$T/xattrs.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
    char names[4096], value[4096];
    if (argc == 4 && strcmp(argv[1], "-r") == 0)
        return lremovexattr(argv[2], argv[3]) == 0 ? 0 : 1;
    ssize_t n = llistxattr(argv[1], names, sizeof names);
    if (n < 0)
        return 1;
    for (char *p = names; p < names + n; p += strlen(p) + 1) {
        ssize_t v = lgetxattr(argv[1], p, value, sizeof value);
        printf("%s=", p);
        for (ssize_t i = 0; i < v; i++)
            printf("%02x", (unsigned char)value[i]);
        printf("\n");
    }
    return 0;
}
EOF
cc -shared -fPIC -O2 -o "$T/evil.so" "$T/evil.c" 2>"$T/cc.log" &&
    cc -static -DSTANDALONE -O2 -o "$T/evil-static" "$T/evil.c" 2>>"$T/cc.log" &&
    cc -O2 -o "$T/xattrs" "$T/xattrs.c" 2>>"$T/cc.log" || {
    diag_file "$T/cc.log"
    bail_out "cannot compile the helpers"
}

# ---- the host binary -----------------------------------------------------

# fingerprint: what a container must not be able to change.
fingerprint() {
    echo "$(stat -c '%a %u:%g' "$SHIM") $("$T/xattrs" "$SHIM" | tr '\n' ' ')$(sha256sum <"$SHIM" | cut -c1-64)"
}
SHIM_MODE=$(stat -c '%a' "$SHIM")
SHIM_OWNER=$(stat -c '%u:%g' "$SHIM")
SHIM_XATTRS=$("$T/xattrs" "$SHIM")
SHIM_PRINT=$(fingerprint)

# restore_shim: puts back mode, owner and xattrs if a container changed
# them (only a vulnerable build lets it), so that the later checks test
# something and the build is left as it was.
restore_shim() {
    local name
    chown "$SHIM_OWNER" "$SHIM" && chmod "$SHIM_MODE" "$SHIM"
    for name in $("$T/xattrs" "$SHIM" | cut -d= -f1); do
        grep -q "^$name=" <<<"$SHIM_XATTRS" || "$T/xattrs" -r "$SHIM" "$name"
    done
}
trap 'exe_rc=$?; [ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim; (exit $exe_rc); cleanup' EXIT

# ---- a static shim ---------------------------------------------------------

if [ "$STATIC_SHIM" -eq 1 ]; then
    R=$T/rootfs
    mkdir -p "$R/bin"
    install -m 0755 "$T/evil-static" "$R/evil"
    install -m 0755 /bin/busybox "$R/bin/busybox"
    wr image import "$R" --name evil >"$out" 2>"$err"
    is "$?" 0 "static shim: the rootfs imports as evil:latest" || diag_file "$err"
    static_attack() {
        local desc=$1
        shift
        wr activate "$@" >"$out" 2>"$err"
        is "$(fingerprint)" "$SHIM_PRINT" "$desc: the host's warmrun-shim is unchanged" ||
            diag_file "$out"
        unlike "$(grep -v '^mode ' "$out")" ' OK$' "$desc: every change was refused"
        [ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim
    }
    for seal in overlay memfd; do
        [ "$seal" = memfd ] && export WARMRUN_SHIM_SEAL=memfd
        start_daemon || bail_out "the daemon did not start ($seal)"
        wr pool create evil --size 1 --wait >/dev/null 2>"$err" || diag_file "$err"
        wr activate --no-cold evil -- /proc/self/exe >"$out" 2>"$err"
        isnt "$?" 0 "$seal: the shim run again as a workload refuses to run"
        is "$(fingerprint)" "$SHIM_PRINT" "$seal:   the host's warmrun-shim is unchanged"
        wait_pool_full evil:latest 30
        static_attack "$seal warm --init" --no-cold --init evil -- /evil
        like "$(cat "$out")" 'stat /proc/1/exe Permission denied' \
            "$seal warm --init: /proc/1/exe needs CAP_SYS_PTRACE (pid 1 is not dumpable)"
        static_attack "$seal cold --cap-add ALL --init" --cap-add ALL --init evil -- /evil
        grep -q '^chmod-0 /proc/1/exe ' "$out"
        ok $? "$seal --cap-add ALL --init: /proc/1/exe was reached and tried" || diag_file "$out"
        [ "$seal" = overlay ] &&
            like "$(grep '^chmod-0 /proc/1/exe ' "$out")" 'Read-only file system$' "$seal: chmod says EROFS"
        static_attack "$seal cold --privileged --init" --privileged --init evil -- /evil
        wait_pool_full evil:latest 30
        ok $? "$seal: the pool fills again"
        stop_daemon
    done
    unset WARMRUN_SHIM_SEAL
    done_testing
    exit
fi

# ---- the images ------------------------------------------------------------

# A rootfs with the host's loader and the libraries the shim needs, at the
# same paths; the payload; busybox; a "#!/proc/self/exe" script.
R=$T/rootfs
mkdir -p "$R/bin"
for lib in $(grep -o '/[^ ]*' "$T/ldd"); do
    mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib" || bail_out "cannot copy $lib"
done
install -m 0755 "$T/evil.so" "$R/evil.so"
install -m 0755 /bin/busybox "$R/bin/busybox"
printf '#!/proc/self/exe\n' >"$R/evil.sh"
chmod 0755 "$R/evil.sh"
wr image import "$R" --name evil >"$out" 2>"$err"
is "$?" 0 "the rootfs directory imports as evil:latest" || diag_file "$err"

# The same rootfs as an OCI layout whose Entrypoint is the script.
oci_layout() {
    local dir=$1 layer cfg man
    mkdir -p "$dir/blobs/sha256"
    tar -C "$R" -cf "$dir/layer.tar" . || return 1
    layer=$(sha256sum "$dir/layer.tar" | cut -c1-64)
    mv "$dir/layer.tar" "$dir/blobs/sha256/$layer"
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/evil.sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$layer" >"$dir/cfg"
    cfg=$(sha256sum "$dir/cfg" | cut -c1-64)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
        "$cfg" "$(stat -c %s "$dir/cfg")" "$layer" "$(stat -c %s "$dir/blobs/sha256/$layer")" >"$dir/man"
    man=$(sha256sum "$dir/man" | cut -c1-64)
    mv "$dir/cfg" "$dir/blobs/sha256/$cfg"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
        "$man" "$(stat -c %s "$dir/man")" >"$dir/index.json"
    mv "$dir/man" "$dir/blobs/sha256/$man"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}
oci_layout "$T/oci" && wr image import "$T/oci" --name evil:script >"$out" 2>"$err"
is "$?" 0 "an OCI layout with Entrypoint [\"/evil.sh\"] imports as evil:script" || diag_file "$err"

# ---- the attack ------------------------------------------------------------

PRELOAD=(-e LD_PRELOAD=/evil.so)
# ASan's runtime refuses to come after a preloaded library.
[ "$ASAN" -eq 1 ] && PRELOAD+=(-e ASAN_OPTIONS=verify_asan_link_order=0)

# attack DESC ACTIVATE-ARGS...: one activation of the payload; it must have
# run, and the host's shim must be unchanged. Output in $out.
attack() {
    local desc=$1
    shift
    wr activate "${PRELOAD[@]}" "$@" >"$out" 2>"$err"
    is "$?" 0 "$desc: exit 0" || diag_file "$err"
    grep -q '^chmod-4755 /proc/self/exe ' "$out"
    ok $? "$desc: the image's constructor ran as /proc/self/exe" || diag_file "$out"
    is "$(fingerprint)" "$SHIM_PRINT" "$desc: the host's warmrun-shim is unchanged (mode, owner, xattrs, sha256)" ||
        diag_file "$out"
}

# every_change_refused DESC: with the overlay, nothing the payload tried
# took, and /proc/self/exe is read-only whatever the capabilities.
every_change_refused() {
    unlike "$(grep -v '^mode ' "$out")" ' OK$' "$1: every change was refused"
    like "$(grep '^chmod-0 /proc/self/exe ' "$out")" 'Read-only file system$' "$1: chmod says EROFS"
}

# evil_pool_works IMAGE DESC: the pool fills again and a container of it runs.
evil_pool_works() {
    wait_pool_full "$1" 20
    ok $? "$2: the pool $1 fills again" || diag_file "$DAEMON_LOG"
    is "$(wr activate --no-cold --entrypoint /bin/busybox "$1" echo alive 2>"$err")" alive \
        "$2: and activates" || diag_file "$err"
}

start_daemon || bail_out "the daemon did not start"
grep -q "executed through a read-only overlay" "$DAEMON_LOG"
ok $? "the daemon executes the shim through a read-only overlay" || diag_file "$DAEMON_LOG"
wr pool create evil --size 1 --wait >/dev/null 2>"$err" || diag_file "$err"
wr pool create evil:script --size 1 --wait >/dev/null 2>"$err" || diag_file "$err"

wait_pool_full evil:latest 30
attack "warm" --no-cold evil -- /proc/self/exe
every_change_refused "warm"
# Before any restore: on a vulnerable build chmod 0 made every later fill fail.
evil_pool_works evil:latest "after the warm attack"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

attack "cold" --cold evil -- /proc/self/exe
every_change_refused "cold"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

wait_pool_full evil:latest 30
attack "warm --init" --no-cold --init evil -- /proc/self/exe
every_change_refused "warm --init"
like "$(cat "$out")" 'stat /proc/1/exe Permission denied' "warm --init: /proc/1/exe needs CAP_SYS_PTRACE (pid 1 is not dumpable)"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

wait_pool_full evil:script 30
attack "warm, #!/proc/self/exe script as Entrypoint" --no-cold evil:script
every_change_refused "script"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

attack "cold --cap-add ALL --init" --cap-add ALL --init evil -- /proc/self/exe
every_change_refused "--cap-add ALL --init"
grep -q '^chmod-0 /proc/1/exe ' "$out"
ok $? "--cap-add ALL --init: /proc/1/exe was reached and tried too" || diag_file "$out"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

attack "cold --privileged" --privileged evil -- /proc/self/exe
every_change_refused "--privileged"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

attack "cold --userns auto" --userns auto evil -- /proc/self/exe
every_change_refused "--userns auto"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim

evil_pool_works evil:latest "after every attack"
evil_pool_works evil:script "after every attack"

# ---- the memfd fallback ----------------------------------------------------

stop_daemon
export WARMRUN_SHIM_SEAL=memfd
start_daemon || bail_out "the daemon did not start with WARMRUN_SHIM_SEAL=memfd"
grep -q "executed from a sealed memfd copy" "$DAEMON_LOG"
ok $? "memfd: the daemon executes the shim from a sealed memfd copy" || diag_file "$DAEMON_LOG"
wr pool create evil --size 1 --wait >/dev/null 2>"$err" || diag_file "$err"

wait_pool_full evil:latest 30
attack "memfd warm" --no-cold evil -- /proc/self/exe
like "$(cat "$out")" 'chown /proc/self/exe OK' "memfd warm: container root changed its copy (seals do not cover the owner)"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim
# A container filled before the change shares the changed copy: start afresh.
wr pool rm evil >/dev/null 2>&1
wr pool create evil --size 1 --wait >/dev/null 2>"$err" || diag_file "$err"
grep -q "shim memfd changed by a container .*: replaced by a fresh sealed copy" "$DAEMON_LOG"
ok $? "memfd: the daemon found the change and replaced its copy" || diag_file "$DAEMON_LOG"
wait_pool_full evil:latest 30
attack "memfd warm, after the replacement" --no-cold evil -- /proc/self/exe
is "$(grep '^mode /proc/self/exe ' "$out")" "mode /proc/self/exe 555 0:0" \
    "memfd: the next container's copy is pristine (0555 root)"
[ "$(fingerprint)" = "$SHIM_PRINT" ] || restore_shim
evil_pool_works evil:latest "memfd, after the attacks"

attack "memfd cold --cap-add ALL" --cold --cap-add ALL evil -- /proc/self/exe
unset WARMRUN_SHIM_SEAL

done_testing

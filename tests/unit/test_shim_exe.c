/* TAP test of runtime/lib/shim_exe.c on a copy of /bin/true in a temporary
 * directory (whose name holds ':' and '\', which lowerdir= must escape):
 * the read-only overlay refuses every change and runs the program; the
 * sealed memfd holds the same bytes, refuses writes, and a changed mode,
 * owner or xattr is found by wr_shim_exe_check and replaced by a pristine
 * copy; without the overlay's empty layer the default falls back to the
 * memfd. Needs root (overlayfs, chown). */
#include "lib/shim_exe.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char tmp[256];
static char bindir[320];
static char prog[400];
static char state[320];

static int run(const char *path)
{
    char *const argv[] = {(char *)"prog", NULL};
    char *const envp[] = {NULL};
    pid_t pid;
    int status;
    if (posix_spawn(&pid, path, NULL, NULL, argv, envp) != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Do the file's bytes equal those of prog? */
static bool same_bytes(const char *path)
{
    char a[65536], b[65536];
    FILE *fa = fopen(path, "re"), *fb = fopen(prog, "re");
    bool same = fa && fb;
    while (same) {
        size_t na = fread(a, 1, sizeof a, fa), nb = fread(b, 1, sizeof b, fb);
        same = na == nb && memcmp(a, b, na) == 0;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void setup(void)
{
    char cmd[2048];
    snprintf(tmp, sizeof tmp, "/tmp/wr-shim-exe.XXXXXX");
    if (!mkdtemp(tmp))
        bail_out("mkdtemp: %s", strerror(errno));
    snprintf(bindir, sizeof bindir, "%s/b:i\\n", tmp);
    snprintf(prog, sizeof prog, "%s/prog", bindir);
    snprintf(state, sizeof state, "%s/state", tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s/empty' && cp /bin/true '%s'", bindir, state, prog);
    if (system(cmd) != 0)
        bail_out("cannot set up %s", tmp);
}

static void test_overlay(void)
{
    struct wr_shim_exe x;
    wr_error err = {0};
    char what[160];
    unsetenv("WARMRUN_SHIM_SEAL");
    is_int(wr_shim_exe_open(&x, prog, state, &err), 0, "overlay: opened (%s)", err.msg);
    is_str(wr_shim_exe_kind(&x), "overlay", "  through the overlay, the default");
    ok(x.fd >= 10 && (fcntl(x.fd, F_GETFD) & FD_CLOEXEC), "  fd %d: 10 or above, close-on-exec",
       x.fd);
    is_int(run(x.exec_path), 0, "  %s runs the program", x.exec_path);
    ok(same_bytes(x.exec_path), "  with the same bytes");
    errno = 0;
    ok(chmod(x.exec_path, 04755) < 0 && errno == EROFS, "  chmod: EROFS");
    errno = 0;
    ok(chown(x.exec_path, 1000, 1000) < 0 && errno == EROFS, "  chown: EROFS");
    errno = 0;
    ok(setxattr(x.exec_path, "user.x", "1", 1, 0) < 0 && errno == EROFS, "  setxattr: EROFS");
    errno = 0;
    ok(open(x.exec_path, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS, "  open for writing: EROFS");
    is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 0, "  nothing to check");
    struct stat st;
    ok(stat(prog, &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
       "  the program is still 0755 root");
    wr_shim_exe_close(&x);
    ok(x.fd == -1, "  closed");
}

static void test_memfd(void)
{
    struct wr_shim_exe x;
    wr_error err = {0};
    char what[160] = "";
    struct stat st;
    setenv("WARMRUN_SHIM_SEAL", "memfd", 1);
    is_int(wr_shim_exe_open(&x, prog, state, &err), 0, "memfd: opened (%s)", err.msg);
    is_str(wr_shim_exe_kind(&x), "memfd", "  a memfd, as asked");
    int fd = x.fd;
    is_int(run(x.exec_path), 0, "  %s runs the program", x.exec_path);
    ok(same_bytes(x.exec_path), "  with the same bytes");
    int seals = fcntl(x.fd, F_GET_SEALS);
    int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
    ok(seals >= 0 && (seals & want) == want, "  sealed against shrink, grow, write, more seals");
    ok(fstat(x.fd, &st) == 0 && (st.st_mode & 07777) == 0555, "  mode 0555");
    is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 0, "  pristine: kept");
    is_int(x.fd, fd, "  under the same fd");
    int w = open(x.exec_path, O_WRONLY | O_CLOEXEC);
    errno = 0;
    ok(w >= 0 && write(w, "x", 1) < 0 && errno == EPERM, "  a write is refused (EPERM)");
    if (w >= 0)
        close(w);
    /* shmem updates the times before it finds the seal: the copy may be
     * replaced for nothing, which is harmless. */
    ok(wr_shim_exe_check(&x, what, sizeof what, &err) >= 0 && same_bytes(x.exec_path),
       "  the bytes did not change");
    is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 0, "  pristine: kept");

    /* What a container's root can still do to it through /proc/self/exe. */
    ok(chmod(x.exec_path, 04555) == 0, "  chmod 04555 is possible (seals do not cover it)");
    is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 1, "  then the check replaces it");
    ok(strstr(what, "mode 4555") != NULL, "  and says why: %s", what);
    is_int(x.fd, fd, "  under the same fd number");
    ok(fstat(x.fd, &st) == 0 && (st.st_mode & 07777) == 0555 && st.st_uid == 0,
       "  the new copy is 0555 root");
    is_int(run(x.exec_path), 0, "  and runs");

    ok(chown(x.exec_path, 1000, 1000) == 0, "  chown is possible");
    is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 1, "  then the check replaces it");
    ok(fstat(x.fd, &st) == 0 && st.st_uid == 0 && st.st_gid == 0, "  the new copy is root's");

    static const unsigned char cap[20] = {1, 0, 0, 2, 0xff, 0xff, 0xff, 0xff};
    int rc = setxattr(x.exec_path, "security.capability", cap, sizeof cap, 0);
    if (rc == 0) {
        is_int(wr_shim_exe_check(&x, what, sizeof what, &err), 1,
               "  a file capability changes only its ctime: replaced too");
        ok(strstr(what, "ctime") != NULL, "  and says so: %s", what);
        ok(getxattr(x.exec_path, "security.capability", NULL, 0) < 0, "  the new copy has none");
    } else {
        skip(3, "this kernel keeps no security.* xattr on a memfd");
    }
    wr_shim_exe_close(&x);
}

static void test_fallback_and_errors(void)
{
    struct wr_shim_exe x;
    wr_error err = {0};
    char nolayer[400];
    snprintf(nolayer, sizeof nolayer, "%s/no-state", tmp);
    unsetenv("WARMRUN_SHIM_SEAL");
    is_int(wr_shim_exe_open(&x, prog, nolayer, &err), 0, "no empty layer: still opened (%s)",
           err.msg);
    is_str(wr_shim_exe_kind(&x), "memfd", "  from a memfd, the fallback");
    ok(x.overlay_error[0] != '\0', "  saying why not the overlay: %s", x.overlay_error);
    wr_shim_exe_close(&x);

    setenv("WARMRUN_SHIM_SEAL", "overlay", 1);
    memset(&err, 0, sizeof err);
    ok(wr_shim_exe_open(&x, prog, nolayer, &err) < 0 && err.msg[0],
       "WARMRUN_SHIM_SEAL=overlay: no fallback (%s)", err.msg);
    setenv("WARMRUN_SHIM_SEAL", "copy", 1);
    memset(&err, 0, sizeof err);
    ok(wr_shim_exe_open(&x, prog, state, &err) < 0 && err.errnum == EINVAL,
       "WARMRUN_SHIM_SEAL=copy: EINVAL (%s)", err.msg);
    unsetenv("WARMRUN_SHIM_SEAL");
    memset(&err, 0, sizeof err);
    ok(wr_shim_exe_open(&x, "/no/such/shim", state, &err) < 0 && err.errnum == ENOENT,
       "a missing binary: ENOENT (%s)", err.msg);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root (overlayfs, chown)\n");
        return 0;
    }
    setup();
    test_overlay();
    test_memfd();
    test_fallback_and_errors();
    tap_rm_tree(tmp);
    return done_testing();
}

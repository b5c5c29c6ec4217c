/* The shim is executed from a read-only overlay of its directory, or from a
 * sealed memfd copy, never from its host path: see shim_exe.h. */
#include "shim_exe.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even under vm.memfd_noexec=1 */
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020 /* Linux 6.3: chmod may not change the exec bits */
#endif

#define EXE_FD_MIN 10 /* above the shim's fixed descriptors (0-4) */

static const unsigned MEMFD_SEALS = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;

void wr_shim_exe_init(struct wr_shim_exe *x)
{
    memset(x, 0, sizeof *x);
    x->fd = -1;
}

const char *wr_shim_exe_kind(const struct wr_shim_exe *x)
{
    return x->kind == WR_SHIM_SEAL_OVERLAY ? "overlay" : "memfd";
}

/* Moves fd to EXE_FD_MIN or above (close-on-exec) and names it. */
static int install_fd(struct wr_shim_exe *x, int fd, wr_error *err)
{
    int lifted = fcntl(fd, F_DUPFD_CLOEXEC, EXE_FD_MIN);
    int saved = errno;
    close(fd);
    if (lifted < 0)
        return wr_error_set(err, saved, "fcntl F_DUPFD");
    x->fd = lifted;
    snprintf(x->exec_path, sizeof x->exec_path, "/proc/self/fd/%d", lifted);
    return 0;
}

/* ---- overlay ------------------------------------------------------------ */

/* Appends text to out; with escape, as a lowerdir= path (overlayfs splits
 * the value at ':' and takes '\' as an escape). Returns false when out is
 * too small. */
static bool append(char *out, size_t cap, size_t *len, const char *text, bool escape)
{
    for (const char *p = text; *p; p++) {
        if (escape && (*p == ':' || *p == '\\') && *len + 1 < cap)
            out[(*len)++] = '\\';
        if (*len + 1 >= cap)
            return false;
        out[(*len)++] = *p;
    }
    out[*len] = '\0';
    return true;
}

/* The kernel's own explanation of a failed fsconfig/fsmount, read from the
 * context's message log ("e overlayfs: ..."), appended to err. */
static int fs_error(int ctx, const char *what, wr_error *err)
{
    int saved = errno;
    char log[256] = "";
    ssize_t n = read(ctx, log, sizeof log - 1);
    if (n > 0) {
        log[n] = '\0';
        log[strcspn(log, "\n")] = '\0';
        return wr_error_set(err, saved, "%s (%s)", what, log);
    }
    return wr_error_set(err, saved, "%s", what);
}

static int open_overlay(struct wr_shim_exe *x, const char *state_dir, wr_error *err)
{
    char dir[PATH_MAX], empty[PATH_MAX], lower[2 * PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s", x->host_path);
    char *slash = strrchr(dir, '/');
    const char *name = slash + 1; /* host_path comes from realpath: absolute */
    if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int n = snprintf(empty, sizeof empty, "%s/empty", state_dir);
    if (n < 0 || (size_t)n >= sizeof empty)
        return wr_error_set(err, ENAMETOOLONG, "%s/empty", state_dir);
    /* The binary's directory on top, so that nothing in the empty layer
     * could mask the binary. Two lower layers and no upper layer: overlayfs
     * then makes its superblock read-only. */
    size_t len = 0;
    lower[0] = '\0';
    if (!append(lower, sizeof lower, &len, dir, true) ||
        !append(lower, sizeof lower, &len, ":", false) ||
        !append(lower, sizeof lower, &len, empty, true))
        return wr_error_set(err, ENAMETOOLONG, "overlay lowerdir");

    cleanup_close int ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (ctx < 0)
        return wr_error_set(err, errno, "fsopen overlay");
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
        return fs_error(ctx, "overlay lowerdir", err);
    /* xino needs nothing here; left on it may log about the layers. */
    (void)syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "xino", "off", 0);
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return fs_error(ctx, "overlay of the shim's directory", err);
    cleanup_close int mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC,
                                         MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (mnt < 0)
        return fs_error(ctx, "fsmount overlay", err);
    /* The mount is attached nowhere: this fd alone keeps it alive. */
    int fd = openat(mnt, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "open %s in the overlay", name);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return wr_error_set(err, ENOEXEC, "%s in the overlay is not a regular file", name);
    }
    return install_fd(x, fd, err);
}

/* ---- memfd -------------------------------------------------------------- */

static int make_memfd(const char *host_path, int *out, struct stat *sealed, wr_error *err)
{
    struct stat st;
    cleanup_close int src = open(host_path, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) < 0)
        return wr_error_set(err, errno, "open %s", host_path);
    if (!S_ISREG(st.st_mode))
        return wr_error_set(err, ENOEXEC, "%s is not a regular file", host_path);
    cleanup_close int mfd =
        memfd_create("warmrun-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (mfd < 0 && errno == EINVAL) /* a kernel before 6.3: no MFD_EXEC, and none needed */
        mfd = memfd_create("warmrun-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return wr_error_set(err, errno, "memfd_create");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wr_error_set(err, errno, "copy %s into a memfd", host_path);
        if (n == 0)
            return wr_error_set(err, EIO, "%s shrank while it was copied", host_path);
    }
    if (fchmod(mfd, 0555) < 0)
        return wr_error_set(err, errno, "fchmod memfd");
    /* Before F_SEAL_SEAL; older kernels do not know it. */
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_EXEC) < 0 && errno != EINVAL)
        return wr_error_set(err, errno, "F_SEAL_EXEC");
    if (fcntl(mfd, F_ADD_SEALS, MEMFD_SEALS) < 0)
        return wr_error_set(err, errno, "seal the memfd");
    if (fstat(mfd, sealed) < 0)
        return wr_error_set(err, errno, "fstat memfd");
    *out = steal_fd(&mfd);
    return 0;
}

static int open_memfd(struct wr_shim_exe *x, wr_error *err)
{
    int fd;
    if (make_memfd(x->host_path, &fd, &x->sealed, err) < 0)
        return -1;
    return install_fd(x, fd, err);
}

/* ---- the interface ------------------------------------------------------ */

int wr_shim_exe_open(struct wr_shim_exe *x, const char *host_path, const char *state_dir,
                     wr_error *err)
{
    wr_shim_exe_init(x);
    const char *mode = getenv("WARMRUN_SHIM_SEAL");
    bool overlay = !mode || !mode[0] || strcmp(mode, "overlay") == 0;
    bool fallback = !mode || !mode[0];
    if (mode && mode[0] && !overlay && strcmp(mode, "memfd") != 0)
        return wr_error_set(err, EINVAL, "WARMRUN_SHIM_SEAL=%s: expected overlay or memfd", mode);
    if (!realpath(host_path, x->host_path))
        return wr_error_set(err, errno, "shim %s", host_path);
    if (overlay) {
        x->kind = WR_SHIM_SEAL_OVERLAY;
        if (open_overlay(x, state_dir, err) == 0)
            return 0;
        if (!fallback)
            return wr_error_prefix(err, "shim %s", x->host_path);
        snprintf(x->overlay_error, sizeof x->overlay_error, "%s", err->msg);
    }
    x->kind = WR_SHIM_SEAL_MEMFD;
    if (open_memfd(x, err) < 0)
        return wr_error_prefix(err, "shim %s", x->host_path);
    return 0;
}

int wr_shim_exe_check(struct wr_shim_exe *x, char *what, size_t cap, wr_error *err)
{
    struct stat st;
    if (x->kind != WR_SHIM_SEAL_MEMFD)
        return 0;
    if (fstat(x->fd, &st) < 0)
        return wr_error_set(err, errno, "fstat the shim's memfd");
    const struct stat *s = &x->sealed;
    if (st.st_mode == s->st_mode && st.st_uid == s->st_uid && st.st_gid == s->st_gid &&
        st.st_ctim.tv_sec == s->st_ctim.tv_sec && st.st_ctim.tv_nsec == s->st_ctim.tv_nsec)
        return 0;
    snprintf(what, cap, "mode %04o owner %u:%u, sealed as %04o %u:%u%s",
             (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
             (unsigned)(s->st_mode & 07777), (unsigned)s->st_uid, (unsigned)s->st_gid,
             st.st_mode == s->st_mode && st.st_uid == s->st_uid && st.st_gid == s->st_gid
                 ? " (its ctime changed: an xattr or its times)"
                 : "");
    int fresh;
    struct stat sealed;
    if (make_memfd(x->host_path, &fresh, &sealed, err) < 0)
        return wr_error_prefix(err, "replace the shim's memfd");
    /* Same number, so exec_path stays valid; containers that hold the old
     * copy keep it until they exit. */
    int rc = dup3(fresh, x->fd, O_CLOEXEC);
    int saved = errno;
    close(fresh);
    if (rc < 0)
        return wr_error_set(err, saved, "dup3");
    x->sealed = sealed;
    return 1;
}

void wr_shim_exe_close(struct wr_shim_exe *x)
{
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
}

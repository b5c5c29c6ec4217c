/* Paths the image controls, resolved without leaving the container's
 * root. A working directory ("-w", the image's WorkingDir) is resolved as
 * if the root were "/" and through no magic link (/proc/self/fd/N,
 * /proc/1/cwd, /proc/self/root), so that no descriptor pid 1 holds and no
 * other process's root or cwd can lead out (CVE-2024-21626). A mount
 * target (the root's proc, sys, dev) must be a real directory right under
 * the root: an image that plants a symlink there would have us mount over
 * whatever it points at (CVE-2021-30465). */

#include "container_paths.h"
#include "lib/openat2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* pid 1's working directory is its root ("/") until the activation moves
 * it: AT_FDCWD with RESOLVE_IN_ROOT resolves inside the container's root
 * without a descriptor of its own. */
static int open_in_root(const char *path)
{
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return wr_openat2(AT_FDCWD, path, &how);
}

/* docker creates a missing working directory and its parents (0755):
 * each one made by mkdirat in its parent, itself resolved in the root. */
static int make_cwd(const char *cwd, wr_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s", cwd);
    if (n < 0 || (size_t)n >= sizeof path)
        return wr_error_set(err, ENAMETOOLONG, "working directory");
    int parent = -1; /* -1: the root, i.e. AT_FDCWD */
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char end = *p;
        *p = '\0';
        char *name = strrchr(path, '/') + 1;
        int fd = name[0] ? open_in_root(path) : -1;
        if (name[0] && fd < 0 && errno == ENOENT) {
            if (mkdirat(parent >= 0 ? parent : AT_FDCWD, name, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                if (parent >= 0)
                    close(parent);
                return wr_error_set(err, e, "mkdir %s", path);
            }
            fd = open_in_root(path);
        }
        if (name[0] && fd < 0) {
            int e = errno;
            if (parent >= 0)
                close(parent);
            return wr_error_set(err, e, "working directory %s", path);
        }
        if (fd >= 0) {
            if (parent >= 0)
                close(parent);
            parent = fd;
        }
        *p = end;
        if (end == '\0')
            return parent; /* the last component: the directory itself */
    }
}

int wr_enter_cwd(const char *cwd, wr_error *err)
{
    /* Already there (see open_in_root): the common case costs nothing. */
    if (cwd[0] == '/' && cwd[1] == '\0')
        return 0;
    if (cwd[0] != '/')
        return wr_error_set(err, EINVAL, "working directory %s is not absolute", cwd);
    int fd = open_in_root(cwd);
    if (fd < 0 && errno == ENOENT)
        fd = make_cwd(cwd, err);
    else if (fd < 0)
        return wr_error_set(err, errno, "working directory %s", cwd);
    if (fd < 0)
        return -1;
    int rc = fchdir(fd) < 0 ? wr_error_set(err, errno, "chdir %s", cwd) : 0;
    close(fd);
    return rc;
}

int wr_mount_target_open(int root_fd, const char *name, mode_t mode, wr_error *err)
{
    if (mkdirat(root_fd, name, mode) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir /%s", name);
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = wr_openat2(root_fd, name, &how);
    if (fd >= 0)
        return fd;
    if (errno == ELOOP || errno == ENOTDIR)
        return wr_error_set(err, 0,
                            "the image's /%s is a symbolic link or not a directory: refused "
                            "(a mount there would land wherever it points)",
                            name);
    return wr_error_set(err, errno, "open /%s in the container's root", name);
}

int wr_mount_on_fd(const char *src, int target_fd, const char *name, const char *type,
                   unsigned long flags, const char *data, wr_error *err)
{
    /* mount(2) follows the magic link to exactly the directory the
     * descriptor holds, wherever the name now points. */
    char target[32];
    snprintf(target, sizeof target, "/proc/self/fd/%d", target_fd);
    if (mount(src, target, type, flags, data) < 0)
        return wr_error_set(err, errno, "mount %s on /%s", type ? type : src, name);
    return 0;
}

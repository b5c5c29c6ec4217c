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

/* Linux's bound on symbolic links in one lookup (MAXSYMLINKS). */
#define LINKS_MAX 40

/* A component that exists as a symbolic link to a missing target (the
 * lookup said ENOENT, mkdir EEXIST): the walk goes on at its target, the
 * rest of the path appended, as Docker creates "/tempest ->
 * /var/lib/tempest". path ends at the link; rest is what followed it. The new path is only a
 * string: each of its prefixes is still opened from the root with RESOLVE_IN_ROOT, so an absolute
 * target or
 * ".." cannot lead out, and a magic link is still refused. */
static int follow_link(int parent, char *path, const char *rest, wr_error *err)
{
    char target[PATH_MAX], next[PATH_MAX];
    char *name = strrchr(path, '/') + 1;
    ssize_t len = readlinkat(parent >= 0 ? parent : AT_FDCWD, name, target, sizeof target - 1);
    if (len < 0)
        return wr_error_set(err, errno == EINVAL ? EEXIST : errno, "mkdir %s", path);
    target[len] = '\0';
    name[0] = '\0'; /* path is now the link's directory, with its '/' */
    int n = snprintf(next, sizeof next, "%s%s%s%s", target[0] == '/' ? "" : path, target,
                     rest[0] ? "/" : "", rest);
    if (n < 0 || (size_t)n >= sizeof next)
        return wr_error_set(err, ENAMETOOLONG, "working directory");
    memcpy(path, next, (size_t)n + 1);
    return 0;
}

/* docker creates a missing working directory and its parents (0755):
 * each one made by mkdirat in its parent, itself resolved in the root; a
 * symbolic link to a missing directory is created through (follow_link). */
static int make_cwd(const char *cwd, wr_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s", cwd);
    if (n < 0 || (size_t)n >= sizeof path)
        return wr_error_set(err, ENAMETOOLONG, "working directory");
    int parent = -1; /* -1: the root, i.e. AT_FDCWD */
    int links = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char end = *p;
        *p = '\0';
        char *name = strrchr(path, '/') + 1;
        int fd = name[0] ? open_in_root(path) : -1;
        if (name[0] && fd < 0 && errno == ENOENT) {
            if (mkdirat(parent >= 0 ? parent : AT_FDCWD, name, 0755) < 0) {
                int e = errno;
                /* There but not found: a link to a missing target. */
                int rc = e != EEXIST ? wr_error_set(err, e, "mkdir %s", path)
                         : ++links > LINKS_MAX
                             ? wr_error_set(err, ELOOP, "working directory %s", cwd)
                             : follow_link(parent, path, end ? p + 1 : "", err);
                if (parent >= 0)
                    close(parent);
                if (rc < 0)
                    return -1;
                parent = -1; /* the new path: walked again from the root */
                p = path;
                continue;
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

int wr_dir_in_root(const char *path, wr_error *err)
{
    int fd = open_in_root(path);
    if (fd >= 0)
        return fd;
    if (errno != ENOENT)
        return wr_error_set(err, errno, "%s", path);
    return make_cwd(path, err);
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

int wr_cwd_enter(int dir_fd, const char *name, wr_error *err)
{
    int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (saved < 0)
        return wr_error_set(err, errno, "open the working directory");
    if (fchdir(dir_fd) < 0) {
        wr_error_set(err, errno, "enter /%s", name);
        close(saved);
        return -1;
    }
    return saved;
}

int wr_cwd_leave(int saved, int rc, const char *name, wr_error *err)
{
    if (fchdir(saved) < 0 && rc == 0)
        rc = wr_error_set(err, errno, "back from /%s", name);
    close(saved);
    return rc;
}

int wr_mount_on_fd(const char *src, int target_fd, const char *name, const char *type,
                   unsigned long flags, const char *data, wr_error *err)
{
    /* mount(2) onto "." with the descriptor as the working directory:
     * exactly the directory it holds, wherever the name now points, as
     * through /proc/self/fd/N, without that walk (and N's proc inode, kept
     * until pid 1's exit and invalidated then). */
    int saved = wr_cwd_enter(target_fd, name, err);
    if (saved < 0)
        return -1;
    int rc = 0;
    if (mount(src, ".", type, flags, data) < 0)
        rc = wr_error_set(err, errno, "mount %s on /%s", type ? type : src, name);
    return wr_cwd_leave(saved, rc, name, err);
}

int wr_bind_file_on_fd(const char *src, int target_fd, const char *name, bool read_only,
                       wr_error *err)
{
    int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return wr_error_set(err, errno, "clone %s", src);
    /* The clone keeps its source mount's flags (the tmpfs's nosuid,nodev);
     * read-only is the clone's own, set before anyone can see it. */
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
    };
    int rc = 0;
    if (read_only && mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        rc = wr_error_set(err, errno, "make /%s read-only", name);
    else if (move_mount(tree, "", target_fd, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        rc = wr_error_set(err, errno, "bind %s on /%s", src, name);
    close(tree);
    return rc;
}

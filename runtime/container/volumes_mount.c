/* See volumes_mount.h. */
#include "volumes_mount.h"

#include "container_paths.h"
#include "lib/openat2.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

void wr_volume_trees_close(struct wr_volume_trees *t)
{
    for (size_t i = 0; i < WR_VOLUMES_MAX; i++) {
        if (t->fd[i] >= 0)
            close(t->fd[i]);
        t->fd[i] = -1;
    }
}

static int open_bind(const struct wr_volume *v, int *tree, bool *is_dir, wr_error *err)
{
    /* The source as it was resolved at pool create: a symbolic link in it
     * since is refused, not followed. */
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int src = wr_openat2(AT_FDCWD, v->source, &how);
    if (src < 0)
        return wr_error_set(err, errno, "bind source %s", v->source);
    struct stat st;
    if (fstat(src, &st) < 0) {
        int e = errno;
        close(src);
        return wr_error_set(err, e, "bind source %s", v->source);
    }
    *is_dir = S_ISDIR(st.st_mode);
    *tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    close(src);
    if (*tree < 0)
        return wr_error_set(err, errno, "bind %s", v->source);
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (v->readonly ? MOUNT_ATTR_RDONLY : 0),
    };
    if (mount_setattr(*tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return wr_error_set(err, errno, "bind %s: nosuid, nodev%s", v->source,
                            v->readonly ? ", read-only" : "");
    return 0;
}

int wr_volumes_open(const struct wr_volumes *vs, struct wr_volume_trees *t, wr_error *err)
{
    for (size_t i = 0; i < WR_VOLUMES_MAX; i++)
        t->fd[i] = -1;
    for (size_t i = 0; vs && i < vs->n; i++)
        if (vs->v[i].type == WR_VOLUME_BIND &&
            open_bind(&vs->v[i], &t->fd[i], &t->is_dir[i], err) < 0) {
            wr_volume_trees_close(t);
            return -1;
        }
    return 0;
}

/* A detached tmpfs: Docker's noexec, nosuid, nodev, with its size and mode. */
static int make_tmpfs(const struct wr_volume *v, uint32_t uid_base, wr_error *err)
{
    char text[32];
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return wr_error_set(err, errno, "tmpfs for %s", v->target);
    snprintf(text, sizeof text, "%o", v->mode);
    int rc = fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0);
    if (rc == 0)
        rc = fsconfig(fs, FSCONFIG_SET_STRING, "mode", text, 0);
    if (rc == 0 && v->size) {
        snprintf(text, sizeof text, "%" PRIu64, v->size);
        rc = fsconfig(fs, FSCONFIG_SET_STRING, "size", text, 0);
    }
    if (rc == 0 && uid_base) {
        snprintf(text, sizeof text, "%" PRIu32, uid_base);
        rc = fsconfig(fs, FSCONFIG_SET_STRING, "uid", text, 0);
        if (rc == 0)
            rc = fsconfig(fs, FSCONFIG_SET_STRING, "gid", text, 0);
    }
    if (rc == 0)
        rc = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    int mnt = rc < 0 ? -1
                     : fsmount(fs, FSMOUNT_CLOEXEC,
                               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                   (v->readonly ? MOUNT_ATTR_RDONLY : 0));
    int e = errno;
    close(fs);
    if (mnt < 0)
        return wr_error_set(err, e, "tmpfs for %s", v->target);
    return mnt;
}

/* Makes a missing file target (an empty file, 0644, as Docker does for a
 * file bind): its directory made or opened inside the root, the file
 * created there, never through a symbolic link. */
static int make_file_target(const char *target, wr_error *err)
{
    char dir[WR_VOLUME_PATH_MAX + 1];
    snprintf(dir, sizeof dir, "%s", target);
    char *slash = strrchr(dir, '/');
    const char *name = target + (slash - dir) + 1;
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    int parent = wr_dir_in_root(dir, err);
    if (parent < 0)
        return -1;
    int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(parent);
    if (fd < 0 && e != EEXIST)
        return wr_error_set(err, e, "create %s", target);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* The target, inside the root, made when missing; refused in /proc and
 * /sys (their files are the kernel's, not the image's) and at /dev itself. */
static int open_target(const struct wr_volume *v, bool want_dir, wr_error *err)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd = wr_openat2(AT_FDCWD, v->target, &how);
    if (fd < 0 && errno == ENOENT) {
        if (want_dir)
            fd = wr_dir_in_root(v->target, err);
        else if (make_file_target(v->target, err) == 0)
            fd = wr_openat2(AT_FDCWD, v->target, &how);
        if (fd < 0 && !err->msg[0])
            wr_error_set(err, errno, "volume target %s", v->target);
        if (fd < 0)
            return wr_error_prefix(err, "volume target %s", v->target);
    } else if (fd < 0) {
        return wr_error_set(err, errno, "volume target %s", v->target);
    }
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return wr_error_set(err, e, "volume target %s", v->target);
    }
    if (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC) {
        close(fd);
        return wr_error_code(err, EPERM, "volume target %s is in /proc or /sys: refused",
                             v->target);
    }
    /* /dev itself: covered, its nodes (what /proc's masks bind, what the
     * workload opens) would be gone. Below it (say /dev/shm) is fine. */
    struct stat dev;
    int devfd = wr_openat2(AT_FDCWD, "/dev", &how);
    bool is_dev =
        devfd >= 0 && fstat(devfd, &dev) == 0 && dev.st_dev == st.st_dev && dev.st_ino == st.st_ino;
    if (devfd >= 0)
        close(devfd);
    if (is_dev) {
        close(fd);
        return wr_error_code(err, EPERM,
                             "volume target %s is the container's /dev: refused (one below it, "
                             "say /dev/shm, is allowed)",
                             v->target);
    }
    if (S_ISDIR(st.st_mode) != want_dir) {
        close(fd);
        return wr_error_set(
            err, want_dir ? ENOTDIR : EISDIR, "volume target %s is %s, its source %s", v->target,
            want_dir ? "not a directory" : "a directory", want_dir ? "is one" : "is not");
    }
    return fd;
}

int wr_volumes_attach(const struct wr_volumes *vs, struct wr_volume_trees *t, uint32_t uid_base,
                      wr_error *err)
{
    int rc = 0;
    for (size_t i = 0; vs && i < vs->n && rc == 0; i++) {
        const struct wr_volume *v = &vs->v[i];
        int mnt = v->type == WR_VOLUME_BIND ? t->fd[i] : make_tmpfs(v, uid_base, err);
        if (mnt < 0) {
            rc = -1;
            break;
        }
        err->msg[0] = '\0';
        int target = open_target(v, v->type == WR_VOLUME_TMPFS || t->is_dir[i], err);
        if (target < 0) {
            rc = -1;
        } else if (move_mount(mnt, "", target, "",
                              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
            rc = wr_error_set(err, errno, "mount on %s", v->target);
        }
        if (target >= 0)
            close(target);
        if (v->type == WR_VOLUME_TMPFS)
            close(mnt);
    }
    wr_volume_trees_close(t);
    return rc;
}

/* See sysfs_mount.h. Why: sysfs's superblocks are keyed by network
 * namespace, so each container's mount(2) of sysfs made a new superblock:
 * sget_fc walks every sysfs superblock of the host (one per live
 * container) and alloc_super registers a memcg-aware shrinker and two
 * list_lrus, which the teardown frees again. A container that enters a
 * recycled namespace clones the mount its first tenant made instead
 * (docs/benchmarks.md, "sysfs kept with a recycled namespace"). */
#include "sysfs_mount.h"

#include "container_paths.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#define SYSFS_ATTR (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

static int kept = -1;

int wr_sysfs_kept_take(void)
{
    int fd = kept;
    kept = -1;
    return fd;
}

/* A new detached sysfs mount of our network namespace, its superblock
 * read-only and its source "sysfs" as mount(2) makes them, so that
 * /proc/self/mountinfo reads the same either way. -1 on any failure. */
static int new_detached(void)
{
    cleanup_close int ctx = fsopen("sysfs", FSOPEN_CLOEXEC);
    if (ctx < 0 || fsconfig(ctx, FSCONFIG_SET_STRING, "source", "sysfs", 0) < 0 ||
        fsconfig(ctx, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
        fsconfig(ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return -1;
    return fsmount(ctx, FSMOUNT_CLOEXEC, SYSFS_ATTR);
}

/* A clone of the detached sysfs mount m, its flags (re)set to the four of
 * SYSFS_ATTR and relatime, attached on target_fd. 0, or -1 with nothing
 * attached. */
static int attach_clone(int m, int target_fd)
{
    cleanup_close int tree = open_tree(m, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    struct statfs sfs;
    if (tree < 0 || fstatfs(tree, &sfs) < 0 || sfs.f_type != SYSFS_MAGIC)
        return -1;
    struct mount_attr attr = {.attr_set = SYSFS_ATTR | MOUNT_ATTR_RELATIME,
                              .attr_clr = MOUNT_ATTR__ATIME};
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return -1;
    return move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

int wr_sysfs_mount(const struct wr_container_config *cfg, int target_fd, wr_error *err)
{
    if (cfg->sysfs_fd >= 0) {
        int rc = attach_clone(cfg->sysfs_fd, target_fd);
        close(cfg->sysfs_fd);
        if (rc == 0)
            return 0;
    } else if (cfg->sysfs_keep) {
        cleanup_close int m = new_detached();
        if (m >= 0 && attach_clone(m, target_fd) == 0) {
            kept = steal_fd(&m);
            return 0;
        }
    }
    /* sysfs shows the network devices of the mounting netns: ours, only lo. */
    return wr_mount_on_fd("sysfs", target_fd, "sys", "sysfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, err);
}

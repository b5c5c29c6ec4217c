/* The container's root filesystem: a size-limited tmpfs holding a fresh
 * writable layer, overlayfs over the image layers, the API filesystems, and
 * pivot_root into it. Everything is mounted inside the container's own mount
 * namespace, so the kernel tears it all down when the container dies: the
 * host has nothing to unmount. */
#include "rootfs.h"

#include "container.h"

#include "devfs.h"
#include "etc_files.h"
#include "lo_multicast.h"
#include "container_fds.h"
#include "container_paths.h"
#include "proc_mask.h"
#include "sysfs_mount.h"
#include "userns_enter.h"
#include "volumes_mount.h"

#include "lib/cgroup.h"
#include "lib/cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* On the writable layer's tmpfs, beside upper/, work/ and root/: what the
 * masked directories of /proc and /sys show (proc_mask.c), and the
 * directory under /sys/fs/cgroup (wants_cgroup_dir). */
#define MASK_DIR   "empty"
#define CGROUP_DIR "cgroup"

static int mount_at(const char *src, const char *target, const char *type, unsigned long flags,
                    const char *data, wr_error *err)
{
    if (mount(src, target, type, flags, data) < 0)
        return wr_error_set(err, errno, "mount %s on %s", type ? type : "(remount)", target);
    return 0;
}

/* Creates dir (one level) unless it exists; the image may lack it. */
static int ensure_dir(const char *path, mode_t mode, wr_error *err)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    return 0;
}

static int join(char *out, const char *a, const char *b, wr_error *err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    if (n < 0 || n >= PATH_MAX)
        return wr_error_set(err, ENAMETOOLONG, "path %s/%s", a, b);
    return 0;
}

static int mount_overlay(const struct wr_container_config *cfg, char *root, wr_error *err)
{
    char upper[PATH_MAX], work[PATH_MAX], opts[4096];
    char size[64];

    snprintf(size, sizeof size, "size=%llu,mode=0755", (unsigned long long)cfg->tmpfs_bytes);
    if (mount_at("tmpfs", cfg->staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, size, err) < 0)
        return -1;
    if (join(upper, cfg->staging_dir, "upper", err) < 0 ||
        join(work, cfg->staging_dir, "work", err) < 0 ||
        join(root, cfg->staging_dir, "root", err) < 0)
        return -1;
    if (ensure_dir(upper, 0755, err) < 0 || ensure_dir(work, 0700, err) < 0 ||
        ensure_dir(root, 0755, err) < 0)
        return -1;
    const char *lowerdir = cfg->lowerdir;
    char idmapped[4096];
    if (cfg->userns_fd >= 0) {
        /* The layers, owned by host root, idmapped into the namespace; the
         * fresh upper layer owned by its root. */
        if (wr_userns_idmap_layers(cfg->lowerdir, cfg->staging_dir, cfg->userns_fd, idmapped,
                                   sizeof idmapped, err) < 0)
            return -1;
        lowerdir = idmapped;
        if (chown(upper, cfg->security->userns_base, cfg->security->userns_base) < 0)
            return wr_error_set(err, errno, "chown %s", upper);
    }
    int n =
        snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lowerdir, upper, work);
    if (n < 0 || (size_t)n >= sizeof opts)
        return wr_error_set(err, E2BIG, "overlay options longer than a page");
    /* nodev: a device node the workload makes (CAP_MKNOD) cannot be
     * opened; there is no device cgroup to stop it otherwise. */
    return mount_at("overlay", root, "overlay", MS_NODEV, opts, err);
}

/* Each target is opened right under the root without following a symlink
 * and mounted on through that descriptor: the image decides what its
 * /proc, /sys and /dev are, and one that is a symlink (to /etc, or to
 * "../../..", out of the root into our staging tmpfs or the host's tree)
 * is refused, never followed. */
static int mount_api_filesystems(const struct wr_container_config *cfg, const char *root,
                                 wr_error *err)
{
    const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return wr_error_set(err, errno, "open %s", root);
    int rc = -1, fd = wr_mount_target_open(root_fd, "proc", 0555, err);
    if (fd < 0 || wr_mount_on_fd("proc", fd, "proc", "proc", safe, NULL, err) < 0)
        goto out;
    close(fd);
    fd = wr_mount_target_open(root_fd, "sys", 0555, err);
    if (fd < 0 || wr_sysfs_mount(cfg, fd, err) < 0)
        goto out;
    close(fd);
    fd = wr_mount_target_open(root_fd, "dev", 0755, err);
    if (fd < 0 || wr_devfs_setup(root_fd, fd, cfg->userns_fd >= 0 ? cfg->security->userns_base : 0,
                                 cfg->security, err) < 0)
        goto out;
    /* /etc/hosts, /etc/hostname, /etc/resolv.conf: on the same terms. */
    if (wr_etc_files_setup(cfg, root_fd, err) < 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    close(root_fd);
    return rc;
}

/* pivot_root(".", ".") stacks the old root under the new one at "/";
 * detaching it leaves no path back to the host's tree. */
static int enter_root(const char *root, wr_error *err)
{
    if (chdir(root) < 0)
        return wr_error_set(err, errno, "chdir %s", root);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return wr_error_set(err, errno, "pivot_root %s", root);
    if (umount2(".", MNT_DETACH) < 0)
        return wr_error_set(err, errno, "detach the old root");
    if (chdir("/") < 0)
        return wr_error_set(err, errno, "chdir /");
    return 0;
}

/* A detached clone (a mount of its own, flags attr_set) of a directory
 * made on the writable layer's tmpfs: for what must lie out of the new
 * root's tree and needs no superblock of its own. */
static int open_staging_tree(const struct wr_container_config *cfg, const char *name, mode_t mode,
                             uint64_t attr_set, wr_error *err)
{
    char dir[PATH_MAX];
    if (join(dir, cfg->staging_dir, name, err) < 0 || ensure_dir(dir, mode, err) < 0)
        return -1;
    int tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        return wr_error_set(err, errno, "clone %s", dir);
    struct mount_attr attr = {.attr_set = attr_set};
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
        int e = errno;
        close(tree);
        return wr_error_set(err, e, "set the flags of %s", dir);
    }
    return tree;
}

/* On v1 a container sees its hierarchies under /sys/fs/cgroup, one
 * directory each, made and mounted on by container_resources.c's
 * mount_cgroups (which remounts it read-only) in the directory attached
 * here: the same condition as its call in container_main.c. */
static bool wants_cgroup_dir(const struct wr_container_config *cfg)
{
    return cfg->resources && cfg->cgroup && cfg->cgroup->v1_mask;
}

int wr_rootfs_setup(const struct wr_container_config *cfg, wr_error *err)
{
    char root[PATH_MAX];

    /* Nothing we mount may propagate back to the host. */
    if (mount_at(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err) < 0)
        return -1;
    if (mount_overlay(cfg, root, err) < 0)
        return wr_error_prefix(err, "root filesystem");
    if (mount_api_filesystems(cfg, root, err) < 0)
        return -1;
    /* The masks' empty directory lies out of the new root's tree: cloned
     * now (a detached mount, read-only), attached after pivot_root. */
    cleanup_close int empty_tree = -1, cgroup_tree = -1;
    const struct wr_security_profile *sec = cfg->security;
    const uint64_t safe = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if ((!sec || !sec->privileged) &&
        (empty_tree = open_staging_tree(cfg, MASK_DIR, 0555, safe | MOUNT_ATTR_RDONLY, err)) < 0)
        return -1;
    if (wants_cgroup_dir(cfg) &&
        (cgroup_tree = open_staging_tree(cfg, CGROUP_DIR, 0755, safe, err)) < 0)
        return -1;
    /* Bind sources are the host's: opened while its tree is there. */
    struct wr_volume_trees trees;
    if (wr_volumes_open(cfg->volumes, &trees, err) < 0)
        return wr_error_prefix(err, "volumes");
    if (enter_root(root, err) < 0) {
        wr_volume_trees_close(&trees);
        return -1;
    }
    /* The shim's 0, 1 and 2 are host files (the spawner's stderr may be a
     * log file or a terminal): gone before anything of the image is read. */
    if (wr_stdio_to_dev_null(err) < 0) {
        wr_volume_trees_close(&trees);
        return -1;
    }
    /* While /proc is the container's own and /proc/sys still writable:
     * before the masks, and before a volume could lie over /proc. A
     * failure costs only the namespace's recycling (lo_multicast.h). */
    if (cfg->lo_legacy_multicast)
        (void)wr_lo_multicast_legacy();
    /* After the runtime's /etc files (a volume there wins, as in Docker),
     * before the read-only remount (which leaves a volume's own flags). */
    uint32_t uid_base = cfg->userns_fd >= 0 ? cfg->security->userns_base : 0;
    if (wr_volumes_attach(cfg->volumes, &trees, uid_base, err) < 0)
        return wr_error_prefix(err, "volumes");
    if ((!sec || !sec->privileged) && wr_mask_kernel_paths(steal_fd(&empty_tree), err) < 0)
        return -1;
    if (sec && sec->read_only &&
        mount_at(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL, err) < 0)
        return wr_error_prefix(err, "read-only root");
    /* Last, as the tmpfs it replaces was: over a volume there, if any. */
    if (cgroup_tree >= 0 &&
        move_mount(cgroup_tree, "", AT_FDCWD, "/sys/fs/cgroup", MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return wr_error_set(err, errno, "attach /sys/fs/cgroup");
    return 0;
}

/* /dev of a container: a small tmpfs with only the safe character devices,
 * its own devpts instance, /dev/shm and /dev/mqueue, and the usual links. */
#include "devfs.h"

#include "container_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct device_node {
    const char *name;
    unsigned major, minor;
};

static const struct device_node safe_devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};
#define N_SAFE_DEVICES (sizeof safe_devices / sizeof safe_devices[0])

static const struct {
    const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

static int path_in(char *out, const char *dir, const char *name, wr_error *err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX)
        return wr_error_set(err, ENAMETOOLONG, "path %s/%s", dir, name);
    return 0;
}

/* Where the nodes are made when they need a tmpfs of their own, under
 * dev_dir; gone once they are bound (make_private_devices). */
#define NODES_DIR ".nodes"

/* The container's own node for d, made in nodes (dev_dir itself, or the
 * private tmpfs under it), then bound onto path (the node itself, or a
 * placeholder file in dev_dir). A bind mount keeps the flags its source's
 * mount had when it was made, so the node opens once /dev is nodev; and it
 * is a new inode, so chmod, chown or unlink in the container never reach a
 * host inode (a bind of the host's node would: a chmod of /dev/null inside
 * was a chmod of the host's). */
static int make_device(const char *dev_dir, const char *nodes, const struct device_node *d,
                       uint32_t root_id, wr_error *err)
{
    char node[PATH_MAX], path[PATH_MAX];
    if (path_in(node, nodes, d->name, err) < 0 || path_in(path, dev_dir, d->name, err) < 0)
        return -1;
    if (mknod(node, S_IFCHR | 0666, makedev(d->major, d->minor)) < 0)
        return wr_error_set(err, errno, "mknod %s", node);
    if (root_id && chown(node, root_id, root_id) < 0)
        return wr_error_set(err, errno, "chown %s", node);
    if (strcmp(node, path) != 0 && mknod(path, S_IFREG | 0666, 0) < 0)
        return wr_error_set(err, errno, "create %s", path);
    if (mount(node, path, NULL, MS_BIND, NULL) < 0)
        return wr_error_set(err, errno, "bind %s", node);
    return 0;
}

/* A workload with CAP_DAC_READ_SEARCH of the host's user namespace opens
 * any inode of a filesystem by its file handle (open_by_handle_at) through
 * any mount of that filesystem, with that mount's flags: through a node's
 * bind (not nodev) it would open a node it made itself on /dev (mknod is
 * Docker's default), the host's disk say. Its nodes get a tmpfs of their
 * own, as before the cheaper teardown: room for the six and nothing more,
 * detached once they are bound, so that no directory of it is reachable.
 * In a user namespace the kernel refuses such a handle (the tmpfs is the
 * host's), and without the capability it refuses every handle. */
static bool needs_private_nodes(const struct wr_security_profile *sec)
{
    return sec && (sec->privileged || (sec->caps & (1ULL << CAP_DAC_READ_SEARCH)));
}

static int make_nodes_in(const char *dev_dir, const char *nodes, uint32_t root_id, wr_error *err)
{
    mode_t mask = umask(0); /* modes 0666, as Docker's */
    int rc = 0;
    for (size_t i = 0; i < N_SAFE_DEVICES && rc == 0; i++)
        rc = make_device(dev_dir, nodes, &safe_devices[i], root_id, err);
    umask(mask);
    return rc;
}

static int make_private_devices(const char *dev_dir, uint32_t root_id, wr_error *err)
{
    char nodes[PATH_MAX];
    if (path_in(nodes, dev_dir, NODES_DIR, err) < 0)
        return -1;
    if (mkdir(nodes, 0700) < 0)
        return wr_error_set(err, errno, "mkdir %s", nodes);
    /* nr_inodes counts the root directory: the six nodes fill it. */
    if (mount("tmpfs", nodes, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=4k,nr_inodes=7") < 0)
        return wr_error_set(err, errno, "mount tmpfs on %s", nodes);
    if (make_nodes_in(dev_dir, nodes, root_id, err) < 0)
        return -1;
    if (umount2(nodes, MNT_DETACH) < 0)
        return wr_error_set(err, errno, "detach %s", nodes);
    if (rmdir(nodes) < 0)
        return wr_error_set(err, errno, "rmdir %s", nodes);
    return 0;
}

/* The six nodes are made on /dev's own tmpfs while it is mounted without
 * nodev, each bound onto itself, and /dev is remounted nodev at once
 * (before anything of the image's runs): one tmpfs superblock, two mounts
 * and six files fewer per container than a private tmpfs for the nodes
 * bound onto placeholder files (docs/security.md, "CAP_MKNOD without a
 * device cgroup"), except where needs_private_nodes says why not. Under
 * the binds lie the same nodes on a nodev mount: unmounting a bind
 * (CAP_SYS_ADMIN) leaves a node that does not open. */
static int make_devices(const char *dev_dir, uint32_t root_id,
                        const struct wr_security_profile *sec, wr_error *err)
{
    int rc = needs_private_nodes(sec) ? make_private_devices(dev_dir, root_id, err)
                                      : make_nodes_in(dev_dir, dev_dir, root_id, err);
    if (rc < 0)
        return -1;
    /* From here on a node made under /dev does not open. */
    if (mount(NULL, dev_dir, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
        return wr_error_set(err, errno, "remount /dev nodev");
    return 0;
}

static int mount_sub(const char *dev_dir, const char *name, const char *type, unsigned long flags,
                     const char *data, mode_t mode, wr_error *err)
{
    char path[PATH_MAX];
    if (path_in(path, dev_dir, name, err) < 0)
        return -1;
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir %s", path);
    if (mount(type, path, type, flags, data) < 0)
        return wr_error_set(err, errno, "mount %s on %s", type, path);
    return 0;
}

/* /dev/shm: a directory of /dev's own tmpfs (64 MiB, as Docker's separate
 * /dev/shm), bound onto itself nosuid,nodev,noexec, instead of a tmpfs of
 * its own: one superblock fewer per container, and every superblock costs
 * its set-up, its shutdown, and a share of every memory cgroup's creation
 * and removal on the host (shrinker maps and list_lrus, sized by all the
 * host's superblocks). The directory is owned by the container's root,
 * mode 1777, as the tmpfs's root was. */
static int make_shm(const char *dev_dir, uint32_t root_id, wr_error *err)
{
    char path[PATH_MAX];
    if (path_in(path, dev_dir, "shm", err) < 0)
        return -1;
    if (mkdir(path, 01777) < 0)
        return wr_error_set(err, errno, "mkdir %s", path);
    if (chmod(path, 01777) < 0 || (root_id && chown(path, root_id, root_id) < 0))
        return wr_error_set(err, errno, "chmod/chown %s", path);
    if (mount(path, path, NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return wr_error_set(err, errno, "bind %s nosuid,nodev,noexec", path);
    return 0;
}

static int fill_dev(const char *dev_dir, uint32_t root_id, const struct wr_security_profile *sec,
                    wr_error *err)
{
    char path[PATH_MAX], opts[128];

    if (make_devices(dev_dir, root_id, sec, err) < 0)
        return -1;
    /* Its own instance, at most WR_DEVPTS_MAX ptys: the kernel's pool
     * (kernel.pty.max minus kernel.pty.reserve) is shared by every
     * instance but the host's, so an unbounded one could take it all.
     * New ptys belong to the container's tty group (gid 5). */
    snprintf(opts, sizeof opts, "newinstance,ptmxmode=0666,mode=0620,gid=%u,max=%u", root_id + 5,
             WR_DEVPTS_MAX);
    if (mount_sub(dev_dir, "pts", "devpts", MS_NOSUID | MS_NOEXEC, opts, 0755, err) < 0)
        return -1;
    if (make_shm(dev_dir, root_id, err) < 0 ||
        mount_sub(dev_dir, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0755, err) <
            0)
        return -1;
    for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++) {
        if (path_in(path, dev_dir, dev_links[i].name, err) < 0)
            return -1;
        if (symlink(dev_links[i].target, path) < 0)
            return wr_error_set(err, errno, "symlink %s", path);
        if (root_id && lchown(path, root_id, root_id) < 0)
            return wr_error_set(err, errno, "chown %s", path);
    }
    return 0;
}

int wr_devfs_setup(int root_fd, int dev_fd, uint32_t root_id, const struct wr_security_profile *sec,
                   wr_error *err)
{
    char opts[128];
    /* Owned by the container's root (root_id is its host uid and gid). */
    snprintf(opts, sizeof opts, "mode=755,size=65536k,uid=%u,gid=%u", root_id, root_id);
    /* Without nodev until the six nodes are bound (make_devices). */
    if (wr_mount_on_fd("tmpfs", dev_fd, "dev", "tmpfs", MS_NOSUID, opts, err) < 0)
        return -1;
    /* dev_fd still holds the directory under the new mount: the tmpfs's
     * root is reached by looking "dev" up again (it was checked to be no
     * symlink, and nothing else runs in the container to change it). */
    int tmpfs_fd = wr_mount_target_open(root_fd, "dev", 0755, err);
    if (tmpfs_fd < 0)
        return -1;
    /* Everything below the new tmpfs's root is ours: made relative to it,
     * as our working directory for the while. Not through a path of
     * /proc/self/fd/N: each of the ~30 calls below would walk /proc, self,
     * the pid, fd and N again, and the fd's proc inode would stay until
     * pid 1's exit, when the kernel invalidates it. */
    int saved = wr_cwd_enter(tmpfs_fd, "dev", err);
    int rc = saved < 0 ? -1 : wr_cwd_leave(saved, fill_dev(".", root_id, sec, err), "dev", err);
    close(tmpfs_fd);
    return rc;
}

/* /dev of a container: a small tmpfs with only the safe character devices,
 * its own devpts instance, /dev/shm and /dev/mqueue, and the usual links. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdio.h>
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

static const struct {
    const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* dev_dir names the new tmpfs's root through a descriptor
 * ("/proc/self/fd/N"): everything below it is ours. */
static int path_in(char *out, const char *dir, const char *name, wr_error *err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX)
        return wr_error_set(err, ENAMETOOLONG, "path %s/%s", dir, name);
    return 0;
}

/* /dev is mounted nodev (a node the workload makes with CAP_MKNOD cannot
 * be opened), so the safe devices are the host's nodes, bind-mounted: a
 * bind mount keeps the flags of its source. Checked to be the expected
 * character device first. */
static int make_device(const char *dev_dir, const struct device_node *d, wr_error *err)
{
    char path[PATH_MAX], host[PATH_MAX];
    struct stat st;
    if (path_in(path, dev_dir, d->name, err) < 0)
        return -1;
    snprintf(host, sizeof host, "/dev/%s", d->name);
    if (stat(host, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(d->major, d->minor))
        return wr_error_set(err, errno, "host %s is not the character device %u:%u", host, d->major,
                            d->minor);
    if (mknod(path, S_IFREG | 0666, 0) < 0)
        return wr_error_set(err, errno, "create /dev/%s", d->name);
    if (mount(host, path, NULL, MS_BIND, NULL) < 0)
        return wr_error_set(err, errno, "bind %s", host);
    return 0;
}

static int mount_sub(const char *dev_dir, const char *name, const char *type, unsigned long flags,
                     const char *data, mode_t mode, wr_error *err)
{
    char path[PATH_MAX];
    if (path_in(path, dev_dir, name, err) < 0)
        return -1;
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir /dev/%s", name);
    if (mount(type, path, type, flags, data) < 0)
        return wr_error_set(err, errno, "mount %s on /dev/%s", type, name);
    return 0;
}

static int fill_dev(const char *dev_dir, wr_error *err)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof safe_devices / sizeof safe_devices[0]; i++)
        if (make_device(dev_dir, &safe_devices[i], err) < 0)
            return -1;
    if (mount_sub(dev_dir, "pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620,gid=5", 0755, err) < 0 ||
        mount_sub(dev_dir, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=1777,size=65536k", 01777, err) < 0 ||
        mount_sub(dev_dir, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0755, err) <
            0)
        return -1;
    for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++) {
        if (path_in(path, dev_dir, dev_links[i].name, err) < 0)
            return -1;
        if (symlink(dev_links[i].target, path) < 0)
            return wr_error_set(err, errno, "symlink /dev/%s", dev_links[i].name);
    }
    return 0;
}

int wr_devfs_setup(int root_fd, int dev_fd, wr_error *err)
{
    if (wr_mount_on_fd("tmpfs", dev_fd, "dev", "tmpfs", MS_NOSUID | MS_NODEV,
                       "mode=755,size=65536k", err) < 0)
        return -1;
    /* dev_fd still holds the directory under the new mount: the tmpfs's
     * root is reached by looking "dev" up again (it was checked to be no
     * symlink, and nothing else runs in the container to change it). */
    int tmpfs_fd = wr_mount_target_open(root_fd, "dev", 0755, err);
    if (tmpfs_fd < 0)
        return -1;
    char dev_dir[32];
    snprintf(dev_dir, sizeof dev_dir, "/proc/self/fd/%d", tmpfs_fd);
    int rc = fill_dev(dev_dir, err);
    close(tmpfs_fd);
    return rc;
}

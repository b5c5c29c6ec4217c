/* What of /proc and /sys a workload must not write or read, as runc and
 * Docker set it up: kernel tunables (/proc/sys: core_pattern alone would
 * let a container run a program as host root) read-only, and files that
 * leak host information or state masked. Done on the fill path, inside the
 * container's mount namespace, after pivot_root. Every path here lies in
 * the proc and sysfs instances we mounted (on targets checked to be real
 * directories, rootfs.c): the kernel names what is in them, the image
 * cannot plant a symlink there. */

#include "proc_mask.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mount.h>

static const char *const read_only_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Docker's list, with /proc/asound and the powercap energy counters (a
 * power side channel on other tenants, CVE-2020-8694) as in Docker 25. */
static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

static int make_read_only(const char *path, wr_error *err)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0; /* not in this kernel */
        return wr_error_set(err, errno, "bind %s", path);
    }
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
        return wr_error_set(err, errno, "remount %s read-only", path);
    return 0;
}

#define MASK_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* A directory gets an empty directory over it, read-only; a file
 * /dev/null. The empty directory is the container's own, on its writable
 * layer's tmpfs (*empty_tree: a detached read-only clone of it, attached
 * over the first masked directory, then bound from there), not a tmpfs of
 * its own: a superblock costs its creation, its shutdown at teardown, and
 * a shrinker that every memory cgroup of the host sizes its maps by
 * (docs/benchmarks.md, "Cheaper cgroups and teardown"). Nothing is given
 * away: the binds are read-only, hold nothing, and their filesystem is
 * this container's own. */
static int mask(const char *path, int *empty_tree, const char **first, wr_error *err)
{
    /* A file first, the kernel telling the kind (no stat before): a bind
     * of /dev/null fails ENOENT where the path is absent (not in this
     * kernel: nothing to mask) and ENOTDIR on a directory. */
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0)
        return 0;
    if (errno == ENOENT)
        return 0;
    if (errno != ENOTDIR)
        return wr_error_set(err, errno, "mask %s", path);
    if (*first) {
        if (mount(*first, path, NULL, MS_BIND, NULL) < 0)
            return wr_error_set(err, errno, "mask %s", path);
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MASK_FLAGS, NULL) < 0)
            return wr_error_set(err, errno, "remount %s read-only", path);
        return 0;
    }
    if (move_mount(*empty_tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return wr_error_set(err, errno, "mask %s", path);
    close(*empty_tree);
    *empty_tree = -1;
    *first = path;
    return 0;
}

int wr_mask_kernel_paths(int empty_tree, wr_error *err)
{
    const char *first = NULL;
    int rc = 0;
    for (size_t i = 0; i < sizeof read_only_paths / sizeof read_only_paths[0] && rc == 0; i++)
        rc = make_read_only(read_only_paths[i], err);
    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0] && rc == 0; i++)
        rc = mask(masked_paths[i], &empty_tree, &first, err);
    if (empty_tree >= 0)
        close(empty_tree); /* no directory to mask: the clone goes */
    return rc;
}

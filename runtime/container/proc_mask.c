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
#include <sys/mount.h>
#include <sys/stat.h>

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

/* A directory gets an empty read-only tmpfs over it, a file /dev/null.
 * The first directory masked gets the tmpfs; the others a bind of it
 * (*empty_dir names it): one superblock per container instead of one per
 * directory, each costing its creation and, at teardown, its shutdown.
 * Sharing it gives nothing away: it is read-only at the superblock, holds
 * nothing, and is this container's own. */
static int mask(const char *path, const char **empty_dir, wr_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : wr_error_set(err, errno, "stat %s", path);
    int rc;
    if (!S_ISDIR(st.st_mode))
        rc = mount("/dev/null", path, NULL, MS_BIND, NULL);
    else if (*empty_dir)
        rc = mount(*empty_dir, path, NULL, MS_BIND, NULL);
    else if ((rc = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         "size=0")) == 0)
        *empty_dir = path;
    if (rc < 0)
        return wr_error_set(err, errno, "mask %s", path);
    return 0;
}

int wr_mask_kernel_paths(wr_error *err)
{
    const char *empty_dir = NULL;
    for (size_t i = 0; i < sizeof read_only_paths / sizeof read_only_paths[0]; i++)
        if (make_read_only(read_only_paths[i], err) < 0)
            return -1;
    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
        if (mask(masked_paths[i], &empty_dir, err) < 0)
            return -1;
    return 0;
}

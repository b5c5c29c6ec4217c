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
#include <stdbool.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const char *const read_only_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Docker's list, with /proc/asound and the powercap energy counters (a
 * power side channel on other tenants, CVE-2020-8694) as in Docker 25;
 * each with the kind it has in the kernels that have it (dir), tried
 * first: a bind of the wrong kind fails only after cloning its source,
 * and unmounting that clone costs an expedited RCU grace period
 * (namespace_unlock: ~60 us of waiting, and IPIs to every CPU). */
static const struct masked_path {
    const char *path;
    bool dir;
} masked_paths[] = {
    {"/proc/acpi", true},
    {"/proc/asound", true},
    {"/proc/kcore", false},
    {"/proc/keys", false},
    {"/proc/latency_stats", false},
    {"/proc/timer_list", false},
    {"/proc/timer_stats", false},
    {"/proc/sched_debug", false},
    {"/proc/scsi", true},
    {"/sys/firmware", true},
    {"/sys/devices/virtual/powercap", true},
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

/* What a failed mask of path means: 1 nothing to mask (absent: not in
 * this kernel), 0 path is not of the kind tried, -1 an error. */
static int mask_failed(const char *path, bool dir, wr_error *err)
{
    int e = errno;
    struct stat st;
    if (e == ENOENT)
        return 1;
    /* A bind of the wrong kind fails ENOTDIR; move_mount's says EINVAL,
     * which has other causes: the kind decides. */
    if (e == ENOTDIR || (e == EINVAL && dir && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)))
        return 0;
    return wr_error_set(err, e, "mask %s", path);
}

/* A file gets /dev/null bound over it. 1 done (or nothing to mask), 0 not
 * a file, -1 error. */
static int mask_file(const char *path, wr_error *err)
{
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return mask_failed(path, false, err);
    return 1;
}

/* A directory gets an empty directory over it, read-only. The empty
 * directory is the container's own, on its writable layer's tmpfs
 * (*empty_tree: a detached read-only clone of it, attached over the first
 * masked directory, then bound from there), not a tmpfs of its own: a
 * superblock costs its creation, its shutdown at teardown, and a shrinker
 * that every memory cgroup of the host sizes its maps by
 * (docs/benchmarks.md, "Cheaper cgroups and teardown"). Nothing is given
 * away: the binds are read-only, hold nothing, and their filesystem is
 * this container's own. 1 done (or nothing to mask), 0 not a directory,
 * -1 error. */
static int mask_dir(const char *path, int *empty_tree, const char **first, wr_error *err)
{
    if (*first) {
        if (mount(*first, path, NULL, MS_BIND, NULL) < 0)
            return mask_failed(path, true, err);
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MASK_FLAGS, NULL) < 0)
            return wr_error_set(err, errno, "remount %s read-only", path);
        return 1;
    }
    if (move_mount(*empty_tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return mask_failed(path, true, err);
    close(*empty_tree);
    *empty_tree = -1;
    *first = path;
    return 1;
}

/* The kind the table says first, the other if the kernel disagrees (the
 * kernel tells: no stat before). */
static int mask(const struct masked_path *m, int *empty_tree, const char **first, wr_error *err)
{
    int r = m->dir ? mask_dir(m->path, empty_tree, first, err) : mask_file(m->path, err);
    if (r == 0)
        r = m->dir ? mask_file(m->path, err) : mask_dir(m->path, empty_tree, first, err);
    if (r == 0)
        return wr_error_set(err, ENOTDIR, "mask %s: neither a file nor a directory", m->path);
    return r < 0 ? -1 : 0;
}

int wr_mask_kernel_paths(int empty_tree, wr_error *err)
{
    const char *first = NULL;
    int rc = 0;
    for (size_t i = 0; i < sizeof read_only_paths / sizeof read_only_paths[0] && rc == 0; i++)
        rc = make_read_only(read_only_paths[i], err);
    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0] && rc == 0; i++)
        rc = mask(&masked_paths[i], &empty_tree, &first, err);
    if (empty_tree >= 0)
        close(empty_tree); /* no directory to mask: the clone goes */
    return rc;
}

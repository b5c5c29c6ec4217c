/* The container's side of its resource settings (see resources.h): all of
 * it on the fill path, except for two fcntl calls on activation that keep
 * the handed-over memory descriptors open across the workload's execve. */
#include "container_resources.h"

#include "lib/resources.h"

#include "lib/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

/* Puts fd on the fixed number target (close-on-exec until activation). */
static int place_fd(int fd, int target, wr_error *err)
{
    if (fd == target)
        return 0;
    if (fcntl(target, F_GETFD) >= 0) {
        close(fd);
        return wr_error_set(err, EBUSY, "descriptor %d is taken", target);
    }
    int r = dup3(fd, target, O_CLOEXEC);
    close(fd);
    return r < 0 ? wr_error_set(err, errno, "dup3 onto %d", target) : 0;
}

/* A memfd of 2 MiB pages, every page faulted in now (charged to this
 * container's hugetlb cgroup), so that the workload's first touch costs
 * no fault and no zeroing. */
static int make_hugepage_fd(uint64_t bytes, wr_error *err)
{
    int fd = memfd_create("warmrun-hugepages", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
    if (fd < 0)
        return wr_error_set(err, errno, "memfd_create of huge pages");
    if (ftruncate(fd, (off_t)bytes) < 0) {
        close(fd);
        return wr_error_set(err, errno, "size the huge-page memfd");
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return wr_error_set(err, errno, "--hugepages: reserve %llu MiB of huge pages",
                            (unsigned long long)(bytes >> 20));
    }
    int r = madvise(p, bytes, MADV_POPULATE_WRITE);
    int saved = errno;
    munmap(p, bytes);
    if (r < 0) {
        close(fd);
        return wr_error_set(err, saved, "--hugepages: fault in %llu MiB of huge pages",
                            (unsigned long long)(bytes >> 20));
    }
    return place_fd(fd, WR_HUGEPAGE_FD, err);
}

int wr_resources_container_enter(const struct wr_resources *r, const struct wr_cgroup *cg,
                                 int init_sock, wr_error *err)
{
    cpu_set_t cpus;
    if (cg && cg->v1_mask) {
        /* The shim writes our pid into the v1 cgroups, then says go. */
        char go;
        if (recv(init_sock, &go, 1, 0) != 1)
            return wr_error_set(err, errno, "wait for the cgroup placement");
        /* Rooted at our own cgroup, as if born in it. */
        if (unshare(CLONE_NEWCGROUP) < 0)
            return wr_error_set(err, errno, "unshare cgroup namespace");
    }
    if (wr_resources_workload_cpus(r, &cpus) && sched_setaffinity(0, sizeof cpus, &cpus) < 0)
        return wr_error_set(err, errno, "sched_setaffinity");
    if (r->mlock) {
        struct rlimit lim;
        if (getrlimit(RLIMIT_MEMLOCK, &lim) < 0)
            return wr_error_set(err, errno, "getrlimit");
        if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < r->mlock)
            lim.rlim_cur = r->mlock;
        if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < lim.rlim_cur)
            lim.rlim_max = lim.rlim_cur;
        if (setrlimit(RLIMIT_MEMLOCK, &lim) < 0)
            return wr_error_set(err, errno, "--mlock: raise RLIMIT_MEMLOCK to %llu KiB",
                                (unsigned long long)(r->mlock >> 10));
    }
    if (r->hugepages && make_hugepage_fd(r->hugepages, err) < 0)
        return -1;
    return 0;
}

#define CGROUP_MOUNT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)

/* The container's own cgroups, read-only, as docker shows them: rooted at
 * the container by its cgroup namespace, so its limits are visible inside
 * (and only those hierarchies it was placed in: the others' namespace root
 * is the host's). /sys/fs/cgroup lies in our own sysfs; on v1, rootfs.c
 * attached over it a directory of the writable layer's tmpfs (no
 * superblock of its own, as a tmpfs there was), in which the hierarchies'
 * directories are made and which is then made read-only; /dev/hugepages
 * lies in our /dev tmpfs: no path of the image's is followed. */
static int mount_cgroups(const struct wr_cgroup *cg, wr_error *err)
{
    const char *base = "/sys/fs/cgroup";
    char path[256];
    if (!cg->v1_mask) {
        /* pure v2 (or only v2 used): the cgroup2 root right there */
        if (mount("cgroup2", base, "cgroup2", CGROUP_MOUNT_FLAGS, NULL) < 0)
            return wr_error_set(err, errno, "mount cgroup2 on %s", base);
        return 0;
    }
    for (int c = 0; c < WR_CG_N; c++) {
        if (!(cg->v1_mask & (1u << c)))
            continue;
        const char *name = strrchr(cg->layout.v1[c], '/');
        snprintf(path, sizeof path, "%s/%s", base, name ? name + 1 : cg->layout.v1[c]);
        if (mkdir(path, 0755) < 0) {
            if (errno == EEXIST)
                continue; /* co-mounted with an earlier controller */
            return wr_error_set(err, errno, "mkdir %s", path);
        }
        if (mount("cgroup", path, "cgroup", CGROUP_MOUNT_FLAGS, cg->layout.v1_opts[c]) < 0)
            return wr_error_set(err, errno, "mount cgroup %s on %s", cg->layout.v1_opts[c], path);
    }
    if (cg->v2_mask) {
        snprintf(path, sizeof path, "%s/unified", base);
        if (mkdir(path, 0755) < 0 ||
            mount("cgroup2", path, "cgroup2", CGROUP_MOUNT_FLAGS, NULL) < 0)
            return wr_error_set(err, errno, "mount cgroup2 on %s", path);
    }
    if (mount(NULL, base, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
        return wr_error_set(err, errno, "remount %s read-only", base);
    return 0;
}

int wr_resources_container_mounts(const struct wr_resources *r, const struct wr_cgroup *cg,
                                  wr_error *err)
{
    if (cg && (cg->v1_mask || cg->v2_mask) && mount_cgroups(cg, err) < 0)
        return -1;
    if (!r->hugepages && !r->hugepages_limit)
        return 0;
    if (mkdir("/dev/hugepages", 0755) < 0 && errno != EEXIST)
        return wr_error_set(err, errno, "mkdir /dev/hugepages");
    if (mount("hugetlbfs", "/dev/hugepages", "hugetlbfs", MS_NOSUID | MS_NODEV, "pagesize=2M") < 0)
        return wr_error_set(err, errno, "mount hugetlbfs on /dev/hugepages");
    return 0;
}

void wr_resources_container_keep_fds(const struct wr_resources *r)
{
    if (r->hugepages)
        fcntl(WR_HUGEPAGE_FD, F_SETFD, 0);
    if (r->mlock)
        fcntl(WR_MLOCK_FD, F_SETFD, 0);
}

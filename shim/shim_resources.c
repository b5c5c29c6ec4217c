/* The shim's part of a container's resource settings, all on the fill path
 * (see resources.h): huge pages reserved, the container's cgroups created
 * (for every container: accounting, and the limits if any)
 * (it is born in its cgroup2 one; v1 ones are joined before it sets up),
 * locked memory held here (mlock is not inherited across exec), and after
 * the reap, its OOM kills read and its cgroups removed. */
#include "shim.h"

#include "lib/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define NR_HUGEPAGES   "/proc/sys/vm/nr_hugepages"
#define FREE_HUGEPAGES "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

static long read_long(const char *path)
{
    char buf[32];
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/* --hugepages-reserve: grow the host's pool by what is missing. */
static int reserve_hugepages(uint64_t bytes, wr_error *err)
{
    long need = (long)(bytes / WR_HUGEPAGE_BYTES), free_pages = read_long(FREE_HUGEPAGES);
    long total = read_long(NR_HUGEPAGES);
    if (free_pages < 0 || total < 0)
        return wr_error_set(err, errno, "read huge-page counters");
    if (free_pages >= need)
        return 0;
    char value[32];
    snprintf(value, sizeof value, "%ld", total + need - free_pages);
    cleanup_close int fd = open(NR_HUGEPAGES, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0)
        return wr_error_set(err, errno, "--hugepages-reserve: write %s to " NR_HUGEPAGES, value);
    if (read_long(FREE_HUGEPAGES) < need)
        return wr_error_set(err, ENOMEM,
                            "--hugepages-reserve: the kernel could not find %ld free 2 MiB "
                            "pages (memory too fragmented or too small)",
                            need);
    return 0;
}

/* A memfd of normal pages, mapped and locked by the shim for the
 * container's whole life, at WR_MLOCK_FD for the child to inherit. */
static int make_locked_memory(struct shim *sh, uint64_t bytes, wr_error *err)
{
    int fd = memfd_create("warmrun-mlock", MFD_CLOEXEC);
    if (fd < 0)
        return wr_error_set(err, errno, "memfd_create");
    if (ftruncate(fd, (off_t)bytes) < 0) {
        close(fd);
        return wr_error_set(err, errno, "size the locked memfd");
    }
    if (dup3(fd, WR_MLOCK_FD, O_CLOEXEC) < 0) {
        close(fd);
        return wr_error_set(err, errno, "dup3 onto %d", WR_MLOCK_FD);
    }
    close(fd);
    sh->res.mlock_fd = WR_MLOCK_FD;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, WR_MLOCK_FD, 0);
    if (p == MAP_FAILED)
        return wr_error_set(err, errno, "map the locked memfd");
    sh->res.mlock_map = p;
    if (mlock(p, bytes) < 0)
        return wr_error_set(err, errno, "--mlock: lock %" PRIu64 " KiB", bytes >> 10);
    return 0;
}

int shim_resources_prepare(struct shim *sh, int *clone_cgroup, wr_error *err)
{
    const struct wr_resources *r = &sh->opt.resources;
    *clone_cgroup = -1;
    sh->res.mlock_fd = -1;
    sh->res.cgroup.v2_fd = -1;
    if (r->hugepages && r->hugepages_reserve && reserve_hugepages(r->hugepages, err) < 0)
        return -1;
    /* Every container has its cgroups, for accounting if not for limits. */
    if (wr_cgroup_create(&sh->res.cgroup, sh->opt.state_dir, sh->opt.id, r, err) < 0)
        return -1;
    *clone_cgroup = sh->res.cgroup.v2_fd;
    sh->res.cgroup_wait = sh->res.cgroup.v1_mask != 0 || sh->res.cgroup.cpu_weight_only;
    if (r->mlock && make_locked_memory(sh, r->mlock, err) < 0)
        return -1;
    return 0;
}

int shim_resources_attach(struct shim *sh, wr_error *err)
{
    if (!sh->res.cgroup_wait)
        return 0;
    if (wr_cgroup_attach_v1(&sh->res.cgroup, sh->child, err) < 0)
        return -1;
    if (send(sh->init, "g", 1, MSG_NOSIGNAL) != 1)
        return wr_error_set(err, errno, "tell the container to go on");
    return 0;
}

void shim_resources_on_exit(struct shim *sh)
{
    if (sh->res.cgroup.created && wr_cgroup_oom_kills(&sh->res.cgroup) > 0)
        sh->res.oom = true;
}

void shim_resources_release(struct shim *sh)
{
    wr_cgroup_remove(&sh->res.cgroup);
    if (sh->res.mlock_map) {
        munmap(sh->res.mlock_map, sh->opt.resources.mlock);
        sh->res.mlock_map = NULL;
    }
    if (sh->res.mlock_fd >= 0)
        close(sh->res.mlock_fd);
    sh->res.mlock_fd = -1;
}

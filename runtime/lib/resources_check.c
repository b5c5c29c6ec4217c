/* Host checks of the resource knobs, run before anything is created: a
 * pool or a cold start with settings this host cannot honour is refused
 * with a one-line reason (see docs/resources.md). */
#include "resources.h"

#include "cgroup.h"
#include "cleanup.h"
#include "cpumask.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CAP_IPC_LOCK_BIT     14
#define CAP_SYS_RESOURCE_BIT 24
#define HUGEPAGES_2M_DIR     "/sys/kernel/mm/hugepages/hugepages-2048kB"

static int read_text(const char *path, char *buf, size_t cap)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    if (n < 0)
        return -1;
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return 0;
}

static bool has_capability(int bit)
{
    char line[256];
    unsigned long long eff = 0;
    cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    return (eff >> bit) & 1;
}

static int check_cpus(const struct wr_resources *r, wr_error *err)
{
    cpu_set_t online, extra;
    char list[WR_CPU_SETSIZE * 4];
    if (wr_online_cpus(&online, err) < 0)
        return -1;
    if (r->cpus_milli && r->cpus_milli > (uint32_t)CPU_COUNT(&online) * 1000)
        return wr_error_set(err, 0, "--cpus %u.%03u: this host has only %d CPUs",
                            r->cpus_milli / 1000, r->cpus_milli % 1000, CPU_COUNT(&online));
    const struct {
        bool set;
        const cpu_set_t *cpus;
        const char *opt;
    } lists[] = {{r->has_cpuset_cpus, &r->cpuset_cpus, "--cpuset-cpus"},
                 {r->has_spread, &r->spread_cpus, "--cpu-spread"}};
    for (size_t i = 0; i < 2; i++) {
        if (!lists[i].set)
            continue;
        CPU_AND(&extra, lists[i].cpus, &online);
        CPU_XOR(&extra, &extra, lists[i].cpus);
        if (CPU_COUNT(&extra)) {
            wr_format_cpu_list(&extra, list, sizeof list);
            wr_format_cpu_list(&online, list + strlen(list) + 1, sizeof list - strlen(list) - 1);
            return wr_error_set(err, 0, "%s: CPU %s is not online (online: %s)", lists[i].opt, list,
                                list + strlen(list) + 1);
        }
    }
    if (r->pin_cpu && !CPU_ISSET(r->pin_cpu - 1, &online))
        return wr_error_set(err, 0, "--pin %d: no such online CPU", r->pin_cpu - 1);
    if (r->pin_cpu && r->has_spread)
        return wr_error_set(err, 0, "--pin and --cpu-spread exclude each other");
    if (r->pin_cpu && r->has_cpuset_cpus && !CPU_ISSET(r->pin_cpu - 1, &r->cpuset_cpus))
        return wr_error_set(err, 0, "--pin %d: not in --cpuset-cpus", r->pin_cpu - 1);
    if (r->has_spread && r->has_cpuset_cpus) {
        CPU_AND(&extra, &r->spread_cpus, &r->cpuset_cpus);
        if (!CPU_EQUAL(&extra, &r->spread_cpus))
            return wr_error_set(err, 0, "--cpu-spread must be within --cpuset-cpus");
    }
    if (r->cpuset_mems[0]) {
        cpu_set_t nodes, want;
        char buf[256];
        if (read_text("/sys/devices/system/node/online", buf, sizeof buf) < 0)
            snprintf(buf, sizeof buf, "0");
        if (wr_parse_cpu_list(buf, &nodes, err) < 0 ||
            wr_parse_cpu_list(r->cpuset_mems, &want, err) < 0)
            return -1;
        CPU_AND(&extra, &want, &nodes);
        if (!CPU_EQUAL(&extra, &want))
            return wr_error_set(err, 0, "--cpuset-mems %s: memory nodes online are %s",
                                r->cpuset_mems, buf);
    }
    return 0;
}

static int check_memory(const struct wr_resources *r, wr_error *err)
{
    if (r->memory && (uint64_t)r->memory < WR_MIN_MEMORY_BYTES)
        return wr_error_set(err, 0,
                            "--memory %" PRId64 ": below the minimum of 6 MiB a container "
                            "needs to start",
                            r->memory);
    if (r->memory_swap && !r->memory)
        return wr_error_set(err, 0, "--memory-swap needs --memory");
    if (r->memory_swap > 0 && r->memory_swap < r->memory)
        return wr_error_set(err, 0, "--memory-swap (memory plus swap) must be at least --memory");
    if (r->memory_reserve && r->memory && r->memory_reserve > r->memory)
        return wr_error_set(err, 0, "--memory-reservation must not exceed --memory");
    return 0;
}

/* Half the host's memory: more huge pages or locked memory for one
 * container than that is a typo, and would starve the host for good
 * (huge pages reserved are never given back). */
static uint64_t memory_cap(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : UINT64_MAX;
}

static int check_hugepages(const struct wr_resources *r, wr_error *err)
{
    char buf[64];
    if (!r->hugepages && !r->hugepages_limit)
        return r->hugepages_reserve ? wr_error_set(err, 0, "--hugepages-reserve needs --hugepages")
                                    : 0;
    if (r->hugepages % WR_HUGEPAGE_BYTES || r->hugepages_limit % WR_HUGEPAGE_BYTES)
        return wr_error_set(err, 0, "--hugepages and --hugepages-limit must be multiples of 2m");
    if (read_text(HUGEPAGES_2M_DIR "/free_hugepages", buf, sizeof buf) < 0)
        return wr_error_set(err, 0, "this host has no 2 MiB huge pages (%s is missing)",
                            HUGEPAGES_2M_DIR);
    if (!r->hugepages)
        return 0;
    if (r->hugepages > memory_cap())
        return wr_error_set(err, 0,
                            "--hugepages %" PRIu64 "m: more huge pages than half the host's memory",
                            r->hugepages >> 20);
    uint64_t need = r->hugepages / WR_HUGEPAGE_BYTES, free_pages = strtoull(buf, NULL, 10);
    if (r->hugepages_reserve) {
        if (access("/proc/sys/vm/nr_hugepages", W_OK) < 0)
            return wr_error_set(err, errno,
                                "--hugepages-reserve: cannot raise "
                                "/proc/sys/vm/nr_hugepages");
        return 0;
    }
    if (free_pages < need)
        return wr_error_set(err, 0,
                            "--hugepages %" PRIu64 "m needs %" PRIu64 " free 2 MiB huge pages, "
                            "the host has %" PRIu64 " (raise /proc/sys/vm/nr_hugepages or add "
                            "--hugepages-reserve)",
                            r->hugepages >> 20, need, free_pages);
    return 0;
}

static int check_mlock(const struct wr_resources *r, wr_error *err)
{
    struct rlimit lim;
    if (!r->mlock)
        return 0;
    if (r->mlock > memory_cap())
        return wr_error_set(err, 0, "--mlock %" PRIu64 "m: more than half the host's memory",
                            r->mlock >> 20);
    if (getrlimit(RLIMIT_MEMLOCK, &lim) < 0)
        return wr_error_set(err, errno, "getrlimit");
    if (!has_capability(CAP_IPC_LOCK_BIT) && r->mlock > lim.rlim_cur)
        return wr_error_set(err, 0,
                            "--mlock %" PRIu64 "k: above RLIMIT_MEMLOCK (%llu k) and "
                            "CAP_IPC_LOCK is missing",
                            r->mlock >> 10, (unsigned long long)lim.rlim_cur >> 10);
    if (lim.rlim_max != RLIM_INFINITY && r->mlock > lim.rlim_max &&
        !has_capability(CAP_SYS_RESOURCE_BIT))
        return wr_error_set(err, 0,
                            "--mlock %" PRIu64 "k: the workload's RLIMIT_MEMLOCK cannot be "
                            "raised above its hard limit of %llu k without CAP_SYS_RESOURCE",
                            r->mlock >> 10, (unsigned long long)lim.rlim_max >> 10);
    return 0;
}

int wr_resources_validate(const struct wr_resources *r, wr_error *err)
{
    struct wr_cgroup cg;
    if (check_cpus(r, err) < 0 || check_memory(r, err) < 0 || check_hugepages(r, err) < 0 ||
        check_mlock(r, err) < 0)
        return -1;
    return wr_cgroup_plan(&cg, r, err);
}

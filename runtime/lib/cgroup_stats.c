/* See cgroup_stats.h. */
#include "cgroup_stats.h"

#include "cgroup.h"
#include "cleanup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A counter file of one number ("max" and absent: 0). */
static uint64_t read_u64(const char *dir, const char *file)
{
    char buf[64];
    wr_cgroup_read(dir, file, buf, sizeof buf);
    return buf[0] >= '0' && buf[0] <= '9' ? strtoull(buf, NULL, 10) : 0;
}

/* "key N" of a flat keyed file (cpu.stat, memory.stat), 0 if absent. */
static uint64_t read_key(const char *dir, const char *file, const char *key)
{
    long v = wr_cgroup_read_key(dir, file, key);
    return v > 0 ? (uint64_t)v : 0;
}

static void read_percpu(const char *dir, struct wr_cg_usage *u)
{
    char buf[WR_CG_MAX_CPUS * 21];
    wr_cgroup_read(dir, "cpuacct.usage_percpu", buf, sizeof buf);
    char *p = buf, *end;
    while (u->n_percpu < WR_CG_MAX_CPUS) {
        uint64_t v = strtoull(p, &end, 10);
        if (end == p)
            break;
        u->percpu_ns[u->n_percpu++] = v;
        p = end;
    }
}

/* v1 blkio: "MAJ:MIN Read N" lines (and a "Total N"). */
static void read_blkio(const char *dir, const char *file, uint64_t *rd, uint64_t *wr)
{
    char path[WR_CG_PATH_MAX + 64], line[256], op[16];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cleanup_fclose FILE *f = fopen(path, "re");
    uint64_t v;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%*s %15s %" SCNu64, op, &v) != 2)
            continue;
        if (!strcmp(op, "Read"))
            *rd += v;
        else if (!strcmp(op, "Write"))
            *wr += v;
    }
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...". */
static void read_io_stat(const char *dir, struct wr_cg_usage *u)
{
    char path[WR_CG_PATH_MAX + 64], line[512];
    snprintf(path, sizeof path, "%s/io.stat", dir);
    cleanup_fclose FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
            uint64_t v;
            if (sscanf(tok, "rbytes=%" SCNu64, &v) == 1)
                u->io_read_bytes += v;
            else if (sscanf(tok, "wbytes=%" SCNu64, &v) == 1)
                u->io_write_bytes += v;
            else if (sscanf(tok, "rios=%" SCNu64, &v) == 1)
                u->io_read_ops += v;
            else if (sscanf(tok, "wios=%" SCNu64, &v) == 1)
                u->io_write_ops += v;
        }
    }
}

static bool dir_exists(const char *dir)
{
    return access(dir, F_OK) == 0;
}

/* v1 reports an unlimited memory cgroup as a huge page-aligned number. */
static uint64_t v1_limit(uint64_t v)
{
    return v >= (UINT64_C(1) << 62) ? 0 : v;
}

static void finish_memory(struct wr_cg_usage *u, uint64_t inactive_file)
{
    u->mem_usage = u->mem_raw > inactive_file ? u->mem_raw - inactive_file : u->mem_raw;
}

/* The host's cgroup layout, detected once per process. */
static const struct wr_cgroup_layout *layout(wr_error *err)
{
    static struct wr_cgroup_layout l;
    static bool detected;
    if (!detected) {
        if (wr_cgroup_detect(&l, err) < 0)
            return NULL;
        detected = true;
    }
    return &l;
}

int wr_cgroup_usage(const char *state_dir, const char *id, struct wr_cg_usage *u, wr_error *err)
{
    const struct wr_cgroup_layout *lp = layout(err);
    char scope[16], dir[WR_CG_PATH_MAX];
    bool found = false;
    memset(u, 0, sizeof *u);
    if (!lp)
        return -1;
    const struct wr_cgroup_layout l = *lp;
    wr_cgroup_scope(state_dir, scope);
#define V1_DIR(c)                                                                                  \
    (l.v1[c][0] && (wr_cgroup_path(dir, sizeof dir, l.v1[c], scope, id), dir_exists(dir)))
    if (V1_DIR(WR_CG_CPUACCT)) {
        found = true;
        u->cpu_ns = read_u64(dir, "cpuacct.usage");
        read_percpu(dir, u);
    }
    if (V1_DIR(WR_CG_CPU)) {
        found = true;
        u->nr_periods = read_key(dir, "cpu.stat", "nr_periods");
        u->nr_throttled = read_key(dir, "cpu.stat", "nr_throttled");
        u->throttled_ns = read_key(dir, "cpu.stat", "throttled_time");
    }
    if (V1_DIR(WR_CG_MEMORY)) {
        found = true;
        u->mem_raw = read_u64(dir, "memory.usage_in_bytes");
        u->mem_limit = v1_limit(read_u64(dir, "memory.limit_in_bytes"));
        u->mem_cache = read_key(dir, "memory.stat", "total_cache");
        u->mem_rss = read_key(dir, "memory.stat", "total_rss");
        finish_memory(u, read_key(dir, "memory.stat", "total_inactive_file"));
        u->oom_kills = read_key(dir, "memory.oom_control", "oom_kill");
    }
    if (V1_DIR(WR_CG_PIDS)) {
        found = true;
        u->pids = read_u64(dir, "pids.current");
        u->pids_limit = read_u64(dir, "pids.max");
    }
    if (V1_DIR(WR_CG_BLKIO)) {
        found = true;
        read_blkio(dir, "blkio.throttle.io_service_bytes_recursive", &u->io_read_bytes,
                   &u->io_write_bytes);
        read_blkio(dir, "blkio.throttle.io_serviced_recursive", &u->io_read_ops, &u->io_write_ops);
    }
#undef V1_DIR
    if (l.v2[0]) {
        wr_cgroup_path(dir, sizeof dir, l.v2, scope, id);
        if (dir_exists(dir)) {
            found = true;
            if (!l.v1[WR_CG_CPU][0]) {
                u->cpu_ns = read_key(dir, "cpu.stat", "usage_usec") * 1000;
                u->nr_periods = read_key(dir, "cpu.stat", "nr_periods");
                u->nr_throttled = read_key(dir, "cpu.stat", "nr_throttled");
                u->throttled_ns = read_key(dir, "cpu.stat", "throttled_usec") * 1000;
            }
            if (!l.v1[WR_CG_MEMORY][0] && l.v2_has[WR_CG_MEMORY]) {
                u->mem_raw = read_u64(dir, "memory.current");
                u->mem_limit = read_u64(dir, "memory.max");
                u->mem_cache = read_key(dir, "memory.stat", "file");
                u->mem_rss = read_key(dir, "memory.stat", "anon");
                finish_memory(u, read_key(dir, "memory.stat", "inactive_file"));
                u->oom_kills = read_key(dir, "memory.events", "oom_kill");
            }
            if (!l.v1[WR_CG_PIDS][0] && l.v2_has[WR_CG_PIDS]) {
                u->pids = read_u64(dir, "pids.current");
                u->pids_limit = read_u64(dir, "pids.max");
            }
            if (!l.v1[WR_CG_BLKIO][0] && l.v2_has[WR_CG_BLKIO])
                read_io_stat(dir, u);
        }
    }
    if (!found)
        return wr_error_set(err, ENOENT, "container %s has no cgroup (gone, or never existed)", id);
    return 0;
}

ssize_t wr_cgroup_procs(const char *state_dir, const char *id, pid_t *pids, size_t cap,
                        wr_error *err)
{
    static const enum wr_cg_ctrl order[] = {WR_CG_PIDS, WR_CG_MEMORY, WR_CG_CPUACCT, WR_CG_CPU};
    const struct wr_cgroup_layout *l = layout(err);
    char scope[16], dir[WR_CG_PATH_MAX], path[WR_CG_PATH_MAX + 32];
    if (!l)
        return -1;
    wr_cgroup_scope(state_dir, scope);
    dir[0] = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && !dir[0]; i++)
        if (l->v1[order[i]][0]) {
            wr_cgroup_path(dir, sizeof dir, l->v1[order[i]], scope, id);
            if (!dir_exists(dir))
                dir[0] = 0;
        }
    if (!dir[0] && l->v2[0])
        wr_cgroup_path(dir, sizeof dir, l->v2, scope, id);
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    cleanup_fclose FILE *f = fopen(path, "re");
    if (!f)
        return wr_error_set(err, errno, "container %s has no cgroup (gone, or never existed)", id);
    size_t n = 0;
    long pid;
    while (n < cap && fscanf(f, "%ld", &pid) == 1)
        pids[n++] = (pid_t)pid;
    return (ssize_t)n;
}

uint64_t wr_host_memory_bytes(void)
{
    char line[256];
    uint64_t kb = 0;
    cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kb) == 1)
            break;
    return kb * 1024;
}

/* The daemon's part of resource settings: a pool's settings checked and
 * its image prefaulted when it is created, each fill's CPU chosen with
 * --cpu-spread, stale cgroups swept at start, and what ps shows. */
#include "daemon_resources.h"

#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "prefault.h"
#include "lib/state_file.h"
#include "lib/container_id.h"
#include "daemon_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool daemon_resources_pool_apply(struct daemon *d, struct pool *p, const struct wr_resources *res)
{
    (void)d;
    bool changed = memcmp(&p->res, res, sizeof *res) != 0;
    p->res = *res;
    wr_resources_env(&p->res, &p->env);
    p->spread_next = 0;
    if (!res->no_prefault && (changed || !p->size)) {
        struct wr_prefault_stats st;
        wr_prefault_image(p->img, res->prefault_files, &st);
        daemon_log("pool %s: prefaulted %zu file(s), %zu KiB", p->image, st.files, st.bytes >> 10);
    }
    return changed;
}

/* The CPU of the spread list with the fewest live containers of this pool. */
static int least_loaded(struct daemon *d, struct pool *p)
{
    int best = -1;
    long best_load = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &p->res.spread_cpus))
            continue;
        long load = 0;
        for (struct entry *e = d->entries; e; e = e->next)
            if (e->pool == p && e->cpu == cpu && e->state != ENTRY_GONE)
                load++;
        if (best < 0 || load < best_load) {
            best = cpu;
            best_load = load;
        }
    }
    return best;
}

static int round_robin(struct pool *p)
{
    int n = CPU_COUNT(&p->res.spread_cpus);
    unsigned want = p->spread_next++ % (unsigned)n;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &p->res.spread_cpus) && want-- == 0)
            return cpu;
    return -1;
}

void daemon_resources_for_entry(struct daemon *d, struct pool *p, struct entry *e,
                                struct wr_resources *out)
{
    *out = p->res;
    e->cpu = -1;
    if (!p->res.has_spread)
        return;
    e->cpu = p->res.spread_policy == WR_SPREAD_LEAST_LOADED ? least_loaded(d, p) : round_robin(p);
    if (e->cpu >= 0)
        out->pin_cpu = e->cpu + 1;
    out->has_spread = false;
}

static bool record_alive(const char *id, void *ctx)
{
    struct daemon *d = ctx;
    struct wr_state_record rec;
    wr_error err;
    if (!wr_container_id_valid(id))
        return true; /* not ours to judge */
    return wr_state_read(d->g->state_dir, id, &rec, &err) == 0 && wr_state_shim_alive(&rec);
}

void daemon_resources_forget(struct daemon *d, const char *id)
{
    wr_cgroup_remove_by_id(d->g->state_dir, id);
}

void daemon_resources_sweep(struct daemon *d)
{
    size_t n = wr_cgroup_sweep(d->g->state_dir, record_alive, d);
    if (n)
        daemon_log("cgroups: %zu stale container cgroup(s) removed", n);
}

void daemon_resources_shutdown(struct daemon *d)
{
    /* Cgroups of containers whose shims died without removing them: only
     * those of running (handed-out or cold-started) containers stay. */
    daemon_resources_sweep(d);
    wr_cgroup_scope_remove(d->g->state_dir);
}

void daemon_resources_container_info(struct daemon *d, const char *id, pid_t pid, char *cpus,
                                     size_t cap, bool *oom)
{
    char path[64], line[512];
    cpus[0] = '\0';
    *oom = wr_cgroup_oom_kills_of(d->g->state_dir, id) > 0;
    if (pid <= 0)
        return;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    cleanup_fclose FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Cpus_allowed_list:", 18) != 0)
            continue;
        char *v = line + 18;
        v += strspn(v, " \t");
        v[strcspn(v, "\n")] = '\0';
        snprintf(cpus, cap, "%s", v);
        break;
    }
}

/* Memory- or CPU-bound: what limits the container (see profile.h). */
#include "profile.h"

#include <stdlib.h>

void profile_classify(const struct profile_sample *s, size_t n, const struct profile_throttle *t,
                      struct profile_bound *o)
{
    *o = (struct profile_bound){.label = "neither"};
    if (!n)
        return;
    struct wr_stats_summary cpu, mem;
    const struct profile_series cpu_d = {.offset = offsetof(struct profile_sample, cpu_pct)};
    const struct profile_series mem_d = {.offset = offsetof(struct profile_sample, mem_usage)};
    if (profile_series_stats(s, n, &cpu_d, &cpu) < 0 ||
        profile_series_stats(s, n, &mem_d, &mem) < 0)
        return;
    o->cpu_mean_pct = cpu.mean;
    /* The limit of the last sample: a limit changed mid-run is rare, and
     * the last one is the one in force. */
    double limit = s[n - 1].mem_limit;
    o->mem_p95_ratio = limit > 0 ? mem.p95 / limit : 0;
    o->oom_kills = s[n - 1].oom_kills - s[0].oom_kills;
    o->cpu = t->detected || cpu.mean >= PROFILE_CPU_BOUND_PCT;
    o->memory = o->mem_p95_ratio >= PROFILE_MEM_BOUND_RATIO || o->oom_kills > 0;
    o->label = o->cpu && o->memory ? "CPU- and memory-bound"
               : o->cpu            ? "CPU-bound"
               : o->memory         ? "memory-bound"
                                   : "neither";
}

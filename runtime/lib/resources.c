/* Parsing, canonical form and environment of the resource knobs (see
 * resources.h). Host checks live in resources_check.c. */
#include "resources.h"
#include "cpumask.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum knob_type {
    K_CPUS,
    K_U64,
    K_SIZE,
    K_SIGNED_SIZE,
    K_CPULIST,
    K_MEMS,
    K_PIN,
    K_POLICY,
    K_FLAG,
    K_FILES
};

struct knob {
    const char *key;
    enum knob_type type;
    size_t offset;
};

#define KNOB(k, t, f)                                                                              \
    {                                                                                              \
        k, t, offsetof(struct wr_resources, f)                                                     \
    }
static const struct knob knobs[] = {
    KNOB("cpus", K_CPUS, cpus_milli),
    KNOB("cpu-shares", K_U64, cpu_shares),
    KNOB("cpuset-cpus", K_CPULIST, cpuset_cpus),
    KNOB("cpuset-mems", K_MEMS, cpuset_mems),
    KNOB("memory", K_SIZE, memory),
    KNOB("memory-swap", K_SIGNED_SIZE, memory_swap),
    KNOB("memory-reservation", K_SIZE, memory_reserve),
    KNOB("pids-limit", K_U64, pids_limit),
    KNOB("hugepages-limit", K_SIZE, hugepages_limit),
    KNOB("pin", K_PIN, pin_cpu),
    KNOB("cpu-spread", K_CPULIST, spread_cpus),
    KNOB("cpu-spread-policy", K_POLICY, spread_policy),
    KNOB("hugepages", K_SIZE, hugepages),
    KNOB("hugepages-reserve", K_FLAG, hugepages_reserve),
    KNOB("mlock", K_SIZE, mlock),
    KNOB("no-prefault", K_FLAG, no_prefault),
    KNOB("prefault-files", K_FILES, prefault_files),
    KNOB("tune-env", K_FLAG, tune_env),
};
#define N_KNOBS (sizeof knobs / sizeof knobs[0])

static const struct knob *find_knob(const char *key)
{
    for (size_t i = 0; i < N_KNOBS; i++)
        if (strcmp(knobs[i].key, key) == 0)
            return &knobs[i];
    return NULL;
}

const char *wr_resources_key(size_t i)
{
    return i < N_KNOBS ? knobs[i].key : NULL;
}

bool wr_resources_known(const char *key)
{
    return find_knob(key) != NULL;
}

bool wr_resources_is_flag(const char *key)
{
    const struct knob *k = find_knob(key);
    return k && k->type == K_FLAG;
}

int wr_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    int shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        break;
    }
    if (*end || v > (hi >> shift))
        return -1;
    v <<= shift;
    if (v < lo)
        return -1;
    *out = v;
    return 0;
}

int wr_parse_size(const char *s, uint64_t *out, wr_error *err)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '-')
        return wr_error_set(err, 0, "must not be negative");
    if (!isdigit((unsigned char)*s))
        return wr_error_set(err, 0,
                            "not a size (expected a number with an optional k, m, g "
                            "or t suffix)");
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return wr_error_set(err, 0, "too large");
    int shift = 0;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        shift = 10;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    case 't':
        shift = 40;
        break;
    case 'b':
    case '\0':
        break;
    default:
        return wr_error_set(err, 0, "unknown size suffix \"%.8s\" (use k, m, g or t)", end);
    }
    if (shift)
        end++;
    if (tolower((unsigned char)*end) == 'b')
        end++;
    if (*end)
        return wr_error_set(err, 0, "unknown size suffix \"%.8s\" (use k, m, g or t)", end);
    if (v > (UINT64_C(1) << 62) >> shift)
        return wr_error_set(err, 0, "too large");
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_cpus(const char *s, uint32_t *milli, wr_error *err)
{
    unsigned long whole = 0, frac = 0, scale = 1000;
    const char *p = s;
    if (*p == '-')
        return wr_error_set(err, 0, "must not be negative");
    if (!isdigit((unsigned char)*p) && *p != '.')
        return wr_error_set(err, 0, "not a number of CPUs (e.g. 1.5)");
    while (isdigit((unsigned char)*p)) {
        whole = whole * 10 + (unsigned long)(*p++ - '0');
        if (whole > 100000)
            return wr_error_set(err, 0, "too large");
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (scale > 1) {
                scale /= 10;
                frac += (unsigned long)(*p - '0') * scale;
            }
            p++;
        }
    }
    if (*p)
        return wr_error_set(err, 0, "not a number of CPUs (e.g. 1.5)");
    unsigned long v = whole * 1000 + frac;
    if (v < 10)
        return wr_error_set(err, 0, "must be at least 0.01");
    *milli = (uint32_t)v;
    return 0;
}

static int parse_u64(const char *s, int64_t lo, int64_t hi, int64_t *out, wr_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return wr_error_set(err, 0, "not an integer");
    if (v < lo || v > hi)
        return wr_error_set(err, 0, "must be between %" PRId64 " and %" PRId64, lo, hi);
    *out = v;
    return 0;
}

static int parse_mems(const char *s, char *out, size_t cap, wr_error *err)
{
    cpu_set_t set;
    if (wr_parse_cpu_list(s, &set, err) < 0)
        return -1;
    if (wr_format_cpu_list(&set, out, cap) < 0)
        return wr_error_set(err, 0, "too long");
    return 0;
}

static int set_value(struct wr_resources *r, const struct knob *k, const char *v, wr_error *err)
{
    void *field = (char *)r + k->offset;
    uint64_t size;
    int64_t n;
    switch (k->type) {
    case K_CPUS:
        return parse_cpus(v, field, err);
    case K_U64:
        if (strcmp(k->key, "pids-limit") == 0) {
            if (parse_u64(v, -1, INT32_MAX, &n, err) < 0)
                return -1;
            if (n == 0)
                return wr_error_set(err, 0, "must be -1 (unlimited) or at least 1");
            r->pids_limit = n;
            return 0;
        }
        if (parse_u64(v, 2, 262144, &n, err) < 0)
            return -1;
        r->cpu_shares = (uint64_t)n;
        return 0;
    case K_SIZE:
        if (wr_parse_size(v, &size, err) < 0)
            return -1;
        if (size == 0)
            return wr_error_set(err, 0, "must be more than 0");
        if (k->offset == offsetof(struct wr_resources, memory) ||
            k->offset == offsetof(struct wr_resources, memory_reserve))
            *(int64_t *)field = (int64_t)size;
        else
            *(uint64_t *)field = size;
        return 0;
    case K_SIGNED_SIZE:
        if (strcmp(v, "-1") == 0) {
            r->memory_swap = -1;
            return 0;
        }
        if (wr_parse_size(v, &size, err) < 0)
            return -1;
        r->memory_swap = (int64_t)size;
        return 0;
    case K_CPULIST:
        if (wr_parse_cpu_list(v, field, err) < 0)
            return -1;
        if (k->offset == offsetof(struct wr_resources, cpuset_cpus))
            r->has_cpuset_cpus = true;
        else
            r->has_spread = true;
        return 0;
    case K_MEMS:
        return parse_mems(v, r->cpuset_mems, sizeof r->cpuset_mems, err);
    case K_PIN:
        if (parse_u64(v, 0, WR_CPU_SETSIZE - 1, &n, err) < 0)
            return -1;
        r->pin_cpu = (int)n + 1;
        return 0;
    case K_POLICY:
        if (strcmp(v, "round-robin") == 0 || strcmp(v, "rr") == 0)
            r->spread_policy = WR_SPREAD_ROUND_ROBIN;
        else if (strcmp(v, "least-loaded") == 0 || strcmp(v, "least") == 0)
            r->spread_policy = WR_SPREAD_LEAST_LOADED;
        else
            return wr_error_set(err, 0, "must be round-robin or least-loaded");
        return 0;
    case K_FLAG:
        if (v && *v && strcmp(v, "1") != 0 && strcmp(v, "true") != 0)
            return wr_error_set(err, 0, "is a flag (takes no value)");
        *(bool *)field = true;
        return 0;
    case K_FILES:
        if (strlen(v) >= WR_RESOURCE_VALUE_MAX)
            return wr_error_set(err, 0, "longer than %d bytes", WR_RESOURCE_VALUE_MAX - 1);
        for (const char *p = v; *p; p++)
            if (*p != ',' && (p == v || p[-1] == ',') && *p != '/')
                return wr_error_set(err, 0, "paths must be absolute, comma-separated");
        snprintf(r->prefault_files, sizeof r->prefault_files, "%s", v);
        return 0;
    }
    return wr_error_set(err, 0, "unknown type");
}

int wr_resources_set(struct wr_resources *r, const char *key, const char *value, wr_error *err)
{
    const struct knob *k = find_knob(key);
    if (!k)
        return wr_error_set(err, 0, "unknown resource option --%.40s", key);
    if (!value && k->type != K_FLAG)
        return wr_error_set(err, 0, "--%s needs a value", key);
    if (set_value(r, k, value, err) < 0)
        return wr_error_prefix(err, "--%s %.64s", key, value ? value : "");
    return 0;
}

static bool knob_is_set(const struct wr_resources *r, const struct knob *k)
{
    const char *field = (const char *)r + k->offset;
    switch (k->type) {
    case K_CPUS:
        return r->cpus_milli != 0;
    case K_U64:
        return strcmp(k->key, "pids-limit") == 0 ? r->pids_limit != 0 : r->cpu_shares != 0;
    case K_SIZE:
    case K_SIGNED_SIZE:
        return *(const int64_t *)field != 0;
    case K_CPULIST:
        return k->offset == offsetof(struct wr_resources, cpuset_cpus) ? r->has_cpuset_cpus
                                                                       : r->has_spread;
    case K_MEMS:
    case K_FILES:
        return field[0] != '\0';
    case K_PIN:
        return r->pin_cpu != 0;
    case K_POLICY:
        return r->has_spread;
    case K_FLAG:
        return *(const bool *)field;
    }
    return false;
}

static void format_value(const struct wr_resources *r, const struct knob *k, char *out, size_t cap)
{
    const char *field = (const char *)r + k->offset;
    switch (k->type) {
    case K_CPUS:
        snprintf(out, cap, "%u.%03u", r->cpus_milli / 1000, r->cpus_milli % 1000);
        break;
    case K_U64:
        snprintf(out, cap, "%" PRId64,
                 strcmp(k->key, "pids-limit") == 0 ? r->pids_limit : (int64_t)r->cpu_shares);
        break;
    case K_SIZE:
    case K_SIGNED_SIZE:
        snprintf(out, cap, "%" PRId64, *(const int64_t *)field);
        break;
    case K_CPULIST:
        wr_format_cpu_list((const cpu_set_t *)field, out, cap);
        break;
    case K_MEMS:
    case K_FILES:
        snprintf(out, cap, "%s", field);
        break;
    case K_PIN:
        snprintf(out, cap, "%d", r->pin_cpu - 1);
        break;
    case K_POLICY:
        snprintf(out, cap, "%s",
                 r->spread_policy == WR_SPREAD_LEAST_LOADED ? "least-loaded" : "round-robin");
        break;
    case K_FLAG:
        snprintf(out, cap, "1");
        break;
    }
}

int wr_resources_each(const struct wr_resources *r, wr_resources_fn fn, void *ctx)
{
    char value[WR_CPU_SETSIZE * 4 > WR_RESOURCE_VALUE_MAX ? WR_CPU_SETSIZE * 4
                                                          : WR_RESOURCE_VALUE_MAX];
    for (size_t i = 0; i < N_KNOBS; i++) {
        if (!knob_is_set(r, &knobs[i]))
            continue;
        format_value(r, &knobs[i], value, sizeof value);
        if (fn(knobs[i].key, value, ctx) < 0)
            return -1;
    }
    return 0;
}

bool wr_resources_need_cgroup(const struct wr_resources *r)
{
    return r->cpus_milli || r->cpu_shares || r->has_cpuset_cpus || r->cpuset_mems[0] || r->memory ||
           r->memory_swap || r->memory_reserve || r->pids_limit || r->hugepages_limit;
}

bool wr_resources_workload_cpus(const struct wr_resources *r, cpu_set_t *out)
{
    if (r->pin_cpu) {
        CPU_ZERO(out);
        CPU_SET(r->pin_cpu - 1, out);
        return true;
    }
    if (r->has_cpuset_cpus) {
        *out = r->cpuset_cpus;
        return true;
    }
    return false;
}

int wr_resources_cpu_count(const struct wr_resources *r)
{
    cpu_set_t set;
    wr_error err;
    int n;
    if (r->has_spread)
        n = 1; /* each container gets one CPU of the list */
    else if (wr_resources_workload_cpus(r, &set))
        n = CPU_COUNT(&set);
    else if (wr_online_cpus(&set, &err) == 0)
        n = CPU_COUNT(&set);
    else
        n = 1;
    if (r->cpus_milli) {
        int quota = (int)((r->cpus_milli + 999) / 1000);
        if (quota < n)
            n = quota;
    }
    return n > 0 ? n : 1;
}

static void env_add(struct wr_resources_env *env, size_t *n, const char *key, uint64_t v)
{
    if (*n >= WR_RESOURCES_ENV_MAX)
        return;
    snprintf(env->text[*n], WR_RESOURCES_ENV_LEN, "%s=%" PRIu64, key, v);
    env->vec[*n] = env->text[*n];
    (*n)++;
}

void wr_resources_env(const struct wr_resources *r, struct wr_resources_env *env)
{
    size_t n = 0;
    memset(env, 0, sizeof *env);
    if (r->hugepages) {
        env_add(env, &n, "WARMRUN_HUGEPAGE_FD", WR_HUGEPAGE_FD);
        env_add(env, &n, "WARMRUN_HUGEPAGE_SIZE", r->hugepages);
    }
    if (r->mlock) {
        env_add(env, &n, "WARMRUN_MLOCK_FD", WR_MLOCK_FD);
        env_add(env, &n, "WARMRUN_MLOCK_SIZE", r->mlock);
    }
    if (r->tune_env) {
        uint64_t cpus = (uint64_t)wr_resources_cpu_count(r);
        env_add(env, &n, "GOMAXPROCS", cpus);
        env_add(env, &n, "MALLOC_ARENA_MAX", cpus);
        env_add(env, &n, "UV_THREADPOOL_SIZE", cpus < 4 ? 4 : cpus);
        env_add(env, &n, "OMP_NUM_THREADS", cpus);
    }
    env->vec[n] = NULL;
}

struct summary {
    char *out;
    size_t cap, len;
};

static int add_summary(const char *key, const char *value, void *ctx)
{
    struct summary *s = ctx;
    int n = snprintf(s->out + s->len, s->cap - s->len, "%s%s=%s", s->len ? " " : "", key, value);
    if (n > 0 && (size_t)n < s->cap - s->len)
        s->len += (size_t)n;
    return 0;
}

void wr_resources_summary(const struct wr_resources *r, char *out, size_t cap)
{
    struct summary s = {.out = out, .cap = cap};
    out[0] = '\0';
    wr_resources_each(r, add_summary, &s);
}

uint64_t wr_resources_hugetlb_bytes(const struct wr_resources *r)
{
    return r->hugepages_limit > r->hugepages ? r->hugepages_limit : r->hugepages;
}

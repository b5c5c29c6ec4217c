/* Resource settings of a pool (or of one cold start): cgroup limits, CPU
 * placement, huge-page and locked memory, prefault and environment tuning.
 * One struct travels pool -> shim (as repeated `--resource key=value`
 * arguments) -> container, so every layer speaks the same keys; the API
 * carries the same keys as a JSON object (protocol_resources.c). Parsed
 * and validated before anything is created (docs/resources.md). */
#ifndef WARMRUN_RESOURCES_H
#define WARMRUN_RESOURCES_H

#include "error.h"

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_CPU_PERIOD_US      100000
#define WR_MIN_MEMORY_BYTES   (6ULL << 20) /* docker's minimum: below it nothing starts */
#define WR_HUGEPAGE_BYTES     (2ULL << 20)
#define WR_HUGEPAGE_FD        100 /* descriptor numbers the workload finds them at */
#define WR_MLOCK_FD           101
#define WR_RESOURCE_VALUE_MAX 256

enum wr_spread_policy { WR_SPREAD_ROUND_ROBIN, WR_SPREAD_LEAST_LOADED };

struct wr_resources {
    /* cgroup limits; 0 = not set */
    uint32_t cpus_milli;      /* --cpus 1.5 -> 1500 (quota per WR_CPU_PERIOD_US) */
    uint64_t cpu_shares;      /* v1 cpu.shares; v2 cpu.weight derived */
    bool has_cpuset_cpus;     /* --cpuset-cpus */
    cpu_set_t cpuset_cpus;    /* also the workload's affinity */
    char cpuset_mems[64];     /* --cpuset-mems, canonical list; "" = not set */
    int64_t memory;           /* bytes */
    int64_t memory_swap;      /* memory + swap bytes; -1 unlimited */
    int64_t memory_reserve;   /* soft limit */
    int64_t pids_limit;       /* -1 unlimited */
    uint64_t hugepages_limit; /* hugetlb cgroup limit, bytes */
    /* placement */
    int pin_cpu; /* --pin CPU + 1; 0 = not pinned (zeroed struct = nothing set) */
    bool has_spread;
    cpu_set_t spread_cpus; /* pool: warm containers spread over these, one CPU each */
    enum wr_spread_policy spread_policy;
    /* memory handed to the workload */
    uint64_t hugepages; /* bytes of prefaulted 2 MiB pages (WARMRUN_HUGEPAGE_FD) */
    bool hugepages_reserve;
    uint64_t mlock; /* bytes of locked memory (WARMRUN_MLOCK_FD) */
    /* pool-level */
    bool no_prefault;
    char prefault_files[WR_RESOURCE_VALUE_MAX]; /* comma-separated image paths */
    bool tune_env;
};

/* Sets one knob from its option name (without "--", e.g. "memory") and
 * textual value. Errors name the option: "--memory 12Q: unknown size
 * suffix". Returns -1 for an unknown key too. */
int wr_resources_set(struct wr_resources *r, const char *key, const char *value, wr_error *err);
/* The i-th knob's option name; NULL past the last. */
const char *wr_resources_key(size_t i);
/* True when key names a knob (for option tables). */
bool wr_resources_known(const char *key);
/* Whether the knob takes no value (a flag such as "tune-env"). */
bool wr_resources_is_flag(const char *key);

/* Calls fn for every knob that is set, with its canonical value: feeding
 * these back through wr_resources_set gives the same struct. */
typedef int (*wr_resources_fn)(const char *key, const char *value, void *ctx);
int wr_resources_each(const struct wr_resources *r, wr_resources_fn fn, void *ctx);

/* "key=value key=value" of the knobs that are set (pool ls). */
void wr_resources_summary(const struct wr_resources *r, char *out, size_t cap);

/* Checks consistency and the host (online CPUs and memory nodes, huge
 * pages, lock limits, cgroup controllers present and writable). */
int wr_resources_validate(const struct wr_resources *r, wr_error *err);

/* Whether a per-container cgroup is needed. */
bool wr_resources_need_cgroup(const struct wr_resources *r);

/* The CPUs the workload may use (cpuset or pin); false if not restricted. */
bool wr_resources_workload_cpus(const struct wr_resources *r, cpu_set_t *out);

/* The hugetlb cgroup limit: --hugepages-limit, at least --hugepages. */
uint64_t wr_resources_hugetlb_bytes(const struct wr_resources *r);

/* How many CPUs the container may use (for --tune-env and docs). */
int wr_resources_cpu_count(const struct wr_resources *r);

/* Environment defaults the pool adds under the image's Env (huge-page and
 * mlock descriptors, --tune-env): up to WR_RESOURCES_ENV_MAX "K=V" strings
 * in out (each of size WR_RESOURCES_ENV_LEN), NULL-terminated vector in vec. */
#define WR_RESOURCES_ENV_MAX 8
#define WR_RESOURCES_ENV_LEN 64
struct wr_resources_env {
    char text[WR_RESOURCES_ENV_MAX][WR_RESOURCES_ENV_LEN];
    char *vec[WR_RESOURCES_ENV_MAX + 1];
};
void wr_resources_env(const struct wr_resources *r, struct wr_resources_env *env);

/* Parsers, exposed for tests. */
int wr_parse_size(const char *s, uint64_t *out, wr_error *err);
/* The strict form of the store's and the pool's sizes (--max-size,
 * --tmpfs-size): "64m", "1g", "1048576", bytes with an optional binary
 * k/m/g suffix, within lo..hi. 0 or -1. */
int wr_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

#endif

/* See daemon_metrics.h. */
#include "daemon_metrics.h"

#include "daemon_client.h"
#include "daemon_http.h"
#include "daemon_pool.h"
#include "lib/cgroup_stats.h"
#include "lib/cleanup.h"
#include "lib/protocol_text.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Bucket bounds, seconds: a fill is milliseconds to seconds; an activation
 * (request -> execve) tens of microseconds to milliseconds. */
static const double fill_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   1};
#define FILL_N      (sizeof fill_bounds / sizeof *fill_bounds)
#define LATENCY_N   (sizeof latency_bounds / sizeof *latency_bounds)
#define BUCKETS_MAX 16

struct histogram {
    uint64_t counts[BUCKETS_MAX]; /* per bucket (not cumulative); last: +Inf */
    double sum;
    uint64_t count;
};

struct pool_metrics {
    char image[WR_IMAGE_REF_MAX + 1];
    uint64_t counters[METRICS_COUNTERS];
    struct histogram fill, latency;
    struct pool_metrics *next;
};

struct daemon_metrics {
    struct pool_metrics *pools;
    int64_t start_time_s;
};

static struct daemon_metrics *metrics_of(struct daemon *d)
{
    if (!d->metrics && (d->metrics = calloc(1, sizeof *d->metrics)))
        d->metrics->start_time_s = (int64_t)time(NULL);
    return d->metrics;
}

static struct pool_metrics *pool_of(struct daemon *d, const char *image)
{
    struct daemon_metrics *m = metrics_of(d);
    if (!m)
        return NULL;
    for (struct pool_metrics *p = m->pools; p; p = p->next)
        if (!strcmp(p->image, image))
            return p;
    struct pool_metrics *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->image, sizeof p->image, "%s", image);
    p->next = m->pools;
    m->pools = p;
    return p;
}

static void observe(struct histogram *h, const double *bounds, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
    h->count++;
}

void daemon_metrics_count(struct daemon *d, const char *pool, enum metrics_counter c)
{
    struct pool_metrics *p = pool_of(d, pool);
    if (p)
        p->counters[c]++;
}

/* A histogram observation of pool, in seconds. */
static void observe_ns(struct daemon *d, const char *pool, bool fill, int64_t ns)
{
    struct pool_metrics *p = ns > 0 ? pool_of(d, pool) : NULL;
    if (!p)
        return;
    double v = (double)ns / 1e9;
    if (fill)
        observe(&p->fill, fill_bounds, FILL_N, v);
    else
        observe(&p->latency, latency_bounds, LATENCY_N, v);
}

void daemon_metrics_filled(struct daemon *d, const char *pool, int64_t fill_ns)
{
    observe_ns(d, pool, true, fill_ns);
}

void daemon_metrics_latency(struct daemon *d, const char *pool, int64_t ns)
{
    observe_ns(d, pool, false, ns);
}

/* ---- exposition ---------------------------------------------------------- */

/* A label value, escaped as the format wants (\\, \", \n). */
static void put_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*s, f);
    }
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram_series(FILE *f, const char *name, const char *pool, const struct histogram *h,
                             const double *bounds, size_t n)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= n; i++) {
        cumulative += h->counts[i];
        fprintf(f, "%s_bucket{pool=\"", name);
        put_label(f, pool);
        if (i < n)
            fprintf(f, "\",le=\"%g\"} %llu\n", bounds[i], (unsigned long long)cumulative);
        else
            fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    }
    fprintf(f, "%s_sum{pool=\"", name);
    put_label(f, pool);
    fprintf(f, "\"} %.9g\n%s_count{pool=\"", h->sum, name);
    put_label(f, pool);
    fprintf(f, "\"} %llu\n", (unsigned long long)h->count);
}

static void pool_gauge(FILE *f, struct daemon *d, const char *name, const char *help, int which)
{
    header(f, name, "gauge", help);
    for (struct pool *p = d->pools; p; p = p->next) {
        long v = which == 0 ? p->size : which == 1 ? p->warm : which == 2 ? p->filling : p->running;
        fprintf(f, "%s{pool=\"", name);
        put_label(f, p->image);
        fprintf(f, "\"} %ld\n", v);
    }
}

static void render_pools(FILE *f, struct daemon *d)
{
    static const char *const kinds[] = {"warm", "cold", "failed"};
    static const char *const reasons[] = {"pool_empty", "no_pool"};
    const struct daemon_metrics *m = metrics_of(d);
    pool_gauge(f, d, "warmrun_pool_target_containers", "Containers a pool keeps (its size).", 0);
    pool_gauge(f, d, "warmrun_pool_warm_containers", "Warm containers ready in a pool.", 1);
    pool_gauge(f, d, "warmrun_pool_filling_containers", "Containers of a pool being filled.", 2);
    pool_gauge(f, d, "warmrun_pool_running_containers", "Activated containers of a pool running.",
               3);
    if (!m)
        return;
    header(f, "warmrun_activations_total", "counter",
           "Activations by pool and kind: warm (from the pool), cold (a container started for "
           "it), failed.");
    for (const struct pool_metrics *p = m->pools; p; p = p->next)
        for (int k = 0; k < 3; k++) {
            fputs("warmrun_activations_total{pool=\"", f);
            put_label(f, p->image);
            fprintf(f, "\",kind=\"%s\"} %llu\n", kinds[k],
                    (unsigned long long)p->counters[METRICS_WARM + k]);
        }
    header(f, "warmrun_cold_starts_total", "counter",
           "Activations that found no warm container, by reason: pool_empty (the daemon started "
           "one), no_pool (the CLI cold-starts it).");
    for (const struct pool_metrics *p = m->pools; p; p = p->next)
        for (int r = 0; r < 2; r++) {
            fputs("warmrun_cold_starts_total{pool=\"", f);
            put_label(f, p->image);
            fprintf(f, "\",reason=\"%s\"} %llu\n", reasons[r],
                    (unsigned long long)p->counters[METRICS_POOL_EMPTY + r]);
        }
    header(f, "warmrun_fill_failures_total", "counter", "Containers whose fill failed.");
    for (const struct pool_metrics *p = m->pools; p; p = p->next) {
        fputs("warmrun_fill_failures_total{pool=\"", f);
        put_label(f, p->image);
        fprintf(f, "\"} %llu\n", (unsigned long long)p->counters[METRICS_FILL_FAILED]);
    }
    header(f, "warmrun_oom_kills_total", "counter",
           "Activated containers that ended with an OOM kill in their memory cgroup.");
    for (const struct pool_metrics *p = m->pools; p; p = p->next) {
        fputs("warmrun_oom_kills_total{pool=\"", f);
        put_label(f, p->image);
        fprintf(f, "\"} %llu\n", (unsigned long long)p->counters[METRICS_OOM_KILL]);
    }
    header(f, "warmrun_fill_duration_seconds", "histogram",
           "Time from spawning a container's shim to the container being warm.");
    for (const struct pool_metrics *p = m->pools; p; p = p->next)
        histogram_series(f, "warmrun_fill_duration_seconds", p->image, &p->fill, fill_bounds,
                         FILL_N);
    header(f, "warmrun_activation_latency_seconds", "histogram",
           "Time from the daemon receiving an activation to the workload's execve.");
    for (const struct pool_metrics *p = m->pools; p; p = p->next)
        histogram_series(f, "warmrun_activation_latency_seconds", p->image, &p->latency,
                         latency_bounds, LATENCY_N);
}

static const char *state_name(const struct entry *e)
{
    switch (e->state) {
    case ENTRY_FILLING:
        return "filling";
    case ENTRY_STARTING:
        return "starting";
    case ENTRY_WARM:
    case ENTRY_TAKEN:
        return "warm";
    case ENTRY_RUNNING:
        return "running";
    default:
        return NULL;
    }
}

static void container_labels(FILE *f, const char *name, const struct entry *e, const char *state)
{
    fprintf(f, "%s{id=\"%s\",pool=\"", name, e->shim.id);
    put_label(f, e->image);
    fprintf(f, "\",state=\"%s\"}", state);
}

/* Per container: one read of its cgroups, four series. */
static void render_containers(FILE *f, struct daemon *d)
{
    static const char *const names[] = {
        "warmrun_container_cpu_seconds_total", "warmrun_container_cpu_throttled_seconds_total",
        "warmrun_container_cpu_throttled_periods_total", "warmrun_container_memory_usage_bytes"};
    static const char *const types[] = {"counter", "counter", "counter", "gauge"};
    static const char *const helps[] = {
        "CPU time used by a container (its cgroup).",
        "Time a container was throttled by its CPU limit (CFS bandwidth).",
        "CFS periods in which a container was throttled.",
        "Memory used by a container, without inactive file pages (as docker stats)."};
    size_t n = 0;
    for (const struct entry *e = d->entries; e; e = e->next)
        n++;
    cleanup_free struct wr_cg_usage *u = calloc(n ? n : 1, sizeof *u);
    cleanup_free bool *have = calloc(n ? n : 1, sizeof *have);
    if (!u || !have)
        return;
    size_t i = 0;
    wr_error err;
    for (const struct entry *e = d->entries; e; e = e->next, i++)
        have[i] = state_name(e) && wr_cgroup_usage(d->g->state_dir, e->shim.id, &u[i], &err) == 0;
    for (int s = 0; s < 4; s++) {
        header(f, names[s], types[s], helps[s]);
        i = 0;
        for (const struct entry *e = d->entries; e; e = e->next, i++) {
            if (!have[i])
                continue;
            container_labels(f, names[s], e, state_name(e));
            if (s == 0)
                fprintf(f, " %.9f\n", (double)u[i].cpu_ns / 1e9);
            else if (s == 1)
                fprintf(f, " %.9f\n", (double)u[i].throttled_ns / 1e9);
            else if (s == 2)
                fprintf(f, " %llu\n", (unsigned long long)u[i].nr_throttled);
            else
                fprintf(f, " %llu\n", (unsigned long long)u[i].mem_usage);
        }
    }
}

static long count_fds(void)
{
    long n = 0;
    cleanup_closedir DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (de->d_name[0] != '.')
            n++;
    return n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
}

static void read_statm(long *vm, long *rss)
{
    FILE *statm = fopen("/proc/self/statm", "re");
    if (!statm)
        return;
    if (fscanf(statm, "%ld %ld", vm, rss) != 2)
        *vm = *rss = 0;
    fclose(statm);
}

/* The standard process metrics of Prometheus's client libraries. */
static void render_process(FILE *f, const struct daemon_metrics *m)
{
    struct rusage ru;
    struct rlimit rl;
    long pages_rss = 0, pages_vm = 0;
    read_statm(&pages_vm, &pages_rss);
    long page = sysconf(_SC_PAGESIZE);
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    header(f, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    fprintf(f, "process_cpu_seconds_total %.6f\n", cpu);
    header(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    fprintf(f, "process_resident_memory_bytes %ld\n", pages_rss * page);
    header(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    fprintf(f, "process_virtual_memory_bytes %ld\n", pages_vm * page);
    header(f, "process_open_fds", "gauge", "Number of open file descriptors.");
    fprintf(f, "process_open_fds %ld\n", count_fds());
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        header(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    header(f, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    fprintf(f, "process_start_time_seconds %lld\n", (long long)(m ? m->start_time_s : 0));
}

char *daemon_metrics_render(struct daemon *d, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    render_pools(f, d);
    render_containers(f, d);
    render_process(f, metrics_of(d));
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void on_metrics(struct daemon *d, struct daemon_http_request *req, void *arg)
{
    (void)arg;
    size_t len = 0;
    cleanup_free char *text = daemon_metrics_render(d, &len);
    if (!text) {
        daemon_http_respond(req, 500, "text/plain", "out of memory\n", 14, NULL);
        return;
    }
    daemon_http_respond(req, 200, CONTENT_TYPE, text, len, NULL);
}

int daemon_metrics_init(struct daemon *d, wr_error *err)
{
    if (!metrics_of(d))
        return wr_error_set(err, ENOMEM, "metrics");
    return daemon_http_route(d, "GET", "/metrics", 0, on_metrics, NULL, err);
}

void daemon_metrics_send(struct daemon *d, struct client *c)
{
    size_t len = 0;
    cleanup_free char *text = daemon_metrics_render(d, &len);
    if (!text) {
        daemon_send_error(c, "internal", "out of memory");
        return;
    }
    /* Room for all of it: the daemon never waits for a reader. */
    int size = (int)(len * 2 + 65536);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    size_t off = 0;
    do {
        size_t n = len - off > WR_TEXT_CHUNK ? WR_TEXT_CHUNK : len - off;
        /* Whole lines per message. */
        if (off + n < len) {
            const char *nl = memrchr(text + off, '\n', n);
            if (nl)
                n = (size_t)(nl - (text + off)) + 1;
        }
        size_t msg_len;
        cleanup_free char *msg = wr_text_reply_encode(text + off, n, off + n < len, &msg_len);
        if (!msg || send(c->fd, msg, msg_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)msg_len)
            return;
        off += n;
    } while (off < len);
}

void daemon_metrics_free(struct daemon *d)
{
    if (!d->metrics)
        return;
    while (d->metrics->pools) {
        struct pool_metrics *p = d->metrics->pools;
        d->metrics->pools = p->next;
        free(p);
    }
    free(d->metrics);
    d->metrics = NULL;
}

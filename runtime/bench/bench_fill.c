/* `warmrun bench fill [--pool N] [--samples K] [--json FILE]`: what one warm
 * container costs to make and to throw away.
 *
 * 1. Latency: K fills one after the other (pool resized 0, 1, ..., K),
 *    each timed from the resize request to the daemon reporting it warm:
 *    p50/p99 of one fill as the pool sees it.
 * 2. Fill: the pool is emptied, the machine left to settle, then resized to
 *    N at once. CPU from the resize until all N are warm, divided by N:
 *    system-wide (/proc/stat: every CPU's busy ticks, so kworkers, RCU and
 *    softirq work count, and so does whatever else the machine ran) and
 *    per process kind (/proc/PID/schedstat for each process's own time in
 *    ns, /proc/PID/stat cutime+cstime for the time of the children it
 *    reaped). Then the PSS of every warm container (shim + stopped pid 1,
 *    /proc/PID/smaps_rollup).
 * 3. Teardown: `pool rm`, until the last shim is gone, plus a settle time
 *    for the network namespaces' asynchronous cleanup (cleanup_net in a
 *    kworker); the same CPU figures, per container.
 *
 * A process that exits between two snapshots is accounted through its
 * reaper: the daemon reaps the shims, a shim reaps its pid 1. So in the
 * teardown the pid 1's exit is counted with the shims. */
#include "bench_fill.h"

#include "bench_json.h"
#include "bench_subcommands.h"
#include "lib/cleanup.h"
#include "lib/net_config.h"
#include "lib/state_file.h"
#include "lib/stats.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILL_IMAGE       "busybox"
#define FILL_TIMEOUT_S   1800
#define SETTLE_MS        1000 /* after the pool is emptied: netns cleanup_net */
#define TEARDOWN_TIMEOUT 600  /* s */
#define POLL_US          500  /* latency phase: pool ls period */

static const char *const kind_names[FILL_KINDS] = {
    "daemon", "shims", "containers", "kworkers", "kthreads", "bench", "other",
};

/* One process in a snapshot. */
struct proc_cpu {
    pid_t pid, ppid;
    uint64_t start;      /* field 22: tells a reused pid apart */
    int64_t self_ns;     /* schedstat: its own time on CPU */
    int64_t children_ns; /* cutime + cstime: its reaped children's */
    enum fill_kind kind;
};

struct snapshot {
    struct proc_cpu *v;
    size_t n;
    int64_t busy_ticks; /* /proc/stat "cpu": all but idle and iowait */
};

/* The first line of path into buf; -1 if it cannot be read. */
static int first_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    bool got = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    return got ? 0 : -1;
}

static int64_t system_busy_ticks(void)
{
    char line[512];
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
    if (first_line("/proc/stat", line, sizeof line) < 0 ||
        sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
               &iowait, &irq, &softirq, &steal) != 8)
        return -1;
    return (int64_t)(user + nice + sys + irq + softirq + steal);
}

static enum fill_kind classify(pid_t pid, pid_t ppid, const char *comm, pid_t daemon_pid)
{
    if (pid == daemon_pid)
        return FILL_DAEMON;
    if (pid == getpid())
        return FILL_BENCH;
    /* The shim server's forks are the shims' start: its time is theirs. */
    if (strcmp(comm, "warmrun-shim") == 0 || strcmp(comm, "warmrun-shimsrv") == 0)
        return FILL_SHIMS;
    if (strcmp(comm, "warmrun-init") == 0)
        return FILL_CONTAINERS;
    if (strncmp(comm, "kworker", 7) == 0)
        return FILL_KWORKERS;
    if (ppid == 2 || pid == 2)
        return FILL_KTHREADS;
    return FILL_OTHER;
}

static int read_proc(pid_t pid, pid_t daemon_pid, struct proc_cpu *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (first_line(path, buf, sizeof buf) < 0)
        return -1;
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close || close < open)
        return -1;
    char comm[32];
    snprintf(comm, sizeof comm, "%.*s", (int)(close - open - 1), open + 1);
    int ppid;
    long long cut, cst;
    unsigned long long start;
    /* after ')': state(3) ppid(4) ... cutime(16) cstime(17) ... starttime(22) */
    if (sscanf(close + 2,
               "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %lld %lld %*d %*d %*d %*d %llu",
               &ppid, &cut, &cst, &start) != 4)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    char sched[128];
    long long run_ns;
    if (first_line(path, sched, sizeof sched) < 0 || sscanf(sched, "%lld", &run_ns) != 1)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    /* Children's time is kept in ns by the kernel and summed before it is
     * converted: an aggregate of ticks loses nothing per child. */
    *out = (struct proc_cpu){
        .pid = pid,
        .ppid = ppid,
        .start = start,
        .self_ns = run_ns,
        .children_ns = (int64_t)((double)(cut + cst) * 1e9 / hz),
        .kind = classify(pid, ppid, comm, daemon_pid),
    };
    return 0;
}

static void snapshot_free(struct snapshot *s)
{
    free(s->v);
    *s = (struct snapshot){0};
}

/* Every process of the host, sorted by pid (readdir order of /proc). */
static int snapshot_take(struct snapshot *s, pid_t daemon_pid, wr_error *err)
{
    *s = (struct snapshot){0};
    cleanup_closedir DIR *d = opendir("/proc");
    if (!d)
        return wr_error_set(err, errno, "/proc");
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 1024;
            struct proc_cpu *v = realloc(s->v, cap * sizeof *v);
            if (!v) {
                snapshot_free(s);
                return wr_error_set(err, ENOMEM, "snapshot");
            }
            s->v = v;
        }
        if (read_proc((pid_t)atoi(de->d_name), daemon_pid, &s->v[s->n]) == 0)
            s->n++;
    }
    s->busy_ticks = system_busy_ticks();
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    const struct proc_cpu *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct proc_cpu *find(const struct snapshot *s, pid_t pid, uint64_t start)
{
    struct proc_cpu key = {.pid = pid};
    const struct proc_cpu *p = bsearch(&key, s->v, s->n, sizeof key, cmp_pid);
    return p && p->start == start ? p : NULL;
}

static const struct proc_cpu *find_any(const struct snapshot *s, pid_t pid)
{
    struct proc_cpu key = {.pid = pid};
    return bsearch(&key, s->v, s->n, sizeof key, cmp_pid);
}

/* The kind a process's reaped children are counted as: the daemon's are
 * shims, a shim's are containers, anyone else's are its own kind. */
static enum fill_kind children_kind(enum fill_kind k)
{
    return k == FILL_DAEMON ? FILL_SHIMS : k == FILL_SHIMS ? FILL_CONTAINERS : k;
}

/* CPU from a to b by kind, in ms. A process gone by b counts -(its time at
 * a) for the kind its reaper counts its final time as (its parent's
 * children kind, or, if the parent is gone too, the parent's). */
static void snapshot_delta(struct snapshot *a, struct snapshot *b, struct fill_cpu *out)
{
    qsort(a->v, a->n, sizeof *a->v, cmp_pid);
    qsort(b->v, b->n, sizeof *b->v, cmp_pid);
    double ns[FILL_KINDS] = {0};
    for (size_t i = 0; i < b->n; i++) {
        const struct proc_cpu *q = &b->v[i], *p = find(a, q->pid, q->start);
        ns[q->kind] += (double)(q->self_ns - (p ? p->self_ns : 0));
        ns[children_kind(q->kind)] += (double)(q->children_ns - (p ? p->children_ns : 0));
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct proc_cpu *p = &a->v[i];
        if (find(b, p->pid, p->start))
            continue;
        const struct proc_cpu *parent = find_any(a, p->ppid);
        enum fill_kind k = p->kind;
        if (parent && find(b, parent->pid, parent->start))
            k = children_kind(parent->kind);
        else if (parent)
            k = children_kind(find_any(a, parent->ppid) ? find_any(a, parent->ppid)->kind
                                                        : parent->kind);
        ns[k] -= (double)(p->self_ns + p->children_ns);
    }
    double hz = (double)sysconf(_SC_CLK_TCK);
    out->system_ms = (double)(b->busy_ticks - a->busy_ticks) * 1000.0 / hz;
    for (int k = 0; k < FILL_KINDS; k++)
        out->kind_ms[k] = ns[k] / 1e6;
}

static void per_container(struct fill_cpu *c, long n)
{
    c->system_ms /= (double)n;
    for (int k = 0; k < FILL_KINDS; k++)
        c->kind_ms[k] /= (double)n;
}

static void count_record(const struct wr_state_record *rec, void *ctx)
{
    (void)rec;
    (*(long *)ctx)++;
}

static long live_shims(const struct bench_env *e)
{
    long n = 0;
    wr_state_scan(e->state, count_record, &n);
    return n;
}

struct pss_sum {
    long containers, kb;
};

static void add_pss(const struct wr_state_record *rec, void *ctx)
{
    struct pss_sum *s = ctx;
    long a = bench_proc_pss_kb(rec->shim_pid);
    long b = rec->child_pid > 0 ? bench_proc_pss_kb(rec->child_pid) : 0;
    if (a < 0)
        return;
    s->containers++;
    s->kb += a + (b > 0 ? b : 0);
}

static int pool_resize(const struct bench_env *e, long size, wr_error *err)
{
    struct wr_request req = {.op = WR_OP_POOL_CREATE,
                             .image = (char *)FILL_IMAGE,
                             .size = size,
                             .network = (char *)e->network};
    struct wr_reply r;
    if (bench_call(e, &req, &r, err) < 0)
        return -1;
    wr_reply_free(&r);
    return 0;
}

/* Removes the pool and waits until its last shim is gone, then SETTLE_MS. */
static int pool_remove(const struct bench_env *e, wr_error *err)
{
    struct wr_request req = {.op = WR_OP_POOL_RM, .image = (char *)FILL_IMAGE};
    struct wr_reply r;
    if (bench_call(e, &req, &r, err) < 0)
        return -1;
    wr_reply_free(&r);
    int64_t deadline = bench_now_ns() + (int64_t)TEARDOWN_TIMEOUT * 1000000000;
    while (live_shims(e) > 0) {
        if (bench_stop)
            return wr_error_set(err, EINTR, "interrupted");
        if (bench_now_ns() > deadline)
            return wr_error_set(err, ETIMEDOUT, "shims still alive %d s after pool rm",
                                TEARDOWN_TIMEOUT);
        usleep(5000);
    }
    usleep(SETTLE_MS * 1000);
    return 0;
}

static int latency_phase(const struct bench_env *e, long samples, struct fill_result *r,
                         wr_error *err)
{
    cleanup_free double *v = calloc((size_t)samples, sizeof *v);
    if (!v)
        return wr_error_set(err, ENOMEM, "samples");
    if (pool_resize(e, 0, err) < 0)
        return -1; // cppcheck-suppress memleak ; cleanup_free frees v
    size_t n = 0;
    for (long k = 1; k <= samples && !bench_stop; k++) {
        int64_t t0 = bench_now_ns(), deadline = t0 + (int64_t)FILL_TIMEOUT_S * 1000000000;
        if (pool_resize(e, k, err) < 0)
            return -1; // cppcheck-suppress memleak ; cleanup_free frees v
        while (bench_pool_warm(e, FILL_IMAGE) < k) {
            if (bench_stop || bench_now_ns() > deadline)
                return wr_error_set(err, ETIMEDOUT, "fill %ld did not finish", k);
            usleep(POLL_US);
        }
        v[n++] = (double)(bench_now_ns() - t0) / 1e6;
    }
    wr_stats_summarize(v, n, &r->latency);
    return pool_remove(e, err);
}

int bench_fill_run(struct bench_env *e, long pool, long samples, struct fill_result *r,
                   wr_error *err)
{
    *r = (struct fill_result){.pool = pool};
    snprintf(r->network, sizeof r->network, "%s", e->network ? e->network : "none");
    bench_progress("fill latency: %ld fills one after the other", samples);
    if (latency_phase(e, samples, r, err) < 0)
        return -1;

    struct snapshot a = {0}, b = {0};
    bench_progress("filling a pool of %ld", pool);
    if (snapshot_take(&a, e->daemon_pid, err) < 0)
        return -1;
    int64_t t0 = bench_now_ns();
    if (bench_pool_fill(e, FILL_IMAGE, pool, FILL_TIMEOUT_S, err) < 0) {
        snapshot_free(&a);
        return -1;
    }
    r->fill_wall_s = (double)(bench_now_ns() - t0) / 1e9;
    int rc = snapshot_take(&b, e->daemon_pid, err);
    if (rc == 0) {
        snapshot_delta(&a, &b, &r->fill);
        per_container(&r->fill, pool);
    }
    snapshot_free(&a);
    snapshot_free(&b);
    if (rc < 0)
        return -1;

    usleep(500000); /* the last fills' page cache and slab settle */
    struct pss_sum sum = {0};
    wr_state_scan(e->state, add_pss, &sum);
    r->containers = sum.containers;
    r->pss_kb = sum.containers ? (double)sum.kb / (double)sum.containers : 0;

    bench_progress("tearing the pool down");
    if (snapshot_take(&a, e->daemon_pid, err) < 0)
        return -1;
    t0 = bench_now_ns();
    rc = pool_remove(e, err);
    r->teardown_wall_s = (double)(bench_now_ns() - t0) / 1e9 - SETTLE_MS / 1000.0;
    if (rc == 0 && (rc = snapshot_take(&b, e->daemon_pid, err)) == 0) {
        snapshot_delta(&a, &b, &r->teardown);
        per_container(&r->teardown, pool);
    }
    snapshot_free(&a);
    snapshot_free(&b);
    return rc;
}

static double attributed(const struct fill_cpu *c)
{
    double s = 0;
    for (int k = 0; k < FILL_KINDS; k++)
        if (k != FILL_BENCH && k != FILL_OTHER)
            s += c->kind_ms[k];
    return s;
}

void bench_fill_print(const struct fill_result *r)
{
    printf("\nwarmrun bench fill: pool of %ld busybox containers\n", r->pool);
    printf("fill latency (one at a time, %zu): p50 %.2f ms  p99 %.2f ms\n", r->latency.n,
           r->latency.median, r->latency.p99);
    printf("fill of %ld: %.2f s (%.0f containers/s); PSS per warm container %.0f kB (%ld)\n",
           r->pool, r->fill_wall_s, r->fill_wall_s > 0 ? (double)r->pool / r->fill_wall_s : 0,
           r->pss_kb, r->containers);
    printf("teardown of %ld: %.2f s (+%d ms settle)\n", r->pool, r->teardown_wall_s, SETTLE_MS);
    printf("\nCPU ms per container  %10s %10s\n", "fill", "teardown");
    printf("  %-20s %10.3f %10.3f\n", "system (/proc/stat)", r->fill.system_ms,
           r->teardown.system_ms);
    printf("  %-20s %10.3f %10.3f\n", "warmrun + kernel", attributed(&r->fill),
           attributed(&r->teardown));
    for (int k = 0; k < FILL_KINDS; k++)
        printf("    %-18s %10.3f %10.3f\n", kind_names[k], r->fill.kind_ms[k],
               r->teardown.kind_ms[k]);
}

static json_t *cpu_json(const struct fill_cpu *c)
{
    json_t *kinds = json_object();
    for (int k = 0; k < FILL_KINDS; k++)
        json_object_set_new(kinds, kind_names[k], json_real(c->kind_ms[k]));
    return json_pack("{s:f, s:f, s:o}", "system_ms", c->system_ms, "warmrun_kernel_ms",
                     attributed(c), "by_kind_ms", kinds);
}

json_t *bench_fill_json(const struct fill_result *r)
{
    return json_pack("{s:s, s:i, s:s, s:{s:i, s:f, s:f, s:f}, s:f, s:f, s:f, s:i, s:o, s:o}",
                     "schema", "warmrun-bench-fill/1", "pool", (json_int_t)r->pool, "network",
                     r->network, "latency", "n", (json_int_t)r->latency.n, "p50_ms",
                     r->latency.median, "p99_ms", r->latency.p99, "mean_ms", r->latency.mean,
                     "fill_s", r->fill_wall_s, "teardown_s", r->teardown_wall_s,
                     "pss_kb_per_container", r->pss_kb, "containers", (json_int_t)r->containers,
                     "fill_cpu_per_container", cpu_json(&r->fill), "teardown_cpu_per_container",
                     cpu_json(&r->teardown));
}

int bench_cmd_fill(const char *bindir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pool", required_argument, NULL, 'p'},
        {"samples", required_argument, NULL, 'n'},
        {"json", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"network", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] =
        "usage: warmrun bench fill [--pool N] [--samples K] [--network MODE] [--json FILE] "
        "[--quiet]";
    long pool = 200, samples = 50;
    const char *json_path = NULL, *network = NULL;
    struct wr_net_mode mode;
    static char network_text[WR_NET_MODE_TEXT];
    bool bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'p') {
            pool = bench_parse_count("--pool", optarg, 1, WR_POOL_SIZE_MAX, &bad);
        } else if (c == 'n') {
            samples = bench_parse_count("--samples", optarg, 1, 1000, &bad);
        } else if (c == 'j') {
            json_path = optarg;
        } else if (c == 'N') {
            wr_error perr;
            if (wr_net_mode_parse(optarg, &mode, &perr) < 0) {
                bench_msg("%s", perr.msg);
                bad = true;
            } else if (mode.kind != WR_NET_NONE) {
                wr_net_mode_format(&mode, network_text);
                network = network_text;
            }
        } else if (c == 'q') {
            bench_quiet = true;
        } else if (c == 'h') {
            printf("%s\n", usage);
            return BENCH_EXIT_OK;
        } else {
            bad = true;
        }
    }
    if (bad || optind < argc) {
        bench_msg("%s", usage);
        return BENCH_EXIT_USAGE;
    }
    struct bench_env e;
    wr_error err = {0};
    if (bench_env_start(&e, bindir) < 0)
        return BENCH_EXIT_FAILED;
    e.network = network;
    struct fill_result r;
    int rc = BENCH_EXIT_OK;
    /* The default bridge network is a state directory's own: a network of
     * the bench's (bench_network.c). A named one is the user's choice. */
    if (network && mode.kind == WR_NET_BRIDGE && !strcmp(mode.name, WR_NET_DEFAULT_NAME) &&
        bench_network_create(&e, &err) < 0) {
        bench_msg("%s", err.msg);
        bench_env_cleanup(&e);
        return BENCH_EXIT_FAILED;
    }
    if (bench_fill_run(&e, pool, samples, &r, &err) < 0) {
        bench_msg("%s", err.msg);
        rc = BENCH_EXIT_FAILED;
    }
    bench_env_cleanup(&e);
    if (bench_stop) {
        bench_msg("interrupted; nothing left behind");
        return BENCH_EXIT_SIGNAL;
    }
    if (rc != BENCH_EXIT_OK)
        return rc;
    bench_fill_print(&r);
    if (json_path) {
        json_t *root = bench_fill_json(&r);
        if (bench_write_json(root, json_path, &err) < 0) {
            bench_msg("%s", err.msg);
            rc = BENCH_EXIT_FAILED;
        }
        json_decref(root);
    }
    return rc;
}

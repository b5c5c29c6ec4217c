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
 *    reaped; shims and pid 1s only below the bench's daemon: those of other
 *    daemons on a shared machine carry the same names and count as other).
 *    Then the PSS of every warm container (shim + stopped pid 1,
 *    /proc/PID/smaps_rollup).
 * 3. Cycle (the steady state): with the pool full, every warm pid 1 is
 *    killed at once (SIGKILL from outside, as when a workload ends: the
 *    shim reaps it, reports the exit, offers a pristine network namespace
 *    back to the pool, and removes the container), and the daemon refills
 *    the pool. CPU from the kills until the pool is full again and every
 *    ended shim is gone, plus the settle time; per container. How many of
 *    the new containers got an ended one's network namespace is counted
 *    by namespace cookie (SO_NETNS_COOKIE, never reused, unlike inodes).
 * 4. Teardown: `pool rm`, until the last shim is gone, plus a settle time
 *    for the network namespaces' asynchronous cleanup (cleanup_net in a
 *    kworker); the same CPU figures, per container.
 *
 * The measured windows wait without polling (bench_wait.c): fills through
 * the daemon's event stream, ends of shims through pidfds.
 *
 * A process that exits between two snapshots is accounted through its
 * reaper: the daemon reaps the shims, a shim reaps its pid 1. So in the
 * teardown the pid 1's exit is counted with the shims. */
#include "bench_fill.h"

#include "bench_json.h"
#include "bench_subcommands.h"
#include "bench_wait.h"
#include "lib/cleanup.h"
#include "lib/net_config.h"
#include "lib/state_file.h"
#include "lib/stats.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

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
static int cmp_pid(const void *a, const void *b);
static const struct proc_cpu *find_any(const struct snapshot *s, pid_t pid);

/* Shims and containers are the bench daemon's only when it is their
 * ancestor: on a shared machine other daemons' shims and pid 1s carry the
 * same names, and count as other. s is sorted by pid. */
static void keep_own(struct snapshot *s, pid_t daemon_pid)
{
    for (size_t i = 0; i < s->n; i++) {
        struct proc_cpu *p = &s->v[i];
        if (p->kind != FILL_SHIMS && p->kind != FILL_CONTAINERS)
            continue;
        const struct proc_cpu *up = p;
        int depth = 0;
        while (up && up->ppid != daemon_pid && up->ppid > 1 && depth++ < 8)
            up = find_any(s, up->ppid);
        if (!up || up->ppid != daemon_pid)
            p->kind = FILL_OTHER;
    }
}

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
    qsort(s->v, s->n, sizeof *s->v, cmp_pid);
    keep_own(s, daemon_pid);
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

/* The warm containers of the bench's pool, as found in the state records:
 * pidfds of their shims and pid 1s, and their network namespaces' cookies. */
struct warm_set {
    int *shim_fd, *child_fd;
    uint64_t *cookie; /* 0: unknown */
    size_t n, cap;
};

static void warm_set_free(struct warm_set *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->shim_fd[i] >= 0)
            close(w->shim_fd[i]);
        if (w->child_fd[i] >= 0)
            close(w->child_fd[i]);
    }
    free(w->shim_fd);
    free(w->child_fd);
    free(w->cookie);
    *w = (struct warm_set){0};
}

/* The cookie of pid's network namespace: a socket made in it (setns there
 * and back; the socket is closed at once, before anything else can see
 * the namespace). 0 when it cannot be read. */
static uint64_t netns_cookie(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
    cleanup_close int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns < 0 || host < 0 || setns(ns, CLONE_NEWNET) < 0)
        return 0;
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
        cookie = 0;
    if (s >= 0)
        close(s);
    if (setns(host, CLONE_NEWNET) < 0) {
        bench_msg("cannot return to the host's network namespace");
        _exit(BENCH_EXIT_FAILED);
    }
    return cookie;
}

static void add_warm(const struct wr_state_record *rec, void *ctx)
{
    struct warm_set *w = ctx;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        int *a = realloc(w->shim_fd, cap * sizeof *a);
        if (a)
            w->shim_fd = a;
        int *b = realloc(w->child_fd, cap * sizeof *b);
        if (b)
            w->child_fd = b;
        uint64_t *c = realloc(w->cookie, cap * sizeof *c);
        if (c)
            w->cookie = c;
        if (!a || !b || !c)
            return;
        w->cap = cap;
    }
    w->shim_fd[w->n] = wr_state_shim_pidfd(rec);
    w->child_fd[w->n] = wr_state_child_pidfd(rec);
    w->cookie[w->n] = w->child_fd[w->n] >= 0 ? netns_cookie(rec->child_pid) : 0;
    w->n++;
}

static void warm_set_take(const struct bench_env *e, struct warm_set *w)
{
    *w = (struct warm_set){0};
    wr_state_scan(e->state, add_warm, w);
}

/* How many of now's namespaces were one of before's. */
static long netns_reused(const struct warm_set *before, const struct warm_set *now)
{
    long n = 0;
    for (size_t i = 0; i < now->n; i++)
        for (size_t j = 0; now->cookie[i] && j < before->n; j++)
            if (now->cookie[i] == before->cookie[j]) {
                n++;
                break;
            }
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

/* The kernel's memory grown from K0 to K1 (both read when RC is 0), per
 * container of a pool of N. */
static void kernel_mem_delta(int rc, const struct bench_kernel_mem *k0,
                             const struct bench_kernel_mem *k1, long n, struct fill_result *r)
{
    r->kernel_kb = r->slab_kb = r->stacks_kb = r->page_tables_kb = r->percpu_kb = -1;
    if (rc < 0 || n <= 0)
        return;
    r->slab_kb = (double)(k1->slab_kb - k0->slab_kb) / (double)n;
    r->stacks_kb = (double)(k1->stacks_kb - k0->stacks_kb) / (double)n;
    r->page_tables_kb = (double)(k1->page_tables_kb - k0->page_tables_kb) / (double)n;
    r->percpu_kb = (double)(k1->percpu_kb - k0->percpu_kb) / (double)n;
    r->kernel_kb = r->slab_kb + r->stacks_kb + r->page_tables_kb + r->percpu_kb;
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

/* Removes the pool and waits until the shims of w (its containers, taken
 * before) are gone, then SETTLE_MS. */
static int pool_remove(const struct bench_env *e, struct warm_set *w, wr_error *err)
{
    struct wr_request req = {.op = WR_OP_POOL_RM, .image = (char *)FILL_IMAGE};
    struct wr_reply r;
    if (bench_call(e, &req, &r, err) < 0)
        return -1;
    wr_reply_free(&r);
    if (bench_pidfds_wait(w->shim_fd, w->n, TEARDOWN_TIMEOUT, err) < 0)
        return wr_error_prefix(err, "after pool rm");
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
    struct warm_set w;
    warm_set_take(e, &w);
    int rc = pool_remove(e, &w, err);
    warm_set_free(&w);
    return rc;
}

/* Ends every warm container of the full pool at once and measures until
 * the pool is full again and every ended shim is gone (+ SETTLE_MS). */
static int cycle_phase(const struct bench_env *e, long pool, struct fill_result *r, wr_error *err)
{
    struct warm_set old, now;
    struct snapshot a = {0}, b = {0};
    warm_set_take(e, &old);
    if ((long)old.n != pool) {
        warm_set_free(&old);
        return wr_error_set(err, 0, "%zu warm containers found, not %ld", old.n, pool);
    }
    cleanup_close int sock = bench_events_open(e, err);
    if (sock < 0 || snapshot_take(&a, e->daemon_pid, err) < 0) {
        warm_set_free(&old);
        return -1;
    }
    int64_t t0 = bench_now_ns();
    for (size_t i = 0; i < old.n; i++)
        if (old.child_fd[i] >= 0)
            syscall(SYS_pidfd_send_signal, old.child_fd[i], SIGKILL, NULL, 0);
    int rc = bench_events_wait_filled(sock, FILL_IMAGE, pool, FILL_TIMEOUT_S, err);
    if (rc == 0)
        rc = bench_pidfds_wait(old.shim_fd, old.n, TEARDOWN_TIMEOUT, err);
    r->cycle_wall_s = (double)(bench_now_ns() - t0) / 1e9;
    if (rc == 0) {
        usleep(SETTLE_MS * 1000);
        rc = snapshot_take(&b, e->daemon_pid, err);
    }
    if (rc == 0) {
        snapshot_delta(&a, &b, &r->cycle);
        per_container(&r->cycle, pool);
        warm_set_take(e, &now);
        r->cycle_netns_reused = netns_reused(&old, &now);
        warm_set_free(&now);
    }
    snapshot_free(&a);
    snapshot_free(&b);
    warm_set_free(&old);
    return rc;
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
    struct bench_kernel_mem k0, k1;
    int kmem = bench_kernel_mem(&k0);
    if (snapshot_take(&a, e->daemon_pid, err) < 0)
        return -1;
    cleanup_close int sock = bench_events_open(e, err);
    int64_t t0 = bench_now_ns();
    if (sock < 0 || pool_resize(e, pool, err) < 0 ||
        bench_events_wait_filled(sock, FILL_IMAGE, pool, FILL_TIMEOUT_S, err) < 0) {
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
    kernel_mem_delta(kmem == 0 ? bench_kernel_mem(&k1) : -1, &k0, &k1, pool, r);

    bench_progress("ending all %ld warm containers at once; the pool refills", pool);
    if (cycle_phase(e, pool, r, err) < 0)
        return -1;

    bench_progress("tearing the pool down");
    struct warm_set w;
    warm_set_take(e, &w);
    if (snapshot_take(&a, e->daemon_pid, err) < 0) {
        warm_set_free(&w);
        return -1;
    }
    t0 = bench_now_ns();
    rc = pool_remove(e, &w, err);
    warm_set_free(&w);
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
    if (r->kernel_kb >= 0)
        printf("kernel memory per warm container %.0f kB: slab %.0f, page tables %.0f, stacks "
               "%.0f, per-CPU %.0f\n",
               r->kernel_kb, r->slab_kb, r->page_tables_kb, r->stacks_kb, r->percpu_kb);
    printf("cycle of %ld (all ended at once, refilled): %.2f s (+%d ms settle); network "
           "namespaces reused %ld of %ld\n",
           r->pool, r->cycle_wall_s, SETTLE_MS, r->cycle_netns_reused, r->pool);
    printf("teardown of %ld: %.2f s (+%d ms settle)\n", r->pool, r->teardown_wall_s, SETTLE_MS);
    printf("\nCPU ms per container  %10s %10s %10s\n", "fill", "cycle", "teardown");
    printf("  %-20s %10.3f %10.3f %10.3f\n", "system (/proc/stat)", r->fill.system_ms,
           r->cycle.system_ms, r->teardown.system_ms);
    printf("  %-20s %10.3f %10.3f %10.3f\n", "warmrun + kernel", attributed(&r->fill),
           attributed(&r->cycle), attributed(&r->teardown));
    for (int k = 0; k < FILL_KINDS; k++)
        printf("    %-18s %10.3f %10.3f %10.3f\n", kind_names[k], r->fill.kind_ms[k],
               r->cycle.kind_ms[k], r->teardown.kind_ms[k]);
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
    json_t *root =
        json_pack("{s:s, s:i, s:s, s:{s:i, s:f, s:f, s:f}, s:f, s:f, s:f, s:i, s:o, s:o}", "schema",
                  "warmrun-bench-fill/1", "pool", (json_int_t)r->pool, "network", r->network,
                  "latency", "n", (json_int_t)r->latency.n, "p50_ms", r->latency.median, "p99_ms",
                  r->latency.p99, "mean_ms", r->latency.mean, "fill_s", r->fill_wall_s,
                  "teardown_s", r->teardown_wall_s, "pss_kb_per_container", r->pss_kb, "containers",
                  (json_int_t)r->containers, "fill_cpu_per_container", cpu_json(&r->fill),
                  "teardown_cpu_per_container", cpu_json(&r->teardown));
    /* Added beside the old fields (the schema's name stays: nothing that
     * read it loses anything). */
    if (root)
        json_object_update_new(
            root,
            json_pack("{s:f, s:i, s:o, s:f, s:{s:f, s:f, s:f, s:f}}", "cycle_s", r->cycle_wall_s,
                      "cycle_netns_reused", (json_int_t)r->cycle_netns_reused,
                      "cycle_cpu_per_container", cpu_json(&r->cycle), "kernel_kb_per_container",
                      r->kernel_kb, "kernel_kb_by_kind", "slab", r->slab_kb, "page_tables",
                      r->page_tables_kb, "stacks", r->stacks_kb, "percpu", r->percpu_kb));
    return root;
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

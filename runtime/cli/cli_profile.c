/* warmrun profile: samples one container's cgroup counters (cgroup_stats.h)
 * and its processes' /proc/PID/io over time, then reports statistics,
 * leaks, throttling, its I/O pattern and what bounds it (profile.h, the
 * pure analysis; docs/profile.md, the rules). The container is a running
 * one (ID), or one activated here through `activate`'s own code path
 * (IMAGE -- CMD), profiled until it exits or the duration ends. */
#include "cli.h"

#include "lib/api_client.h"
#include "lib/cgroup_stats.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/state_file.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_PARTIAL        3
#define DEFAULT_DURATION_S  10.0
#define DEFAULT_INTERVAL_MS 500.0
#define MIN_INTERVAL_MS     10.0
#define FIND_TIMEOUT_NS     (30LL * 1000000000)
#define TERM_GRACE_NS       (1000LL * 1000000)
#define STOP_GRACE_NS       (10LL * 1000000000)
#define MAX_PROCS           4096
#define MAX_ACTIVE          1024

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct opts {
    double duration_s, interval_ms;
    bool duration_set;
    const char *json, *svg;
    char **rest; /* ID, or activate's arguments (IMAGE ... -- CMD) */
    int n_rest;
    bool image_mode;
};

static void usage(void)
{
    fprintf(stderr, "usage: warmrun profile [--duration S] [--interval MS] [--json FILE] [--svg "
                    "FILE] ID\n       warmrun profile [--duration S] [--interval MS] [--json "
                    "FILE] [--svg FILE] [ACTIVATE OPTIONS] IMAGE -- CMD [ARG...]\n");
}

/* A positive finite number, or -1 with the one-line error printed. */
static int positive(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0) {
        cli_error("profile: %s must be a positive number, not \"%s\"", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Takes profile's own options wherever they are before "--" (before or
 * after ID/IMAGE); everything else, in order, is the target. */
static int parse(int argc, char **argv, struct opts *o)
{
    static const char *const names[] = {"--duration", "--interval", "--json", "--svg"};
    *o = (struct opts){.duration_s = DEFAULT_DURATION_S, .interval_ms = DEFAULT_INTERVAL_MS};
    o->rest = calloc((size_t)argc + 1, sizeof *o->rest);
    if (!o->rest)
        return -1;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        size_t k = 0, len = 0;
        for (; k < 4; k++) {
            len = strlen(names[k]);
            if (!strncmp(argv[i], names[k], len) && (!argv[i][len] || argv[i][len] == '='))
                break;
        }
        if (k == 4) {
            o->rest[o->n_rest++] = argv[i];
            continue;
        }
        const char *v = argv[i][len] == '=' ? argv[i] + len + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            cli_error("profile: %s needs a value", names[k]);
            return -1;
        }
        if (k == 0 && positive("--duration", v, &o->duration_s) < 0)
            return -1;
        if (k == 0)
            o->duration_set = true;
        if (k == 1 && positive("--interval", v, &o->interval_ms) < 0)
            return -1;
        if (k == 1 && o->interval_ms < MIN_INTERVAL_MS) {
            cli_error("profile: --interval must be at least %.0f ms, not \"%s\"", MIN_INTERVAL_MS,
                      v);
            return -1;
        }
        if (k == 2)
            o->json = v;
        if (k == 3)
            o->svg = v;
    }
    o->image_mode = i < argc;
    for (; i < argc; i++)
        o->rest[o->n_rest++] = argv[i];
    if (!o->image_mode && o->n_rest != 1) {
        cli_error("profile: expected one container ID, or IMAGE -- CMD");
        return -1;
    }
    if (o->image_mode && (o->n_rest < 3 || !strcmp(o->rest[o->n_rest - 1], "--"))) {
        cli_error("profile: IMAGE -- CMD: no command after --");
        return -1;
    }
    return 0;
}

/* ---- finding the container ---------------------------------------------- */

struct idset {
    char id[MAX_ACTIVE][16];
    char image[MAX_ACTIVE][256];
    size_t n;
    const char *prefix;
};

static void add_record(const struct wr_state_record *rec, void *ctx)
{
    struct idset *s = ctx;
    if (s->n < MAX_ACTIVE && (!s->prefix || !strncmp(rec->id, s->prefix, strlen(s->prefix)))) {
        snprintf(s->id[s->n], sizeof s->id[0], "%s", rec->id);
        snprintf(s->image[s->n++], sizeof s->image[0], "%s", rec->image);
    }
}

/* The containers that run a workload: the daemon's running (and detached,
 * cold-started) ones; without a daemon, every record (there is no pool). */
static void active_ids(const struct wr_paths *g, struct idset *s)
{
    wr_error err;
    struct wr_request req = {.op = WR_OP_PS};
    struct wr_reply r = {0};
    s->n = 0;
    s->prefix = NULL;
    cleanup_close int sock = wr_api_connect(g->socket, &err);
    if (sock < 0 || wr_api_send_request(sock, &req, NULL, 0, &err) < 0 ||
        wr_api_read_reply(sock, &r, &err) < 0 || !r.ok) {
        wr_reply_free(&r);
        wr_state_scan(g->state_dir, add_record, s);
        return;
    }
    for (size_t i = 0; i < r.n_containers && s->n < MAX_ACTIVE; i++) {
        const struct wr_container_info *c = &r.containers[i];
        if (strcmp(c->state, "running") != 0 && strcmp(c->state, "detached") != 0)
            continue;
        snprintf(s->id[s->n], sizeof s->id[0], "%s", c->id);
        snprintf(s->image[s->n++], sizeof s->image[0], "%s", c->image);
    }
    wr_reply_free(&r);
}

static bool in_set(const struct idset *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->id[i], id))
            return true;
    return false;
}

/* ID: a container of this state directory, by its id or a unique prefix. */
static int find_by_id(const struct wr_paths *g, const char *want, char id[16], char *image,
                      size_t cap)
{
    static struct idset s;
    s.n = 0;
    s.prefix = want;
    if (want[0])
        wr_state_scan(g->state_dir, add_record, &s);
    if (s.n != 1) {
        cli_error(s.n ? "profile: %s names more than one container"
                      : "profile: no such "
                        "container: %s",
                  want);
        return -1;
    }
    snprintf(id, 16, "%s", s.id[0]);
    snprintf(image, cap, "%s", s.image[0]);
    return 0;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    if (ns > 0)
        nanosleep(&ts, NULL); /* EINTR: a signal to stop, seen by the caller */
}

/* IMAGE -- CMD: `activate` run in a child of ours (its stdout goes to our
 * stderr: our stdout is the report); the container is the one that starts
 * to run a workload after the fork. Another activation in the same state
 * directory at the same moment could be taken for it: profile a running
 * container by ID where that matters. */
static int start_activation(const struct wr_paths *g, const struct opts *o, pid_t *child,
                            char id[16], char *image, size_t cap, int *status)
{
    static struct idset before, now;
    active_ids(g, &before);
    fflush(NULL);
    *child = fork();
    if (*child < 0) {
        cli_error("profile: fork: %s", strerror(errno));
        return -1;
    }
    if (*child == 0) {
        char **args = calloc((size_t)o->n_rest + 2, sizeof *args);
        if (!args)
            _exit(WR_EXIT_WARMRUN);
        args[0] = "activate";
        memcpy(args + 1, o->rest, (size_t)o->n_rest * sizeof *args);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
            _exit(WR_EXIT_WARMRUN);
        _exit(cli_activate(g, o->n_rest + 1, args));
    }
    int64_t deadline = wr_monotonic_ns() + FIND_TIMEOUT_NS;
    while (wr_monotonic_ns() < deadline && !interrupted) {
        if (waitpid(*child, status, WNOHANG) == *child) {
            *child = -1;
            cli_error("profile: the workload ended before it could be profiled (activate exited "
                      "with %d)",
                      WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status));
            return -1;
        }
        active_ids(g, &now);
        for (size_t i = 0; i < now.n; i++)
            if (!in_set(&before, now.id[i])) {
                snprintf(id, 16, "%s", now.id[i]);
                snprintf(image, cap, "%s", now.image[i]);
                return 0;
            }
        sleep_ns(10 * 1000000);
    }
    cli_error("profile: the activated container could not be found");
    return -1;
}

/* Ends the activation at the end of the duration: SIGTERM through
 * activate (which passes it on: a workload may handle it), then, as the
 * container's pid 1 ignores signals it has no handler for, SIGKILL to that
 * pid 1 (its state record's pidfd, never a reused pid) after a grace
 * period; activate then gets the exit report and cleans up as always.
 * Last resort: SIGKILL to activate. Reaps it. */
static void stop_activation(const struct wr_paths *g, pid_t child, const char *id)
{
    int status;
    if (child <= 0 || waitpid(child, &status, WNOHANG) == child)
        return;
    kill(child, SIGTERM);
    int64_t start = wr_monotonic_ns();
    bool container_killed = false;
    while (waitpid(child, &status, WNOHANG) == 0) {
        int64_t waited = wr_monotonic_ns() - start;
        if (!container_killed && waited > TERM_GRACE_NS) {
            struct wr_state_record rec;
            wr_error err;
            container_killed = true;
            if (id[0] && wr_state_read(g->state_dir, id, &rec, &err) == 0) {
                cleanup_close int pidfd = wr_state_child_pidfd(&rec);
                if (pidfd >= 0)
                    (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
            }
        }
        if (waited > STOP_GRACE_NS) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            return;
        }
        sleep_ns(10 * 1000000);
    }
}

/* ---- sampling ------------------------------------------------------------ */

struct raw {
    int64_t at_ns;
    struct wr_cg_usage u;
    uint64_t rchar, wchar, read_bytes, write_bytes;
    size_t n_procs;
};

/* Adds one process's /proc/PID/io (a reaped child's I/O is in its
 * parent's, so the sum keeps what short-lived processes did). */
static void add_proc_io(pid_t pid, struct raw *r)
{
    char path[64], line[128];
    uint64_t v;
    snprintf(path, sizeof path, "/proc/%ld/io", (long)pid);
    cleanup_fclose FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "rchar: %" SCNu64, &v) == 1)
            r->rchar += v;
        else if (sscanf(line, "wchar: %" SCNu64, &v) == 1)
            r->wchar += v;
        else if (sscanf(line, "read_bytes: %" SCNu64, &v) == 1)
            r->read_bytes += v;
        else if (sscanf(line, "write_bytes: %" SCNu64, &v) == 1)
            r->write_bytes += v;
    }
}

/* Returns -1 when the container is gone (no cgroup, or no process left). */
static int read_raw(const char *state_dir, const char *id, struct raw *r)
{
    static pid_t pids[MAX_PROCS];
    wr_error err;
    memset(r, 0, sizeof *r);
    r->at_ns = wr_monotonic_ns();
    ssize_t n = wr_cgroup_procs(state_dir, id, pids, MAX_PROCS, &err);
    if (n <= 0 || wr_cgroup_usage(state_dir, id, &r->u, &err) < 0)
        return -1;
    r->n_procs = (size_t)n;
    for (ssize_t i = 0; i < n; i++)
        add_proc_io(pids[i], r);
    return 0;
}

/* A counter's rate per second; 0 when it went back (a process that held
 * part of the sum exited unreaped by the container). */
static double rate(uint64_t now, uint64_t before, double secs)
{
    return now >= before && secs > 0 ? (double)(now - before) / secs : 0;
}

static double delta(uint64_t now, uint64_t before)
{
    return now >= before ? (double)(now - before) : 0;
}

static void derive(const struct raw *first, const struct raw *b, const struct raw *a,
                   struct profile_sample *s)
{
    double secs = (double)(a->at_ns - b->at_ns) / 1e9;
    memset(s, 0, sizeof *s);
    s->t_s = (double)(a->at_ns - first->at_ns) / 1e9;
    s->mem_usage = (double)a->u.mem_usage;
    s->mem_limit = (double)a->u.mem_limit;
    s->mem_cache = (double)a->u.mem_cache;
    s->mem_rss = (double)a->u.mem_rss;
    s->cpu_pct = 100 * rate(a->u.cpu_ns, b->u.cpu_ns, secs) / 1e9;
    if (a->u.n_percpu == b->u.n_percpu) {
        s->n_cpus = a->u.n_percpu < PROFILE_MAX_CPUS ? a->u.n_percpu : PROFILE_MAX_CPUS;
        for (unsigned c = 0; c < s->n_cpus; c++)
            s->percpu_pct[c] = 100 * rate(a->u.percpu_ns[c], b->u.percpu_ns[c], secs) / 1e9;
    }
    s->periods = delta(a->u.nr_periods, b->u.nr_periods);
    s->throttled = delta(a->u.nr_throttled, b->u.nr_throttled);
    s->throttled_ms = delta(a->u.throttled_ns, b->u.throttled_ns) / 1e6;
    s->blk_read_bps = rate(a->u.io_read_bytes, b->u.io_read_bytes, secs);
    s->blk_write_bps = rate(a->u.io_write_bytes, b->u.io_write_bytes, secs);
    s->blk_read_iops = rate(a->u.io_read_ops, b->u.io_read_ops, secs);
    s->blk_write_iops = rate(a->u.io_write_ops, b->u.io_write_ops, secs);
    s->proc_rchar_bps = rate(a->rchar, b->rchar, secs);
    s->proc_wchar_bps = rate(a->wchar, b->wchar, secs);
    s->proc_read_bps = rate(a->read_bytes, b->read_bytes, secs);
    s->proc_write_bps = rate(a->write_bytes, b->write_bytes, secs);
    s->pids = (double)a->u.pids;
    s->oom_kills = (double)a->u.oom_kills;
}

struct run_state {
    struct profile_sample *s;
    size_t n, cap;
};

static int push(struct run_state *st, const struct profile_sample *s)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        struct profile_sample *grown = realloc(st->s, cap * sizeof *grown);
        if (!grown)
            return -1;
        st->s = grown;
        st->cap = cap;
    }
    st->s[st->n++] = *s;
    return 0;
}

static void progress(const struct profile_run *run, const struct run_state *st)
{
    const struct profile_sample *last = st->n ? &st->s[st->n - 1] : NULL;
    fprintf(stderr, "\rprofiling %s: %.1f", run->id, last ? last->t_s : 0.0);
    if (run->duration_s > 0)
        fprintf(stderr, "/%.1f", run->duration_s);
    fprintf(stderr, " s, %zu samples, memory %.1f MiB, CPU %.0f%%   ", st->n,
            last ? last->mem_usage / 1048576.0 : 0.0, last ? last->cpu_pct : 0.0);
}

/* Samples until the duration ends, the container goes, or a signal. */
static void sample_loop(const struct wr_paths *g, struct profile_run *run, bool until_exit,
                        struct run_state *st)
{
    static struct raw first, before, now;
    bool tty = isatty(STDERR_FILENO);
    int64_t interval = (int64_t)(run->interval_ms * 1e6);
    if (read_raw(g->state_dir, run->id, &first) < 0) {
        run->partial = true;
        snprintf(run->partial_reason, sizeof run->partial_reason,
                 "the container exited before the first sample");
        return;
    }
    before = first;
    for (int64_t next = first.at_ns + interval;; next += interval) {
        sleep_ns(next - wr_monotonic_ns());
        if (interrupted) {
            run->partial = true;
            snprintf(run->partial_reason, sizeof run->partial_reason,
                     "interrupted after %.1f s of %.1f s", run->elapsed_s, run->duration_s);
            break;
        }
        if (read_raw(g->state_dir, run->id, &now) < 0) {
            if (!until_exit || st->n == 0) {
                run->partial = true;
                snprintf(run->partial_reason, sizeof run->partial_reason,
                         "the container exited after %.1f s%s%.1f s asked for, %zu samples",
                         run->elapsed_s, run->duration_s > 0 ? " of the " : ", ", run->duration_s,
                         st->n);
            }
            break;
        }
        struct profile_sample s;
        derive(&first, &before, &now, &s);
        if (push(st, &s) < 0)
            break;
        before = now;
        run->elapsed_s = s.t_s;
        if (tty)
            progress(run, st);
        if (run->duration_s > 0 && s.t_s + run->interval_ms / 2000 >= run->duration_s)
            break;
    }
    if (tty)
        fputc('\n', stderr);
}

/* ---- output -------------------------------------------------------------- */

static int write_json(const char *path, const struct profile_run *run, const struct run_state *st,
                      const struct profile_analysis *a)
{
    cleanup_free char *text = profile_report_json(run, st->s, st->n, a);
    if (!text) {
        cli_error("profile: out of memory");
        return -1;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;
    if (!f || fprintf(f, "%s\n", text) < 0 || (f != stdout && fclose(f) != 0)) {
        cli_error("profile: %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_svg(const char *path, const struct profile_run *run, const struct run_state *st)
{
    FILE *f = fopen(path, "we");
    if (!f || profile_svg(f, run, st->s, st->n) < 0 || fclose(f) != 0) {
        cli_error("profile: %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cli_profile(const struct wr_paths *g, int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o) < 0) {
        free(o.rest);
        usage();
        return WR_EXIT_USAGE;
    }
    char id[16], image[256] = "", command[256] = "";
    pid_t child = -1;
    int status = 0, rc = 0;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (o.image_mode) {
        for (int i = 0, past = 0, len = 0; i < o.n_rest && len < (int)sizeof command; i++) {
            if (past)
                len += snprintf(command + len, sizeof command - (size_t)len, "%s%s",
                                past > 1 ? " " : "", o.rest[i]);
            past += past || !strcmp(o.rest[i], "--");
        }
        if (start_activation(g, &o, &child, id, image, sizeof image, &status) < 0) {
            stop_activation(g, child, "");
            free(o.rest);
            return WR_EXIT_FAILED;
        }
    } else if (find_by_id(g, o.rest[0], id, image, sizeof image) < 0) {
        free(o.rest);
        return WR_EXIT_FAILED;
    }
    struct profile_run run = {
        .id = id,
        .image = image,
        .command = command,
        .duration_s = o.image_mode && !o.duration_set ? 0 : o.duration_s,
        .interval_ms = o.interval_ms,
    };
    struct run_state st = {0};
    sample_loop(g, &run, o.image_mode, &st);
    stop_activation(g, child, id);
    static struct profile_analysis a;
    profile_analyze(st.s, st.n, &a);
    bool json_stdout = o.json && !strcmp(o.json, "-");
    if (!json_stdout)
        profile_report_text(stdout, &run, st.s, st.n, &a);
    if (o.json && write_json(o.json, &run, &st, &a) < 0)
        rc = WR_EXIT_FAILED;
    if (o.svg && write_svg(o.svg, &run, &st) < 0)
        rc = WR_EXIT_FAILED;
    if (!rc && run.partial)
        rc = EXIT_PARTIAL;
    free(st.s);
    free(o.rest);
    return rc;
}

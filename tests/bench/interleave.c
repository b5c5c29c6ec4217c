/* interleave: whole-process wall time of several commands, measured
 * interleaved round by round so that slow drift (frequency scaling, cache and
 * page-cache state, background load) affects every command alike.
 *
 *   interleave [--rounds N] [--warmup W] [--json FILE]
 *              --run NAME -- CMD ARGS... ';;' --run NAME2 -- CMD2 ARGS...
 *
 * Every round runs each command once; the order is rotated each round so no
 * command always goes first. W warm-up rounds run first and are not counted.
 * One run is clock_gettime(CLOCK_MONOTONIC) just before posix_spawn and just
 * after waitpid, with the child's stdin, stdout and stderr on /dev/null; the
 * child's own CPU time (user + system, wait4's rusage) is summed too, for
 * the CPU an exec costs (a static start-up, say). A run
 * that does not exit with status 0 is a failure: counted and reported, left
 * out of the statistics. Exit status: 0, 1 when more than 10% of some
 * command's runs failed (after printing the results) or on a runtime error,
 * 2 on bad usage. On SIGINT, SIGTERM or SIGHUP the running child gets the
 * same signal, is reaped, and interleave then dies of that signal.
 *
 * The statistics are the project's own (runtime/lib/stats.h), the same the
 * daemon uses for its latency figures. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/stats.h"

#define PROG         "interleave"
#define MAX_ROUNDS   1000000L
#define MAX_WARMUP   1000000L
#define SEPARATOR    ";;"
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

struct command {
    const char *name;
    char **argv;     /* NULL-terminated; the strings belong to main's argv */
    char *path;      /* argv[0] resolved against PATH once, up front */
    double *samples; /* ms of each successful counted run */
    size_t n;        /* successful counted runs */
    double user_ms;  /* the child's user CPU time, summed over the n runs */
    double sys_ms;   /* its system CPU time, summed */
    size_t failures; /* failed counted runs */
    size_t warmup_failures;
    bool failure_seen; /* the first failure has been described on stderr */
};

struct options {
    long rounds;
    long warmup;
    const char *json_path;
    struct command *cmds;
    size_t ncmds;
};

/* The JSON is written to "<FILE>.tmp" and renamed into place at the end, so
 * FILE is never left half-written; a fatal error removes the temporary. */
static char *json_tmp_path;

/* The termination signal received, if any (see catch_signals()). */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static const int term_signals[] = {SIGINT, SIGTERM, SIGHUP};
static bool term_caught[sizeof term_signals / sizeof term_signals[0]];

/* Catches the termination signals that are not ignored (a shell's background
 * job ignores SIGINT; its children must keep doing so). Without SA_RESTART,
 * so that waitpid returns EINTR and the signal reaches the child. A caught
 * signal is reset to its default by exec, so children see no difference. */
static void catch_signals(void)
{
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++) {
        struct sigaction old, sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        if (sigaction(term_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            term_caught[i] = sigaction(term_signals[i], &sa, NULL) == 0;
    }
}

/* Back to the default action once no child is running any more. */
static void restore_signals(void)
{
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++)
        if (term_caught[i])
            signal(term_signals[i], SIG_DFL);
}

/* Called between runs: after a termination signal, remove the partial JSON
 * and die of the same signal. */
static void check_signal(void)
{
    int sig = got_signal;
    if (!sig)
        return;
    if (json_tmp_path)
        unlink(json_tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [--rounds N] [--warmup W] [--json FILE]\n"
            "       --run NAME -- CMD [ARGS...] [';;' --run NAME2 -- CMD2 [ARGS...]]...\n"
            "  --rounds N   counted rounds, 1..%ld (default 100)\n"
            "  --warmup W   uncounted warm-up rounds first, 0..%ld (default 0)\n"
            "  --json FILE  also write the results as JSON to FILE\n"
            "Each round runs every command once, in an order rotated every round.\n"
            "Times are whole-process wall clock (spawn to reap) in milliseconds;\n"
            "cpu: the child's own CPU time per run (user + system), mean.\n",
            MAX_ROUNDS, MAX_WARMUP);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (json_tmp_path)
        unlink(json_tmp_path);
    exit(1);
}

static long parse_count(const char *opt, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        usage_error("%s: expected an integer in %ld..%ld, got '%s'", opt, min, max, s);
    return v;
}

/* Resolves a command word the way execvp would, so that the PATH search is
 * not part of every measured run and a missing command is a usage error. */
static char *resolve_command(const char *run_name, const char *word)
{
    struct stat st;
    if (strchr(word, '/')) {
        if (stat(word, &st) < 0 || !S_ISREG(st.st_mode) || access(word, X_OK) < 0)
            usage_error("--run %s: '%s' is not an executable file", run_name, word);
        char *p = strdup(word);
        if (!p)
            die("out of memory");
        return p;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = DEFAULT_PATH;
    for (const char *dir = path;;) {
        const char *colon = strchr(dir, ':');
        size_t len = colon ? (size_t)(colon - dir) : strlen(dir);
        char *cand;
        /* An empty PATH element means the current directory. */
        if (asprintf(&cand, "%.*s%s%s", (int)len, dir, len ? "/" : "", word) < 0)
            die("out of memory");
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        if (!colon)
            break;
        dir = colon + 1;
    }
    usage_error("--run %s: command '%s' not found in PATH", run_name, word);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 100, .warmup = 0};
    /* Every command takes at least 4 words, so this bounds the count. */
    o->cmds = calloc((size_t)argc / 4 + 1, sizeof *o->cmds);
    if (!o->cmds)
        die("out of memory");

    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--rounds") == 0 || strcmp(a, "--warmup") == 0 ||
                   strcmp(a, "--json") == 0) {
            if (i + 1 >= argc)
                usage_error("%s needs a value", a);
            const char *v = argv[i + 1];
            if (strcmp(a, "--rounds") == 0)
                o->rounds = parse_count(a, v, 1, MAX_ROUNDS);
            else if (strcmp(a, "--warmup") == 0)
                o->warmup = parse_count(a, v, 0, MAX_WARMUP);
            else if (*v == '\0')
                usage_error("--json needs a non-empty file name");
            else
                o->json_path = v;
            i += 2;
        } else if (strcmp(a, "--run") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                usage_error("--run needs a NAME");
            const char *name = argv[i + 1];
            if (i + 2 >= argc || strcmp(argv[i + 2], "--") != 0)
                usage_error("--run %s: expected '--' and a command after the name", name);
            for (size_t k = 0; k < o->ncmds; k++)
                if (strcmp(o->cmds[k].name, name) == 0)
                    usage_error("--run %s: duplicate name", name);
            int start = i + 3, end = start;
            while (end < argc && strcmp(argv[end], SEPARATOR) != 0)
                end++;
            if (end == start)
                usage_error("--run %s: empty command", name);

            struct command *c = &o->cmds[o->ncmds++];
            c->name = name;
            c->argv = calloc((size_t)(end - start) + 1, sizeof *c->argv);
            if (!c->argv)
                die("out of memory");
            memcpy(c->argv, argv + start, (size_t)(end - start) * sizeof *c->argv);
            c->path = resolve_command(name, argv[start]);
            i = end < argc ? end + 1 : end; /* skip the ';;' */
        } else if (strcmp(a, SEPARATOR) == 0) {
            usage_error("unexpected '" SEPARATOR "' (it separates --run commands)");
        } else {
            usage_error("unexpected argument '%s' (commands start with --run NAME --)", a);
        }
    }
    if (o->ncmds == 0)
        usage_error("no command given (--run NAME -- CMD ...)");
}

static double elapsed_ms(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) * 1e3 + (double)(t1->tv_nsec - t0->tv_nsec) / 1e6;
}

static void describe_failure(struct command *c, int spawn_err, int status)
{
    if (c->failure_seen)
        return;
    c->failure_seen = true;
    if (spawn_err)
        fprintf(stderr, PROG ": %s: first failure: cannot spawn %s: %s\n", c->name, c->path,
                strerror(spawn_err));
    else if (WIFEXITED(status))
        fprintf(stderr, PROG ": %s: first failure: exit status %d\n", c->name, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, PROG ": %s: first failure: killed by signal %d (%s)\n", c->name,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        fprintf(stderr, PROG ": %s: first failure: wait status 0x%x\n", c->name, (unsigned)status);
}

static double timeval_ms(const struct timeval *tv)
{
    return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/* Runs c once; on success stores the wall time in *ms and the child's CPU
 * time in *ru, and returns true. */
static bool run_once(struct command *c, const posix_spawn_file_actions_t *fa, double *ms,
                     struct rusage *ru)
{
    struct timespec t0, t1;
    pid_t pid;
    int status = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    int err = posix_spawn(&pid, c->path, fa, NULL, c->argv, environ);
    if (err == 0) {
        bool forwarded = false;
        while (wait4(pid, &status, 0, ru) < 0) {
            if (errno != EINTR)
                die("wait4 %s: %s", c->name, strerror(errno));
            if (got_signal && !forwarded) {
                kill(pid, got_signal);
                forwarded = true;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (err != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!got_signal) /* a child we interrupted did not fail */
            describe_failure(c, err, status);
        return false;
    }
    *ms = elapsed_ms(&t0, &t1);
    return true;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_ms(FILE *f, const char *key, double v, bool valid)
{
    if (valid)
        fprintf(f, ",\"%s\":%.3f", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

static void write_json(FILE *f, const struct options *o, const struct wr_stats_summary *sum)
{
    double base = sum[0].median;
    fprintf(f, "{\"rounds\":%ld,\"warmup\":%ld,\"runtimes\":[", o->rounds, o->warmup);
    for (size_t k = 0; k < o->ncmds; k++) {
        const struct command *c = &o->cmds[k];
        const struct wr_stats_summary *s = &sum[k];
        bool ok = s->n > 0;
        fprintf(f, "%s\n  {\"name\":", k ? "," : "");
        json_string(f, c->name);
        fputs(",\"command\":[", f);
        for (char **w = c->argv; *w; w++) {
            if (w != c->argv)
                fputc(',', f);
            json_string(f, *w);
        }
        fprintf(f, "],\"n\":%zu,\"failures\":%zu", s->n, c->failures);
        json_ms(f, "mean_ms", s->mean, ok);
        json_ms(f, "median_ms", s->median, ok);
        json_ms(f, "p90_ms", s->p90, ok);
        json_ms(f, "p99_ms", s->p99, ok);
        json_ms(f, "min_ms", s->min, ok);
        json_ms(f, "max_ms", s->max, ok);
        json_ms(f, "stddev_ms", s->stddev, ok);
        json_ms(f, "cpu_user_mean_ms", ok ? c->user_ms / (double)s->n : 0, ok);
        json_ms(f, "cpu_sys_mean_ms", ok ? c->sys_ms / (double)s->n : 0, ok);
        if (ok && sum[0].n > 0 && base > 0)
            fprintf(f, ",\"ratio\":%.3f}", s->median / base);
        else
            fputs(",\"ratio\":null}", f);
    }
    fputs("\n]}\n", f);
}

static void print_table(const struct options *o, const struct wr_stats_summary *sum)
{
    int w = 4;
    for (size_t k = 0; k < o->ncmds; k++) {
        int len = (int)strlen(o->cmds[k].name);
        if (len > w)
            w = len;
    }
    printf("# %ld rounds after %ld warm-up rounds; times in ms; ratio = median / median of %s\n",
           o->rounds, o->warmup, o->cmds[0].name);
    printf("%-*s %7s %7s %10s %10s %10s %10s %10s %10s %10s %8s %8s\n", w, "name", "n", "fail",
           "mean", "median", "p90", "p99", "min", "max", "stddev", "ratio", "cpu");
    for (size_t k = 0; k < o->ncmds; k++) {
        const struct wr_stats_summary *s = &sum[k];
        printf("%-*s %7zu %7zu", w, o->cmds[k].name, s->n, o->cmds[k].failures);
        if (s->n > 0)
            printf(" %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f", s->mean, s->median, s->p90,
                   s->p99, s->min, s->max, s->stddev);
        else
            printf(" %10s %10s %10s %10s %10s %10s %10s", "-", "-", "-", "-", "-", "-", "-");
        if (s->n > 0 && sum[0].n > 0 && sum[0].median > 0)
            printf(" %8.3f", s->median / sum[0].median);
        else
            printf(" %8s", "-");
        if (s->n > 0)
            printf(" %8.3f\n", (o->cmds[k].user_ms + o->cmds[k].sys_ms) / (double)s->n);
        else
            printf(" %8s\n", "-");
    }
    fflush(stdout);
}

/* Opens /dev/null once; the children get it on 0, 1 and 2 by dup2. */
static int open_devnull(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("open /dev/null: %s", strerror(errno));
    if (fd < 3) { /* we were started with a standard fd closed: move it away */
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (moved < 0)
            die("fcntl: %s", strerror(errno));
        close(fd);
        fd = moved;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);

    cleanup_fclose FILE *json = NULL;
    if (o.json_path) {
        if (asprintf(&json_tmp_path, "%s.tmp", o.json_path) < 0)
            die("out of memory");
        json = fopen(json_tmp_path, "we");
        if (!json) {
            int e = errno;
            free(json_tmp_path);
            json_tmp_path = NULL; /* nothing to remove */
            die("--json %s: cannot create %s.tmp: %s", o.json_path, o.json_path, strerror(e));
        }
    }

    for (size_t k = 0; k < o.ncmds; k++) {
        o.cmds[k].samples = calloc((size_t)o.rounds, sizeof(double));
        if (!o.cmds[k].samples)
            die("out of memory for %ld samples", o.rounds);
    }

    catch_signals();
    cleanup_close int devnull = open_devnull();
    posix_spawn_file_actions_t fa;
    int err = posix_spawn_file_actions_init(&fa);
    if (err == 0)
        err = posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    if (err == 0)
        err = posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    if (err == 0)
        err = posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    if (err != 0)
        die("posix_spawn_file_actions: %s", strerror(err));

    long total = o.warmup + o.rounds;
    if (o.warmup > 0)
        fprintf(stderr, PROG ": %ld warm-up rounds of %zu commands\n", o.warmup, o.ncmds);
    for (long r = 0; r < total; r++) {
        bool counted = r >= o.warmup;
        if (r == o.warmup)
            fprintf(stderr, PROG ": %ld rounds of %zu commands\n", o.rounds, o.ncmds);
        for (size_t pos = 0; pos < o.ncmds; pos++) {
            struct command *c = &o.cmds[((size_t)r + pos) % o.ncmds];
            double ms;
            struct rusage ru;
            check_signal();
            if (run_once(c, &fa, &ms, &ru)) {
                if (counted) {
                    c->samples[c->n++] = ms;
                    c->user_ms += timeval_ms(&ru.ru_utime);
                    c->sys_ms += timeval_ms(&ru.ru_stime);
                }
            } else if (counted) {
                c->failures++;
            } else {
                c->warmup_failures++;
            }
        }
        if (counted) {
            long done = r - o.warmup + 1;
            /* One line each time another tenth of the rounds is complete. */
            if (done * 10 / o.rounds != (done - 1) * 10 / o.rounds)
                fprintf(stderr, PROG ": %ld/%ld rounds (%ld%%)\n", done, o.rounds,
                        done * 100 / o.rounds);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    restore_signals();
    check_signal();

    struct wr_stats_summary *sum = calloc(o.ncmds, sizeof *sum);
    if (!sum)
        die("out of memory");
    for (size_t k = 0; k < o.ncmds; k++)
        wr_stats_summarize(o.cmds[k].samples, o.cmds[k].n, &sum[k]);

    print_table(&o, sum);

    int status = 0;
    for (size_t k = 0; k < o.ncmds; k++) {
        const struct command *c = &o.cmds[k];
        if (c->warmup_failures)
            fprintf(stderr, PROG ": %s: %zu of %ld warm-up runs failed\n", c->name,
                    c->warmup_failures, o.warmup);
        if (c->failures)
            fprintf(stderr, PROG ": %s: %zu of %ld runs failed%s\n", c->name, c->failures, o.rounds,
                    c->failures * 10 > (size_t)o.rounds ? " (more than 10%)" : "");
        if (c->failures * 10 > (size_t)o.rounds)
            status = 1;
    }

    if (json) {
        write_json(json, &o, sum);
        FILE *f = steal_pointer(&json);
        bool bad = ferror(f) != 0;
        if (fclose(f) != 0)
            bad = true;
        if (bad)
            die("--json %s: write error", o.json_path);
        if (rename(json_tmp_path, o.json_path) < 0)
            die("--json: rename %s to %s: %s", json_tmp_path, o.json_path, strerror(errno));
        free(json_tmp_path);
        json_tmp_path = NULL;
    }

    for (size_t k = 0; k < o.ncmds; k++) {
        free(o.cmds[k].argv);
        free(o.cmds[k].path);
        free(o.cmds[k].samples);
    }
    free(o.cmds);
    free(sum);
    return status;
}

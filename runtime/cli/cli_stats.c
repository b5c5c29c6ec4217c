/* warmrun stats: each container's CPU, memory, network and block I/O and
 * pids, as `docker stats` shows them, read from its cgroups (every
 * container has them) by this CLI itself; the daemon only lists the
 * containers (ps). `--daemon`: the daemon's activation latency view. */
#include "cli.h"

#include "lib/cgroup_stats.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/net_stats.h"
#include "lib/protocol_usage.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --no-stream measures CPU % over this much time (Docker reads twice too). */
#define NO_STREAM_INTERVAL_NS (500LL * 1000000)
#define STREAM_INTERVAL_NS    (1000LL * 1000000)
#define STATS_USAGE           "usage: warmrun stats [--no-stream] [--json] [ID...] | stats --daemon [--json]"

/* Does the container c match one of the IDs asked for (a prefix of its
 * id, as docker takes)? No IDs: every container. */
static bool wanted(const struct wr_container_info *c, char **ids, int n_ids, bool *seen)
{
    if (!n_ids)
        return true;
    bool any = false;
    for (int i = 0; i < n_ids; i++)
        if (ids[i][0] && !strncmp(c->id, ids[i], strlen(ids[i]))) {
            seen[i] = true;
            any = true;
        }
    return any;
}

struct sample {
    struct wr_usage_row *rows;
    size_t n;
    int64_t at_ns;
};

/* One reading of every listed container that has a cgroup (a filling one
 * may not yet). Returns -1 when the daemon cannot be asked, or an ID asked
 * for names no container (*exit_code set). */
static int read_sample(const struct wr_paths *g, char **ids, int n_ids, struct sample *s,
                       int *exit_code)
{
    struct wr_request req = {.op = WR_OP_PS};
    struct wr_reply r;
    wr_error err;
    if (cli_call(g, &req, &r) < 0) {
        *exit_code = WR_EXIT_FAILED;
        return -1;
    }
    cleanup_free bool *seen = calloc((size_t)n_ids + 1, sizeof *seen);
    s->rows = calloc(r.n_containers + 1, sizeof *s->rows);
    s->n = 0;
    s->at_ns = wr_monotonic_ns();
    if (!s->rows || !seen) {
        wr_reply_free(&r);
        cli_error("out of memory");
        *exit_code = WR_EXIT_FAILED;
        return -1;
    }
    for (size_t i = 0; i < r.n_containers; i++) {
        const struct wr_container_info *c = &r.containers[i];
        if (!wanted(c, ids, n_ids, seen))
            continue;
        struct wr_usage_row *row = &s->rows[s->n];
        if (wr_cgroup_usage(g->state_dir, c->id, &row->u, &err) < 0)
            continue;
        snprintf(row->id, sizeof row->id, "%s", c->id);
        snprintf(row->image, sizeof row->image, "%s", c->image);
        snprintf(row->state, sizeof row->state, "%s", c->state);
        if (c->pid > 0)
            row->has_net = wr_net_usage((pid_t)c->pid, &row->net_rx_bytes, &row->net_tx_bytes);
        s->n++;
    }
    wr_reply_free(&r);
    for (int i = 0; i < n_ids; i++)
        if (!seen[i]) {
            cli_error("stats: no such container: %s", ids[i]);
            *exit_code = WR_EXIT_FAILED;
            free(s->rows);
            s->rows = NULL;
            return -1;
        }
    return 0;
}

/* CPU % (of one CPU, Docker's) over the interval between two samples; the
 * memory figures of the later one. */
static void derive(struct sample *now, const struct sample *before)
{
    uint64_t host = wr_host_memory_bytes();
    double wall = (double)(now->at_ns - before->at_ns);
    for (size_t i = 0; i < now->n; i++) {
        struct wr_usage_row *row = &now->rows[i];
        for (size_t j = 0; j < before->n; j++)
            if (!strcmp(before->rows[j].id, row->id) && wall > 0 &&
                row->u.cpu_ns >= before->rows[j].u.cpu_ns)
                row->cpu_percent =
                    100.0 * (double)(row->u.cpu_ns - before->rows[j].u.cpu_ns) / wall;
        row->mem_limit_shown = row->u.mem_limit ? row->u.mem_limit : host;
        if (row->mem_limit_shown)
            row->mem_percent = 100.0 * (double)row->u.mem_usage / (double)row->mem_limit_shown;
    }
}

/* Docker's units: 1.5MiB, 12kB (I/O in powers of 1000). */
static void human(char *out, size_t cap, double v, bool binary)
{
    static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    static const char *const dec[] = {"B", "kB", "MB", "GB", "TB"};
    double base = binary ? 1024 : 1000;
    int u = 0;
    while (v >= base && u < 4) {
        v /= base;
        u++;
    }
    snprintf(out, cap, u ? "%.3g%s" : "%.0f%s", v, binary ? bin[u] : dec[u]);
}

static void print_table(const struct sample *s)
{
    printf("%-12s   %-20s   %-7s   %-21s   %-7s   %-15s   %-15s   %s\n", "CONTAINER ID", "IMAGE",
           "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
    for (size_t i = 0; i < s->n; i++) {
        const struct wr_usage_row *r = &s->rows[i];
        char mu[16], ml[16], nr[16], nt[16], br[16], bw[16], mem[40], net[40], blk[40];
        human(mu, sizeof mu, (double)r->u.mem_usage, true);
        human(ml, sizeof ml, (double)r->mem_limit_shown, true);
        human(br, sizeof br, (double)r->u.io_read_bytes, false);
        human(bw, sizeof bw, (double)r->u.io_write_bytes, false);
        snprintf(mem, sizeof mem, "%s / %s", mu, ml);
        snprintf(blk, sizeof blk, "%s / %s", br, bw);
        if (r->has_net) {
            human(nr, sizeof nr, (double)r->net_rx_bytes, false);
            human(nt, sizeof nt, (double)r->net_tx_bytes, false);
            snprintf(net, sizeof net, "%s / %s", nr, nt);
        } else {
            snprintf(net, sizeof net, "--");
        }
        printf("%-12s   %-20.20s   %6.2f%%   %-21s   %6.2f%%   %-15s   %-15s   %llu\n", r->id,
               r->image, r->cpu_percent, mem, r->mem_percent, net, blk,
               (unsigned long long)r->u.pids);
    }
}

static int print_sample(const struct sample *s, bool json)
{
    if (!json) {
        print_table(s);
        return 0;
    }
    cleanup_free char *text = wr_usage_json(s->rows, s->n);
    if (!text) {
        cli_error("out of memory");
        return -1;
    }
    printf("%s\n", text);
    return 0;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int cli_stats(const struct wr_paths *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"no-stream", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"daemon", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    bool no_stream = false, json = false, daemon = false;
    int c;
    optind = 1;
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        if (c == 'n') {
            no_stream = true;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'd') {
            daemon = true;
        } else {
            cli_getopt_error("stats", STATS_USAGE, c, argv);
            return WR_EXIT_USAGE;
        }
    }
    if (daemon) {
        char *args[] = {"stats", json ? "--json" : NULL, NULL};
        if (optind != argc || no_stream)
            goto usage;
        return cli_stats_daemon(g, json ? 2 : 1, args);
    }
    char **ids = argv + optind;
    int n_ids = argc - optind, exit_code = 0;
    struct sample before = {0}, now = {0};
    if (read_sample(g, ids, n_ids, &before, &exit_code) < 0)
        return exit_code;
    for (;;) {
        sleep_ns(no_stream ? NO_STREAM_INTERVAL_NS : STREAM_INTERVAL_NS);
        if (read_sample(g, ids, n_ids, &now, &exit_code) < 0)
            break;
        derive(&now, &before);
        if (!no_stream && !json && isatty(STDOUT_FILENO))
            fputs("\033[2J\033[H", stdout); /* a fresh screen per refresh, as docker */
        if (print_sample(&now, json) < 0) {
            exit_code = WR_EXIT_FAILED;
            break;
        }
        fflush(stdout);
        free(before.rows);
        before = now;
        now.rows = NULL;
        if (no_stream)
            break;
    }
    free(before.rows);
    free(now.rows);
    return exit_code;
usage:
    fprintf(stderr, STATS_USAGE "\n");
    return WR_EXIT_USAGE;
}

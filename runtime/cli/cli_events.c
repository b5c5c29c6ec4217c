/* warmrun events and warmrun metrics: the daemon's streaming replies
 * (protocol_text.h) printed as they come. */
#include "cli.h"

#include "lib/api_client.h"
#include "lib/cleanup.h"
#include "lib/protocol_text.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Sends req on a new connection; returns the socket or -1 (printed). */
static int open_stream(const struct wr_paths *g, const struct wr_request *req)
{
    wr_error err;
    int sock = wr_api_connect(g->socket, &err);
    if (sock < 0 || wr_api_send_request(sock, req, NULL, 0, &err) < 0) {
        cli_error("%s", err.msg);
        if (sock >= 0)
            close(sock);
        return -1;
    }
    return sock;
}

/* The next text reply: 1 with *text (malloc'd), 0 when the daemon hung up,
 * -1 on an error (printed). */
static int next_text(int sock, char *buf, char **text, bool *more)
{
    wr_error err;
    ssize_t n;
    do
        n = recv(sock, buf, WR_API_MSG_MAX, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 || errno == ECONNRESET ? 0 : (cli_error("recv: %s", strerror(errno)), -1);
    if (wr_text_reply_parse(buf, (size_t)n, text, more, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 1;
}

int cli_metrics(const struct wr_paths *g, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: warmrun metrics\n");
        return WR_EXIT_USAGE;
    }
    struct wr_request req = {.op = WR_OP_METRICS};
    cleanup_close int sock = open_stream(g, &req);
    cleanup_free char *buf = malloc(WR_API_MSG_MAX);
    if (sock < 0 || !buf)
        return WR_EXIT_FAILED;
    for (bool more = true; more;) {
        char *text;
        int rc = next_text(sock, buf, &text, &more);
        if (rc <= 0) {
            if (rc == 0)
                cli_error("metrics: the daemon hung up before the end");
            return WR_EXIT_FAILED;
        }
        fputs(text, stdout);
        free(text);
    }
    return fflush(stdout) == 0 ? 0 : WR_EXIT_FAILED;
}

/* RFC 3339 in UTC, to the second: exactly YYYY-MM-DDTHH:MM:SS, then "Z" or
 * nothing; *out_s: unix seconds (> 0). Parsed here, not with strptime:
 * the C libraries' strptime take different texts (glibc skips leading
 * blanks, musl, which the CLI is linked with, takes a signed year of any
 * length), and both one-digit fields and a 30 February (timegm makes it
 * 2 March). */
static int parse_rfc3339_utc(const char *s, int64_t *out_s)
{
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char sep[5] = {'-', '-', 'T', ':', ':'};
    int v[6];
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < width[i]; k++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v[i] = v[i] * 10 + (*p - '0');
        }
        if (i < 5 && *p++ != sep[i])
            return -1;
    }
    if (*p && strcmp(p, "Z") != 0)
        return -1;
    struct tm tm = {.tm_year = v[0] - 1900,
                    .tm_mon = v[1] - 1,
                    .tm_mday = v[2],
                    .tm_hour = v[3],
                    .tm_min = v[4],
                    .tm_sec = v[5]};
    time_t t = timegm(&tm);
    /* timegm normalizes out-of-range fields: they must come back as given. */
    if (t <= 0 || tm.tm_year != v[0] - 1900 || tm.tm_mon != v[1] - 1 || tm.tm_mday != v[2] ||
        tm.tm_hour != v[3] || tm.tm_min != v[4] || tm.tm_sec != v[5])
        return -1;
    *out_s = (int64_t)t;
    return 0;
}

/* The latest time in nanoseconds an int64_t holds, in seconds (year 2262):
 * beyond it the conversion from double is undefined. */
#define SINCE_MAX_S 9.2e9

/* --since: unix seconds ("1764547200.5"), a duration back from now ("90s",
 * "10m", "2h"), or RFC 3339 UTC ("2026-12-01T00:00:00Z"). */
static int parse_since(const char *s, int64_t *out_ns)
{
    char *end;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == 0 && end != s && v >= 0) {
        double unit = !*end               ? 1
                      : !strcmp(end, "s") ? 1
                      : !strcmp(end, "m") ? 60
                      : !strcmp(end, "h") ? 3600
                                          : -1;
        if (unit > 0 && !(v * unit < SINCE_MAX_S)) /* also NaN and inf */
            return -1;
        if (unit > 0) {
            int64_t ns = (int64_t)(v * unit * 1e9);
            *out_ns = *end ? now_ns - ns : ns;
            return *out_ns > 0 ? 0 : -1;
        }
    }
    int64_t t;
    if (parse_rfc3339_utc(s, &t) < 0)
        return -1;
    *out_ns = t * 1000000000;
    return 0;
}

/* One event line, as `docker events` prints them:
 * 2026-12-01T00:00:00.123456789Z activated id=... image=... kind=warm */
static void print_human(const char *line, size_t len)
{
    struct wr_event e;
    wr_error err;
    if (wr_event_line_parse(line, len, &e, &err) < 0)
        return;
    char when[40];
    time_t secs = (time_t)(e.time_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%09lldZ", (long long)(e.time_ns % 1000000000));
    printf("%s %s", when, e.type);
    for (size_t i = 0; i < e.n_attrs; i++)
        printf(" %s=%s", e.key[i], e.value[i]);
    putchar('\n');
}

#define EVENTS_USAGE "usage: warmrun events [--json] [--since T]"

static int events_usage(void)
{
    fprintf(stderr, EVENTS_USAGE "\n");
    return WR_EXIT_USAGE;
}

int cli_events(const struct wr_paths *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"since", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct wr_request req = {.op = WR_OP_EVENTS};
    bool json = false;
    int c;
    optind = 1;
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        if (c == 'j') {
            json = true;
        } else if (c == 's') {
            if (parse_since(optarg, &req.since_ns) < 0) {
                cli_error("events: --since %s: expected unix seconds, a duration (90s, 10m, 2h) "
                          "or an RFC 3339 UTC time (2026-12-01T00:00:00Z)",
                          optarg);
                return WR_EXIT_USAGE;
            }
        } else {
            cli_getopt_error("events", EVENTS_USAGE, c, argv);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return events_usage();
    cleanup_close int sock = open_stream(g, &req);
    cleanup_free char *buf = malloc(WR_API_MSG_MAX);
    if (sock < 0 || !buf)
        return WR_EXIT_FAILED;
    for (;;) {
        char *text;
        bool more;
        int rc = next_text(sock, buf, &text, &more);
        if (rc <= 0) {
            if (rc == 0)
                cli_error("events: the daemon closed the stream (stopped, or this reader was "
                          "too slow)");
            return WR_EXIT_FAILED;
        }
        for (char *line = text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl)
                break;
            if (json)
                fwrite(line, 1, (size_t)(nl - line) + 1, stdout);
            else
                print_human(line, (size_t)(nl - line));
        }
        free(text);
        fflush(stdout);
    }
}

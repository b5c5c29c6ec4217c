/* `warmrun function create|ls|rm` and `warmrun invoke` (docs/cli.md,
 * "Functions"): thin clients of the daemon's function requests. */
#include "cli.h"

#include "cli_options.h"
#include "lib/api_client.h"
#include "lib/cleanup.h"
#include "lib/activation.h"
#include "lib/fdpass.h"
#include "lib/shim_client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WR_EXIT_FUNCTION_ERROR 3 /* invoke: the function's error body is on stdout */

static void create_usage(FILE *out)
{
    fprintf(out, "usage: warmrun function create NAME IMAGE [--min N] [--max M] "
                 "[--timeout S] [--memory MB] [--env K=V]... [--handler H] [--fresh] "
                 "[--tmpfs-size SIZE] [-v SRC:DST[:ro]] " CLI_CONTAINER_USAGE "\n");
}

static void function_usage(FILE *out)
{
    fprintf(out, "usage: warmrun function create NAME IMAGE [OPTIONS] | function ls [--json] "
                 "| function rm NAME\n");
}

static int function_create(const struct wr_paths *g, int argc, char **argv)
{
    /* Own options first: --memory and --timeout are Lambda's here (MB,
     * seconds), before the container table's --memory (a limit). */
    static const struct option longopts[] = {
        {"min", required_argument, NULL, 'n'},     {"max", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 't'}, {"memory", required_argument, NULL, 'm'},
        {"env", required_argument, NULL, 'e'},     {"handler", required_argument, NULL, 'h'},
        {"fresh", no_argument, NULL, 'f'},         {"tmpfs-size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'H'},          {NULL, 0, NULL, 0},
    };
    struct option all_opts[sizeof longopts / sizeof *longopts + CLI_CONTAINER_OPTS_MAX];
    cli_container_longopts(longopts, all_opts);
    struct wr_request req = {.op = WR_OP_FUNCTION_CREATE};
    struct wr_function_spec *f = &req.function;
    struct cli_container_options opts;
    char *env[WR_MAX_ENV + 1] = {0};
    long min = 1, max = -1;
    int c;
    f->timeout_s = 3;
    f->memory_mb = 128;
    cli_container_options_init(&opts);
    optind = 0;
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, ":e:u:v:", all_opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            cli_getopt_error("function create", "see warmrun function create --help", c, argv);
            cli_container_options_free(&opts);
            return WR_EXIT_USAGE;
        }
        /* -v: Docker's --volume, as on pool create */
        int known = c == 'v' ? (cli_volume_option(&opts.volumes, "volume", optarg) < 0 ? -1 : 1)
                             : cli_container_option(&opts, c, optarg);
        if (known < 0)
            return WR_EXIT_USAGE;
        if (known > 0)
            continue;
        if ((c == 'n' && cli_parse_long(optarg, 0, WR_FUNCTION_ENVS_MAX, &min) == 0) ||
            (c == 'x' && cli_parse_long(optarg, 1, WR_FUNCTION_ENVS_MAX, &max) == 0) ||
            (c == 't' && cli_parse_long(optarg, 1, WR_FUNCTION_TIMEOUT_MAX, &f->timeout_s) == 0) ||
            (c == 'm' && cli_parse_long(optarg, 128, 10240, &f->memory_mb) == 0))
            continue;
        if (c == 'e' && strchr(optarg, '=') && optarg[0] != '=' && req.envc < WR_MAX_ENV) {
            env[req.envc++] = optarg;
            continue;
        }
        if (c == 'h' && optarg[0]) {
            f->handler = optarg;
            continue;
        }
        if (c == 'H') {
            create_usage(stdout);
            cli_container_options_free(&opts);
            return 0;
        }
        if (c == 'f') {
            f->fresh = true;
            continue;
        }
        if (c == 's' &&
            wr_parse_bytes(optarg, WR_MIN_TMPFS_BYTES, WR_MAX_TMPFS_BYTES, &req.tmpfs_size) == 0)
            continue;
        cli_error("function create: bad option (--min 0..%d, --max 1..%d, --timeout 1..%d "
                  "seconds, --memory 128..10240 MB, --env KEY=VALUE, --tmpfs-size 1m..64g)",
                  WR_FUNCTION_ENVS_MAX, WR_FUNCTION_ENVS_MAX, WR_FUNCTION_TIMEOUT_MAX);
        return WR_EXIT_USAGE;
    }
    if (optind != argc - 2) {
        create_usage(stderr);
        cli_container_options_free(&opts);
        return WR_EXIT_USAGE;
    }
    f->min = min;
    f->max = max < 0 ? (min > 0 ? min : 1) : max;
    if (f->max < f->min) {
        cli_error("function create: --max %ld is below --min %ld", f->max, f->min);
        return WR_EXIT_USAGE;
    }
    if (!wr_function_name_valid(argv[optind])) {
        cli_error("function create: a name is 1 to %d letters, digits, - or _",
                  WR_FUNCTION_NAME_MAX);
        return WR_EXIT_USAGE;
    }
    req.name = argv[optind];
    req.image = argv[optind + 1];
    req.env = env;
    req.security = opts.security_set ? &opts.security : NULL;
    req.resources = opts.res;
    req.network = opts.network[0] ? opts.network : NULL;
    req.volumes = opts.volumes;
    struct wr_reply r;
    wr_error err;
    /* A missing bind source: said before anything is created. */
    if (wr_volumes_check_sources(&req.volumes, &err) < 0) {
        cli_error("%s", err.msg);
        cli_container_options_free(&opts);
        return WR_EXIT_FAILED;
    }
    int rc = cli_call(g, &req, &r) < 0 ? WR_EXIT_FAILED : 0;
    if (rc == 0)
        wr_reply_free(&r);
    cli_container_options_free(&opts);
    return rc;
}

/* Width of `function ls`'s LAST ERROR column, in bytes. */
#define LAST_ERROR_WIDTH 60

/* The string value of "key" in text, a JSON object that may be cut short
 * (the daemon keeps an init error's first 180 bytes); NULL when absent or
 * cut. Malloc'd. */
static char *error_field(const char *text, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(text, quoted);
    if (!p)
        return NULL;
    p += strlen(quoted);
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        return NULL;
    /* One value, then stop: the rest may be cut. */
    json_t *v = json_loads(p, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    char *out = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    json_decref(v);
    return out;
}

/* last_error as one line of at most LAST_ERROR_WIDTH bytes into out: a
 * runtime's init error (Lambda's {"errorType", "errorMessage",
 * "stackTrace"}) as "errorType: errorMessage", anything else as it is;
 * control characters as spaces, "..." where cut. `--json` keeps it all. */
static void last_error_column(const char *last_error, char *out, size_t cap)
{
    cleanup_free char *type = error_field(last_error, "errorType");
    cleanup_free char *message = error_field(last_error, "errorMessage");
    char line[512];
    if (type || message)
        snprintf(line, sizeof line, "%s%s%s", type ? type : "", type && message ? ": " : "",
                 message ? message : "");
    else
        snprintf(line, sizeof line, "%s", last_error);
    cli_blank_controls(line);
    size_t width = cap - 1 < LAST_ERROR_WIDTH ? cap - 1 : LAST_ERROR_WIDTH;
    size_t n = strlen(line);
    if (n > width) {
        size_t cut = width - 3;
        while (cut > 0 && ((unsigned char)line[cut] & 0xc0) == 0x80)
            cut--; /* not inside a UTF-8 character */
        memcpy(line + cut, "...", 3);
        n = cut + 3;
    }
    memcpy(out, line, n);
    out[n] = '\0';
}

static int function_ls(const struct wr_paths *g, bool json)
{
    struct wr_request req = {.op = WR_OP_FUNCTION_LS};
    struct wr_reply r;
    if (cli_call(g, &req, &r) < 0)
        return WR_EXIT_FAILED;
    if (json) {
        cleanup_free char *text = wr_function_list_json(r.functions, r.n_functions);
        printf("%s\n", text ? text : "[]");
    } else {
        printf("%-20s %-24s %4s %4s %4s %4s %4s %6s %11s %6s  %s\n", "NAME", "IMAGE", "MIN", "MAX",
               "ENVS", "IDLE", "BUSY", "QUEUED", "INVOCATIONS", "ERRORS", "LAST ERROR");
        for (size_t i = 0; i < r.n_functions; i++) {
            const struct wr_function_info *f = &r.functions[i];
            char last[LAST_ERROR_WIDTH + 1];
            last_error_column(f->last_error, last, sizeof last);
            printf("%-20s %-24s %4ld %4ld %4ld %4ld %4ld %6ld %11ld %6ld  %s\n", f->name, f->image,
                   f->min, f->max, f->environments, f->idle, f->busy, f->queued, f->invocations,
                   f->errors, last);
        }
    }
    wr_reply_free(&r);
    return 0;
}

int cli_function(const struct wr_paths *g, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return function_create(g, argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], "ls") == 0)
        return function_ls(g, false);
    if (argc == 3 && strcmp(argv[1], "ls") == 0 && strcmp(argv[2], "--json") == 0)
        return function_ls(g, true);
    if (argc == 3 && strcmp(argv[1], "rm") == 0) {
        struct wr_request req = {.op = WR_OP_FUNCTION_RM, .name = argv[2]};
        struct wr_reply r;
        if (cli_call(g, &req, &r) < 0)
            return WR_EXIT_FAILED;
        wr_reply_free(&r);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        function_usage(stdout);
        return 0;
    }
    function_usage(stderr);
    return WR_EXIT_USAGE;
}

/* The payload into a memfd: the daemon reads it from there (it may be
 * larger than one message). At most one byte over the limit is copied:
 * the daemon then refuses it as Lambda does. */
static int payload_memfd(const char *path)
{
    cleanup_close int in = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        cli_error("invoke: %s: %s", path, strerror(errno));
        return -1;
    }
    int mfd = memfd_create("warmrun-payload", MFD_CLOEXEC);
    char buf[65536];
    size_t total = 0;
    ssize_t n;
    while (mfd >= 0 && total <= WR_INVOKE_PAYLOAD_MAX && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(mfd, buf, (size_t)n) != n) {
            close(mfd);
            mfd = -1;
        }
        total += (size_t)n;
    }
    if (mfd < 0)
        cli_error("invoke: cannot read the payload: %s", strerror(errno));
    return mfd;
}

static int copy_out(int fd)
{
    char buf[65536];
    ssize_t n;
    off_t off = 0;
    while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return -1;
        off += n;
    }
    return fflush(stdout) == 0 && n == 0 ? 0 : -1;
}

#define INVOKE_USAGE                                                                               \
    "usage: warmrun invoke NAME [--payload FILE|-] [--log-tail] "                                  \
    "[--invocation-type RequestResponse|Event|DryRun]"

int cli_invoke(const struct wr_paths *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"payload", required_argument, NULL, 'p'},
        {"log-tail", no_argument, NULL, 'l'},
        {"invocation-type", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct wr_request req = {.op = WR_OP_INVOKE};
    const char *payload = NULL;
    int c;
    optind = 0;
    opterr = 0; /* one line of our own: cli_getopt_error */
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == 'p') {
            payload = optarg;
        } else if (c == 'l') {
            req.log_tail = true;
        } else if (c == 't') {
            req.invocation_type = optarg;
        } else {
            cli_getopt_error("invoke", INVOKE_USAGE, c, argv);
            return WR_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, INVOKE_USAGE "\n");
        return WR_EXIT_USAGE;
    }
    req.name = argv[optind];
    wr_error err;
    cleanup_close int mfd = payload ? payload_memfd(payload) : -1;
    if (payload && mfd < 0)
        return WR_EXIT_WARMRUN;
    cleanup_close int sock = wr_api_connect(g->socket, &err);
    char buf[WR_API_MSG_MAX];
    int fds[WR_MAX_PASSED_FDS];
    size_t nfds = WR_MAX_PASSED_FDS;
    ssize_t n = -1;
    if (sock < 0 || wr_api_send_request(sock, &req, &mfd, mfd >= 0 ? 1 : 0, &err) < 0 ||
        (n = wr_recv_fds(sock, buf, sizeof buf, fds, &nfds, &err)) <= 0) {
        cli_error("%s", n == 0 ? "the daemon closed the connection" : err.msg);
        return WR_EXIT_WARMRUN;
    }
    struct wr_reply r;
    int rc = WR_EXIT_WARMRUN;
    if (wr_reply_parse(buf, (size_t)n, &r, &err) < 0) {
        cli_error("%s", err.msg);
    } else if (!r.ok) {
        cli_error("%s: %s", r.code, r.error);
    } else if (r.kind != WR_REPLY_INVOKE) {
        rc = 0; /* Event (accepted) or DryRun (it would run) */
    } else if (nfds != 1 || copy_out(fds[0]) < 0) {
        cli_error("invoke: the response body did not arrive");
    } else {
        if (r.invoke.log_tail[0])
            fputs(r.invoke.log_tail, stderr);
        rc = r.invoke.function_error[0] ? WR_EXIT_FUNCTION_ERROR : 0;
    }
    wr_close_fds(fds, nfds);
    wr_reply_free(&r);
    return rc;
}

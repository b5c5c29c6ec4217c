/* The warmrun command line. Each command returns the process exit status;
 * only these functions print. Exit statuses (docs/cli.md): the workload's own
 * for activate; 125 when warmrun itself failed; 2 for usage errors; 1 for
 * other failed commands. */
#ifndef WARMRUN_CLI_H
#define WARMRUN_CLI_H

#include "lib/error.h"
#include "lib/protocol.h"

#define WR_EXIT_USAGE   2
#define WR_EXIT_FAILED  1
#define WR_EXIT_WARMRUN 125

#define WR_DEFAULT_STATE_DIR "/run/warmrun"

struct cli_globals {
    const char *root;      /* image store */
    const char *state_dir; /* runtime state: container records, staging mounts */
    char socket[108];      /* the daemon's control socket */
};

int cli_activate(const struct cli_globals *g, int argc, char **argv);
int cli_pool(const struct cli_globals *g, int argc, char **argv);
int cli_ps(const struct cli_globals *g, int argc, char **argv);
int cli_kill(const struct cli_globals *g, int argc, char **argv);
int cli_stats(const struct cli_globals *g, int argc, char **argv);
int cli_shutdown(const struct cli_globals *g, int argc, char **argv);
int cli_image(const struct cli_globals *g, int argc, char **argv);
int cli_bench(const struct cli_globals *g, int argc, char **argv);
int cli_daemon(const struct cli_globals *g, int argc, char **argv);

/* Connects to the daemon's socket. ENOENT/ECONNREFUSED in err->errnum mean
 * no daemon is running. */
int cli_connect(const struct cli_globals *g, wr_error *err);
/* Sends req (with up to 3 fds) and reads one reply. */
int cli_send_request(int sock, const struct wr_request *req, const int *fds, size_t nfds,
                     wr_error *err);
int cli_read_reply(int sock, struct wr_reply *reply, wr_error *err);
/* One request, one reply, on a fresh connection; prints a daemon error. */
int cli_call(const struct cli_globals *g, const struct wr_request *req, struct wr_reply *reply);

/* Resource options (cli_resources.c) for a getopt_long table: out gets
 * base (up to its NULL entry), then one entry per resource knob, each with
 * val CLI_RESOURCE_OPT + i, then the NULL entry; out must have room for
 * base's entries plus CLI_RESOURCE_OPTS_MAX. cli_resource_option handles
 * such a val: 0 done, -1 bad value (printed). */
#define CLI_RESOURCE_OPT      1000
#define CLI_RESOURCE_OPTS_MAX 24
struct option;
void cli_with_resource_options(const struct option *base, struct option *out);
int cli_resource_option(struct wr_resources *r, int val, const char *arg);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

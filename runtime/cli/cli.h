/* The warmrun command line. Each command returns the process exit status;
 * only these functions print. Exit statuses (docs/cli.md): the workload's own
 * for activate; 125 when warmrun itself failed; 2 for usage errors; 1 for
 * other failed commands. */
#ifndef WARMRUN_CLI_H
#define WARMRUN_CLI_H

#include "lib/error.h"
#include "lib/paths.h"
#include "lib/protocol.h"

#define WR_EXIT_USAGE   2
#define WR_EXIT_FAILED  1
#define WR_EXIT_WARMRUN 125

int cli_activate(const struct wr_paths *g, int argc, char **argv);
int cli_pool(const struct wr_paths *g, int argc, char **argv);
int cli_ps(const struct wr_paths *g, int argc, char **argv);
int cli_kill(const struct wr_paths *g, int argc, char **argv);
int cli_stats(const struct wr_paths *g, int argc, char **argv);
int cli_stats_daemon(const struct wr_paths *g, int argc, char **argv);
int cli_profile(const struct wr_paths *g, int argc, char **argv);
/* `version`; cli_print_version also serves `--version`: "warmrun version
 * V" on stdout, 0 (125 when stdout cannot be written). */
int cli_version(const struct wr_paths *g, int argc, char **argv);
int cli_print_version(void);
int cli_events(const struct wr_paths *g, int argc, char **argv);
int cli_metrics(const struct wr_paths *g, int argc, char **argv);
int cli_shutdown(const struct wr_paths *g, int argc, char **argv);
int cli_image(const struct wr_paths *g, int argc, char **argv);
int cli_bench(const struct wr_paths *g, int argc, char **argv);
int cli_daemon(const struct wr_paths *g, int argc, char **argv);
int cli_function(const struct wr_paths *g, int argc, char **argv);
int cli_invoke(const struct wr_paths *g, int argc, char **argv);
int cli_network(const struct wr_paths *g, int argc, char **argv);
/* The path of prog beside the running warmrun (-1, errno set). */
/* A decimal integer in [lo, hi], the whole string: 0 and *out set, or -1
 * (out of range, trailing text, empty). */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_sibling_path(const char *prog, char *out, size_t cap);

/* The index in r's pools of IMAGE's pool (a reference as the user gives
 * it: "busybox" is "busybox:latest"), or -1. */
int cli_find_pool(const struct wr_reply *r, const char *image);
/* Has the daemon at g->socket a pool for image? 1 yes; 0 no, or no daemon
 * answers (the connection fails); -1 (err set) when asking it failed. */
int cli_daemon_has_pool(const struct wr_paths *g, const char *image, wr_error *err);

/* One request, one reply, on a fresh connection; prints a daemon error. */
int cli_call(const struct wr_paths *g, const struct wr_request *req, struct wr_reply *reply);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For a table cell from text that may carry a tenant's bytes (an
 * activation's argv, a function runtime's error): every control character
 * (below 0x20, and 0x7f) of s becomes a space, in place, so that it can
 * neither end the row nor reach the reader's terminal as an escape
 * sequence. `--json` output keeps the text as it is. */
void cli_blank_controls(char *s);
/* For getopt_long's '?' (unknown option) or ':' (missing value; needs
 * opterr = 0 and an optstring starting with ':', or "+:"): prints one line
 * naming the option, for command ("activate", "pool create"; NULL for the
 * options before a command), and hint (where the options are told) in
 * parentheses. Every getopt loop of the CLI uses it (opterr = 0). */
void cli_getopt_error(const char *command, const char *hint, int c, char **argv);

#endif

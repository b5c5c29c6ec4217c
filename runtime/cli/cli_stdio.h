/* The stdio `warmrun activate` hands to a container (cli_stdio.c).
 *
 * A container takes only anonymous pipes and sockets as its stdio
 * (wr_stdio_check): any other inode of the caller's, a file, a terminal,
 * /dev/null, would be its root's to chmod, chown or setxattr through
 * /proc/self/fd/N. So the CLI passes each of its fds 0, 1, 2 that is a
 * pipe or a socket as it is (no copy, no extra work: the FaaS and bench
 * case), and puts a pipe of its own in front of any other, relayed in its
 * wait loop, as Docker's shim does for every stream:
 *
 *   stdin:  the CLI's fd 0 -> pipe -> the workload (EOF passed on by
 *           closing the pipe; a closed fd 0 or /dev/null: an empty pipe,
 *           already at EOF, and no relay);
 *   stdout, stderr: the workload -> pipe -> the CLI's fd 1, 2 (a closed
 *           one or /dev/null: read and dropped). fd 1 and 2 sharing one
 *           open file description (`> f 2>&1`, a terminal) share one pipe,
 *           so that their interleaving is kept.
 *
 * Our pipe ends are non-blocking; the CLI's own descriptors are left as
 * they are (their O_NONBLOCK flag is shared with whoever else holds them). */
#ifndef WARMRUN_CLI_STDIO_H
#define WARMRUN_CLI_STDIO_H

#include "lib/error.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* Bytes one relay holds between its read and its write: a pipe's size. */
#define CLI_RELAY_BUF (64 * 1024)

struct cli_relay {
    int src, dst; /* read src, write dst; src -1: this relay is done */
    int cli_fd;   /* the CLI's descriptor it serves: 0, 1 or 2 */
    bool discard; /* an output going nowhere: read and dropped */
    bool eof;     /* src said EOF; dst is closed once buf is written */
    size_t off, len;
    short pidx; /* its entry in the last cli_stdio_pollfds, or -1 */
    char *buf;  /* CLI_RELAY_BUF bytes, static */
};

struct cli_stdio {
    int pass[3]; /* what the container gets as its 0, 1, 2 */
    int ours[3]; /* the container's ends of our pipes (-1: none), held
                  * until cli_stdio_finish: a cold start after a refused
                  * warm request passes them again */
    struct cli_relay relay[3];
    wr_error warning; /* the first write failure of an output, or "" */
};

/* Fills s for the CLI's fds 0, 1, 2. Must run before the CLI opens any
 * descriptor of its own: a closed 0, 1 or 2 is first filled with /dev/null
 * (the CLI's, never passed on) so that no later descriptor lands there.
 * Refuses (-1) a directory or an O_PATH descriptor, which could be neither
 * passed nor relayed ("stdin (fd 0) is a directory: refused"). Errors:
 * pipe2's (EMFILE). */
int cli_stdio_prepare(struct cli_stdio *s, wr_error *err);

/* Adds to p (room for 3 entries) what the relays wait for; returns how
 * many were added. */
size_t cli_stdio_pollfds(struct cli_stdio *s, struct pollfd *p);

/* Moves data for the entries cli_stdio_pollfds added (p: the same array,
 * after poll). */
void cli_stdio_events(struct cli_stdio *s, const struct pollfd *p);

/* After the workload's exit report: stops stdin, closes the container's
 * ends, and copies what is left in stdout and stderr until EOF (every
 * holder dies with the container's pid namespace) or for at most
 * timeout_ms (a stuck writer cannot hang the CLI). Then closes every
 * descriptor s holds. */
void cli_stdio_finish(struct cli_stdio *s, int timeout_ms);

#endif

/* The function requests of the control socket (docs/api.md "Functions"):
 * function_create, function_rm, function_ls, invoke. */
#ifndef WARMRUN_DAEMON_FUNCTION_API_H
#define WARMRUN_DAEMON_FUNCTION_API_H

#include "daemon.h"

#include "lib/protocol.h"

#include <stddef.h>

/* Answers req on c; an invoke is answered when its invocation ends (on a
 * duplicate of c's descriptor, so that the connection outlives c), with
 * the response body in a memfd beside the reply. fds: the invoke's
 * payload (one regular file or memfd); closed by the caller. */
void daemon_function_request(struct daemon *d, struct client *c, struct wr_request *req,
                             const int *fds, size_t nfds);

#endif

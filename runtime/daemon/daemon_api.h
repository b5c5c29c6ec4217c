/* The daemon's API (docs/api.md): one request per message from a client
 * connection, validated by the protocol module before it is used; the
 * activation hot path. */
#ifndef WARMRUN_DAEMON_API_H
#define WARMRUN_DAEMON_API_H

#include "daemon.h"

/* c is readable: serves every request waiting on it (or closes it). */
void daemon_on_client(struct daemon *d, struct client *c);

#endif

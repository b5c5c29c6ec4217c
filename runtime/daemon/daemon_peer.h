/* Who may use the control socket (daemon_peer.c). */
#ifndef WARMRUN_DAEMON_PEER_H
#define WARMRUN_DAEMON_PEER_H

#include "daemon.h"

#include <stdbool.h>

/* May this connection's peer use the daemon? (root, or a member of
 * --socket-group) */
bool daemon_peer_allowed(const struct daemon *d, int fd);

#endif

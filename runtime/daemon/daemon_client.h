/* The daemon's client connections: made on accept, answered with an error
 * reply, closed (a waiting activation then gives up its container start),
 * and freed after the event batch. */
#ifndef WARMRUN_DAEMON_CLIENT_H
#define WARMRUN_DAEMON_CLIENT_H

#include "daemon.h"

/* A client for the accepted connection fd, watched by epoll; NULL (fd
 * closed) when out of memory or epoll refuses it. */
struct client *daemon_client_new(struct daemon *d, int fd);
/* Sends an error reply ({"ok":false,"code":...}); best effort, never
 * blocks. */
void daemon_send_error(struct client *c, const char *code, const char *msg);
/* Unwatches and closes c (a waiting activation gives up its container
 * start: daemon_entry_abandon); c itself is freed after the current batch
 * (daemon_client_bury). */
void daemon_close_client(struct daemon *d, struct client *c);
void daemon_client_bury(struct daemon *d);

#endif

/* An activation that found its pool without a warm container waits for one
 * started for it with the pool's settings (daemon_start.c): the client's
 * side. The container's side (its STARTING state) is daemon_pool.h's. */
#ifndef WARMRUN_DAEMON_START_H
#define WARMRUN_DAEMON_START_H

#include "daemon.h"

#include <stdbool.h>
#include <stdint.h>

/* Starts a container for c, taking over *req and fds (set to empty/-1)
 * when it returns true; false: an error reply was sent (busy, a request
 * the container would refuse, or the start failed). */
bool daemon_start_for_client(struct daemon *d, struct client *c, struct pool *p,
                             struct wr_request *req, int fds[3], int64_t received_ns);
/* An activation that asked for no cold start (--no-cold) and found no warm
 * container: it takes the container the pool is filling (the oldest fill
 * no one waits for), which then runs at the workloads' priority, and
 * waits for it, taking over *req and fds as daemon_start_for_client does.
 * False: the pool is filling none (nothing was sent). */
bool daemon_start_claim_fill(struct daemon *d, struct client *c, struct pool *p,
                             struct wr_request *req, int fds[3], int64_t received_ns);
/* A message from a waiting client: a signal is kept for the workload,
 * anything else ignored (as an activated connection's shim does). */
void daemon_start_client_message(struct client *c, const struct wr_request *req);
/* Its container is ready (daemon_entry_ready gave c back, e TAKEN): the
 * hot path's hand-over, then c is closed (the shim holds the connection). */
void daemon_start_hand_over(struct daemon *d, struct client *c, struct entry *e);
/* Ends e's waiting client now with code/msg (e becomes an ordinary fill). */
void daemon_start_fail(struct daemon *d, struct entry *e, const char *code, const char *msg);
/* Answers and closes every client whose container start was lost
 * (daemon.unanswered); the event loop calls it after each event. */
void daemon_start_answer(struct daemon *d);

#endif

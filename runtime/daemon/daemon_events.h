/* Lifecycle events of the daemon (`warmrun events`, docs/cli.md): a
 * bounded ring of the last DAEMON_EVENTS_RING events (for --since) and the
 * clients subscribed to new ones.
 *
 * daemon_event_emit is the one way to record an event, for every module of
 * the daemon, functions included ("function_initialised",
 * "function_timed_out" are emitted by the functions' code through it):
 *     daemon_event_emit(d, "activated", "id", id, "image", image,
 *                       "kind", "warm", DAEMON_EVENT_END);
 * type and keys are short identifiers; at most WR_EVENT_ATTRS pairs, longer
 * values are cut (protocol_text.h). It never blocks: a subscriber whose
 * socket is full is dropped (it gets no more events, and its connection
 * is closed), so a slow reader cannot stall the daemon. */
#ifndef WARMRUN_DAEMON_EVENTS_H
#define WARMRUN_DAEMON_EVENTS_H

#include "daemon.h"

#include <stdint.h>

#define DAEMON_EVENTS_RING        1024
#define DAEMON_EVENTS_SUBSCRIBERS 64

/* The end of daemon_event_emit's pairs (a pointer: NULL may be a plain 0). */
#define DAEMON_EVENT_END ((const char *)NULL)

/* Records an event: type, then key, value, ..., DAEMON_EVENT_END. */
void daemon_event_emit(struct daemon *d, const char *type, ...) __attribute__((sentinel));

/* `events` request: sends the ring's events newer than since_ns (0: none),
 * then keeps c subscribed. Errors (too many subscribers) are replied. */
void daemon_events_subscribe(struct daemon *d, struct client *c, int64_t since_ns);
/* c goes: it is no longer a subscriber. */
void daemon_events_forget(struct daemon *d, struct client *c);
/* Whether c is a subscriber (not dropped for being idle). */
bool daemon_events_subscribed(const struct daemon *d, const struct client *c);
void daemon_events_free(struct daemon *d);

#endif

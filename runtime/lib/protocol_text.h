/* Replies of the streaming ops (docs/api.md), part of the protocol module:
 * `metrics` (the Prometheus exposition text, in messages of at most
 * WR_TEXT_CHUNK bytes, the last without "more") and `events` (lifecycle
 * events, one or more JSON lines per message, as long as the client
 * stays). And the event itself: its JSON line, and back. */
#ifndef WARMRUN_PROTOCOL_TEXT_H
#define WARMRUN_PROTOCOL_TEXT_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WR_TEXT_CHUNK     (48 * 1024)
#define WR_EVENT_ATTRS    6
#define WR_EVENT_TYPE_MAX 32
#define WR_EVENT_KEY_MAX  24
#define WR_EVENT_VAL_MAX  96

/* {"ok":true,"text":"...","more":true|false}: malloc'd, *len set. */
char *wr_text_reply_encode(const char *text, size_t n, bool more, size_t *len);
/* Parses it: *text malloc'd (NUL-terminated). An error reply ({"ok":
 * false}) fills err with its message and returns -1. */
int wr_text_reply_parse(const char *buf, size_t len, char **text, bool *more, wr_error *err);

/* A lifecycle event (daemon_events.c): when, what, and its attributes. */
struct wr_event {
    uint64_t seq;
    int64_t time_ns; /* CLOCK_REALTIME */
    char type[WR_EVENT_TYPE_MAX];
    size_t n_attrs;
    char key[WR_EVENT_ATTRS][WR_EVENT_KEY_MAX];
    char value[WR_EVENT_ATTRS][WR_EVENT_VAL_MAX];
};

/* {"seq":N,"time":"2026-12-01T00:00:00.000000000Z","time_ns":N,"type":"...",
 * "attributes":{...}} plus a newline; malloc'd, NULL on ENOMEM. */
char *wr_event_line(const struct wr_event *e);
/* One such line back into e. */
int wr_event_line_parse(const char *line, size_t len, struct wr_event *e, wr_error *err);

#endif

/* See daemon_events.h. */
#include "daemon_events.h"

#include "daemon_client.h"
#include "daemon_log.h"
#include "lib/cleanup.h"
#include "lib/protocol_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Room for the replay of the whole ring in a subscriber's socket: a reader
 * that keeps up never finds it full. SO_SNDBUFFORCE: the daemon is root. */
#define SUBSCRIBER_SNDBUF (4 << 20)

struct daemon_events {
    struct wr_event ring[DAEMON_EVENTS_RING];
    uint64_t next_seq; /* events ever emitted; ring[seq % RING] */
    struct client *subs[DAEMON_EVENTS_SUBSCRIBERS];
    size_t n_subs;
};

static struct daemon_events *events_of(struct daemon *d)
{
    if (!d->events)
        d->events = calloc(1, sizeof *d->events);
    return d->events;
}

static bool send_text(struct client *c, const char *text, size_t n, bool more)
{
    size_t len;
    cleanup_free char *msg = wr_text_reply_encode(text, n, more, &len);
    return msg && send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len;
}

static void drop(struct daemon *d, size_t i, const char *why)
{
    struct daemon_events *ev = d->events;
    struct client *c = ev->subs[i];
    ev->subs[i] = ev->subs[--ev->n_subs];
    c->subscriber = false;
    daemon_log("events: subscriber dropped: %s", why);
    daemon_close_client(d, c);
}

void daemon_event_emit(struct daemon *d, const char *type, ...)
{
    struct daemon_events *ev = events_of(d);
    if (!ev)
        return;
    struct wr_event *e = &ev->ring[ev->next_seq % DAEMON_EVENTS_RING];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    memset(e, 0, sizeof *e);
    e->seq = ++ev->next_seq;
    e->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    snprintf(e->type, sizeof e->type, "%s", type);
    va_list ap;
    va_start(ap, type);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        if (e->n_attrs == WR_EVENT_ATTRS)
            continue;
        snprintf(e->key[e->n_attrs], WR_EVENT_KEY_MAX, "%s", k);
        snprintf(e->value[e->n_attrs], WR_EVENT_VAL_MAX, "%s", v ? v : "");
        e->n_attrs++;
    }
    va_end(ap);
    if (!ev->n_subs)
        return;
    cleanup_free char *line = wr_event_line(e);
    if (!line)
        return;
    for (size_t i = ev->n_subs; i-- > 0;)
        if (!send_text(ev->subs[i], line, strlen(line), true))
            drop(d, i, errno == EAGAIN ? "not reading (its socket is full)" : strerror(errno));
}

void daemon_events_subscribe(struct daemon *d, struct client *c, int64_t since_ns)
{
    struct daemon_events *ev = events_of(d);
    if (!ev || ev->n_subs == DAEMON_EVENTS_SUBSCRIBERS) {
        daemon_send_error(c, "busy", "too many event subscribers");
        return;
    }
    int size = SUBSCRIBER_SNDBUF;
    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    /* The replay, in messages of up to WR_TEXT_CHUNK bytes of lines. */
    uint64_t first = ev->next_seq > DAEMON_EVENTS_RING ? ev->next_seq - DAEMON_EVENTS_RING : 0;
    char *buf = malloc(WR_TEXT_CHUNK);
    size_t used = 0;
    bool ok = buf != NULL;
    for (uint64_t s = first; ok && since_ns && s < ev->next_seq; s++) {
        const struct wr_event *e = &ev->ring[s % DAEMON_EVENTS_RING];
        if (e->time_ns < since_ns)
            continue;
        cleanup_free char *line = wr_event_line(e);
        size_t n = line ? strlen(line) : 0;
        if (used + n > WR_TEXT_CHUNK) {
            ok = send_text(c, buf, used, true);
            used = 0;
        }
        if (line && n <= WR_TEXT_CHUNK) {
            memcpy(buf + used, line, n);
            used += n;
        }
    }
    /* Always one message: the client knows it is subscribed. */
    if (ok)
        ok = send_text(c, buf ? buf : "", used, true);
    free(buf);
    if (!ok) {
        daemon_close_client(d, c);
        return;
    }
    ev->subs[ev->n_subs++] = c;
    c->subscriber = true;
}

void daemon_events_forget(struct daemon *d, struct client *c)
{
    struct daemon_events *ev = d->events;
    for (size_t i = 0; ev && i < ev->n_subs; i++)
        if (ev->subs[i] == c) {
            ev->subs[i] = ev->subs[--ev->n_subs];
            c->subscriber = false;
            return;
        }
}

bool daemon_events_subscribed(const struct daemon *d, const struct client *c)
{
    const struct daemon_events *ev = d->events;
    for (size_t i = 0; ev && i < ev->n_subs; i++)
        if (ev->subs[i] == c)
            return true;
    return false;
}

void daemon_events_free(struct daemon *d)
{
    free(d->events);
    d->events = NULL;
}

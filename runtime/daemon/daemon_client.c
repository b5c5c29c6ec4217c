/* See daemon_client.h. */
#include "daemon_client.h"

#include "daemon_events.h"

#include "daemon_pool.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fdpass.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct client *daemon_client_new(struct daemon *d, int fd)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->watch.kind = WATCH_CLIENT;
    c->fd = fd;
    c->fds[0] = c->fds[1] = c->fds[2] = -1;
    c->last_active_ns = wr_monotonic_ns();
    c->next = d->clients;
    if (d->clients)
        d->clients->prev = c;
    d->clients = c;
    d->n_clients++;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->watch};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        daemon_close_client(d, c);
        return NULL;
    }
    return c;
}

void daemon_send_error(struct client *c, const char *code, const char *msg)
{
    size_t len;
    cleanup_free char *text = wr_reply_error(code, msg, &len);
    if (text)
        (void)send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void daemon_close_client(struct daemon *d, struct client *c)
{
    if (c->closed)
        return;
    if (c->starting)
        daemon_entry_abandon(d, c->starting);
    if (c->subscriber) /* the one call back up: its pointer must not outlive it */
        daemon_events_forget(d, c);
    wr_request_free(&c->req);
    wr_close_fds(c->fds, 3);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->n_clients--;
    /* Not freed yet: a shim's event earlier in this batch may have closed
     * it while its own event still waits further on. */
    c->closed = true;
    c->prev = NULL;
    c->next = d->client_graveyard;
    d->client_graveyard = c;
}

void daemon_client_bury(struct daemon *d)
{
    while (d->client_graveyard) {
        struct client *c = d->client_graveyard;
        d->client_graveyard = c->next;
        free(c);
    }
}

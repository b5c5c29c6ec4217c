/* A container started for one activation that found its pool without a
 * warm container.
 *
 * Such a start is the pool's container, not a weaker one: the daemon spawns
 * it with the pool's current settings through the same code that fills the
 * pool (daemon_spawn_entry: the pool's compiled seccomp filter and security
 * text, daemon_resources_for_entry, its tmpfs size), at normal priority
 * rather than the fill's SCHED_IDLE, and binds it to the waiting client.
 * When its shim reports WARM, the client gets it through the hot path's own
 * hand-over (wr_activation_compose_env + wr_shim_activate), so it is in
 * `ps` and `pool ls` like any other.
 *
 * What may happen meanwhile, and what the daemon does:
 *   - the client hangs up: the container joins the pool's warm list if the
 *     pool has room, else it goes;
 *   - the client asks for signals: kept (up to WR_START_SIGNALS_MAX) and
 *     sent to the workload once it runs, as a cold start by the CLI does;
 *   - the pool's settings change: a new container is started with them for
 *     the same client and the old one goes (daemon_pool_create);
 *   - the pool is removed, the container is killed or fails, the daemon
 *     stops: the client gets one error reply and is closed.
 * At most --max-cold-starts such starts run at once; beyond, `busy`. */
#include "daemon.h"

#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/fdpass.h"
#include "lib/protocol.h"
#include "daemon_log.h"

#include <stdio.h>
#include <string.h>

/* The activation message, built in place (the daemon is single-threaded). */
static char start_buf[WR_ACTIVATION_MAX];

/* The entry becomes an ordinary fill of its pool again. */
static void unbind(struct daemon *d, struct entry *e)
{
    struct client *c = e->waiter;
    if (!c)
        return;
    c->starting = NULL;
    e->waiter = NULL;
    d->starting_total--;
    if (e->pool && e->state == ENTRY_FILLING) {
        e->pool->starting--;
        e->pool->filling++;
    }
}

bool daemon_start_for_client(struct daemon *d, struct client *c, struct pool *p,
                             struct wr_request *req, int fds[3], int64_t received_ns)
{
    wr_error err;
    char msg[WR_ERROR_MSG_MAX + 64];
    if (d->starting_total >= d->max_starting) {
        snprintf(msg, sizeof msg,
                 "pool %s has no warm container and %ld are already being started "
                 "(daemon --max-cold-starts %ld); retry, or make the pool larger",
                 p->image, d->starting_total, d->max_starting);
        daemon_send_error(c, "busy", msg);
        return false;
    }
    /* A request the container could not take is refused before a container
     * is made for it (the id is a stand-in of the real one's length). */
    if (wr_activation_compose_env(p->img, req, p->env.vec, "000000000000", start_buf,
                                  sizeof start_buf, &err) < 0) {
        daemon_send_error(c, "invalid", err.msg);
        return false;
    }
    if (!daemon_spawn_entry(d, p, c, &err)) {
        snprintf(msg, sizeof msg, "pool %.100s: starting a container: %.300s", p->image, err.msg);
        daemon_send_error(c, "internal", msg);
        return false;
    }
    c->req = *req;
    memset(req, 0, sizeof *req);
    for (int i = 0; i < 3; i++) {
        c->fds[i] = fds[i];
        fds[i] = -1;
    }
    c->received_ns = received_ns;
    c->n_signals = 0;
    return true;
}

void daemon_start_client_message(struct client *c, const struct wr_request *req)
{
    if (req->op != WR_OP_SIGNAL)
        return;
    if (c->n_signals == WR_START_SIGNALS_MAX) {
        /* Keep the latest ones: the last word is the caller's intent. */
        memmove(c->signals, c->signals + 1, (WR_START_SIGNALS_MAX - 1) * sizeof c->signals[0]);
        c->n_signals--;
    }
    c->signals[c->n_signals++] = req->signal;
}

/* Joins the pool's warm list (an unbound entry that just became warm). */
static void join_warm(struct daemon *d, struct entry *e)
{
    struct pool *p = e->pool;
    d->filling_total--;
    p->filling--;
    e->state = ENTRY_WARM;
    if (p->warm_tail)
        p->warm_tail->warm_next = e;
    else
        p->warm_head = e;
    p->warm_tail = e;
    p->warm++;
}

void daemon_start_on_warm(struct daemon *d, struct entry *e)
{
    wr_error err;
    struct client *c = e->waiter;
    struct pool *p = e->pool;
    char reason[WR_ERROR_MSG_MAX];
    unbind(d, e);
    p->consecutive_failures = 0;
    ssize_t len = wr_activation_compose_env(p->img, &c->req, p->env.vec, e->shim.id, start_buf,
                                            sizeof start_buf, &err);
    if (len < 0) {
        /* Checked before the start: only a changed image config gets here.
         * The container is as good as any warm one. */
        daemon_send_error(c, "invalid", err.msg);
        daemon_close_client(d, c);
        join_warm(d, e);
        return;
    }
    d->filling_total--;
    p->filling--;
    e->state = ENTRY_WARM; /* not on the warm list: this client's */
    e->received_ns = c->received_ns;
    e->cold = true;
    daemon_entry_running(d, e);
    snprintf(reason, sizeof reason,
             "pool %s had no warm container; started one with the pool's settings", p->image);
    int rc = wr_shim_activate(&e->shim, start_buf, (size_t)len, c->fds, c->fd, reason,
                              &e->resumed_ns, &err);
    if (rc < 0) {
        daemon_log("container %s: %s", e->shim.id, err.msg);
        daemon_send_error(c, "internal", err.msg);
        daemon_close_client(d, c);
        daemon_entry_discard(d, e);
        return;
    }
    for (size_t i = 0; i < c->n_signals; i++) {
        wr_error ignored;
        (void)wr_shim_kill(&e->shim, c->signals[i], &ignored);
    }
    daemon_summarize_command(e->command, sizeof e->command, &c->req, p->img);
    /* The shim holds the connection now; the daemon's copy goes. */
    daemon_close_client(d, c);
}

void daemon_start_fail(struct daemon *d, struct entry *e, const char *code, const char *msg)
{
    struct client *c = e->waiter;
    if (!c)
        return;
    unbind(d, e);
    daemon_send_error(c, code, msg);
    daemon_close_client(d, c);
}

void daemon_start_abandon(struct daemon *d, struct client *c)
{
    struct entry *e = c->starting;
    if (!e)
        return;
    unbind(d, e);
    /* Now an ordinary fill: it stays if the pool wants it, and goes if the
     * pool is already full (or filling to full) without it. */
    struct pool *p = e->pool;
    if (!p || d->stopping || p->warm + p->filling > p->size)
        daemon_entry_discard(d, e);
}

void daemon_start_restart(struct daemon *d, struct entry *e)
{
    wr_error err;
    struct client *c = e->waiter;
    struct pool *p = e->pool;
    char msg[WR_ERROR_MSG_MAX + 64];
    if (!c || !p)
        return;
    unbind(d, e);
    daemon_entry_discard(d, e);
    if (!daemon_spawn_entry(d, p, c, &err)) {
        snprintf(msg, sizeof msg,
                 "pool %.100s: its settings changed while a container was being started for "
                 "this activation, and starting one with the new settings failed: %.200s",
                 p->image, err.msg);
        daemon_send_error(c, "internal", msg);
        daemon_close_client(d, c);
    }
}

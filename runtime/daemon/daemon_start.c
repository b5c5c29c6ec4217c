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
 * `ps` and `pool ls` like any other. The entry's states (STARTING, bound
 * to the client; what becomes of it when the client goes, the settings
 * change or it fails) are daemon_pool.c's; this file is the client's side.
 *
 * What may happen meanwhile, and what the daemon does:
 *   - the client hangs up: the container joins the pool's warm list if the
 *     pool has room, else it goes;
 *   - the client asks for signals: kept (up to WR_START_SIGNALS_MAX) and
 *     sent to the workload once it runs, as a cold start by the CLI does;
 *   - the pool's settings change: a new container is started with them for
 *     the same client and the old one goes (daemon_pool_create);
 *   - the pool is removed, the container is killed or fails, the daemon
 *     stops: the client gets one error reply and is closed
 *     (daemon_start_answer, right after the event that lost its start).
 * At most --max-cold-starts such starts run at once; beyond, `busy`. */
#include "daemon_start.h"

#include "daemon_client.h"
#include "daemon_events.h"
#include "daemon_log.h"
#include "daemon_metrics.h"
#include "daemon_pool.h"
#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/cleanup.h"

#include "lib/cleanup.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The activation message, built in place (the daemon is single-threaded). */
static char start_buf[WR_ACTIVATION_MAX];

/* The client waits: its request and the caller's stdio are kept. */
static void keep_request(struct client *c, struct wr_request *req, int fds[3], int64_t received_ns)
{
    c->req = *req;
    memset(req, 0, sizeof *req);
    for (int i = 0; i < 3; i++) {
        c->fds[i] = fds[i];
        fds[i] = -1;
    }
    c->received_ns = received_ns;
    c->n_signals = 0;
}

/* A fill runs under SCHED_IDLE (shim_client.c); one a client now waits for
 * gets the workloads' priority: its shim, and its container if the shim
 * has cloned it already (a clone after this inherits the shim's). Best
 * effort: at worst the fill ends at idle priority. */
static void unidle(pid_t shim)
{
    struct sched_param normal = {.sched_priority = 0};
    char path[64], buf[256];
    sched_setscheduler(shim, SCHED_OTHER, &normal);
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)shim, (int)shim);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *end;
    for (char *p = buf; *p; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            sched_setscheduler((pid_t)pid, SCHED_OTHER, &normal);
    }
}

bool daemon_start_claim_fill(struct daemon *d, struct client *c, struct pool *p,
                             struct wr_request *req, int fds[3], int64_t received_ns)
{
    wr_error err;
    /* Checked before it is bound, as for a start. */
    if (wr_activation_compose_env(p->img, req, p->env.vec, "000000000000", start_buf,
                                  sizeof start_buf, &err) < 0)
        return false;
    struct entry *e = daemon_pool_claim_fill(d, p, c);
    if (!e)
        return false;
    unidle(e->shim.shim_pid);
    keep_request(c, req, fds, received_ns);
    c->claimed = true;
    return true;
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
    cleanup_free char *big = NULL;
    const char *ignored;
    if (wr_activation_compose_any(p->img, req, p->env.vec, "000000000000", start_buf,
                                  sizeof start_buf, &big, &ignored, &err) < 0) {
        daemon_send_error(c, "invalid", err.msg);
        return false;
    }
    if (!daemon_entry_spawn(d, p, c, &err)) {
        snprintf(msg, sizeof msg, "pool %.100s: starting a container: %.300s", p->image, err.msg);
        daemon_send_error(c, "internal", msg);
        return false;
    }
    keep_request(c, req, fds, received_ns);
    c->claimed = false;
    daemon_metrics_count(d, p->image, METRICS_POOL_EMPTY);
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

void daemon_start_hand_over(struct daemon *d, struct client *c, struct entry *e)
{
    wr_error err;
    struct pool *p = e->pool;
    char reason[WR_ERROR_MSG_MAX];
    cleanup_free char *big = NULL;
    const char *msg;
    ssize_t len = wr_activation_compose_any(p->img, &c->req, p->env.vec, e->shim.id, start_buf,
                                            sizeof start_buf, &big, &msg, &err);
    if (len < 0) {
        /* Checked before the start: only a changed image config gets here.
         * The container is as good as any warm one. */
        daemon_send_error(c, "invalid", err.msg);
        daemon_close_client(d, c);
        daemon_entry_return_warm(e);
        return;
    }
    snprintf(reason, sizeof reason,
             c->claimed ? "pool %s had no warm container; waited for the one it was filling"
                        : "pool %s had no warm container; started one with the pool's settings",
             p->image);
    int rc =
        wr_shim_activate(&e->shim, msg, (size_t)len, c->fds, c->fd, reason, &e->resumed_ns, &err);
    if (rc == 0 || rc == WR_ACTIVATE_STARTED_FAILED)
        daemon_entry_running(d, e, c->received_ns, true);
    daemon_metrics_count(d, p->image, rc == 0 ? METRICS_COLD : METRICS_FAILED);
    if (rc == 0)
        daemon_event_emit(d, "activated", "id", e->shim.id, "image", p->image, "kind", "cold",
                          "reason", "pool_empty", DAEMON_EVENT_END);
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
    daemon_entry_set_command(e, &c->req, p->img);
    /* The shim holds the connection now; the daemon's copy goes. */
    daemon_close_client(d, c);
}

void daemon_start_fail(struct daemon *d, struct entry *e, const char *code, const char *msg)
{
    daemon_entry_lose_waiter(d, e, code, msg);
    daemon_start_answer(d);
}

void daemon_start_answer(struct daemon *d)
{
    while (d->unanswered) {
        struct client *c = d->unanswered;
        d->unanswered = c->unanswered_next;
        c->unanswered_next = NULL;
        c->unanswered = false;
        if (c->closed)
            continue;
        daemon_send_error(c, c->lost_code, c->lost_msg);
        daemon_close_client(d, c);
    }
}

/* The daemon's API: one request per message from a client connection.
 * Every request is validated by the protocol module before it is used; a
 * bad one gets an error reply and never affects another client. */
#include "daemon_api.h"

#include "daemon_client.h"
#include "daemon_events.h"
#include "daemon_function.h"
#include "daemon_function_api.h"
#include "daemon_log.h"
#include "daemon_metrics.h"
#include "daemon_persist.h"
#include "daemon_pool.h"
#include "daemon_resources.h"
#include "daemon_start.h"
#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/fdpass.h"
#include "lib/protocol.h"
#include "lib/sealed_fd.h"
#include "lib/shim_client.h"
#include "lib/state_file.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Requests and activation messages are built in static buffers: the daemon
 * is single-threaded, and the hot path stays off the allocator. */
static char request_buf[WR_API_MSG_MAX];
#define REFILL_DELAY_NS (2LL * 1000000)
static char activation_buf[WR_ACTIVATION_MAX];

static void send_reply(struct client *c, const struct wr_reply *r)
{
    size_t len;
    cleanup_free char *text = wr_reply_encode(r, &len);
    if (!text) {
        /* Over the message size (a ps of thousands of containers): the
         * client gets a reason instead of waiting for ever. */
        daemon_send_error(c, "too_large", "the reply does not fit in one message (64 KiB)");
        return;
    }
    (void)send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void send_ok(struct client *c)
{
    struct wr_reply r = {.ok = true};
    send_reply(c, &r);
}

enum activate_result {
    ACTIVATE_REPLIED,     /* an error reply was sent; the connection stays */
    ACTIVATE_HANDED_OVER, /* the connection belongs to a container's shim */
    ACTIVATE_WAITING,     /* a container is being started for it */
};

/* The hot path. A pool without a warm container starts one for this
 * request (daemon_start.c), unless the client asked for warm only. */
static enum activate_result activate(struct daemon *d, struct client *c, struct wr_request *req,
                                     int fds[3], int64_t received_ns)
{
    wr_error err;
    struct pool *p = daemon_find_pool(d, req->image);
    d->activations++;
    if (p)
        daemon_pool_arrival(p, received_ns);
    if (p && daemon_ports_busy(d, p)) {
        /* Docker's answer for a host port held by a running container. */
        daemon_metrics_count(d, p->image, METRICS_FAILED);
        daemon_send_error(c, "busy", DAEMON_PORTS_BUSY_MSG);
        return ACTIVATE_REPLIED;
    }
    struct entry *e;
    while (p && (e = daemon_pool_take_warm(p))) {
        cleanup_free char *big = NULL;
        const char *msg;
        ssize_t len = wr_activation_compose_any(p->img, req, p->env.vec, e->shim.id, activation_buf,
                                                sizeof activation_buf, &big, &msg, &err);
        if (len < 0) {
            /* The request is at fault, not the container: put it back. */
            daemon_entry_return_warm(e);
            daemon_send_error(c, "invalid", err.msg);
            return ACTIVATE_REPLIED;
        }
        int rc =
            wr_shim_activate(&e->shim, msg, (size_t)len, fds, c->fd, NULL, &e->resumed_ns, &err);
        if (rc == WR_ACTIVATE_STARTED_FAILED) {
            /* Resumed, then lost: it counts as an activation, and goes. */
            daemon_log("container %s: %s", e->shim.id, err.msg);
            daemon_entry_running(d, e, received_ns, false);
            daemon_entry_discard(d, e);
            daemon_send_error(c, "internal", err.msg);
            daemon_metrics_count(d, p->image, METRICS_FAILED);
            return ACTIVATE_REPLIED;
        }
        if (rc < 0) {
            /* That container died while warm: drop it, try the next one. */
            daemon_log("container %s: %s", e->shim.id, err.msg);
            daemon_entry_discard(d, e);
            continue;
        }
        daemon_entry_running(d, e, received_ns, false);
        d->warm_hits++;
        /* After the hand-over: the workload is already on its way. */
        daemon_metrics_count(d, p->image, METRICS_WARM);
        daemon_event_emit(d, "activated", "id", e->shim.id, "image", p->image, "kind", "warm",
                          DAEMON_EVENT_END);
        /* Refill a moment later: the spawn would compete for the CPU with
         * the workload we just woke. */
        daemon_pool_delay_refill(p, received_ns + REFILL_DELAY_NS);
        daemon_entry_set_command(e, req, p->img);
        return ACTIVATE_HANDED_OVER;
    }
    d->misses++;
    if (!p) {
        /* The CLI cold-starts an image without a pool itself. */
        daemon_metrics_count(d, req->image, METRICS_NO_POOL);
        daemon_send_error(c, "no_warm", "no pool for this image");
        return ACTIVATE_REPLIED;
    }
    if (req->no_cold) {
        /* No cold start, but the pool's next container: the one it is
         * filling, else one started now with its settings (what its refill
         * would start a moment later). Only a pool that fills nothing
         * (fixed at size 0) refuses at once. */
        if (p->size == 0 && !p->autoscale.cfg.on) {
            daemon_metrics_count(d, p->image, METRICS_FAILED);
            daemon_send_error(c, "no_warm", "the pool has no warm container right now");
            return ACTIVATE_REPLIED;
        }
        if (daemon_start_claim_fill(d, c, p, req, fds, received_ns))
            return ACTIVATE_WAITING;
    }
    return daemon_start_for_client(d, c, p, req, fds, received_ns) ? ACTIVATE_WAITING
                                                                   : ACTIVATE_REPLIED;
}

static void fill_container_info(struct daemon *d, struct wr_container_info *ci,
                                const struct entry *e)
{
    /* "starting": being created for a waiting activation */
    static const char *const names[] = {
        [ENTRY_FILLING] = "filling", [ENTRY_STARTING] = "starting", [ENTRY_WARM] = "warm",
        [ENTRY_TAKEN] = "warm",      [ENTRY_RUNNING] = "running",   [ENTRY_GONE] = "gone"};
    snprintf(ci->id, sizeof ci->id, "%s", e->shim.id);
    snprintf(ci->image, sizeof ci->image, "%s", e->image);
    snprintf(ci->state, sizeof ci->state, "%s", names[e->state]);
    snprintf(ci->command, sizeof ci->command, "%s", e->command);
    ci->pid = e->shim.child_pid;
    ci->shim_pid = e->shim.shim_pid;
    ci->created = e->created;
    daemon_resources_container_info(d, e->shim.id, e->shim.child_pid, ci->cpus, sizeof ci->cpus,
                                    &ci->oom);
}

/* Containers this daemon does not own: left by an earlier daemon, or cold
 * started by the CLI. Their records are found in the state directory; a
 * record whose shim is gone is swept on the way. */
struct foreign_list {
    struct daemon *d;
    struct wr_container_info *out;
    size_t cap, n;
};

static void add_foreign(const struct wr_state_record *rec, void *ctx)
{
    struct foreign_list *l = ctx;
    if (l->n >= l->cap || daemon_find_entry(l->d, rec->id))
        return;
    struct wr_container_info *ci = &l->out[l->n++];
    snprintf(ci->id, sizeof ci->id, "%s", rec->id);
    snprintf(ci->image, sizeof ci->image, "%s", rec->image);
    snprintf(ci->state, sizeof ci->state, "detached");
    ci->pid = rec->child_pid;
    ci->shim_pid = rec->shim_pid;
    ci->created = rec->created;
    daemon_resources_container_info(l->d, rec->id, rec->child_pid, ci->cpus, sizeof ci->cpus,
                                    &ci->oom);
}

static size_t collect_foreign(struct daemon *d, struct wr_container_info *out, size_t cap)
{
    struct foreign_list l = {.d = d, .out = out, .cap = cap};
    wr_state_scan(d->g->state_dir, add_foreign, &l);
    return l.n;
}

#define MAX_FOREIGN 1024

static void list_containers(struct daemon *d, struct client *c)
{
    size_t n = MAX_FOREIGN;
    for (struct entry *e = d->entries; e; e = e->next)
        n++;
    struct wr_reply r = {.ok = true, .kind = WR_REPLY_CONTAINERS};
    r.containers = calloc(n, sizeof *r.containers);
    if (!r.containers) {
        daemon_send_error(c, "internal", "out of memory");
        return;
    }
    /* Running containers first: if the list must be cut to fit one
     * message, the warm ones go. */
    for (int running = 1; running >= 0; running--)
        for (struct entry *e = d->entries; e; e = e->next)
            if (e->state != ENTRY_GONE && (e->state == ENTRY_RUNNING) == running)
                fill_container_info(d, &r.containers[r.n_containers++], e);
    r.n_containers += collect_foreign(d, r.containers + r.n_containers, MAX_FOREIGN);
    size_t len;
    char *text;
    while (!(text = wr_reply_encode(&r, &len)) && r.n_containers > 0) {
        size_t keep = r.n_containers * 3 / 4;
        r.containers_omitted += (long)(r.n_containers - keep);
        r.n_containers = keep;
    }
    if (text)
        (void)send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    else
        daemon_send_error(c, "internal", "cannot encode the container list");
    free(text);
    free(r.containers);
}

/* only: that pool alone (NULL: every pool). */
static void list_pools(struct daemon *d, struct client *c, const struct pool *only)
{
    size_t n = 0;
    for (struct pool *p = d->pools; p; p = p->next)
        n += !p->hidden && (!only || p == only);
    struct wr_reply r = {.ok = true, .kind = WR_REPLY_POOLS, .n_pools = n};
    r.pools = calloc(n ? n : 1, sizeof *r.pools);
    if (!r.pools) {
        daemon_send_error(c, "internal", "out of memory");
        return;
    }
    size_t i = 0;
    for (struct pool *p = d->pools; p; p = p->next) {
        if (p->hidden || (only && p != only))
            continue; /* a function's (function ls), or not the one asked */
        struct wr_pool_info *o = &r.pools[i++];
        snprintf(o->image, sizeof o->image, "%s", p->image);
        snprintf(o->last_error, sizeof o->last_error, "%s", p->last_error);
        o->size = p->size;
        o->warm = p->warm;
        o->filling = p->filling;
        o->running = p->running;
        o->activations = p->activations;
        o->failures = p->failures;
        o->tmpfs_size = p->tmpfs_bytes;
        wr_resources_summary(&p->res, o->resources, sizeof o->resources);
        o->autoscale = p->autoscale.cfg;
        snprintf(o->autoscale_why, sizeof o->autoscale_why, "%s", p->autoscale.why);
        o->settings = p->request;
        snprintf(o->profile, sizeof o->profile, "%.*s", (int)sizeof o->profile - 1,
                 p->security_source);
    }
    size_t len;
    char *text = wr_reply_encode(&r, &len);
    if (!text) {
        /* Hundreds of pools: their settings and profiles (about 1.5 KB
         * each) go, the counts stay; `pool ls` of one message still. */
        for (i = 0; i < n; i++) {
            r.pools[i].settings = NULL;
            r.pools[i].profile[0] = '\0';
        }
        text = wr_reply_encode(&r, &len);
    }
    if (text)
        (void)send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    else
        daemon_send_error(c, "too_large", "the reply does not fit in one message (64 KiB)");
    free(text);
    free(r.pools);
}

/* `image import` rewrote a tag: the pool using it (if any) rolls over
 * before the reply, which lists the pools that rolled. */
static void image_updated(struct daemon *d, struct client *c, const char *image)
{
    wr_error err;
    struct pool *rolled;
    daemon_functions_image_updated(d);
    if (daemon_pool_image_updated(d, image, &rolled, &err) < 0) {
        daemon_log("image %s: the pool using it did not roll over: %s", image, err.msg);
        daemon_send_error(c, err.errnum == ENOENT ? "not_found" : "internal", err.msg);
        return;
    }
    if (rolled) {
        list_pools(d, c, rolled);
        return;
    }
    struct wr_reply r = {.ok = true, .kind = WR_REPLY_POOLS};
    send_reply(c, &r);
}

static void send_stats(struct daemon *d, struct client *c)
{
    struct wr_latency_summary s, stage;
    wr_latency_summarize(&d->latency, &s);
    struct wr_reply r = {.ok = true, .kind = WR_REPLY_STATS};
    r.stats.activations = d->activations;
    r.stats.warm_hits = d->warm_hits;
    r.stats.misses = d->misses;
    r.stats.samples = (long)s.samples;
    r.stats.p50_us = s.p50_us;
    r.stats.p99_us = s.p99_us;
    r.stats.mean_us = s.mean_us;
    r.stats.max_us = s.max_us;
    wr_latency_summarize(&d->in_daemon, &stage);
    r.stats.daemon_p50_us = stage.p50_us;
    wr_latency_summarize(&d->wake_up, &stage);
    r.stats.wake_p50_us = stage.p50_us;
    wr_latency_summarize(&d->in_container, &stage);
    r.stats.container_p50_us = stage.p50_us;
    send_reply(c, &r);
}

/* A container this daemon does not own is signalled directly. Its pid 1 is
 * trusted only while it is still the child of the recorded shim, and that
 * shim is still the process the record names (pid and start time), both
 * checked after the pidfd is taken, so a reused pid is never signalled. */
static int kill_foreign(struct daemon *d, const struct wr_request *req, wr_error *err)
{
    struct wr_state_record rec;
    pid_t parent;
    if (wr_state_read(d->g->state_dir, req->id, &rec, err) < 0 || rec.child_pid <= 0)
        return wr_error_code(err, ENOENT, "no container %s", req->id);
    cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, rec.child_pid, 0);
    if (pidfd < 0 || wr_proc_parent(rec.child_pid, &parent, err) < 0 || parent != rec.shim_pid ||
        !wr_state_shim_alive(&rec))
        return wr_error_code(err, ENOENT, "no container %s", req->id);
    if (syscall(SYS_pidfd_send_signal, pidfd, req->signal, NULL, 0) < 0)
        return wr_error_set(err, errno, "signal container %s", req->id);
    return 0;
}

static void kill_container(struct daemon *d, struct client *c, const struct wr_request *req)
{
    wr_error err = {0};
    struct entry *e = daemon_find_entry(d, req->id);
    int rc;
    if (e && e->state != ENTRY_GONE && e->state != ENTRY_RUNNING) {
        /* A container not handed out yet just goes, whatever the signal. */
        daemon_entry_discard(d, e);
        rc = 0;
    } else if (e && e->state != ENTRY_GONE) {
        rc = wr_shim_kill(&e->shim, req->signal, &err);
    } else {
        rc = kill_foreign(d, req, &err);
    }
    if (rc < 0) {
        daemon_send_error(c, err.errnum == ENOENT ? "not_found" : "internal", err.msg);
        return;
    }
    char sig[16];
    snprintf(sig, sizeof sig, "%d", req->signal);
    daemon_event_emit(d, "killed", "id", req->id, "image", e ? e->image : "", "signal", sig,
                      DAEMON_EVENT_END);
    send_ok(c);
}

static enum activate_result dispatch(struct daemon *d, struct client *c, struct wr_request *req,
                                     int *fds, size_t nfds, int64_t received_ns)
{
    wr_error err;
    if (req->op == WR_OP_ACTIVATE) {
        if (nfds != 3) {
            daemon_send_error(c, "invalid", "activate needs the caller's stdin, stdout and stderr");
            return ACTIVATE_REPLIED;
        }
        return activate(d, c, req, fds, received_ns);
    }
    switch (req->op) {
    case WR_OP_FUNCTION_CREATE:
    case WR_OP_FUNCTION_RM:
    case WR_OP_FUNCTION_LS:
    case WR_OP_INVOKE:
        daemon_function_request(d, c, req, fds, nfds);
        return ACTIVATE_REPLIED;
    default:
        break;
    }
    if (nfds > 0) {
        daemon_send_error(c, "invalid", "only activate carries file descriptors");
        return ACTIVATE_REPLIED;
    }
    switch (req->op) {
    case WR_OP_POOL_CREATE:
        /* A bind source that is not there: refused before any container. */
        if (wr_volumes_check_sources(&req->volumes, &err) < 0)
            daemon_send_error(c, "invalid", err.msg);
        else if (daemon_pool_apply(d, req, true, &err) < 0) {
            daemon_send_error(c, err.errnum == ENOENT ? "not_found" : "invalid", err.msg);
        } else {
            char size[24];
            snprintf(size, sizeof size, "%ld", req->size);
            struct pool *p = daemon_find_pool(d, req->image);
            daemon_event_emit(d, "pool_resized", "image", p ? p->image : req->image, "size", size,
                              DAEMON_EVENT_END);
            send_ok(c);
        }
        break;
    case WR_OP_POOL_RM:
        if (daemon_pool_forget(d, req->image, &err) < 0) {
            daemon_send_error(c, "not_found", err.msg);
        } else {
            daemon_event_emit(d, "pool_removed", "image", req->image, DAEMON_EVENT_END);
            send_ok(c);
        }
        break;
    case WR_OP_METRICS:
        daemon_metrics_send(d, c);
        break;
    case WR_OP_EVENTS:
        daemon_events_subscribe(d, c, req->since_ns);
        break;
    case WR_OP_POOL_LS:
        list_pools(d, c, NULL);
        break;
    case WR_OP_IMAGE_UPDATED:
        image_updated(d, c, req->image);
        break;
    case WR_OP_PS:
        list_containers(d, c);
        break;
    case WR_OP_KILL:
        kill_container(d, c, req);
        break;
    case WR_OP_STATS:
        send_stats(d, c);
        break;
    case WR_OP_SHUTDOWN:
        d->stopping = true;
        send_ok(c);
        break;
    default:
        daemon_send_error(c, "invalid", "this op is not for the daemon");
        break;
    }
    return ACTIVATE_REPLIED;
}

/* The request in request_buf (n bytes), or, when that is an out-of-band
 * header, in the sealed memfd passed last (sealed_fd.h: checked for its
 * kind, its seals and its size before a byte is read; taken off fds and
 * closed). A client cannot make the daemon read more than
 * WR_API_REQUEST_MAX bytes, nor wait on anything. */
static int parse_request(size_t n, int *fds, size_t *nfds, struct wr_request *req, wr_error *err)
{
    if (!wr_oob_header_is(request_buf, n))
        return wr_request_parse(request_buf, n, req, err);
    memset(req, 0, sizeof *req);
    if (*nfds == 0)
        return wr_error_set(err, 0, "an out-of-band request without its memfd");
    struct wr_oob_header h;
    memcpy(&h, request_buf, sizeof h);
    cleanup_close int memfd = fds[--*nfds];
    fds[*nfds] = -1;
    cleanup_sealed_map struct wr_sealed_map m = {0};
    if (h.len > WR_API_REQUEST_MAX)
        return wr_error_set(err, 0, "an out-of-band request of %llu bytes (at most %d)",
                            (unsigned long long)h.len, WR_API_REQUEST_MAX);
    if (wr_sealed_fd_map(memfd, h.len, WR_API_REQUEST_MAX, &m, err) < 0)
        return -1;
    return wr_request_parse(m.data, m.len, req, err);
}

void daemon_on_client(struct daemon *d, struct client *c)
{
    int fds[WR_MAX_PASSED_FDS];
    size_t nfds = WR_MAX_PASSED_FDS;
    wr_error err;
    struct wr_request req;

    if (c->closed)
        return; /* closed earlier in this batch */
    for (;;) {
        ssize_t n = wr_recv_fds(c->fd, request_buf, sizeof request_buf, fds, &nfds, &err);
        int64_t received_ns = wr_monotonic_ns();
        c->last_active_ns = received_ns;
        if (n < 0 && err.errnum == EAGAIN)
            return;
        if (n < 0) {
            if (err.errnum == EMSGSIZE)
                daemon_send_error(c, "invalid", "request larger than 64 KiB or with too many fds");
            daemon_close_client(d, c);
            return;
        }
        if (n == 0) {
            daemon_close_client(d, c);
            return;
        }
        if (c->starting) {
            /* Waiting for its container: this connection is an activated
             * one already, as far as the client can tell. */
            if (parse_request((size_t)n, fds, &nfds, &req, &err) == 0) {
                daemon_start_client_message(c, &req);
                wr_request_free(&req);
            }
            wr_close_fds(fds, nfds);
            nfds = WR_MAX_PASSED_FDS;
            continue;
        }
        if (parse_request((size_t)n, fds, &nfds, &req, &err) < 0) {
            wr_close_fds(fds, nfds);
            daemon_send_error(c, "invalid", err.msg);
            nfds = WR_MAX_PASSED_FDS;
            continue;
        }
        enum activate_result result = dispatch(d, c, &req, fds, nfds, received_ns);
        wr_close_fds(fds, nfds);
        wr_request_free(&req);
        if (result == ACTIVATE_HANDED_OVER) {
            daemon_close_client(d, c);
            return;
        }
        nfds = WR_MAX_PASSED_FDS;
    }
}

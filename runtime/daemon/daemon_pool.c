/* Pools of warm containers and the state machine of their entries (see
 * daemon_pool.h): filling in the background, handing out in O(1), every
 * transition and every counter in one place. */
#include "daemon_pool.h"

#include "daemon_log.h"
#include "daemon_mnt_template.h"
#include "daemon_network.h"
#include "daemon_resources.h"
#include "daemon_security.h"
#include "daemon_shim_exe.h"
#include "daemon_shim_server.h"
#include "lib/cleanup.h"
#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

/* After this many fills in a row fail, back off exponentially (capped) so a
 * broken image cannot make the daemon spin. */
#define FAILURES_BEFORE_BACKOFF 3
#define BACKOFF_BASE_NS         (100LL * 1000000)
#define BACKOFF_MAX_NS          (10LL * 1000000000)

/* ---- the FIFO of warm entries and the counters ---------------------------- */

static void fifo_push_tail(struct pool *p, struct entry *e)
{
    e->warm_next = NULL;
    if (p->warm_tail)
        p->warm_tail->warm_next = e;
    else
        p->warm_head = e;
    p->warm_tail = e;
    p->warm++;
}

static void fifo_push_head(struct pool *p, struct entry *e)
{
    e->warm_next = p->warm_head;
    p->warm_head = e;
    if (!p->warm_tail)
        p->warm_tail = e;
    p->warm++;
}

static struct entry *fifo_pop_head(struct pool *p)
{
    struct entry *e = p->warm_head;
    if (!e)
        return NULL;
    p->warm_head = e->warm_next;
    if (!p->warm_head)
        p->warm_tail = NULL;
    e->warm_next = NULL;
    p->warm--;
    return e;
}

static void fifo_remove(struct pool *p, struct entry *e)
{
    struct entry **link = &p->warm_head, *prev = NULL;
    while (*link && *link != e) {
        prev = *link;
        link = &(*link)->warm_next;
    }
    if (!*link)
        return;
    *link = e->warm_next;
    if (p->warm_tail == e)
        p->warm_tail = prev;
    e->warm_next = NULL;
    p->warm--;
}

/* Takes e out of its pool's counts (its state stays); the pool forgets it. */
static void leave_pool(struct entry *e)
{
    struct pool *p = e->pool;
    if (!p)
        return;
    if (e->state == ENTRY_WARM)
        fifo_remove(p, e);
    else if (e->state == ENTRY_STARTING)
        p->starting--;
    else if (e->state == ENTRY_FILLING)
        p->filling--;
    else if (e->state == ENTRY_RUNNING)
        p->running--;
    e->pool = NULL;
}

/* STARTING -> FILLING: the entry and its client let go of each other. */
static struct client *unbind(struct daemon *d, struct entry *e)
{
    struct client *c = e->waiter;
    if (!c)
        return NULL;
    c->starting = NULL;
    e->waiter = NULL;
    d->starting_total--;
    if (e->state == ENTRY_STARTING) {
        e->state = ENTRY_FILLING;
        if (e->pool) {
            e->pool->starting--;
            e->pool->filling++;
        }
    }
    return c;
}

/* A waiting client gets code/msg after the current event, once. */
static void queue_answer(struct daemon *d, struct client *c, const char *code, const char *msg)
{
    if (c->unanswered || c->closed)
        return;
    snprintf(c->lost_code, sizeof c->lost_code, "%s", code);
    snprintf(c->lost_msg, sizeof c->lost_msg, "%s", msg);
    c->unanswered = true;
    c->unanswered_next = d->unanswered;
    d->unanswered = c;
}

/* ---- pools ----------------------------------------------------------------- */

static int normalize_ref(const char *ref, char *out, size_t cap, wr_error *err)
{
    char *name, *tag;
    if (wr_image_ref_parse(ref, &name, &tag, err) < 0)
        return -1;
    int n = snprintf(out, cap, "%s:%s", name, tag);
    free(name);
    free(tag);
    if (n < 0 || (size_t)n >= cap)
        return wr_error_set(err, ENAMETOOLONG,
                            "image reference \"%.40s...\" is longer than %zu bytes as name:tag",
                            ref, cap - 1);
    return 0;
}

struct pool *daemon_find_pool(struct daemon *d, const char *image)
{
    char key[WR_IMAGE_REF_MAX + 1];
    wr_error err;
    if (normalize_ref(image, key, sizeof key, &err) < 0)
        return NULL;
    for (struct pool *p = d->pools; p; p = p->next)
        if (!p->hidden && strcmp(p->image, key) == 0)
            return p;
    return NULL;
}

/* A STARTING entry of a pool whose settings changed: a new one is started
 * with them for the same client, and the old one goes. */
static void restart_for_waiter(struct daemon *d, struct entry *e)
{
    wr_error err;
    struct pool *p = e->pool;
    struct client *c = unbind(d, e);
    char msg[WR_ERROR_MSG_MAX + 64];
    daemon_entry_discard(d, e);
    if (!daemon_entry_spawn(d, p, c, &err)) {
        snprintf(msg, sizeof msg,
                 "pool %.100s: its settings changed while a container was being started for "
                 "this activation, and starting one with the new settings failed: %.200s",
                 p->image, err.msg);
        queue_answer(d, c, "internal", msg);
    }
}

/* New settings: no container made with the old ones is handed out, neither
 * a warm one nor one still filling (those are stopped too: the old
 * profile's compiled filter is already gone). */
static void settings_changed(struct daemon *d, struct pool *p);

void daemon_pool_settings_changed(struct daemon *d, struct pool *p)
{
    settings_changed(d, p);
}

static void settings_changed(struct daemon *d, struct pool *p)
{
    /* Walked from a snapshot of the list's head: restarts add entries in
     * front of it. */
    for (struct entry *e = d->entries, *next; e; e = next) {
        next = e->next;
        if (e->pool != p || e->state == ENTRY_RUNNING || e->state == ENTRY_GONE)
            continue;
        if (e->state == ENTRY_STARTING)
            restart_for_waiter(d, e);
        else
            daemon_entry_discard(d, e);
    }
}

/* A new pool of key (normalized) with these settings, first on the list. */
static struct pool *new_pool(struct daemon *d, const char *key, long size, uint64_t tmpfs_bytes,
                             const struct wr_security_profile *security,
                             const struct wr_resources *res, const struct wr_volumes *volumes,
                             const char *network, wr_error *err)
{
    bool changed;
    cleanup_image struct wr_image *img = NULL;
    if (wr_image_load(d->g->root, key, &img, err) < 0 || wr_resources_validate(res, err) < 0)
        return NULL;
    cleanup_free struct pool *created = calloc(1, sizeof *created);
    if (!created) {
        wr_error_set(err, ENOMEM, "pool");
        return NULL;
    }
    snprintf(created->image, sizeof created->image, "%s", key);
    created->img = img;
    if (wr_volumes_copy(&created->volumes, volumes, err) < 0)
        return NULL; // cppcheck-suppress memleak ; cleanup_free frees it
    if (daemon_pool_security(d, created, security, &changed, err) < 0) {
        wr_volumes_free(&created->volumes);
        return NULL; // cppcheck-suppress memleak ; cleanup_free frees it
    }
    struct pool *p = steal_pointer(&created);
    p->img = steal_pointer(&img);
    daemon_resources_pool_apply(d, p, res);
    p->size = size;
    p->tmpfs_bytes = tmpfs_bytes;
    snprintf(p->network, sizeof p->network, "%s", network);
    p->next = d->pools;
    d->pools = p;
    daemon_log("pool %s created, size %ld", p->image, size);
    return p;
}

int daemon_pool_create(struct daemon *d, const char *ref, long size, bool settings,
                       uint64_t tmpfs_bytes, const struct wr_security_profile *security,
                       const struct wr_resources *res, const struct wr_volumes *volumes,
                       const char *network, wr_error *err)
{
    static const struct wr_volumes no_volumes;
    if (!volumes)
        volumes = &no_volumes;
    if (!network)
        network = "";
    bool changed;
    char key[WR_IMAGE_REF_MAX + 1];
    /* A reference whose "name:tag" does not fit the pool key is refused
     * here, so that no pool is ever created that could not be found again. */
    if (normalize_ref(ref, key, sizeof key, err) < 0)
        return -1;
    struct pool *p = daemon_find_pool(d, key);
    if (p && !settings) {
        /* A resize: the pool keeps its settings (a pool create without
         * them must never quietly drop a user namespace or a limit). */
        p->size = size;
        p->consecutive_failures = 0;
        p->retry_at_ns = 0;
        p->last_error[0] = '\0';
        return 0;
    }
    if (p) {
        /* Both settings are checked before either changes (the pool stays
         * as it was on error); the security profile, which may fail to
         * compile, goes first. */
        struct wr_volumes vols = {0};
        if (wr_resources_validate(res, err) < 0 || wr_volumes_copy(&vols, volumes, err) < 0)
            return -1;
        if (daemon_pool_security(d, p, security, &changed, err) < 0) {
            wr_volumes_free(&vols);
            return -1;
        }
        changed |= !wr_volumes_equal(&vols, &p->volumes);
        wr_volumes_free(&p->volumes);
        p->volumes = vols;
        bool res_changed = daemon_resources_pool_apply(d, p, res);
        changed |= res_changed || tmpfs_bytes != p->tmpfs_bytes || strcmp(network, p->network);
        p->tmpfs_bytes = tmpfs_bytes;
        snprintf(p->network, sizeof p->network, "%s", network);
        if (changed)
            settings_changed(d, p);
        p->size = size; /* resize: fill grows it, release_surplus shrinks it */
        p->consecutive_failures = 0;
        p->retry_at_ns = 0;
        /* An error of the old settings says nothing of the new ones (and
         * `pool create --wait` must not report it). */
        p->last_error[0] = '\0';
        return 0;
    }
    return new_pool(d, key, size, tmpfs_bytes, security, res, volumes, network, err) ? 0 : -1;
}

struct pool *daemon_pool_create_hidden(struct daemon *d, const char *ref, long size,
                                       uint64_t tmpfs_bytes,
                                       const struct wr_security_profile *security,
                                       const struct wr_resources *res,
                                       const struct wr_volumes *volumes, const char *network,
                                       wr_error *err)
{
    char key[WR_IMAGE_REF_MAX + 1];
    if (normalize_ref(ref, key, sizeof key, err) < 0)
        return NULL;
    struct pool *p =
        new_pool(d, key, size, tmpfs_bytes, security, res, volumes, network ? network : "", err);
    if (p)
        p->hidden = true;
    return p;
}

int daemon_pool_set_image(struct daemon *d, struct pool *p, struct wr_image *img,
                          const struct wr_security_profile *security, wr_error *err)
{
    struct wr_image *old = p->img;
    bool changed;
    p->img = img;
    if (daemon_pool_security(d, p, security, &changed, err) < 0) {
        p->img = old;
        return -1;
    }
    wr_image_free(old);
    settings_changed(d, p);
    p->consecutive_failures = 0;
    p->retry_at_ns = 0;
    p->last_error[0] = '\0';
    daemon_log("pool %s: now image %.19s", p->image, img->id);
    return 0;
}

int daemon_pool_remove(struct daemon *d, const char *ref, wr_error *err)
{
    struct pool *p = daemon_find_pool(d, ref);
    if (!p)
        return wr_error_code(err, ENOENT, "no pool for image %s", ref);
    daemon_pool_destroy(d, p);
    return 0;
}

void daemon_pool_destroy(struct daemon *d, struct pool *p)
{
    struct pool **link = &d->pools;
    char why[WR_IMAGE_REF_MAX + 128];
    snprintf(why, sizeof why,
             "pool %s was removed while a container was being started for this activation",
             p->image);
    for (struct entry *e = d->entries, *next; e; e = next) {
        next = e->next;
        if (e->pool != p)
            continue;
        daemon_entry_lose_waiter(d, e, "not_found", why);
        if (e->state == ENTRY_RUNNING)
            leave_pool(e);
        else
            daemon_entry_discard(d, e);
    }
    while (*link != p)
        link = &(*link)->next;
    *link = p->next;
    daemon_log("pool %s removed", p->image);
    daemon_netns_drop_all(p);
    daemon_pool_security_release(p);
    wr_volumes_free(&p->volumes);
    wr_image_free(p->img);
    free(p->request);
    free(p);
    if (!d->pools)
        daemon_mnt_template_release(d);
}

void daemon_pool_set_autoscale(struct pool *p, const struct wr_autoscale *cfg)
{
    daemon_autoscale_configure(&p->autoscale, cfg, wr_monotonic_ns());
    if (cfg->on) {
        p->size = cfg->min;
        daemon_log("pool %s sized by demand: min %ld, max %ld, idle TTL %ld s", p->image, cfg->min,
                   cfg->max, cfg->idle_ttl_s);
    }
}

void daemon_pool_arrival(struct pool *p, int64_t now_ns)
{
    daemon_autoscale_arrival(&p->autoscale, now_ns);
}

static void record_failure(struct pool *p, const char *why)
{
    p->failures++;
    p->consecutive_failures++;
    snprintf(p->last_error, sizeof p->last_error, "%s", why);
    if (p->consecutive_failures >= FAILURES_BEFORE_BACKOFF) {
        int shift = p->consecutive_failures - FAILURES_BEFORE_BACKOFF;
        int64_t delay = BACKOFF_BASE_NS << (shift > 7 ? 7 : shift);
        if (delay > BACKOFF_MAX_NS)
            delay = BACKOFF_MAX_NS;
        p->retry_at_ns = wr_monotonic_ns() + delay;
    }
    daemon_log("pool %s: fill failed: %s", p->image, why);
}

/* Shrinks a pool that was resized down, oldest warm entries first. */
static void release_surplus(struct daemon *d, struct pool *p)
{
    while (p->warm > 0 && p->warm + p->filling > p->size)
        daemon_entry_discard(d, p->warm_head);
}

void daemon_fill_pools(struct daemon *d)
{
    int64_t now = wr_monotonic_ns();
    wr_error err;
    if (d->stopping)
        return;
    for (struct pool *p = d->pools; p; p = p->next) {
        p->size = daemon_autoscale_size(&p->autoscale, now, p->size);
        release_surplus(d, p);
        while (p->warm + p->filling < p->size && d->filling_total < d->max_parallel_fills &&
               now >= p->retry_at_ns) {
            if (!daemon_entry_spawn(d, p, NULL, &err)) {
                record_failure(p, err.msg);
                break;
            }
        }
    }
}

int64_t daemon_next_fill_ns(const struct daemon *d)
{
    int64_t next = -1;
    /* An autoscaled pool shrinks when it goes idle: wake then. */
    for (const struct pool *p = d->pools; p; p = p->next) {
        int64_t idle = daemon_autoscale_next_ns(&p->autoscale, p->size);
        if (idle >= 0 && (next < 0 || idle < next))
            next = idle;
    }
    /* At the limit of parallel fills only a fill's end (a shim message,
     * which wakes the loop anyway) can start another: no timeout, or the
     * loop would spin on a retry time already past. */
    if (d->filling_total >= d->max_parallel_fills)
        return next;
    for (const struct pool *p = d->pools; p; p = p->next)
        if (p->warm + p->filling < p->size && p->retry_at_ns > 0 &&
            (next < 0 || p->retry_at_ns < next))
            next = p->retry_at_ns;
    return next;
}

void daemon_pool_delay_refill(struct pool *p, int64_t until_ns)
{
    if (p->retry_at_ns < until_ns)
        p->retry_at_ns = until_ns;
}

void daemon_release_idle(struct daemon *d)
{
    for (struct pool *p = d->pools; p; p = p->next)
        daemon_netns_drop_all(p);
    for (struct entry *e = d->entries, *next; e; e = next) {
        next = e->next;
        if (e->state == ENTRY_RUNNING)
            leave_pool(e);
        daemon_entry_discard(d, e);
    }
}

void daemon_pool_bury(struct daemon *d)
{
    while (d->graveyard) {
        struct entry *e = d->graveyard;
        d->graveyard = e->next;
        free(e);
    }
}

/* ---- entries ----------------------------------------------------------------- */

struct entry *daemon_find_entry(struct daemon *d, const char *id)
{
    for (struct entry *e = d->entries; e; e = e->next)
        if (strcmp(e->shim.id, id) == 0)
            return e;
    return NULL;
}

struct entry *daemon_entry_spawn(struct daemon *d, struct pool *p, struct client *waiter,
                                 wr_error *err)
{
    struct wr_resources res;
    const char *shim = daemon_shim_exec_path(d, err);
    if (!shim)
        return NULL;
    struct entry *e = calloc(1, sizeof *e);
    if (!e) {
        wr_error_set(err, ENOMEM, "entry");
        return NULL;
    }
    daemon_resources_for_entry(d, p, e, &res);
    const char *publish[WR_PUBLISH_MAX];
    for (size_t i = 0; i < p->publish.n; i++)
        publish[i] = p->publish.text[i];
    struct wr_shim_spec spec = {
        .shim_path = shim,
        .state_dir = d->g->state_dir,
        .image = p->image,
        .lowerdir = p->img->lowerdir,
        .tmpfs_bytes = p->tmpfs_bytes,
        /* A client waits for this one: it gets the CPU like the workloads. */
        .fill_idle = waiter == NULL,
        .workload_cpus = d->pin_cpu >= 0 ? d->workload_cpus : NULL,
        .security = p->security,
        .resources = &res,
        .network = p->network[0] ? p->network : NULL,
        .net_helper = daemon_net_helper_path(),
        .publish = publish,
        .n_publish = p->publish.n,
        .publish_at_activation = p->publish.n > 0,
        .volumes = &p->volumes,
        .netns_recycle = daemon_netns_recycles(p),
    };
    spec.netns_fd = daemon_netns_take(p, &spec.netns_sockets, &spec.sysfs_fd);
    spec.has_netns = spec.netns_fd >= 0;
    spec.has_sysfs = spec.sysfs_fd >= 0;
    spec.fork_server_fd = daemon_shim_server_fd(d);
    int spawned = d->spawn(&spec, &e->shim, err);
    if (e->shim.fork_server_lost)
        daemon_shim_server_lost(d, err->msg);
    if (spec.has_netns)
        close(spec.netns_fd); /* the shim has its own now */
    if (spec.has_sysfs)
        close(spec.sysfs_fd); /* and of its sysfs mount */
    if (spawned < 0) {
        free(e);
        return NULL;
    }
    /* The daemon never waits on one shim: a stopped or stuck shim makes a
     * send fail with EAGAIN (that container is then given up), not block
     * every client. */
    fcntl(e->shim.ctl_fd, F_SETFL, O_NONBLOCK);
    fcntl(e->shim.act_fd, F_SETFL, O_NONBLOCK);
    e->watch.kind = WATCH_SHIM;
    e->state = ENTRY_FILLING;
    e->pool = p;
    e->created = (int64_t)time(NULL);
    e->spawned_ns = wr_monotonic_ns();
    snprintf(e->image, sizeof e->image, "%s", p->image);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &e->watch};
    e->next = d->entries;
    if (d->entries)
        d->entries->prev = e;
    d->entries = e;
    p->filling++;
    d->filling_total++;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, e->shim.ctl_fd, &ev) < 0) {
        wr_error_set(err, errno, "epoll_ctl");
        daemon_entry_discard(d, e);
        return NULL;
    }
    if (waiter) {
        /* Counted in the daemon's fills in flight (background fills wait
         * for it), not in the pool's filling: a drained pool still
         * refills itself. */
        e->state = ENTRY_STARTING;
        p->filling--;
        p->starting++;
        d->starting_total++;
        e->waiter = waiter;
        waiter->starting = e;
    }
    return e;
}

struct client *daemon_entry_ready(struct daemon *d, struct entry *e)
{
    struct pool *p = e->pool;
    struct client *c = unbind(d, e);
    d->filling_total--;
    if (p)
        p->filling--;
    if (!p) {
        e->state = ENTRY_WARM;
        daemon_entry_discard(d, e);
        return NULL;
    }
    p->consecutive_failures = 0;
    daemon_autoscale_fill_done(&p->autoscale, wr_monotonic_ns() - e->spawned_ns);
    if (c) {
        e->state = ENTRY_TAKEN; /* not on the FIFO: its client's */
        return c;
    }
    p->retry_at_ns = 0;
    e->state = ENTRY_WARM;
    fifo_push_tail(p, e);
    return NULL;
}

struct entry *daemon_pool_claim_fill(struct daemon *d, struct pool *p, struct client *c)
{
    /* The oldest fill is the nearest to warm: entries are pushed in front. */
    struct entry *found = NULL;
    for (struct entry *e = d->entries; e; e = e->next)
        if (e->pool == p && e->state == ENTRY_FILLING && !e->waiter)
            found = e;
    if (!found)
        return NULL;
    found->state = ENTRY_STARTING;
    p->filling--;
    p->starting++;
    d->starting_total++;
    found->waiter = c;
    c->starting = found;
    return found;
}

struct entry *daemon_pool_take_warm(struct pool *p)
{
    struct entry *e = fifo_pop_head(p);
    if (e)
        e->state = ENTRY_TAKEN;
    return e;
}

void daemon_entry_return_warm(struct entry *e)
{
    e->state = ENTRY_WARM;
    fifo_push_head(e->pool, e);
}

void daemon_entry_running(struct daemon *d, struct entry *e, int64_t received_ns, bool cold)
{
    e->state = ENTRY_RUNNING;
    e->handed_out = true;
    e->received_ns = received_ns;
    e->cold = cold;
    if (e->pool) {
        e->pool->running++;
        e->pool->activations++;
    }
    /* Right after the hand-over, before the workload can have started
     * listening (it is still being woken): its pool's -p. */
    daemon_ports_publish(d, e);
}

void daemon_entry_set_command(struct entry *e, const struct wr_request *req,
                              const struct wr_image *img)
{
    char *const *argv = req->argc ? req->argv : img->cmd;
    size_t len = 0;
    e->command[0] = '\0';
    for (size_t i = 0; argv && argv[i] && len + 1 < sizeof e->command; i++) {
        int n = snprintf(e->command + len, sizeof e->command - len, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

void daemon_entry_setup_failed(struct daemon *d, struct entry *e, const char *why)
{
    (void)d;
    if ((e->state == ENTRY_FILLING || e->state == ENTRY_STARTING) && e->pool)
        record_failure(e->pool, why);
}

void daemon_entry_lose_waiter(struct daemon *d, struct entry *e, const char *code, const char *msg)
{
    struct client *c = unbind(d, e);
    if (c)
        queue_answer(d, c, code, msg);
}

void daemon_entry_abandon(struct daemon *d, struct entry *e)
{
    unbind(d, e);
    struct pool *p = e->pool;
    if (!p || d->stopping || p->warm + p->filling > p->size)
        daemon_entry_discard(d, e);
}

/* An entry whose shim is reaped and whose control socket is closed is done.
 * It is not freed here: an event for it may still wait in the batch the
 * event loop is working through. It goes to the graveyard, which the loop
 * empties after the batch (daemon_pool_bury). */
static void free_if_done(struct daemon *d, struct entry *e)
{
    if (e->state != ENTRY_GONE || !e->reaped)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        d->entries = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = NULL;
    e->next = d->graveyard;
    d->graveyard = e;
}

void daemon_entry_discard(struct daemon *d, struct entry *e)
{
    daemon_ports_release(d, e);
    if (e->state == ENTRY_GONE)
        return;
    /* Its client learns why, unless a caller has already told it. */
    daemon_entry_lose_waiter(d, e, "internal",
                             "the container being started for this activation was stopped "
                             "before it was ready");
    if (e->state == ENTRY_FILLING)
        d->filling_total--;
    leave_pool(e);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, e->shim.ctl_fd, NULL);
    wr_shim_release(&e->shim);
    e->state = ENTRY_GONE;
    free_if_done(d, e);
}

void daemon_entry_reaped(struct daemon *d, struct entry *e)
{
    e->reaped = true;
    if (e->state == ENTRY_GONE)
        free_if_done(d, e);
    else
        daemon_entry_discard(d, e); /* frees it too, now that it is reaped */
}

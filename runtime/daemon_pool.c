/* Pools of warm containers: filling them in the background, handing out
 * their entries in O(1), and following every shim until it is reaped. */
#include "daemon.h"

#include "container.h"
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

/* After this many fills in a row fail, back off exponentially (capped) so a
 * broken image cannot make the daemon spin. */
#define FAILURES_BEFORE_BACKOFF 3
#define BACKOFF_BASE_NS         (100LL * 1000000)
#define BACKOFF_MAX_NS          (10LL * 1000000000)

void daemon_log(const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(stderr, "%s warmrun-daemon: ", stamp);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

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
        if (strcmp(p->image, key) == 0)
            return p;
    return NULL;
}

int daemon_pool_create(struct daemon *d, const char *ref, long size, bool settings,
                       uint64_t tmpfs_bytes, const struct wr_security_profile *security,
                       const struct wr_resources *res, wr_error *err)
{
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
        if (wr_resources_validate(res, err) < 0 ||
            daemon_pool_security(d, p, security, &changed, err) < 0)
            return -1;
        bool res_changed = daemon_resources_pool_apply(d, p, res);
        changed |= res_changed || tmpfs_bytes != p->tmpfs_bytes;
        p->tmpfs_bytes = tmpfs_bytes;
        /* New settings: no container made with the old ones is handed out,
         * neither a warm one nor one still filling (those are stopped too:
         * the old profile's compiled filter is already gone). One being
         * started for a waiting activation is started again with the new
         * settings. The list is walked from a snapshot of its head: the
         * restarts add entries in front of it. */
        for (struct entry *e = d->entries, *next; changed && e; e = next) {
            next = e->next;
            if (e->pool != p || e->state == ENTRY_RUNNING || e->ctl_closed)
                continue;
            if (e->waiter)
                daemon_start_restart(d, e);
            else
                daemon_entry_discard(d, e);
        }
        p->size = size; /* resize: fill grows it, release_surplus shrinks it */
        p->consecutive_failures = 0;
        p->retry_at_ns = 0;
        /* An error of the old settings says nothing of the new ones (and
         * `pool create --wait` must not report it). */
        p->last_error[0] = '\0';
        return 0;
    }
    struct wr_image *img;
    if (wr_image_load(d->g->root, ref, &img, err) < 0)
        return -1;
    p = calloc(1, sizeof *p);
    if (!p) {
        wr_image_free(img);
        return wr_error_set(err, ENOMEM, "pool");
    }
    snprintf(p->image, sizeof p->image, "%s", key);
    p->img = img;
    if (wr_resources_validate(res, err) < 0 ||
        daemon_pool_security(d, p, security, &changed, err) < 0) {
        wr_image_free(img);
        free(p);
        return -1;
    }
    daemon_resources_pool_apply(d, p, res);
    p->size = size;
    p->tmpfs_bytes = tmpfs_bytes;
    p->next = d->pools;
    d->pools = p;
    daemon_log("pool %s created, size %ld", p->image, size);
    return 0;
}

static void warm_list_remove(struct pool *p, struct entry *e)
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

struct entry *daemon_pop_warm(struct pool *p)
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

static void unlink_from_pool(struct entry *e)
{
    struct pool *p = e->pool;
    if (!p)
        return;
    if (e->state == ENTRY_WARM)
        warm_list_remove(p, e);
    else if (e->state == ENTRY_FILLING && e->waiter)
        p->starting--;
    else if (e->state == ENTRY_FILLING)
        p->filling--;
    else
        p->running--;
    e->pool = NULL;
}

/* An entry whose shim is reaped and whose control socket is closed is done.
 * It is not freed here: an event for it may still wait in the batch the
 * event loop is working through. It goes to the graveyard, which the loop
 * empties after the batch (daemon_bury). */
static void free_if_done(struct daemon *d, struct entry *e)
{
    if (!e->ctl_closed || !e->reaped)
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

void daemon_bury(struct daemon *d)
{
    while (d->graveyard) {
        struct entry *e = d->graveyard;
        d->graveyard = e->next;
        free(e);
    }
    while (d->client_graveyard) {
        struct client *c = d->client_graveyard;
        d->client_graveyard = c->next;
        free(c);
    }
}

/* Lets go of a shim: with its control socket closed a warm shim kills its
 * container and exits; a running one carries on and reports to its client. */
void daemon_entry_discard(struct daemon *d, struct entry *e)
{
    if (e->ctl_closed)
        return;
    /* Its client learns why, unless a caller has already told it. */
    daemon_start_fail(d, e, "internal",
                      "the container being started for this activation was stopped before it "
                      "was ready");
    if (e->state == ENTRY_FILLING)
        d->filling_total--;
    unlink_from_pool(e);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, e->shim.ctl_fd, NULL);
    wr_shim_release(&e->shim);
    e->ctl_closed = true;
    free_if_done(d, e);
}

int daemon_pool_remove(struct daemon *d, const char *ref, wr_error *err)
{
    struct pool *p = daemon_find_pool(d, ref), **link = &d->pools;
    if (!p)
        return wr_error_set(err, ENOENT, "no pool for image %s", ref);
    char why[WR_IMAGE_REF_MAX + 128];
    snprintf(why, sizeof why,
             "pool %s was removed while a container was being started for this activation",
             p->image);
    for (struct entry *e = d->entries, *next; e; e = next) {
        next = e->next;
        if (e->pool != p)
            continue;
        daemon_start_fail(d, e, "not_found", why);
        if (e->state == ENTRY_RUNNING)
            unlink_from_pool(e);
        else
            daemon_entry_discard(d, e);
    }
    while (*link != p)
        link = &(*link)->next;
    *link = p->next;
    daemon_log("pool %s removed", p->image);
    daemon_pool_security_release(p);
    wr_image_free(p->img);
    free(p);
    return 0;
}

static void record_failure(struct daemon *d, struct pool *p, const char *why)
{
    (void)d;
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

struct entry *daemon_spawn_entry(struct daemon *d, struct pool *p, struct client *waiter,
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
    };
    if (wr_shim_spawn(&spec, &e->shim, err) < 0) {
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
        p->filling--;
        p->starting++;
        d->starting_total++;
        e->waiter = waiter;
        waiter->starting = e;
    }
    return e;
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
        release_surplus(d, p);
        while (p->warm + p->filling < p->size && d->filling_total < d->max_parallel_fills &&
               now >= p->retry_at_ns) {
            if (!daemon_spawn_entry(d, p, NULL, &err)) {
                record_failure(d, p, err.msg);
                break;
            }
        }
    }
}

int64_t daemon_next_fill_ns(const struct daemon *d)
{
    int64_t next = -1;
    /* At the limit of parallel fills only a fill's end (a shim message,
     * which wakes the loop anyway) can start another: no timeout, or the
     * loop would spin on a retry time already past. */
    if (d->filling_total >= d->max_parallel_fills)
        return -1;
    for (const struct pool *p = d->pools; p; p = p->next)
        if (p->warm + p->filling < p->size && p->retry_at_ns > 0 &&
            (next < 0 || p->retry_at_ns < next))
            next = p->retry_at_ns;
    return next;
}

static void on_warm(struct daemon *d, struct entry *e)
{
    struct pool *p = e->pool;
    d->filling_total--;
    if (!p) {
        e->state = ENTRY_WARM;
        daemon_entry_discard(d, e);
        return;
    }
    p->filling--;
    e->state = ENTRY_WARM;
    p->consecutive_failures = 0;
    p->retry_at_ns = 0;
    if (p->warm_tail)
        p->warm_tail->warm_next = e;
    else
        p->warm_head = e;
    p->warm_tail = e;
    p->warm++;
}

void daemon_entry_running(struct daemon *d, struct entry *e)
{
    (void)d;
    e->state = ENTRY_RUNNING;
    if (e->pool) {
        e->pool->running++;
        e->pool->activations++;
    }
}

void daemon_on_shim(struct daemon *d, struct entry *e)
{
    struct wr_msg m;
    wr_error err;
    if (e->ctl_closed)
        return; /* let go of earlier in this batch */
    int got = wr_shim_read(&e->shim, &m, &err);
    if (got > 0 && m.type == WR_MSG_WARM && e->state == ENTRY_FILLING) {
        if (e->waiter)
            daemon_start_on_warm(d, e);
        else
            on_warm(d, e);
        return;
    }
    if (got > 0 && m.type == WR_MSG_FAILED && e->state == ENTRY_FILLING) {
        if (e->pool)
            record_failure(d, e->pool, m.text);
        if (e->waiter) {
            char why[WR_ERROR_MSG_MAX];
            snprintf(why, sizeof why,
                     "pool %.100s: the container started for this activation failed: %.300s",
                     e->image, m.text);
            daemon_start_fail(d, e, "internal", why);
        }
        daemon_entry_discard(d, e);
        return;
    }
    /* The latency rings are the warm path's: a container created for its
     * activation would only blur them. */
    if (got > 0 && m.type == WR_MSG_EXITED && e->state == ENTRY_RUNNING && !e->cold &&
        m.value > 0 && m.value2 > 0) {
        wr_latency_add(&d->latency, m.value - e->received_ns);
        wr_latency_add(&d->in_daemon, e->resumed_ns - e->received_ns);
        wr_latency_add(&d->wake_up, m.value2 - e->resumed_ns);
        wr_latency_add(&d->in_container, m.value - m.value2);
    }
    if (got > 0 && m.type != WR_MSG_EXITED)
        return; /* nothing else is expected; ignore it */
    if (got <= 0 && e->state == ENTRY_FILLING && e->pool)
        record_failure(d, e->pool, "shim exited during setup");
    /* A hang-up without an exit report: the shim died, and its container
     * must not outlive it (see wr_shim_kill_orphan). */
    if (got == 0 && wr_shim_kill_orphan(&e->shim, WR_ORPHAN_WAIT_MS))
        daemon_log("shim %s gone without an exit report: its container killed", e->shim.id);
    daemon_entry_discard(d, e);
}

struct entry *daemon_find_entry(struct daemon *d, const char *id)
{
    for (struct entry *e = d->entries; e; e = e->next)
        if (strcmp(e->shim.id, id) == 0)
            return e;
    return NULL;
}

void daemon_reap(struct daemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct entry *e = d->entries;
        while (e && e->shim.shim_pid != pid)
            e = e->next;
        if (!e)
            continue;
        /* A shim that did not exit cleanly could not remove its record,
         * nor its container's cgroups, which only an exited container
         * frees (its control socket's hang-up may still wait in epoll). */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (!e->ctl_closed)
                wr_shim_kill_orphan(&e->shim, WR_ORPHAN_WAIT_MS);
            wr_state_remove(d->g->state_dir, e->shim.id);
            daemon_resources_forget(d, e->shim.id);
            if (WIFSIGNALED(status))
                daemon_log("shim %s killed by signal %d", e->shim.id, WTERMSIG(status));
        }
        e->reaped = true;
        if (!e->ctl_closed && e->state == ENTRY_FILLING && e->pool && !WIFEXITED(status))
            record_failure(d, e->pool, "shim died during setup");
        if (e->ctl_closed)
            free_if_done(d, e);
        else
            daemon_entry_discard(d, e); /* frees it too, now that it is reaped */
    }
}

/* On shutdown: every container that is not running goes. */
void daemon_release_idle(struct daemon *d)
{
    for (struct entry *e = d->entries, *next; e; e = next) {
        next = e->next;
        if (e->state == ENTRY_RUNNING)
            unlink_from_pool(e);
        daemon_entry_discard(d, e);
    }
}

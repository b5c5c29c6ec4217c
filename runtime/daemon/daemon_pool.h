/* Pools of warm containers, and the life of each of their containers as
 * one state machine. An entry is one shim and its container, from the
 * spawn until the shim is reaped:
 *
 *   spawn --> FILLING --ready--> WARM --take_warm--> TAKEN --running--> RUNNING
 *     |          ^                ^                    |
 *     |          | abandon,       +-----return_warm----+
 *     |          | lose_waiter    (a hand-over that failed before SIGCONT)
 *     +-(for a waiting activation)--> STARTING --ready--> TAKEN (for its client)
 *
 *   any state --discard--> GONE --reaped--> freed after the event batch
 *
 * FILLING and STARTING: the shim is setting the container up (STARTING:
 * for one activation waiting for it, daemon_start.c). WARM: stopped, on
 * its pool's FIFO. TAKEN: off the FIFO, being handed to an activation
 * right now (never seen outside that call). RUNNING: handed over. GONE:
 * the daemon let go of the shim (its descriptors are closed).
 *
 * Every change of an entry's state, of the warm FIFO and of the counters
 * that follow them (a pool's warm, filling, starting, running,
 * activations, failures; the daemon's filling_total and starting_total)
 * is one of the functions below: nothing else writes them. Nothing here
 * talks to a client: a waiting activation whose container is lost is
 * queued on daemon.unanswered, which daemon_start_answer() answers. */
#ifndef WARMRUN_DAEMON_POOL_H
#define WARMRUN_DAEMON_POOL_H

#include "daemon.h"
#include "daemon_autoscale.h"
#include "daemon_netns.h"
#include "daemon_ports.h"

#include "lib/image_store.h"
#include "lib/net_config.h"
#include "lib/resources.h"
#include "lib/security_profile.h"

#include <stdbool.h>
#include <stdint.h>

enum entry_state {
    ENTRY_FILLING,
    ENTRY_STARTING,
    ENTRY_WARM,
    ENTRY_TAKEN,
    ENTRY_RUNNING,
    ENTRY_GONE,
};

struct entry {
    struct watch watch;
    struct wr_shim shim;
    enum entry_state state;
    struct pool *pool; /* NULL once its pool is removed */
    char image[WR_IMAGE_REF_MAX + 1];
    int64_t created;     /* unix seconds */
    int64_t received_ns; /* when its activation request arrived */
    int64_t resumed_ns;  /* when the daemon had sent it the activation and SIGCONT */
    int64_t spawned_ns;  /* when its shim was spawned (fill latency, autoscale) */
    char command[256];
    int cpu;               /* the CPU --cpu-spread gave it, or -1 */
    struct client *waiter; /* STARTING: the activation it is started for */
    bool cold;             /* created for its activation: not a warm hit (stats) */
    bool handed_out;       /* it reached RUNNING (a GONE one may run still) */
    bool reaped;
    struct entry_ports ports;  /* what it published at activation (daemon_ports.h) */
    struct entry *prev, *next; /* every entry */
    struct entry *warm_next;   /* the pool's FIFO of warm entries */
};

struct pool {
    char image[WR_IMAGE_REF_MAX + 1]; /* normalized "name:tag" */
    struct wr_image *img;
    long size; /* the fixed size, or autoscale's current target */
    struct autoscale_state autoscale;
    uint64_t tmpfs_bytes;        /* writable layer size of the containers it fills */
    struct wr_resources res;     /* resource settings of the containers it fills */
    struct wr_resources_env env; /* environment they add (huge pages, --tune-env) */
    unsigned spread_next;        /* --cpu-spread round-robin position */
    long warm, filling, running, activations, failures;
    long starting; /* containers being started for waiting activations */
    int consecutive_failures;
    int64_t retry_at_ns;
    char last_error[256];
    struct entry *warm_head, *warm_tail;
    struct pool *next;
    /* Security profile (daemon_security.c): as asked, as the shims get it
     * (with the compiled filter's path), and that file. */
    char security_source[WR_PROFILE_TEXT];
    char security[WR_PROFILE_TEXT];
    char seccomp_bpf[WR_SECCOMP_MAX + 1];
    char network[WR_NET_MODE_TEXT]; /* --network of its containers; "" none */
    struct wr_volumes volumes;      /* of the containers it fills (lib/volumes.h) */
    /* -p of its containers, mapped at activation (daemon_ports.h) */
    struct wr_publish_set publish;
    struct wr_publish ports[WR_PUBLISH_MAX];
    /* A function's (daemon_function.c): never found by image, never
     * listed, its warm containers taken only by that function. */
    bool hidden;
    /* Its settings as the pool_create request (JSON) that gives them, with
     * the current size: what `pool ls` shows and the store keeps
     * (daemon_persist.c). malloc'd; NULL until daemon_pool_apply. */
    char *request;
    /* Recycled network namespaces (daemon_netns.h): whether its profile
     * allows them, and the free list. */
    bool netns_recycle;
    struct netns_list netns;
};

/* ---- pools ------------------------------------------------------------ */

/* Its warm and filling containers go (they were made with settings that
 * changed); running ones keep what they have. */
void daemon_pool_settings_changed(struct daemon *d, struct pool *p);
/* The pool of image (any reference form), or NULL. */
struct pool *daemon_find_pool(struct daemon *d, const char *image);
/* Creates the pool of image ref, or changes an existing one: with settings
 * false (the request gave no security, resource or tmpfs option) only its
 * size; else its size and every setting (security NULL: Docker's defaults,
 * with the daemon's --userns-default; volumes NULL: none). New settings end every container
 * made with the old ones that is not running: warm and filling ones are
 * discarded, one STARTING for a waiting activation is started again with
 * the new settings for the same client. Errors: the image's load, a
 * profile that does not compile, invalid resources (the pool stays as it
 * was). network: the canonical --network text (NULL: none), already
 * checked and prepared (daemon_network_ensure). */
int daemon_pool_create(struct daemon *d, const char *ref, long size, bool settings,
                       uint64_t tmpfs_bytes, const struct wr_security_profile *security,
                       const struct wr_resources *res, const struct wr_volumes *volumes,
                       const char *network, wr_error *err);
/* Sets how p is sized: cfg->on, by demand between cfg->min and cfg->max
 * (daemon_autoscale.h), starting at min; else fixed at its size. */
void daemon_pool_set_autoscale(struct pool *p, const struct wr_autoscale *cfg);
/* An activation for p arrived (autoscale's arrival rate). */
void daemon_pool_arrival(struct pool *p, int64_t now_ns);
/* A new image for p (its tag was imported again): the pool's security
 * profile is derived again from the image's User (security as asked, NULL:
 * Docker's defaults), then every container made from the old image that is
 * not running goes, as on new settings. On error (the profile does not
 * compile) p keeps its old image and img is the caller's still; on success
 * p owns img. */
int daemon_pool_set_image(struct daemon *d, struct pool *p, struct wr_image *img,
                          const struct wr_security_profile *security, wr_error *err);
/* A hidden pool of image ref with these settings, for one function
 * (volumes copied; network a canonical --network value, NULL or "" for
 * none); NULL with err (the image's load, the profile, the resources). */
struct pool *daemon_pool_create_hidden(struct daemon *d, const char *ref, long size,
                                       uint64_t tmpfs_bytes,
                                       const struct wr_security_profile *security,
                                       const struct wr_resources *res,
                                       const struct wr_volumes *volumes, const char *network,
                                       wr_error *err);
/* Removes pool p (as daemon_pool_remove). */
void daemon_pool_destroy(struct daemon *d, struct pool *p);
/* Removes the pool: running containers carry on without it, the others
 * are discarded (a waiting activation gets not_found). ENOENT: no pool. */
int daemon_pool_remove(struct daemon *d, const char *ref, wr_error *err);
/* The fill step: shrinks pools above their size (oldest warm first), then
 * spawns while warm + filling < size, within the daemon's parallel fills
 * and each pool's retry time. */
void daemon_fill_pools(struct daemon *d);
/* When the next fill is due (CLOCK_MONOTONIC ns), or -1: none pending. */
int64_t daemon_next_fill_ns(const struct daemon *d);
/* No fill of p before until_ns (after a warm activation: the refill must
 * not compete with the workload just woken for the CPU). */
void daemon_pool_delay_refill(struct pool *p, int64_t until_ns);
/* Shutdown: every entry is let go of; running ones carry on. */
void daemon_release_idle(struct daemon *d);
/* Frees the entries that became done during the event batch. */
void daemon_pool_bury(struct daemon *d);

/* ---- entries: the transitions ------------------------------------------ */

struct entry *daemon_find_entry(struct daemon *d, const char *id);
/* spawn: a container with the pool's current settings (its compiled
 * filter, resources with --cpu-spread's CPU, tmpfs size). waiter NULL: a
 * background fill, under SCHED_IDLE -> FILLING; else started for that
 * client at normal priority and bound to it -> STARTING. Returns the
 * entry, or NULL with err (nothing changed). */
struct entry *daemon_entry_spawn(struct daemon *d, struct pool *p, struct client *waiter,
                                 wr_error *err);
/* ready (its shim reported WARM): FILLING -> WARM at the FIFO's tail, and
 * the pool's failures and backoff reset; STARTING -> TAKEN, returning the
 * client it was started for (unbound: the caller hands it over). NULL for
 * a fill (GONE if its pool was removed meanwhile). */
struct client *daemon_entry_ready(struct daemon *d, struct entry *e);
/* claim_fill: a FILLING entry of p that no client waits for -> STARTING,
 * bound to c (an activation that asked for no cold start waits for the
 * pool's next container rather than fail). NULL when none is filling. */
struct entry *daemon_pool_claim_fill(struct daemon *d, struct pool *p, struct client *c);
/* take_warm: the FIFO's head -> TAKEN, in O(1); NULL when none is warm. */
struct entry *daemon_pool_take_warm(struct pool *p);
/* return_warm: TAKEN -> WARM at the FIFO's head: a hand-over that failed
 * for the request's sake, not the container's. */
void daemon_entry_return_warm(struct entry *e);
/* running: TAKEN -> RUNNING, once the container was resumed (counted as
 * one of its pool's activations). received_ns: when the request came;
 * cold: it was started for it. */
void daemon_entry_running(struct daemon *d, struct entry *e, int64_t received_ns, bool cold);
/* The command line ps shows: the request's argv, else the image's Cmd. */
void daemon_entry_set_command(struct entry *e, const struct wr_request *req,
                              const struct wr_image *img);
/* A FILLING or STARTING container's setup failed (FAILED, its shim gone):
 * counted on its pool, with the backoff from the third failure in a row.
 * The caller discards it. */
void daemon_entry_setup_failed(struct daemon *d, struct entry *e, const char *why);
/* lose_waiter: STARTING -> FILLING, its client queued for the answer
 * code/msg (daemon_start_answer). No-op for an entry nobody waits for. */
void daemon_entry_lose_waiter(struct daemon *d, struct entry *e, const char *code, const char *msg);
/* abandon (the waiting client went away first): STARTING -> FILLING, an
 * ordinary fill, kept if its pool wants it (not stopping, warm + filling
 * <= size), else discarded. */
void daemon_entry_abandon(struct daemon *d, struct entry *e);
/* discard: any -> GONE. Closes every descriptor of the shim (a warm shim
 * then kills its container, a running one carries on), leaves the pool's
 * counts; a waiting client not told yet is told the container stopped. */
void daemon_entry_discard(struct daemon *d, struct entry *e);
/* Its shim was reaped: freed after the batch once GONE (discarded now if
 * it was not). */
void daemon_entry_reaped(struct daemon *d, struct entry *e);

#endif

/* Pools sized by demand (`pool create IMAGE --min N --max M [--idle-ttl S]`),
 * reactively, as OpenWhisk's prewarm "stem cells" are: the daemon watches
 * each pool's arrivals and fill latency and sets its size (the target the
 * fill step fills to) from them.
 *
 * The rule (daemon_autoscale_target, a pure function):
 *
 *   target = clamp(ceil(rate x fill + burst), min, max)
 *
 * rate:  activations per second, an exponentially weighted moving average
 *        over 100 ms buckets (weight 0.3 per bucket: ~0.3 s time constant);
 * fill:  the fill latency (spawn to warm), a moving average (weight 0.2
 *        per fill): rate x fill containers are taken while one refills;
 * burst: the most arrivals seen in one 100 ms bucket above what the rate
 *        predicts for it (the open bucket counts as it fills), decaying by
 *        10 % a bucket (halved in ~0.7 s): what the steady rate does not
 *        cover. A step from idle is such a burst: the pool grows for it.
 *
 * While activations come the pool only grows (a warm container discarded
 * because the rate dipped would be refilled a moment later, at full cost);
 * after idle_ttl seconds without one, the target returns to min and the
 * surplus warm containers go, oldest first (daemon_pool.c). */
#ifndef WARMRUN_DAEMON_AUTOSCALE_H
#define WARMRUN_DAEMON_AUTOSCALE_H

#include "lib/autoscale.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTOSCALE_BUCKET_NS (100LL * 1000000)

/* A pool's demand, as the daemon observed it. */
struct autoscale_state {
    struct wr_autoscale cfg; /* cfg.on false: a fixed-size pool, nothing here is used */
    double rate;             /* activations/s */
    double fill_ms;          /* fill latency; 0: none measured yet */
    double burst;            /* containers */
    int64_t bucket_start_ns; /* the open bucket */
    long bucket_count;       /* arrivals in it */
    int64_t last_arrival_ns; /* 0: none since the pool was created or went idle */
    long target;             /* the size it last set */
    char why[160];           /* "target 12 (rate 240/s x fill 35 ms + burst 4)" */
};

/* The sizing rule above: rate in activations/s, fill_ms in ms, burst in
 * containers; idle: no activation for idle_ttl (then min). Never below min
 * nor above max; non-finite or negative inputs count as 0. */
long daemon_autoscale_target(long min, long max, double rate, double fill_ms, double burst,
                             bool idle);

/* (Re)configures a pool: cfg.on false makes it fixed. The observations are
 * kept across a change of bounds; the target starts at cfg.min. */
void daemon_autoscale_configure(struct autoscale_state *a, const struct wr_autoscale *cfg,
                                int64_t now_ns);
/* One activation for the pool arrived at now_ns (CLOCK_MONOTONIC). */
void daemon_autoscale_arrival(struct autoscale_state *a, int64_t now_ns);
/* One of its fills took latency_ns from spawn to warm. */
void daemon_autoscale_fill_done(struct autoscale_state *a, int64_t latency_ns);
/* The size the pool should have at now_ns, given the size it has: closes
 * the buckets that ended, applies the rule, grows only while active, and
 * sets a->why. For a fixed pool returns size unchanged. */
long daemon_autoscale_size(struct autoscale_state *a, int64_t now_ns, long size);
/* When the pool goes idle (CLOCK_MONOTONIC ns), if that would shrink it;
 * -1 otherwise: the event loop wakes then. */
int64_t daemon_autoscale_next_ns(const struct autoscale_state *a, long size);

#endif

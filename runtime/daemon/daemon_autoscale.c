/* Pools sized by demand: the sizing rule and the observations it is fed
 * (see daemon_autoscale.h). Called from the pools' state machine
 * (daemon_pool.c); nothing here touches an entry or a count. */
#include "daemon_autoscale.h"

#include <math.h>
#include <stdio.h>

#define RATE_WEIGHT   0.3 /* per 100 ms bucket */
#define FILL_WEIGHT   0.2 /* per fill */
#define BURST_DECAY   0.9 /* per 100 ms bucket */
#define BUCKETS_PER_S (1e9 / (double)AUTOSCALE_BUCKET_NS)

static double sane(double v)
{
    return isfinite(v) && v > 0 ? v : 0;
}

long daemon_autoscale_target(long min, long max, double rate, double fill_ms, double burst,
                             bool idle)
{
    if (idle)
        return min;
    double want = ceil(sane(rate) * sane(fill_ms) / 1000.0 + sane(burst) - 1e-9);
    if (want > (double)max)
        return max;
    return want < (double)min ? min : (long)want;
}

void daemon_autoscale_configure(struct autoscale_state *a, const struct wr_autoscale *cfg,
                                int64_t now_ns)
{
    a->cfg = *cfg;
    a->target = cfg->on ? cfg->min : 0;
    if (a->bucket_start_ns == 0)
        a->bucket_start_ns = now_ns;
    snprintf(a->why, sizeof a->why, "target %ld (min)", a->target);
}

/* Closes the buckets that ended by now_ns: the rate and the burst take
 * each one in (an empty bucket is a zero), and a new one opens. */
static void close_buckets(struct autoscale_state *a, int64_t now_ns)
{
    if (now_ns - a->bucket_start_ns < AUTOSCALE_BUCKET_NS)
        return;
    int64_t n = (now_ns - a->bucket_start_ns) / AUTOSCALE_BUCKET_NS;
    double excess = (double)a->bucket_count - a->rate / BUCKETS_PER_S;
    a->rate = RATE_WEIGHT * (double)a->bucket_count * BUCKETS_PER_S + (1 - RATE_WEIGHT) * a->rate;
    a->burst = fmax(a->burst * BURST_DECAY, excess);
    if (n > 1) {
        /* n - 1 empty buckets: each multiplies by the weight left over.
         * Capped: after ten minutes' worth, nothing is left anyway. */
        double k = (double)(n - 1 > 6000 ? 6000 : n - 1);
        a->rate *= pow(1 - RATE_WEIGHT, k);
        a->burst *= pow(BURST_DECAY, k);
    }
    a->bucket_start_ns += n * AUTOSCALE_BUCKET_NS;
    a->bucket_count = 0;
}

void daemon_autoscale_arrival(struct autoscale_state *a, int64_t now_ns)
{
    if (!a->cfg.on)
        return;
    close_buckets(a, now_ns);
    a->bucket_count++;
    a->last_arrival_ns = now_ns;
    /* The open bucket counts at once: a burst from idle grows the pool
     * while it still arrives, not a bucket later. */
    a->burst = fmax(a->burst, (double)a->bucket_count - a->rate / BUCKETS_PER_S);
}

void daemon_autoscale_fill_done(struct autoscale_state *a, int64_t latency_ns)
{
    double ms = (double)latency_ns / 1e6;
    if (!a->cfg.on || !(ms >= 0))
        return;
    a->fill_ms = a->fill_ms > 0 ? FILL_WEIGHT * ms + (1 - FILL_WEIGHT) * a->fill_ms : ms;
}

static bool is_idle(const struct autoscale_state *a, int64_t now_ns)
{
    return a->last_arrival_ns == 0 ||
           now_ns - a->last_arrival_ns >= (int64_t)a->cfg.idle_ttl_s * 1000000000;
}

long daemon_autoscale_size(struct autoscale_state *a, int64_t now_ns, long size)
{
    if (!a->cfg.on)
        return size;
    close_buckets(a, now_ns);
    bool idle = is_idle(a, now_ns);
    if (idle && a->last_arrival_ns != 0) {
        /* Idle: what was observed is history. */
        a->rate = a->burst = 0;
        a->last_arrival_ns = 0;
    }
    long want =
        daemon_autoscale_target(a->cfg.min, a->cfg.max, a->rate, a->fill_ms, a->burst, idle);
    long target = idle ? want : want > size ? want : size;
    if (target < a->cfg.min)
        target = a->cfg.min;
    if (target > a->cfg.max)
        target = a->cfg.max;
    if (idle)
        snprintf(a->why, sizeof a->why, "target %ld (min: idle %lds)", target, a->cfg.idle_ttl_s);
    else
        snprintf(a->why, sizeof a->why, "target %ld (rate %.0f/s x fill %.1f ms + burst %.0f%s)",
                 target, a->rate, a->fill_ms, ceil(a->burst - 1e-9),
                 target > want ? "; held until idle" : "");
    a->target = target;
    return target;
}

int64_t daemon_autoscale_next_ns(const struct autoscale_state *a, long size)
{
    if (!a->cfg.on || a->last_arrival_ns == 0 || size <= a->cfg.min)
        return -1;
    return a->last_arrival_ns + (int64_t)a->cfg.idle_ttl_s * 1000000000;
}

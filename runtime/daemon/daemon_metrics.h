/* Prometheus metrics of the daemon (docs/metrics.md): GET /metrics on the
 * HTTP listener and the `metrics` op of the socket (`warmrun metrics`),
 * in the text exposition format 0.0.4, names and types by Prometheus's
 * conventions (base units, _total counters, _seconds/_bytes).
 *
 * Counters are kept per pool image (they outlive a pool's removal, as
 * counters must); gauges and per-container figures are read at scrape
 * time (pools' counts, containers' cgroups, /proc/self). */
#ifndef WARMRUN_DAEMON_METRICS_H
#define WARMRUN_DAEMON_METRICS_H

#include "daemon.h"

#include <stdint.h>

/* The counters kept per pool. */
enum metrics_counter {
    METRICS_WARM,       /* warmrun_activations_total{kind="warm"} */
    METRICS_COLD,       /* ...{kind="cold"} */
    METRICS_FAILED,     /* ...{kind="failed"} */
    METRICS_POOL_EMPTY, /* warmrun_cold_starts_total{reason="pool_empty"} */
    METRICS_NO_POOL,    /* ...{reason="no_pool"} */
    METRICS_FILL_FAILED,
    METRICS_OOM_KILL,
    METRICS_COUNTERS
};

/* Registers GET /metrics (before or after the listener starts). */
int daemon_metrics_init(struct daemon *d, wr_error *err);

/* Adds one to a counter of pool. */
void daemon_metrics_count(struct daemon *d, const char *pool, enum metrics_counter c);
/* A container became warm after fill_ns of filling. */
void daemon_metrics_filled(struct daemon *d, const char *pool, int64_t fill_ns);
/* Request received -> workload execve, of one activation. */
void daemon_metrics_latency(struct daemon *d, const char *pool, int64_t ns);

/* The exposition text, malloc'd (*len set); NULL on ENOMEM. */
char *daemon_metrics_render(struct daemon *d, size_t *len);
/* The `metrics` op: the text in replies of WR_TEXT_CHUNK bytes. */
void daemon_metrics_send(struct daemon *d, struct client *c);

void daemon_metrics_free(struct daemon *d);

#endif

/* Demand-sized pools: the settings `pool create --min N --max M
 * [--idle-ttl S]` gives (carried by the pool_create request, docs/api.md),
 * and what `pool ls` reports of them. The daemon's side, the sizing rule,
 * is runtime/daemon/daemon_autoscale.c. */
#ifndef WARMRUN_AUTOSCALE_H
#define WARMRUN_AUTOSCALE_H

#include "error.h"

#include <stdbool.h>

#define WR_IDLE_TTL_DEFAULT_S 60
#define WR_IDLE_TTL_MAX_S     86400

struct wr_autoscale {
    bool on;         /* false: a fixed size (--size) */
    long min, max;   /* warm containers: 0 <= min <= max, 1 <= max <= WR_POOL_SIZE_MAX */
    long idle_ttl_s; /* back to min after this long without an activation: 1..86400 */
};

/* The checks of the API and of the CLI's options: min in
 * 0..WR_POOL_SIZE_MAX, max in 1..that, min <= max, idle_ttl_s in
 * 1..WR_IDLE_TTL_MAX_S. One line naming the value that is wrong. */
int wr_autoscale_validate(const struct wr_autoscale *a, wr_error *err);

#endif

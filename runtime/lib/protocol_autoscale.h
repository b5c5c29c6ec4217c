/* The "autoscale" member of pool_create and of pool_ls's pools (docs/api.md):
 * {"min": N, "max": M, "idle_ttl_s": S} (pool_ls adds "why"). */
#ifndef WARMRUN_PROTOCOL_AUTOSCALE_H
#define WARMRUN_PROTOCOL_AUTOSCALE_H

#include "autoscale.h"
#include "error.h"

#include <jansson.h>

/* Validates as it reads: min in 0..WR_POOL_SIZE_MAX, max in 1..that, min <=
 * max, idle_ttl_s in 1..WR_IDLE_TTL_MAX_S (absent: WR_IDLE_TTL_DEFAULT_S).
 * Errors name the member and its range, one line. */
int wr_autoscale_from_json(json_t *obj, struct wr_autoscale *a, wr_error *err);
/* NULL when a->on is false. */
json_t *wr_autoscale_to_json(const struct wr_autoscale *a);

#endif

/* The bounds of a demand-sized pool's settings (see autoscale.h). */
#include "autoscale.h"

#include "protocol.h"

int wr_autoscale_validate(const struct wr_autoscale *a, wr_error *err)
{
    if (a->min < 0 || a->min > WR_POOL_SIZE_MAX)
        return wr_error_set(err, 0, "autoscale: min must be an integer from 0 to %d, got %ld",
                            WR_POOL_SIZE_MAX, a->min);
    if (a->max < 1 || a->max > WR_POOL_SIZE_MAX)
        return wr_error_set(err, 0, "autoscale: max must be an integer from 1 to %d, got %ld",
                            WR_POOL_SIZE_MAX, a->max);
    if (a->min > a->max)
        return wr_error_set(err, 0, "autoscale: min (%ld) is larger than max (%ld)", a->min,
                            a->max);
    if (a->idle_ttl_s < 1 || a->idle_ttl_s > WR_IDLE_TTL_MAX_S)
        return wr_error_set(
            err, 0, "autoscale: idle_ttl_s must be an integer from 1 to %d seconds, got %ld",
            WR_IDLE_TTL_MAX_S, a->idle_ttl_s);
    return 0;
}

/* CPU throttling (CFS bandwidth, cpu.cfs_quota_us / cpu.max): the share of
 * enforcement periods in which the container ran out of quota. */
#include "profile.h"

void profile_detect_throttle(const struct profile_sample *s, size_t n, struct profile_throttle *o)
{
    *o = (struct profile_throttle){0};
    for (size_t i = 0; i < n; i++) {
        o->periods += s[i].periods;
        o->throttled += s[i].throttled;
        o->throttled_s += s[i].throttled_ms / 1000.0;
    }
    o->ratio = o->periods > 0 ? o->throttled / o->periods : 0;
    o->detected = o->periods >= PROFILE_THROTTLE_MIN_PERIODS && o->ratio >= PROFILE_THROTTLE_RATIO;
}

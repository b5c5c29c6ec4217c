/* Unit test of the demand sizing of pools (runtime/daemon/daemon_autoscale.c):
 * the rule as a pure function of its inputs, then the observations (rate,
 * burst, fill latency) fed by synthetic arrivals on a synthetic clock. */
#include "tap.h"

#include "daemon/daemon_autoscale.h"

#include <math.h>
#include <string.h>

#define MS(x) ((int64_t)(x)*1000000)
#define S(x)  ((int64_t)(x)*1000000000)

static void test_rule(void)
{
    is_int(daemon_autoscale_target(2, 50, 0, 0, 0, false), 2, "no demand: min");
    is_int(daemon_autoscale_target(0, 50, 0, 0, 0, false), 0, "no demand, min 0: 0");
    is_int(daemon_autoscale_target(1, 50, 240, 35, 4, false), 13,
           "rate 240/s x fill 35 ms = 8.4, + burst 4: 13 (rounded up)");
    is_int(daemon_autoscale_target(1, 50, 200, 10, 0, false), 2, "200/s x 10 ms = exactly 2");
    is_int(daemon_autoscale_target(1, 10, 1000, 50, 8, false), 10, "above max: max");
    is_int(daemon_autoscale_target(5, 10, 10, 10, 0, false), 5, "below min: min");
    is_int(daemon_autoscale_target(3, 10, 1000, 50, 8, true), 3, "idle: min, whatever was seen");
    is_int(daemon_autoscale_target(1, 10, NAN, INFINITY, -3, false), 1, "NaN, inf, negative: 0");
    is_int(daemon_autoscale_target(0, 4096, 1e300, 1e300, 1e300, false), 4096,
           "huge inputs: max, no overflow");
}

static struct autoscale_state fresh(long min, long max, long ttl)
{
    struct autoscale_state a;
    memset(&a, 0, sizeof a);
    struct wr_autoscale cfg = {.on = true, .min = min, .max = max, .idle_ttl_s = ttl};
    daemon_autoscale_configure(&a, &cfg, S(100));
    return a;
}

static void test_steady_rate(void)
{
    struct autoscale_state a = fresh(1, 100, 5);
    long size = 1;
    /* 200 activations/s (one every 5 ms) for 6 s; fills take 20 ms. */
    for (int i = 0; i < 1200; i++) {
        int64_t t = S(100) + MS(5) * i;
        daemon_autoscale_arrival(&a, t);
        if (i % 10 == 0)
            daemon_autoscale_fill_done(&a, MS(20));
        size = daemon_autoscale_size(&a, t, size);
    }
    ok(fabs(a.rate - 200) < 10, "steady 200/s: rate %.1f", a.rate);
    ok(fabs(a.fill_ms - 20) < 0.01, "fill latency 20 ms: %.2f", a.fill_ms);
    long want = daemon_autoscale_target(1, 100, a.rate, a.fill_ms, a.burst, false);
    ok(want >= 4 && want <= 5,
       "once steady, the rule asks 200/s x 20 ms = 4 (+ what is left of "
       "the burst): %ld (rate %.1f, burst %.2f)",
       want, a.rate, a.burst);
    ok(size >= 20 && size <= 25,
       "the step from idle (20 in the first 100 ms) was a burst: the size it grew to is held: %ld "
       "(%s)",
       size, a.why);
    ok(strstr(a.why, "rate") && strstr(a.why, "fill") && strstr(a.why, "burst"),
       "why names rate, fill and burst: %s", a.why);
    /* 4 s later (less than the TTL after the last): still held. */
    long held = daemon_autoscale_size(&a, S(106) + MS(4000), size);
    is_int(held, size, "no arrival for 4 s of a 5 s TTL: size held");
    ok(daemon_autoscale_next_ns(&a, held) == S(100) + MS(5) * 1199 + S(5) || held <= 1,
       "the loop is woken when the TTL ends");
    long idle = daemon_autoscale_size(&a, S(106) + MS(5100), size);
    is_int(idle, 1, "after the TTL: back to min");
    ok(strstr(a.why, "idle") != NULL, "why says idle: %s", a.why);
    is_int(daemon_autoscale_next_ns(&a, idle), -1, "at min: no wake-up needed");
}

static void test_burst(void)
{
    struct autoscale_state a = fresh(0, 16, 60);
    long size = daemon_autoscale_size(&a, S(100), 0);
    is_int(size, 0, "min 0, nothing seen: 0");
    /* 12 activations within one millisecond, from idle. */
    for (int i = 0; i < 12; i++)
        daemon_autoscale_arrival(&a, S(101) + i * 50000);
    size = daemon_autoscale_size(&a, S(101) + MS(1), size);
    ok(size >= 12 && size <= 16, "a burst of 12 from idle: grows to %ld at once (%s)", size, a.why);
    /* 40 more in the next bucket: capped at max. */
    for (int i = 0; i < 40; i++)
        daemon_autoscale_arrival(&a, S(101) + MS(150) + i * 10000);
    size = daemon_autoscale_size(&a, S(101) + MS(160), size);
    is_int(size, 16, "a larger burst: max 16");
    /* The rate falls and the burst decays, but the size is held while active. */
    daemon_autoscale_arrival(&a, S(110));
    is_int(daemon_autoscale_size(&a, S(110), size), 16, "active again 9 s later: held");
    ok(a.burst < 12, "the burst decays meanwhile: %.2f", a.burst);
}

static void test_fixed(void)
{
    struct autoscale_state a;
    memset(&a, 0, sizeof a);
    struct wr_autoscale off = {.on = false};
    daemon_autoscale_configure(&a, &off, S(1));
    daemon_autoscale_arrival(&a, S(2));
    daemon_autoscale_fill_done(&a, MS(30));
    is_int(daemon_autoscale_size(&a, S(3), 7), 7, "a fixed pool keeps its size");
    is_int(daemon_autoscale_next_ns(&a, 7), -1, "a fixed pool needs no wake-up");
    ok(a.rate == 0 && a.fill_ms == 0, "a fixed pool observes nothing");
}

static void test_long_gap(void)
{
    struct autoscale_state a = fresh(1, 8, 3600);
    daemon_autoscale_arrival(&a, S(100));
    /* A year later (no TTL passed? it did: 3600 s) — no loop over buckets. */
    long size = daemon_autoscale_size(&a, S(100) + S(365LL * 86400), 8);
    is_int(size, 1, "a year idle: min, computed in one step");
    ok(isfinite(a.rate) && a.rate == 0, "rate reset: %g", a.rate);
}

int main(void)
{
    test_rule();
    test_steady_rate();
    test_burst();
    test_fixed();
    test_long_gap();
    return done_testing();
}

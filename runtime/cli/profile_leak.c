/* Leak detection: a sustained upward trend of memory (see profile.h and
 * docs/profile.md). A leak is a line that keeps rising: the fit over the
 * whole run grows by at least PROFILE_LEAK_MIN_GROWTH and by at least
 * PROFILE_LEAK_MIN_SIGNAL times the noise around it, and the fit over
 * every sliding window (half the run each) rises too, so that one step
 * (a cache filled once) is not taken for a leak. */
#include "profile.h"

#include <math.h>

void profile_fit_line(const double *t, const double *v, size_t n, struct profile_fit *f)
{
    double mt = 0, mv = 0, stt = 0, stv = 0, ss = 0;
    *f = (struct profile_fit){0};
    if (!n)
        return;
    for (size_t i = 0; i < n; i++) {
        mt += t[i];
        mv += v[i];
    }
    mt /= (double)n;
    mv /= (double)n;
    for (size_t i = 0; i < n; i++) {
        stt += (t[i] - mt) * (t[i] - mt);
        stv += (t[i] - mt) * (v[i] - mv);
    }
    f->slope = stt > 0 ? stv / stt : 0;
    f->intercept = mv - f->slope * mt;
    for (size_t i = 0; i < n; i++) {
        double r = v[i] - (f->intercept + f->slope * t[i]);
        ss += r * r;
    }
    f->resid_sd = sqrt(ss / (double)n);
}

void profile_detect_leak(const double *t, const double *v, size_t n, struct profile_leak *out)
{
    struct profile_fit all;
    *out = (struct profile_leak){0};
    if (n < PROFILE_LEAK_MIN_SAMPLES)
        return;
    out->enough_samples = true;
    profile_fit_line(t, v, n, &all);
    out->slope_bps = all.slope;
    out->growth_bytes = all.slope * (t[n - 1] - t[0]);
    out->noise_bytes = all.resid_sd;
    out->signal = all.resid_sd > 0 ? out->growth_bytes / all.resid_sd : 1e9;
    if (out->signal > 1e9)
        out->signal = 1e9;
    /* PROFILE_LEAK_WINDOWS windows of n/2 samples, evenly spread from the
     * start to the end of the run. */
    size_t len = n / 2, span = n - len;
    out->windows = PROFILE_LEAK_WINDOWS;
    for (unsigned w = 0; w < PROFILE_LEAK_WINDOWS; w++) {
        size_t from = span * w / (PROFILE_LEAK_WINDOWS - 1);
        struct profile_fit f;
        profile_fit_line(t + from, v + from, len, &f);
        if (f.slope > 0)
            out->windows_rising++;
    }
    /* The fit's rounding must not move a growth of exactly the minimum
     * below it: the edges hold as documented (tests/unit/test_profile.c). */
    out->detected = out->growth_bytes >= PROFILE_LEAK_MIN_GROWTH * (1 - 1e-9) &&
                    out->signal >= PROFILE_LEAK_MIN_SIGNAL && out->windows_rising == out->windows;
}

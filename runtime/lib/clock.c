/* See clock.h. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

int64_t wr_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t wr_log_format(char *out, size_t cap, const char *who, const char *fmt, va_list ap)
{
    char stamp[WR_LOG_STAMP_MAX];
    wr_log_stamp(stamp, sizeof stamp);
    int n = snprintf(out, cap, "%s %s: ", stamp, who);
    size_t len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    n = vsnprintf(out + len, cap - len, fmt, ap);
    len += n < 0 ? 0 : (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    if (len >= cap - 1)
        len = cap - 2;
    out[len++] = '\n';
    out[len] = '\0';
    return len;
}

void wr_log_stamp(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "-");
}

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
    char stamp[WR_LOG_STAMP_MAX], msg[WR_LOG_LINE_MAX];
    wr_log_stamp(stamp, sizeof stamp);
    int n = snprintf(out, cap, "%s %s: ", stamp, who);
    size_t len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        msg[0] = '\0';
    /* Messages carry text from outside (a function runtime's init error,
     * names and paths from requests and images): a control character is
     * written as \xNN, so that nobody's text can end the line and forge
     * the next (a made-up stamp and "warmrun-daemon:"), nor reach the
     * terminal of whoever reads the log with escape sequences. */
    for (const unsigned char *m = (const unsigned char *)msg; *m && len + 2 < cap; m++) {
        if (*m >= 0x20 && *m != 0x7f) {
            out[len++] = (char)*m;
        } else if (len + 5 < cap) {
            snprintf(out + len, 5, "\\x%02x", *m);
            len += 4;
        } else {
            break;
        }
    }
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

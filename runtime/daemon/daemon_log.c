/* See daemon_log.h. */
#include "daemon_log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdio.h>

void daemon_log(const char *fmt, ...)
{
    char stamp[WR_LOG_STAMP_MAX];
    va_list ap;
    wr_log_stamp(stamp, sizeof stamp);
    fprintf(stderr, "%s warmrun-daemon: ", stamp);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

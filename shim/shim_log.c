/* See shim_log.h. */
#include "shim_log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdio.h>

void shim_log(const char *id, const char *fmt, ...)
{
    char stamp[WR_LOG_STAMP_MAX];
    va_list ap;
    wr_log_stamp(stamp, sizeof stamp);
    fprintf(stderr, "%s warmrun-shim%s%s: ", stamp, id ? " " : "", id ? id : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* See shim_log.h. */
#include "shim_log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void shim_log(const char *id, const char *fmt, ...)
{
    char line[WR_LOG_LINE_MAX], who[32];
    va_list ap;
    snprintf(who, sizeof who, "warmrun-shim%s%.16s", id ? " " : "", id ? id : "");
    va_start(ap, fmt);
    size_t len = wr_log_format(line, sizeof line, who, fmt, ap);
    va_end(ap);
    /* One write: the daemon and the other shims write to the same file. */
    (void)!write(STDERR_FILENO, line, len);
}

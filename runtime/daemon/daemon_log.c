/* See daemon_log.h. */
#include "daemon_log.h"

#include "lib/clock.h"

#include <stdarg.h>
#include <unistd.h>

void daemon_log(const char *fmt, ...)
{
    char line[WR_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t len = wr_log_format(line, sizeof line, "warmrun-daemon", fmt, ap);
    va_end(ap);
    /* One write: the shims write lines to the same file. */
    (void)!write(STDERR_FILENO, line, len);
}

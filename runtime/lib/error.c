#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int wr_error_set(wr_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* err is an output parameter: callers rightly pass it uninitialized. */
    // cppcheck-suppress ctuuninitvar
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (errnum != 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
    err->errnum = errnum;
    return -1;
}

int wr_error_code(wr_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    // cppcheck-suppress ctuuninitvar
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->errnum = errnum;
    return -1;
}

int wr_error_prefix(wr_error *err, const char *fmt, ...)
{
    char prefix[WR_ERROR_MSG_MAX];
    char old[WR_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is fine: the outermost context and the start of the cause
     * matter most in a one-line message. */
    size_t plen = strnlen(prefix, sizeof err->msg - 3);
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    size_t room = sizeof err->msg - plen - 3;
    size_t olen = strnlen(old, room);
    memcpy(err->msg + plen + 2, old, olen);
    err->msg[plen + 2 + olen] = '\0';
    return -1;
}

void wr_error_clear(wr_error *err)
{
    err->errnum = 0;
    err->msg[0] = '\0';
}

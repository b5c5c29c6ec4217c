/* The one clock of every latency figure: CLOCK_MONOTONIC in nanoseconds.
 * The CLI, the daemon, the shim and the container compare one another's
 * stamps (received, resumed, woke, exec), which is valid because they all
 * read this clock of the same boot. */
#ifndef WARMRUN_CLOCK_H
#define WARMRUN_CLOCK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC now, in ns (clock_gettime(2); the vDSO: no system call). */
int64_t wr_monotonic_ns(void);

/* The prefix of every log line of the daemon and the shims: the UTC time
 * now as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (20 characters), so that their
 * lines, interleaved in one log, sort and compare. out: at least
 * WR_LOG_STAMP_MAX bytes. */
#define WR_LOG_STAMP_MAX 32
void wr_log_stamp(char *out, size_t cap);

/* One whole log line, "<stamp> <who>: <message>\n", into out (cap bytes;
 * a longer message is cut, the newline kept; a control character of the
 * message, newline included, written as \xNN). Returns its length. The
 * daemon and its shims write to one file: each line must be one write(2),
 * or their lines interleave mid-line. */
#define WR_LOG_LINE_MAX 4096
size_t wr_log_format(char *out, size_t cap, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif

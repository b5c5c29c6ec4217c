/* The shim's log lines, on its stderr (the daemon's log, or a cold start's
 * terminal): one line each, with the daemon's prefix (lib/clock.h's UTC
 * stamp), then "warmrun-shim ID:", so that both programs' lines in one log
 * read and sort alike. */
#ifndef WARMRUN_SHIM_LOG_H
#define WARMRUN_SHIM_LOG_H

/* id: the container's, or NULL (not known yet, or no container). */
void shim_log(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

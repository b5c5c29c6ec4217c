/* The daemon's log: one line per event on its stderr, prefixed with the
 * UTC time and "warmrun-daemon:". Only the daemon's top level (its main,
 * its API layer turning errors into replies, its pool events) logs; the
 * library it calls never prints. */
#ifndef WARMRUN_DAEMON_LOG_H
#define WARMRUN_DAEMON_LOG_H

void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

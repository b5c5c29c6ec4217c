/* A function's log file (<state>/functions/NAME.log: its runtimes' stdout
 * and stderr), bounded on the host's disk: when a write would take it past
 * FUNCTION_LOG_MAX bytes it is renamed NAME.log.1 (replacing the one
 * before) and a new NAME.log is started, as Docker's json-file driver's
 * max-size with max-file 2. So a function holds at most twice
 * FUNCTION_LOG_MAX bytes of log, whatever its runtime writes. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define FUNCTION_LOG_MAX (10L << 20) /* bytes per file */

struct function_log {
    int fd; /* -1: not open (writes are dropped) */
    off_t size;
    char path[4200];
};

/* Opens (appends to) path, 0600, no symlink followed. l->fd is -1 when it
 * cannot be opened. */
void function_log_open(struct function_log *l, const char *path);

/* Appends n bytes, rotating first when they would pass FUNCTION_LOG_MAX.
 * Returns -1 with errno on a failed write or rotation. */
int function_log_write(struct function_log *l, const char *buf, size_t n);

void function_log_close(struct function_log *l);

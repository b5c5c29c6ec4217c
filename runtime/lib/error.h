/* The one error idiom of the tree: a function that can fail returns -1 and
 * fills a caller-owned wr_error; callers add context on the way up with
 * wr_error_prefix(); only main() (or the API layer) prints it.
 *
 * The error lives in caller storage with a fixed buffer so that it also works
 * in a freshly cloned container child, where we avoid the allocator. */
#ifndef WARMRUN_ERROR_H
#define WARMRUN_ERROR_H

#include <stddef.h>

#define WR_ERROR_MSG_MAX 512

typedef struct wr_error {
    int errnum; /* errno that caused it, 0 when not an OS error */
    char msg[WR_ERROR_MSG_MAX];
} wr_error;

/* Records the error and returns -1. When errnum is non-zero ": strerror" is
 * appended to the message. */
int wr_error_set(wr_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records an error that is a condition, not an OS call's failure (no such
 * pool, a name already taken, a refused target): errnum only classifies it
 * (the API's error codes follow it: ENOENT is not_found...) and no
 * strerror text is appended, so the message reads as one plain line.
 * Returns -1. */
int wr_error_code(wr_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an error already set; returns -1. */
int wr_error_prefix(wr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void wr_error_clear(wr_error *err);

#endif

/* Waits that do not poll (bench_wait.c): for a pool's fills, through the
 * daemon's event stream, and for processes to end, through pidfds. */
#ifndef WARMRUN_BENCH_WAIT_H
#define WARMRUN_BENCH_WAIT_H

#include "bench.h"

/* Subscribes to the daemon's events from now on: the stream's socket, or
 * -1 (err). Open it before the action whose fills are to be counted. */
int bench_events_open(const struct bench_env *e, wr_error *err);
/* Reads the stream until n "filled" events of image (a bare name matches
 * its ":latest" key) have come. -1 (err) on a "fill_failed" event of that
 * image, a closed stream, bench_stop (EINTR) or after timeout_s seconds
 * (ETIMEDOUT). */
int bench_events_wait_filled(int sock, const char *image, long n, long timeout_s, wr_error *err);

/* Waits until every process of fds[0..n) (entries < 0 are skipped) has
 * ended, closing each fd (set to -1) as it does. -1 (err) on bench_stop
 * (EINTR) or after timeout_s seconds (ETIMEDOUT); the fds left open are
 * the caller's. */
int bench_pidfds_wait(int *fds, size_t n, long timeout_s, wr_error *err);

#endif

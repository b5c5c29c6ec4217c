/* The one clock of every latency figure: CLOCK_MONOTONIC in nanoseconds.
 * The CLI, the daemon, the shim and the container compare one another's
 * stamps (received, resumed, woke, exec), which is valid because they all
 * read this clock of the same boot. */
#ifndef WARMRUN_CLOCK_H
#define WARMRUN_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC now, in ns (clock_gettime(2); the vDSO: no system call). */
int64_t wr_monotonic_ns(void);

#endif

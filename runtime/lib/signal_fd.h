/* The one way the tree's event loops take signals: blocked, then read from
 * a signalfd, so that they arrive as events and never interrupt a handler. */
#ifndef WARMRUN_SIGNAL_FD_H
#define WARMRUN_SIGNAL_FD_H

#include <stddef.h>

/* Blocks the n signals listed and returns a non-blocking, close-on-exec
 * signalfd for them, or -1 with errno set. */
int wr_signalfd_open(const int *signals, size_t n);

#endif

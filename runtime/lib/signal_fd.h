/* The one way the tree's event loops take signals: blocked, then read from
 * a signalfd, so that they arrive as events and never interrupt a handler. */
#ifndef WARMRUN_SIGNAL_FD_H
#define WARMRUN_SIGNAL_FD_H

#include <stddef.h>

/* Blocks the n signals listed and returns a non-blocking, close-on-exec
 * signalfd for them, or -1 with errno set. */
int wr_signalfd_open(const int *signals, size_t n);

/* SIGCHLD back to SIG_DFL, without SA_NOCLDWAIT: for a process that waits
 * for its children, first thing in main(). SIG_IGN survives execve(2)
 * (signal(7)), and a parent that left SIGCHLD ignored (a supervisor, a
 * script) would have the kernel reap our children unasked and send no
 * SIGCHLD at all (wait(2), NOTES): every waitpid then fails with ECHILD
 * and no exit status is ever seen. One rt_sigaction call; cannot fail. */
void wr_sigchld_default(void);

#endif

/* Messages with file descriptors over SOCK_SEQPACKET unix sockets.
 * SEQPACKET keeps message boundaries, so one sendmsg is one message, and a
 * zero return from recvmsg always means the peer closed. */
#ifndef WARMRUN_FDPASS_H
#define WARMRUN_FDPASS_H

#include "error.h"

#include <stddef.h>
#include <sys/types.h>

/* A shim's five: stderr, control, activation, a recycled network namespace
 * and its sysfs mount (shim_fork.h). */
#define WR_MAX_PASSED_FDS 5

/* Sends buf (len > 0) and nfds descriptors as one message. */
int wr_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds, wr_error *err);

/* Receives one message into buf. Returns its length, 0 when the peer closed,
 * -1 on error (a message longer than cap is an EMSGSIZE error; its fds are
 * closed). On entry *nfds is the capacity of fds, on return the number of
 * descriptors received (close-on-exec). EINTR is retried; EAGAIN is returned
 * as -1 with err->errnum == EAGAIN. */
ssize_t wr_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t *nfds, wr_error *err);

void wr_close_fds(int *fds, size_t nfds);

#endif

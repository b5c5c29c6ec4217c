/* The client side of the daemon's control socket (docs/api.md): connect,
 * send one request (with the caller's descriptors), read one reply. Used
 * by the CLI, the benchmarks, and the daemon itself to find out whether
 * another one already serves its socket. */
#ifndef WARMRUN_API_CLIENT_H
#define WARMRUN_API_CLIENT_H

#include "error.h"
#include "protocol.h"

#include <stddef.h>

/* Connects to the daemon's socket (SOCK_SEQPACKET, close-on-exec).
 * ENOENT/ECONNREFUSED in err->errnum mean no daemon is running. */
int wr_api_connect(const char *socket_path, wr_error *err);
/* Sends req with up to WR_MAX_PASSED_FDS - 1 descriptors in one message
 * (a request over WR_API_MSG_MAX bytes: its text in a sealed memfd passed
 * last; E2BIG over WR_API_REQUEST_MAX). A
 * daemon that refused the peer (and hung up) leaves its reason in err,
 * with errnum EACCES; errnum 0: req cannot be encoded (not UTF-8). */
int wr_api_send_request(int sock, const struct wr_request *req, const int *fds, size_t nfds,
                        wr_error *err);
/* Reads one reply (up to WR_API_MSG_MAX bytes); ECONNRESET when the peer
 * closed first. */
int wr_api_read_reply(int sock, struct wr_reply *reply, wr_error *err);

#endif

/* The daemon's HTTP listener (`warmrun daemon --http ADDR:PORT`), shared by
 * everything the daemon serves over HTTP (GET /metrics, the functions'
 * Invoke API). Off unless --http is given.
 *
 * libmicrohttpd runs inside the daemon's own epoll loop: MHD_USE_EPOLL
 * without an internal thread, its epoll descriptor is one more watch in
 * the daemon's epoll set (WATCH_HTTP) and MHD_run is called from the loop
 * when it is readable or MHD's next timeout is due. Every handler
 * therefore runs on the daemon's one thread, like every other event: no
 * lock, no thread touching daemon state. An answer that needs a container
 * (an invocation) suspends the exchange (MHD_suspend_connection) and is
 * answered later from the loop; the resume wakes MHD through its own
 * eventfd, which is in the same epoll set.
 *
 * Boundaries (docs/security.md): loopback addresses only, unless a token
 * file is given (--http-token-file, not readable by group or others); with
 * a token, every request must carry `Authorization: Bearer <token>`
 * (compared in constant time), else 401. At most DAEMON_HTTP_MAX_CONNS
 * connections, each closed after DAEMON_HTTP_TIMEOUT_S idle seconds; a
 * request body larger than its route's max_body gets 413 without being
 * buffered (or, when sent chunked, the connection is closed once it
 * passes the bound); an unknown path 404, a known path with another
 * method 405 (with Allow). */
#ifndef WARMRUN_DAEMON_HTTP_H
#define WARMRUN_DAEMON_HTTP_H

#include "daemon.h"

#include <stddef.h>
#include <stdint.h>

#define DAEMON_HTTP_MAX_CONNS  256
#define DAEMON_HTTP_TIMEOUT_S  30
#define DAEMON_HTTP_MAX_ROUTES 32
#define DAEMON_HTTP_TOKEN_MAX  4096
#define DAEMON_HTTP_ADDR_MAX   128

struct daemon_http_request;

/* A route's handler: runs on the daemon's loop once the request and its
 * whole body (at most the route's max_body bytes) have arrived. It answers
 * with daemon_http_respond, now or later. */
typedef void (*daemon_http_handler)(struct daemon *d, struct daemon_http_request *req, void *arg);

/* Serves requests of `method` ("GET", "POST", ...) whose path is
 * path_prefix or lies below it ("/metrics" matches "/metrics" and
 * "/metrics/x", not "/metricsx"; a prefix ending in '/' matches any path
 * it begins). The longest matching prefix wins. May be called before or
 * after the listener starts, and whether or not --http was given. Errors:
 * EINVAL (bad arguments, prefix not starting with '/'), EEXIST (same
 * method and prefix), ENOSPC (more than DAEMON_HTTP_MAX_ROUTES), ENOMEM. */
int daemon_http_route(struct daemon *d, const char *method, const char *path_prefix,
                      size_t max_body, daemon_http_handler h, void *arg, wr_error *err);

/* The request's path (no query string), its header `name` (case-
 * insensitive; NULL when absent), its query argument `name` (decoded;
 * NULL when absent), its body (len set; NULL when empty). Valid until the
 * request is answered or cancelled. */
const char *daemon_http_path(const struct daemon_http_request *req);
const char *daemon_http_header(const struct daemon_http_request *req, const char *name);
const char *daemon_http_query(const struct daemon_http_request *req, const char *name);
const void *daemon_http_body(const struct daemon_http_request *req, size_t *len);

/* answers now, or later from the daemon's loop: the exchange stays
 * suspended (MHD_suspend_connection) until answered. The body (len bytes)
 * is copied; headers are name,value pairs ending with NULL (or NULL for
 * none); content_type may be NULL. req must not be used after. */
void daemon_http_respond(struct daemon_http_request *req, int status, const char *content_type,
                         const void *body, size_t len, const char *const *headers);

/* if the client goes away before the answer, cancel(arg) runs and req must
 * not be used after. Also runs when the daemon stops with the request
 * unanswered. */
void daemon_http_on_cancel(struct daemon_http_request *req, void (*cancel)(void *arg), void *arg);

/* --http ADDR:PORT (IPv4 a.b.c.d:PORT, IPv6 [addr]:PORT, or
 * localhost:PORT; PORT 0 picks a free port, logged) and --http-token-file
 * (NULL: none). Binds, then hands the socket to libmicrohttpd and adds its
 * epoll descriptor to d->epfd. Errors: EINVAL (address), EACCES (a
 * non-loopback address without a token, a token file readable by group or
 * others), the bind's errno. */
int daemon_http_start(struct daemon *d, const char *addr, const char *token_file, wr_error *err);

/* The loop's side: on_event when the watch is readable (the listener's or
 * a suspended request's peer), run_due before sleeping (MHD's timeouts),
 * timeout_ms for the epoll_wait (-1: none). */
void daemon_http_on_event(struct daemon *d, struct watch *w);
int daemon_http_timeout_ms(const struct daemon *d);
void daemon_http_run_due(struct daemon *d);
/* Frees the requests completed during the current batch of events. */
void daemon_http_bury(struct daemon *d);

/* The actual port (after PORT 0), or 0 when the listener is off. */
uint16_t daemon_http_port(const struct daemon *d);

/* Cancels every unanswered request, closes every connection, frees the
 * routes. */
void daemon_http_stop(struct daemon *d);

#endif

/* The daemon's HTTP listener: libmicrohttpd in external epoll mode, driven
 * from the daemon's loop (daemon_http.h says why and what it bounds).
 *
 * A request's life, in MHD's access-handler calls:
 *   1st call (headers): token, route (404/405), Content-Length (413);
 *   calls with upload data: appended to the body, never past max_body
 *     (a chunked body that passes it: MHD_NO, the connection closes);
 *   last call (no more data): the route's handler runs. Answered there:
 *     the response is queued at once. Not answered: the connection is
 *     suspended and its socket watched for the peer's hang-up (EPOLLRDHUP)
 *     in the daemon's epoll set; daemon_http_respond later resumes it and
 *     MHD calls the handler once more, which queues the response;
 *   completed (MHD_OPTION_NOTIFY_COMPLETED): the request is freed, after
 *     the current batch of events (a later event of the batch may still
 *     point at it). */
#include "daemon_http.h"

#include "daemon_log.h"
#include "log_budget.h"
#include "lib/cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct route {
    char method[16];
    char *prefix;
    size_t prefix_len;
    size_t max_body;
    daemon_http_handler handler;
    void *arg;
};

struct daemon_http_request {
    struct watch watch; /* WATCH_HTTP_PEER: the peer's hang-up while suspended */
    struct daemon *d;
    struct MHD_Connection *conn;
    const struct route *route;
    char *path;
    char *body;
    size_t len, cap;
    struct MHD_Response *response; /* the answer, until queued */
    unsigned status;
    void (*cancel)(void *arg);
    void *cancel_arg;
    int peer_fd;
    bool handled;   /* the route's handler ran */
    bool answered;  /* daemon_http_respond was called */
    bool cancelled; /* the peer went (or the daemon stops) before the answer */
    bool suspended;
    bool watched;
    struct daemon_http_request *prev, *next; /* live requests */
    struct daemon_http_request *buried_next;
};

struct daemon_http {
    struct watch watch; /* WATCH_HTTP: MHD's epoll descriptor */
    struct MHD_Daemon *mhd;
    int mhd_epfd;
    uint16_t port;
    char token[DAEMON_HTTP_TOKEN_MAX];
    size_t token_len; /* 0: no token required */
    struct route routes[DAEMON_HTTP_MAX_ROUTES];
    size_t n_routes;
    struct daemon_http_request *requests;
    struct daemon_http_request *graveyard;
    struct daemon_http_request *in_handler; /* the request whose handler runs now */
    bool resumed;                           /* a connection was resumed since the last MHD_run */
    struct log_budget log_budget;           /* what peers may make it log */
};

static struct daemon_http *http_of(struct daemon *d)
{
    if (!d->http) {
        d->http = calloc(1, sizeof *d->http);
        if (d->http)
            d->http->mhd_epfd = -1;
    }
    return d->http;
}

int daemon_http_route(struct daemon *d, const char *method, const char *path_prefix,
                      size_t max_body, daemon_http_handler h, void *arg, wr_error *err)
{
    if (!method || !*method || strlen(method) >= sizeof(((struct route *)0)->method) ||
        !path_prefix || path_prefix[0] != '/' || !h)
        return wr_error_set(err, EINVAL, "http route: bad method, path prefix or handler");
    struct daemon_http *hp = http_of(d);
    if (!hp)
        return wr_error_set(err, ENOMEM, "http route");
    for (size_t i = 0; i < hp->n_routes; i++)
        if (!strcmp(hp->routes[i].method, method) && !strcmp(hp->routes[i].prefix, path_prefix))
            return wr_error_set(err, EEXIST, "http route %s %s: already served", method,
                                path_prefix);
    if (hp->n_routes == DAEMON_HTTP_MAX_ROUTES)
        return wr_error_set(err, ENOSPC, "http route %s %s: more than %d routes", method,
                            path_prefix, DAEMON_HTTP_MAX_ROUTES);
    struct route *r = &hp->routes[hp->n_routes];
    r->prefix = strdup(path_prefix);
    if (!r->prefix)
        return wr_error_set(err, ENOMEM, "http route");
    snprintf(r->method, sizeof r->method, "%s", method);
    r->prefix_len = strlen(path_prefix);
    r->max_body = max_body;
    r->handler = h;
    r->arg = arg;
    hp->n_routes++;
    return 0;
}

/* "/a" matches "/a" and "/a/..."; "/a/" matches "/a/...". */
static bool prefix_matches(const struct route *r, const char *path)
{
    if (strncmp(path, r->prefix, r->prefix_len) != 0)
        return false;
    char next = path[r->prefix_len];
    return next == '\0' || next == '/' || r->prefix[r->prefix_len - 1] == '/';
}

/* The route of the longest prefix matching path and method. None: *allow
 * gets the methods of the paths that match (empty: 404, else 405). */
static const struct route *route_find(const struct daemon_http *hp, const char *path,
                                      const char *method, char *allow, size_t allow_size)
{
    const struct route *best = NULL;
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < hp->n_routes; i++) {
        const struct route *r = &hp->routes[i];
        if (!prefix_matches(r, path))
            continue;
        if (!strcmp(r->method, method)) {
            if (!best || r->prefix_len > best->prefix_len)
                best = r;
        } else if (!strstr(allow, r->method) && used + strlen(r->method) + 3 < allow_size) {
            used += (size_t)snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "",
                                     r->method);
        }
    }
    return best;
}

const char *daemon_http_path(const struct daemon_http_request *req)
{
    return req->path;
}

const char *daemon_http_header(const struct daemon_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *daemon_http_query(const struct daemon_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const void *daemon_http_body(const struct daemon_http_request *req, size_t *len)
{
    *len = req->len;
    return req->len ? req->body : NULL;
}

static struct MHD_Response *make_response(const char *content_type, const void *body, size_t len,
                                          const char *const *headers)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return NULL;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    return resp;
}

static void unwatch_peer(struct daemon_http_request *req)
{
    if (req->watched) {
        epoll_ctl(req->d->epfd, EPOLL_CTL_DEL, req->peer_fd, NULL);
        req->watched = false;
    }
}

static void resume(struct daemon_http_request *req)
{
    unwatch_peer(req);
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
        /* MHD_get_timeout does not count resumed connections, and MHD's
         * wake-up of its own epoll set is not seen through ours here: the
         * loop runs MHD once more before it sleeps. */
        req->d->http->resumed = true;
    }
}

void daemon_http_respond(struct daemon_http_request *req, int status, const char *content_type,
                         const void *body, size_t len, const char *const *headers)
{
    if (req->answered || req->cancelled)
        return;
    req->answered = true;
    req->status = (unsigned)status;
    req->response = make_response(content_type, body, len, headers);
    if (!req->response && log_budget_take(&req->d->http->log_budget, "http"))
        daemon_log("http: %s: no memory for the response; closing the connection", req->path);
    /* Outside the handler the connection waits suspended: the resume makes
     * MHD call access_handler again, which queues the response. */
    resume(req);
}

void daemon_http_on_cancel(struct daemon_http_request *req, void (*cancel)(void *arg), void *arg)
{
    req->cancel = cancel;
    req->cancel_arg = arg;
}

/* The client went (or the daemon stops) before the answer. */
static void cancel_request(struct daemon_http_request *req)
{
    if (req->answered || req->cancelled)
        return;
    req->cancelled = true;
    if (req->cancel)
        req->cancel(req->cancel_arg);
    resume(req);
}

static enum MHD_Result queue_simple(struct MHD_Connection *conn, unsigned status, const char *text,
                                    const char *const *headers)
{
    struct MHD_Response *resp =
        make_response("text/plain; charset=utf-8", text, strlen(text), headers);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Both strings are compared whole whatever they hold: the time taken says
 * nothing of how much of a guess was right. */
static bool token_equal(const char *given, size_t given_len, const char *token, size_t token_len)
{
    volatile unsigned char diff = given_len != token_len;
    for (size_t i = 0; i < token_len; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}

static bool authorized(const struct daemon_http *hp, struct MHD_Connection *conn)
{
    if (!hp->token_len)
        return true;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *given = auth + 7;
    while (*given == ' ')
        given++;
    return token_equal(given, strlen(given), hp->token, hp->token_len);
}

/* The first call: everything decided from the headers alone. Returns the
 * new request, or NULL with *rc set when answered (or refused) already. */
static struct daemon_http_request *request_begin(struct daemon *d, struct MHD_Connection *conn,
                                                 const char *url, const char *method,
                                                 enum MHD_Result *rc)
{
    struct daemon_http *hp = d->http;
    char allow[128];
    if (!authorized(hp, conn)) {
        static const char *const hdr[] = {"WWW-Authenticate", "Bearer", NULL};
        *rc = queue_simple(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n", hdr);
        return NULL;
    }
    const struct route *r = route_find(hp, url, method, allow, sizeof allow);
    if (!r) {
        const char *const hdr[] = {"Allow", allow, NULL};
        *rc = allow[0]
                  ? queue_simple(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", hdr)
                  : queue_simple(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
        return NULL;
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    unsigned long long declared = 0;
    if (cl) {
        char *end;
        errno = 0;
        declared = strtoull(cl, &end, 10);
        if (errno || end == cl || *end)
            declared = ULLONG_MAX;
    }
    if (declared > r->max_body) {
        *rc = queue_simple(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL);
        return NULL;
    }
    struct daemon_http_request *req = calloc(1, sizeof *req);
    if (req)
        req->path = strdup(url);
    if (req && declared) {
        req->body = malloc(declared);
        req->cap = declared;
    }
    if (!req || !req->path || (declared && !req->body)) {
        if (req) {
            free(req->path);
            free(req->body);
        }
        free(req);
        *rc = MHD_NO;
        return NULL;
    }
    req->watch.kind = WATCH_HTTP_PEER;
    req->d = d;
    req->conn = conn;
    req->route = r;
    req->peer_fd = -1;
    req->next = hp->requests;
    if (hp->requests)
        hp->requests->prev = req;
    hp->requests = req;
    return req;
}

static bool body_append(struct daemon_http_request *req, const char *data, size_t n)
{
    if (n > req->route->max_body - req->len)
        return false;
    if (req->len + n > req->cap) {
        size_t cap = req->cap ? req->cap * 2 : 4096;
        if (cap < req->len + n)
            cap = req->len + n;
        if (cap > req->route->max_body)
            cap = req->route->max_body;
        char *grown = realloc(req->body, cap);
        if (!grown)
            return false;
        req->body = grown;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, n);
    req->len += n;
    return true;
}

static enum MHD_Result queue_answer(struct daemon_http_request *req)
{
    if (!req->response)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    return rc;
}

/* Stop listening for the peer's hang-up only while suspended: MHD itself
 * watches the socket otherwise. */
static void watch_peer(struct daemon_http_request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return;
    req->peer_fd = ci->connect_fd;
    struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = &req->watch};
    if (epoll_ctl(req->d->epfd, EPOLL_CTL_ADD, req->peer_fd, &ev) == 0)
        req->watched = true;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    struct daemon *d = cls;
    struct daemon_http_request *req = *con_cls;
    enum MHD_Result rc = MHD_YES;
    if (!req) {
        req = request_begin(d, conn, url, method, &rc);
        *con_cls = req;
        return rc;
    }
    if (*upload_data_size) {
        if (!body_append(req, upload_data, *upload_data_size))
            return MHD_NO; /* a chunked body past max_body, or out of memory */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->cancelled)
        return MHD_NO;
    if (req->answered)
        return queue_answer(req);
    if (req->handled)
        return MHD_YES;
    req->handled = true;
    d->http->in_handler = req;
    req->route->handler(d, req, req->route->arg);
    d->http->in_handler = NULL;
    if (req->answered)
        return queue_answer(req);
    if (req->cancelled)
        return MHD_NO;
    MHD_suspend_connection(conn);
    req->suspended = true;
    watch_peer(req);
    return MHD_YES;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct daemon *d = cls;
    struct daemon_http_request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->handled)
        cancel_request(req); /* no-op once answered */
    unwatch_peer(req);
    if (req->response)
        MHD_destroy_response(req->response);
    req->response = NULL;
    struct daemon_http *hp = d->http;
    if (req->prev)
        req->prev->next = req->next;
    else
        hp->requests = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->buried_next = hp->graveyard;
    hp->graveyard = req;
}

/* libmicrohttpd's messages are about what peers sent (a bad header, a
 * Content-Length too large), before any token is checked: bounded. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct daemon_http *hp = cls;
    if (!log_budget_take(&hp->log_budget, "http"))
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    daemon_log("http: %s", line);
}

void daemon_http_bury(struct daemon *d)
{
    struct daemon_http *hp = d->http;
    if (!hp)
        return;
    while (hp->graveyard) {
        struct daemon_http_request *req = hp->graveyard;
        hp->graveyard = req->buried_next;
        free(req->path);
        free(req->body);
        free(req);
    }
}

/* ---- setup ------------------------------------------------------------- */

/* The token: the file's content without trailing white space; the file
 * must be the daemon's user's, a regular file, unreadable by others. */
static int read_token(struct daemon_http *hp, const char *path, wr_error *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return wr_error_set(err, errno, "--http-token-file %s", path);
    if (!S_ISREG(st.st_mode))
        return wr_error_set(err, EINVAL, "--http-token-file %s: not a regular file", path);
    if ((st.st_mode & 077) || st.st_uid != geteuid())
        return wr_error_set(err, EACCES,
                            "--http-token-file %s: must be owned by uid %u and not readable or "
                            "writable by group or others (chmod 600)",
                            path, (unsigned)geteuid());
    ssize_t n = read(fd, hp->token, sizeof hp->token);
    if (n < 0)
        return wr_error_set(err, errno, "--http-token-file %s", path);
    if ((size_t)n == sizeof hp->token)
        return wr_error_set(err, EINVAL, "--http-token-file %s: longer than %d bytes", path,
                            DAEMON_HTTP_TOKEN_MAX - 1);
    while (n > 0 && (hp->token[n - 1] == '\n' || hp->token[n - 1] == '\r' ||
                     hp->token[n - 1] == ' ' || hp->token[n - 1] == '\t'))
        n--;
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)hp->token[i] <= ' ' || hp->token[i] == 0x7f)
            return wr_error_set(err, EINVAL,
                                "--http-token-file %s: the token must be one word of printable "
                                "characters",
                                path);
    if (n < 16)
        return wr_error_set(err, EINVAL, "--http-token-file %s: the token is shorter than 16 bytes",
                            path);
    hp->token_len = (size_t)n;
    return 0;
}

/* ADDR:PORT -> a socket address; *loopback says whether only this host
 * can reach it. */
static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, bool *loopback,
                      wr_error *err)
{
    char host[DAEMON_HTTP_ADDR_MAX];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(text) >= sizeof host)
        return wr_error_set(err, EINVAL, "--http %s: expected ADDR:PORT", text);
    size_t hlen = (size_t)(colon - text);
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
        return wr_error_set(err, EINVAL, "--http %s: the port must be 0 to 65535", text);
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[hlen - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
            return wr_error_set(err, EINVAL, "--http %s: not an IPv6 address", text);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
                    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return wr_error_set(err, EINVAL,
                            "--http %s: ADDR must be an IPv4 address, [IPv6] or localhost", text);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *len = sizeof *s4;
    *loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

static int bind_listener(const struct sockaddr_storage *ss, socklen_t len, uint16_t *port,
                         wr_error *err)
{
    cleanup_close int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return wr_error_set(err, errno, "--http: socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)ss, len) < 0)
        return wr_error_set(err, errno, "--http: bind");
    if (listen(fd, 64) < 0)
        return wr_error_set(err, errno, "--http: listen");
    struct sockaddr_storage got;
    socklen_t got_len = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &got_len) < 0)
        return wr_error_set(err, errno, "--http: getsockname");
    *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                            : ((struct sockaddr_in *)&got)->sin_port);
    return steal_fd(&fd);
}

int daemon_http_start(struct daemon *d, const char *addr, const char *token_file, wr_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool loopback = false;
    struct daemon_http *hp = http_of(d);
    if (!hp)
        return wr_error_set(err, ENOMEM, "--http");
    if (parse_addr(addr, &ss, &len, &loopback, err) < 0)
        return -1;
    if (token_file && read_token(hp, token_file, err) < 0)
        return -1;
    if (!loopback && !hp->token_len)
        return wr_error_set(err, EACCES,
                            "--http %s: not a loopback address; other hosts may listen only with "
                            "--http-token-file",
                            addr);
    int fd = bind_listener(&ss, len, &hp->port, err);
    if (fd < 0)
        return wr_error_prefix(err, "%s", addr);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    hp->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, d, MHD_OPTION_EXTERNAL_LOGGER,
                               mhd_log, hp, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)DAEMON_HTTP_MAX_CONNS,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)DAEMON_HTTP_TIMEOUT_S,
                               MHD_OPTION_NOTIFY_COMPLETED, request_completed, d, MHD_OPTION_END);
    if (!hp->mhd) {
        close(fd);
        return wr_error_set(err, EIO, "--http %s: libmicrohttpd did not start", addr);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(hp->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    hp->mhd_epfd = info ? info->epoll_fd : -1;
    hp->watch.kind = WATCH_HTTP;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &hp->watch};
    if (hp->mhd_epfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, hp->mhd_epfd, &ev) < 0) {
        MHD_stop_daemon(hp->mhd);
        hp->mhd = NULL;
        return wr_error_set(err, errno, "--http: epoll_ctl");
    }
    return 0;
}

uint16_t daemon_http_port(const struct daemon *d)
{
    return d->http && d->http->mhd ? d->http->port : 0;
}

/* ---- the loop's side --------------------------------------------------- */

void daemon_http_on_event(struct daemon *d, struct watch *w)
{
    struct daemon_http *hp = d->http;
    if (!hp || !hp->mhd)
        return;
    if (w->kind == WATCH_HTTP_PEER) {
        struct daemon_http_request *req = (struct daemon_http_request *)w;
        unwatch_peer(req);
        cancel_request(req);
    }
    hp->resumed = false;
    MHD_run(hp->mhd);
}

int daemon_http_timeout_ms(const struct daemon *d)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (!d->http || !d->http->mhd)
        return -1;
    if (d->http->resumed)
        return 0;
    if (MHD_get_timeout(d->http->mhd, &ms) != MHD_YES)
        return -1;
    return ms > 60000 ? 60000 : (int)ms;
}

void daemon_http_run_due(struct daemon *d)
{
    if (daemon_http_timeout_ms(d) == 0) {
        d->http->resumed = false;
        MHD_run(d->http->mhd);
    }
}

void daemon_http_stop(struct daemon *d)
{
    struct daemon_http *hp = d->http;
    if (!hp)
        return;
    for (struct daemon_http_request *req = hp->requests; req; req = req->next)
        cancel_request(req);
    if (hp->mhd) {
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, hp->mhd_epfd, NULL);
        MHD_stop_daemon(hp->mhd); /* completes (and buries) every request */
    }
    daemon_http_bury(d);
    for (size_t i = 0; i < hp->n_routes; i++)
        free(hp->routes[i].prefix);
    free(hp);
    d->http = NULL;
}

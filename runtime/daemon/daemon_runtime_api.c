/* See daemon_runtime_api.h. Paths, headers, status codes and bodies as
 * AWS documents them:
 *   GET  /2018-06-01/runtime/invocation/next        200 event + Lambda-Runtime-* headers
 *   POST /2018-06-01/runtime/invocation/{id}/response  202 {"status":"OK"}; 400, 413
 *   POST /2018-06-01/runtime/invocation/{id}/error     202
 *   POST /2018-06-01/runtime/init/error                202 */
#include "daemon_runtime_api.h"

#include "daemon_log.h"
#include "log_budget.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PREFIX "/2018-06-01/runtime/"

/* Connections one environment may hold open at once (see
 * daemon_runtime_api_accept); more are closed at accept. */
#define RUNTIME_API_CONNS_PER_ENV 32u
/* The server's connection limit, and the share of it the environments of
 * one function hold together at most (docs/security.md): 16 functions
 * at their full share still leave room for every other. */
#define RUNTIME_API_CONNS_MAX    8192u
#define RUNTIME_API_CONNS_PER_FN (RUNTIME_API_CONNS_MAX / 16u)

static struct log_budget refusals_logged;
static struct MHD_Daemon *mhd;
static struct daemon *owner;
/* The environment of each accepted connection, by its descriptor. */
static struct fn_env **by_fd;
static size_t by_fd_cap;

/* One request's state across MHD's calls (its con_cls). */
struct rt_request {
    bool suspended; /* a GET next waiting for an invocation */
    char *body;
    size_t len;
    bool too_large;
};

static struct fn_env *env_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci || ci->connect_fd < 0 || (size_t)ci->connect_fd >= by_fd_cap)
        return NULL;
    return by_fd[ci->connect_fd];
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status, const char *type,
                                   const char *msg)
{
    char body[512];
    snprintf(body, sizeof body, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg, type);
    return reply(c, status, body);
}

static enum MHD_Result send_event(struct MHD_Connection *c, struct invocation *inv)
{
    char deadline[32], arn[160];
    struct MHD_Response *r =
        MHD_create_response_from_buffer(inv->len, inv->payload, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    snprintf(deadline, sizeof deadline, "%" PRId64, inv->deadline_ms);
    snprintf(arn, sizeof arn, "arn:aws:lambda:us-east-1:000000000000:function:%s",
             daemon_function_name(inv->fn));
    char trace[128];
    snprintf(trace, sizeof trace, "Root=1-%.8s-%.24s;Parent=%.16s;Sampled=0", inv->request_id,
             "000000000000000000000000", "0000000000000000");
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", inv->request_id);
    MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn", arn);
    MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", trace);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result too_large_reply(struct MHD_Connection *c)
{
    return error_reply(c, 413, "RequestEntityTooLarge",
                       "the payloads being sent to this environment are larger than "
                       "6291456 bytes together");
}

/* The request once its body is in. */
static enum MHD_Result serve(struct MHD_Connection *c, struct rt_request *q, const char *url,
                             const char *method)
{
    /* Looked up every time: an environment that went meanwhile is cut. */
    struct fn_env *env = env_of(c);
    if (!env || env->state == ENV_DEAD)
        return error_reply(c, MHD_HTTP_GONE, "EnvironmentGone", "this environment is gone");
    if (strncmp(url, PREFIX, strlen(PREFIX)) != 0)
        return error_reply(c, MHD_HTTP_NOT_FOUND, "NotFound", "unknown path");
    const char *rest = url + strlen(PREFIX);
    if (strcmp(rest, "invocation/next") == 0 && strcmp(method, "GET") == 0) {
        if (q->suspended) {
            /* Resumed: an invocation was assigned, or the env went. */
            q->suspended = false;
            env->next_conn = NULL;
            if (!env->inv)
                return error_reply(c, MHD_HTTP_GONE, "EnvironmentGone", "no invocation");
            env->inv_sent = true;
            return send_event(c, env->inv);
        }
        if (env->next_conn)
            return error_reply(c, MHD_HTTP_BAD_REQUEST, "InvalidRequest",
                               "a request for the next invocation is already waiting");
        struct invocation *inv = daemon_env_next(owner, env);
        if (inv) {
            env->inv_sent = true;
            return send_event(c, inv);
        }
        if (env->state == ENV_DEAD) /* it served its last (--fresh, a new image) */
            return error_reply(c, MHD_HTTP_GONE, "EnvironmentGone", "this environment is gone");
        env->next_conn = c;
        q->suspended = true;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return error_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed", "POST only");
    if (strcmp(rest, "init/error") == 0 && !q->too_large) {
        daemon_env_init_error(owner, env, q->body, q->len);
        return reply(c, MHD_HTTP_ACCEPTED, "{\"status\":\"OK\"}");
    }
    char id[64];
    const char *slash;
    if (strncmp(rest, "invocation/", 11) == 0 && (slash = strchr(rest + 11, '/')) &&
        (size_t)(slash - (rest + 11)) < sizeof id) {
        memcpy(id, rest + 11, (size_t)(slash - (rest + 11)));
        id[slash - (rest + 11)] = '\0';
        bool error = strcmp(slash, "/error") == 0;
        if (!error && strcmp(slash, "/response") != 0)
            return error_reply(c, MHD_HTTP_NOT_FOUND, "NotFound", "unknown path");
        if (q->too_large) {
            /* The answer is lost: the invocation ends with Lambda's error
             * for it, and the runtime learns why. */
            (void)daemon_env_result_too_large(owner, env, id);
            return too_large_reply(c);
        }
        if (daemon_env_result(owner, env, id, error, q->body, q->len) < 0)
            return error_reply(c, MHD_HTTP_BAD_REQUEST, "InvalidRequestID",
                               "no such invocation in progress here");
        return reply(c, MHD_HTTP_ACCEPTED, "{\"status\":\"OK\"}");
    }
    if (q->too_large)
        return too_large_reply(c);
    return error_reply(c, MHD_HTTP_NOT_FOUND, "NotFound", "unknown path");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct rt_request *q = *con_cls;
    if (!q) {
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* The daemon's memory, not the tenant's: the bodies one
         * environment's connections are sending (each held until it is
         * complete, and a connection has no idle timeout) hold at most
         * one payload's size together, not one per connection. */
        struct fn_env *env = env_of(c);
        if (!q->too_large && (!env || env->body_bytes + *upload_size > WR_INVOKE_PAYLOAD_MAX)) {
            q->too_large = true;
            if (env)
                env->body_bytes -= q->len;
            free(q->body);
            q->body = NULL;
            q->len = 0;
        } else if (!q->too_large) {
            char *b = realloc(q->body, q->len + *upload_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + q->len, upload, *upload_size);
            q->body = b;
            q->len += *upload_size;
            env->body_bytes += *upload_size;
            b[q->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return serve(c, q, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    struct rt_request *q = *con_cls;
    struct fn_env *env = env_of(c);
    if (q && q->suspended && env && env->next_conn == c)
        env->next_conn = NULL;
    if (q && env)
        env->body_bytes -= q->len;
    if (q) {
        free(q->body);
        free(q);
    }
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)socket_context;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci || ci->connect_fd < 0 || (size_t)ci->connect_fd >= by_fd_cap)
        return;
    struct fn_env *env = by_fd[ci->connect_fd];
    if (code == MHD_CONNECTION_NOTIFY_STARTED && env) {
        env->n_conns++;
        (*daemon_function_conns(env->fn))++;
    }
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (env && env->n_conns > 0) {
            env->n_conns--;
            (*daemon_function_conns(env->fn))--;
        }
        by_fd[ci->connect_fd] = NULL;
    }
}

int daemon_runtime_api_start(struct daemon *d, struct fn_watch *w, wr_error *err)
{
    owner = d;
    mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC, 0, NULL,
        NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 0u,
        MHD_OPTION_CONNECTION_LIMIT, RUNTIME_API_CONNS_MAX, MHD_OPTION_END);
    if (!mhd)
        return wr_error_set(err, EIO, "libmicrohttpd: cannot start the Runtime API server");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->watch};
    if (!di || epoll_ctl(d->epfd, EPOLL_CTL_ADD, di->epoll_fd, &ev) < 0) {
        MHD_stop_daemon(mhd);
        mhd = NULL;
        return wr_error_set(err, errno, "Runtime API server: epoll");
    }
    return 0;
}

void daemon_runtime_api_stop(void)
{
    if (mhd)
        MHD_stop_daemon(mhd);
    mhd = NULL;
    free(by_fd);
    by_fd = NULL;
    by_fd_cap = 0;
}

void daemon_runtime_api_run(void)
{
    /* A resumed request is served on MHD's next turn, which no event of
     * ours may prompt: turn again while MHD says work is ready now. */
    MHD_UNSIGNED_LONG_LONG timeout;
    for (int i = 0; mhd && i < 8; i++) {
        (void)MHD_run(mhd);
        if (MHD_get_timeout(mhd, &timeout) != MHD_YES || timeout > 0)
            break;
    }
}

int daemon_runtime_api_timeout_ms(void)
{
    MHD_UNSIGNED_LONG_LONG timeout;
    if (!mhd || MHD_get_timeout(mhd, &timeout) != MHD_YES)
        return -1;
    return timeout > 1000 ? 1000 : (int)timeout;
}

void daemon_runtime_api_accept(struct fn_env *env)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int fd =
            accept4(env->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        /* A runtime needs a connection or two (its next, its answer); the
         * server and its connection limit are shared by every tenant's
         * environments, and connections have no idle timeout: one
         * runtime must not hold them all, nor one function's environments
         * together (--min 256 would fill the server during its init). */
        if (env->n_conns >= RUNTIME_API_CONNS_PER_ENV) {
            close(fd);
            continue;
        }
        if (*daemon_function_conns(env->fn) >= RUNTIME_API_CONNS_PER_FN) {
            close(fd);
            if (log_budget_take(&refusals_logged, "Runtime API"))
                daemon_log("function %s: Runtime API connection refused: its environments hold "
                           "%u connections, its share",
                           daemon_function_name(env->fn), *daemon_function_conns(env->fn));
            continue;
        }
        if ((size_t)fd >= by_fd_cap) {
            size_t cap = (size_t)fd * 2 + 64;
            struct fn_env **m = realloc(by_fd, cap * sizeof *m);
            if (!m) {
                close(fd);
                continue;
            }
            memset(m + by_fd_cap, 0, (cap - by_fd_cap) * sizeof *m);
            by_fd = m;
            by_fd_cap = cap;
        }
        by_fd[fd] = env;
        /* MHD owns fd from here, also on failure (it closes it). */
        if (MHD_add_connection(mhd, fd, (struct sockaddr *)&sa, salen) != MHD_YES) {
            by_fd[fd] = NULL;
            if (log_budget_take(&refusals_logged, "Runtime API"))
                daemon_log("function environment %s: Runtime API connection refused", env->id);
        }
    }
}

void daemon_runtime_api_resume(struct fn_env *env)
{
    if (env->next_conn)
        MHD_resume_connection(env->next_conn);
    daemon_runtime_api_run();
}

void daemon_runtime_api_forget(struct fn_env *env)
{
    for (size_t i = 0; i < by_fd_cap; i++)
        if (by_fd[i] == env)
            by_fd[i] = NULL;
    /* Its connections close later, unseen: they leave its function's count now. */
    unsigned *fn_conns = daemon_function_conns(env->fn);
    *fn_conns -= env->n_conns < *fn_conns ? env->n_conns : *fn_conns;
    env->n_conns = 0;
    if (env->next_conn) {
        MHD_resume_connection(env->next_conn);
        env->next_conn = NULL;
    }
}

/* See daemon_function.h. Error bodies and their errorType values follow
 * what AWS Lambda returns (Sandbox.Timedout, Runtime.ExitError,
 * Function.ResponseSizeTooLarge). */
#include "daemon_function.h"

#include "daemon_function_http.h"
#include "daemon_log.h"
#include "daemon_pool.h"
#include "daemon_runtime_api.h"
#include "function_log.h"

#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/cgroup.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/image_store.h"
#include "lib/net_config.h"
#include "lib/shim_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RUNTIME_API_PORT 9001
#define INIT_TIMEOUT_S   10 /* Lambda's init phase limit */
#define BACKOFF_BASE_NS  (100LL * 1000000)
#define BACKOFF_MAX_NS   (10LL * 1000000000)
#define LOG_GRACE_MS     100

struct function {
    char name[WR_FUNCTION_NAME_MAX + 1];
    struct wr_function_spec spec; /* handler owned */
    long queue_max;
    char **env; /* --env, NULL-terminated, owned */
    struct pool *pool;
    struct fn_env *envs;
    struct invocation *q_head, *q_tail;
    long queued, invocations, errors, init_failures;
    int consecutive_init_failures;
    int64_t retry_at_ns;
    char last_error[256];
    char *init_error; /* the last init failure's body, for invocations meanwhile */
    size_t init_error_len;
    struct function_log log;
    char *request;       /* its create request (encoded): the security asked, for a new image */
    unsigned generation; /* of its image: bumped when the image's tag is imported again */
    struct function *next;
};

struct daemon_functions {
    struct function *list;
    struct fn_watch http;
    int own_netns;
    char dir[4096];
    char scope[16];
    struct fn_env *graveyard; /* freed after the event batch (events may name them) */
};

static char activation_buf[WR_ACTIVATION_MAX];
static struct fn_env **graveyard_head; /* &daemon_functions.graveyard */

const char *daemon_function_name(const struct function *f)
{
    return f->name;
}

static struct function *find(struct daemon *d, const char *name)
{
    for (struct function *f = d->functions ? d->functions->list : NULL; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

bool daemon_function_exists(struct daemon *d, const char *name)
{
    return find(d, name) != NULL;
}

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A version 4 UUID, as Lambda's request ids. */
static void new_request_id(char out[37])
{
    unsigned char b[16] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static void watch(struct daemon *d, struct fn_watch *w, enum fn_watch_what what, void *obj, int fd,
                  uint32_t events)
{
    w->watch.kind = WATCH_FUNCTION;
    w->what = what;
    w->obj = obj;
    struct epoll_event ev = {.events = events, .data.ptr = &w->watch};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        daemon_log("function: epoll_ctl: %s", strerror(errno));
}

static void arm(struct fn_env *env, long seconds)
{
    struct itimerspec its = {.it_value = {.tv_sec = seconds}};
    (void)timerfd_settime(env->timer_fd, 0, &its, NULL);
}

/* ---- invocations ------------------------------------------------------------ */

static void finish(struct daemon *d, struct invocation *inv, const char *code, const char *msg,
                   const char *function_error, const void *body, size_t len)
{
    struct wr_invoke_result res = {0};
    snprintf(res.request_id, sizeof res.request_id, "%s", inv->request_id);
    snprintf(res.function_error, sizeof res.function_error, "%s",
             function_error ? function_error : "");
    if (inv->log_tail)
        memcpy(res.log_tail, inv->tail, inv->tail_len + 1);
    if (inv->done)
        inv->done(d, inv->arg, code, msg, &res, body, len);
    else if (code || function_error)
        daemon_log("function %s: event invocation %s failed: %s", inv->fn->name, inv->request_id,
                   code ? msg : function_error);
    free(inv->payload);
    free(inv->answer);
    free(inv);
}

/* Lambda's error body for failures of the environment (not the handler). */
static void finish_error(struct daemon *d, struct invocation *inv, const char *type,
                         const char *what)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: %s\"}", type,
                     inv->request_id, what);
    inv->fn->errors++;
    finish(d, inv, NULL, NULL, "Unhandled", body, (size_t)n);
}

static struct invocation *dequeue(struct function *f)
{
    struct invocation *inv = f->q_head;
    if (inv) {
        f->q_head = inv->next;
        if (!f->q_head)
            f->q_tail = NULL;
        f->queued--;
        inv->next = NULL;
    }
    return inv;
}

/* ---- environments ----------------------------------------------------------- */

static void log_append(struct fn_env *env, const char *buf, size_t n)
{
    struct function *f = env->fn;
    if (f && function_log_write(&f->log, buf, n) < 0)
        daemon_log("function %s: log: %s", f->name, strerror(errno));
    struct invocation *inv = env->inv;
    if (!inv || !inv->log_tail)
        return;
    /* Keep the last WR_LOG_TAIL_MAX bytes. */
    if (n >= WR_LOG_TAIL_MAX) {
        memcpy(inv->tail, buf + n - WR_LOG_TAIL_MAX, WR_LOG_TAIL_MAX);
        inv->tail_len = WR_LOG_TAIL_MAX;
    } else {
        if (inv->tail_len + n > WR_LOG_TAIL_MAX) {
            size_t drop = inv->tail_len + n - WR_LOG_TAIL_MAX;
            memmove(inv->tail, inv->tail + drop, inv->tail_len - drop);
            inv->tail_len -= drop;
        }
        memcpy(inv->tail + inv->tail_len, buf, n);
        inv->tail_len += n;
    }
    inv->tail[inv->tail_len] = '\0';
}

static void drain_log(struct fn_env *env)
{
    char buf[16384];
    ssize_t n;
    while (env->log_fd >= 0 && (n = read(env->log_fd, buf, sizeof buf)) > 0)
        log_append(env, buf, (size_t)n);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Kills the container (thawed first: a frozen task on cgroup v1 cannot
 * die); the environment stays DEAD until its shim reports the exit. */
static void env_kill(struct fn_env *env)
{
    wr_error err;
    if (env->state == ENV_DEAD)
        return;
    env->state = ENV_DEAD;
    (void)daemon_freezer_set(&env->freezer, false, &err);
    env->frozen = false;
    if (env->pidfd >= 0)
        (void)syscall(SYS_pidfd_send_signal, env->pidfd, SIGKILL, NULL, 0);
    daemon_runtime_api_forget(env);
}

/* Frees a DEAD environment (its container killed). */
static void env_free(struct fn_env *env)
{
    struct function *f = env->fn;
    env_kill(env);
    drain_log(env);
    if (f) {
        struct fn_env **link = &f->envs;
        while (*link && *link != env)
            link = &(*link)->next;
        if (*link)
            *link = env->next;
    }
    close_fd(&env->listen_fd);
    close_fd(&env->client_fd);
    close_fd(&env->log_fd);
    close_fd(&env->timer_fd);
    close_fd(&env->pidfd);
    daemon_freezer_remove(&env->freezer);
    env->gone = true;
    env->next = graveyard_head ? *graveyard_head : NULL;
    if (graveyard_head)
        *graveyard_head = env;
    else
        free(env);
}

/* Ends env's invocation with the runtime's answer (held or given). */
static void complete(struct daemon *d, struct fn_env *env, bool error, const void *body, size_t len)
{
    struct invocation *inv = env->inv;
    struct function *f = env->fn;
    /* What the runtime wrote before it answered (or asked for the next
     * event) is in the pipe now: it belongs to this invocation's tail, as
     * Lambda ends an invocation's logs at the runtime's next request. */
    drain_log(env);
    env->inv = NULL;
    arm(env, 0);
    f->invocations++;
    if (error)
        f->errors++;
    finish(d, inv, NULL, NULL, error ? "Unhandled" : NULL, body, len);
    if (f->spec.fresh)
        env_kill(env); /* it served one: it goes (freed on its exit) */
}

static void complete_held(struct daemon *d, struct fn_env *env)
{
    struct invocation *inv = env->inv;
    char *answer = inv->answer;
    inv->answer = NULL;
    complete(d, env, inv->answer_error, answer, inv->answer_len);
    free(answer);
}

static void backoff(struct function *f, const char *why, const void *body, size_t len)
{
    f->init_failures++;
    f->consecutive_init_failures++;
    int shift = f->consecutive_init_failures - 1;
    int64_t delay = BACKOFF_BASE_NS << (shift > 7 ? 7 : shift);
    f->retry_at_ns = wr_monotonic_ns() + (delay > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : delay);
    snprintf(f->last_error, sizeof f->last_error, "%s", why);
    free(f->init_error);
    f->init_error = NULL;
    f->init_error_len = 0;
    if (body && len > 0 && (f->init_error = malloc(len))) {
        memcpy(f->init_error, body, len);
        f->init_error_len = len;
    }
    daemon_log("function %s: init failed: %s", f->name, why);
}

static bool others_ready(struct function *f, struct fn_env *except)
{
    for (struct fn_env *e = f->envs; e; e = e->next)
        if (e != except && (e->state == ENV_IDLE || e->state == ENV_INIT))
            return true;
    return false;
}

void daemon_env_init_error(struct daemon *d, struct fn_env *env, const char *body, size_t len)
{
    struct function *f = env->fn;
    if (env->state == ENV_DEAD)
        return;
    char why[200];
    snprintf(why, sizeof why, "%.*s", (int)(len < 180 ? len : 180), body ? body : "");
    backoff(f, why, body, len);
    env_kill(env);
    /* Lambda answers the invocation that waited for this init with its
     * error; the others wait for the next environment. */
    struct invocation *inv;
    if (!others_ready(f, env) && (inv = dequeue(f))) {
        f->errors++;
        finish(d, inv, NULL, NULL, "Unhandled", body, len);
    }
}

/* The container exited (or its shim went): status text for the error. */
static void env_exited(struct daemon *d, struct fn_env *env, const char *status)
{
    char what[160];
    drain_log(env);
    if (env->state == ENV_INIT) {
        int n = snprintf(what, sizeof what,
                         "{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"Runtime exited "
                         "during init: %s\"}",
                         status);
        daemon_env_init_error(d, env, what, (size_t)n);
    } else if (env->inv && env->inv->answered) {
        complete_held(d, env);
    } else if (env->inv) {
        struct invocation *inv = env->inv;
        env->inv = NULL;
        snprintf(what, sizeof what, "Runtime exited with error: %s", status);
        finish_error(d, inv, "Runtime.ExitError", what);
    }
    env_free(env);
}

static void on_client(struct daemon *d, struct fn_env *env)
{
    char buf[WR_API_MSG_MAX];
    ssize_t n = recv(env->client_fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN)
        return;
    char status[64] = "the environment's shim went away";
    struct wr_reply r;
    wr_error err;
    if (n > 0 && wr_reply_parse(buf, (size_t)n, &r, &err) == 0 && r.kind == WR_REPLY_EXIT) {
        if (r.exit.signal)
            snprintf(status, sizeof status, "signal: %d", r.exit.signal);
        else
            snprintf(status, sizeof status, "exit status %d", r.exit.exit_code);
        wr_reply_free(&r);
    }
    if (env->state == ENV_DEAD) {
        env_free(env);
        return;
    }
    env_exited(d, env, status);
}

static void on_timer(struct daemon *d, struct fn_env *env)
{
    uint64_t ticks;
    if (read(env->timer_fd, &ticks, sizeof ticks) != (ssize_t)sizeof ticks)
        return;
    struct function *f = env->fn;
    if (env->inv && env->inv->answered) {
        complete_held(d, env); /* the runtime did not ask for more in time */
        return;
    }
    if (env->state == ENV_INIT) {
        char body[160];
        int n = snprintf(body, sizeof body,
                         "{\"errorType\":\"Runtime.InitTimeout\",\"errorMessage\":\"init did not "
                         "finish within %d seconds\"}",
                         INIT_TIMEOUT_S);
        daemon_env_init_error(d, env, body, (size_t)n);
        return;
    }
    if (env->state == ENV_BUSY && env->inv) {
        char what[96];
        drain_log(env); /* into the invocation's tail, before it is detached */
        struct invocation *inv = env->inv;
        env->inv = NULL;
        snprintf(what, sizeof what, "Task timed out after %ld.00 seconds", f->spec.timeout_s);
        log_append(env, what, strlen(what));
        log_append(env, "\n", 1);
        env_kill(env); /* freed when its shim reports the exit */
        finish_error(d, inv, "Sandbox.Timedout", what);
    }
}

/* The Runtime API's socket, made inside the container's network namespace
 * (setns through its pidfd, and back): reachable from that container
 * only, with no host port and no namespace shared. */
static int runtime_socket(struct daemon_functions *fns, int pidfd, wr_error *err)
{
    if (setns(pidfd, CLONE_NEWNET) < 0)
        return wr_error_set(err, errno, "enter the container's network namespace");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int saved = errno;
    if (setns(fns->own_netns, CLONE_NEWNET) < 0) {
        /* The daemon must never serve its own clients from a container's
         * namespace. */
        daemon_log("function: cannot return to the daemon's network namespace: %s",
                   strerror(errno));
        abort();
    }
    if (fd < 0)
        return wr_error_set(err, saved, "Runtime API socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RUNTIME_API_PORT)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        saved = errno;
        close(fd);
        return wr_error_set(err, saved, "Runtime API socket: bind 127.0.0.1:%d", RUNTIME_API_PORT);
    }
    return fd;
}

/* Lambda's environment variables
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
static char **lambda_env(const struct function *f, const struct wr_image *img)
{
    size_t n = 0;
    while (f->env && f->env[n])
        n++;
    char **v = calloc(n + 16, sizeof *v);
    if (!v)
        return NULL;
    size_t i = 0;
    const char *handler = f->spec.handler ? f->spec.handler : img->cmd ? img->cmd[0] : "";
    int ok = asprintf(&v[i++], "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", RUNTIME_API_PORT) > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_FUNCTION_NAME=%s", f->name) > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%ld", f->spec.memory_mb) > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_FUNCTION_VERSION=$LATEST") > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", f->name) > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_LOG_STREAM_NAME=warmrun/%s", f->name) > 0 &&
             asprintf(&v[i++], "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand") > 0 &&
             asprintf(&v[i++], "_HANDLER=%s", handler) > 0 &&
             asprintf(&v[i++], "AWS_REGION=us-east-1") > 0 &&
             asprintf(&v[i++], "AWS_DEFAULT_REGION=us-east-1") > 0 &&
             asprintf(&v[i++], "TZ=:UTC") > 0;
    bool has_task_root = false;
    for (size_t k = 0; img->env && img->env[k]; k++)
        has_task_root |= strncmp(img->env[k], "LAMBDA_TASK_ROOT=", 17) == 0;
    if (ok && !has_task_root)
        ok = asprintf(&v[i++], "LAMBDA_TASK_ROOT=/var/task") > 0;
    for (size_t k = 0; ok && k < n; k++)
        ok = (v[i++] = strdup(f->env[k])) != NULL;
    if (!ok) {
        for (size_t k = 0; k < i; k++)
            free(v[k]);
        free(v);
        return NULL;
    }
    return v;
}

static void free_vec(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Takes a warm container of f's pool and starts its runtime in it.
 * Returns 1 started, 0 none warm, -1 failed (logged). */
static int env_start(struct daemon *d, struct function *f)
{
    wr_error err;
    struct entry *e = daemon_pool_take_warm(f->pool);
    if (!e)
        return 0;
    struct fn_env *env = calloc(1, sizeof *env);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, sv[2] = {-1, -1};
    char **envv = lambda_env(f, f->pool->img);
    if (!env || !envv) {
        daemon_entry_discard(d, e);
        free(env);
        free_vec(envv);
        return -1;
    }
    env->fn = f;
    env->generation = f->generation;
    env->state = ENV_INIT;
    env->pidfd = env->client_fd = env->log_fd = env->timer_fd = -1;
    snprintf(env->id, sizeof env->id, "%s", e->shim.id);
    char *argv[] = {f->spec.handler, NULL};
    struct wr_request r = {.op = WR_OP_ACTIVATE,
                           .argv = f->spec.handler ? argv : NULL,
                           .argc = f->spec.handler ? 1 : 0,
                           .env = envv};
    for (char **p = envv; *p; p++)
        r.envc++;
    ssize_t len = -1;
    int rc = -1;
    if ((env->listen_fd = runtime_socket(d->functions, e->shim.pidfd, &err)) < 0 ||
        daemon_freezer_attach(&env->freezer, d->functions->scope, env->id, e->shim.child_pid,
                              &err) < 0)
        goto fail;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        (env->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
        (env->pidfd = fcntl(e->shim.pidfd, F_DUPFD_CLOEXEC, 3)) < 0) {
        wr_error_set(&err, errno, "environment descriptors");
        goto fail;
    }
    close_fd(&in[1]); /* the runtime's stdin: end of file */
    if ((len = wr_activation_compose_env(f->pool->img, &r, f->pool->env.vec, e->shim.id,
                                         activation_buf, sizeof activation_buf, &err)) < 0)
        goto fail;
    int stdio[3] = {in[0], out[1], out[1]};
    rc = wr_shim_activate(&e->shim, activation_buf, (size_t)len, stdio, sv[1], NULL, &e->resumed_ns,
                          &err);
    if (rc != 0)
        goto fail;
    daemon_entry_running(d, e, wr_monotonic_ns(), false);
    daemon_entry_set_command(e, &r, f->pool->img);
    free_vec(envv);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&sv[1]);
    env->client_fd = sv[0];
    env->log_fd = out[0];
    fcntl(env->log_fd, F_SETFL, O_NONBLOCK);
    watch(d, &env->w_listen, FNW_LISTEN, env, env->listen_fd, EPOLLIN);
    watch(d, &env->w_client, FNW_CLIENT, env, env->client_fd, EPOLLIN | EPOLLRDHUP);
    watch(d, &env->w_log, FNW_LOG, env, env->log_fd, EPOLLIN);
    watch(d, &env->w_timer, FNW_TIMER, env, env->timer_fd, EPOLLIN);
    arm(env, INIT_TIMEOUT_S);
    env->next = f->envs;
    f->envs = env;
    return 1;
fail:
    daemon_log("function %s: environment %s: %s", f->name, env->id, err.msg);
    if (rc == WR_ACTIVATE_STARTED_FAILED)
        daemon_entry_running(d, e, wr_monotonic_ns(), false);
    daemon_entry_discard(d, e);
    free_vec(envv);
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&sv[0]);
    close_fd(&sv[1]);
    env->state = ENV_DEAD;
    env->fn = NULL;
    env_free(env);
    backoff(f, err.msg, NULL, 0);
    return -1;
}

/* Hands inv to env (IDLE, its next suspended or arriving). */
static void assign(struct fn_env *env, struct invocation *inv)
{
    wr_error err;
    struct function *f = env->fn;
    env->inv = inv;
    env->inv_sent = false;
    env->state = ENV_BUSY;
    env->served = true;
    inv->deadline_ms = unix_ms() + f->spec.timeout_s * 1000;
    arm(env, f->spec.timeout_s);
    if (env->frozen && daemon_freezer_set(&env->freezer, false, &err) < 0)
        daemon_log("function %s: thaw %s: %s", f->name, env->id, err.msg);
    env->frozen = false;
    if (env->next_conn)
        daemon_runtime_api_resume(env);
}

struct invocation *daemon_env_next(struct daemon *d, struct fn_env *env)
{
    (void)d;
    wr_error err;
    struct function *f = env->fn;
    if (env->state == ENV_INIT) {
        f->consecutive_init_failures = 0;
        f->retry_at_ns = 0;
    }
    if (env->inv && env->inv->answered) {
        complete_held(d, env);
        if (env->state == ENV_DEAD)
            return NULL;
    }
    if (env->generation != f->generation) {
        /* Its image was replaced: it served its last invocation. */
        if (env->inv) {
            struct invocation *inv = env->inv;
            env->inv = NULL;
            finish_error(d, inv, "Runtime.InvalidResponse",
                         "the runtime asked for the next invocation without answering this one");
        }
        env_kill(env);
        return NULL;
    }
    if (env->state == ENV_BUSY && env->inv) {
        /* Asked for the next one without answering this one. */
        struct invocation *inv = env->inv;
        env->inv = NULL;
        finish_error(d, inv, "Runtime.InvalidResponse",
                     "the runtime asked for the next invocation without answering this one");
    }
    env->state = ENV_IDLE;
    arm(env, 0);
    struct invocation *inv = dequeue(f);
    if (inv) {
        assign(env, inv);
        return inv;
    }
    /* Initialised and idle: frozen until an invocation comes. */
    if (daemon_freezer_set(&env->freezer, true, &err) < 0)
        daemon_log("function %s: freeze %s: %s", f->name, env->id, err.msg);
    else
        env->frozen = true;
    return NULL;
}

int daemon_env_result(struct daemon *d, struct fn_env *env, const char *id, bool error,
                      const void *body, size_t len)
{
    struct invocation *inv = env->inv;
    if (!inv || !env->inv_sent || inv->answered || strcmp(inv->request_id, id) != 0)
        return -1;
    if (inv->log_tail && (inv->answer = malloc(len ? len : 1))) {
        memcpy(inv->answer, body, len);
        inv->answer_len = len;
        inv->answer_error = error;
        inv->answered = true;
        struct itimerspec its = {.it_value = {.tv_nsec = LOG_GRACE_MS * 1000000L}};
        (void)timerfd_settime(env->timer_fd, 0, &its, NULL);
        return 0;
    }
    complete(d, env, error, body, len);
    return 0;
}

/* ---- functions ---------------------------------------------------------------- */

static void function_free(struct daemon *d, struct function *f)
{
    struct invocation *inv;
    while ((inv = dequeue(f)))
        finish(d, inv, "not_found", "the function was removed", NULL, NULL, 0);
    while (f->envs) {
        struct fn_env *env = f->envs;
        if (env->inv) {
            inv = env->inv;
            env->inv = NULL;
            finish(d, inv, "not_found", "the function was removed", NULL, NULL, 0);
        }
        env_free(env);
    }
    if (f->pool)
        daemon_pool_destroy(d, f->pool);
    function_log_close(&f->log);
    free(f->spec.handler);
    free_vec(f->env);
    free(f->init_error);
    free(f->request);
    free(f);
}

static char **copy_vec(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_vec(out);
            return NULL;
        }
    return out;
}

static int create(struct daemon *d, const struct wr_request *req, wr_error *err)
{
    struct daemon_functions *fns = d->functions;
    if (find(d, req->name))
        return wr_error_code(err, EEXIST, "function %s already exists", req->name);
    struct wr_net_mode net = {0};
    if (req->network && wr_net_mode_parse(req->network, &net, err) < 0)
        return -1;
    /* The Runtime API listens on 127.0.0.1 in the environment's network
     * namespace: with the host's, every process of the host could take
     * invocations and answer them (docs/security.md, "Functions"). */
    if (net.kind == WR_NET_HOST)
        return wr_error_code(err, EINVAL,
                             "--network host is refused for functions: their Runtime API would "
                             "listen in the host's network namespace, open to every host process");
    struct function *f = calloc(1, sizeof *f);
    if (!f)
        return wr_error_set(err, ENOMEM, "function");
    snprintf(f->name, sizeof f->name, "%s", req->name);
    f->spec = req->function;
    f->spec.handler = NULL;
    f->log.fd = -1;
    f->queue_max = req->function.max; /* the queue holds as many as --max more */
    size_t request_len;
    if ((req->function.handler && !(f->spec.handler = strdup(req->function.handler))) ||
        !(f->env = copy_vec(req->env)) ||
        !(f->request = wr_request_encode(req, &request_len, err))) {
        function_free(d, f);
        return wr_error_set(err, ENOMEM, "function");
    }
    /* --memory is Lambda's memory size, and the environment's limit unless
     * a resource option set one. */
    struct wr_resources res = req->resources;
    if (!res.memory)
        res.memory = (int64_t)f->spec.memory_mb << 20;
    f->pool = daemon_pool_create_hidden(d, req->image, 1,
                                        req->tmpfs_size ? req->tmpfs_size : WR_DEFAULT_TMPFS_BYTES,
                                        req->security, &res, &req->volumes, req->network, err);
    if (!f->pool) {
        function_free(d, f);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.log", fns->dir, f->name);
    function_log_open(&f->log, path);
    f->next = fns->list;
    fns->list = f;
    daemon_log("function %s created (image %s, min %ld, max %ld%s)", f->name, f->pool->image,
               f->spec.min, f->spec.max, f->spec.fresh ? ", fresh" : "");
    return 0;
}

int daemon_function_create(struct daemon *d, const struct wr_request *req, wr_error *err)
{
    if (create(d, req, err) < 0)
        return -1;
    /* Stored as its request, for the next daemon (written via .tmp). */
    size_t len;
    cleanup_free char *text = wr_request_encode(req, &len, err);
    char path[4200], tmp[4210];
    snprintf(path, sizeof path, "%s/%s.json", d->functions->dir, req->name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cleanup_close int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0)
        daemon_log("function %s: cannot store its definition: %s", req->name, strerror(errno));
    return 0;
}

int daemon_function_remove(struct daemon *d, const char *name, wr_error *err)
{
    struct function *f = find(d, name), **link = &d->functions->list;
    if (!f)
        return wr_error_code(err, ENOENT, "no function %s", name);
    while (*link != f)
        link = &(*link)->next;
    *link = f->next;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.json", d->functions->dir, name);
    unlink(path);
    function_free(d, f);
    daemon_log("function %s removed", name);
    return 0;
}

struct wr_function_info *daemon_function_list(struct daemon *d, size_t *n)
{
    *n = 0;
    for (struct function *f = d->functions->list; f; f = f->next)
        (*n)++;
    struct wr_function_info *out = calloc(*n ? *n : 1, sizeof *out), *o = out;
    for (struct function *f = d->functions->list; out && f; f = f->next, o++) {
        snprintf(o->name, sizeof o->name, "%s", f->name);
        snprintf(o->image, sizeof o->image, "%s", f->pool->image);
        snprintf(o->last_error, sizeof o->last_error, "%s", f->last_error);
        o->min = f->spec.min;
        o->max = f->spec.max;
        o->timeout_s = f->spec.timeout_s;
        o->memory_mb = f->spec.memory_mb;
        o->fresh = f->spec.fresh;
        o->queued = f->queued;
        o->invocations = f->invocations;
        o->errors = f->errors;
        o->init_failures = f->init_failures;
        for (struct fn_env *e = f->envs; e; e = e->next) {
            o->environments += e->state != ENV_DEAD;
            o->idle += e->state == ENV_IDLE;
            o->busy += e->state == ENV_BUSY;
        }
    }
    return out;
}

int daemon_function_invoke(struct daemon *d, const char *name, const void *payload, size_t len,
                           bool log_tail, daemon_invoke_done done, void *arg, wr_error *err)
{
    struct function *f = find(d, name);
    if (!f)
        return wr_error_code(err, ENOENT, "Function not found: %s", name);
    if (len > WR_INVOKE_PAYLOAD_MAX)
        return wr_error_set(
            err, E2BIG, "Request must be smaller than %d bytes for the InvokeFunction operation",
            WR_INVOKE_PAYLOAD_MAX);
    long busy = 0, alive = 0;
    struct fn_env *idle = NULL;
    for (struct fn_env *e = f->envs; e; e = e->next) {
        busy += e->state == ENV_BUSY;
        alive += e->state != ENV_DEAD;
        if (e->state == ENV_IDLE && e->next_conn && (!f->spec.fresh || !e->served))
            idle = e;
    }
    if (!idle && f->queued >= f->queue_max + (f->spec.max - busy))
        return wr_error_code(err, EBUSY, "Rate Exceeded.");
    struct invocation *inv = calloc(1, sizeof *inv);
    if (!inv || !(inv->payload = malloc(len ? len : 1))) {
        free(inv);
        return wr_error_set(err, ENOMEM, "invocation");
    }
    memcpy(inv->payload, payload, len);
    inv->len = len;
    inv->fn = f;
    inv->log_tail = log_tail;
    inv->done = done;
    inv->arg = arg;
    new_request_id(inv->request_id);
    if (idle) {
        assign(idle, inv);
        return 0;
    }
    /* No environment can start while the init failures back off: this
     * invocation gets the last init error, as Lambda answers each one. */
    if (f->retry_at_ns > wr_monotonic_ns() && !others_ready(f, NULL) && f->init_error) {
        f->errors++;
        finish(d, inv, NULL, NULL, "Unhandled", f->init_error, f->init_error_len);
        return 0;
    }
    if (f->q_tail)
        f->q_tail->next = inv;
    else
        f->q_head = inv;
    f->q_tail = inv;
    f->queued++;
    (void)alive;
    daemon_functions_tick(d);
    return 0;
}

/* ---- a new image -------------------------------------------------------------- */

/* f's image tag points elsewhere now: its pool takes the new image (the
 * security asked at create derived again), environments not serving an
 * invocation go, busy ones finish theirs and go at their next request. */
static int roll_over(struct daemon *d, struct function *f)
{
    wr_error err;
    cleanup_image struct wr_image *img = NULL;
    if (wr_image_load(d->g->root, f->pool->image, &img, &err) < 0)
        return 0; /* removed: the environments keep the layers they run on */
    if (strcmp(img->id, f->pool->img->id) == 0 &&
        strcmp(img->lowerdir, f->pool->img->lowerdir) == 0)
        return 0;
    struct wr_request kept = {0};
    int rc = wr_request_parse(f->request, strlen(f->request), &kept, &err);
    if (rc == 0)
        rc = daemon_pool_set_image(d, f->pool, img, kept.security, &err);
    wr_request_free(&kept);
    if (rc < 0) {
        daemon_log("function %s: keeps its old image: %s", f->name, err.msg);
        snprintf(f->last_error, sizeof f->last_error, "new image refused: %.200s", err.msg);
        return 0;
    }
    img = NULL; /* the pool's now */
    f->generation++;
    for (struct fn_env *e = f->envs; e; e = e->next)
        if (e->state == ENV_IDLE || e->state == ENV_INIT)
            env_kill(e); /* freed when its shim reports the exit */
    f->consecutive_init_failures = 0;
    f->retry_at_ns = 0;
    f->last_error[0] = '\0';
    daemon_log("function %s: now image %.19s", f->name, f->pool->img->id);
    return 1;
}

int daemon_functions_image_updated(struct daemon *d)
{
    int rolled = 0;
    for (struct function *f = d->functions ? d->functions->list : NULL; f; f = f->next)
        rolled += roll_over(d, f);
    if (rolled)
        daemon_functions_tick(d);
    return rolled;
}

/* ---- the loop ------------------------------------------------------------------ */

void daemon_functions_tick(struct daemon *d)
{
    if (!d->functions)
        return;
    daemon_runtime_api_run();
    int64_t now = wr_monotonic_ns();
    for (struct function *f = d->functions->list; f; f = f->next) {
        long alive = 0, initing = 0, spare = 0;
        for (struct fn_env *e = f->envs; e; e = e->next) {
            alive += e->state != ENV_DEAD;
            initing += e->state == ENV_INIT;
            spare +=
                e->state == ENV_INIT || (e->state == ENV_IDLE && (!f->spec.fresh || !e->served));
        }
        long want = f->spec.min - spare;
        if (f->queued - initing > want)
            want = f->queued - initing;
        if (want > f->spec.max - alive)
            want = f->spec.max - alive;
        if (f->retry_at_ns > now)
            continue;
        while (want-- > 0 && env_start(d, f) > 0)
            ;
    }
}

int daemon_functions_timeout_ms(const struct daemon *d)
{
    if (!d->functions)
        return -1;
    int64_t now = wr_monotonic_ns(), next = -1;
    for (struct function *f = d->functions->list; f; f = f->next)
        if (f->retry_at_ns > now && (next < 0 || f->retry_at_ns < next))
            next = f->retry_at_ns;
    int ms = next < 0 ? -1 : (int)((next - now) / 1000000) + 1;
    int http = daemon_runtime_api_timeout_ms();
    return http >= 0 && (ms < 0 || http < ms) ? http : ms;
}

void daemon_functions_event(struct daemon *d, struct watch *w, uint32_t events)
{
    (void)events;
    struct fn_watch *fw = (struct fn_watch *)w;
    struct fn_env *env = fw->obj;
    if (env && env->gone)
        return;
    switch (fw->what) {
    case FNW_HTTP:
        daemon_runtime_api_run();
        break;
    case FNW_LISTEN:
        daemon_runtime_api_accept(env);
        daemon_runtime_api_run();
        break;
    case FNW_LOG: {
        char buf[16384];
        ssize_t n = read(env->log_fd, buf, sizeof buf);
        if (n > 0)
            log_append(env, buf, (size_t)n);
        else if (n == 0 || errno != EAGAIN)
            close_fd(&env->log_fd); /* the runtime closed its stdout and stderr */
        break;
    }
    case FNW_TIMER:
        on_timer(d, env);
        break;
    case FNW_CLIENT:
        on_client(d, env);
        break;
    }
}

/* A stored definition is created again; one that no longer works is
 * logged and kept (its image may come back). */
static void restore(struct daemon *d)
{
    cleanup_closedir DIR *dir = opendir(d->functions->dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char path[4400], buf[WR_API_MSG_MAX];
        snprintf(path, sizeof path, "%s/%s", d->functions->dir, de->d_name);
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        struct wr_request req;
        wr_error err;
        if (len <= 0 || wr_request_parse(buf, (size_t)len, &req, &err) < 0 ||
            req.op != WR_OP_FUNCTION_CREATE) {
            daemon_log("function definition %s: unreadable", path);
            continue;
        }
        if (create(d, &req, &err) < 0)
            daemon_log("function %s: not restored: %s", req.name, err.msg);
        wr_request_free(&req);
    }
}

int daemon_functions_init(struct daemon *d, wr_error *err)
{
    struct daemon_functions *fns = calloc(1, sizeof *fns);
    if (!fns)
        return wr_error_set(err, ENOMEM, "functions");
    fns->http.watch.kind = WATCH_FUNCTION;
    fns->http.what = FNW_HTTP;
    snprintf(fns->dir, sizeof fns->dir, "%s/functions", d->g->state_dir);
    wr_cgroup_scope(d->g->state_dir, fns->scope);
    if (mkdir(fns->dir, 0700) < 0 && errno != EEXIST) {
        free(fns);
        return wr_error_set(err, errno, "mkdir %s", fns->dir);
    }
    fns->own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fns->own_netns < 0) {
        free(fns);
        return wr_error_set(err, errno, "open /proc/self/ns/net");
    }
    if (daemon_runtime_api_start(d, &fns->http, err) < 0) {
        close(fns->own_netns);
        free(fns);
        return -1;
    }
    d->functions = fns;
    graveyard_head = &fns->graveyard;
    if (daemon_function_http_routes(d, err) < 0)
        return -1;
    daemon_freezer_sweep(fns->scope);
    restore(d);
    return 0;
}

void daemon_functions_bury(struct daemon *d)
{
    struct daemon_functions *fns = d->functions;
    while (fns && fns->graveyard) {
        struct fn_env *env = fns->graveyard;
        fns->graveyard = env->next;
        free(env);
    }
}

void daemon_functions_shutdown(struct daemon *d)
{
    struct daemon_functions *fns = d->functions;
    if (!fns)
        return;
    while (fns->list) {
        struct function *f = fns->list;
        fns->list = f->next;
        function_free(d, f);
    }
    daemon_functions_bury(d);
    graveyard_head = NULL;
    daemon_freezer_release_scope(fns->scope);
    daemon_runtime_api_stop();
    close(fns->own_netns);
    free(fns);
    d->functions = NULL;
}

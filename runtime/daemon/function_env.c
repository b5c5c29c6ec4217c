/* A function's environments: started from a warm container of its hidden
 * pool with Lambda's environment and a Runtime API socket made in the
 * container's own network namespace; killed, freed, and their exits and
 * logs (function_internal.h). */
#include "daemon_function.h"

#include "daemon_log.h"
#include "daemon_pool.h"
#include "daemon_runtime_api.h"
#include "function_internal.h"

#include "lib/activation.h"
#include "lib/activation_compose.h"
#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/shim_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

static char activation_buf[WR_ACTIVATION_MAX];
/* The daemon's epoll set (one per daemon), for fn_unwatch_close. */
static int watched_epfd = -1;

void fn_watch_add(struct daemon *d, struct fn_watch *w, enum fn_watch_what what, void *obj, int fd,
                  uint32_t events)
{
    watched_epfd = d->epfd;
    w->watch.kind = WATCH_FUNCTION;
    w->what = what;
    w->obj = obj;
    struct epoll_event ev = {.events = events, .data.ptr = &w->watch};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        daemon_log("function: epoll_ctl: %s", strerror(errno));
}

void fn_log_append(struct fn_env *env, const char *buf, size_t n)
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

void fn_drain_log(struct fn_env *env)
{
    /* What is in the pipe now and no more: a writer blocks on a full pipe,
     * so all that was written before the runtime's request fits in the
     * pipe's size (which the tenant may raise to pipe-max-size). Reading
     * until EAGAIN instead let processes of a busy environment that keep
     * writing hold the daemon's one thread in this loop. */
    char buf[16384];
    ssize_t n;
    int size = env->log_fd >= 0 ? fcntl(env->log_fd, F_GETPIPE_SZ) : -1;
    size_t left = size > 0 ? (size_t)size : (size_t)1 << 20;
    while (env->log_fd >= 0 && left > 0 && (n = read(env->log_fd, buf, sizeof buf)) > 0) {
        fn_log_append(env, buf, (size_t)n);
        left -= (size_t)n < left ? (size_t)n : left;
    }
}

void fn_close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void fn_unwatch_close(int *fd)
{
    if (*fd >= 0 && watched_epfd >= 0)
        (void)epoll_ctl(watched_epfd, EPOLL_CTL_DEL, *fd, NULL);
    fn_close_fd(fd);
}

/* Kills the container (thawed first: a frozen task on cgroup v1 cannot
 * die); the environment stays DEAD until its shim reports the exit. */
void fn_env_kill(struct fn_env *env)
{
    wr_error err;
    if (env->state == ENV_DEAD)
        return;
    env->state = ENV_DEAD;
    (void)daemon_freezer_set(&env->freezer, false, &err);
    env->frozen = false;
    if (env->pidfd >= 0)
        (void)syscall(SYS_pidfd_send_signal, env->pidfd, SIGKILL, NULL, 0);
    /* Its Runtime API goes now: a runtime still running until the SIGKILL
     * lands (told 410 on its next request) must not reach the daemon again
     * through a new connection, which would name a freed environment. */
    fn_unwatch_close(&env->listen_fd);
    daemon_runtime_api_forget(env);
}

/* Frees a DEAD environment (its container killed). */
void fn_env_free(struct fn_env *env)
{
    struct function *f = env->fn;
    fn_env_kill(env);
    fn_drain_log(env);
    if (f) {
        struct fn_env **link = &f->envs;
        while (*link && *link != env)
            link = &(*link)->next;
        if (*link)
            *link = env->next;
    }
    fn_unwatch_close(&env->listen_fd);
    daemon_runtime_api_forget(env); /* no connection of it may name it once freed */
    fn_unwatch_close(&env->client_fd);
    fn_unwatch_close(&env->log_fd);
    fn_unwatch_close(&env->timer_fd);
    fn_close_fd(&env->pidfd);
    daemon_freezer_remove(&env->freezer);
    env->gone = true;
    env->next = fn_graveyard_head ? *fn_graveyard_head : NULL;
    if (fn_graveyard_head)
        *fn_graveyard_head = env;
    else
        free(env);
}

/* The container exited (or its shim went): status text for the error. */
static void env_exited(struct daemon *d, struct fn_env *env, const char *status)
{
    char what[160];
    fn_drain_log(env);
    if (env->state == ENV_INIT) {
        int n = snprintf(what, sizeof what,
                         "{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"Runtime exited "
                         "during init: %s\"}",
                         status);
        daemon_env_init_error(d, env, what, (size_t)n);
    } else if (env->inv && env->inv->answered) {
        fn_complete_held(d, env);
    } else if (env->inv) {
        struct invocation *inv = env->inv;
        env->inv = NULL;
        snprintf(what, sizeof what, "Runtime exited with error: %s", status);
        fn_finish_error(d, inv, "Runtime.ExitError", what);
    }
    fn_env_free(env);
}

void fn_on_client(struct daemon *d, struct fn_env *env)
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
        fn_env_free(env);
        return;
    }
    env_exited(d, env, status);
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

void fn_free_vec(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Takes a warm container of f's pool and starts its runtime in it.
 * Returns 1 started, 0 none warm, -1 failed (logged). */
int fn_env_start(struct daemon *d, struct function *f)
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
        fn_free_vec(envv);
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
    fn_close_fd(&in[1]); /* the runtime's stdin: end of file */
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
    fn_free_vec(envv);
    fn_close_fd(&in[0]);
    fn_close_fd(&out[1]);
    fn_close_fd(&sv[1]);
    env->client_fd = sv[0];
    env->log_fd = out[0];
    fcntl(env->log_fd, F_SETFL, O_NONBLOCK);
    fn_watch_add(d, &env->w_listen, FNW_LISTEN, env, env->listen_fd, EPOLLIN);
    fn_watch_add(d, &env->w_client, FNW_CLIENT, env, env->client_fd, EPOLLIN | EPOLLRDHUP);
    fn_watch_add(d, &env->w_log, FNW_LOG, env, env->log_fd, EPOLLIN);
    fn_watch_add(d, &env->w_timer, FNW_TIMER, env, env->timer_fd, EPOLLIN);
    fn_arm(env, INIT_TIMEOUT_S);
    env->next = f->envs;
    f->envs = env;
    return 1;
fail:
    daemon_log("function %s: environment %s: %s", f->name, env->id, err.msg);
    if (rc == WR_ACTIVATE_STARTED_FAILED)
        daemon_entry_running(d, e, wr_monotonic_ns(), false);
    daemon_entry_discard(d, e);
    fn_free_vec(envv);
    fn_close_fd(&in[0]);
    fn_close_fd(&in[1]);
    fn_close_fd(&out[0]);
    fn_close_fd(&out[1]);
    fn_close_fd(&sv[0]);
    fn_close_fd(&sv[1]);
    env->state = ENV_DEAD;
    env->fn = NULL;
    fn_env_free(env);
    fn_backoff(f, err.msg, NULL, 0);
    return -1;
}
